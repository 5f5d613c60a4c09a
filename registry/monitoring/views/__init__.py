"""The monitoring pages; ``registry.monitoring.urls`` routes to these names."""

from registry.monitoring.views.configs import config_edit
from registry.monitoring.views.monitoring import model_monitoring
from registry.monitoring.views.reports import (
    report_cancel,
    report_column,
    report_detail,
    report_job,
    report_run,
)

__all__ = [
    "config_edit",
    "model_monitoring",
    "report_cancel",
    "report_column",
    "report_detail",
    "report_job",
    "report_run",
]
