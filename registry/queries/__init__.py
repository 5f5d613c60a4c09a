"""Read-side queries for the registry pages and API: a constant number of queries per page.

A page must not run one query per model or per version, and no query may read more of the
registry as it grows than the page shows. One module per part: ``values`` (the latest and
production version as subqueries), ``model_list``, ``model_detail`` (the model page) and
``activity`` (which also gives ``portal.activity`` the links of registry targets, as
``activity_links`` here).
"""

from registry.queries.activity import activity_links, model_activity
from registry.queries.model_detail import (
    VERSION_DETAIL_FIELDS,
    VERSIONS_PER_PAGE,
    ModelPage,
    full_versions,
    light_versions,
    model_page,
)
from registry.queries.model_list import (
    TeamOption,
    filter_choices,
    model_list_queryset,
    model_rows,
)
from registry.queries.values import latest_version_value, production_version_value

__all__ = [
    "VERSIONS_PER_PAGE",
    "VERSION_DETAIL_FIELDS",
    "ModelPage",
    "TeamOption",
    "activity_links",
    "filter_choices",
    "full_versions",
    "latest_version_value",
    "light_versions",
    "model_activity",
    "model_list_queryset",
    "model_page",
    "model_rows",
    "production_version_value",
]
