"""Geometry repair: invalid polygons made valid (``shapely.make_valid``), polygon parts kept.

Published boundaries often hold self-touching rings, bow-ties or slivers that GEOS calls
invalid. They are repaired rather than refused; the note names each repaired feature (by its
name or id column, else its row number) and the change in area. Only a feature left with no
area after repair is refused.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from rtm_core.errors import InputError

__all__ = [
    "Repair",
    "repair_polygons",
    "repair_note",
    "unrepairable_features",
    "check_polygons",
    "feature_names",
    "name_column",
]

#: column names that name a feature, best first (compared lower-case), in the languages
#: boundaries come in
_NAME_HINTS = (
    "name",
    "nombre",
    "nom",
    "nome",
    "naam",
    "label",
    "etiqueta",
    "district",
    "distrito",
    "borough",
    "neighborhood",
    "neighbourhood",
    "barrio",
    "bairro",
    "colonia",
    "comuna",
    "localidad",
    "quartier",
    "ward",
    "precinct",
    "beat",
    "sector",
    "tract",
    "zone",
    "zona",
    "area",
    "code",
    "codigo",
    "id",
)
#: numeric columns that measure a feature (GIS exports add them): never its name
_MEASURES = ("shapearea", "shapelength", "shapeleng", "area", "length", "perimeter", "perimetro")


@dataclass(frozen=True)
class Repair:
    """One repaired feature.

    Attributes
    ----------
    feature : str
        How the feature is named in messages (``district 'Riverside'`` or ``row 3``).
    reason : str
        GEOS's reason it was invalid (e.g. "Ring Self-intersection").
    area_before, area_after : float
        Area in the layer's units before (as drawn) and after repair.
    """

    feature: str
    reason: str
    area_before: float
    area_after: float

    @property
    def change_pct(self) -> float | None:
        """Area change in percent of the area as drawn (None when that was 0, as a bow-tie's
        two halves cancel out)."""
        if self.area_before <= 0:
            return None
        return 100.0 * (self.area_after - self.area_before) / self.area_before


def name_column(frame: pd.DataFrame) -> str | None:
    """The column that names features, or None.

    A column with distinct, complete values: text columns before numbers (a district is
    named "Chapinero", not "SHAPE__Area 55676803.6"); among them, names that are a name/id
    hint ("name", "NOMBRE", "district", "barrio", ... "id") first, then names ending or
    starting with a hint, then any text column. Numbers that measure the feature
    (``SHAPE__Area``, ``Shape_Length``, ``perimeter``) never name it.
    """
    geometry = getattr(frame, "_geometry_column_name", None)
    columns = [c for c in frame.columns if c != geometry and _distinct(frame[c])]

    def rank(position: int, col) -> tuple | None:
        lower = str(col).lower()
        numeric = pd.api.types.is_numeric_dtype(frame[col])
        if numeric and "".join(ch for ch in lower if ch.isalnum()) in _MEASURES:
            return None
        level, index = 2, 0
        for i, hint in enumerate(_NAME_HINTS):
            if lower == hint:
                level, index = 0, i
                break
        else:
            for i, hint in enumerate(_NAME_HINTS):
                if lower.endswith(hint) or lower.startswith(hint):
                    level, index = 1, i
                    break
        if level == 2 and (numeric or not frame[col].map(lambda v: isinstance(v, str)).all()):
            return None  # a number with no name hint, or mixed values: not a name
        return (int(numeric), level, index, position)

    ranked = sorted((r, str(c)) for n, c in enumerate(columns) if (r := rank(n, c)) is not None)
    return ranked[0][1] if ranked else None


def _distinct(column: pd.Series) -> bool:
    if isinstance(column.dtype, gpd.array.GeometryDtype):
        return False
    return bool(column.notna().all() and column.is_unique)


def feature_names(frame: pd.DataFrame, rows: np.ndarray) -> list[str]:
    """Names of the features at ``rows`` (positions): ``<column> '<value>'`` or ``row <n>``.

    Row numbers count from 1, as a spreadsheet or a GIS attribute table shows them.

    Parameters
    ----------
    frame : DataFrame
        The layer (its name column is found with :func:`name_column`).
    rows : ndarray of int
        Row positions.

    Returns
    -------
    list of str
    """
    col = name_column(frame)
    if col is None:
        return [f"row {int(r) + 1}" for r in rows]
    values = frame[col].to_numpy()
    return [f"{col} {_show(values[int(r)])}" for r in rows]


def _show(value) -> str:
    return f"'{value}'" if isinstance(value, str) else str(value)


def _polygon_parts(geometry) -> shapely.Geometry:
    """The polygonal part of a geometry (a collection may mix polygons, lines, points)."""
    if geometry is None or geometry.is_empty:
        return shapely.Polygon()
    kind = shapely.get_type_id(geometry)
    if kind in (3, 6):  # Polygon, MultiPolygon
        return geometry
    if kind == 7:  # GeometryCollection
        parts = [g for g in shapely.get_parts(geometry) if shapely.get_type_id(g) in (3, 6)]
        polys = [p for part in parts for p in shapely.get_parts(part)]
        if not polys:
            return shapely.Polygon()
        return polys[0] if len(polys) == 1 else shapely.MultiPolygon(polys)
    return shapely.Polygon()


def _repair(frame: gpd.GeoDataFrame) -> tuple[np.ndarray, list[Repair], list[tuple[str, str]]]:
    """One ``make_valid`` per invalid polygon: the geometry with the repairable ones repaired,
    the repairs, and (name, GEOS reason) of each feature repair leaves with no area."""
    geometry = frame.geometry.values
    polygonal = np.isin(shapely.get_type_id(geometry), (3, 6))
    rows = np.flatnonzero(polygonal & ~shapely.is_valid(geometry))
    if not len(rows):
        return geometry, [], []
    fixed = geometry.copy()
    repairs, broken = [], []
    for row, name in zip(rows, feature_names(frame, rows), strict=True):
        before = geometry[row]
        after = _polygon_parts(shapely.make_valid(before))
        reason = shapely.is_valid_reason(before).split("[")[0].strip()  # no coordinates
        if after.is_empty or after.area <= 0:
            broken.append((name, reason))
            continue
        fixed[row] = after
        repairs.append(Repair(name, reason, abs(float(before.area)), float(after.area)))
    return fixed, repairs, broken


def check_polygons(frame: gpd.GeoDataFrame) -> tuple[list[Repair], list[str]]:
    """What repair would do to a layer, without refusing it: repairs and unrepairable features.

    Parameters
    ----------
    frame : GeoDataFrame
        Any layer (points and lines have nothing to repair).

    Returns
    -------
    repairs : list of Repair
        One per invalid polygon that repair keeps with some area.
    broken : list of str
        Names of the invalid polygons that repair would leave with no area.
    """
    _, repairs, broken = _repair(frame)
    return repairs, [name for name, _ in broken]


def unrepairable_features(frame: gpd.GeoDataFrame) -> list[str]:
    """Names of the invalid polygons that repair would leave with no area (all of them)."""
    return check_polygons(frame)[1]


def repair_polygons(
    frame: gpd.GeoDataFrame, *, source: str
) -> tuple[gpd.GeoDataFrame, list[Repair]]:
    """Repair a polygon layer's invalid features; valid ones are returned untouched.

    Parameters
    ----------
    frame : GeoDataFrame
        Polygons (a layer of points or lines is returned as it is).
    source : str
        Layer name for messages.

    Returns
    -------
    frame : GeoDataFrame
        A copy with repaired geometry (the input itself when nothing was invalid).
    repairs : list of Repair
        One per repaired feature.

    Raises
    ------
    InputError
        A feature has no area left after repair; the message names the first.
    """
    fixed, repairs, broken = _repair(frame)
    if broken:
        name, reason = broken[0]
        raise InputError(
            source,
            "geometry",
            f"{name} is not a valid polygon ({reason}) and repairing it leaves no area",
            "redraw that feature or remove it from the layer",
        )
    if not repairs:
        return frame, []
    out = frame.copy()
    out[frame.geometry.name] = gpd.GeoSeries(fixed, index=frame.index, crs=frame.crs)
    return out, repairs


def repair_note(repairs: list[Repair]) -> str:
    """One line for the read report: what was repaired and how much area changed."""
    if not repairs:
        return ""
    items = "; ".join(f"{r.feature}: {r.reason}, {_change(r)}" for r in repairs)
    plural = "polygon" if len(repairs) == 1 else "polygons"
    return f"repaired {len(repairs)} invalid {plural} ({items})"


def _change(repair: Repair) -> str:
    pct = repair.change_pct
    if pct is None:
        return f"area as drawn 0, now {repair.area_after:,.0f}"
    if abs(pct) < 0.05:
        return "area unchanged"
    return f"area {pct:+.1f}%"
