"""A self-contained HTML report of a run folder: the brief for a planner first, then the
analyst's sections, then a short appendix about the run.

Everything is inline (PNG images as data URIs, no scripts, no web fonts), so the report opens
with the network switched off, can be e-mailed, and prints to PDF from any browser (the brief
on the first page). It shows units and scores, not raw incident locations, unless the analyst
opts in (``[report] include_incidents = true``, or ``include_incidents=True`` here, for a run
that stored its ``incidents.csv``). All text taken from user files (labels, layer and column
names, place names) is HTML-escaped.

The pieces: :mod:`rtm_core.results.brief` (the brief's content, pure),
:mod:`rtm_core.results.report_maps` (images), :mod:`rtm_core.results.report_html` (style,
tables, the brief's page, the appendix), :mod:`rtm_core.results.report_sections` (the
analyst's sections); this module puts them in order.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd
from pyproj import Transformer

from rtm_core.record.folder import REPORT_FILE, load_run
from rtm_core.record.manifest import RunFiles
from rtm_core.results import report_sections as sections
from rtm_core.results import report_verdicts as verdicts
from rtm_core.results.brief import Brief, make_brief
from rtm_core.results.report_html import CSS, appendix_section, brief_section, esc
from rtm_core.results.report_maps import png_base64, score_map
from rtm_core.results.summary import (
    forecast_period,
    forecast_places,
    forecast_sentence,
    has_history,
)

__all__ = [
    "PLANNER_NOTE",
    "write_report",
    "render_report",
    "brief_map",
    "forecast_places",
    "forecast_period",
    "forecast_sentence",
    "has_history",
    "CSS",
]

_png = png_base64  # the backtest report draws its figures with the same helper
PLANNER_NOTE = (
    "Prepared for planners: the risk and forecast of each place and what drives them; "
    "crime counts per place and incident locations are left out."
)


def _marks(run: RunFiles, brief: Brief) -> pd.DataFrame:
    """The brief's places as numbered marks in the units' CRS."""
    places = brief.places.dropna(subset=["lat", "lon"])
    if places.empty or run.units.crs is None:
        return pd.DataFrame(columns=["x", "y", "label", "place"])
    to_units = Transformer.from_crs("EPSG:4326", run.units.crs, always_xy=True)
    x, y = to_units.transform(places["lon"].to_numpy(float), places["lat"].to_numpy(float))
    return pd.DataFrame(
        {"x": np.asarray(x), "y": np.asarray(y), "label": places["rank"], "place": places["place"]}
    )


def brief_map(run: RunFiles, brief: Brief) -> str:
    """The brief's map (base64 PNG): the forecast or relative risk with its legend, scale
    bar, north arrow, area names and the listed places numbered.

    Parameters
    ----------
    run : RunFiles
    brief : Brief

    Returns
    -------
    str
    """
    forecast = brief.column.startswith("forecast_")
    return score_map(
        run.units,
        brief.column,
        legend_title="expected crimes" if forecast else "relative risk",
        digits=3 if forecast else 2,
        places=run.places,
        marks=_marks(run, brief),
        size=(6.4, 5.6),
    )


def _names_source(run: RunFiles) -> str:
    places = (run.record.config or {}).get("places")
    if run.places is None or not isinstance(places, dict):
        return ""
    source = places.get("source")
    if isinstance(source, dict) and source.get("path"):
        return f"{Path(str(source['path'])).name} ({len(run.places):,} areas)"
    return f"the boundary ({len(run.places):,} areas)"


def _include_incidents(run: RunFiles, include: bool | None) -> bool:
    if include is not None:
        return include
    report_cfg = run.record.config.get("report") or {}
    return bool(isinstance(report_cfg, dict) and report_cfg.get("include_incidents"))


def render_report(
    run: RunFiles | str | Path,
    *,
    include_incidents: bool | None = None,
    for_planners: bool = False,
) -> str:
    """The report of a run as one HTML string.

    Parameters
    ----------
    run : RunFiles or path
        A run in memory (the pipeline's, as it writes the folder) or a complete run folder.
    include_incidents : bool, optional
        Show the crime points (map and table). Default: as the run's config said
        (``[report] include_incidents``, off unless the analyst opted in).
    for_planners : bool
        The planners' version: never the incidents (whatever the run's config says), and
        the conjunctive table without its observed crime counts (a profile of one unit
        would place its crimes); a line at the top says so.

    Returns
    -------
    str
        The self-contained HTML page.
    """
    if not isinstance(run, RunFiles):
        run = load_run(run)
    m = run.record
    title = m.label or m.name or Path(run.path).name
    try:
        created = time.strftime("Created %Y-%m-%d %H:%M", time.localtime(m.created))
    except (TypeError, ValueError, OverflowError, OSError):
        created = "Created ?"
    parts = []
    brief = make_brief(run)
    if brief is not None:
        png = brief_map(run, brief)
        parts.append(
            brief_section(brief, png, title=title, created=created, names=_names_source(run))
        )
    else:
        parts.append(f"<h1>Risk Terrain Model: {esc(title)}</h1><p class='muted'>{created}</p>")
    if for_planners:
        parts.append(f"<p class='muted'>{esc(PLANNER_NOTE)}</p>")
    parts.append(
        "<h2>For the analyst</h2><p>Each unit's <b>relative risk score</b> is how many times "
        "more likely a crime is there than in the lowest-risk unit, because of the risk factors "
        "nearby. Incident rate ratios (IRR, the <i>relative risk values</i> of RTMDx) say how "
        "much each factor multiplies the expected count.</p>"
    )
    parts += verdicts.verdict_section(run)
    parts += sections.forecast_section(run)
    parts += sections.risk_map_section(run)
    parts += sections.accuracy_section(run)
    parts += verdicts.calibration_section(run)
    parts += sections.coefficient_sections(run, has_history(m, run.coefficients))
    parts += sections.conjunctive_section(run, counts=not for_planners)
    parts += sections.stability_section(run)
    parts += sections.top_places_section(run)
    if _include_incidents(run, include_incidents) and not for_planners:
        parts += sections.incidents_section(run)
    parts.append(appendix_section(run))
    body = "\n".join(parts)
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{esc(title)}</title><style>{CSS}</style></head><body>{body}</body></html>"
    )


def write_report(run: RunFiles | str | Path, *, include_incidents: bool | None = None) -> Path:
    """Write ``report.html`` into a run folder (see :func:`render_report`).

    Parameters
    ----------
    run : RunFiles or path
        A run in memory (written into ``run.path``, nothing read back) or a run folder.
    include_incidents : bool, optional
        As in :func:`render_report`.

    Returns
    -------
    Path
        The report file.
    """
    folder = run.path if isinstance(run, RunFiles) else run
    path = Path(folder) / REPORT_FILE
    path.write_text(render_report(run, include_incidents=include_incidents), encoding="utf-8")
    return path
