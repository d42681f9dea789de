"""A synthetic city with planted risk factors, to prove that the models recover the truth.

:func:`make_city` lays a grid over a square city with a notch, scatters generator layers
(clustered or spread), builds their risk factors with the same code the tool uses, and draws
crimes for two periods from a Poisson model in which some sets act through one variable with a
known incident rate ratio and the others have no effect. :func:`write_city` saves it in a mix of
file formats with a ``config.toml`` and ``truth.json``.
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from rtm_core.config import (
    CrimesConfig,
    GeneratorConfig,
    HistoryConfig,
    LayerSource,
    RunConfig,
    UnitsConfig,
)
from rtm_core.config.toml import config_to_toml
from rtm_core.factors.features import build_risk_factors
from rtm_core.io.gdal import write_vector
from rtm_core.study.generators import GeneratorLayer
from rtm_core.study.units import grid_units

__all__ = ["PlantedSet", "SyntheticCity", "make_city", "write_city", "DEFAULT_PLAN"]

CRS = "EPSG:32616"  # UTM 16N (metres)
ORIGIN = (440_000.0, 4_630_000.0)
BANDWIDTHS = (50, 100, 200, 400, 800)
LAST_YEAR = 2022  # the test year; training is the year before, history the years before that
HISTORY_EFFECT = 0.5  # planted coefficient of log(1 + crimes in the unit the year before)
HOTSPOT_LOG_RATE = 1.5  # peak log-rate of the hot-spot surface of the first year
HOTSPOT_SPREAD = 400.0  # metres (standard deviation of each hot spot)
HOTSPOTS = 8


@dataclass(frozen=True)
class PlantedSet:
    """One generator layer of the synthetic city.

    Attributes
    ----------
    name : str
    n_points : int
    clusters : int
        0 for points spread uniformly, else the number of Gaussian clusters.
    spread : float
        Cluster standard deviation (metres).
    variable : str or None
        The planted variable (e.g. ``"bars_dis_200"``) or None for a set with no effect.
    irr : float
        Planted incident rate ratio of ``variable``.
    measures : tuple of str
        Risk factors built for the layer (as an analyst would choose per layer).
    bandwidths : tuple of int
        Metres.
    """

    name: str
    n_points: int
    clusters: int
    spread: float
    variable: str | None
    irr: float = 1.0
    measures: tuple[str, ...] = ("distance", "kde")
    bandwidths: tuple[int, ...] = BANDWIDTHS


# Planted effects are *identifiable*: no other dummy of the set flags a subset of the planted
# variable's units. Where one does (e.g. dis_50 inside a planted dis_200, both with the same
# rate), the two fit equally well in expectation and the deep-learning RTM's prune rule (largest
# coefficient) picks the subset; distance-only layers therefore start at their planted bandwidth.
DEFAULT_PLAN: tuple[PlantedSet, ...] = (
    PlantedSet("bars", 160, 0, 0.0, "bars_dis_100", 2.0, ("distance",), (100, 200, 400, 800)),
    PlantedSet("liquor", 60, 0, 0.0, "liquor_dis_200", 1.5, ("distance",), (200, 400, 800)),
    PlantedSet("vacant", 500, 6, 700.0, "vacant_kde_400", 1.8),
    PlantedSet("transit", 150, 0, 0.0, None),
    PlantedSet("graffiti", 1200, 10, 900.0, None),
)


@dataclass(frozen=True)
class SyntheticCity:
    """A generated city: layers (GeoDataFrames in :data:`CRS`) and the planted truth."""

    boundary: gpd.GeoDataFrame
    generators: dict[str, gpd.GeoDataFrame]
    crimes: gpd.GeoDataFrame
    truth: dict
    cell_size: float
    y_train: np.ndarray
    y_test: np.ndarray
    plan: tuple[PlantedSet, ...] = DEFAULT_PLAN
    periods: int = 2

    @property
    def lags(self) -> int:
        """History lags the written config uses: every year before the training year."""
        return self.periods - 2


def _boundary(size: float) -> shapely.Polygon:
    x0, y0 = ORIGIN
    notch = size * 0.25
    return shapely.Polygon(
        [
            (x0, y0),
            (x0 + size, y0),
            (x0 + size, y0 + size - notch),
            (x0 + size - notch, y0 + size - notch),
            (x0 + size - notch, y0 + size),
            (x0, y0 + size),
        ]
    )


def _scatter(plan: PlantedSet, area: shapely.Polygon, rng: np.random.Generator) -> np.ndarray:
    minx, miny, maxx, maxy = area.bounds
    out = np.empty((0, 2))
    while len(out) < plan.n_points:
        if plan.clusters == 0:
            pts = rng.uniform([minx, miny], [maxx, maxy], size=(plan.n_points * 2, 2))
        else:
            centres = rng.uniform([minx, miny], [maxx, maxy], size=(plan.clusters, 2))
            pick = rng.integers(0, plan.clusters, size=plan.n_points * 2)
            pts = centres[pick] + rng.normal(0.0, plan.spread, size=(plan.n_points * 2, 2))
        pts = pts[shapely.contains_xy(area, pts[:, 0], pts[:, 1])]
        out = np.vstack([out, pts])
    return np.round(out[: plan.n_points], 2)


def make_city(
    seed: int = 0,
    *,
    size: float = 12_000.0,
    cell_size: float = 100.0,
    intercept: float = float(np.log(0.8)),
    plan: tuple[PlantedSet, ...] = DEFAULT_PLAN,
    periods: int = 2,
    history_effect: float = HISTORY_EFFECT,
) -> SyntheticCity:
    """Generate a synthetic city with planted risk factors.

    Parameters
    ----------
    seed : int
        Seed of ``numpy.random.default_rng``; same seed, same city.
    size : float
        Side of the square city in metres (a quarter-side notch is cut from one corner).
    cell_size : float
        Grid cell side; crimes are drawn per cell of this grid.
    intercept : float
        Log rate of crimes per cell where no planted factor is present.
    plan : tuple of PlantedSet
    periods : int
        Yearly periods of crimes (the last two are training and test). 2 draws both years
        independently from the environment alone (the original city, unchanged). With more,
        the years before training are history and crimes follow a planted autoregression:

        - first year: ``log mu = intercept + env + hotspot``, with ``hotspot`` a surface of
          ``HOTSPOTS`` Gaussian bumps of peak ``HOTSPOT_LOG_RATE`` (the hot spots);
        - every later year: ``log mu = intercept + env + history_effect * log1p(y_prev)``, with
          ``y_prev`` the crimes in the same cell the year before.

        ``env`` (the planted generator effects) is constant across years; the hot spots persist
        through the history term. So a model with ``[history]`` (``hist1_unit`` = log1p of the
        cell's crimes in lag 1) has exactly the generating form: ``hist1_unit`` has coefficient
        ``history_effect``, every other history factor 0 (``truth["history"]``).
    history_effect : float
        The planted coefficient ``b`` (periods > 2).

    Returns
    -------
    SyntheticCity
    """
    rng = np.random.default_rng(seed)
    area = _boundary(size)
    boundary = gpd.GeoDataFrame({"name": ["synthetic city"]}, geometry=[area], crs=CRS)
    units = grid_units(boundary, cell_size)
    generators, layers = {}, []
    for item in plan:
        pts = _scatter(item, area, rng)
        generators[item.name] = gpd.GeoDataFrame(
            geometry=gpd.points_from_xy(pts[:, 0], pts[:, 1]), crs=CRS
        )
        layers.append(GeneratorLayer(item.name, pts, None, item.measures, item.bandwidths))
    factors = build_risk_factors(units.points, layers)
    eta = np.full(len(units), intercept)
    for item in plan:
        if item.variable is not None:
            eta += np.log(item.irr) * factors.table[item.variable].to_numpy()
    truth = {
        "intercept": intercept,
        "sets": {
            item.name: ({"variable": item.variable, "irr": item.irr} if item.variable else None)
            for item in plan
        },
    }
    if periods <= 2:
        rate = np.exp(eta)
        years = [rng.poisson(rate), rng.poisson(rate)]
    else:
        years = _history_years(units.points, eta, periods, history_effect, rng)
        truth["history"] = {
            "lags": periods - 2,
            "coefficients": {"hist1_unit": history_effect},
            "others": 0.0,
            "model": "log mu_t = intercept + env + b * log1p(y_(t-1) in the cell); first year: "
            "intercept + env + hot-spot surface",
            "first_year": LAST_YEAR - periods + 1,
        }
    first = LAST_YEAR - len(years) + 1
    crimes = _crime_points(units.points, cell_size, years, first, rng)
    return SyntheticCity(
        boundary, generators, crimes, truth, cell_size, years[-2], years[-1], plan, periods
    )


def _history_years(centres, eta, periods, effect, rng) -> list[np.ndarray]:
    """Counts per cell of each year under the planted autoregression (see :func:`make_city`)."""
    lo, hi = centres.min(axis=0), centres.max(axis=0)
    spots = rng.uniform(lo, hi, size=(HOTSPOTS, 2))
    gap2 = ((centres[:, None, :] - spots[None, :, :]) ** 2).sum(axis=2)
    hotspot = HOTSPOT_LOG_RATE * np.exp(-gap2 / (2 * HOTSPOT_SPREAD**2)).max(axis=1)
    years = [rng.poisson(np.exp(eta + hotspot))]
    for _ in range(periods - 1):
        years.append(rng.poisson(np.exp(eta + effect * np.log1p(years[-1]))))
    return years


def _crime_points(centres, cell_size, years, first_year, rng) -> gpd.GeoDataFrame:
    frames = []
    for year, counts in enumerate(years, start=first_year):
        cell = np.repeat(np.arange(len(centres)), counts)
        offset = rng.uniform(-0.49 * cell_size, 0.49 * cell_size, size=(len(cell), 2))
        xy = np.round(centres[cell] + offset, 2)
        day = rng.integers(0, 365, size=len(cell))
        dates = pd.Timestamp(f"{year}-01-01") + pd.to_timedelta(day, unit="D")
        frames.append(
            pd.DataFrame({"X": xy[:, 0], "Y": xy[:, 1], "OCCUR_DATE": dates.strftime("%Y-%m-%d")})
        )
    table = pd.concat(frames, ignore_index=True)
    return gpd.GeoDataFrame(table, geometry=gpd.points_from_xy(table["X"], table["Y"]), crs=CRS)


def write_city(city: SyntheticCity, out: str | Path) -> Path:
    """Write a city in a mix of formats with ``config.toml`` and ``truth.json``.

    Boundary: GeoPackage. Crimes: CSV with projected X/Y and a date column. Generators: the
    first as CSV with lon/lat, the second as GeoJSON (lon/lat), the third as a zipped
    shapefile, the rest as GeoPackage layers of one file.

    Parameters
    ----------
    city : SyntheticCity
        From :func:`make_city`.
    out : str or Path
        Folder to write into (created if missing; files of the same names are overwritten).

    Returns
    -------
    Path
        The config file, ``out / "config.toml"``.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    write_vector(city.boundary, out / "boundary.gpkg", layer="boundary")
    city.crimes.drop(columns="geometry").to_csv(out / "crimes.csv", index=False)
    sources = []
    for i, (name, frame) in enumerate(city.generators.items()):
        if i == 0:
            lonlat = frame.to_crs("EPSG:4326").geometry
            pd.DataFrame({"longitude": lonlat.x.round(7), "latitude": lonlat.y.round(7)}).to_csv(
                out / f"{name}.csv", index=False
            )
            sources.append(LayerSource(path=out / f"{name}.csv"))
        elif i == 1:
            write_vector(frame.to_crs("EPSG:4326"), out / f"{name}.geojson", driver="GeoJSON")
            sources.append(LayerSource(path=out / f"{name}.geojson"))
        elif i == 2:
            _write_zipped_shapefile(frame.assign(kind=name), out, name)
            sources.append(LayerSource(path=out / f"{name}.zip"))
        else:
            write_vector(frame.assign(kind=name), out / "generators.gpkg", layer=name)
            sources.append(LayerSource(path=out / "generators.gpkg", layer=name))
    config = RunConfig(
        units=UnitsConfig(
            kind="grid", boundary=LayerSource(path=out / "boundary.gpkg"), cell_size=city.cell_size
        ),
        crimes=CrimesConfig(
            source=LayerSource(path=out / "crimes.csv", x="X", y="Y", crs=CRS),
            date="OCCUR_DATE",
            train=("2021-01-01", "2021-12-31"),
            test=("2022-01-01", "2022-12-31"),
        ),
        generators=tuple(
            GeneratorConfig(item.name, source, tuple(item.measures), tuple(item.bandwidths))
            for item, source in zip(city.plan, sources, strict=True)
        ),
        history=HistoryConfig(lags=city.lags),
    )
    text = "# Synthetic city written by `rtm synth`; the planted truth is in truth.json.\n"
    path = out / "config.toml"
    path.write_text(text + config_to_toml(config, base=out), encoding="utf-8")
    (out / "truth.json").write_text(json.dumps(city.truth, indent=2), encoding="utf-8")
    return path


def _write_zipped_shapefile(frame: gpd.GeoDataFrame, out: Path, name: str) -> None:
    """``out/<name>.zip`` holding the shapefile ``<name>.shp`` and its sidecars."""
    shp_dir = out / f"_{name}_shp"
    shp_dir.mkdir(exist_ok=True)
    write_vector(frame, shp_dir / f"{name}.shp")
    with zipfile.ZipFile(out / f"{name}.zip", "w", zipfile.ZIP_DEFLATED) as archive:
        for part in sorted(shp_dir.iterdir()):
            archive.write(part, part.name)
            part.unlink()
    shp_dir.rmdir()
