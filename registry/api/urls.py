from registry import converters  # noqa: F401 - registers the semver converter

app_name = "registry-api"

urlpatterns: list = []
