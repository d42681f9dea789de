"""What planners receive (rtm_core.results.planner): the files are opened and their columns
checked against a run whose analyst opted the report into incident locations."""

from __future__ import annotations

import io
import json
from pathlib import Path

import geopandas as gpd
import pytest

from rtm_core.record.folder import load_run
from rtm_core.results.planner import (
    UNIT_COLUMNS,
    planner_geojson,
    planner_geopackage,
    planner_report,
    planner_run,
)
from rtm_core.results.report import PLANNER_NOTE

COUNTS = ("y_train", "y_test", "observed_train", "observed_test")
BASELINES = (
    "risk_prior_counts",
    "risk_kde",
    "risk_forest",
    "risk_prior_counts_lags",
    "risk_history_only",
)


@pytest.fixture(scope="module")
def run(alices_run):
    return load_run(alices_run)


def _allowed(column: str) -> bool:
    return column in UNIT_COLUMNS or column.startswith("present_") or column == "geometry"


def test_the_run_holds_what_planners_must_not_get(run):
    # the test can fail: the analyst's own files hold counts, baselines and incidents
    assert {"y_train", "y_test", *BASELINES} <= set(run.units.columns)
    stored = (run.path / "report.html").read_text()
    assert "Incidents (raw locations" in stored and "observed train</th>" in stored


def test_the_planner_map_files_hold_scores_and_forecasts_only(run):
    geojson = json.loads(planner_geojson(run))
    keys = set().union(*(f["properties"] for f in geojson["features"]))
    assert {"unit_id", "risk_dl", "risk_classical", "forecast_dl", "factors_dl"} <= keys
    assert all(_allowed(k) for k in keys), sorted(keys)
    assert len(geojson["features"]) == len(run.units)
    gpkg = gpd.read_file(io.BytesIO(planner_geopackage(run)), engine="pyogrio")
    assert all(_allowed(c) for c in gpkg.columns), list(gpkg.columns)
    assert "forecast_classical" in gpkg.columns and gpkg.crs == run.units.crs


def test_the_planner_report_leaves_out_counts_and_incidents(run):
    html = planner_report(run).decode("utf-8")
    assert PLANNER_NOTE in html and "Forecast for 2023-01-01" in html
    assert "Incidents" not in html and "incident locations'" not in html
    for word in (*COUNTS, *BASELINES, "expected_dl"):
        assert word not in html and word.replace("_", " ") not in html, word
    assert "Conjunctive analysis" in html and "Top places" in html


def test_the_planner_run_keeps_no_input_records_or_incidents(run):
    safe = planner_run(run)
    assert safe.incidents is None
    assert not {"inputs", "inputs_kept", "reads", "counts"} & set(safe.manifest)
    assert not {"observed_train", "observed_test"} & set(safe.conjunctive.columns)
    assert list(safe.top_places.columns) == list(run.top_places.columns)  # no counts there


def test_an_old_run_folder_gives_planner_files_too():
    old = load_run(Path(__file__).resolve().parents[1] / "data" / "run_v1")
    keys = set(json.loads(planner_geojson(old))["features"][0]["properties"])
    assert "risk_dl" in keys and all(_allowed(k) for k in keys)
    assert "Risk map" in planner_report(old).decode("utf-8")
