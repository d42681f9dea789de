"""The typed run folder: the manifest's schema, a folder of the earlier format still opening,
factor presence as 0/1 columns, truthful seeds, one writer, a report drawn from memory.

``tests/data/run_v1`` is a run folder written before the manifest had a ``schema`` (by
``rtm synth --seed 3 --periods 3`` with 800 m cells, ``random_state = 7``, 2 seeds and
``rtm run --burn-in-steps 60 --prune-steps 60``), kept without its ``inputs/`` and
``report.html`` and with every fifth row of ``curves.csv``, to stay small.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest

from rtm_core.config import load_config
from rtm_core.record import folder
from rtm_core.record.folder import list_runs, load_run, staged_run, write_failed_run
from rtm_core.record.manifest import SCHEMA, Manifest, Metrics
from rtm_core.runs.pipeline import run_pipeline
from rtm_core.synth import make_city, write_city

V1 = Path(__file__).resolve().parents[1] / "data" / "run_v1"


@pytest.fixture
def v1(tmp_path) -> Path:
    """A copy of the earlier-format run folder (tests never write into tests/data)."""
    return Path(shutil.copytree(V1, tmp_path / "run_v1"))


@pytest.fixture(scope="module")
def fresh(tmp_path_factory) -> Path:
    """The fixture's run made again by this version (same city, settings and seeds)."""
    city = tmp_path_factory.mktemp("city")
    config = load_config(write_city(make_city(3, periods=3), city))
    model = dataclasses.replace(
        config.model, seeds=2, random_state=7, burn_in_steps=60, prune_steps=60
    )
    units = dataclasses.replace(config.units, cell_size=800.0)
    config = config.replace(model=model, units=units)
    return run_pipeline(config, city / "run", label="v2")


def test_a_run_folder_written_before_the_schema_opens(v1):
    run = load_run(v1)
    assert run.record.schema == 1 and run.record.label == "v1 fixture"
    # schema 1 listed random_state + k; what the DL trained is spawn key k of random_state
    assert json.loads((v1 / "manifest.json").read_text())["seeds"] == [7, 8]
    assert (run.record.seeds, run.record.seed_root) == ((0, 1), 7)
    assert run.record.cell_size == 800.0 and run.record.n_units == len(run.units)
    raw = json.loads((v1 / "metrics.json").read_text())
    assert run.accuracy.readout("dl", "test", "pai") == raw["dl"]["test"]["pai"]
    # no present_ columns then: the "; " lists are read instead
    masks = run.factor_presence("dl")
    assert list(masks) == run.record.selected_factors("dl") and len(masks) == 5
    labels = run.factor_labels()
    lists = run.units["factors_dl"].fillna("").str.split("; ")
    for name, mask in masks.items():
        assert (mask == lists.map(lambda items, x=labels[name]: x in items)).all()
    assert any(mask.any() for mask in masks.values())


def test_a_run_of_this_version_keeps_the_keys_and_adds_schema_and_seed_root(v1, fresh):
    old = json.loads((v1 / "manifest.json").read_text())
    new = json.loads((fresh / "manifest.json").read_text())
    assert set(new) == set(old) | {"schema", "seed_root", "model_fits"}  # only added
    assert new["schema"] == SCHEMA and (new["seeds"], new["seed_root"]) == ([0, 1], 7)
    assert Manifest.from_json(new).to_json() == new  # round trip, nothing lost
    old_units = gpd.read_file(v1 / "units.gpkg", engine="pyogrio")
    new_units = gpd.read_file(fresh / "units.gpkg", engine="pyogrio")
    added = [c for c in new_units.columns if c not in old_units.columns]
    assert added and all(c.startswith(("present_", "test_risk_")) for c in added)
    assert [c for c in new_units.columns if c not in added] == list(old_units.columns)
    for name in ("conjunctive.csv", "top_places.csv", "stability.csv"):
        added = ["place", "lat", "lon", "tied"] if name == "top_places.csv" else []  # additive
        old_columns = list(pd.read_csv(v1 / name).columns)
        assert list(pd.read_csv(fresh / name).columns) == old_columns + added
    old_coef = list(pd.read_csv(v1 / "coefficients.csv").columns)  # columns only added
    assert list(pd.read_csv(fresh / "coefficients.csv").columns) == [
        *old_coef,
        "reliable",
        "family",
        "dispersion",
        "calibration",
    ]
    assert new["models"] == old["models"]  # unchanged: the list of model keys
    assert {"family", "dispersion", "calibration"} == set(new["model_fits"]["dl"])
    assert set(json.loads((fresh / "metrics.json").read_text())) == set(
        json.loads((v1 / "metrics.json").read_text())
    )


def test_presence_columns_agree_with_the_factor_lists(fresh):
    run = load_run(fresh)
    labels = run.factor_labels()
    selected = run.record.all_selected_factors()
    assert [f"present_{n}" for n in selected] == [
        c for c in run.units.columns if c.startswith("present_")
    ]
    for model in run.record.models:
        lists = run.units[f"factors_{model}"].fillna("").str.split("; ")
        for name, mask in run.factor_presence(model).items():
            assert set(run.units[f"present_{name}"].unique()) <= {0, 1}
            assert (mask == lists.map(lambda items, x=labels[name]: x in items)).all()


def test_the_report_is_drawn_from_the_run_in_memory(monkeypatch, tmp_path, fresh):
    def no_reading(*args, **kwargs):
        raise AssertionError("the run folder was read back while it was written")

    read_file = gpd.read_file

    def inputs_only(path, *args, **kwargs):
        if Path(str(path)).name == "units.gpkg":
            no_reading()
        return read_file(path, *args, **kwargs)

    monkeypatch.setattr(folder, "load_run", no_reading)
    monkeypatch.setattr(gpd, "read_file", inputs_only)  # the inputs, never units.gpkg
    config = load_config(fresh / "config.toml")
    out = run_pipeline(config, tmp_path / "again")
    monkeypatch.undo()
    text = (out / "report.html").read_text(encoding="utf-8")
    assert "Risk Terrain Model" in text and "Forecast for" in text
    from rtm_core.results.report import render_report

    assert render_report(out) == text  # the same page as from the folder


def test_a_manifest_of_a_newer_schema_is_listed_damaged_with_its_fix(v1):
    manifest = json.loads((v1 / "manifest.json").read_text())
    (v1 / "manifest.json").write_text(json.dumps(manifest | {"schema": SCHEMA + 1}))
    (info,) = list_runs(v1.parent)
    assert info.status == "damaged"
    assert f"manifest schema {SCHEMA + 1}" in info.problem and "update rtm" in info.problem


def test_metrics_must_be_an_object():
    with pytest.raises(ValueError, match="not an object"):
        Metrics.from_json([1, 2])
    metrics = Metrics.from_json({"dl": {"test": {"pai": {"0.05": 2.0}}}, "odd": 3})
    assert metrics.names == ("dl",)
    assert metrics.readout("dl", "test", "pai") == {
        "0.01": None,
        "0.05": 2.0,
        "0.10": None,
        "z2": None,
    }


def test_a_failed_run_records_its_typed_manifest(tmp_path):
    manifest = Manifest(label="x", name="r", created=5.0, seeds=(0, 1), seed_root=3)
    write_failed_run(tmp_path / "r", manifest, "crimes.csv: no crimes")
    written = json.loads((tmp_path / "r" / "manifest.json").read_text())
    assert written == {
        "schema": SCHEMA,
        "label": "x",
        "name": "r",
        "created": 5.0,
        "config": {},
        "models": [],
        "seeds": [0, 1],
        "seed_root": 3,
        "versions": {},
        "status": "failed",
        "error": "crimes.csv: no crimes",
    }


def test_staging_over_a_failed_run_looks_at_it_once(tmp_path, monkeypatch):
    write_failed_run(tmp_path / "r", {"created": 1.0}, "first error")
    seen = []
    inspect = folder._inspect
    monkeypatch.setattr(folder, "_inspect", lambda path: seen.append(path) or inspect(path))
    with staged_run(tmp_path / "r") as staging:
        (staging / "manifest.json").write_text("{}")
    assert len(seen) == 1
    assert json.loads((tmp_path / "r" / "manifest.json").read_text()) == {}


def test_models_are_a_list_of_keys_and_their_fits_are_kept_beside_them(v1):
    """manifest.json's ``models`` stays a list of keys; ``model_fits`` holds ``{"<model>":
    {family, dispersion, calibration}}``; older folders have none, nor the new run files."""
    fit = {"family": "negbin", "dispersion": 2.3, "calibration": "poisson quasi-likelihood"}
    new = Manifest.from_json({"models": ["classical", "dl"], "model_fits": {"classical": fit}})
    assert new.models == ("classical", "dl") and new.model_fits["classical"] == fit
    assert new.to_json()["models"] == ["classical", "dl"]
    assert new.to_json()["model_fits"] == {"classical": fit}
    old = Manifest.from_json({"models": ["dl", "classical"]})
    assert (old.models, dict(old.model_fits)) == (("dl", "classical"), {})
    assert old.to_json()["models"] == ["dl", "classical"] and "model_fits" not in old.to_json()
    run = load_run(v1)
    assert run.comparison is None and run.calibration is None
