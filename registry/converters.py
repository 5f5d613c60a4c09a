from django.urls import register_converter


class SemverConverter:
    """A version in a URL: 1.4.0, 2.0.0-rc.1, 1.0.0+build.5."""

    regex = r"[0-9]+\.[0-9]+\.[0-9]+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(SemverConverter, "semver")
