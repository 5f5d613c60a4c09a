"""The demo backlog's story: the items the demo files, sprint by sprint, and the notes of
its review and retrospective. Only data; ``demo.py`` tells it through the services."""

from __future__ import annotations

from dataclasses import dataclass

FINISHED = "Sprint 14"
RUNNING = "Sprint 15"


@dataclass(frozen=True)
class Spec:
    """An item as the demo files it."""

    title: str
    kind: str
    description: str
    reporter: str
    assignees: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()
    about: tuple[str, ...] = ()  # "model-name" or "model-name version"
    priority: str = "P2"
    discipline: str = "both"
    team: str = "Risk Modelling"


SPRINT_14 = {
    "calibrate": Spec(
        "Recalibrate breast-cancer-screening probabilities with isotonic regression",
        "experiment",
        "The reliability curve of 1.1.0 sits above the diagonal between 0.6 and 0.9, so "
        "clinicians read the scores as more certain than they are.\n\n"
        "- fit isotonic and Platt scaling on the validation fold\n"
        "- compare Brier score and ECE; keep recall at the 0.5 threshold\n",
        "alice",
        ("alice",),
        ("calibration", "screening"),
        ("breast-cancer-screening 1.1.0",),
        "P1",
        "data_science",
    ),
    "contract": Spec(
        "Refuse wine-cultivar requests with proline outside the training range",
        "task",
        "Proline above 1,700 mg/L never occurs in the training data; the model answers "
        "anyway. Add `minimum`/`maximum` to the input contract so the API returns a 400 "
        "naming the field.",
        "bob",
        ("bob",),
        ("contract", "wine"),
        ("wine-cultivar 1.1.0",),
        "P1",
        "engineering",
    ),
    "fnr_card": Spec(
        "Document the false-negative rate by age band in the screening model card",
        "story",
        "Reviewers asked how recall varies across patient age. Add a table to the card's "
        "*Evaluation* section and a sentence on the smallest band's sample size.",
        "carol",
        ("alice",),
        ("model-card", "screening"),
        ("breast-cancer-screening 2.0.0",),
        "P2",
        "data_science",
    ),
    "drift": Spec(
        "Investigate the flavanoids shift in wine-cultivar inputs",
        "data_issue",
        "Since the March batch the mean of `flavanoids` is 0.4 higher and the PSI is 0.27. "
        "Find out whether it is the supplier, the lab or our loader before retraining.",
        "alice",
        ("alice", "bob"),
        ("drift", "wine"),
        ("wine-cultivar",),
        "P1",
        "both",
    ),
    "latency": Spec(
        "Benchmark ONNX Runtime against scikit-learn for wine-cultivar",
        "experiment",
        "Is serving the ONNX artifact faster than the pickled forest at batch sizes 1, 32 "
        "and 512? If it is not, we keep one runtime less.",
        "carol",
        ("carol",),
        ("performance", "onnx"),
        ("wine-cultivar 1.1.0",),
        "P3",
        "engineering",
    ),
    "threshold": Spec(
        "Agree the screening threshold with the clinical team (recall ≥ 0.98)",
        "story",
        "Pick the operating point for 2.0.0 together with the clinicians: recall of at "
        "least 0.98 on the hold-out set, and the precision that costs.",
        "carol",
        ("alice", "carol"),
        ("screening", "threshold"),
        ("breast-cancer-screening 2.0.0",),
        "P1",
        "data_science",
    ),
}
ONNX_BUG = Spec(
    "ONNX export of breast-cancer-screening drops the class labels",
    "bug",
    "`skl2onnx` writes `output_label` as int64 0/1; the card says `benign`/`malignant`. "
    "Map the labels in the converter options and check the artifact's signature.",
    "bob",
    ("bob",),
    ("onnx", "screening"),
    ("breast-cancer-screening 2.0.0",),
    "P1",
    "engineering",
)
SPRINT_15 = {
    "retrain": Spec(
        "Retrain wine-cultivar with stratified 5-fold cross-validation",
        "experiment",
        "The single split puts only 9 samples of class 3 in the test fold. Use stratified "
        "5-fold CV for model selection and report the spread, not one number.",
        "alice",
        ("alice",),
        ("wine", "evaluation"),
        ("wine-cultivar 1.1.0",),
        "P1",
        "data_science",
    ),
    "canary": Spec(
        "Plan the canary rollout of breast-cancer-screening 2.0.0",
        "story",
        "5 % of traffic for a week, then 50 %, watching recall on confirmed outcomes. "
        "Write down the rollback step and who signs off each stage.",
        "bob",
        ("bob", "carol"),
        ("release", "screening"),
        ("breast-cancer-screening 2.0.0",),
        "P1",
        "engineering",
    ),
    "alert": Spec(
        "Alert when the screening service's p95 latency passes 50 ms",
        "task",
        "Add the alert rule and a runbook entry; page only during clinic hours.",
        "bob",
        ("bob",),
        ("monitoring",),
        ("breast-cancer-screening",),
        "P2",
        "engineering",
    ),
    "limits": Spec(
        "Write the limitations section of the wine-cultivar card",
        "task",
        "The training wines all come from one region of Italy; say so, and what the model "
        "does with wines from elsewhere (it still picks one of the three cultivars).",
        "alice",
        ("alice",),
        ("model-card", "wine"),
        ("wine-cultivar",),
        "P2",
        "data_science",
    ),
    "shap": Spec(
        "SHAP summary of the screening model's top features",
        "experiment",
        "Clinicians want to see which measurements drive a positive. A beeswarm plot of "
        "the 10 strongest features on the hold-out set, attached to the card.",
        "alice",
        ("alice",),
        ("explainability", "screening"),
        ("breast-cancer-screening 2.0.0",),
        "P2",
        "data_science",
    ),
}
API_BUG = Spec(
    "Screening API answers 500 when mean radius is missing",
    "bug",
    "A request without `mean radius` reaches the model and fails inside ONNX Runtime. "
    "The contract marks the field required, so the API should answer 400 first.",
    "carol",
    ("bob",),
    ("contract", "screening"),
    ("breast-cancer-screening 2.0.0",),
    "P0",
    "engineering",
)
LATER = {
    "lightgbm": Spec(
        "Try LightGBM as the wine-cultivar baseline",
        "experiment",
        "Gradient boosting may beat the forest on the minority cultivar. Timebox: two days.",
        "alice",
        (),
        ("wine", "idea"),
        ("wine-cultivar",),
        "P3",
        "data_science",
    ),
    "parquet": Spec(
        "Keep training snapshots as versioned Parquet files",
        "task",
        "Today each retrain reads the live CSV export, so last month's run cannot be "
        "repeated. Write a dated Parquet snapshot per run and record its hash on the version.",
        "bob",
        ("bob",),
        ("reproducibility",),
        (),
        "P2",
        "engineering",
    ),
    "ndcg": Spec(
        "NDCG@10 of search-ranker drops on long-tail queries",
        "bug",
        "Queries seen fewer than 5 times a month score 0.41 NDCG@10 against 0.63 overall. "
        "Check whether the click features are simply missing for them.",
        "dmitri",
        ("dmitri",),
        ("ranking", "long-tail"),
        ("search-ranker 1.0.0",),
        "P1",
        "data_science",
        "Search Relevance",
    ),
    "query_length": Spec(
        "Add query length as a search-ranker feature",
        "experiment",
        "Long queries are mostly product codes; a length feature may let the ranker "
        "prefer exact matches for them.",
        "dmitri",
        (),
        ("ranking", "features"),
        ("search-ranker",),
        "P3",
        "data_science",
        "Search Relevance",
    ),
}

REVIEW_NOTES = """\
## Delivered

- Isotonic calibration for breast-cancer-screening: ECE 0.061 → 0.018, recall unchanged.
- The wine-cultivar contract refuses out-of-range proline with a 400.
- The ONNX export keeps the class labels; the artifact's signature says so.
- Threshold agreed with the clinical team: recall ≥ 0.98 at a score of 0.31.

## Not delivered

- The flavanoids investigation needs the supplier's lab reports: carried into Sprint 15.
- ONNX Runtime benchmark dropped: 0.3 ms against 0.4 ms is not worth the extra runtime.
"""
RETRO_NOTES = """\
**Went well:** pairing on the contract change; the card table was reviewed the same day.

**To change:** data issues need the data owner in planning, not halfway through the sprint.
"""
RETRO_ADDITION = """
**Action:** Bob invites the supplier's data contact to the Sprint 15 planning.
"""
