"""The analyst's path in a real browser: Data → Risk factors → Train → Results → Stability →
Runs → Export, on the embedded Chicago demo, with screenshots of every page.

Maps are checked by their pixels (a painted deck.gl canvas, not just an element), and the
size of the risk map's payload and the time to the first painted map are printed.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import expect

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"

pytestmark = [pytest.mark.browser, pytest.mark.slow]

MAP = '[data-testid="stDeckGlJsonChart"] canvas'


def painted_share(png: bytes) -> float:
    """Share of pixels that are not (near) white background."""
    image = Image.open(io.BytesIO(png)).convert("RGB")
    pixels = np.asarray(image)
    painted = (pixels.min(axis=2) < 235).sum()
    return float(painted) / max(pixels.shape[0] * pixels.shape[1], 1)


def wait_for_painted_map(page, minimum: float, timeout: float = 60.0) -> float:
    """Seconds until the first map canvas shows at least ``minimum`` painted pixels."""
    start = time.monotonic()
    canvas = page.locator(MAP).first
    canvas.wait_for(state="visible", timeout=timeout * 1000)
    share = 0.0
    while time.monotonic() - start < timeout:
        try:
            share = painted_share(canvas.screenshot())
        except Exception:  # canvas re-created by a rerun
            share = 0.0
        if share >= minimum:
            return time.monotonic() - start
        time.sleep(0.25)
    pytest.fail(f"map canvas stayed blank ({share:.1%} painted)")


def go(page, title: str) -> None:
    """Open a page from the sidebar and wait for its title."""
    page.get_by_test_id("stSidebarNav").get_by_text(title, exact=True).click()
    page.get_by_role("heading", level=1).filter(has_text=title).first.wait_for(timeout=30_000)


#: Streamlit's running indicator, shown while a script run draws the page
RUNNING = '[data-testid="stStatusWidget"]'
#: elements of the last run still on the page (a rerun keeps them, marked stale, until it ends)
STALE = '[data-testid="stElementContainer"][data-stale="true"]'


def idle(page, timeout: float = 60.0) -> None:
    """Wait until the script run has finished: the running indicator is gone and no element of
    the last run is left on the page (an element that moved in the rerun shows at its old and
    its new place until then)."""
    page.wait_for_timeout(300)
    page.locator(RUNNING).wait_for(state="hidden", timeout=timeout * 1000)
    expect(page.locator(STALE)).to_have_count(0, timeout=timeout * 1000)


def settle(page) -> None:
    """Let a resized page lay out and paint: two animation frames, then 300 ms for the charts'
    and maps' resize handlers (was a fixed 1.2 s per screenshot, 50 of them in the suite)."""
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
    page.wait_for_timeout(300)


def shot(page, name: str) -> None:
    """Save a screenshot of the whole page (the viewport grows to the content's height)."""
    height = page.evaluate(
        """() => Math.max(...[...document.querySelectorAll(
            '[data-testid="stMain"], [data-testid="stAppViewContainer"], '
            + '[data-testid="stMainBlockContainer"]')].map(e => e.scrollHeight), 1000)"""
    )
    page.set_viewport_size({"width": 1400, "height": min(int(height) + 40, 7000)})
    settle(page)
    page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)
    page.set_viewport_size({"width": 1400, "height": 1000})


def no_traceback(page) -> None:
    assert page.locator('[data-testid="stException"]').count() == 0, "a traceback is shown"


def build_risk_factors(page) -> None:
    """Risk factors page: build them, wait for the prevalence table and a painted map."""
    go(page, "Risk factors")
    page.get_by_role("button", name="Build risk factors").click()
    page.get_by_text("How common each risk factor is").wait_for(timeout=90_000)
    wait_for_painted_map(page, minimum=0.01)
    idle(page)
    no_traceback(page)


def test_analyst_path(page, app_url, runs_dir):
    # ---------------------------------------------------------------- Data (demo ready)
    started = time.monotonic()
    page.goto(app_url)
    page.get_by_role("heading", name="Data").first.wait_for(timeout=60_000)
    data_title = time.monotonic() - started
    wait_for_painted_map(page, minimum=0.02)
    data_paint = time.monotonic() - started
    idle(page)
    assert page.get_by_text("Chicago demo").first.is_visible()
    page.get_by_text("Study check").first.wait_for()
    page.get_by_text("Crimes in period t", exact=True).wait_for(timeout=60_000)
    no_traceback(page)
    shot(page, "1_data")

    # ---------------------------------------------------------------- Risk factors
    build_risk_factors(page)
    shot(page, "2_risk_factors")

    # ---------------------------------------------------------------- Train (tiny steps)
    go(page, "Train")
    page.get_by_label("Burn-in steps").fill("60")
    page.get_by_label("Prune steps").fill("60")
    page.get_by_label("Seeds").fill("3")
    page.get_by_label("Run label").fill("browser test")
    page.get_by_role("button", name="Start training").click()
    page.locator('[data-testid="stProgress"]').first.wait_for(timeout=30_000)
    try:  # a moment with step counts on the bar makes a more telling screenshot
        bar = page.locator('[data-testid="stProgress"]', has_text=re.compile(r"step \d"))
        bar.first.wait_for(timeout=60_000)
    except Exception:
        pass
    shot(page, "3_train_running")
    open_results = page.get_by_role("button", name="Open results")
    open_results.wait_for(timeout=180_000)
    idle(page)
    no_traceback(page)
    shot(page, "3_train_done")
    assert len([p for p in runs_dir.iterdir() if not p.name.startswith(".")]) == 1
    assert page.get_by_text("Finished in").first.is_visible()

    # ---------------------------------------------------------------- Results
    open_results.click()
    page.get_by_role("heading", name="Results").first.wait_for(timeout=30_000)
    clicked = time.monotonic()
    results_paint = wait_for_painted_map(page, minimum=0.05)
    idle(page)
    results_paint_total = time.monotonic() - clicked
    canvas_share = painted_share(page.locator(MAP).first.screenshot())
    assert canvas_share > 0.05, f"risk map mostly blank ({canvas_share:.1%} painted)"
    assert page.get_by_text("incident rate ratios").first.is_visible()
    assert page.locator('[data-testid="stDataFrame"]').count() >= 3
    page.get_by_text("Accuracy in and out of sample").scroll_into_view_if_needed()
    charts = page.locator('[data-testid="stVegaLiteChart"]')
    charts.nth(1).wait_for(timeout=30_000)
    assert charts.count() >= 2  # IRR forest + PAI curves
    no_traceback(page)
    shot(page, "4_results")

    # ---------------------------------------------------------------- Stability
    go(page, "Stability")
    page.get_by_text("How often each variable was selected").wait_for(timeout=30_000)
    wait_for_painted_map(page, minimum=0.002)
    idle(page)
    assert page.locator('[data-testid="stVegaLiteChart"]').count() >= 1
    no_traceback(page)
    shot(page, "5_stability")

    # ---------------------------------------------------------------- Runs
    finished = next(p for p in runs_dir.iterdir() if not p.name.startswith("."))
    copy = runs_dir / "run-copy-for-compare"
    shutil.copytree(finished, copy)
    manifest = json.loads((copy / "manifest.json").read_text())
    (copy / "manifest.json").write_text(json.dumps(manifest | {"label": "copied run"}))
    (runs_dir / "broken-run").mkdir()
    (runs_dir / "broken-run" / "manifest.json").write_text("{not json")
    go(page, "Runs")
    # table cells live in a canvas grid: their text is in the DOM but hidden
    page.get_by_text("copied run").first.wait_for(state="attached", timeout=30_000)
    page.get_by_text("damaged", exact=True).first.wait_for(state="attached", timeout=30_000)
    page.get_by_text("IRR changes").first.wait_for(timeout=30_000)
    idle(page)
    no_traceback(page)
    shot(page, "6_runs")

    # ---------------------------------------------------------------- Export + download
    go(page, "Export")
    page.get_by_role("button", name="CSV", exact=True).wait_for(timeout=30_000)
    idle(page)
    with page.expect_download(timeout=60_000) as info:
        page.get_by_role("button", name="CSV", exact=True).click()
    download = info.value
    assert download.suggested_filename.endswith("units.csv")
    header = open(download.path(), encoding="utf-8").readline()
    assert "unit_id" in header and "risk_dl" in header
    no_traceback(page)
    shot(page, "7_export")

    # ---------------------------------------------------------------- measurements
    from rtm_app import cache, maps
    from rtm_core.record.folder import load_run

    run = load_run(finished)
    deck, _ = maps.risk_map(
        run.units, "dl", cell_size=cache.cell_size(run), factor_labels=[], online=False
    )
    external = [u for u in page.failed_requests if "127.0.0.1" not in u]
    print(
        f"\nrisk map payload: {maps.payload_bytes(deck) / 1e6:.2f} MB for {len(run.units):,} "
        f"units; time to first painted map: Data page {data_paint:.1f} s after navigation "
        f"(title after {data_title:.1f} s), "
        f"Results page {results_paint:.1f} s after 'Open results' "
        f"(page idle after {results_paint_total:.1f} s); failed external requests: {external}"
    )
    assert not external, f"maps asked the network: {external}"


def test_a_finished_run_survives_a_refresh_and_a_server_restart(page, app_url, runs_dir, serve):
    """Runs live on disk: a reload, and a new server over the same folder, still show them."""
    assert any((p / "manifest.json").is_file() for p in runs_dir.iterdir()), "no run yet"
    page.reload()
    page.get_by_role("heading").first.wait_for(timeout=60_000)
    go(page, "Runs")
    page.get_by_text("browser test").first.wait_for(state="attached", timeout=30_000)
    no_traceback(page)

    with serve() as restarted:
        page.goto(restarted)
        page.get_by_role("heading", name="Data").first.wait_for(timeout=60_000)
        go(page, "Results")
        page.get_by_text("incident rate ratios").first.wait_for(timeout=60_000)
        wait_for_painted_map(page, minimum=0.05)
        go(page, "Runs")
        page.get_by_text("browser test").first.wait_for(state="attached", timeout=30_000)
        no_traceback(page)
        shot(page, "8_runs_after_restart")
