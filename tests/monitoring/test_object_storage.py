"""A drift report whose reference lives on a storage with no local path (S3's kind)."""

from __future__ import annotations

from typing import Any

import pytest

from registry.monitoring.services.configs import save_config
from registry.monitoring.services.reports import run_report, start_report
from tests.monitoring.conftest import NOW

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("object_store")]


def test_a_report_reads_its_reference_from_object_storage(
    alice: Any, version: Any, dataset: Any, log_window: Any
) -> None:
    reference = dataset()
    assert reference.status == "succeeded", reference.error  # profiled from a copy
    config = save_config(actor=alice, version=version, reference=reference, drift_share=0.4)
    log_window(version, by=alice, shift=0.5)

    report, _ = start_report(actor=alice, config=config, trigger="manual", now=NOW)
    report = run_report(report_id=report.pk)

    assert report.status == "succeeded", report.error
    assert report.reference_rows == 2_000 and report.current_rows == 1_500
    assert report.drifted is True  # age and income: 2 of 5 columns
