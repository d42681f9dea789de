"""A small trained run with place names from a ``[places]`` layer, for the brief's tests.

A synthetic city (3 km, four yearly periods, ``[history] lags = 2``) with a districts layer of
four named quadrants (Spanish names with accents; an ``OBJECTID`` and a ``SHAPE__Area``
column beside ``NOMBRE``, as municipal exports hold them) named in ``[places]`` by file only,
so the name column is guessed. Both models, two seeds and a few steps: about 20 s.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
from shapely.geometry import box

from rtm_core.synth import CRS, ORIGIN, make_city, write_city

#: the districts' names, south-west, south-east, north-west, north-east
DISTRICTS = ("San José", "La Loma", "Centro Histórico", "El Prado")
SIZE = 3_000.0


def write_districts(path: Path) -> gpd.GeoDataFrame:
    """Four quadrants of the synthetic city, named in ``NOMBRE``, written to ``path``."""
    x0, y0 = ORIGIN
    half = SIZE / 2
    cells = [(0, 0), (1, 0), (0, 1), (1, 1)]
    frame = gpd.GeoDataFrame(
        {
            "OBJECTID": np.arange(1, 5),
            "NOMBRE": list(DISTRICTS),
            "SHAPE__Area": [half * half] * 4,
        },
        geometry=[
            box(x0 + i * half, y0 + j * half, x0 + (i + 1) * half, y0 + (j + 1) * half)
            for i, j in cells
        ],
        crs=CRS,
    )
    frame.to_file(path, layer="districts", engine="pyogrio")
    return frame


def places_city(folder: Path) -> Path:
    """The city's ``config.toml`` with ``[places] file = "districts.gpkg"``."""
    config = write_city(make_city(7, size=SIZE, periods=4), folder)
    write_districts(folder / "districts.gpkg")
    with open(config, "a", encoding="utf-8") as handle:
        handle.write('\n[places]\nfile = "districts.gpkg"\n')
    return config


def places_run(folder: Path, *, steps: int = 30) -> Path:
    """A complete run of :func:`places_city` with both models (quick settings)."""
    from rtm_core.config import ModelConfig, load_config
    from rtm_core.runs.pipeline import run_pipeline

    config = load_config(places_city(folder / "city"))
    model = ModelConfig(seeds=2, burn_in_steps=steps, prune_steps=steps)
    return run_pipeline(config.replace(model=model), folder / "run-places", label="places")
