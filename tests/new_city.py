"""A small city written as published open data looks, for the "your own city" tests.

:func:`write_new_city` writes, into one folder:

- ``boundary.gpkg``: three districts in EPSG:3435 (NAD83 Illinois East, US survey feet) with a
  ``district`` name column; "Riverside" is a self-touching polygon (an "inverted hole": its
  ring visits one vertex twice), valid for ESRI tools, invalid for GEOS.
- ``crimes.csv``: ``ID`` first, ``Case Number``, ``Date`` (ISO datetimes with the Chicago UTC
  offset, 2019-2023), ``Primary Type``, ``X Coordinate``/``Y Coordinate`` in feet (complete)
  and ``Latitude``/``Longitude`` with 41 gaps. Crimes cluster near the bars and bus stops.
- ``bars.csv``: ``;``-separated with decimal commas (``-87,70123``), as Excel writes in most
  of Europe and Latin America; lon/lat columns.
- ``bars.xlsx``: the same bars as an Excel sheet named "bars" (not used by the config).
- ``bus_stops.csv.gz``: gzipped CSV with x/y in feet and no CRS (it fits the boundary's).
- ``config.toml``: the same files as a run configuration ``rtm run`` accepts unchanged
  (quick model settings).
"""

from __future__ import annotations

import gzip
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import Polygon, box

#: the boundary's and the x/y columns' CRS (state plane, US survey feet)
FEET_CRS = "EPSG:3435"
#: the same zone in metres (what the working CRS should become)
METRE_CRS = "EPSG:26971"
N_CRIMES = 3000
N_LATLON_GAPS = 41
N_BARS = 18
N_STOPS = 45
#: the district whose polygon is invalid (self-touching ring)
INVALID_DISTRICT = "Riverside"


def _districts(x0: float, y0: float) -> gpd.GeoDataFrame:
    """Three districts over a 3 km x 2.5 km area (metres, EPSG:26971), one self-touching."""
    riverside = Polygon(
        [
            (1500, 0),
            (3000, 0),
            (3000, 1500),
            (1500, 1500),
            (1500, 750),
            (2000, 1000),
            (2000, 500),
            (1500, 750),
            (1500, 0),
        ]
    )
    shapes = [box(0, 1500, 3000, 2500), box(0, 0, 1500, 1500), riverside]
    moved = [Polygon([(x + x0, y + y0) for x, y in s.exterior.coords]) for s in shapes]
    return gpd.GeoDataFrame(
        {"district_id": [1, 2, 3], "district": ["North", "Old Town", INVALID_DISTRICT]},
        geometry=moved,
        crs=METRE_CRS,
    )


def _points_in(rng: np.random.Generator, n: int, area, bounds) -> np.ndarray:
    import shapely

    x0, y0, x1, y1 = bounds
    out = np.empty((0, 2))
    while len(out) < n:
        cand = rng.uniform((x0, y0), (x1, y1), size=(2 * n, 2))
        inside = shapely.contains_xy(area, cand[:, 0], cand[:, 1])
        out = np.vstack([out, cand[inside]])
    return out[:n]


def make_new_city(seed: int = 0) -> dict:
    """The city's layers in memory (metres, EPSG:26971) and its crimes table.

    Returns
    -------
    dict
        ``districts`` (GeoDataFrame), ``bars``, ``stops`` (arrays of shape (n, 2), metres),
        ``crimes`` (DataFrame with metre coordinates ``xm``/``ym`` and dates).
    """
    import shapely

    rng = np.random.default_rng(seed)
    origin = gpd.GeoSeries.from_xy([-87.72], [41.86], crs="EPSG:4326").to_crs(METRE_CRS)
    x0, y0 = float(origin.x.iloc[0]), float(origin.y.iloc[0])
    districts = _districts(x0, y0)
    area = shapely.make_valid(shapely.union_all(districts.geometry.values))
    bounds = area.bounds
    bars = _points_in(rng, N_BARS, area, bounds)
    stops = _points_in(rng, N_STOPS, area, bounds)
    n_bar = int(0.45 * N_CRIMES)
    n_stop = int(0.2 * N_CRIMES)
    near_bar = bars[rng.integers(0, len(bars), n_bar)] + rng.normal(0, 70, (n_bar, 2))
    near_stop = stops[rng.integers(0, len(stops), n_stop)] + rng.normal(0, 50, (n_stop, 2))
    anywhere = _points_in(rng, N_CRIMES - n_bar - n_stop, area, bounds)
    xy = np.vstack([near_bar, near_stop, anywhere])
    xy = xy[rng.permutation(len(xy))]
    start = pd.Timestamp("2019-01-01").value
    end = pd.Timestamp("2024-01-01").value
    stamps = pd.to_datetime(np.sort(rng.integers(start, end, len(xy))), unit="ns").floor("min")
    types = rng.choice(["BATTERY", "THEFT", "ASSAULT", "ROBBERY"], size=len(xy))
    crimes = pd.DataFrame({"xm": xy[:, 0], "ym": xy[:, 1], "when": stamps, "type": types})
    return {"districts": districts, "bars": bars, "stops": stops, "crimes": crimes}


def write_new_city(folder: str | Path, seed: int = 0) -> dict[str, Path]:
    """Write the test city (see the module docstring) into ``folder``.

    Returns
    -------
    dict of str to Path
        ``boundary``, ``crimes``, ``bars`` (``;`` CSV), ``bars_xlsx``, ``bus_stops``
        (``.csv.gz``) and ``config``.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    city = make_new_city(seed)
    paths = {
        "boundary": folder / "boundary.gpkg",
        "crimes": folder / "crimes.csv",
        "bars": folder / "bars.csv",
        "bars_xlsx": folder / "bars.xlsx",
        "bus_stops": folder / "bus_stops.csv.gz",
        "config": folder / "config.toml",
    }
    city["districts"].to_crs(FEET_CRS).to_file(
        paths["boundary"], layer="districts", engine="pyogrio"
    )

    crimes = city["crimes"]
    feet = gpd.GeoSeries.from_xy(crimes["xm"], crimes["ym"], crs=METRE_CRS).to_crs(FEET_CRS)
    lonlat = feet.to_crs("EPSG:4326")
    local = crimes["when"].dt.tz_localize("UTC").dt.tz_convert("America/Chicago")
    lat = lonlat.y.round(9).astype(object)
    lon = lonlat.x.round(9).astype(object)
    gaps = np.random.default_rng(seed + 1).choice(len(crimes), N_LATLON_GAPS, replace=False)
    lat.iloc[gaps] = None
    lon.iloc[gaps] = None
    table = pd.DataFrame(
        {
            "ID": np.arange(11_500_000, 11_500_000 + len(crimes)),
            "Case Number": [f"JD{100000 + i}" for i in range(len(crimes))],
            "Date": [t.isoformat() for t in local],
            "Primary Type": crimes["type"],
            "X Coordinate": feet.x.round(1),
            "Y Coordinate": feet.y.round(1),
            "Latitude": lat,
            "Longitude": lon,
        }
    )
    table.to_csv(paths["crimes"], index=False)

    bars_ll = gpd.GeoSeries.from_xy(city["bars"][:, 0], city["bars"][:, 1], crs=METRE_CRS)
    bars_ll = bars_ll.to_crs("EPSG:4326")
    bars = pd.DataFrame(
        {
            "name": [f"Bar {i + 1}" for i in range(len(bars_ll))],
            "longitude": bars_ll.x.round(7),
            "latitude": bars_ll.y.round(7),
            "capacity": np.linspace(20.5, 120.5, len(bars_ll)).round(1),
        }
    )
    bars.to_csv(paths["bars"], sep=";", decimal=",", index=False)
    bars.to_excel(paths["bars_xlsx"], sheet_name="bars", index=False)

    stops = gpd.GeoSeries.from_xy(city["stops"][:, 0], city["stops"][:, 1], crs=METRE_CRS)
    stops = stops.to_crs(FEET_CRS)
    stop_table = pd.DataFrame(
        {"stop_id": np.arange(1, len(stops) + 1), "X": stops.x.round(1), "Y": stops.y.round(1)}
    )
    with gzip.open(paths["bus_stops"], "wt", encoding="utf-8", newline="") as handle:
        stop_table.to_csv(handle, index=False)

    paths["config"].write_text(
        """# A city as published open data looks (tests/new_city.py): feet CRS, invalid polygon,
# ; CSV with decimal commas, gzipped CSV without CRS, ISO datetimes with UTC offsets.
[units]
kind = "grid"
boundary = "boundary.gpkg"
cell_size = 100

[crimes]
file = "crimes.csv"
x = "X Coordinate"
y = "Y Coordinate"
crs = "EPSG:3435"
date = "Date"
train = ["2022-01-01", "2022-12-31"]
test = ["2023-01-01", "2023-12-31"]

[[generators]]
name = "bars"
file = "bars.csv"
measures = ["distance"]
bandwidths = [100, 200, 300, 400]

[[generators]]
name = "bus_stops"
file = "bus_stops.csv.gz"
x = "X"
y = "Y"
measures = ["distance"]
bandwidths = [100, 200, 300]

[model]
kinds = ["dl", "classical"]
seeds = 2
burn_in_steps = 300
prune_steps = 300
""",
        encoding="utf-8",
    )
    return paths
