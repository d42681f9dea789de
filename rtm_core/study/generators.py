"""Crime-generator layers of a study: each layer is one *set* of risk factors.

A :class:`GeneratorLayer` is what the study hands the risk-factor build: the layer's points
for densities (duplicates kept), its line or polygon geometries for distances, and the
measures and bandwidths the analyst asked for.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely

from rtm_core.config import DEFAULT_BANDWIDTHS
from rtm_core.study.units import representative_points

__all__ = ["GeneratorLayer"]


@dataclass(frozen=True)
class GeneratorLayer:
    """A crime-generator layer in the working CRS, ready for risk factors.

    Attributes
    ----------
    name : str
        Set name.
    points : ndarray of shape (m, 2)
        Points for densities (all points, duplicates kept; representative points of lines
        and polygons).
    geometry : ndarray of shapely geometries or None
        Line/polygon geometries for distance-to-nearest-geometry; None for point layers.
    measures : tuple of str
        "distance" and/or "kde".
    bandwidths : tuple of int
        Metres.
    """

    name: str
    points: np.ndarray
    geometry: np.ndarray | None
    measures: tuple[str, ...]
    bandwidths: tuple[int, ...]

    @classmethod
    def from_frame(
        cls,
        name: str,
        frame: gpd.GeoDataFrame,
        measures: Sequence[str] = ("distance", "kde"),
        bandwidths: Sequence[int] = DEFAULT_BANDWIDTHS,
    ) -> GeneratorLayer:
        """Build from a GeoDataFrame already in the working CRS.

        Parameters
        ----------
        name : str
            The layer's name (prefix of its variables, e.g. ``"bars"``).
        frame : GeoDataFrame
            Point, line or polygon features in the working CRS (metres). Points and
            multipoints count at every point; lines and polygons at their representative
            point.
        measures : sequence of {"distance", "kde"}
            Which dummies the layer makes.
        bandwidths : sequence of int
            Distances in metres (dummy cut-offs and kernel radii).

        Returns
        -------
        GeneratorLayer
        """
        geometry = frame.geometry.values
        type_id = shapely.get_type_id(geometry)
        if np.isin(type_id, (0, 4)).all():  # points and multipoints: every point counts
            points = shapely.get_coordinates(geometry)
            geoms = None
        else:
            # lines and polygons count at their representative point (a line's midpoint)
            points = shapely.get_coordinates(representative_points(geometry))
            geoms = np.asarray(geometry)
        return cls(name, points, geoms, tuple(measures), tuple(int(b) for b in bandwidths))
