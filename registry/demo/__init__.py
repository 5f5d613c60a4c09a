"""Demo registry content for `make demo`, built through the services like any user's.

Three models, trained at seed time on scikit-learn's bundled datasets (nothing is
downloaded), converted with skl2onnx, uploaded as artifacts and validated. Every metric
in the cards is computed here on a held-out split, so the numbers are real.
"""

from typing import Any

from portal.models import Team
from registry.demo.breast import seed_breast_cancer
from registry.demo.ranker import seed_ranker
from registry.demo.wine import seed_wine
from registry.models import RegisteredModel


def seed_registry(users: dict[str, Any]) -> None:
    """Create the demo models that don't exist yet; run it as often as you like."""
    risk = Team.objects.get(name="Risk Modelling")
    search = Team.objects.get(name="Search Relevance")
    existing = set(RegisteredModel.objects.values_list("name", flat=True))
    if "breast-cancer-screening" not in existing:
        seed_breast_cancer(users["alice"], risk)
    if "wine-cultivar" not in existing:
        seed_wine(users["bob"], risk)
    if "search-ranker" not in existing:
        seed_ranker(users["dmitri"], search)
