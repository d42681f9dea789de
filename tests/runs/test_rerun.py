"""Run folders re-run anywhere: config.toml in the public schema, inputs kept under inputs/."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import tomllib
from pathlib import Path

import pandas as pd
import pytest

from rtm_core.cli import main
from rtm_core.config import (
    InputsConfig,
    LayerSource,
    ModelConfig,
    demo_config,
    load_config,
    parse_config,
)
from rtm_core.config.toml import config_to_toml, iter_sources, map_sources
from rtm_core.errors import ConfigError
from rtm_core.runs.pipeline import run_pipeline
from rtm_core.runs.rerun import CONFIG_FILE, keep_inputs
from rtm_core.synth import make_city, write_city

QUICK = ModelConfig(seeds=2, burn_in_steps=150, prune_steps=150, random_state=3)


def _city(folder: Path):
    config = load_config(write_city(make_city(5, size=2_500.0), folder))
    return config.replace(model=QUICK)


def _same(a, b):
    """Configs equal apart from the file they were read from and how paths are spelled."""

    def resolved(config):
        config = map_sources(config, lambda s: dataclasses.replace(s, path=s.path.resolve()))
        return config.replace(source="")

    return resolved(a) == resolved(b)


def test_toml_round_trip_of_the_demo_and_a_city(tmp_path):
    demo = demo_config(seeds=3, loss="negbin")
    back = parse_config(tomllib.loads(config_to_toml(demo, base=tmp_path)), base=tmp_path)
    assert _same(back, demo)
    assert 'boundary = "<demo>"' in config_to_toml(demo, base=tmp_path)

    city = _city(tmp_path / "city")
    city = city.replace(inputs=InputsConfig(copy_max_mb=5.0))
    here = tmp_path / "elsewhere"
    here.mkdir()
    text = config_to_toml(city, base=here)
    assert "../city/" in text  # relative to where the TOML lives
    assert _same(parse_config(tomllib.loads(text), base=here), city)


def test_keep_inputs_copies_files_and_upload_bytes_and_references_large_ones(tmp_path):
    city = _city(tmp_path / "city")
    first = city.generators[0].source
    upload = LayerSource(data=Path(first.path).read_bytes(), name=first.path.name)
    generators = (dataclasses.replace(city.generators[0], source=upload), *city.generators[1:])
    config = city.replace(generators=generators)

    run = tmp_path / "run"
    run.mkdir()
    kept_config, kept = keep_inputs(config, run)
    for source in iter_sources(kept_config):
        assert source.data is None
        assert Path(source.path).is_file()
        assert Path(source.path).resolve().is_relative_to(run.resolve())
    assert {k.kept for k in kept} == {"copied"}
    assert kept_config.generators[0].source.path.name == first.path.name

    big = tmp_path / "run-big"
    big.mkdir()
    tiny_limit = city.replace(inputs=InputsConfig(copy_max_mb=1e-6))
    _, kept = keep_inputs(tiny_limit, big)
    assert {k.kept for k in kept} == {"referenced"}
    assert not (big / "inputs").exists()


def test_bad_copy_limit_is_one_clear_line(tmp_path):
    data = {
        "units": {"boundary": "b.gpkg"},
        "crimes": {"train_file": "a.csv", "test_file": "b.csv"},
        "generators": [{"name": "bars", "file": "bars.csv"}],
        "inputs": {"copy_max_mb": -1},
    }
    with pytest.raises(ConfigError, match=r"inputs\.copy_max_mb.*must be > 0"):
        parse_config(data, file="config.toml", base=tmp_path)


@pytest.mark.slow
def test_a_run_folder_reruns_after_its_inputs_moved(tmp_path, monkeypatch, capsys):
    """`rtm run RUN/config.toml --out NEW` from another directory reproduces the coefficients."""
    city = _city(tmp_path / "city")
    first = run_pipeline(city, tmp_path / "runs" / "first")
    assert (first / CONFIG_FILE).is_file()
    manifest = json.loads((first / "manifest.json").read_text())
    assert manifest["inputs_kept"] and all(k["kept"] == "copied" for k in manifest["inputs_kept"])

    shutil.move(tmp_path / "city", tmp_path / "moved-away")  # the original files are gone
    elsewhere = tmp_path / "somewhere" / "else"
    elsewhere.mkdir(parents=True)
    monkeypatch.chdir(elsewhere)
    config_path = os.path.relpath(first / CONFIG_FILE, elsewhere)
    assert main(["run", config_path, "--out", "again", "--quiet"]) == 0

    a = pd.read_csv(first / "coefficients.csv")
    b = pd.read_csv(elsewhere / "again" / "coefficients.csv")
    pd.testing.assert_frame_equal(a[["model", "variable"]], b[["model", "variable"]])
    assert (a["coef"] - b["coef"]).abs().max() <= 1e-9
    # the second run keeps its own copy too, so it can be repeated again
    assert (elsewhere / "again" / CONFIG_FILE).is_file()
    assert json.loads((elsewhere / "again" / "metrics.json").read_text()) == json.loads(
        (first / "metrics.json").read_text()
    )


def test_a_dask_run_records_its_seed_batches_and_reruns_in_process_exactly(tmp_path):
    """On Dask the DL seeds train in batches of 5; config.toml says so, so an in-process
    re-run trains the same batches and gives the same coefficients (not ~1e-7 apart)."""
    from rtm_core.cluster import dask_client

    city = _city(tmp_path / "city")
    city = city.replace(model=dataclasses.replace(QUICK, seeds=7, kinds=("dl",)))
    with dask_client(workers=2) as client:
        first = run_pipeline(city, tmp_path / "on-dask", client=client)
    recorded = tomllib.loads((first / CONFIG_FILE).read_text())
    assert recorded["model"]["seed_batch"] == 5
    again = run_pipeline(load_config(first / CONFIG_FILE), tmp_path / "in-process")
    a = pd.read_csv(first / "coefficients.csv")
    b = pd.read_csv(again / "coefficients.csv")
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    # the batch size a config asks for is kept, and a bad one is refused with the fix
    text = config_to_toml(load_config(first / CONFIG_FILE), base=tmp_path)
    assert "seed_batch = 5" in text
    with pytest.raises(ConfigError, match=r"\[model.seed_batch\]: must be > 0"):
        parse_config({**tomllib.loads(text), "model": {"seed_batch": 0}}, base=tmp_path)
