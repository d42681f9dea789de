"""A run configuration written back as TOML in the public schema (what `rtm run` reads).

The inverse of :func:`rtm_core.config.parsing.parse_config`: ``parse_config(tomllib.loads(
config_to_toml(c, base)), base=base)`` gives ``c`` back (a property the tests check). Run
folders keep their configuration this way, so ``rtm run RUN/config.toml --out NEW`` repeats a
run from any directory.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import tomli_w

from rtm_core.config.settings import DEMO_PATH, LayerSource, RunConfig

__all__ = ["config_to_toml", "iter_sources", "map_sources"]


def iter_sources(config: RunConfig) -> Iterator[LayerSource]:
    """Every layer source of a configuration (boundary, units, crimes, generators, history,
    places).

    Parameters
    ----------
    config : RunConfig

    Yields
    ------
    LayerSource
    """
    units, crimes = config.units, config.crimes
    for source in (units.boundary, units.source, crimes.source):
        if source is not None:
            yield source
    for source in (crimes.train_source, crimes.test_source):
        if source is not None:
            yield source
    for generator in config.generators:
        yield generator.source
    yield from config.history.files
    if config.places.source is not None:
        yield config.places.source


def map_sources(config: RunConfig, change: Callable[[LayerSource], LayerSource]) -> RunConfig:
    """A copy of ``config`` with every layer source replaced by ``change(source)``.

    Parameters
    ----------
    config : RunConfig
    change : callable
        ``LayerSource -> LayerSource``.

    Returns
    -------
    RunConfig
    """

    def fix(source):
        return None if source is None else change(source)

    units = dataclasses.replace(
        config.units, boundary=fix(config.units.boundary), source=fix(config.units.source)
    )
    crimes = dataclasses.replace(
        config.crimes,
        source=fix(config.crimes.source),
        train_source=fix(config.crimes.train_source),
        test_source=fix(config.crimes.test_source),
    )
    generators = tuple(dataclasses.replace(g, source=change(g.source)) for g in config.generators)
    history = dataclasses.replace(
        config.history, files=tuple(change(s) for s in config.history.files)
    )
    places = dataclasses.replace(config.places, source=fix(config.places.source))
    return config.replace(
        units=units, crimes=crimes, generators=generators, history=history, places=places
    )


def _path_text(path: Path | None, base: Path | None) -> str:
    if path is None:
        return ""
    path = Path(path)
    if path.resolve() == DEMO_PATH.resolve():
        return "<demo>"
    if base is not None:
        try:
            return Path(os.path.relpath(path.resolve(), base.resolve())).as_posix()
        except ValueError:  # another drive (Windows)
            pass
    return path.resolve().as_posix()


def _source_keys(source: LayerSource, base: Path | None, prefix: str = "") -> dict:
    if source.path is None:
        raise ValueError(
            f"layer {source.label!r} has no file path; keep the uploaded bytes as a file first"
        )
    out = {f"{prefix}file": _path_text(source.path, base)}
    if source.layer:
        out[f"{prefix}layer"] = source.layer
    for key in ("x", "y", "crs"):
        value = getattr(source, key)
        if value:
            out[key] = value
    return out


def _without_defaults(value, default) -> dict:
    """Fields of a settings dataclass that differ from its defaults, as TOML values."""
    out = {}
    for f in dataclasses.fields(value):
        here = getattr(value, f.name)
        if here == getattr(default, f.name):
            continue
        out[f.name] = list(here) if isinstance(here, tuple) else here
    return out


def _places(config: RunConfig, base: Path | None) -> dict:
    """``[places]``: its file, layer and crs (no x/y: a polygon layer) and the name column."""
    places = config.places
    out = {}
    if places.source is not None:
        keys = _source_keys(places.source, base)
        out = {k: v for k, v in keys.items() if k in ("file", "layer", "crs")}
    if places.name is not None:
        out["name"] = places.name
    return out


def config_to_toml(config: RunConfig, base: str | Path | None = None) -> str:
    """The configuration as TOML text in the public schema.

    Parameters
    ----------
    config : RunConfig
        Every layer must have a file path (app uploads are written to files first).
    base : path, optional
        Folder the TOML file will live in: paths are written relative to it (absolute when
        ``None``). The embedded demo's file is written as ``"<demo>"``.

    Returns
    -------
    str
    """
    base = Path(base) if base is not None else None
    units = config.units
    doc: dict = {"units": {"kind": units.kind}}
    u = doc["units"]
    if units.kind == "grid":
        u["boundary"] = _path_text(units.boundary.path, base)
        if units.boundary.layer:
            u["boundary_layer"] = units.boundary.layer
        u["cell_size"] = units.cell_size
        u["keep"] = units.keep
    else:
        u |= _source_keys(units.source, base)
        if units.id_column:
            u["id"] = units.id_column
        if units.fixed_columns:
            u["fixed"] = list(units.fixed_columns)
    u["snap_distance"] = units.snap_distance
    if units.crs:
        u["crs"] = units.crs
    u["max_cells"] = units.max_cells

    crimes = config.crimes
    if crimes.source is not None:
        doc["crimes"] = _source_keys(crimes.source, base) | {
            "date": crimes.date,
            "train": list(crimes.train),
            "test": list(crimes.test),
        }
    else:
        doc["crimes"] = _source_keys(crimes.train_source, base, "train_") | _source_keys(
            crimes.test_source, base, "test_"
        )

    doc["generators"] = [
        {"name": g.name}
        | _source_keys(g.source, base)
        | {"measures": list(g.measures), "bandwidths": list(g.bandwidths)}
        for g in config.generators
    ]
    defaults = RunConfig(units=units, crimes=crimes, generators=config.generators)
    for section in ("features", "model", "report", "evaluation", "backtest", "inputs"):
        doc[section] = _without_defaults(getattr(config, section), getattr(defaults, section))
    history = config.history
    if history.enabled:
        doc["history"] = {
            "lags": history.lags,
            "bandwidths": list(history.bandwidths),
            "transform": history.transform,
        }
        if history.files:
            doc["history"]["files"] = [_source_keys(s, base) for s in history.files]
    doc["places"] = _places(config, base)
    doc = {k: v for k, v in doc.items() if v != {}}
    return tomli_w.dumps(doc)
