"""What a run folder holds, typed: ``manifest.json`` (:class:`Manifest`), ``metrics.json``
(:class:`Metrics`) and all its files together (:class:`RunFiles`).

``manifest.json`` is written with a ``schema`` version (:data:`SCHEMA`). A manifest without
one was written before the version existed (schema 1) and is still read: its ``seeds`` then
listed ``random_state ... random_state + K - 1``, while the deep-learning model trains seed
``k`` from ``numpy.random.SeedSequence(random_state, spawn_key=(k,))``, so the reader turns it
into what was trained (:attr:`Manifest.seed_root` and the spawn keys ``0 ... K - 1``).
Keys this version does not know are kept (:attr:`Manifest.extra`) and written back unchanged.

``metrics.json`` is ``{"<model or baseline>": {"train"|"test": {"<measure>": {"<key>": v}}}}``
with the read-out keys :data:`READOUT_KEYS` (shares of the area, then the z > 2 rule); they are
spelled here only.
"""

from __future__ import annotations

import copy
import platform
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from functools import cached_property
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from rtm_core import __version__

__all__ = [
    "SCHEMA",
    "AREA_KEYS",
    "Z2_KEY",
    "READOUT_KEYS",
    "READOUT_TEXT",
    "PERIODS",
    "Manifest",
    "Metrics",
    "RunFiles",
    "PRESENCE_PREFIX",
    "presence_column",
    "environment",
]

#: the manifest schema this version writes (1: no ``schema`` key, ``seeds`` offset by the root)
SCHEMA = 2
#: read-out keys of metrics.json: shares of the area flagged, then the z > 2 rule
AREA_KEYS = ("0.01", "0.05", "0.10")
Z2_KEY = "z2"
READOUT_KEYS = (*AREA_KEYS, Z2_KEY)
READOUT_TEXT = {"0.01": "1 %", "0.05": "5 %", "0.10": "10 %", Z2_KEY: "z > 2"}
PERIODS = ("train", "test")
#: units.gpkg column of a selected factor: 1 where it is present in the unit, else 0
PRESENCE_PREFIX = "present_"


def _mapping(value) -> dict:
    return dict(value) if isinstance(value, Mapping) else {}


def _records(value) -> tuple:
    return tuple(value) if isinstance(value, list | tuple) else ()


def _model_fits(value) -> dict:
    """The per-model fit records of ``model_fits`` (none in folders written before it)."""
    if not isinstance(value, Mapping):
        return {}
    return {str(m): _mapping(fit) for m, fit in value.items()}


def _int_or_none(value) -> int | None:
    try:
        return None if value is None or isinstance(value, bool) else int(value)
    except (TypeError, ValueError):
        return None


@dataclass(frozen=True)
class Manifest:
    """The contents of ``manifest.json``.

    Attributes
    ----------
    label, name : str
        The analyst's label and the run folder's name.
    created : float
        Seconds since the epoch.
    config : dict
        The run's configuration (``RunConfig.to_dict()``).
    models : tuple of str
        The RTM models of the run, in ``[model] kinds`` order.
    model_fits : dict
        Per model, how its counts were modelled: ``{"family": "poisson" | "negbin",
        "dispersion": float | None, "calibration": str}`` (``model_fits`` in the JSON; a
        manifest written before it, or before the models were fitted, has none).
    seeds : tuple of int
        The deep-learning seeds trained: seed ``k`` draws from
        ``numpy.random.SeedSequence(seed_root, spawn_key=(k,))``.
    seed_root : int or None
        The root of every seed (the model's ``random_state``).
    versions : dict
        Python and library versions (:func:`environment`).
    status : {"complete", "failed"} or None
        None while the run is being written.
    error : str or None
        Why a failed run failed.
    inputs, inputs_kept, crs, reads, counts, device, timings, n_units, unit_kind, measure,
    crimes, selected, forecast, history, grid
        As the pipeline records them (None when the run did not get that far or has none).
    owner : str or None
        The e-mail of the user who made the run (the app's login, ``rtm run --owner``);
        None for a run made without one (only admins see it when login is on).
    shared_with : tuple of str
        Who else may open it: ``"analysts"``, ``"planners"`` and/or e-mail addresses
        (:mod:`rtm_core.record.access` holds the rules; ``rtm share`` and the Runs page
        change it).
    schema : int
        The schema of the file it was read from (1 for folders written before it was kept);
        the fields always hold this version's meaning, and :meth:`to_json` writes
        :data:`SCHEMA`.
    extra : dict
        Keys this version does not know, kept as they were.
    """

    label: str = ""
    name: str = ""
    created: float = 0.0
    config: Mapping = field(default_factory=dict)
    models: tuple[str, ...] = ()
    model_fits: Mapping[str, Mapping] = field(default_factory=dict)
    seeds: tuple[int, ...] = ()
    seed_root: int | None = None
    versions: Mapping = field(default_factory=dict)
    inputs: Mapping | None = None
    inputs_kept: tuple[Mapping, ...] | None = None
    crs: str | None = None
    reads: tuple[Mapping, ...] | None = None
    counts: tuple[Mapping, ...] | None = None
    status: str | None = None
    error: str | None = None
    device: str | None = None
    timings: Mapping | None = None
    n_units: int | None = None
    unit_kind: str | None = None
    measure: str | None = None
    crimes: Mapping | None = None
    selected: Mapping[str, Mapping[str, str | None]] | None = None
    forecast: Mapping | None = None
    history: Mapping | None = None
    grid: Mapping | None = None
    owner: str | None = None
    shared_with: tuple[str, ...] = ()
    schema: int = SCHEMA
    extra: Mapping = field(default_factory=dict)

    @classmethod
    def begin(
        cls, config, *, label: str, name: str, created: float, owner: str | None = None
    ) -> Manifest:
        """The manifest of a run about to start (what a failed run still records).

        Parameters
        ----------
        config : RunConfig
        label : str
        name : str
            The run folder's name.
        created : float
            Seconds since the epoch.
        owner : str, optional
            The e-mail of the user making the run.

        Returns
        -------
        Manifest
        """
        model = config.model
        return cls(
            label=label,
            name=name,
            created=created,
            config=config.to_dict(),
            models=tuple(model.kinds),
            seeds=tuple(range(model.seeds)),
            seed_root=int(model.random_state),
            versions=environment(),
            owner=owner or None,
        )

    def to_json(self) -> dict:
        """The JSON object written to ``manifest.json`` (fields left None, and an empty
        ``shared_with``, are left out)."""
        out: dict[str, Any] = {"schema": SCHEMA}
        for f in fields(self):
            if f.name in ("schema", "extra"):
                continue
            value = getattr(self, f.name)
            if f.name == "model_fits":
                if not value:
                    continue
                value = {m: dict(fit) for m, fit in value.items()}
            if value is None or (f.name == "shared_with" and not value):
                continue
            if isinstance(value, tuple):
                value = list(value)
            out[f.name] = copy.deepcopy(value)
        for key, value in self.extra.items():
            out.setdefault(key, copy.deepcopy(value))
        return out

    @classmethod
    def from_json(cls, data: Mapping) -> Manifest:
        """Read a manifest object of this schema or of schema 1 (no ``schema`` key).

        Raises
        ------
        ValueError
            ``data`` is not an object, or was written by a newer version (schema above
            :data:`SCHEMA`).
        """
        if not isinstance(data, Mapping):
            raise ValueError("manifest is not an object")
        schema = _int_or_none(data.get("schema", 1)) or 1
        if schema > SCHEMA:
            raise ValueError(f"written by a newer rtm (manifest schema {schema}); update rtm")
        known = {f.name for f in fields(cls)}
        config = _mapping(data.get("config"))
        seeds = [s for s in _records(data.get("seeds")) if _int_or_none(s) is not None]
        seed_root = _int_or_none(data.get("seed_root"))
        if schema == 1:  # seeds listed root + k; what was trained is spawn key k of the root
            root = _int_or_none(_mapping(config.get("model")).get("random_state"))
            seed_root = root if root is not None else (int(seeds[0]) if seeds else None)
            seeds = list(range(len(seeds)))

        def optional(key, kind):
            value = data.get(key)
            return None if value is None else kind(value)

        return cls(
            label=str(data.get("label") or ""),
            name=str(data.get("name") or ""),
            created=float(data.get("created", 0.0)),
            config=config,
            models=tuple(str(m) for m in _records(data.get("models"))),
            model_fits=_model_fits(data.get("model_fits")),
            seeds=tuple(int(s) for s in seeds),
            seed_root=seed_root,
            versions=_mapping(data.get("versions")),
            inputs=optional("inputs", _mapping),
            inputs_kept=optional("inputs_kept", _records),
            crs=optional("crs", str),
            reads=optional("reads", _records),
            counts=optional("counts", _records),
            status=optional("status", str),
            error=optional("error", str),
            device=optional("device", str),
            timings=optional("timings", _mapping),
            n_units=_int_or_none(data.get("n_units")),
            unit_kind=optional("unit_kind", str),
            measure=optional("measure", str),
            crimes=optional("crimes", _mapping),
            selected=optional("selected", _mapping),
            forecast=optional("forecast", _mapping),
            history=optional("history", _mapping),
            grid=optional("grid", _mapping),
            owner=data["owner"] if isinstance(data.get("owner"), str) else None,
            shared_with=tuple(s for s in _records(data.get("shared_with")) if isinstance(s, str)),
            schema=schema,
            extra={k: v for k, v in data.items() if k not in known},
        )

    def updated(self, **values) -> Manifest:
        """A copy with ``values`` set (``dataclasses.replace``)."""
        return replace(self, **values)

    @property
    def cell_size(self) -> float | None:
        """Grid cell side (metres) of a grid run, else None."""
        grid = self.grid or {}
        return float(grid["cell_size"]) if "cell_size" in grid else None

    def selected_factors(self, model: str) -> list[str]:
        """Names of the variables ``model`` selected, in set order (none for a set left out)."""
        chosen = (self.selected or {}).get(model) or {}
        return [v for v in chosen.values() if v]

    def all_selected_factors(self) -> list[str]:
        """Names of the variables any model selected, each once, in model then set order."""
        return list(dict.fromkeys(v for m in self.selected or {} for v in self.selected_factors(m)))


@dataclass(frozen=True)
class Metrics:
    """The contents of ``metrics.json``: accuracy read-outs per model and baseline.

    Attributes
    ----------
    scores : dict
        ``{"<model or baseline>": {"train"|"test": {"<measure>": {"<key>": float or None}}}}``
        with keys from :data:`READOUT_KEYS`; measures ``hit_rate``, ``pai``, ``pei``,
        ``pei_star`` (and ``rri``).
    """

    scores: Mapping = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: Mapping) -> Metrics:
        """Read a ``metrics.json`` object; entries that are not objects are left out.

        Raises
        ------
        ValueError
            ``data`` is not an object.
        """
        if isinstance(data, Metrics):
            return data
        if not isinstance(data, Mapping):
            raise ValueError("metrics is not an object")
        scores = {
            str(name): {p: _mapping(v) for p, v in periods.items() if isinstance(v, Mapping)}
            for name, periods in data.items()
            if isinstance(periods, Mapping)
        }
        return cls(scores)

    def to_json(self) -> dict:
        """The JSON object written to ``metrics.json``."""
        return copy.deepcopy(dict(self.scores))

    @property
    def names(self) -> tuple[str, ...]:
        """Models and baselines scored, in the file's order."""
        return tuple(self.scores)

    def readout(self, name: str, period: str, measure: str) -> dict[str, float | None]:
        """One measure of one model or baseline at every read-out key (None where missing).

        Parameters
        ----------
        name : str
            Model or baseline key.
        period : {"train", "test"}
        measure : str
            "pai", "hit_rate", "pei", ...

        Returns
        -------
        dict
            Key of :data:`READOUT_KEYS` -> value.
        """
        values = _mapping(_mapping(self.scores.get(name, {}).get(period)).get(measure))
        return {key: values.get(key) for key in READOUT_KEYS}


@dataclass(frozen=True)
class RunFiles:
    """The contents of a complete run folder (read from it, or held by the run writing it).

    ``manifest`` and ``metrics`` are the JSON objects as written; :attr:`record` and
    :attr:`accuracy` read them as :class:`~rtm_core.record.manifest.Manifest` and
    :class:`~rtm_core.record.manifest.Metrics`. ``incidents`` is set only while a run that
    keeps incident locations is being written (the report draws them). ``places`` holds the
    named areas (``place`` and polygons, working CRS) of a run with place names, else None.
    ``comparison`` and ``calibration`` are None for a run folder written before
    ``comparison.csv`` and ``calibration.csv`` were kept.
    """

    path: Path
    manifest: dict
    coefficients: pd.DataFrame
    metrics: dict
    units: gpd.GeoDataFrame
    curves: pd.DataFrame
    conjunctive: pd.DataFrame
    stability: pd.DataFrame
    top_places: pd.DataFrame
    variables: pd.DataFrame
    incidents: pd.DataFrame | None = None
    places: gpd.GeoDataFrame | None = None
    comparison: pd.DataFrame | None = None
    calibration: pd.DataFrame | None = None

    @cached_property
    def record(self) -> Manifest:
        """The manifest, typed (a schema-1 manifest read as this version's)."""
        return Manifest.from_json(self.manifest)

    @cached_property
    def accuracy(self) -> Metrics:
        """The accuracy read-outs of ``metrics.json``, typed."""
        return Metrics.from_json(self.metrics)

    def factor_labels(self) -> dict[str, str]:
        """Variable name -> readable label (from ``variables.csv``)."""
        if not {"name", "label"} <= set(self.variables.columns):
            return {}
        return dict(zip(self.variables["name"], self.variables["label"], strict=True))

    def factor_presence(self, model: str) -> dict[str, np.ndarray]:
        """Selected variable of ``model`` -> boolean mask of the units where it is present.

        Read from the 0/1 columns ``present_<variable>``; a run folder written before they
        were kept has only ``factors_<model>`` (labels joined by ``"; "``), read instead.
        """
        names = self.record.selected_factors(model)
        columns = self.units.columns
        if all(presence_column(n) in columns for n in names):
            return {n: self.units[presence_column(n)].to_numpy() == 1 for n in names}
        text = f"factors_{model}"
        if text not in columns:
            return {}
        lists = self.units[text].fillna("").astype(str).str.split("; ")
        labels = self.factor_labels()
        return {
            n: lists.map(lambda items, x=str(labels.get(n, n)): x in items).to_numpy(dtype=bool)
            for n in names
        }


def presence_column(variable: str) -> str:
    """The ``units.gpkg`` column saying where a selected factor is present (0/1)."""
    return f"{PRESENCE_PREFIX}{variable}"


def environment() -> dict:
    """Versions of Python and the key libraries, for the manifest."""
    import sklearn
    import torch

    return {
        "rtm_core": __version__,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "geopandas": gpd.__version__,
        "torch": torch.__version__,
        "scikit-learn": sklearn.__version__,
        "platform": platform.platform(),
    }
