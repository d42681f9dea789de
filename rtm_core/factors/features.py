"""RTM risk factors: distance-to-nearest and kernel-density dummies at many bandwidths.

For each generator layer (a *set*) and bandwidth ``d``:

- ``<set>_dis_<d>`` = 1 where the unit's point is within ``d`` metres of the nearest generator
  (unique locations; for line/polygon layers, the nearest geometry);
- ``<set>_kde_<d>`` = 1 where the kernel density of the generator points at bandwidth ``d``,
  z-scored over all units, exceeds the threshold (default 2). Duplicate points count.

Continuous values are kept as ``<set>_dist`` (metres) and ``<set>_density_<d>`` (points per
km²). One neighbour search per layer and chunk, at the largest bandwidth, serves every
bandwidth. :func:`layer_measures_chunk` is a pure function of (unit points, layer points,
bandwidths) so it runs unchanged as a Dask task (:mod:`rtm_core.factors.distributed`); units are
taken in spatially compact chunks (:func:`spatial_chunks`, Morton order) in process and on
Dask alike, so both give the same table bit for bit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd

from rtm_core.cluster import process_threads
from rtm_core.errors import InputError, check_cancel
from rtm_core.factors.measures import (
    LayerMeasures,
    kernel_weights,
    layer_measures_chunk,
)
from rtm_core.factors.neighbours import LayerIndex, spatial_chunks
from rtm_core.models.design import Design
from rtm_core.study.generators import GeneratorLayer

__all__ = [
    "LayerMeasures",
    "RiskFactors",
    "kernel_weights",
    "LayerIndex",
    "layer_measures_chunk",
    "spatial_chunks",
    "build_risk_factors",
    "assemble_risk_factors",
    "zscore_dummy",
]

KERNELS = ("quartic", "gaussian")


def zscore_dummy(values: np.ndarray, threshold: float = 2.0) -> np.ndarray:
    """1 where the z-score (population sd over all units) exceeds ``threshold``, else 0.

    A constant column (sd = 0) has z = 0 everywhere.

    Parameters
    ----------
    values : ndarray of shape (n,)
        One continuous measure per unit (e.g. a kernel density).
    threshold : float, default 2.0
        z-score above which a unit gets the dummy.

    Returns
    -------
    ndarray of int8, shape (n,)
    """
    values = np.asarray(values, dtype=float)
    sd = values.std()
    if not np.isfinite(sd) or sd == 0:
        return np.zeros(len(values), dtype=np.int8)
    z = (values - values.mean()) / sd
    return (z > threshold).astype(np.int8)


@dataclass(frozen=True)
class RiskFactors:
    """Risk factors for every unit.

    Attributes
    ----------
    table : DataFrame
        One row per unit: continuous measures and 0/1 dummies.
    variables : DataFrame
        One row per dummy: ``name, set, measure ("dis"/"kde"), bandwidth, prevalence, label``.
    continuous : DataFrame
        One row per continuous column: ``name, set, measure, bandwidth``.
    """

    table: pd.DataFrame
    variables: pd.DataFrame
    continuous: pd.DataFrame

    @property
    def dummy_names(self) -> list[str]:
        """Dummy column names in set order."""
        return self.variables["name"].tolist()

    @property
    def continuous_names(self) -> list[str]:
        """Continuous column names."""
        return self.continuous["name"].tolist()

    def labels(self) -> dict[str, str]:
        """Readable label per dummy, e.g. ``"liquor within 200 m"``."""
        return dict(zip(self.variables["name"], self.variables["label"], strict=True))

    def dummies_only(self) -> RiskFactors:
        """The same risk factors without the continuous measures (distances, densities).

        A run needs them only up to the baselines; at 1M units their float64 columns take
        about 0.5 GB, which writing the run folder can use instead.
        """
        table = self.table.drop(columns=self.continuous_names)
        return RiskFactors(table, self.variables, self.continuous.iloc[:0])

    @property
    def in_model(self) -> pd.Series:
        """Per dummy (aligned with :attr:`variables`), whether it enters the models.

        A dummy present in no unit or in every unit carries no information and is left out.
        """
        return self.variables["prevalence"].between(0, 1, inclusive="neither")

    def design(self, covariates: pd.DataFrame | None = None) -> Design:
        """The model matrix: dummies that vary across units, grouped by set.

        Dummies that are constant (all 0 or all 1) carry no information and are left out.

        Parameters
        ----------
        covariates : DataFrame, optional
            Covariates (one row per unit, numeric): always in the model, any sign.
        """
        varying = self.variables[self.in_model]
        X = self.table[varying["name"]].to_numpy(dtype=np.uint8)  # 0/1 dummies
        if covariates is None or covariates.shape[1] == 0:
            return Design(X, tuple(varying["name"]), tuple(varying["set"]))
        return Design(
            X,
            tuple(varying["name"]),
            tuple(varying["set"]),
            covariates=covariates.to_numpy(dtype=float),
            covariate_names=tuple(map(str, covariates.columns)),
        )


def build_risk_factors(
    unit_xy: np.ndarray,
    layers: Sequence[GeneratorLayer],
    *,
    kernel: str = "quartic",
    threshold: float = 2.0,
    chunk_size: int = 50_000,
    progress: Callable[[str, int, int], None] | None = None,
    cancel=None,
) -> RiskFactors:
    """Build every risk factor of every layer for the units.

    Parameters
    ----------
    unit_xy : ndarray of shape (n, 2)
        Unit representative points in the working CRS (metres).
    layers : sequence of GeneratorLayer
    kernel : {"quartic", "gaussian"}
    threshold : float
        z-score above which a density dummy is 1.
    chunk_size : int
        Units per neighbour search (memory stays bounded on large grids). Chunks run on
        :func:`rtm_core.cluster.process_threads` threads; the table is the same for any count.
    progress : callable, optional
        ``progress(layer_name, done_layers, total_layers)``.
    cancel : object with ``is_set()``, optional

    Returns
    -------
    RiskFactors
    """
    check_kernel(kernel)
    unit_xy = np.asarray(unit_xy, dtype=float)
    chunks = spatial_chunks(unit_xy, chunk_size)
    threads = max(1, min(process_threads(), len(chunks)))
    measures = []
    for done, layer in enumerate(layers):
        check_cancel(cancel)
        if progress is not None:
            progress(layer.name, done, len(layers))
        _check_layer(layer)
        measures.append(_layer_measures(unit_xy, chunks, layer, kernel, threads, cancel))
    if progress is not None:
        progress("done", len(layers), len(layers))
    return assemble_risk_factors(len(unit_xy), layers, measures, threshold)


def _layer_measures(unit_xy, chunks, layer, kernel, threads, cancel) -> LayerMeasures:
    """One layer's measures for every unit, its chunks on ``threads`` threads.

    The neighbour searches and the array arithmetic release the GIL, so chunks run side by
    side; each writes its own units, so the result does not depend on the thread count.
    """
    index = LayerIndex(layer.points, layer.geometry)
    wants = layer_wants(layer)
    if layer.geometry is not None and wants["want_distance"]:
        _ = index.strtree  # built once here, not by two threads at once
    distance = np.empty(len(unit_xy))
    density = np.empty((len(unit_xy), len(layer.bandwidths)))

    def measure(idx: np.ndarray) -> None:
        check_cancel(cancel)
        part = layer_measures_chunk(
            unit_xy[idx], None, layer.bandwidths, kernel=kernel, index=index, **wants
        )
        distance[idx] = part.distance
        density[idx] = part.density

    if threads == 1:
        for idx in chunks:
            measure(idx)
    else:
        pool = ThreadPoolExecutor(threads)
        try:
            for done in [pool.submit(measure, idx) for idx in chunks]:
                done.result()  # re-raises a chunk's error (or Cancelled)
        finally:  # after an error, chunks not yet started are dropped
            pool.shutdown(wait=True, cancel_futures=True)
    return LayerMeasures(distance, density)


def check_kernel(kernel: str) -> None:
    """Raise :class:`InputError` for a kernel other than quartic or gaussian."""
    if kernel not in KERNELS:
        raise InputError(
            "features", "kernel", f"unknown kernel {kernel!r}", 'use "quartic" or "gaussian"'
        )


def layer_wants(layer: GeneratorLayer) -> dict[str, bool]:
    """``want_distance`` / ``want_density`` of a layer, for :func:`layer_measures_chunk`."""
    return {"want_distance": "distance" in layer.measures, "want_density": "kde" in layer.measures}


def assemble_risk_factors(
    n: int,
    layers: Sequence[GeneratorLayer],
    measures: Sequence[LayerMeasures],
    threshold: float = 2.0,
) -> RiskFactors:
    """Risk factors from every unit's continuous measures (dummies; densities z-scored globally).

    Parameters
    ----------
    n : int
        Number of units.
    layers : sequence of GeneratorLayer
    measures : sequence of LayerMeasures
        One per layer, covering all ``n`` units in unit order.
    threshold : float
        z-score above which a density dummy is 1.

    Returns
    -------
    RiskFactors
    """
    columns: dict[str, np.ndarray] = {}
    variables, continuous = [], []
    for layer, measure in zip(layers, measures, strict=True):
        distance, density = measure.distance, measure.density
        if "distance" in layer.measures:
            name = f"{layer.name}_dist"
            columns[name] = distance
            continuous.append((name, layer.name, "distance", np.nan))
            for bandwidth in layer.bandwidths:
                dummy = f"{layer.name}_dis_{bandwidth}"
                columns[dummy] = (distance <= bandwidth).astype(np.int8)
                variables.append(
                    (dummy, layer.name, "dis", bandwidth, f"{layer.name} within {bandwidth} m")
                )
        if "kde" in layer.measures:
            for k, bandwidth in enumerate(layer.bandwidths):
                name = f"{layer.name}_density_{bandwidth}"
                columns[name] = density[:, k]
                continuous.append((name, layer.name, "kde", bandwidth))
                dummy = f"{layer.name}_kde_{bandwidth}"
                columns[dummy] = zscore_dummy(density[:, k], threshold)
                label = f"{layer.name} density high ({bandwidth} m)"
                variables.append((dummy, layer.name, "kde", bandwidth, label))
    # copy=False: the columns become the table as they are (no second copy of a large table)
    table = pd.DataFrame(columns, copy=False)
    var_frame = pd.DataFrame(variables, columns=["name", "set", "measure", "bandwidth", "label"])
    var_frame["prevalence"] = [float(table[v].mean()) if n else 0.0 for v in var_frame["name"]]
    cont_frame = pd.DataFrame(continuous, columns=["name", "set", "measure", "bandwidth"])
    return RiskFactors(table, var_frame, cont_frame)


def _check_layer(layer: GeneratorLayer) -> None:
    if len(layer.points) == 0:
        raise InputError(
            layer.name,
            None,
            "the generator layer is empty",
            "upload a layer with features or remove it",
        )
    if not layer.bandwidths:
        raise InputError(
            layer.name, "bandwidths", "is empty", "list at least one distance in metres"
        )
    bad = [b for b in layer.bandwidths if not b > 0]
    if bad:
        raise InputError(
            layer.name,
            "bandwidths",
            f"must be > 0 metres, got {bad[0]!r}",
            "use positive distances",
        )
    if not set(layer.measures) <= {"distance", "kde"} or not layer.measures:
        raise InputError(
            layer.name, "measures", f"unknown {layer.measures!r}", "use distance and/or kde"
        )
