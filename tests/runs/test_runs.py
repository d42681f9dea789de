"""Run folders: atomic staging, failed and damaged runs, listing, deleting."""

import json

import geopandas as gpd
import pytest
from shapely.geometry import box

from rtm_core.errors import InputError
from rtm_core.record.folder import delete_run, list_runs, staged_run, write_failed_run


def _fake_complete(folder):
    for name in ("coefficients.csv", "metrics.json"):
        (folder / name).write_text("{}")
    # list_runs checks the GeoPackage's header: write a real (one-cell) one
    gpd.GeoDataFrame({"unit_id": [0]}, geometry=[box(0, 0, 1, 1)], crs=32616).to_file(
        folder / "units.gpkg", layer="units", engine="pyogrio"
    )
    (folder / "manifest.json").write_text(json.dumps({"status": "complete", "created": 1.0}))


def test_staged_run_renames_only_on_success(tmp_path):
    out = tmp_path / "run1"
    with staged_run(out) as staging:
        assert staging.parent == tmp_path and staging.name.startswith(".staging-")
        _fake_complete(staging)
        assert not out.exists()
    assert (out / "manifest.json").is_file()
    assert [p.name for p in tmp_path.iterdir()] == ["run1"]


def test_exception_inside_staging_leaves_nothing(tmp_path):
    out = tmp_path / "run1"
    with pytest.raises(RuntimeError, match="boom"):
        with staged_run(out) as staging:
            _fake_complete(staging)
            raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []


def test_existing_run_is_never_overwritten(tmp_path):
    out = tmp_path / "run1"
    out.mkdir()
    (out / "manifest.json").write_text("{}")
    with pytest.raises(InputError, match=r"already exists and is not empty\. Fix: choose a new"):
        with staged_run(out):
            pass
    assert (out / "manifest.json").read_text() == "{}"


def test_unwritable_parent_is_reported(tmp_path):
    parent = tmp_path / "file-not-folder"
    parent.write_text("x")
    with pytest.raises(InputError, match="cannot write here"):
        with staged_run(parent / "run"):
            pass


def test_list_runs_marks_failed_and_damaged(tmp_path):
    with staged_run(tmp_path / "good") as staging:
        _fake_complete(staging)
    write_failed_run(tmp_path / "bad", {"created": 2.0}, "crimes.csv: no crimes. Fix: x")
    damaged = tmp_path / "damaged"
    damaged.mkdir()
    (damaged / "manifest.json").write_text("{not json")
    partial = tmp_path / "partial"
    partial.mkdir()
    (partial / "manifest.json").write_text(json.dumps({"status": "complete"}))
    (tmp_path / ".staging-x-1234").mkdir()
    runs = {r.name: r for r in list_runs(tmp_path)}
    assert set(runs) == {"good", "bad", "damaged", "partial"}
    assert runs["good"].status == "complete"
    assert runs["bad"].status == "failed" and "no crimes" in runs["bad"].problem
    assert runs["damaged"].status == "damaged" and "unreadable" in runs["damaged"].problem
    assert runs["partial"].status == "damaged" and "missing" in runs["partial"].problem


def test_delete_only_inside_the_workspace(tmp_path):
    ws = tmp_path / "runs"
    with staged_run(ws / "r") as staging:
        _fake_complete(staging)
    outside = tmp_path / "precious"
    outside.mkdir()
    with pytest.raises(InputError, match="not a run folder"):
        delete_run(outside, ws)
    assert outside.exists()
    delete_run(ws / "r", ws)
    assert list_runs(ws) == []
