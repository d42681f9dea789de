"""A run started in the app repeats exactly from its folder (issue 10), in a real browser.

Upload a small city (boundary, crimes, two generator layers: :mod:`tests.new_city`) on the
Data page, build the risk factors, train with few steps and seeds, move the uploaded files
away, then Runs → "Run again": the new run appears on the page, and its IRR table equals the
first run's to 1e-9 (both read from the run folders' ``coefficients.csv``). Its risk map is
painted on Results. Screenshots go to ``test-output/screenshots/``.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pandas as pd
import pytest

from rtm_core.record.folder import list_runs
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
from tests.new_city import write_new_city

pytestmark = [pytest.mark.browser, pytest.mark.slow]

LABEL = "run again test"
TRAIN_TIMEOUT = 300  # seconds for one training job (2 seeds, 60 + 60 steps, both models)


@pytest.fixture(scope="module")
def city(tmp_path_factory) -> dict[str, Path]:
    return write_new_city(tmp_path_factory.mktemp("run_again_city"))


def complete_runs(runs_dir: Path) -> list:
    """The complete run folders under ``runs_dir`` (backtests and staging left out)."""
    return [r for r in list_runs(runs_dir) if r.status == "complete"]


def wait_for_runs(runs_dir: Path, n: int, timeout: float = TRAIN_TIMEOUT) -> list:
    """The complete runs once there are ``n`` of them (fails after ``timeout`` seconds)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = complete_runs(runs_dir)
        if len(done) >= n:
            return done
        time.sleep(1)
    pytest.fail(f"{n} complete runs expected in {timeout} s, found {complete_runs(runs_dir)}")


def irr_table(run: Path) -> pd.DataFrame:
    """A run's IRR table: model, variable, IRR and its interval, in the file's order."""
    frame = pd.read_csv(run / "coefficients.csv")
    return frame[["model", "variable", "irr", "irr_low", "irr_high"]]


def test_run_again_in_the_browser_repeats_the_irrs(page, app_url, runs_dir, city, tmp_path):
    start_empty(page, app_url)

    # ---------------------------------------------------------------- upload four files
    add_layer(page, "boundary", city["boundary"])
    add_layer(page, "crimes", city["crimes"])
    add_layer(page, "generator", city["bars"])
    add_layer(page, "generator", city["bus_stops"])
    page.get_by_text("Crimes in period t", exact=True).wait_for(timeout=90_000)
    wait_for_painted_map(page, minimum=0.01)
    idle(page)
    no_traceback(page)
    shot(page, "run_again_1_data")

    # ---------------------------------------------------------------- risk factors
    build_risk_factors(page)

    # ---------------------------------------------------------------- train (few steps)
    go(page, "Train")
    page.get_by_label("Burn-in steps").fill("60")
    page.get_by_label("Prune steps").fill("60")
    page.get_by_label("Seeds").fill("2")
    page.get_by_label("Run label").fill(LABEL)
    page.get_by_role("button", name="Start training").click()
    page.get_by_role("button", name="Open results").wait_for(timeout=TRAIN_TIMEOUT * 1000)
    idle(page)
    no_traceback(page)
    (first,) = wait_for_runs(runs_dir, 1)
    assert first.label == LABEL

    # the uploaded files go away: the run folder must hold what it read
    shutil.move(str(city["boundary"].parent), str(tmp_path / "moved_away"))
    assert not city["crimes"].exists()

    # ---------------------------------------------------------------- Runs → Run again
    go(page, "Runs")
    page.get_by_text(LABEL).first.wait_for(state="attached", timeout=30_000)
    idle(page)
    page.get_by_role("button", name="Run again").click()
    page.get_by_text(f"Started {LABEL}").first.wait_for(timeout=30_000)
    no_traceback(page)
    shot(page, "run_again_2_started")
    runs = wait_for_runs(runs_dir, 2)
    again = next(r for r in runs if r.path != first.path)
    assert again.label == f"{LABEL} (again)"
    # the finished job reruns the page: the new run is listed and offered first
    page.get_by_text(f"{LABEL} (again)").first.wait_for(state="attached", timeout=60_000)
    idle(page)
    no_traceback(page)
    shot(page, "run_again_3_listed")

    a, b = irr_table(first.path), irr_table(again.path)
    assert len(a) > 2 and set(a["model"]) == {"dl", "classical"}
    assert a[["model", "variable"]].equals(b[["model", "variable"]])
    for column in ("irr", "irr_low", "irr_high"):
        gap = (a[column] - b[column]).abs().max()
        assert gap <= 1e-9, f"{column} differs by {gap:.3g} between the run and its repeat"

    # ---------------------------------------------------------------- the repeat in Results
    # (the newest run is the one offered first)
    page.get_by_role("button", name="Open in Results").click()
    page.get_by_role("heading", name="Results").first.wait_for(timeout=30_000)
    wait_for_painted_map(page, minimum=0.05)
    idle(page)
    share = painted_share(page.locator(MAP).first.screenshot())
    assert share > 0.05, f"risk map of the repeat mostly blank ({share:.1%} painted)"
    page.get_by_text(again.path.name).first.wait_for(state="attached", timeout=30_000)
    no_traceback(page)
    shot(page, "run_again_4_results")
