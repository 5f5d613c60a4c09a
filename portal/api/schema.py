"""OpenAPI descriptions for Handoff's own authentication classes."""

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class PersonalTokenScheme(OpenApiAuthenticationExtension):
    target_class = "portal.api.authentication.PersonalTokenAuthentication"
    name = "personalToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "A personal token from /account/tokens/, sent as `Token <key>`.",
        }


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "feedback.api.authentication.ApiKeyAuthentication"
    name = "apiKey"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "A model's API key from its Feedback tab, sent as `ApiKey <key>`.",
        }
