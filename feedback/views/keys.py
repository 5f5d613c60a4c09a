"""A model's API keys: the list, a new key (its secret shown once, in the answer to the form
and nowhere else) and revoking one. Only the team's data scientists and engineers change them."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from feedback.forms import ApiKeyForm
from feedback.models import ApiKey
from feedback.queries import KeysPage, keys_page
from feedback.services.keys import can_manage, create_key, revoke_key
from portal.people import Person, signed_in
from portal.web import HtmxHttpRequest, apply_service_errors
from registry.models import RegisteredModel

# The nonces of the last key forms this session sent: a resent form creates no second key.
SENT_FORMS = "feedback_sent_key_forms"
SENT_FORMS_KEPT = 20


def _read(name: str) -> KeysPage:
    try:
        return keys_page(name)
    except RegisteredModel.DoesNotExist:
        raise Http404("No such model.") from None


def _refuse(model: RegisteredModel) -> PermissionDenied:
    return PermissionDenied(
        f"Only data scientists and engineers of {model.team.name} manage its API keys."
    )


@never_cache  # the answer to a new key carries its secret: no cache may keep it
@require_http_methods(["GET", "POST"])
def keys(request: HtmxHttpRequest, name: str) -> HttpResponse:
    person = signed_in(request)
    read = _read(name)
    model = read.model
    may_manage = can_manage(person, model.team)
    if request.method == "POST" and not may_manage:
        raise _refuse(model)
    form = ApiKeyForm(request.POST or None, model=model)
    new_key, new_secret = None, ""
    if request.method == "POST" and form.is_valid():
        if form.cleaned_data["nonce"] in request.session.get(SENT_FORMS, []):
            messages.error(
                request,
                "That form was sent already: the key exists and its secret is not shown "
                "again. If it was not copied, revoke the key and create another.",
            )
            return HttpResponseRedirect(reverse("feedback:keys", args=[model.name]), status=303)
        created = _create(request, person, model, form)
        if created is not None:
            new_key, new_secret = created
            read = _read(name)
            form = ApiKeyForm(model=model)
    context = {
        "model": model,
        "keys": read.keys,
        "may_manage": may_manage,
        "form": form,
        "new_secret": new_secret,
        "new_key": new_key,
    }
    return render(request, "feedback/keys.html", context)


def _create(
    request: HtmxHttpRequest, person: Person, model: RegisteredModel, form: ApiKeyForm
) -> tuple[ApiKey, str] | None:
    """The new key and its secret, or None with the service's reasons on the form."""
    data: dict[str, Any] = form.cleaned_data
    try:
        key, secret = create_key(
            actor=person,
            team=model.team,
            name=data["name"],
            scopes=data["scopes"],
            model=model if data["applies_to"] == ApiKeyForm.MODEL else None,
            allowed_origins=data["allowed_origins"],
        )
    except ValidationError as exc:
        apply_service_errors(form, exc)
        return None
    sent = [*request.session.get(SENT_FORMS, []), data["nonce"]]
    request.session[SENT_FORMS] = sent[-SENT_FORMS_KEPT:]
    return key, secret


@require_POST
def key_revoke(request: HtmxHttpRequest, name: str, pk: int) -> HttpResponse:
    person = signed_in(request)
    model = get_object_or_404(RegisteredModel.objects.select_related("team"), name=name)
    # Only the keys this page lists: the model's own and its team's every-model keys.
    key = get_object_or_404(
        ApiKey.objects.select_related("team"),
        Q(model=model) | Q(model__isnull=True, team_id=model.team_id),
        pk=pk,
    )
    if not can_manage(person, key.team):
        raise _refuse(model)
    revoked = revoke_key(actor=person, key=key)
    messages.success(
        request, f"Key “{revoked.name}” ({revoked.prefix}…) revoked: requests with it now get 401."
    )
    return HttpResponseRedirect(reverse("feedback:keys", args=[model.name]), status=303)
