"""Risk maps of large grids (over 200k cells): screen-sized blocks instead of every cell.

A 1M-cell run would send about 60 MB of unit records to the browser; here cells are grouped
into square blocks on the run's grid (``row``/``col`` and the manifest's grid origin), at
most :data:`MAX_MAP_BLOCKS` of them, each coloured by the highest score of its cells, so the
map paints in a couple of seconds. The caption says what is shown (:func:`map_note`).
"""

from __future__ import annotations

import html
import math

import geopandas as gpd
import numpy as np
import pandas as pd

from rtm_app.maps import (
    LONLAT,
    CompactDeck,
    class_color,
    class_legend,
    deck,
    score_breaks,
    unit_layer,
    view_for,
)

__all__ = [
    "LARGE_MAP_UNITS",
    "MAX_MAP_BLOCKS",
    "is_large",
    "block_factor",
    "grid_blocks",
    "large_risk_map",
    "map_note",
]


#: grids with more units than this are drawn as blocks of cells, never unit by unit
LARGE_MAP_UNITS = 200_000
#: most blocks a block map sends to the browser
MAX_MAP_BLOCKS = 100_000


def is_large(units: pd.DataFrame, grid: dict | None) -> bool:
    """Whether a run's map is drawn as blocks: a grid (with rows and columns) over
    :data:`LARGE_MAP_UNITS` cells."""
    return bool(grid) and len(units) > LARGE_MAP_UNITS and {"row", "col"} <= set(units.columns)


def block_factor(row: np.ndarray, col: np.ndarray, max_blocks: int = MAX_MAP_BLOCKS) -> int:
    """Smallest block side (in cells) that leaves at most ``max_blocks`` occupied blocks."""
    factor = max(1, math.ceil(math.sqrt(len(row) / max_blocks)))
    while np.unique((row // factor) * (int(col.max()) // factor + 1) + col // factor).size > (
        max_blocks
    ):
        factor += 1
    return factor


def grid_blocks(units: pd.DataFrame, score: np.ndarray, grid: dict, factor: int) -> pd.DataFrame:
    """Aggregate grid cells into ``factor`` x ``factor`` blocks.

    Parameters
    ----------
    units : DataFrame
        ``row``, ``col``, ``y_train``, ``y_test`` per cell.
    score : ndarray
        The mapped score per cell.
    grid : dict
        The run manifest's ``grid``: ``x0``, ``y0`` (lower-left corner), ``cell_size``.
    factor : int

    Returns
    -------
    DataFrame
        One row per occupied block: ``x``, ``y`` (block centre, working CRS), ``cells``,
        ``max`` and ``mean`` score, ``y_train`` and ``y_test`` sums (when the units have them).
    """
    counts = [c for c in ("y_train", "y_test") if c in units.columns]  # none for planners
    frame = pd.DataFrame(
        {
            "brow": units["row"].to_numpy() // factor,
            "bcol": units["col"].to_numpy() // factor,
            "score": score,
            **{c: units[c].to_numpy() for c in counts},
        }
    )
    sums = {c: (c, "sum") for c in counts}
    blocks = (
        frame.groupby(["brow", "bcol"], sort=True)
        .agg(cells=("score", "size"), max=("score", "max"), mean=("score", "mean"), **sums)
        .reset_index()
    )
    side = float(grid["cell_size"]) * factor
    blocks["x"] = float(grid["x0"]) + (blocks["bcol"] + 0.5) * side
    blocks["y"] = float(grid["y0"]) + (blocks["brow"] + 0.5) * side
    return blocks


def large_risk_map(
    units: gpd.GeoDataFrame,
    model: str,
    *,
    grid: dict,
    online: bool = False,
    column: str | None = None,
    score_name: str = "Relative risk score",
    counts: bool = True,
    extra_layers: tuple = (),
) -> tuple[CompactDeck, list[tuple[str, str]], str]:
    """A large grid's risk map as screen-sized blocks (at most :data:`MAX_MAP_BLOCKS`).

    Each block is coloured by the highest score of its cells (hot spots stay visible); the
    classes are those of the cell scores, as on the cell-by-cell map. Nothing per cell is
    sent to the browser, so a 1M-cell run draws as fast as the demo.

    Parameters
    ----------
    units : GeoDataFrame
        The run's units with ``row``, ``col``, ``unit_id``, ``y_train``, ``y_test`` and the
        score column (geometry is not used).
    model : str
    grid : dict
        The run manifest's ``grid`` (``x0``, ``y0``, ``cell_size``).
    online : bool
    column : str, optional
        Score column (default ``risk_<model>``).
    score_name : str
    counts : bool
        Send and show the blocks' crime counts (False for a planner's map).
    extra_layers : tuple of pydeck Layer
        Drawn over the blocks (e.g. the named areas' outlines and names).

    Returns
    -------
    deck : CompactDeck
    legend : list of (hex colour, text)
    note : str
        What the map shows, for a caption under it.
    """
    from pyproj import Transformer

    digits = 2 if column is None else 3
    score = np.round(units[column or f"risk_{model}"].to_numpy(dtype=float), digits)
    factor = block_factor(units["row"].to_numpy(), units["col"].to_numpy())
    blocks = grid_blocks(units, score, grid, factor)
    to_lonlat_xy = Transformer.from_crs(units.crs, LONLAT, always_xy=True)
    lon, lat = to_lonlat_xy.transform(blocks["x"].to_numpy(), blocks["y"].to_numpy())
    frame = pd.DataFrame(
        {
            "lon": np.round(lon, 5),
            "lat": np.round(lat, 5),
            "cells": blocks["cells"],
            "max": blocks["max"],
            "mean": np.round(blocks["mean"], digits),
            **{c: blocks[c].astype(int) for c in ("y_train", "y_test") if c in blocks},
        }
    )
    counts = counts and {"y_train", "y_test"} <= set(frame.columns)  # not a planner's copy
    if not counts:
        frame = frame.drop(columns=["y_train", "y_test"], errors="ignore")
    data = frame.to_numpy(dtype=object).tolist()
    breaks = score_breaks(score, digits=digits)
    side = float(grid["cell_size"]) * factor
    layers = [unit_layer(data, side, class_color(3, breaks)), *extra_layers]
    name = html.escape(score_name)
    crimes = "<br/>Crimes: {5} in period t, {6} in period t+1" if counts else ""
    tooltip = {
        "html": f"<b>Block of {{2}} cells</b><br/>{name}: highest <b>{{3}}</b>, mean {{4}}"
        + crimes,
        "style": {"fontSize": "12px"},
    }
    view = view_for((lon.min(), lat.min(), lon.max(), lat.max()), height=560)
    low = float(np.nanmin(score)) if score.size else 1.0
    note = map_note(len(units), float(grid["cell_size"]), factor)
    return deck(layers, view, tooltip=tooltip, online=online), class_legend(breaks, low), note


def map_note(n_units: int, cell_size: float, factor: int) -> str:
    """Caption of a block map, e.g. "978,508 cells shown as 96 m blocks (...)"."""
    return (
        f"{n_units:,} cells shown as {cell_size * factor:g} m blocks of up to "
        f"{factor * factor} cells, each coloured by its highest score (a map of every cell "
        "would be too large for the browser; factor rings are not drawn on block maps)."
    )
