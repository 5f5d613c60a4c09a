"""The registry's admin pages browse; a posted change form changes nothing."""


def test_a_posted_change_form_changes_nothing(client_for, superuser, alice, v1) -> None:
    """POSTing to a model's change page cannot rename it or move it to another team."""
    url = f"/admin/registry/registeredmodel/{v1.model.pk}/change/"

    assert client_for(superuser).get(url).status_code == 200
    response = client_for(superuser).post(url, {"name": "hijacked", "title": "x"})

    assert response.status_code == 403
    v1.model.refresh_from_db()
    assert v1.model.name == "fraud-score"
