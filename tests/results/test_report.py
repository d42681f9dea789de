"""The HTML report tells the truth: the forecast first, each model beside the best baseline in
the same sentence as the Results page, IRRs labelled "given crime history", history
coefficients in their own table."""

from __future__ import annotations

import html
import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from rtm_core.record.folder import load_run
from rtm_core.results.report import forecast_places, forecast_sentence, render_report
from rtm_core.results.summary import split_history
from rtm_core.results.verdict import run_verdicts
from tests.forecast_run import history_run


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    return history_run(tmp_path_factory.mktemp("report"))


def headings(text: str) -> list[str]:
    return [html.unescape(h) for h in re.findall(r"<h2>(.*?)</h2>", text)]


def test_the_forecast_follows_the_brief_with_its_top_places(run_dir):
    text = render_report(run_dir)
    heads = headings(text)
    assert heads[:2] == ["Top places: where to look first", "For the analyst"]
    assert heads.index("Forecast for 2023-01-01 – 2023-12-31") < heads.index(
        "Risk map (evaluation: model of period t)"
    )
    assert "without refitting" in text
    assert "alt='forecast map dl'" in text
    run = load_run(run_dir)
    top = run.units.sort_values("forecast_dl", ascending=False).iloc[0]
    section = text[text.index("Top places of the forecast") :]
    first_row = re.search(r"<tbody>\s*<tr>\s*<td>1</td>\s*<td>(\d+)</td>", section)
    assert int(first_row.group(1)) == int(top["unit_id"])


def test_the_verdict_sentences_are_the_results_page_sentences(run_dir):
    text = html.unescape(render_report(run_dir))
    run = load_run(run_dir)
    found = run_verdicts(run)
    assert [v.model for v in found] == ["dl"]
    for verdict in found:
        assert verdict.sentence in text
        assert f"{verdict.headline}." in text
        assert "90 % interval" in verdict.sentence
    assert "comparison.csv" not in text  # read from the run, nothing to explain


def test_history_irrs_are_labelled_and_tabled_apart(run_dir):
    text = render_report(run_dir)
    heads = headings(text)
    assert "Coefficients: incident rate ratios given crime history" in heads
    assert "Crime history (fixed covariates)" in heads
    env = text[text.index("incident rate ratios given") : text.index("Crime history (fixed")]
    hist = text[text.index("Crime history (fixed") :]
    assert "hist1_unit" not in env and "hist1_unit" in hist and "hist2_600m" in hist


def test_a_run_without_forecast_keeps_the_plain_layout(run_dir, tmp_path):
    plain = tmp_path / "plain"
    shutil.copytree(run_dir, plain)
    manifest = json.loads((plain / "manifest.json").read_text())
    manifest["forecast"] = {"start": None, "end": None, "method": "environment only"}
    manifest.pop("history")
    (plain / "manifest.json").write_text(json.dumps(manifest))
    coef = pd.read_csv(plain / "coefficients.csv")
    coef[~coef["variable"].str.startswith("hist")].to_csv(plain / "coefficients.csv", index=False)
    heads = headings(render_report(plain))
    assert not any(h.startswith("Forecast") for h in heads)
    assert "Risk map" in heads and "Coefficients: incident rate ratios" in heads
    assert "Crime history (fixed covariates)" not in heads


def test_the_report_stays_self_contained(run_dir):
    text = render_report(run_dir)
    assert "<script" not in text and "http://" not in text and "https://" not in text


def test_forecast_places_rank_units_and_name_their_factors():
    units = pd.DataFrame(
        {
            "unit_id": [10, 11, 12, 13],
            "forecast_dl": [0.5, 2.0, 1.0, 2.0],
            "factors_dl": ["bars within 100 m", "", None, "liquor within 200 m"],
        }
    )
    top = forecast_places(units, "dl", 3)
    assert top["unit_id"].tolist() == [11, 13, 12]  # ties keep the units' order
    assert top["rank"].tolist() == [1, 2, 3]
    assert top["factors present"].tolist() == ["none", "liquor within 200 m", "none"]
    assert forecast_places(units, "classical").empty


def test_forecast_sentence_says_how_it_was_made():
    shifted = {"start": "2019-01-01", "end": "2019-12-31", "method": "applied with shifted history"}
    assert forecast_sentence(shifted) == (
        "Expected crimes per unit for 2019-01-01 – 2019-12-31, the period after the data: the "
        "models fitted on the training period, applied without refitting to the crime history "
        "of the windows just before the forecast period (the latest data)."
    )
    other = {"start": "2019-01-01", "end": "2019-03-31", "method": "refitted on 2018."}
    assert forecast_sentence(other).endswith("the period after the data: refitted on 2018.")


def test_the_report_and_the_results_page_build_one_verdict_table(run_dir):
    from rtm_app import tables
    from rtm_core.results.summary import verdict_table

    run = load_run(run_dir)
    found = run_verdicts(run)
    table = verdict_table(found)
    pd.testing.assert_frame_equal(tables.verdict_table(found), table)
    assert list(table["area"]) == ["1 %", "5 %", "10 %"]
    text = html.unescape(render_report(run_dir))
    section = text[text.index("Does the RTM beat") : text.index("<h2>Forecast for")]
    for _, row in table.iterrows():
        assert f"{row['baseline PAI']:.2f}" in section and f">{row['result']}</td>" in section


def test_calibration_is_shown_with_the_family_and_the_forecast_warned(run_dir, tmp_path):
    text = html.unescape(render_report(run_dir))
    assert "Calibration: expected against observed crimes" in headings(text)
    assert "alt='calibration dl'" in text
    fit = "Counts modelled as Poisson; expected counts calibrated in the large by intercept"
    assert fit in text
    assert "The deep-learning RTM expects" in text and "(+0.0 %)" in text
    # a forecast far above the last period: warned beside the forecast and in calibration
    hot = tmp_path / "hot"
    shutil.copytree(run_dir, hot)
    units = load_run(hot).units
    units["forecast_dl"] = units["forecast_dl"] * 3
    units.to_file(hot / "units.gpkg", layer="units", driver="GPKG", engine="pyogrio")
    text = html.unescape(render_report(hot))
    warning = re.search(r"Warning: The deep-learning RTM's forecast totals [\d,]+ crimes", text)
    assert warning and text.count("Warning: The deep-learning RTM's forecast totals") == 2


def test_an_old_run_without_the_new_files_still_reports(run_dir, tmp_path):
    """A history run written before comparison.csv, calibration.csv and the test rankings:
    the verdict says the comparison is not available, calibration likewise."""
    old = tmp_path / "old"
    shutil.copytree(run_dir, old)
    for name in ("comparison.csv", "calibration.csv"):
        (old / name).unlink()
    units = load_run(old).units
    units = units.drop(columns=[c for c in units.columns if c.startswith("test_risk_")])
    units.to_file(old / "units.gpkg", layer="units", driver="GPKG", engine="pyogrio")
    text = html.unescape(render_report(old))
    assert "The comparison with intervals is not available for this run" in text
    assert "Calibration is not available for this run" in text
    assert "The deep-learning RTM has no out-of-sample comparison" in text


def test_irrs_without_a_reliable_effect_read_so(run_dir):
    run = load_run(run_dir)
    text = render_report(run_dir)
    start = text.index("Coefficients: incident rate ratios")
    section = text[start : text.index("Conjunctive analysis")]  # risk factors, then history
    unreliable = run.coefficients["reliable"] == False  # noqa: E712
    unreliable &= run.coefficients["variable"] != "intercept"
    assert section.count("<td class='t'>no reliable effect</td>") == int(unreliable.sum())


# --------------------------------------------------------------------------- the brief first

ANALYST_HEADINGS = [
    "Top places: where to look first",
    "For the analyst",
    "Does the RTM beat the simplest maps?",
    "Forecast for 2023-01-01 – 2023-12-31",
    "Risk map (evaluation: model of period t)",
    "Accuracy: PAI and PEI in and out of sample",
    "Calibration: expected against observed crimes",
    "Coefficients: incident rate ratios given crime history",
    "Crime history (fixed covariates)",
    "Conjunctive analysis (CACC)",
    "Seed stability (deep-learning RTM)",
    "Top places per model",
    "Appendix: about this run",
]


@pytest.fixture(scope="module")
def places_report(places_run_dir) -> str:
    return render_report(places_run_dir)


def test_the_report_opens_with_the_brief_then_the_analysts_headings(places_report):
    text = places_report
    assert re.search(
        r"<body><section class='brief'>\s*<p class='kicker'>Risk brief</p>\s*"
        r"<h1>Risk Terrain Model: places</h1>",
        text,
    )
    assert headings(text) == ANALYST_HEADINGS
    brief = html.unescape(text[: text.index("</section>")])
    from tests.brief_run import DISTRICTS

    assert any(name in brief for name in DISTRICTS)
    assert "How sure we are: 1 of 3" in brief and "North is up" in brief
    assert "alt='brief map " in brief and brief.count("data:image/png;base64,") == 1
    for word in ("y_train", "y_test", "observed", "incident"):  # nothing places a crime
        assert word not in brief


def test_the_report_prints_and_keeps_metadata_out_of_json(places_report):
    text = places_report
    assert "@media print" in text and ".brief{break-after:page}" in text
    assert "thead{display:table-header-group}" in text and "tr,img,figure" in text
    assert "max-height:115mm" in text  # the brief's map fits the first A4 or Letter page
    appendix = html.unescape(text[text.index("Appendix: about this run") :])
    assert "{" not in appendix and '"timings"' not in text and "<pre>" not in text
    for item in ("Working CRS", "Run time", "Versions", "sha256", "Training period"):
        assert item in appendix
    assert text.count("data:image/png;base64,") >= 6  # brief, 2 forecast, 2 risk maps, curves


def test_coefficients_say_no_reliable_effect_and_top_places_are_named(
    places_report, places_run_dir
):
    run = load_run(places_run_dir)
    text = html.unescape(places_report)
    coef = text[text.index("Coefficients: incident rate") : text.index("Crime history (fixed")]
    rows = split_history(run.coefficients)[0]
    unreliable = (rows["reliable"] == False) & (rows["variable"] != "intercept")  # noqa: E712
    assert coef.count("<td class='t'>no reliable effect</td>") == int(unreliable.sum())
    top = text[text.index("Top places per model") : text.index("Appendix")]
    assert "tied</th>" in top and "place</th>" in top and "San José" in top
    assert re.search(r"<td>41\.\d{6}</td><td>-87\.\d{6}</td><td class='t'>(yes|no)</td>", top)
    assert run.top_places["place"].notna().all()


def test_a_map_with_shapes_and_area_names_is_drawn_once_per_save(places_run_dir, monkeypatch):
    """geopandas' plot asks the canvas to draw at once (Agg obeys): the report's maps ignore
    that, so a map is drawn twice by savefig (the tight-box layout, then the pixels), not once
    more for each geopandas layer (1.4 s of a 9.5 s report when profiled)."""
    from matplotlib.figure import Figure

    from rtm_core.results.report_maps import score_map

    run = load_run(places_run_dir)
    draws = []
    real = Figure.draw

    def counted(fig, renderer):
        draws.append(fig)
        return real(fig, renderer)

    monkeypatch.setattr(Figure, "draw", counted)
    shapes = run.units.drop(columns=["row", "col"])  # drawn by geopandas, not as a raster
    score_map(shapes, "risk_dl", title="Relative risk", places=run.places)
    assert len(draws) == 2
