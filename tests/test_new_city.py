"""Issue 9: a new city as published data has it runs with `rtm run` unchanged; a failed run
does not block re-running into the same folder; the Chicago demo's features are unchanged."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from rtm_core.cli import main
from rtm_core.config import demo_config
from rtm_core.errors import InputError
from rtm_core.factors.designs import build_features, features_frame
from rtm_core.record.folder import holds_failed_run, list_runs, staged_run, write_failed_run
from rtm_core.study.load import load_study
from tests.demo_summary import features_summary
from tests.new_city import FEET_CRS, INVALID_DISTRICT, N_CRIMES, N_LATLON_GAPS, write_new_city

DEMO_SUMMARY = Path(__file__).parent / "data" / "demo_features_summary.json"


def test_the_new_city_looks_like_published_data(tmp_path):
    paths = write_new_city(tmp_path / "city")
    boundary = gpd.read_file(paths["boundary"])
    assert boundary.crs.to_string() == FEET_CRS
    assert boundary.loc[~boundary.is_valid, "district"].tolist() == [INVALID_DISTRICT]
    crimes = pd.read_csv(paths["crimes"])
    assert list(crimes.columns)[0] == "ID" and len(crimes) == N_CRIMES
    assert crimes["Latitude"].isna().sum() == N_LATLON_GAPS
    assert crimes["X Coordinate"].notna().all()
    assert crimes["Date"].str.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:00-0[56]:00").all()
    assert set(crimes["Date"].str[:4]) == {"2019", "2020", "2021", "2022", "2023"}
    bars = paths["bars"].read_text().splitlines()
    assert bars[0] == "name;longitude;latitude;capacity" and ",5;" not in bars[0]
    assert bars[1].split(";")[1].startswith("-87,")
    assert gzip.decompress(paths["bus_stops"].read_bytes()).startswith(b"stop_id,X,Y")


def test_failed_run_folder_is_replaced_and_a_complete_one_kept(tmp_path):
    out = tmp_path / "run"
    assert write_failed_run(out, {"label": "first"}, "bars.csv: broken") == out
    assert holds_failed_run(out)
    with staged_run(out) as staging:
        (staging / "manifest.json").write_text(json.dumps({"status": "complete"}))
        (staging / "metrics.json").write_text("{}")
    assert json.loads((out / "manifest.json").read_text()) == {"status": "complete"}
    assert not holds_failed_run(out)
    assert [p.name for p in tmp_path.iterdir()] == ["run"]  # nothing left aside
    # a failure over a failed run replaces the record (the newest error is what counts)
    failed = tmp_path / "failed"
    write_failed_run(failed, {}, "first error")
    write_failed_run(failed, {}, "second error")
    assert json.loads((failed / "manifest.json").read_text())["error"] == "second error"


def test_a_folder_that_is_no_failed_run_is_never_replaced(tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep")
    with pytest.raises(
        InputError,
        match=r"mine \[--out\]: already exists and is not empty\. Fix: choose a new run folder "
        r"\(another --out\) or delete it",
    ):
        with staged_run(out):
            pass
    assert (out / "notes.txt").read_text() == "keep"


@pytest.mark.slow
def test_rtm_run_runs_the_new_city_unchanged_and_reruns_over_a_failure(tmp_path, capsys):
    paths = write_new_city(tmp_path / "city")
    config = paths["config"]
    out = tmp_path / "runs" / "R"
    good = config.read_text()
    config.write_text(good.replace('file = "bars.csv"', 'file = "missing.csv"'))
    assert main(["run", str(config), "--out", str(out), "--quiet"]) == 2
    assert holds_failed_run(out)
    capsys.readouterr()

    config.write_text(good)
    assert main(["run", str(config), "--out", str(out), "--quiet"]) == 0
    captured = capsys.readouterr()
    assert f"rtm: {out} holds a failed run; this run replaces it" in captured.err
    (run,) = list_runs(out.parent)
    assert run.status == "complete"
    manifest = json.loads((out / "manifest.json").read_text())
    notes = {r["source"]: r["note"] for r in manifest["reads"]}
    assert "working CRS EPSG:26971 (metres), the same zone" in notes["boundary.gpkg"]
    assert "district 'Riverside'" in notes["boundary.gpkg"]
    assert "decimal commas" in notes["bars.csv"]
    assert "EPSG:3435 used" in notes["bus_stops.csv.gz"]
    assert "UTC offset" in notes["crimes.csv"]
    coefficients = pd.read_csv(out / "coefficients.csv")
    chosen = set(coefficients.loc[coefficients["model"] == "classical", "set"].dropna())
    assert {"bars", "bus_stops"} <= chosen  # crimes were planted near both
    units = gpd.read_file(out / "units.gpkg")
    assert units.crs.to_epsg() == 26971 and shapely.is_valid(units.geometry.values).all()

    assert main(["run", str(config), "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert (
        "already exists and is not empty (it holds a complete run). Fix: choose a new run " in err
    )


def test_rtm_features_demo_output_is_unchanged():
    """Chicago demo regression: columns, sums of every dummy, y_train and y_test, hashed."""
    config = demo_config()
    study = load_study(config)
    got = features_summary(features_frame(study, build_features(study, config.features)))
    expected = json.loads(DEMO_SUMMARY.read_text())
    assert got["columns"] == expected["columns"]
    assert got["n_rows"] == expected["n_rows"]
    assert got["sums"] == expected["sums"]
    assert got["sha256"] == expected["sha256"]
