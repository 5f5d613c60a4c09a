"""Read paths of the monitoring pages: one module per page, a fixed number of queries
however many reports, columns or versions there are (pinned in tests/monitoring/test_pages.py).
The model page's drift badge is a subquery per version on the (version, -window_end) index,
riding along with the registry's version query (``verdicts.drift_state_value``).
"""

from registry.monitoring.queries.common import MODE_NAMES, TEST_NAMES, number, percent
from registry.monitoring.queries.config_page import config_page
from registry.monitoring.queries.monitoring_page import RECENT_REPORTS, monitoring_page
from registry.monitoring.queries.report_page import column_chart, report_page, report_queryset
from registry.monitoring.queries.verdicts import (
    Verdict,
    activity_links,
    badge_version,
    drift_state_value,
    light_verdict,
    monitored_value,
    verdict_of,
)

__all__ = [
    "MODE_NAMES",
    "RECENT_REPORTS",
    "TEST_NAMES",
    "Verdict",
    "activity_links",
    "badge_version",
    "column_chart",
    "config_page",
    "drift_state_value",
    "light_verdict",
    "monitored_value",
    "monitoring_page",
    "number",
    "percent",
    "report_page",
    "report_queryset",
    "verdict_of",
]
