"""The Backtest page in a real browser: a finished backtest's chart, then one run from the page.

The chart is checked by its pixels (a painted Vega chart, not just an element); screenshots
go to ``test-output/screenshots/backtest-*.png``.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from rtm_core.backtest.rolling import run_backtest
from rtm_core.config import load_config
from tests.backtest_city import dated_city
from tests.browser.test_browser import go, idle, no_traceback, painted_share, shot

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHART = '[data-testid="stVegaLiteChart"]'


@pytest.fixture(scope="module")
def finished_backtest(runs_dir: Path, tmp_path_factory) -> Path:
    """A 2-origin backtest (deep-learning RTM, 1 seed) written where the app keeps them."""
    config = load_config(dated_city(tmp_path_factory.mktemp("dated") / "city"))
    config = config.replace(model=dataclasses.replace(config.model, kinds=("dl",), seeds=1))
    return run_backtest(config, runs_dir / "backtests" / "bt-first", origins=2, label="first")


def chart_painted(page, minimum: float = 0.01) -> float:
    chart = page.locator(CHART).first
    chart.wait_for(state="visible", timeout=30_000)
    page.wait_for_timeout(800)
    share = painted_share(chart.screenshot())
    assert share >= minimum, f"backtest chart looks blank ({share:.1%} painted)"
    return share


def test_backtest_page_draws_and_runs_a_backtest(page, app_url, runs_dir, finished_backtest):
    page.goto(app_url)
    go(page, "Backtest")
    idle(page)
    no_traceback(page)
    # the demo has no date column: the page says so, with the fix
    assert page.get_by_text("needs the crimes as one file with a date column").count() == 1
    verdict = page.get_by_text(re.compile(r"On average over the \d+ origins"))
    verdict.first.wait_for(timeout=30_000)  # drawn once the backtest's comparison is read
    assert verdict.count() == 1
    chart_painted(page)
    shot(page, "backtest-finished")

    page.get_by_role("button", name="Run this backtest again").click()
    bar = page.locator('[data-testid="stProgress"]').first
    bar.wait_for(state="visible", timeout=60_000)
    page.get_by_text("of 2 origins done").first.wait_for(timeout=60_000)
    shot(page, "backtest-running")
    page.get_by_text("Finished in").first.wait_for(timeout=240_000)
    idle(page)
    no_traceback(page)
    assert len(list((runs_dir / "backtests").iterdir())) == 2
    shot(page, "backtest-again")
    assert "first (again) · 2 origins" in page.content()  # the new backtest is shown
    chart_painted(page)
