"""Thin caching wrappers around rtm_core calls, shared by every page.

Layers, studies and risk factors are cached as resources (read-only, never copied) under a
content key: the config's settings plus a hash of every upload's bytes or every file's
size and modification time. Map payloads are built once per run and option set.
"""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st

from rtm_app import maps, maps_large
from rtm_core.config import LayerSource, ModelConfig, RunConfig
from rtm_core.errors import RTMError
from rtm_core.factors.designs import build_features
from rtm_core.io import Layer, read_layer
from rtm_core.record.folder import MANIFEST_FILE, RunFiles, RunInfo, list_runs, load_run
from rtm_core.results.brief import make_brief
from rtm_core.results.comparison import RunComparison, run_comparison
from rtm_core.results.planner import planner_run
from rtm_core.results.run_change import PaiChange, pai_changes
from rtm_core.runs.jobs import JobManager
from rtm_core.study.load import Study, load_study

# --------------------------------------------------------------------------- keys


def source_key(source: LayerSource) -> str:
    """A content key of one layer source."""
    digest = hashlib.sha256()
    path = str(source.path) if source.path is not None else ""
    digest.update(repr((path, source.layer, source.x, source.y, source.crs, source.name)).encode())
    if source.data is not None:
        digest.update(source.data)
    elif source.path is not None and Path(source.path).is_file():
        stat = Path(source.path).stat()
        digest.update(f"{stat.st_size}:{stat.st_mtime_ns}".encode())
    return digest.hexdigest()


def config_key(config: RunConfig) -> str:
    """A content key of a config's data and feature settings (model settings ignored)."""
    config = config.replace(model=ModelConfig())
    sources = [
        config.units.boundary,
        config.units.source,
        config.crimes.source,
        config.crimes.train_source,
        config.crimes.test_source,
        *(g.source for g in config.generators),
        config.places.source,
    ]
    text = json.dumps(config.to_dict(), sort_keys=True, default=str)
    text += "|".join(source_key(s) for s in sources if s is not None)
    return hashlib.sha256(text.encode()).hexdigest()


# --------------------------------------------------------------------------- jobs


@st.cache_resource(show_spinner=False)
def job_manager() -> JobManager:
    """The server's one job manager (limit from ``RTM_MAX_JOBS``, default 2)."""
    return JobManager()


# --------------------------------------------------------------------------- data


@st.cache_resource(max_entries=48, show_spinner=False)
def _layer(key: str, _source: LayerSource) -> Layer:
    return read_layer(_source)


def layer(source: LayerSource) -> Layer:
    """:func:`rtm_core.io.read_layer`, cached by content."""
    return _layer(source_key(source), source)


@st.cache_data(max_entries=32, show_spinner=False)
def csv_columns(data: bytes) -> list[str]:
    """Column names of an uploaded CSV (its header line)."""
    try:
        header = pd.read_csv(io.BytesIO(data), nrows=5, sep=None, engine="python")
    except Exception:  # the full read gives the one-line error later
        return []
    return [str(c) for c in header.columns]


@st.cache_resource(max_entries=4, show_spinner="Reading layers and counting crimes...")
def _study(key: str, _config: RunConfig) -> Study:
    return load_study(_config)


def study(config: RunConfig) -> Study:
    """:func:`rtm_core.study.load.load_study`, cached by content."""
    return _study(config_key(config), config)


@st.cache_resource(max_entries=4, show_spinner="Building risk factors...")
def _factors(key: str, _config: RunConfig):
    return build_features(study(_config), _config.features)


def risk_factors(config: RunConfig):
    """:func:`rtm_core.study.load.build_features` for the config's study, cached by content."""
    return _factors(config_key(config), config)


@st.cache_resource(max_entries=8, show_spinner="Drawing the data...")
def _data_map(key: str, _named_frames, _all_names, online: bool):
    return maps.data_map(_named_frames, online=online, all_names=_all_names)


def data_map(key: str, named_frames: list, all_names: list[str], online: bool):
    """The Data page's preview map (cached under ``key``: the data set and layers shown)."""
    return _data_map(key, named_frames, all_names, online)


@st.cache_resource(max_entries=8, show_spinner="Drawing the risk factor...")
def _factor_map(key: str, variable: str, online: bool, _config: RunConfig):
    the_study = study(_config)
    factors = risk_factors(_config)
    table = factors.variables.set_index("name")
    set_name = table.loc[variable, "set"]
    generator = next((g for g in the_study.generators if g.name == set_name), None)
    points = None
    if generator is not None:
        import geopandas as gpd

        points = gpd.GeoDataFrame(
            geometry=gpd.points_from_xy(generator.points[:, 0], generator.points[:, 1]),
            crs=the_study.crs,
        )
    grid = the_study.units.grid
    return maps.factor_map(
        the_study.units.frame,
        factors.table[variable].to_numpy() == 1,
        cell_size=grid.cell_size if grid is not None else None,
        generator=points,
        label=str(table.loc[variable, "label"]),
        online=online,
    )


def factor_map(config: RunConfig, variable: str, online: bool):
    """Map of where one risk factor is present."""
    return _factor_map(config_key(config), variable, online, config)


# --------------------------------------------------------------------------- runs


def runs(parent: Path) -> list[RunInfo]:
    """Every run folder under ``parent`` (complete, failed or damaged), newest first."""
    return list_runs(parent)


def run_stamp(path: Path) -> float:
    """When a run folder last changed (its manifest's time): the key of cached drawings."""
    return _stamp(path)


def _stamp(path: Path) -> float:
    try:
        return (Path(path) / MANIFEST_FILE).stat().st_mtime
    except OSError:
        return 0.0


@st.cache_resource(max_entries=6, show_spinner="Loading the run...")
def _run(path: str, stamp: float) -> RunFiles:
    return load_run(path)


def run_files(path: Path) -> RunFiles:
    """:func:`rtm_core.record.folder.load_run`, cached until the folder changes."""
    return _run(str(path), _stamp(path))


@st.cache_resource(max_entries=6, show_spinner="Comparing the maps...")
def _comparison(path: str, stamp: float) -> RunComparison:
    return run_comparison(_run(path, stamp))


def comparison(run: RunFiles) -> RunComparison:
    """The run's comparison table (:func:`rtm_core.results.comparison.run_comparison`):
    ``comparison.csv``, or computed once for a run written before it."""
    return _comparison(str(run.path), _stamp(run.path))


@st.cache_resource(max_entries=4, show_spinner="Comparing the runs...")
def _pai_change(path_a: str, stamp_a: float, path_b: str, stamp_b: float) -> PaiChange:
    return pai_changes(_run(path_a, stamp_a), _run(path_b, stamp_b))


def pai_change(run_a: RunFiles, run_b: RunFiles) -> PaiChange:
    """:func:`rtm_core.results.run_change.pai_changes` of two runs, cached until either
    folder changes."""
    return _pai_change(str(run_a.path), _stamp(run_a.path), str(run_b.path), _stamp(run_b.path))


def cell_size(run: RunFiles) -> float | None:
    """Grid cell side of a grid run, else None."""
    return run.record.cell_size


def factor_labels(run: RunFiles, model: str) -> list[str]:
    """Readable labels of the model's selected factors, in set order."""
    labels = run.factor_labels()
    return [str(labels.get(name, name)) for name in run.record.selected_factors(model)]


def factor_masks(run: RunFiles, model: str) -> dict[str, np.ndarray]:
    """Selected factor label -> units where it is present (the ``present_<factor>`` columns)."""
    labels = run.factor_labels()
    return {str(labels.get(n, n)): mask for n, mask in run.factor_presence(model).items()}


FORECAST_SCORE = "Forecast (expected crimes)"


@st.cache_resource(max_entries=12, show_spinner="Drawing the map...")
def _score_map(
    path: str,
    stamp: float,
    model: str,
    column: str,
    overlays: tuple,
    online: bool,
    counts: bool = True,
    named: tuple = (),
):
    """A model's risk map (``risk_<model>``, with factor rings) or forecast map, with the
    named areas; without the crime counts (:func:`~rtm_core.results.planner.planner_run`)
    unless ``counts`` (the Brief page and planners draw none)."""
    run = _run(path, stamp) if counts else planner_run(_run(path, stamp))
    grid = run.record.grid
    forecast = column.startswith("forecast_")
    shown = {"column": column, "score_name": FORECAST_SCORE} if forecast else {}
    if maps_large.is_large(run.units, grid):  # blocks of cells, not 1M records
        areas = tuple(maps.areas_layers(run.places, named))
        return maps_large.large_risk_map(
            run.units, model, grid=grid, online=online, counts=counts, extra_layers=areas, **shown
        )[:2]
    masks = factor_masks(run, model) if overlays else {}
    return maps.risk_map(
        run.units,
        model,
        cell_size=cell_size(run),
        factor_labels=factor_labels(run, model),
        overlays={name: masks[name] for name in overlays if name in masks},
        online=online,
        counts=counts,
        places=run.places,
        named=named,
        **shown,
    )


def risk_map(
    path: Path, model: str, overlays: tuple[str, ...], online: bool, *, counts: bool = True
):
    """The Results page's risk map and its legend (``counts=False``: the Brief's, whose
    tooltips and data hold no crime counts)."""
    column = f"risk_{model}"
    return _score_map(str(path), _stamp(path), model, column, tuple(overlays), online, counts)


def forecast_map(path: Path, model: str, online: bool, *, counts: bool = True):
    """The forecast map (``forecast_<model>``) and its legend (``counts`` as in
    :func:`risk_map`)."""
    return _score_map(str(path), _stamp(path), model, f"forecast_{model}", (), online, counts)


@st.cache_resource(max_entries=6, show_spinner="Writing the brief...")
def _brief(path: str, stamp: float):
    return make_brief(_run(path, stamp))


def brief(path: Path):
    """The run's brief (:func:`rtm_core.results.brief.make_brief`), None without a model."""
    return _brief(str(path), _stamp(path))


def brief_map(path: Path, online: bool):
    """The Brief page's map: the brief's column, no crime counts, the areas named."""
    found = brief(path)
    named = tuple(p for p in found.places["place"] if p)
    stamp = _stamp(path)
    return _score_map(str(path), stamp, found.model, found.column, (), online, False, named)


def map_note(run: RunFiles | Path) -> str | None:
    """Caption of a large grid's block map (what it shows), None for a cell-by-cell map.

    Give the run the page already holds; a path is loaded (from the cache) first.
    """
    if not isinstance(run, RunFiles):
        run = run_files(run)
    grid = run.record.grid
    if not maps_large.is_large(run.units, grid):
        return None
    units = run.units
    factor = maps_large.block_factor(units["row"].to_numpy(), units["col"].to_numpy())
    return maps_large.map_note(len(units), float(grid["cell_size"]), factor)


@st.cache_resource(max_entries=4, show_spinner="Drawing the map...")
def _share_map(path: str, stamp: float, online: bool):
    run = _run(path, stamp)
    return maps.share_map(run.units, "top5_share_dl", cell_size=cell_size(run), online=online)


def share_map(path: Path, online: bool):
    """The Stability page's map of how often each unit is in the top 5 %."""
    return _share_map(str(path), _stamp(path), online)


def dataset_key(data) -> str:
    """A content key of a data set's layers and roles."""
    parts = [f"{role}:{name}:{source_key(source)}" for role, name, source in data.layers()]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


def layer_entries(data) -> tuple[list, list[Exception]]:
    """Read every layer of a data set: ``[(role, name, Layer)]`` and the errors met."""
    entries, errors = [], []
    for role, name, source in data.layers():
        try:
            entries.append((role, name, layer(source)))
        except RTMError as exc:
            errors.append(exc)
    return entries, errors


@st.cache_resource(show_spinner=False)
def cuda_available() -> bool:
    """Whether torch sees a CUDA device."""
    try:
        import torch

        return bool(torch.cuda.is_available())
    except Exception:
        return False
