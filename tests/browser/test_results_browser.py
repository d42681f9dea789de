"""Results in a real browser for a finished run with crime history and a forecast: the
forecast map comes first and is painted, the verdict flags each model against the best
baseline, and the IRR chart's factor labels stay readable with 2-3 factors and with 15."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.browser.test_browser import (
    MAP,
    SCREENSHOTS,
    idle,
    painted_share,
    shot,
)
from tests.forecast_run import history_run

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def finished(runs_dir, tmp_path_factory) -> dict[str, Path]:
    """A real history run (label "history") and a copy whose model holds 15 factors."""
    made = history_run(tmp_path_factory.mktemp("history"), steps=30)
    real = runs_dir / "run-20260101-000001-hist"
    shutil.copytree(made, real)
    many = runs_dir / "run-20260101-000000-many"
    shutil.copytree(made, many)
    coef = pd.read_csv(many / "coefficients.csv")
    rng = np.random.default_rng(3)
    sets = [f"layer_{k:02d}_with_a_long_name" for k in range(15)]
    extra = pd.DataFrame(
        {
            "model": "dl",
            "variable": [f"{s}_dis_{100 * (k % 4 + 1)}" for k, s in enumerate(sets)],
            "set": sets,
            "coef": rng.uniform(0.05, 0.9, 15),
        }
    )
    extra["irr"] = np.exp(extra["coef"])
    extra["irr_low"], extra["irr_high"] = extra["irr"] * 0.85, extra["irr"] * 1.15
    pd.concat([coef, extra], ignore_index=True).to_csv(many / "coefficients.csv", index=False)
    manifest = json.loads((many / "manifest.json").read_text())
    (many / "manifest.json").write_text(json.dumps(manifest | {"label": "fifteen factors"}))
    return {"real": real, "many": many}


def no_traceback(page) -> None:
    errors = page.locator('[data-testid="stException"]')
    assert errors.count() == 0, errors.first.inner_text()


def first_map_share(page, timeout: float = 60.0) -> float:
    canvas = page.locator(MAP).first
    canvas.wait_for(state="visible", timeout=timeout * 1000)
    share, start = 0.0, time.monotonic()
    while time.monotonic() - start < timeout:
        try:
            share = painted_share(canvas.screenshot())
        except Exception:
            share = 0.0
        if share > 0.05:
            break
        time.sleep(0.25)
    return share


def test_a_run_with_a_forecast_shows_it_first_and_painted(page, app_url, finished):
    page.goto(app_url)
    page.get_by_role("heading", name="Data").first.wait_for(timeout=60_000)
    page.get_by_test_id("stSidebarNav").get_by_text("Results", exact=True).click()
    heading = page.get_by_role("heading", name="Forecast for 2023-01-01 – 2023-12-31")
    heading.wait_for(timeout=60_000)
    share = first_map_share(page)
    idle(page)
    assert share > 0.05, f"forecast map mostly blank ({share:.1%} painted)"
    # the first map on the page sits under the forecast heading, above the evaluation map
    forecast_box = heading.bounding_box()
    maps = page.locator(MAP)
    assert maps.count() >= 2
    assert maps.first.bounding_box()["y"] > forecast_box["y"]
    evaluation = page.get_by_role("heading", name="Risk map (evaluation: model of period t)")
    assert maps.first.bounding_box()["y"] < evaluation.bounding_box()["y"]
    page.get_by_text("the period after the data").first.wait_for()
    page.get_by_text("Does the RTM beat the simplest maps?").first.wait_for()
    assert page.get_by_text("The deep-learning RTM").first.is_visible()
    assert page.get_by_text("given crime history").first.is_visible()
    assert page.get_by_text("Crime history (fixed covariates)").first.is_visible()
    chart = page.locator('[data-testid="stVegaLiteChart"]').first
    chart.scroll_into_view_if_needed()
    page.wait_for_timeout(1000)
    # the IRR chart of a model with a handful of factors is not squeezed onto one line
    factors = page.get_by_text("Risk factors (numbers in the tooltip)").first.inner_text()
    n_factors = factors.count(";") + 1
    assert chart.bounding_box()["height"] >= n_factors * 30 + 80, (n_factors, chart.bounding_box())
    no_traceback(page)
    shot(page, "results_forecast")
    page.locator(MAP).first.screenshot(path=str(SCREENSHOTS / "results_forecast_map.png"))
    page.locator('[data-testid="stVegaLiteChart"]').first.screenshot(
        path=str(SCREENSHOTS / "results_irr_few.png")
    )


def test_fifteen_factors_get_a_chart_tall_enough_to_read(page, app_url, finished):
    page.goto(app_url)
    page.get_by_role("heading", name="Data").first.wait_for(timeout=60_000)
    page.get_by_test_id("stSidebarNav").get_by_text("Results", exact=True).click()
    page.get_by_role("heading", name="Results").first.wait_for(timeout=60_000)
    idle(page)
    page.get_by_test_id("stSelectbox").first.click()
    page.get_by_role("option").filter(has_text="fifteen factors").first.click()
    idle(page)
    chart = page.locator('[data-testid="stVegaLiteChart"]').first
    chart.scroll_into_view_if_needed()
    chart.wait_for(timeout=30_000)
    page.wait_for_timeout(1500)
    box = chart.bounding_box()
    # 15 + 4 factors, each band at least ~30 px: labels on their own lines, not overlapping
    assert box["height"] > 19 * 30, box
    chart.screenshot(path=str(SCREENSHOTS / "results_irr_fifteen.png"))
    no_traceback(page)
