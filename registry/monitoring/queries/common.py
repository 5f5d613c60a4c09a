"""Names and number formats the monitoring pages share."""

from __future__ import annotations

from math import isfinite

from registry.monitoring.selection import Mode, StatTest

TEST_NAMES: dict[str, str] = {
    StatTest.KS: "Kolmogorov-Smirnov",
    StatTest.CHISQUARE: "Chi-square",
    StatTest.Z: "Z-test (two proportions)",
    StatTest.WASSERSTEIN: "Wasserstein (normed)",
    StatTest.JENSENSHANNON: "Jensen-Shannon",
    StatTest.PSI: "PSI",
    StatTest.KL_DIV: "KL divergence",
    StatTest.HELLINGER: "Hellinger",
    StatTest.ANDERSON: "Anderson-Darling",
    StatTest.NONE: "none",
}


MODE_NAMES: dict[str, str] = {
    Mode.TWO_SAMPLE: "Two-sample tests",
    Mode.EVIDENTLY: "Evidently-compatible",
}


# What the monitoring page shows of a report: not its columns and their histograms.
LIGHT_REPORT_FIELDS = (
    *("id", "version_id", "window_start", "window_end", "trigger", "status", "progress"),
    *("share", "drifted", "drifted_columns", "alert_id", "cancel_requested", "queued_at"),
)


# A version's contract, notes and examples: never shown on the monitoring pages.
VERSION_TEXT_FIELDS = (
    *("input_schema", "output_schema", "notes", "notes_html"),
    *("example_request", "example_response"),
)


def number(value: float | None, digits: int = 4) -> str:
    if value is None:
        return "—"
    if not isfinite(value):
        return "∞"
    return f"{value:.{digits}g}"


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"
