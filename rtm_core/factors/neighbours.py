"""Neighbour structures shared by the in-process and the Dask risk-factor builds.

:class:`LayerIndex` holds a generator layer's unique points, their multiplicity and k-d tree
(and, built on first use, an STRtree of its lines/polygons), made once per layer and, on
Dask, broadcast once to every worker. :func:`spatial_chunks` cuts the units into spatially
compact chunks (Morton order), the unit of work of both builds.
"""

from __future__ import annotations

import numpy as np
import shapely
from scipy.spatial import cKDTree

__all__ = ["LayerIndex", "spatial_chunks"]


class LayerIndex:
    """Neighbour structures of one generator layer, built once and reused by every chunk.

    Holds the unique generator locations with their multiplicity and a ``cKDTree`` on them;
    for line/polygon layers an ``STRtree`` of the geometries is built on first use (and
    rebuilt after unpickling, so the index can be broadcast to Dask workers).

    Parameters
    ----------
    layer_xy : ndarray of shape (m, 2)
        Generator points, duplicates kept.
    geometry : ndarray of shapely geometries, optional
    """

    def __init__(self, layer_xy: np.ndarray, geometry: np.ndarray | None = None):
        layer_xy = np.asarray(layer_xy, dtype=float).reshape(-1, 2)
        self.unique_xy, self.weight = np.unique(layer_xy, axis=0, return_counts=True)
        self.tree = cKDTree(self.unique_xy)
        self.geometry = geometry
        self._strtree = None

    @property
    def strtree(self) -> shapely.STRtree:
        """STRtree of the line/polygon geometries (built on first use)."""
        if self._strtree is None:
            self._strtree = shapely.STRtree(self.geometry)
        return self._strtree

    def __getstate__(self):
        return {**self.__dict__, "_strtree": None}


def spatial_chunks(unit_xy: np.ndarray, chunk_size: int) -> list[np.ndarray]:
    """Unit positions split into chunks of nearby units (Morton / Z-order of the points).

    Every chunk's neighbour search then covers a compact patch of the study area. In-process
    and Dask builds use the same chunks, so their results are identical bit for bit.

    Parameters
    ----------
    unit_xy : ndarray of shape (n, 2)
    chunk_size : int
        Units per chunk (the last may be smaller).

    Returns
    -------
    list of ndarray of int64
        Positions into ``unit_xy``; together a permutation of ``range(n)``.
    """
    xy = np.asarray(unit_xy, dtype=float).reshape(-1, 2)
    n = len(xy)
    if n == 0:
        return []
    lo, span = xy.min(axis=0), np.ptp(xy, axis=0)
    cells = np.floor((xy - lo) / np.where(span > 0, span, 1.0) * 65535).astype(np.uint64)
    code = _spread_bits(cells[:, 0]) | (_spread_bits(cells[:, 1]) << np.uint64(1))
    order = np.argsort(code, kind="stable")
    return [order[i : i + chunk_size] for i in range(0, n, max(int(chunk_size), 1))]


def _spread_bits(v: np.ndarray) -> np.ndarray:
    """Put the 16 low bits of ``v`` on the even bit positions (Morton interleave)."""
    v = v & np.uint64(0xFFFF)
    for shift, mask in ((8, 0x00FF00FF), (4, 0x0F0F0F0F), (2, 0x33333333), (1, 0x55555555)):
        v = (v | (v << np.uint64(shift))) & np.uint64(mask)
    return v
