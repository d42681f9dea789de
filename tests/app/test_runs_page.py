"""Runs page: "Open config" shows the run's config.toml; "Run again" repeats it exactly."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from rtm_core.config import demo_config
from rtm_core.record.folder import list_runs
from rtm_core.runs.pipeline import run_pipeline

ROOT = Path(__file__).resolve().parents[2]
RUNS = "views/6_runs.py"


@pytest.fixture(scope="module")
def small_run(tmp_path_factory) -> Path:
    config = demo_config(kinds=("dl",), seeds=2, burn_in_steps=20, prune_steps=20)
    return run_pipeline(config, tmp_path_factory.mktemp("r") / "run-first", label="first")


def runs_page(runs_dir: Path) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    at.switch_page(RUNS).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_open_config_shows_the_kept_toml(runs_dir, small_run):
    shutil.copytree(small_run, runs_dir / "run-first")
    at = runs_page(runs_dir)
    next(t for t in at.toggle if t.label == "Open config").set_value(True).run()
    assert not at.exception
    text = at.code[0].value
    assert 'boundary = "<demo>"' in text and "burn_in_steps = 20" in text


def test_run_again_repeats_the_run_with_the_same_irrs(runs_dir, small_run):
    shutil.copytree(small_run, runs_dir / "run-first")
    at = runs_page(runs_dir)
    next(b for b in at.button if b.label == "Run again").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("again" in s.value for s in at.success)
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        done = [r for r in list_runs(runs_dir) if r.status == "complete"]
        if len(done) == 2:
            break
        time.sleep(1)
    again = next(r for r in list_runs(runs_dir) if r.name != "run-first")
    assert again.status == "complete" and again.label == "first (again)"
    a = pd.read_csv(small_run / "coefficients.csv")
    b = pd.read_csv(again.path / "coefficients.csv")
    assert list(a["variable"]) == list(b["variable"])
    assert (a["irr"] - b["irr"]).abs().max() <= 1e-9


def test_an_old_run_without_config_says_so(runs_dir, small_run):
    old = runs_dir / "run-old"
    shutil.copytree(small_run, old)
    (old / "config.toml").unlink()
    at = runs_page(runs_dir)
    next(b for b in at.button if b.label == "Run again").click().run()
    assert not at.exception
    assert any("keeps no config" in e.value for e in at.error)


V1 = ROOT / "tests" / "data" / "run_v1"  # written before the manifest had a schema


def test_a_run_of_the_earlier_format_is_listed_opened_and_compared(runs_dir, small_run):
    shutil.copytree(V1, runs_dir / "run_v1")
    shutil.copytree(small_run, runs_dir / "run-first")
    at = runs_page(runs_dir)
    listed = at.dataframe[0].value
    assert "v1 fixture" in listed.to_string() and "damaged" not in listed.to_string()
    selected = next(d.value for d in at.dataframe if {"A", "B", "same"} <= set(d.value.columns))
    assert {"bars", "liquor", "vacant", "transit", "graffiti"} <= set(selected["set"])
    pai = next(d.value for d in at.dataframe if {"run", "5 %"} <= set(d.value.columns))
    metrics = json.loads((V1 / "metrics.json").read_text())
    dl = pai[(pai["run"] == "A") & (pai["model"] == "Deep-learning RTM")]  # A: the older run
    assert dl["5 %"].tolist() == [metrics["dl"]["test"]["pai"]["0.05"]]
    for page in ("views/5_stability.py", "views/7_export.py"):
        at.switch_page(page).run()
        assert not at.exception, (page, [e.value for e in at.exception])
