"""Main pages at phone width: nothing pans sideways, the keyboard gets a skip link and a
visible focus, and axe-core (vendored in static/vendor/) finds no serious violation."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from feedback.models import Feedback
from feedback.services.access import Caller
from feedback.services.feedback import give_feedback
from feedback.services.predictions import log_predictions
from portal.backlog.models import BacklogItem
from portal.backlog.services.items import create_item
from portal.demo import seed
from registry.experiments.models import Experiment, Run
from registry.experiments.services.experiments import create_experiment
from registry.experiments.services.runs import create_run, log_batch
from registry.models import RegisteredModel

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
AXE = Path(settings.BASE_DIR) / "static" / "vendor" / "axe.min.js"
SCREENSHOTS = Path(settings.BASE_DIR) / "docs" / "img"
# An item's id depends on the database: the demo fixture puts a real one in its place.
ITEM_PAGE = "/backlog/items/<demo>/"
# So do an experiment's, a run's and a comparison's: the demo fixture fills them in.
EXPERIMENT_PAGE = "/experiments/<demo>/"
RUN_PAGE = "/experiments/runs/<demo>/"
COMPARE_PAGE = "/experiments/<demo>/compare/"
# And a logged prediction's: the demo fixture picks one (with feedback when the demo has some).
PREDICTION_PAGE = "/feedback/models/wine-cultivar/predictions/<demo>/"
PAGES = [
    "/",
    "/models/",
    "/models/wine-cultivar/",
    "/models/wine-cultivar/compare/?a=1.0.0&b=1.1.0",
    "/models/wine-cultivar/versions/1.1.0/card/edit/",
    "/models/wine-cultivar/versions/1.1.0/contract/edit/",
    "/models/wine-cultivar/versions/new/",
    "/models/wine-cultivar/versions/1.2.0/reproduce/",  # the demo's promoted run
    "/models/new/",
    "/account/tokens/",
    "/backlog/iterations/",
    "/backlog/iterations/current/",  # redirects to the demo's running iteration
    "/notifications/",
    "/backlog/",
    ITEM_PAGE,  # the demo's first commented item (see the demo fixture)
    "/experiments/",
    "/feedback/models/wine-cultivar/",  # a model's feedback, a version's analysis
    "/feedback/models/wine-cultivar/versions/1.1.0/analysis/",
    EXPERIMENT_PAGE,  # the demo's first experiment, its first run, and its first three runs
    RUN_PAGE,
    COMPARE_PAGE,
    "/feedback/",
    "/feedback/?model=wine-cultivar&triaged=no",
    "/feedback/models/wine-cultivar/keys/",
    PREDICTION_PAGE,
    "/datasets/",
    "/models/breast-cancer-screening/monitoring/",
    "/releases/",
    "/releases/delivery/",
    "/releases/audit/",
    "/models/digit-reader/",  # registered from MLflow, with its alias and the MLflow panel
]


@pytest.fixture
def demo(transactional_db: None) -> Iterator[None]:
    seed()
    item = BacklogItem.objects.filter(comments__isnull=False).order_by("pk").first()
    if item is None:  # a demo without backlog items still gets an item page checked
        alice = get_user_model().objects.get(username="alice")
        item = create_item(actor=alice, team=alice.teams.first(), title="Check the demo item")
    index = PAGES.index(ITEM_PAGE)
    PAGES[index] = item.get_absolute_url()
    experiment_pages = _experiment_pages()
    prediction_index = PAGES.index(PREDICTION_PAGE)
    PAGES[prediction_index] = _prediction_page()
    try:
        yield
    finally:
        PAGES[index] = ITEM_PAGE
        PAGES[prediction_index] = PREDICTION_PAGE
        for placeholder, real in experiment_pages.items():
            PAGES[PAGES.index(real)] = placeholder


def _experiment_pages() -> dict[str, str]:
    """Put the demo's experiment, run and compare pages in place of their placeholders."""
    experiment = Experiment.objects.order_by("pk").first()
    if experiment is None:  # a demo without experiments still gets their pages checked
        alice = get_user_model().objects.get(username="alice")
        experiment = create_experiment(
            actor=alice,
            team=alice.teams.first(),
            name="demo-sweep",
            metric_directions={"loss": "min"},
        )
        for lr in (0.1, 0.01, 0.001):
            run = create_run(actor=alice, experiment=experiment, name=f"lr={lr}")
            log_batch(
                actor=alice,
                run=run,
                params=[{"key": "lr", "value": lr}],
                metrics=[{"key": "loss", "value": 1 / (s + 1) + lr, "step": s} for s in range(20)],
            )
    runs = list(Run.objects.filter(experiment=experiment).order_by("pk")[:3])
    pages = {
        EXPERIMENT_PAGE: f"/experiments/{experiment.pk}/",
        RUN_PAGE: f"/experiments/runs/{runs[0].pk}/",
        COMPARE_PAGE: f"/experiments/{experiment.pk}/compare/?runs="
        + ",".join(str(run.pk) for run in runs),
    }
    for placeholder, real in pages.items():
        PAGES[PAGES.index(placeholder)] = real
    return pages


def _prediction_page() -> str:
    """A wine-cultivar prediction with feedback; logged and answered here if the demo has none."""
    feedback = Feedback.objects.filter(model__name="wine-cultivar", prediction_key__isnull=False)
    found = feedback.order_by("pk").first()
    if found is None:
        alice = get_user_model().objects.get(username="alice")
        model = RegisteredModel.objects.get(name="wine-cultivar")
        version = model.versions.order_by("-pk").first()
        assert version is not None
        record = {"model": model.name, "prediction_id": "a11y-1"}
        log_predictions(
            caller=Caller(person=alice),
            records=[
                {
                    **record,
                    "version": version.version,
                    "features": {"alcohol": 13.2, "colour_intensity": 5.1},
                    "output": {"label": "class_0", "probabilities": {"class_0": 0.8}},
                }
            ],
            now=timezone.now(),
        )
        give_feedback(
            caller=Caller(person=alice),
            records=[{**record, "kind": "thumbs", "value": "down", "comment": "Lab says 1"}],
            now=timezone.now(),
        )
        found = feedback.get()
    return reverse("feedback:prediction", args=["wine-cultivar", found.prediction_id])


def _axe(page: Any) -> list[str]:
    """Serious and critical axe-core violations of the page, one line per element."""
    # evaluate() runs in the page without a <script> element, so the CSP stays as it is.
    page.evaluate(AXE.read_text())
    result = page.evaluate(
        "() => axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa',"
        " 'best-practice']})"
    )
    return [
        f"{rule['id']} ({rule['impact']}): {node['target']} {node.get('failureSummary', '')}"
        for rule in result["violations"]
        if rule["impact"] in ("serious", "critical")
        for node in rule["nodes"]
    ]


def _overflow(page: Any) -> list[str]:
    """Elements that stick out past the right edge of the viewport."""
    return page.evaluate(
        """() => {
          const width = document.documentElement.clientWidth;
          if (document.documentElement.scrollWidth <= width) return [];
          return [...document.querySelectorAll('body *')]
            .filter(e => e.getBoundingClientRect().right > width + 1)
            .filter(e => !e.closest('.scroll-x'))
            .slice(0, 8)
            .map(e => [e, e.parentElement].filter(Boolean)
                      .map(x => x.tagName.toLowerCase() + (x.className ? '.' + x.className : ''))
                      .join(' < ')
                      + ' right=' + Math.round(e.getBoundingClientRect().right));
        }"""
    )


def test_main_pages_fit_a_phone_and_pass_axe(
    browser: Any, live_server: Any, login: Any, demo: None
) -> None:
    context = browser.new_context(base_url=live_server.url, viewport=PHONE)
    page = context.new_page()
    # The console: a Content-Security-Policy violation (an inline script, eval) shows there.
    console: list[str] = []
    page.on("console", lambda m: console.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: console.append(str(error)))
    problems = {}
    try:
        page.goto("/accounts/login/")
        problems["/accounts/login/"] = _overflow(page) + _axe(page)
        login(page, "alice", "handoff-alice")
        for path in PAGES:
            console.clear()
            page.goto(path)
            page.wait_for_load_state("networkidle")
            found = _overflow(page) + _axe(page) + [f"console: {text}" for text in console]
            if found:
                problems[path] = found
    finally:
        context.close()
    failing = {path: found for path, found in problems.items() if found}
    report = [f"{path}: {line}" for path, lines in failing.items() for line in lines]
    assert failing == {}, "\n".join(report)


def test_at_phone_width_the_menu_folds_behind_a_button(
    browser: Any, live_server: Any, login: Any, demo: None
) -> None:
    context = browser.new_context(base_url=live_server.url, viewport=PHONE)
    page = context.new_page()
    try:
        login(page, "alice", "handoff-alice")
        page.goto("/models/")
        header = page.locator("header.topbar").bounding_box()
        models_link = page.get_by_role("navigation", name="Main").get_by_role("link", name="Models")
        hidden_before = not models_link.is_visible()
        page.get_by_role("button", name="Menu").click()
        expanded = page.get_by_role("button", name="Menu").get_attribute("aria-expanded")
        shown_after = models_link.is_visible()
    finally:
        context.close()
    assert header["height"] < PHONE["height"] / 8
    assert (hidden_before, expanded, shown_after) == (True, "true", True)


def test_the_keyboard_skips_to_the_content_and_sees_where_it_is(
    page: Any, login: Any, demo: None
) -> None:
    login(page, "alice", "handoff-alice")
    page.goto("/models/")

    page.keyboard.press("Tab")
    skip = page.evaluate("document.activeElement.textContent.trim()")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    page.keyboard.press("Enter")

    assert skip == "Skip to content"
    assert outline != "none"
    assert page.evaluate("document.activeElement.id") == "content"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.closest('main') !== null")


def test_a_refused_form_moves_focus_to_its_error_summary(page: Any, login: Any, demo: None) -> None:
    login(page, "alice", "handoff-alice")
    page.goto("/models/new/")
    page.fill("#id_name", "Not A Name")
    with page.expect_navigation():
        page.get_by_role("button", name="Register model").click()

    assert page.evaluate("document.activeElement.dataset.errorSummary") == ""
    page.locator(".error-summary a[href='#id_name']").click()
    assert page.evaluate("document.activeElement.id") == "id_name"


def test_readme_screenshots(browser: Any, live_server: Any, login: Any, demo: None) -> None:
    """The README's screenshots, at desktop and phone width; saved to docs/img/ with
    HANDOFF_UPDATE_SCREENSHOTS=1 (make screenshots), else only taken."""
    save = os.environ.get("HANDOFF_UPDATE_SCREENSHOTS") == "1"
    shots = [
        ("model-page.png", DESKTOP, "/models/wine-cultivar/"),
        ("model-page-phone.png", PHONE, "/models/wine-cultivar/"),
        ("model-list.png", DESKTOP, "/models/"),
    ]
    for name, viewport, path in shots:
        context = browser.new_context(base_url=live_server.url, viewport=viewport)
        page = context.new_page()
        try:
            login(page, "alice", "handoff-alice")
            page.goto(path)
            image = page.screenshot(full_page=False, animations="disabled")
        finally:
            context.close()
        assert image[:8] == b"\x89PNG\r\n\x1a\n"
        if save:
            (SCREENSHOTS / name).write_bytes(image)
