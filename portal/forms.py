from typing import Any

from django import forms

from portal.models import PersonalToken
from portal.people import Person
from portal.services.tokens import DEFAULT_SCOPE, scopes_for


class TokenForm(forms.Form):
    name = forms.CharField(max_length=80, help_text="What the token is for, e.g. “CI pipeline”.")
    scope = forms.ChoiceField(
        choices=PersonalToken.Scope.choices,
        initial=DEFAULT_SCOPE,
        help_text="A read-only token cannot change anything, even where you could.",
    )

    def __init__(self, *args: Any, user: Person, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Offer only what the service will grant: a Viewer's tokens can only read.
        self.fields["scope"].choices = scopes_for(user)  # type: ignore[attr-defined]
