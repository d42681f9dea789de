"""Continuous measures of a generator layer per unit: metres to the nearest generator and
kernel densities (points per km²) at each bandwidth.

:func:`layer_measures_chunk` is a pure function of (unit points, layer points, bandwidths,
kernel) so chunks can run anywhere (in process or as Dask tasks) and give the same numbers;
densities are searched in blocks of :data:`DENSITY_BLOCK` nearby units to bound memory near
dense layers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from scipy.spatial import cKDTree

from rtm_core.errors import InputError
from rtm_core.factors.neighbours import LayerIndex

__all__ = ["DENSITY_BLOCK", "LayerMeasures", "kernel_weights", "layer_measures_chunk"]

DENSITY_BLOCK = 4096  # units per pair search (bounds memory near dense layers)
GAUSSIAN_SIGMAS_PER_BANDWIDTH = 3.0  # Gaussian: sigma = bandwidth / 3, truncated at bandwidth


@dataclass(frozen=True)
class LayerMeasures:
    """Continuous measures of one layer for a chunk of units.

    Attributes
    ----------
    distance : ndarray of shape (n,)
        Metres to the nearest generator.
    density : ndarray of shape (n, n_bandwidths)
        Kernel density in points per km², one column per bandwidth.
    """

    distance: np.ndarray
    density: np.ndarray


def kernel_weights(distance: np.ndarray, bandwidth: float, kernel: str = "quartic") -> np.ndarray:
    """Kernel value per m² at ``distance`` for one point (0 beyond the bandwidth).

    Quartic (biweight): ``3 / (pi h²) (1 - (d/h)²)²`` for ``d < h``. Gaussian: normal with
    ``sigma = h / 3``, truncated at ``h`` (3 sigma, 1.1 % of the mass cut).

    Parameters
    ----------
    distance : ndarray
        Metres, >= 0.
    bandwidth : float
        Kernel radius ``h`` in metres, > 0.
    kernel : {"quartic", "gaussian"}

    Returns
    -------
    ndarray of float, shaped like ``distance``
        Weight per m² (integrates to 1 over the plane, up to the Gaussian's cut tail).
    """
    d = np.asarray(distance, dtype=float)
    h = float(bandwidth)
    outside = d >= h
    value = _kernel_inside(d, h, kernel)
    if outside.any():
        value[outside] = 0.0
    return value


def _kernel_inside(d: np.ndarray, h: float, kernel: str) -> np.ndarray:
    """:func:`kernel_weights` for distances known to be below ``h`` (a new array).

    The one place the kernels' arithmetic is written; the density loop calls it on pairs
    already cut to the bandwidth, so no cut is needed there.
    """
    if kernel == "quartic":
        value = d * d
        value *= 1.0 / (h * h)
        np.subtract(1.0, value, out=value)
        value *= value
        value *= 3.0 / (np.pi * h * h)
    elif kernel == "gaussian":
        sigma = h / GAUSSIAN_SIGMAS_PER_BANDWIDTH
        value = np.exp(-0.5 * (d / sigma) ** 2) / (2.0 * np.pi * sigma * sigma)
    else:
        raise InputError(
            "features", "kernel", f"unknown kernel {kernel!r}", 'use "quartic" or "gaussian"'
        )
    return value


def layer_measures_chunk(
    unit_xy: np.ndarray,
    layer_xy: np.ndarray,
    bandwidths: Sequence[float],
    *,
    kernel: str = "quartic",
    geometry: np.ndarray | None = None,
    want_distance: bool = True,
    want_density: bool = True,
    index: LayerIndex | None = None,
) -> LayerMeasures:
    """Distance to nearest and kernel densities for a chunk of units (a pure function).

    Parameters
    ----------
    unit_xy : ndarray of shape (n, 2)
        Unit representative points, metres.
    layer_xy : ndarray of shape (m, 2)
        Generator points, duplicates kept (they add to densities, not to distances).
    bandwidths : sequence of float
        Metres; one density column each.
    kernel : {"quartic", "gaussian"}
    geometry : ndarray of shapely geometries, optional
        Lines/polygons for distance-to-nearest-geometry (else distance to points).
    want_distance, want_density : bool
        Skip what is not needed (the skipped array is filled with NaN).
    index : LayerIndex, optional
        Prebuilt neighbour structures of ``layer_xy`` / ``geometry`` (built here if absent).

    Returns
    -------
    LayerMeasures
    """
    unit_xy = np.asarray(unit_xy, dtype=float).reshape(-1, 2)
    n = len(unit_xy)
    distance = np.full(n, np.nan)
    density = np.full((n, len(bandwidths)), np.nan)
    if n == 0:
        return LayerMeasures(distance, density)
    if index is None:
        index = LayerIndex(layer_xy, geometry)
    if want_distance:
        if index.geometry is not None:
            _, dist = index.strtree.query_nearest(
                shapely.points(unit_xy), return_distance=True, all_matches=False
            )
            distance = np.asarray(dist, dtype=float)
        else:
            distance, _ = index.tree.query(unit_xy, k=1)
    if want_density and len(bandwidths):
        radius = float(max(bandwidths))
        # blocks of nearby units bound the pair list (a dense layer gives ~1,000 pairs per
        # unit at 800 m: 50,000 units at once would hold ~3 GB of pairs)
        for start in range(0, n, DENSITY_BLOCK):
            block = unit_xy[start : start + DENSITY_BLOCK]
            pairs = cKDTree(block).sparse_distance_matrix(index.tree, radius, output_type="ndarray")
            rows, d = pairs["i"], pairs["v"]
            # multiplicities: skipped when every location is one point (x * 1.0 == x)
            w = index.weight[pairs["j"]].astype(float) if np.any(index.weight > 1) else None
            del pairs
            # largest bandwidth first, shrinking the pair list as the radius falls
            for k in np.argsort(bandwidths)[::-1]:
                bandwidth = float(bandwidths[k])
                near = d < bandwidth
                if not near.all():
                    rows, d = rows[near], d[near]
                    w = None if w is None else w[near]
                values = _kernel_inside(d, bandwidth, kernel)
                if w is not None:
                    values *= w
                sums = np.bincount(rows, weights=values, minlength=len(block))
                density[start : start + len(block), k] = sums * 1e6
    return LayerMeasures(distance, density)
