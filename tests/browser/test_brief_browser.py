"""The brief in a real browser: the Brief page of a run with place names (map painted, areas
named, top places listed), then its report printed to PDF with Chromium (A4), the PDF pages
rendered to PNG with pypdfium2: the first page is the brief, the analyst's sections follow,
the appendix ends it."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from tests.brief_run import DISTRICTS
from tests.browser.test_browser import MAP, SCREENSHOTS, idle, painted_share, shot

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def brief_run(runs_dir, places_run_dir):
    target = runs_dir / "run-20260101-000000-places"
    shutil.copytree(places_run_dir, target)
    return target


def test_the_brief_page_paints_its_map_and_names_the_places(page, app_url, brief_run):
    page.goto(app_url)
    page.get_by_role("heading", name="Data").first.wait_for(timeout=60_000)
    page.get_by_test_id("stSidebarNav").get_by_text("Brief", exact=True).click()
    page.get_by_text("Risk concentrates in").first.wait_for(timeout=60_000)
    idle(page)
    canvas = page.locator(MAP).first
    canvas.wait_for(state="visible", timeout=60_000)
    share = 0.0
    for _ in range(60):
        share = painted_share(canvas.screenshot())
        if share > 0.05:
            break
        page.wait_for_timeout(500)
    assert share > 0.05, f"the brief's map is blank ({share:.1%} painted)"
    page.wait_for_timeout(1500)  # the area names are drawn once the font atlas is ready
    canvas.screenshot(path=str(SCREENSHOTS / "brief_map.png"))
    shot(page, "brief_page")
    errors = page.locator('[data-testid="stException"]')
    assert errors.count() == 0, errors.first.inner_text()
    table = page.locator('[data-testid="stDataFrame"]').first
    table.wait_for(timeout=30_000)
    body = page.locator("body").inner_text()
    assert "How sure we are: 1 of 3" in body and "Top places: where to look first" in body
    assert "Crimes:" not in body


def test_the_report_prints_to_pdf_with_the_brief_on_its_first_page(page, brief_run):
    import pypdfium2 as pdfium

    pdf_path = SCREENSHOTS / "brief_report.pdf"
    page.goto((brief_run / "report.html").resolve().as_uri())
    page.wait_for_load_state("load")
    page.pdf(path=str(pdf_path), format="A4", print_background=True)
    pdf = pdfium.PdfDocument(str(pdf_path))
    pages = len(pdf)
    assert 4 <= pages <= 14, pages
    texts = [pdf[k].get_textpage().get_text_range() for k in range(pages)]
    first = texts[0]
    assert "RISK BRIEF" in first.upper() and "Risk Terrain Model: places" in first
    assert "How sure we are" in first
    assert "Top places: where to look first" in first and "North is up" in first
    assert any(name in first for name in DISTRICTS)
    assert "For the analyst" not in first  # the analyst's part starts on page 2
    assert texts[1].lstrip().startswith("For the analyst")
    assert "Appendix: about this run" in texts[-1] and "Working CRS" in texts[-1]
    for k in range(pages):
        pdf[k].render(scale=1.3).to_pil().save(SCREENSHOTS / f"brief_report_page{k + 1}.png")
    image = np.asarray(pdf[0].render(scale=1.0).to_pil().convert("RGB"))
    reds = (image[..., 0] > 150) & (image[..., 1] < 120) & (image[..., 2] < 120)
    assert reds.sum() > 200, "the brief's map (its reddest classes) is on the first page"
