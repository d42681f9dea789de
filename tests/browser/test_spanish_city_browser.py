"""Issue 17's acceptance walk, first half: a city with Spanish column names, ``;`` separators
and decimal commas (tests/spanish_city.py) goes through the browser only, with no column
chosen by hand; Enter in every Train field starts no job; Cancel stays put under the pointer
while the progress bar moves; a tiny run trains and reaches Results.

The steps share one module fixture, :func:`walk` (the page, the runs folder, the city and the
run once trained), and run in file order; a step that needs an earlier one skips when that
one did not finish. Later steps (the Brief, the PDF) are appended as further ``test_<n>_...``
functions taking ``walk`` (``walk.require("results")``, then ``walk.page``, ``walk.run``).
Screenshots go to ``test-output/screenshots/spanish_*.png``.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.browser.test_browser import (
    MAP,
    build_risk_factors,
    go,
    idle,
    no_traceback,
    painted_share,
    shot,
    wait_for_painted_map,
)
from tests.browser.test_new_city_browser import add_layer, start_empty
from tests.spanish_city import CITY_CRS, INVALID_DISTRICT, write_spanish_city

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TRAIN_FIELDS = {"Burn-in steps": "200", "Prune steps": "200", "Seeds": "2", "Run label": "ciudad"}


@dataclass
class Walk:
    """What the steps share: the browser page, where runs go, the city, the trained run."""

    page: object
    runs_dir: Path
    city: dict[str, Path]
    done: set[str] = field(default_factory=set)
    run: Path | None = None

    def require(self, step: str) -> None:
        """Skip the calling test when an earlier step did not finish."""
        if step not in self.done:
            pytest.skip(f"needs the earlier step {step!r}")


@pytest.fixture(scope="module")
def walk(page, app_url, runs_dir, tmp_path_factory) -> Walk:
    city = write_spanish_city(tmp_path_factory.mktemp("spanish_city"))
    start_empty(page, app_url)
    return Walk(page, runs_dir, city)


def selectbox_value(page, label: str) -> str:
    """What the select box labelled ``label`` shows as chosen ("" when nothing)."""
    box = page.get_by_test_id("stSelectbox").filter(has_text=label)
    box.wait_for(timeout=30_000)
    return box.locator("input").first.input_value()


def runs_on_disk(runs_dir: Path) -> list[Path]:
    return [p for p in runs_dir.iterdir() if not p.name.startswith(".")]


def test_1_the_city_loads_through_the_ui_with_every_column_guessed(walk):
    page, city = walk.page, walk.city
    add_layer(page, "boundary", city["boundary"])
    added = page.get_by_test_id("stAlertContentSuccess").first.inner_text()
    assert f"NOMBRE '{INVALID_DISTRICT}'" in added and "SHAPE__Area" not in added, added
    working = page.get_by_role("textbox", name="Working CRS (projected, metres)")
    assert working.input_value() == CITY_CRS

    def crimes_form(page) -> None:
        page.get_by_text("Coordinate columns found").wait_for(timeout=30_000)
        page.get_by_text("longitud / latitud: lon/lat").first.wait_for()
        assert page.get_by_text("No coordinate columns recognised").count() == 0
        assert selectbox_value(page, "x / longitude column") == "longitud"
        assert selectbox_value(page, "y / latitude column") == "latitud"
        assert selectbox_value(page, "Date column") == "fecha_hecho"
        page.get_by_text("Detected by parsing the values as dates.").wait_for()
        year = page.get_by_role("radio", name=re.compile(r"last full year \(2022\) after 2021"))
        assert year.is_checked()
        crs = page.get_by_role("textbox", name="CRS of the coordinates")
        assert crs.input_value() == "EPSG:4326"
        shot(page, "spanish_1_crimes_form")

    add_layer(page, "crimes", city["crimes"], crimes_form)
    page.get_by_text("the UTC clock time is kept").first.wait_for(timeout=10_000)
    add_layer(
        page,
        "generator",
        city["bares"],  # Latitud before Longitud
        lambda p: p.get_by_text("Longitud / Latitud: lon/lat").first.wait_for(timeout=30_000),
    )
    add_layer(
        page,
        "generator",
        city["paradas"],
        lambda p: p.get_by_text("lng / lat: lon/lat").first.wait_for(timeout=30_000),
    )
    page.get_by_text("Crimes in period t", exact=True).wait_for(timeout=90_000)
    wait_for_painted_map(page, minimum=0.01)
    idle(page)
    no_traceback(page)
    assert page.locator('[data-testid="stAlertContentError"]').count() == 0
    shown = page.get_by_test_id("stMultiSelect").filter(has_text="Layers on the map")
    for name in ("boundary", "crimes", "bares", "paradas"):  # each new layer drawn at once
        assert shown.get_by_text(name, exact=True).count() == 1, name
    shot(page, "spanish_2_data_ready")
    walk.done.add("data")


def test_2_enter_in_every_train_field_starts_no_job(walk):
    walk.require("data")
    page = walk.page
    build_risk_factors(page)
    shot(page, "spanish_3_risk_factors")
    go(page, "Train")
    idle(page)
    for label, value in TRAIN_FIELDS.items():
        box = page.get_by_label(label, exact=True)
        box.fill(value)
        box.press("Enter")
        idle(page)
    page.wait_for_timeout(1500)
    idle(page)
    assert page.get_by_text("None yet in this session.").is_visible()
    assert page.get_by_role("button", name="Cancel").count() == 0
    assert page.locator('[data-testid="stProgress"]').count() == 0
    assert runs_on_disk(walk.runs_dir) == []
    no_traceback(page)
    shot(page, "spanish_4_train_after_enter")
    walk.done.add("enter")


def test_3_cancel_stays_put_while_the_progress_moves(walk):
    walk.require("enter")
    page = walk.page
    page.get_by_label("Burn-in steps", exact=True).fill("1000000")
    page.get_by_role("button", name="Start training").click()
    button = page.get_by_role("button", name="Cancel")
    button.wait_for(timeout=60_000)
    bar = page.locator('[data-testid="stProgress"]').first
    bar.wait_for(timeout=30_000)
    handle = button.element_handle()
    handle.evaluate("el => { el.dataset.stamp = 'seen'; }")
    texts = set()
    for _ in range(8):  # 4 s: four redraws of the progress bar
        texts.add(bar.inner_text())
        page.wait_for_timeout(500)
    kept = handle.evaluate("el => el.isConnected && el.dataset.stamp === 'seen'")
    assert kept, "the Cancel button was redrawn under the pointer"
    assert len(texts) > 1, f"the progress bar did not move: {texts}"
    clicked = time.monotonic()
    handle.click()
    page.get_by_text("Cancelled: nothing was written.").wait_for(timeout=30_000)
    print(f"\nCancel: one click, job cancelled {time.monotonic() - clicked:.1f} s after it")
    assert runs_on_disk(walk.runs_dir) == []
    idle(page)
    walk.done.add("cancel")


def test_4_a_tiny_run_trains_and_reaches_results(walk):
    walk.require("enter")
    page = walk.page
    for label, value in TRAIN_FIELDS.items():
        page.get_by_label(label, exact=True).fill(value)
    page.get_by_role("button", name="Start training").click()
    open_results = page.get_by_role("button", name="Open results")
    open_results.wait_for(timeout=240_000)
    idle(page)
    no_traceback(page)
    shot(page, "spanish_5_trained")
    open_results.click()
    page.get_by_role("heading", name="Results").first.wait_for(timeout=30_000)
    wait_for_painted_map(page, minimum=0.05)
    idle(page)
    share = painted_share(page.locator(MAP).first.screenshot())
    assert share > 0.05, f"risk map mostly blank ({share:.1%} painted)"
    page.get_by_text("incident rate ratios").first.wait_for(timeout=30_000)
    no_traceback(page)
    shot(page, "spanish_6_results")
    (walk.run,) = [p for p in runs_on_disk(walk.runs_dir) if (p / "manifest.json").is_file()]
    assert 'date = "fecha_hecho"' in (walk.run / "config.toml").read_text(encoding="utf-8")
    walk.done.add("results")


def test_5_stability_and_backtest_pages_of_the_run(walk):
    walk.require("results")
    page = walk.page
    go(page, "Stability")
    page.get_by_text("Places in the top 5 % across seeds").wait_for(timeout=30_000)
    page.get_by_text("units never there are not drawn").first.wait_for(timeout=30_000)
    idle(page)
    no_traceback(page)
    shot(page, "spanish_7_stability")
    go(page, "Backtest")
    page.get_by_text("Use the settings of").first.wait_for(timeout=30_000)
    idle(page)
    no_traceback(page)
    shot(page, "spanish_8_backtest")
