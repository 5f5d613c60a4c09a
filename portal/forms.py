from django import forms

from portal.models import PersonalToken
from portal.services.tokens import DEFAULT_SCOPE


class TokenForm(forms.Form):
    name = forms.CharField(max_length=80, help_text="What the token is for, e.g. “CI pipeline”.")
    scope = forms.ChoiceField(
        choices=PersonalToken.Scope.choices,
        initial=DEFAULT_SCOPE,
        help_text="A read-only token cannot change anything, even where you could.",
    )
