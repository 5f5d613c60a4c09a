"""How to reproduce a promoted version: what its run was trained from and with.

Two queries whatever the run logged: the promotion with its run and experiment, then the
run's params.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from registry.experiments.models import Param, Promotion
from registry.models import ModelVersion


@dataclass(frozen=True)
class Reproduction:
    """Everything a person needs to train the version again, as the run logged it."""

    run_id: int
    run_name: str
    experiment: str
    promoted_by: str
    git_commit: str
    source: str
    datasets: list[dict[str, str]]  # [{"name", "sha256", "role"}]
    python_version: str
    packages: str  # as the client froze it: pip freeze lines or a conda YAML
    params: dict[str, str] = field(default_factory=dict)


def how_to_reproduce(version: ModelVersion) -> Reproduction | None:
    """The run ``version`` was promoted from, or None for a version registered by hand."""
    promotion = (
        Promotion.objects.select_related("run__experiment", "promoted_by")
        .filter(version=version)
        .first()
    )
    if promotion is None:
        return None
    run = promotion.run
    params = dict(Param.objects.filter(run=run).order_by("key").values_list("key", "value"))
    return Reproduction(
        run_id=run.pk,
        run_name=run.name,
        experiment=run.experiment.name,
        promoted_by=promotion.promoted_by.get_username(),
        git_commit=run.git_commit,
        source=run.source,
        datasets=[dict(dataset) for dataset in run.datasets],
        python_version=run.python_version,
        packages=run.packages,
        params=params,
    )
