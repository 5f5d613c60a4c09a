"""Drift alerts: a report that finds drift files one backlog item per version, tells the
team and calls the configured webhook. Later reports comment on the open item instead of
filing another."""

from __future__ import annotations

from typing import Any

from portal.backlog.choices import Kind, Priority
from portal.backlog.models import BacklogItem
from portal.backlog.services.comments import add_comment
from portal.backlog.services.items import create_item
from portal.backlog.services.links import link_items, open_items_about
from portal.metrics.instruments import DRIFT_ALERTS, count_on_commit
from portal.notifications.services import notify
from registry.models import ModelVersion
from registry.monitoring.models import DriftReport

ALERT_LABEL = "drift"
SHOWN_COLUMNS = 10


def raise_alert(report: DriftReport) -> BacklogItem:
    """File (or update) the version's drift alert about ``report``; call inside the
    transaction that saves the report, so a report has its alert or neither exists."""
    version = ModelVersion.objects.select_for_update().get(pk=report.version_id)  # one at a time
    summary = _summary(report)
    item = open_items_about(version).filter(kind=Kind.DRIFT_ALERT).order_by("pk").first()
    if item is None:
        item = create_item(
            actor=None,
            team=version.model.team,
            title=f"Drift in {version}: {_headline(report)}",
            kind=Kind.DRIFT_ALERT,
            priority=Priority.P1,
            discipline="both",
            description=summary,
            labels=[ALERT_LABEL],
            links=[report, version],
        )
    else:
        add_comment(actor=None, item=item, body=f"Still drifting. {summary}")
        link_items(actor=None, item=item, targets=[report])
    report.alert = item
    report.save(update_fields=["alert"])
    count_on_commit(DRIFT_ALERTS)
    notify(
        recipients=version.model.team.members.filter(is_active=True),
        actor=None,
        kind="drift",
        message=f"Drift in {version}: {_headline(report)}",
        url=report.get_absolute_url(),
        cause=f"drift:{report.pk}",
    )
    if report.config.webhook_url:
        _call_webhook(report, item)
    return item


def _headline(report: DriftReport) -> str:
    drifted = len(report.drifted_columns)
    total = len(report.columns)
    return f"{drifted} of {total} columns drifted"


def _summary(report: DriftReport) -> str:
    url = report.get_absolute_url()
    start, end = report.window_start, report.window_end
    lines = [
        f"[Drift report {report.pk}]({url}) of {report.version} compared "
        f"{report.current_rows:,} rows from {start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} "
        f"with the reference: {_headline(report)} (share {report.share or 0:.0%}, "
        f"threshold {report.config.drift_share:.0%}).",
        "",
    ]
    for column in report.columns[:SHOWN_COLUMNS]:
        if column["drifted"]:
            critical = " (critical)" if column.get("critical") else ""
            lines.append(f"- `{column['name']}`{critical}: {column['test']} {_stat(column)}")
    return "\n".join(lines)


def _stat(column: dict[str, Any]) -> str:
    value = column.get("p_value") if column.get("p_value") is not None else column["statistic"]
    name = "p" if column.get("p_value") is not None else "score"
    return f"{name} = {value:.4g}" if isinstance(value, float | int) else ""


def _call_webhook(report: DriftReport, item: BacklogItem) -> None:
    from portal.webhooks.services import queue_webhook

    version = report.version
    queue_webhook(
        url=report.config.webhook_url,
        event="drift.alert",
        payload={
            "model": version.model.name,
            "version": version.version,
            "report": report.pk,
            "report_url": report.get_absolute_url(),
            "window_start": report.window_start.isoformat(),
            "window_end": report.window_end.isoformat(),
            "share": report.share,
            "drifted_columns": report.drifted_columns,
            "backlog_item": item.pk,
            "backlog_url": item.get_absolute_url(),
        },
    )
