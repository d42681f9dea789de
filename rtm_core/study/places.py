"""Place names: which named area (beat, neighbourhood, district ...) each unit lies in.

The names come from a polygon layer's name column: the optional ``[places]`` layer, else the
boundary's own polygons (a boundary of several districts) or the units' polygons. The column
is guessed when the config does not name it (:func:`guess_name_column`: by its name in several
languages and by its values), so a planner's brief can say "Risk concentrates in Centro and
San José" instead of listing unit ids. A unit takes the name of the polygon holding its
representative point, else of the nearest polygon within a small distance (a cell centre just
outside a ragged district edge), else "".
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from rtm_core.errors import InputError

__all__ = [
    "Places",
    "guess_name_column",
    "place_names",
    "unit_places",
    "label_points",
    "places_from_frame",
]

#: words of a column that holds a feature's name, best first (compared without accents)
NAME_WORDS = (
    "name", "nombre", "nom", "nome", "naam", "nazwa", "namn", "navn", "nimi", "isim", "ad",
    "label", "libelle", "bezeichnung", "denominacion", "designation", "titel", "title",
)  # fmt: skip
#: words of a column that holds a named area (used when no name word matches)
AREA_WORDS = (
    "neighborhood", "neighbourhood", "community", "district", "borough", "suburb", "ward",
    "beat", "precinct", "sector", "locality", "place", "area", "zone",
    "barrio", "colonia", "alcaldia", "delegacion", "municipio", "distrito", "comuna",
    "localidad", "cuadrante", "zona", "vereda", "parroquia", "corregimiento",
    "bairro", "regiao", "setor", "quartier", "arrondissement", "commune", "secteur",
    "bezirk", "stadtteil", "ortsteil", "gemeinde", "viertel", "kiez", "quartiere", "rione",
    "wijk", "buurt", "gemeente", "stadsdeel", "dzielnica", "stadsdel", "bydel", "mahalle",
    "barri", "districte",
)  # fmt: skip
#: words of a column that is an id, a code or a measure, never a name
NOT_NAME_WORDS = (
    "id", "fid", "gid", "oid", "objectid", "uuid", "code", "cod", "codigo", "cve", "clave",
    "num", "number", "numero", "no", "nr", "shape", "geom", "geometry", "length", "len",
    "perimeter", "perimetro", "superficie", "hectares", "km2", "date", "fecha", "datum",
)  # fmt: skip
_NUMBER = re.compile(r"^[+-]?\d+([.,]\d+)?$")
#: a name column's values: at most this long (median), else it is free text
_MAX_NAME_LENGTH = 60


def _words(column) -> list[str]:
    """A column name's words, lower-case without accents: ``"NomBarrio"`` -> nom, barrio."""
    text = unicodedata.normalize("NFKD", str(column))
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = re.sub(r"([a-z])([A-Z])", r"\1 \2", text)
    return [w for w in re.split(r"[^a-z0-9]+", text.lower()) if w]


def _looks_like_names(values: pd.Series) -> float | None:
    """How distinct a column's values are (share of distinct among the non-empty), or None
    when they do not read as names: mostly empty, numbers, without letters, or long text."""
    text = values.dropna().map(lambda v: str(v).strip())
    text = text[text != ""]
    if len(values) == 0 or len(text) < 0.8 * len(values):
        return None
    if text.str.match(_NUMBER).mean() > 0.2 or text.str.contains(r"[^\W\d_]").mean() < 0.8:
        return None
    if text.str.len().median() > _MAX_NAME_LENGTH:
        return None
    distinct = text.nunique() / len(text)
    return distinct if distinct >= 0.5 else None


def guess_name_column(frame: pd.DataFrame) -> str | None:
    """The column that names a layer's features (places), or None.

    A candidate's values must read as names: text in at least 80 % of the rows, with letters,
    not numbers or ids (at most 20 % number-like values), short (median up to 60
    characters) and mostly distinct (at least half of them distinct). Among candidates, a
    column named as a name in one of several languages comes first (``name``, ``nombre``,
    ``nom``, ``nome``, ``naam``, ``Bezeichnung`` ...), then one named as an area
    (``district``, ``barrio``, ``colonia``, ``quartier``, ``Bezirk``, ``wijk`` ...), then any
    other text column; a column whose name says id, code or number (``OBJECTID``,
    ``CVE_COL``, ``BEAT_NUM``) never. Ties go to the more distinct values, then to the
    earlier column.

    Parameters
    ----------
    frame : DataFrame
        The layer's attribute table (a geometry column is skipped).

    Returns
    -------
    str or None
    """
    geometry = getattr(frame, "_geometry_column_name", None)
    ranked = []
    for position, column in enumerate(frame.columns):
        if column == geometry or isinstance(frame[column].dtype, gpd.array.GeometryDtype):
            continue
        words = _words(column)
        if any(w in NOT_NAME_WORDS for w in words):
            continue
        distinct = _looks_like_names(frame[column])
        if distinct is None:
            continue
        if any(w in NAME_WORDS for w in words):
            kind = 0
        elif any(w in AREA_WORDS for w in words):
            kind = 1
        else:
            kind = 2
        ranked.append((kind, -distinct, position, str(column)))
    return min(ranked)[3] if ranked else None


def place_names(values: pd.Series, column: str) -> np.ndarray:
    """A name column's values as place names: text stripped, "" where missing; a number-like
    value reads with its column's name ("District 17" for ``District`` = 17).

    Parameters
    ----------
    values : Series
    column : str
        The column's name.

    Returns
    -------
    ndarray of str (object)
    """
    title = re.sub(r"[_\s]+", " ", str(column)).strip()
    title = title[:1].upper() + title[1:].lower() if title.isupper() else title

    def name(value) -> str:
        if value is None or (isinstance(value, float) and np.isnan(value)):
            return ""
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        text = str(value).strip()
        return f"{title} {text}" if _NUMBER.match(text) else text

    return np.array([name(v) for v in values], dtype=object)


@dataclass(frozen=True)
class Places:
    """Named areas of a study and the name of each unit's area.

    Attributes
    ----------
    frame : GeoDataFrame
        One row per named area: ``place`` and its polygon (working CRS), parts of the same
        name merged, in order of first appearance.
    column : str
        The name column read.
    source : str
        The layer it came from (its file and layer).
    guessed : bool
        Whether the column was guessed (not named in the config).
    units : ndarray of str (object)
        The place name of each unit, in unit order ("" where none).
    """

    frame: gpd.GeoDataFrame
    column: str
    source: str
    guessed: bool
    units: np.ndarray

    @property
    def note(self) -> str:
        """What the data summary says: the column, and how many units got a name."""
        how = "guessed" if self.guessed else "as configured"
        named = int((self.units != "").sum())
        return (
            f"place names from column '{self.column}' ({how}): {len(self.frame):,} places, "
            f"{named:,} of {len(self.units):,} units named"
        )


def places_from_frame(
    frame: gpd.GeoDataFrame, column: str | None, source: str
) -> tuple[gpd.GeoDataFrame, str, bool] | None:
    """The named areas of a polygon layer: ``place`` and geometry, one row per name.

    Parameters
    ----------
    frame : GeoDataFrame
        Polygons (in the working CRS).
    column : str or None
        The name column; None guesses it (:func:`guess_name_column`).
    source : str
        The layer's name, for messages.

    Returns
    -------
    (GeoDataFrame, str, bool) or None
        The areas, the column and whether it was guessed; None when no column is named and
        none is guessed, or no feature has a name.

    Raises
    ------
    InputError
        The layer is not polygons, or the named column is not in it.
    """
    family = set(frame.geom_type.dropna().str.replace("Multi", "", regex=False))
    if family - {"Polygon"}:
        raise InputError(
            source,
            "geometry",
            f"a places layer must hold polygons, got {', '.join(sorted(family)).lower()}s",
            "give the named areas (beats, neighbourhoods, districts) as polygons",
        )
    guessed = column is None
    column = guess_name_column(frame) if guessed else column
    if column is None:
        return None
    if column not in frame.columns:
        names = [str(c) for c in frame.columns if c != frame.geometry.name]
        raise InputError(
            source,
            "places.name",
            f"column {column!r} not found (columns: {', '.join(names) or 'none'})",
            "name the column that holds the places' names",
        )
    named = gpd.GeoDataFrame(
        {"place": place_names(frame[column], column)}, geometry=frame.geometry.values, crs=frame.crs
    )
    named = named[(named["place"] != "") & ~named.geometry.is_empty & named.geometry.notna()]
    if named.empty:
        return None
    merged = named.dissolve(by="place", sort=False, as_index=False)
    order = {name: k for k, name in enumerate(dict.fromkeys(named["place"]))}
    merged = merged.iloc[np.argsort([order[p] for p in merged["place"]], kind="stable")]
    return merged.reset_index(drop=True)[["place", "geometry"]], str(column), guessed


def unit_places(points: np.ndarray, areas: gpd.GeoDataFrame, reach: float) -> np.ndarray:
    """The place name of each unit: the area holding its representative point, else the
    nearest area within ``reach`` metres, else "".

    Parameters
    ----------
    points : ndarray of shape (n, 2)
        The units' representative points (working CRS).
    areas : GeoDataFrame
        ``place`` and polygons, as from :func:`places_from_frame`.
    reach : float
        Largest distance to an area a point outside every area is named by.

    Returns
    -------
    ndarray of str (object)
    """
    names = np.full(len(points), "", dtype=object)
    if len(points) == 0 or areas.empty:
        return names
    geoms = areas.geometry.values
    tree = shapely.STRtree(geoms)
    dots = shapely.points(np.asarray(points, dtype=float))
    hit_point, hit_area = tree.query(dots, predicate="intersects")
    first = np.full(len(points), -1)
    order = np.lexsort((hit_area, hit_point))  # the first area in layer order wins
    hit_point, hit_area = hit_point[order], hit_area[order]
    keep = np.r_[True, hit_point[1:] != hit_point[:-1]] if len(hit_point) else []
    first[hit_point[keep]] = hit_area[keep]
    missing = np.flatnonzero(first < 0)
    if missing.size and reach > 0:
        near_point, near_area = tree.query_nearest(dots[missing], max_distance=reach)
        _, taken = np.unique(near_point, return_index=True)  # one area per point (ties)
        first[missing[near_point[taken]]] = near_area[taken]
    found = first >= 0
    names[found] = areas["place"].to_numpy(dtype=object)[first[found]]
    return names


def label_points(areas: gpd.GeoDataFrame) -> np.ndarray:
    """Where each area's name is written on a map: a point inside it (its largest part).

    Parameters
    ----------
    areas : GeoDataFrame
        ``place`` and polygons.

    Returns
    -------
    ndarray of shape (n, 2)
        In the areas' CRS.
    """
    if areas.empty:
        return np.empty((0, 2))
    parts = []
    for geom in areas.geometry.values:
        pieces = list(getattr(geom, "geoms", [geom]))
        parts.append(max(pieces, key=lambda g: g.area))
    return shapely.get_coordinates(shapely.point_on_surface(np.array(parts, dtype=object)))
