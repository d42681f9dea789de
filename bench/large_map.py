"""Benchmark: the app opens a 1M-unit run and paints its risk map in Chromium.

Run as ``.venv/bin/python bench/large_map.py RUN_FOLDER`` with a finished large grid run,
e.g. the 24 m run kept by ``bench/scale.py --keep runs-scale`` (``runs-scale/24m``). It
starts ``streamlit run app.py`` over a temporary runs folder holding only that run (a
symbolic link), opens the Data page in Chromium (Playwright, Debian's ``chromium``), clicks
Results and times the risk map from the click until its canvas is painted (at least 5 % of
its pixels not background). It prints that time, the map caption (what the blocks are), and
saves a screenshot of the page and of the map under ``test-output/screenshots/``
(``large_map_page.png``, ``large_map.png``): look at them. Target: painted in under 10 s.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.browser.conftest import CHROMIUM_ARGS, SCREENSHOTS, _serve  # noqa: E402
from tests.browser.test_browser import MAP, idle, painted_share  # noqa: E402

TARGET_S = 10.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", help="a finished run folder (a large grid)")
    args = parser.parse_args()
    run = Path(args.run).resolve()
    manifest = json.loads((run / "manifest.json").read_text())
    print(f"run {run}: {manifest['n_units']:,} units")
    from shutil import which

    from playwright.sync_api import sync_playwright

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        runs_dir = Path(tmp) / "runs"
        runs_dir.mkdir()
        (runs_dir / run.name).symlink_to(run, target_is_directory=True)
        with _serve(runs_dir) as url, sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=which("chromium"), args=CHROMIUM_ARGS
            )
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(url)
            page.get_by_role("heading", name="Data").first.wait_for(timeout=120_000)
            idle(page, 120)
            page.get_by_test_id("stSidebarNav").get_by_text("Results", exact=True).click()
            clicked = time.monotonic()
            canvas = page.locator(MAP).first
            canvas.wait_for(state="visible", timeout=120_000)
            share = 0.0
            while time.monotonic() - clicked < 120:
                try:
                    share = painted_share(canvas.screenshot())
                except Exception:  # canvas re-created by a rerun
                    share = 0.0
                if share >= 0.05:
                    break
                time.sleep(0.2)
            seconds = time.monotonic() - clicked
            idle(page, 120)
            caption = page.get_by_text("cells shown as").first
            note = caption.inner_text() if caption.count() else "(no block-map caption)"
            canvas.screenshot(path=str(SCREENSHOTS / "large_map.png"))
            page.screenshot(path=str(SCREENSHOTS / "large_map_page.png"), full_page=True)
            browser.close()
    verdict = "OK" if seconds <= TARGET_S and share >= 0.05 else "TOO SLOW OR BLANK"
    print(f"risk map painted {seconds:.1f} s after clicking Results ({share:.0%} of the canvas)")
    print(f"caption: {note}")
    print(f"target <= {TARGET_S:g} s: {verdict}; screenshots in {SCREENSHOTS}")
    return 0 if verdict == "OK" else 1


if __name__ == "__main__":
    sys.exit(main())
