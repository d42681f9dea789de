"""What a planner may receive of a run: the Brief's data and files, with nothing that places a
crime.

Crime data is sensitive: thousands of grid cells hold one crime each, so a per-unit count
(``y_train``, ``y_test``), a baseline built from counts (prior counts, KDE of prior crimes,
gradient boosting, crime history), the conjunctive table's observed counts or the incident
locations would place crimes to a 150 m square. :func:`planner_run` keeps, by a list of what
is allowed (never a list of what is not, so a column added later stays out), the RTM models'
risk scores and forecasts, the risk factors present, the unit ids and the grid position;
:func:`planner_report`, :func:`planner_geojson` and :func:`planner_geopackage` are the files a
planner downloads. Nothing here imports streamlit.
"""

from __future__ import annotations

import dataclasses

import pandas as pd

from rtm_core.config import MODEL_KINDS
from rtm_core.record.manifest import PRESENCE_PREFIX, RunFiles
from rtm_core.results.export import units_geojson, units_geopackage
from rtm_core.results.report import render_report

__all__ = [
    "UNIT_COLUMNS",
    "TOP_PLACE_COLUMNS",
    "planner_columns",
    "planner_run",
    "planner_report",
    "planner_geojson",
    "planner_geopackage",
]

#: units columns a planner's map may hold besides the geometry: identity, grid position and
#: the named area it lies in, the seeds' top-5 % share, and per RTM model its score, forecast
#: and factors present
UNIT_COLUMNS = (
    "unit_id",
    "row",
    "col",
    "place",
    "top5_share_dl",
    *(f"{prefix}_{k}" for k in MODEL_KINDS for prefix in ("risk", "forecast", "factors")),
)
#: top_places.csv columns a planner may see (ranks, scores and the factors there)
TOP_PLACE_COLUMNS = (
    "model",
    "rank",
    "unit_id",
    "score",
    "factors",
    "n_factors",
    "place",
    "lat",
    "lon",
    "tied",
)
#: conjunctive.csv columns a planner may see (no observed counts)
_CONJUNCTIVE_COLUMNS = ("model", "profile", "units", "expected", "expected_rate", "dominant")
#: manifest keys left out: where the raw inputs are and what was read from them
_MANIFEST_DROPPED = ("inputs", "inputs_kept", "reads", "counts")


def planner_columns(columns) -> list[str]:
    """The columns of a units table a planner may receive, in the table's order.

    Parameters
    ----------
    columns : iterable of str
        A units table's columns (``units.gpkg``).

    Returns
    -------
    list of str
        Those in :data:`UNIT_COLUMNS` or naming where a selected factor is present
        (``present_<variable>``); the geometry column is the caller's to keep.
    """
    return [c for c in columns if c in UNIT_COLUMNS or str(c).startswith(PRESENCE_PREFIX)]


def _kept(frame: pd.DataFrame, allowed) -> pd.DataFrame:
    return frame[[c for c in frame.columns if c in allowed]].copy()


def planner_run(run: RunFiles) -> RunFiles:
    """A copy of a loaded run holding only what a planner may see.

    Parameters
    ----------
    run : RunFiles

    Returns
    -------
    RunFiles
        Units with :func:`planner_columns` and the geometry; top places and the conjunctive
        table without counts; no incidents; the manifest without its input records.
    """
    units = run.units
    keep = [*planner_columns(units.columns), units.geometry.name]
    manifest = {k: v for k, v in run.manifest.items() if k not in _MANIFEST_DROPPED}
    return dataclasses.replace(
        run,
        manifest=manifest,
        units=units[keep].copy(),
        top_places=_kept(run.top_places, TOP_PLACE_COLUMNS),
        conjunctive=_kept(run.conjunctive, _CONJUNCTIVE_COLUMNS),
        incidents=None,
    )


def planner_report(run: RunFiles) -> bytes:
    """The planners' HTML report, rendered afresh from :func:`planner_run` (never the stored
    ``report.html``, which may hold the incidents the analyst opted into).

    Parameters
    ----------
    run : RunFiles

    Returns
    -------
    bytes
        UTF-8 HTML.
    """
    return render_report(planner_run(run), for_planners=True).encode("utf-8")


def planner_geojson(run: RunFiles) -> bytes:
    """The planners' map: units with risk scores and forecasts as GeoJSON (lon/lat).

    Parameters
    ----------
    run : RunFiles

    Returns
    -------
    bytes
    """
    return units_geojson(planner_run(run))


def planner_geopackage(run: RunFiles) -> bytes:
    """The planners' map as a GeoPackage (layer ``units``, the run's CRS).

    Parameters
    ----------
    run : RunFiles

    Returns
    -------
    bytes
    """
    return units_geopackage(planner_run(run))
