"""Shared by the hardening tests: a small synthetic city to break one thing at a time.

The city (3 km square, 100 m cells, crimes of 2021 and 2022, five generator layers in CSV,
GeoJSON, zipped shapefile and GeoPackage) is written once per session and copied per test.
:func:`edit_config` rewrites its ``config.toml`` through a parsed dict, so a test changes one
key without depending on how the rest of the file is written.
"""

from __future__ import annotations

import json
import math
import shutil
import tomllib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from rtm_core.synth import make_city, write_city

#: model settings that make a full pipeline run take about a second
FAST_MODEL = {"kinds": ["dl"], "seeds": 1, "burn_in_steps": 20, "prune_steps": 20}


class MeanForest:
    """Stands in for the gradient-boosting baseline where a test is about faults, not models:
    it predicts the mean count everywhere (the real one takes seconds on a busy machine)."""

    def __init__(self, **kwargs):
        self.kwargs = kwargs

    def fit(self, features, y):
        self.mean_ = float(np.mean(y))
        return self

    def predict(self, features):
        return np.full(len(features), self.mean_)

    def recalibrate(self, predicted, y):
        return np.asarray(predicted, dtype=float)  # the mean is calibrated already


@pytest.fixture(scope="session")
def synth_template(tmp_path_factory) -> Path:
    """The synthetic city, written once (do not modify: copy it with ``synth_city``)."""
    folder = tmp_path_factory.mktemp("synth") / "city"
    write_city(make_city(0, size=3000.0), folder)
    return folder


@pytest.fixture
def synth_city(synth_template: Path, tmp_path: Path) -> Path:
    """A fresh copy of the synthetic city under ``tmp_path / "city"``."""
    folder = tmp_path / "city"
    shutil.copytree(synth_template, folder)
    return folder


def _value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)  # a TOML basic string
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {value!r} as TOML")


def dump_toml(data: dict) -> str:
    """TOML text for a run config (top-level tables and one array of tables)."""
    lines = []
    for section, table in data.items():
        tables = table if isinstance(table, list) else [table]
        for item in tables:
            lines.append(f"[[{section}]]" if isinstance(table, list) else f"[{section}]")
            lines += [f"{key} = {_value(value)}" for key, value in item.items()]
            lines.append("")
    return "\n".join(lines)


def edit_config(folder: Path, change: Callable[[dict], None]) -> Path:
    """Parse ``folder/config.toml``, let ``change`` mutate the dict, write it back."""
    path = folder / "config.toml"
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(dump_toml(data), encoding="utf-8")
    return path


def generator(data: dict, name: str) -> dict:
    """The ``[[generators]]`` table named ``name`` of a parsed config."""
    return next(g for g in data["generators"] if g["name"] == name)


def fast(folder: Path, **extra) -> Path:
    """Make the city's model quick to fit (one seed, a few steps); returns the config path."""
    return edit_config(folder, lambda data: data.__setitem__("model", {**FAST_MODEL, **extra}))
