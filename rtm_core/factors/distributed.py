"""Risk factors on a Dask cluster: the per-chunk feature function as Dask tasks.

The units are split into spatially compact chunks
(:func:`rtm_core.factors.features.spatial_chunks`, the same chunks as the in-process build);
the generator layers are small, so each layer's neighbour index
(:class:`rtm_core.factors.features.LayerIndex`: unique points, their ``cKDTree``, the
line/polygon geometries) is broadcast to every worker once instead of joining distributed
tables. One task per chunk computes every layer's continuous measures for its units; the
results come back in unit order and the densities are z-scored over all units in the client,
so the table equals the in-process :func:`rtm_core.factors.features.build_risk_factors` result bit
for bit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from rtm_core.errors import check_cancel
from rtm_core.factors.features import (
    LayerIndex,
    LayerMeasures,
    RiskFactors,
    _check_layer,
    assemble_risk_factors,
    build_risk_factors,
    check_kernel,
    layer_measures_chunk,
    layer_wants,
    spatial_chunks,
)
from rtm_core.study.generators import GeneratorLayer

__all__ = ["build_risk_factors_dask", "chunk_measures", "risk_factors"]


def chunk_measures(
    unit_xy: np.ndarray,
    indexes: Sequence[LayerIndex],
    specs: Sequence[tuple[tuple[float, ...], bool, bool]],
    kernel: str,
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Every layer's distance and densities for one chunk of units (a Dask task).

    Parameters
    ----------
    unit_xy : ndarray of shape (n, 2)
        The chunk's unit points.
    indexes : sequence of LayerIndex
        One per layer (broadcast to the worker).
    specs : sequence of (bandwidths, want_distance, want_density)
        One per layer.
    kernel : {"quartic", "gaussian"}

    Returns
    -------
    list of (distance, density)
        One pair per layer: shapes ``(n,)`` and ``(n, n_bandwidths)``.
    """
    out = []
    for index, (bandwidths, want_distance, want_density) in zip(indexes, specs, strict=True):
        part = layer_measures_chunk(
            unit_xy,
            None,
            bandwidths,
            kernel=kernel,
            index=index,
            want_distance=want_distance,
            want_density=want_density,
        )
        out.append((part.distance, part.density))
    return out


def build_risk_factors_dask(
    unit_xy: np.ndarray,
    layers: Sequence[GeneratorLayer],
    client,
    *,
    kernel: str = "quartic",
    threshold: float = 2.0,
    chunk_size: int = 50_000,
    progress: Callable[[str, int, int], None] | None = None,
    cancel=None,
) -> RiskFactors:
    """Build every risk factor as Dask tasks on ``client`` (same result as in process).

    Parameters
    ----------
    unit_xy : ndarray of shape (n, 2)
        Unit representative points in the working CRS (metres).
    layers : sequence of GeneratorLayer
    client : dask.distributed.Client
        From :func:`rtm_core.cluster.dask_client`.
    kernel, threshold, chunk_size
        As in :func:`rtm_core.factors.features.build_risk_factors`.
    progress : callable, optional
        ``progress("chunks", done_chunks, total_chunks)``.
    cancel : object with ``is_set()``, optional
        Checked as chunks finish; pending tasks are cancelled.

    Returns
    -------
    RiskFactors
    """
    from dask.distributed import as_completed

    check_kernel(kernel)
    for layer in layers:
        _check_layer(layer)
    unit_xy = np.asarray(unit_xy, dtype=float)
    n = len(unit_xy)
    chunks = spatial_chunks(unit_xy, chunk_size)
    specs = [(tuple(layer.bandwidths), *layer_wants(layer).values()) for layer in layers]
    indexes = client.scatter(
        [LayerIndex(layer.points, layer.geometry) for layer in layers], broadcast=True
    )
    distance = [np.empty(n) for _ in layers]
    density = [np.empty((n, len(layer.bandwidths))) for layer in layers]
    futures = {}
    for k, idx in enumerate(chunks):
        # scatter each chunk's points (not inside the task graph), then one task per chunk
        points = client.scatter(unit_xy[idx], hash=False)
        futures[client.submit(chunk_measures, points, indexes, specs, kernel, pure=False)] = k
    done = 0
    try:
        for future in as_completed(futures):
            check_cancel(cancel)
            idx = chunks[futures[future]]
            for j, (dist, dens) in enumerate(future.result()):
                distance[j][idx] = dist
                density[j][idx] = dens
            future.release()
            done += 1
            if progress is not None:
                progress("chunks", done, len(chunks))
    except BaseException:
        client.cancel([f for f in futures if not f.done()])
        raise
    measures = [LayerMeasures(d, k) for d, k in zip(distance, density, strict=True)]
    return assemble_risk_factors(n, layers, measures, threshold)


def risk_factors(
    unit_xy: np.ndarray, layers: Sequence[GeneratorLayer], client=None, **kwargs
) -> RiskFactors:
    """Risk factors on ``client`` when given, else in process (same result either way).

    Parameters
    ----------
    unit_xy : ndarray of shape (n, 2)
        Unit representative points in the working CRS (metres).
    layers : sequence of GeneratorLayer
    client : dask.distributed.Client, optional
        None builds in process with :func:`rtm_core.factors.features.build_risk_factors`.
    **kwargs
        ``kernel``, ``threshold``, ``chunk_size``, ``progress`` and ``cancel``, as in
        :func:`build_risk_factors_dask`. On a cluster ``progress`` is called as
        ``progress("chunk done/total", done, total)`` per finished chunk; in process as
        ``progress(layer_name, done_layers, total_layers)``.

    Returns
    -------
    RiskFactors

    Raises
    ------
    InputError
        An unknown kernel, an empty layer, or bad bandwidths or measures.
    Cancelled
        When ``cancel`` is set.
    """
    if client is None:
        return build_risk_factors(unit_xy, layers, **kwargs)
    if kwargs.get("progress") is not None:
        layer_progress = kwargs.pop("progress")
        kwargs["progress"] = lambda _name, done, total: layer_progress(
            f"chunk {done}/{total}", done, total
        )
    return build_risk_factors_dask(unit_xy, layers, client, **kwargs)
