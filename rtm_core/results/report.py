"""A self-contained HTML report of a run folder, for police planners.

Everything is inline (PNG images as data URIs, no scripts, no web fonts), so the report opens
with the network switched off and can be e-mailed. It shows units and scores, not raw
incident locations, unless the analyst opts in (``[report] include_incidents = true``, or
``include_incidents=True`` here, for a run that stored its ``incidents.csv``). All text taken
from user files (labels, layer and column names) is HTML-escaped.
"""

from __future__ import annotations

import base64
import html
import io
import json
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from rtm_core.config import MODEL_KINDS
from rtm_core.models.base import COEF_COLUMNS
from rtm_core.models.registry import display_name
from rtm_core.record.folder import INCIDENTS_FILE, REPORT_FILE, load_run
from rtm_core.record.manifest import READOUT_KEYS, Metrics, RunFiles
from rtm_core.results.summary import (
    forecast_period,
    forecast_places,
    forecast_sentence,
    has_history,
    split_history,
    verdict_table,
)
from rtm_core.results.verdict import run_verdicts

__all__ = [
    "PLANNER_NOTE",
    "write_report",
    "render_report",
    "risk_image",
    "forecast_places",
    "forecast_period",
    "forecast_sentence",
    "has_history",
]

PLANNER_NOTE = (
    "Prepared for planners: the risk and forecast of each place and what drives them; "
    "crime counts per place and incident locations are left out."
)
CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;
max-width:1100px;color:#1d2330;line-height:1.45}
h1{margin-bottom:.2rem}
h2{border-bottom:2px solid #e3e6ee;padding-bottom:.2rem;margin-top:2rem}
table{border-collapse:collapse;font-size:.88rem;margin:.5rem 0}
th,td{border:1px solid #d8dce6;padding:.25rem .5rem;text-align:right}
th{background:#f3f5f9}td:first-child,th:first-child{text-align:left}
.muted{color:#5b6475}.grid{display:flex;gap:1rem;flex-wrap:wrap}img{max-width:100%}
.beats{color:#1b7a3a;font-weight:600}.below{color:#b42318;font-weight:600}
.mixed{color:#8a5a00;font-weight:600}
.verdict{border-left:4px solid #d8dce6;padding:.2rem .8rem;margin:.6rem 0}
"""


def _png(fig) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def risk_image(units, column: str, title: str) -> str:
    """A PNG (base64) map of one risk column; grid runs are drawn as a raster.

    Parameters
    ----------
    units : GeoDataFrame
        The run's units.
    column : str
        The column drawn (log scale).
    title : str

    Returns
    -------
    str
        The PNG, base64-encoded.
    """
    fig, ax = plt.subplots(figsize=(5.2, 5.2))
    values = np.log(np.maximum(units[column].to_numpy(dtype=float), 1e-9))
    if {"row", "col"} <= set(units.columns):
        rows, cols = units["row"].to_numpy(int), units["col"].to_numpy(int)
        image = np.full((rows.max() + 1, cols.max() + 1), np.nan)
        image[rows, cols] = values
        bounds = units.total_bounds
        ax.imshow(
            image,
            origin="lower",
            cmap="YlOrRd",
            interpolation="nearest",
            extent=(bounds[0], bounds[2], bounds[1], bounds[3]),
        )
    else:
        units.assign(_v=values).plot(column="_v", ax=ax, cmap="YlOrRd", linewidth=0.6, markersize=4)
    ax.set_title(title)
    ax.set_axis_off()
    return _png(fig)


def _curves_image(curves: pd.DataFrame, metric: str = "pai") -> str:
    fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
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
    return _png(fig)


def _table(frame: pd.DataFrame, digits: int = 3) -> str:
    if frame is None or frame.empty:
        return "<p class='muted'>None.</p>"
    return frame.to_html(
        index=False, escape=True, float_format=lambda v: f"{v:.{digits}f}", border=0, na_rep=""
    )


def _metrics_table(metrics: Metrics) -> pd.DataFrame:
    rows = []
    for model in metrics.names:
        for period in ("train", "test"):
            row = {"model": display_name(model), "period": period}
            for metric in ("pai", "hit_rate", "pei"):
                values = metrics.readout(model, period, metric)
                for key in READOUT_KEYS:
                    row[f"{metric} {key}"] = np.nan if values[key] is None else values[key]
            rows.append(row)
    return pd.DataFrame(rows)


def _incidents_image(units, incidents: pd.DataFrame) -> str:
    fig, ax = plt.subplots(figsize=(5.2, 5.2))
    units.boundary.plot(ax=ax, color="#d8dce6", linewidth=0.3)
    for period, colour in (("train", "#1f5fbf"), ("test", "#d9480f")):
        rows = incidents[incidents["period"] == period]
        ax.scatter(rows["x"], rows["y"], s=3, color=colour, label=f"{period} ({len(rows):,})")
    ax.legend(fontsize=8)
    ax.set_title("Incidents (raw locations)")
    ax.set_axis_off()
    return _png(fig)


def _incidents_section(run: RunFiles) -> list[str]:

    incidents = run.incidents
    path = Path(run.path) / INCIDENTS_FILE
    if incidents is None and path.is_file():
        incidents = pd.read_csv(path)
    if incidents is None:
        return [
            "<h2>Incidents</h2>",
            "<p class='muted'>This run did not store incident locations "
            "(set <code>[report] include_incidents = true</code> and run again).</p>",
        ]
    png = _incidents_image(run.units, incidents)
    return [
        "<h2>Incidents (raw locations, included by the analyst)</h2>",
        f"<img alt='incident locations' src='data:image/png;base64,{png}'>",
        _table(incidents.head(100), 1),
    ]


def _verdict_section(run) -> list[str]:
    found = run_verdicts(run.metrics, run.units)
    if not found:
        return []
    esc = html.escape
    parts = [
        "<h2>Does the RTM beat the simplest maps?</h2>",
        "<p class='muted'>Out of sample (period t+1): each model beside the best baseline "
        "(the hot-spot maps a planner already has) at 1 %, 5 % and 10 % of the area.</p>",
    ]
    for verdict in found:
        css = verdict.flag if verdict.flag in ("beats", "below") else "mixed"
        parts.append(
            f"<p class='verdict'><span class='{css}'>{esc(verdict.headline)}.</span> "
            f"{esc(verdict.sentence)}</p>"
        )
        if verdict.ties:
            parts.append(f"<p class='muted'>{esc(verdict.ties)}</p>")
    parts.append(_table(verdict_table(found), 2))
    return parts


def _forecast_section(run, models: list[str]) -> list[str]:
    forecast = forecast_period(run.record)
    shown = [k for k in models if f"forecast_{k}" in run.units.columns]
    if forecast is None or not shown:
        return []
    esc = html.escape
    period = f"{forecast.get('start')} – {forecast.get('end')}"
    parts = [f"<h2>Forecast for {esc(period)}</h2>"]
    parts.append(f"<p>{esc(forecast_sentence(forecast))}</p>")
    images = "".join(
        f"<div><img alt='forecast map {k}' src='data:image/png;base64,"
        f"{risk_image(run.units, f'forecast_{k}', f'{display_name(k)} - forecast (log scale)')}'>"
        "</div>"
        for k in shown
    )
    parts.append(f"<div class='grid'>{images}</div>")
    for k in shown:
        parts += [
            f"<h3>Top places of the forecast: {esc(display_name(k))}</h3>",
            _table(forecast_places(run.units, k, 10), 2),
        ]
    return parts


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
    esc = html.escape
    title = esc(m.label or m.name or Path(run.path).name)
    try:
        created = time.strftime("%Y-%m-%d %H:%M", time.localtime(m.created))
    except (TypeError, ValueError, OverflowError, OSError):
        created = "?"
    models = [k for k in MODEL_KINDS if f"risk_{k}" in run.units.columns]
    crimes = m.crimes or {}
    n_units = f"{m.n_units if m.n_units is not None else len(run.units):,}"
    if include_incidents is None:
        report_cfg = m.config.get("report") or {}
        include_incidents = bool(
            isinstance(report_cfg, dict) and report_cfg.get("include_incidents")
        )
    include_incidents = include_incidents and not for_planners
    parts = [
        f"<h1>Risk Terrain Model: {title}</h1>",
        f"<p class='muted'>Created {created} · {n_units} {esc(m.unit_kind or '')} "
        f"units · CRS {esc(m.crs or '')} · crimes: "
        f"{esc(str(crimes.get('train', '?')))} in the training period, "
        f"{esc(str(crimes.get('test', '?')))} in the test period.</p>",
        "<p>Each unit's <b>relative risk score</b> is how many times more likely a crime is there "
        "than in the lowest-risk unit, because of the risk factors nearby. Incident rate ratios "
        "(IRR, the <i>relative risk values</i> of RTMDx) say how much each factor multiplies the "
        "expected count.</p>",
    ]
    if for_planners:
        parts.append(f"<p class='muted'>{esc(PLANNER_NOTE)}</p>")
    parts += _forecast_section(run, models)  # the map a planner acts on comes first
    parts += _verdict_section(run)
    if models:
        images = {
            k: risk_image(run.units, f"risk_{k}", f"{display_name(k)} - relative risk (log scale)")
            for k in models
        }
        maps = "".join(
            f"<div><img alt='risk map {k}' src='data:image/png;base64,{png}'></div>"
            for k, png in images.items()
        )
        heading = "Risk map (evaluation: model of period t)" if forecast_period(m) else "Risk map"
        parts += [f"<h2>{heading}</h2>", f"<div class='grid'>{maps}</div>"]
    coef, history = split_history(run.coefficients)
    given = " given crime history" if has_history(m, run.coefficients) else ""
    if not coef.empty:
        parts.append(f"<h2>Risk factors (incident rate ratios{given})</h2>")
        if given:
            parts.append(
                "<p class='muted'>Crime history is in the model as fixed covariates, so each "
                "IRR is how much a factor multiplies the expected count <b>given the place's "
                "crime history</b>.</p>"
            )
        for model, rows in coef.groupby("model", sort=False):
            cols = [c for c in COEF_COLUMNS if c in rows.columns]
            parts += [f"<h3>{esc(display_name(model))}</h3>", _table(rows[cols])]
    if not history.empty:
        cols = [c for c in ("model", *COEF_COLUMNS) if c in history.columns and c != "set"]
        parts += [
            "<h2>Crime history (fixed covariates)</h2>",
            "<p class='muted'>hist<i>j</i>_unit: crimes in the unit in the <i>j</i>-th period "
            "before; hist<i>j</i>_<i>d</i>m: crimes within <i>d</i> metres of its point.</p>",
            _table(history[cols]),
        ]
    parts += [
        "<h2>Accuracy: PAI in and out of sample</h2>",
        "<p class='muted'>PAI = share of crimes captured / share of area flagged. "
        "Out of sample = the model of period t scored on crimes of period t+1.</p>",
    ]
    if not run.curves.empty:
        parts.append(
            f"<img alt='PAI curves' src='data:image/png;base64,{_curves_image(run.curves)}'>"
        )
    parts.append(_table(_metrics_table(run.accuracy), 2))
    if not run.conjunctive.empty:
        shown = {"model", "profile", "units", "expected", "dominant"}
        if not for_planners:
            shown |= {"observed_train", "observed_test"}
        conj = run.conjunctive.drop(columns=[c for c in run.conjunctive.columns if c not in shown])
        parts += [
            "<h2>Conjunctive analysis (combinations of risk factors)</h2>",
            "<p class='muted'>Dominant profiles (CACC): at least 5 units when there are fewer than "
            "1,000 units, else at least 10.</p>",
            _table(conj.head(40), 2),
        ]
    if not run.top_places.empty:
        parts += ["<h2>Top places</h2>", _table(run.top_places.head(50), 2)]
    if not run.stability.empty:
        parts += [
            "<h2>Seed stability (deep-learning RTM)</h2>",
            "<p class='muted'>How often each variable was selected across random seeds, and the "
            "spread of its IRR.</p>",
            _table(run.stability, 3),
        ]
    if include_incidents:
        parts += _incidents_section(run)
    about = {"timings_s": m.timings or {}, "device": m.device, "versions": m.versions}
    parts += [
        "<h2>About this run</h2>",
        f"<pre>{esc(json.dumps(about, indent=1, default=str))}</pre>",
    ]
    body = "\n".join(parts)
    return (
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{title}</title>"
        f"<style>{CSS}</style></head><body>{body}</body></html>"
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
