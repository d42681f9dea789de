"""Shared fixtures: tiny layers written to ``tmp_path`` in every input format, and a tiny city.

Coordinates are in EPSG:26971 (NAD83 / Illinois East, metres), near the middle of Chicago, so
that the lon/lat and foot-based copies of the same points reproject onto known places.
"""

from __future__ import annotations

import functools
import os
import shutil
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from pyproj import Transformer
from shapely.geometry import LineString, Polygon, box

from rtm_core.config import LayerSource
from tests import hypothesis_profiles

hypothesis_profiles.load()


def _scan_for_components_once() -> None:
    """Streamlit looks through every installed package for custom components each time an
    AppTest is made (0.3-0.7 s of CPU each, hundreds of AppTests); a served app does it once at
    start. The installed packages do not change during a test session, so this process scans
    at its first AppTest (not at start-up: most test processes make none) and hands the result
    out again."""
    from streamlit.components.v2 import manifest_scanner

    scan = manifest_scanner.scan_component_manifests
    installed = functools.cache(lambda: tuple(scan()))
    manifest_scanner.scan_component_manifests = lambda max_workers=None: list(installed())


_scan_for_components_once()

#: the longest modules (wall seconds of one `make test` run, 2026-12-06), started first so that
#: the two workers of `make test` finish together instead of one waiting on a long module picked
#: up last. Browser modules (whose worker mostly waits on the server and Chromium) alternate with
#: modules that compute in the worker, so the two workers seldom wait on the same thing.
#: `make test` passes --no-loadscope-reorder: xdist would otherwise start the modules with the
#: most tests first, which put the longest browser walk on one worker at 454 s of 655.
LONGEST_FIRST = (
    "tests/browser/test_browser.py",  # 129
    "tests/backtest/test_backtest.py",  # 82
    "tests/browser/test_login_browser.py",  # 129
    "tests/test_planted_truth.py",  # 58
    "tests/browser/test_spanish_city_browser.py",  # 92
    "tests/test_planted_history.py",  # 55
    "tests/browser/test_new_city_browser.py",  # 72
    "tests/app/test_app_pages.py",  # 49
    "tests/browser/test_backtest_browser.py",  # 55
    "tests/hardening/test_faults.py",  # 46
    "tests/browser/test_results_browser.py",  # 51
    "tests/app/test_backtest_page.py",  # 44
    "tests/app/test_results_page.py",  # 31
    "tests/runs/test_rerun.py",  # 30
    "tests/app/test_data_page.py",  # 23
    "tests/test_cluster.py",  # 22
    "tests/results/test_report.py",  # 20
    "tests/hardening/test_catalogue.py",  # 20
    "tests/app/test_login_pages.py",  # 18
    "tests/factors/test_features_dask.py",  # 18
    "tests/runs/test_pipeline.py",  # 18
    "tests/models/test_dl.py",  # 16
    "tests/app/test_runs_page.py",  # 16
    "tests/models/test_dl_dask.py",  # 14
)


def pytest_collection_modifyitems(config, items):
    """Put the modules of :data:`LONGEST_FIRST` first, in that order (the rest as collected)."""
    rank = {name: k for k, name in enumerate(LONGEST_FIRST)}
    root = Path(str(config.rootpath))

    def key(item) -> int:
        module = Path(str(item.path)).relative_to(root).as_posix()
        return rank.get(module, len(rank))

    items.sort(key=key)  # stable: each module keeps its own order


WORK_CRS = "EPSG:26971"
X0, Y0 = 350_000.0, 570_000.0

#: The three points every format holds (working CRS, metres).
POINTS_XY = np.array([[X0 + 10, Y0 + 20], [X0 + 110, Y0 + 20], [X0 + 110, Y0 + 220]])
POINT_KINDS = ["bar", "shop", "bar"]

SHAPEFILE_PARTS = {".shp", ".shx", ".dbf", ".prj", ".cpg"}

_TO_LONLAT = Transformer.from_crs(WORK_CRS, "EPSG:4326", always_xy=True)
_TO_FEET = Transformer.from_crs(WORK_CRS, "EPSG:3435", always_xy=True)


def to_lonlat(xy: np.ndarray) -> np.ndarray:
    """EPSG:26971 metres -> (lon, lat) degrees."""
    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    return np.column_stack(_TO_LONLAT.transform(xy[:, 0], xy[:, 1]))


def to_feet(xy: np.ndarray) -> np.ndarray:
    """EPSG:26971 metres -> EPSG:3435 (Illinois East, US feet)."""
    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    return np.column_stack(_TO_FEET.transform(xy[:, 0], xy[:, 1]))


def points_frame(xy, crs: str = WORK_CRS, **columns) -> gpd.GeoDataFrame:
    """A point GeoDataFrame from an (n, 2) array."""
    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    return gpd.GeoDataFrame(columns, geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=crs)


def source_for(path: Path, from_bytes: bool, **kwargs) -> LayerSource:
    """A LayerSource for ``path``, either as the path or as upload bytes named like it."""
    if from_bytes:
        return LayerSource(data=Path(path).read_bytes(), name=Path(path).name, **kwargs)
    return LayerSource(path=Path(path), name=Path(path).name, **kwargs)


def zip_shapefile(shp: Path, out: Path, *, members: str | None = None, skip=(), extra=()) -> Path:
    """Zip the sidecar files of ``shp``.

    ``members`` replaces the stem of the names inside the zip, verbatim (it may hold a folder,
    ``..`` or a leading ``/``: ``ZipFile.write`` would clean those); ``skip`` leaves suffixes
    out; ``extra`` adds ``(name, bytes)`` members.
    """
    with zipfile.ZipFile(out, "w") as handle:
        for part in sorted(shp.parent.glob(shp.stem + ".*")):
            if part.suffix.lower() in skip or part.suffix.lower() not in SHAPEFILE_PARTS:
                continue
            name = (members or shp.stem) + part.suffix
            handle.writestr(zipfile.ZipInfo(name), part.read_bytes())
        for name, data in extra:
            handle.writestr(zipfile.ZipInfo(name), data)
    return out


# --------------------------------------------------------------------------- formats


@pytest.fixture
def tiny_points() -> gpd.GeoDataFrame:
    """Three points in EPSG:26971 with a ``kind`` column."""
    return points_frame(POINTS_XY, kind=POINT_KINDS)


@pytest.fixture
def layer_files(tmp_path: Path, tiny_points: gpd.GeoDataFrame) -> dict[str, tuple[Path, dict]]:
    """The same three points in every input format: ``{format: (path, LayerSource kwargs)}``."""
    folder = tmp_path / "layers"
    folder.mkdir()
    out: dict[str, tuple[Path, dict]] = {}

    csv_xy = folder / "points_xy.csv"
    pd.DataFrame({"x": POINTS_XY[:, 0], "y": POINTS_XY[:, 1], "kind": POINT_KINDS}).to_csv(
        csv_xy, index=False
    )
    out["csv_xy"] = (csv_xy, {"x": "x", "y": "y", "crs": WORK_CRS})

    lonlat = to_lonlat(POINTS_XY)
    csv_ll = folder / "points_lonlat.csv"
    pd.DataFrame({"kind": POINT_KINDS, "Latitude": lonlat[:, 1], "Longitude": lonlat[:, 0]}).to_csv(
        csv_ll, index=False, float_format="%.10f"
    )
    out["csv_lonlat"] = (csv_ll, {})

    geojson = folder / "points.geojson"
    tiny_points.to_crs("EPSG:4326").to_file(geojson, driver="GeoJSON", engine="pyogrio")
    out["geojson"] = (geojson, {})

    gpkg = folder / "layers.gpkg"
    tiny_points.to_file(gpkg, layer="points", engine="pyogrio")
    area = gpd.GeoDataFrame({"id": [1]}, geometry=[box(X0, Y0, X0 + 300, Y0 + 300)], crs=WORK_CRS)
    area.to_file(gpkg, layer="area", engine="pyogrio")
    out["gpkg"] = (gpkg, {"layer": "points"})

    shp = folder / "points.shp"
    tiny_points.to_file(shp, engine="pyogrio")
    out["shp"] = (shp, {})

    out["zip"] = (zip_shapefile(shp, folder / "points.zip"), {})
    return out


# --------------------------------------------------------------------------- tiny city


@dataclass(frozen=True)
class TinyCity:
    """A 600 m x 600 m study area cut in 200 m cells, with crimes and three generator layers.

    Cells (``unit_id = row * 3 + col``) have centres at X0 + 100/300/500, Y0 + 100/300/500.
    """

    folder: Path
    config: Path
    boundary: Path
    crimes: Path
    liquor: Path
    bars: Path
    streets: Path
    #: crimes per unit id 0..8, counted by hand from the rows written below
    y_train: tuple[int, ...] = (2, 0, 0, 0, 1, 0, 0, 0, 0)
    y_test: tuple[int, ...] = (0, 0, 0, 0, 1, 0, 0, 0, 2)


#: liquor stores (duplicate on purpose) in working metres; written as lon/lat
CITY_LIQUOR = np.array([[X0 + 100, Y0 + 100], [X0 + 100, Y0 + 100], [X0 + 420, Y0 + 100]])
#: one bar, written in EPSG:3435 (US feet)
CITY_BARS = np.array([[X0 + 500, Y0 + 500]])

CITY_TOML = """\
[units]
kind = "grid"
boundary = "data/boundary.gpkg"
cell_size = 200

[crimes]
file = "data/crimes.csv"
x = "x"
y = "y"
crs = "EPSG:26971"
date = "when"
train = ["2021-01-01", "2021-12-31"]
test = ["2022-01-01", "2022-12-31"]

[[generators]]
name = "liquor"
file = "data/liquor.csv"
bandwidths = [100, 250]

[[generators]]
name = "bars"
file = "data/bars.geojson"
bandwidths = [100, 250]

[[generators]]
name = "streets"
file = "data/streets.gpkg"
measures = ["distance"]
bandwidths = [100, 250]

[model]
seeds = 2
"""


def write_city(folder: Path) -> TinyCity:
    """Write the tiny city's layers and ``config.toml`` under ``folder``."""
    data = folder / "data"
    data.mkdir(parents=True)
    boundary = data / "boundary.gpkg"
    gpd.GeoDataFrame(
        {"name": ["city"]}, geometry=[box(X0, Y0, X0 + 600, Y0 + 600)], crs=WORK_CRS
    ).to_file(boundary, layer="area", engine="pyogrio")

    rows = [
        # training period 2021: two crimes in cell 0, one in cell 4, one outside the area
        (X0 + 50, Y0 + 50, "2021-02-01"),
        (X0 + 60, Y0 + 40, "2021-12-31 23:30"),
        (X0 + 310, Y0 + 290, "2021-06-15"),
        (X0 - 500, Y0 + 100, "2021-07-01"),
        # test period 2022: one in cell 4, two in cell 8
        (X0 + 310, Y0 + 290, "2022-01-01"),
        (X0 + 550, Y0 + 550, "2022-05-05"),
        (X0 + 560, Y0 + 540, "2022-12-31"),
        # in neither period, and an unreadable date
        (X0 + 50, Y0 + 50, "2020-06-01"),
        (X0 + 50, Y0 + 50, "not a date"),
    ]
    crimes = data / "crimes.csv"
    pd.DataFrame(rows, columns=["x", "y", "when"]).to_csv(crimes, index=False)

    liquor = data / "liquor.csv"
    lonlat = to_lonlat(CITY_LIQUOR)
    pd.DataFrame({"lon": lonlat[:, 0], "lat": lonlat[:, 1]}).to_csv(
        liquor, index=False, float_format="%.10f"
    )

    bars = data / "bars.geojson"
    feet = to_feet(CITY_BARS)
    points_frame(feet, crs="EPSG:3435", label=["bar"]).to_file(
        bars, driver="GeoJSON", engine="pyogrio"
    )

    streets = data / "streets.gpkg"
    gpd.GeoDataFrame(
        {"street": ["main"]},
        geometry=[LineString([(X0, Y0 + 300), (X0 + 600, Y0 + 300)])],
        crs=WORK_CRS,
    ).to_file(streets, engine="pyogrio")

    config = folder / "config.toml"
    config.write_text(CITY_TOML, encoding="utf-8")
    return TinyCity(folder, config, boundary, crimes, liquor, bars, streets)


@pytest.fixture
def tiny_city(tmp_path: Path) -> TinyCity:
    """A tiny city written under ``tmp_path / "city"``."""
    return write_city(tmp_path / "city")


def bowtie(x0: float = X0, y0: float = Y0, size: float = 600.0) -> Polygon:
    """A self-intersecting (invalid) polygon."""
    return Polygon([(x0, y0), (x0 + size, y0 + size), (x0 + size, y0), (x0, y0 + size)])


@pytest.fixture(autouse=True)
def _main_module_restored():
    """Put ``sys.modules["__main__"]`` back after each test.

    Streamlit's script runner (AppTest) installs the script it ran as ``__main__`` and leaves
    it there; a process pool or Dask ``LocalCluster`` started later in the same pytest
    process then spawns children that re-run that script (an ``AppTest.from_function``
    script fails there with ``NameError: __args``).
    """
    main = sys.modules.get("__main__")
    yield
    if main is not None:
        sys.modules["__main__"] = main


@pytest.fixture(scope="session")
def places_run_dir(tmp_path_factory) -> Path:
    """A small trained run with place names from a districts layer (tests/brief_run.py),
    shared by the brief, report, app and browser tests (trained once per test session, about
    20 s): copy it, never change it."""
    from tests.brief_run import places_run

    return made_once(tmp_path_factory, "places-run", places_run)


@pytest.fixture(scope="session")
def alices_run(tmp_path_factory) -> Path:
    """A department's run owned by alice@pd.example, with a forecast and the incidents kept
    (:func:`tests.department_run.department_run`), made once per session: copy it, never
    change it."""
    from tests.department_run import department_run

    return made_once(tmp_path_factory, "department", department_run)


def made_once(tmp_path_factory, name: str, make: Callable[[Path], Path]) -> Path:
    """What ``make(folder)`` writes, made once per test session even across the xdist worker
    processes of ``make test``: the first worker to ask makes it under a file lock in the
    session's base folder; the others wait for it and get the same path.

    Parameters
    ----------
    tmp_path_factory
        pytest's factory (its base folder is per worker; its parent is the session's).
    name : str
        The shared folder's name.
    make : callable
        ``make(folder) -> path`` writes into the (new) folder and returns what it made.

    Returns
    -------
    Path
        ``make``'s result; callers copy it before changing anything.
    """
    from filelock import FileLock

    base = tmp_path_factory.getbasetemp()
    root = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    folder, made = root / f"shared-{name}", root / f"shared-{name}.path"
    with FileLock(str(root / f"shared-{name}.lock")):
        if not made.is_file():
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True)
            made.write_text(str(make(folder)))
    return Path(made.read_text())
