"""A city published with Spanish column names, as the issue-17 analyst's was.

:func:`write_spanish_city` writes, into one folder, a small synthetic city
(:func:`rtm_core.synth.make_city`, moved near Bogotá: UTM 18N, lon ≈ -74.1, lat ≈ 4.6, with
the same distances):

- ``localidades.geojson``: four named districts in EPSG:4326, columns ``OBJECTID``,
  ``SHAPE__Area``, ``SHAPE__Length`` (measurements first, as ArcGIS exports them), ``NOMBRE``
  and ``CODIGO``; "La Candelaria" is a self-touching polygon (repaired, and named by its
  ``NOMBRE``).
- ``delitos.csv``: ``;``-separated with decimal commas; ``fecha_hecho`` first (ISO datetimes
  in UTC, ``…Z``), then ``longitud``, ``latitud``, ``tipo_delito``; two yearly periods.
- ``bares.csv``: ``;`` with decimal commas, ``nombre``, ``Latitud`` before ``Longitud``.
- ``paradas.csv``: ``;`` with decimal commas, ``id_parada``, ``lng``, ``lat``.

No column is named as the tool's defaults name them, and the first two columns of the crimes
are a date and a longitude: a guess by position takes x = the date, y = the longitude.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import Polygon, box

from rtm_core.synth import CRS as SYNTH_CRS
from rtm_core.synth import ORIGIN, PlantedSet, make_city

#: the city's CRS once moved (UTM zone 18N, metres) and the move from the synthetic city's
CITY_CRS = "EPSG:32618"
SHIFT = (600_000.0 - ORIGIN[0], 509_000.0 - ORIGIN[1])
SIZE = 4_000.0
#: the districts, bottom-left, bottom-right, top-left, top-right
DISTRICTS = ("La Candelaria", "Santa Fe", "Teusaquillo", "Chapinero")
INVALID_DISTRICT = "La Candelaria"
PLAN = (
    PlantedSet("bares", 30, 0, 0.0, "bares_dis_100", 2.0, ("distance",), (100, 200, 400)),
    PlantedSet("paradas", 25, 0, 0.0, None, 1.0, ("distance",), (100, 200, 400)),
)
CRIME_COLUMNS = ("fecha_hecho", "longitud", "latitud", "tipo_delito")


def _self_touching(x0: float, y0: float, x1: float, y1: float) -> Polygon:
    """A box whose ring visits its left edge's midpoint twice (an inverted hole)."""
    ym, w, h = (y0 + y1) / 2, x1 - x0, y1 - y0
    return Polygon(
        [
            (x0, y0),
            (x1, y0),
            (x1, y1),
            (x0, y1),
            (x0, ym),
            (x0 + w / 3, ym + h / 6),
            (x0 + w / 3, ym - h / 6),
            (x0, ym),
            (x0, y0),
        ]
    )


def _districts(area: Polygon) -> gpd.GeoDataFrame:
    """Four quadrants of the city's area (metres), the first self-touching."""
    x0, y0, x1, y1 = area.bounds
    xm, ym = (x0 + x1) / 2, (y0 + y1) / 2
    shapes = [
        _self_touching(x0, y0, xm, ym),
        box(xm, y0, x1, ym),
        box(x0, ym, xm, y1),
        box(xm, ym, x1, y1).intersection(area),  # the notch is cut from this one
    ]
    frame = gpd.GeoDataFrame(geometry=shapes, crs=CITY_CRS)
    valid = shapely.make_valid(frame.geometry.values)
    return gpd.GeoDataFrame(
        {
            "OBJECTID": [1, 2, 3, 4],
            "SHAPE__Area": np.round(shapely.area(valid), 7),
            "SHAPE__Length": np.round(shapely.length(valid), 7),
            "NOMBRE": list(DISTRICTS),
            "CODIGO": [17, 3, 13, 2],
        },
        geometry=shapes,
        crs=CITY_CRS,
    )


def _moved(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """A synthetic layer moved to the city's place (same distances, UTM 18N)."""
    assert str(frame.crs) == SYNTH_CRS
    moved = shapely.transform(frame.geometry.values, lambda xy: xy + np.array(SHIFT))
    return gpd.GeoDataFrame(frame.drop(columns="geometry"), geometry=moved, crs=CITY_CRS)


def _lonlat(frame: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    points = frame.to_crs("EPSG:4326").geometry
    return points.x.round(7).to_numpy(), points.y.round(7).to_numpy()


def write_spanish_city(folder: str | Path, seed: int = 0) -> dict[str, Path]:
    """Write the city (see the module docstring) into ``folder``.

    Returns
    -------
    dict of str to Path
        ``boundary``, ``crimes``, ``bares``, ``paradas``.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    city = make_city(seed, size=SIZE, plan=PLAN)
    rng = np.random.default_rng(seed + 1)
    area = _moved(city.boundary).geometry.iloc[0]
    paths = {
        "boundary": folder / "localidades.geojson",
        "crimes": folder / "delitos.csv",
        "bares": folder / "bares.csv",
        "paradas": folder / "paradas.csv",
    }
    _districts(area).to_crs("EPSG:4326").to_file(
        paths["boundary"], driver="GeoJSON", engine="pyogrio"
    )

    crimes = _moved(city.crimes)
    lon, lat = _lonlat(crimes)
    minutes = rng.integers(0, 24 * 60, len(crimes))
    when = pd.to_datetime(crimes["OCCUR_DATE"]) + pd.to_timedelta(minutes, unit="min")
    pd.DataFrame(
        {
            "fecha_hecho": when.dt.strftime("%Y-%m-%dT%H:%M:00Z"),
            "longitud": lon,
            "latitud": lat,
            "tipo_delito": rng.choice(["HURTO A PERSONAS", "LESIONES", "HOMICIDIO"], len(lon)),
        }
    ).to_csv(paths["crimes"], sep=";", decimal=",", index=False)

    lon, lat = _lonlat(_moved(city.generators["bares"]))
    pd.DataFrame(
        {"nombre": [f"Bar {i + 1}" for i in range(len(lon))], "Latitud": lat, "Longitud": lon}
    ).to_csv(paths["bares"], sep=";", decimal=",", index=False)
    lon, lat = _lonlat(_moved(city.generators["paradas"]))
    pd.DataFrame({"id_parada": np.arange(1, len(lon) + 1), "lng": lon, "lat": lat}).to_csv(
        paths["paradas"], sep=";", decimal=",", index=False
    )
    return paths
