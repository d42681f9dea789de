"""Large grid runs are mapped as blocks of cells: few records, hot spots kept, totals kept."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pytest

from rtm_app import maps
from rtm_app.maps_large import (
    MAX_MAP_BLOCKS,
    block_factor,
    grid_blocks,
    is_large,
    large_risk_map,
)

GRID = {"x0": 341_000.0, "y0": 552_000.0, "cell_size": 24.0}


def grid_run(n_rows: int, n_cols: int, seed: int = 0) -> gpd.GeoDataFrame:
    """A grid run's units table (row, col, counts, scores) in Illinois East (EPSG:26971)."""
    rng = np.random.default_rng(seed)
    row, col = np.divmod(np.arange(n_rows * n_cols), n_cols)
    x = GRID["x0"] + (col + 0.5) * GRID["cell_size"]
    y = GRID["y0"] + (row + 0.5) * GRID["cell_size"]
    n = len(row)
    return gpd.GeoDataFrame(
        {
            "unit_id": np.arange(n),
            "row": row,
            "col": col,
            "y_train": rng.poisson(0.05, n),
            "y_test": rng.poisson(0.05, n),
            "risk_dl": np.round(1 + rng.gamma(1.0, 0.3, n), 2),
        },
        geometry=gpd.points_from_xy(x, y),
        crs="EPSG:26971",
    )


@pytest.fixture(scope="module")
def big() -> gpd.GeoDataFrame:
    units = grid_run(600, 500)  # 300,000 cells
    units.loc[(units["row"] == 377) & (units["col"] == 211), "risk_dl"] = 42.0  # a hot spot
    return units


def test_only_large_grids_are_drawn_as_blocks(big):
    assert is_large(big, GRID)
    assert not is_large(big, None)  # not a grid
    assert not is_large(grid_run(300, 500), GRID)  # 150,000 cells: every cell is drawn
    assert not is_large(big.drop(columns=["row", "col"]), GRID)


def test_blocks_keep_the_hot_spot_and_every_crime(big):
    factor = block_factor(big["row"].to_numpy(), big["col"].to_numpy())
    assert factor == 2  # 300,000 cells -> 75,000 blocks of 2 x 2
    blocks = grid_blocks(big, big["risk_dl"].to_numpy(), GRID, factor)
    assert len(blocks) <= MAX_MAP_BLOCKS and blocks["cells"].sum() == len(big)
    assert blocks["y_train"].sum() == big["y_train"].sum()
    assert blocks["y_test"].sum() == big["y_test"].sum()
    hot = blocks.loc[blocks["max"].idxmax()]
    assert (hot["brow"], hot["bcol"], hot["max"]) == (377 // 2, 211 // 2, 42.0)
    # the block centre is the centre of its 2 x 2 cells (48 m square)
    assert hot["x"] == pytest.approx(GRID["x0"] + (211 // 2 + 0.5) * 48.0)
    assert hot["y"] == pytest.approx(GRID["y0"] + (377 // 2 + 0.5) * 48.0)


def test_the_block_map_is_small_and_says_what_it_shows(big):
    deck, legend, note = large_risk_map(big, "dl", grid=GRID)
    payload = json.loads(deck.to_json())
    layer = payload["layers"][0]
    assert len(layer["data"]) == 75_000
    assert maps.payload_bytes(deck) < 5_000_000  # every cell would be ~12 MB
    assert layer["radius"] == pytest.approx(48.0 / np.sqrt(2))
    assert note.startswith("300,000 cells shown as 48 m blocks of up to 4 cells")
    assert legend and legend[-1][1].startswith("≥")
