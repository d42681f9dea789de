"""The report's images (matplotlib, PNG as base64): maps a planner can read on paper, and
the accuracy curves.

A map has the colour classes of every map of the tool (:mod:`rtm_core.results.colours`) with
their legend, a scale bar, a north arrow (the maps are drawn north up in the run's projected
CRS), the outlines and names of the named areas (``places.gpkg``) and, on the brief's map,
the listed places numbered as in its table. Units are in metres (the working CRS), so the
scale bar is true.
"""

from __future__ import annotations

import base64
import io
import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.patheffects as effects
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.colors import ListedColormap
from matplotlib.patches import Patch

from rtm_core.config import MODEL_KINDS
from rtm_core.models.registry import display_name
from rtm_core.results.colours import class_legend, hex_color, ramp_color, score_classes
from rtm_core.study.places import label_points

__all__ = [
    "png_base64",
    "score_map",
    "curves_image",
    "incidents_image",
    "scale_length",
    "MAX_LABELS",
]

#: the most area names written on a map; with more, only the areas of the listed places
MAX_LABELS = 40
_HALO = [effects.withStroke(linewidth=2.2, foreground="white")]


def png_base64(fig, dpi: int = 110) -> str:
    """A figure as a base64 PNG (the figure is closed).

    Parameters
    ----------
    fig : matplotlib Figure
    dpi : int

    Returns
    -------
    str
    """
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _map_axes(size: tuple[float, float]):
    """A figure and axes for a map, drawn only when saved.

    geopandas' ``plot`` ends with ``canvas.draw_idle()``, which on the Agg canvas draws the
    whole figure at once: a wasted draw for each layer plotted (the PNG is drawn by
    ``savefig``). This canvas ignores those calls; the image is the same, byte for byte.
    """
    fig, ax = plt.subplots(figsize=size)
    fig.canvas.draw_idle = lambda *args, **kwargs: None
    return fig, ax


def scale_length(span: float) -> float:
    """A round scale-bar length (1, 2 or 5 times a power of ten metres) near a quarter of
    ``span`` metres."""
    target = max(span / 4.0, 1e-9)
    power = 10 ** math.floor(math.log10(target))
    return max(step * power for step in (1, 2, 5) if step * power <= target)


def _scale_bar(ax, bounds) -> None:
    xmin, ymin, xmax, ymax = bounds
    length = scale_length(xmax - xmin)
    x0, y0 = xmin + 0.03 * (xmax - xmin), ymin - 0.06 * (ymax - ymin)
    ax.plot([x0, x0 + length], [y0, y0], color="#1d2330", linewidth=3, solid_capstyle="butt")
    text = f"{length / 1000:g} km" if length >= 1000 else f"{length:g} m"
    ax.text(x0 + length / 2, y0 + 0.015 * (ymax - ymin), text, ha="center", va="bottom", size=8)


def _north_arrow(ax) -> None:
    ax.annotate(
        "N",
        xy=(0.97, 0.98),
        xytext=(0.97, 0.88),
        xycoords="axes fraction",
        ha="center",
        va="center",
        size=9,
        weight="bold",
        arrowprops={"arrowstyle": "-|>", "color": "#1d2330", "linewidth": 1.2},
    )


def _draw_classes(ax, units, classes: np.ndarray, colours: list[str]) -> None:
    """Units coloured by class: a raster for grids (row/col), shapes otherwise."""
    if {"row", "col"} <= set(units.columns):
        rows, cols = units["row"].to_numpy(int), units["col"].to_numpy(int)
        image = np.full((rows.max() + 1, cols.max() + 1), np.nan)
        image[rows, cols] = classes
        cell_w = (units.total_bounds[2] - units.total_bounds[0]) / (cols.max() - cols.min() + 1)
        cell_h = (units.total_bounds[3] - units.total_bounds[1]) / (rows.max() - rows.min() + 1)
        x0 = units.total_bounds[0] - cols.min() * cell_w
        y0 = units.total_bounds[1] - rows.min() * cell_h
        extent = (x0, x0 + image.shape[1] * cell_w, y0, y0 + image.shape[0] * cell_h)
        cmap = ListedColormap(colours)
        ax.imshow(
            image,
            origin="lower",
            cmap=cmap,
            vmin=-0.5,
            vmax=len(colours) - 0.5,
            interpolation="nearest",
            extent=extent,
        )
        return
    units.plot(ax=ax, color=[colours[int(c)] for c in classes], linewidth=0.8, markersize=5)


def _area_names(ax, places, named: set[str] | None) -> None:
    """Outlines of the named areas and their names (all, or only ``named`` when many)."""
    places.boundary.plot(ax=ax, color="#4b5261", linewidth=0.5, alpha=0.7)
    show = places if len(places) <= MAX_LABELS or named is None else None
    if show is None:
        show = places[places["place"].isin(named or set())]
    points = label_points(show)
    for (x, y), name in zip(points, show["place"], strict=True):
        ax.text(x, y, name, ha="center", va="center", size=6.5, color="#1d2330", path_effects=_HALO)


def score_map(
    units,
    column: str,
    *,
    title: str = "",
    legend_title: str = "",
    digits: int = 2,
    places=None,
    marks: pd.DataFrame | None = None,
    size: tuple[float, float] = (5.6, 5.2),
) -> str:
    """A map of one score column with its legend, scale bar, north arrow and area names.

    Parameters
    ----------
    units : GeoDataFrame
        The run's units (working CRS, metres); grids have ``row``/``col``.
    column : str
        The score drawn (``risk_<model>``, ``forecast_<model>``).
    title, legend_title : str
    digits : int
        Decimals of the class breaks (2 for relative risk, 3 for expected crimes).
    places : GeoDataFrame, optional
        Named areas (``place`` and polygons): outlined and named.
    marks : DataFrame, optional
        Numbered places: columns ``x``, ``y`` (working CRS), ``label`` and ``place``.
    size : (float, float)
        Figure size in inches (the map part; the legend sits on the right).

    Returns
    -------
    str
        The PNG, base64-encoded.
    """
    values = units[column].to_numpy(dtype=float)
    breaks, classes = score_classes(values, digits)
    n = len(breaks)
    colours = [hex_color(ramp_color(k / n if n else 0.0)) for k in range(n + 1)]
    low = float(np.nanmin(values)) if values.size else 0.0
    legend = class_legend(breaks, low, fmt=f"{{:.{digits}f}}")
    fig, ax = _map_axes(size)
    _draw_classes(ax, units, classes, colours)
    xmin, ymin, xmax, ymax = units.total_bounds
    if places is not None and not places.empty:
        named = set(marks["place"]) if marks is not None and "place" in marks else None
        _area_names(ax, places, named)
    if marks is not None and not marks.empty:
        # a ring around each place, its number beside it: the cell's colour stays visible
        ax.scatter(marks["x"], marks["y"], s=80, facecolor="none", edgecolor="#1d2330", lw=1.1)
        for row in marks.itertuples():
            ax.annotate(
                str(row.label),
                (row.x, row.y),
                xytext=(4, 4),
                textcoords="offset points",
                size=6.5,
                weight="bold",
                color="#1d2330",
                path_effects=_HALO,
            )
    pad_x, pad_y = 0.02 * (xmax - xmin), 0.1 * (ymax - ymin)
    ax.set_xlim(xmin - pad_x, xmax + pad_x)
    ax.set_ylim(ymin - pad_y, ymax + 0.02 * (ymax - ymin))
    ax.set_aspect("equal")
    _scale_bar(ax, (xmin, ymin, xmax, ymax))
    _north_arrow(ax)
    handles = [Patch(facecolor=c, edgecolor="#8a8f99", label=t) for c, t in legend]
    ax.legend(
        handles=handles[::-1],
        title=legend_title or None,
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
        fontsize=7.5,
        title_fontsize=8,
        frameon=False,
    )
    if title:
        ax.set_title(title, size=10)
    ax.set_axis_off()
    return png_base64(fig, dpi=130)


def curves_image(curves: pd.DataFrame, metric: str = "pai") -> str:
    """PAI (or another measure) over the share of area flagged, in and out of sample.

    Parameters
    ----------
    curves : DataFrame
        ``curves.csv`` (model, period, share, and the measures).
    metric : str

    Returns
    -------
    str
        The PNG, base64-encoded.
    """
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6), sharey=True)
    for ax, period in zip(axes, ("train", "test"), strict=True):
        part = curves[
            (curves["period"] == period) & (curves["share"] > 0) & (curves["share"] <= 0.3)
        ]
        for model, rows in part.groupby("model", sort=False):
            ax.plot(
                rows["share"] * 100,
                rows[metric],
                label=display_name(model),
                linestyle="-" if model in MODEL_KINDS else "--",
            )
        ax.set_title("in sample (period t)" if period == "train" else "out of sample (period t+1)")
        ax.set_xlabel("share of area flagged (%)")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel(metric.upper())
    axes[1].legend(fontsize=8)
    return png_base64(fig)


def incidents_image(units, incidents: pd.DataFrame) -> str:
    """The crime points of both periods over the units' outlines (opt-in only).

    Parameters
    ----------
    units : GeoDataFrame
    incidents : DataFrame
        ``x``, ``y`` (working CRS) and ``period``.

    Returns
    -------
    str
        The PNG, base64-encoded.
    """
    fig, ax = _map_axes((5.2, 5.2))
    units.boundary.plot(ax=ax, color="#d8dce6", linewidth=0.3)
    for period, colour in (("train", "#1f5fbf"), ("test", "#d9480f")):
        rows = incidents[incidents["period"] == period]
        ax.scatter(rows["x"], rows["y"], s=3, color=colour, label=f"{period} ({len(rows):,})")
    ax.legend(fontsize=8)
    ax.set_title("Incidents (raw locations)")
    ax.set_axis_off()
    return png_base64(fig)
