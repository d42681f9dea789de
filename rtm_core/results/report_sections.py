"""The analyst's sections of the report, after the brief: verdicts, forecast and risk maps,
accuracy (PAI/PEI), coefficients (IRRs, with "no reliable effect" where the 95 % interval
includes 1), crime history, conjunctive analysis (CACC), seed stability, top places per model
and, when the analyst opted in, the incidents. Each function returns HTML parts (a list of
strings) from one loaded run."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from rtm_core.config import MODEL_KINDS
from rtm_core.models.base import COEF_COLUMNS
from rtm_core.models.registry import display_name
from rtm_core.record.folder import INCIDENTS_FILE
from rtm_core.record.manifest import READOUT_KEYS, READOUT_TEXT, Metrics, RunFiles
from rtm_core.results.places import offered_places
from rtm_core.results.reading import coefficient_reading, model_character
from rtm_core.results.report_html import esc, image, table
from rtm_core.results.report_maps import curves_image, incidents_image, score_map
from rtm_core.results.report_verdicts import forecast_notes
from rtm_core.results.summary import (
    forecast_period,
    forecast_places,
    forecast_sentence,
    split_history,
)

__all__ = [
    "forecast_section",
    "risk_map_section",
    "accuracy_section",
    "coefficient_sections",
    "conjunctive_section",
    "stability_section",
    "top_places_section",
    "incidents_section",
]

NO_RELIABLE_EFFECT = "no reliable effect"
#: lat/lon to 1e-6 degrees (about 10 cm), not the tables' 2 decimals
DEGREES = {"lat": 6, "lon": 6}
_CONJUNCTIVE = ["model", "profile", "units", "expected", "observed_train", "observed_test"]


def _models(run: RunFiles, prefix: str = "risk") -> list[str]:
    return [k for k in MODEL_KINDS if f"{prefix}_{k}" in run.units.columns]


def _maps(run: RunFiles, models: list[str], prefix: str, legend: str, digits: int) -> str:
    """One map per model, side by side (two to a printed row)."""
    images = []
    for k in models:
        png = score_map(
            run.units,
            f"{prefix}_{k}",
            title=display_name(k),
            legend_title=legend,
            digits=digits,
            places=run.places,
            size=(4.6, 4.4),
        )
        images.append(f"<div>{image(png, f'{prefix} map {k}')}</div>")
    return f"<div class='grid'>{''.join(images)}</div>"


def forecast_section(run: RunFiles) -> list[str]:
    """The forecast of every model: maps and the top places of the forecast."""
    forecast = forecast_period(run.record)
    shown = _models(run, "forecast")
    if forecast is None or not shown:
        return []
    parts = [
        f"<h2>Forecast for {esc(forecast.get('start'))} – {esc(forecast.get('end'))}</h2>",
        f"<p>{esc(forecast_sentence(forecast))}</p>",
        _maps(run, shown, "forecast", "expected crimes", 3),
    ]
    for k in shown:
        top = forecast_places(run.units, k, 10)
        if "place" in run.units.columns and not top.empty:
            names = run.units.set_index("unit_id")["place"].fillna("")
            top.insert(2, "place", top["unit_id"].map(names).fillna(""))
        parts += [f"<h3>Top places of the forecast: {esc(display_name(k))}</h3>", table(top, 2)]
        parts += forecast_notes(run, k, top)
    return parts


def risk_map_section(run: RunFiles) -> list[str]:
    """The relative-risk map of every model (the model of period t)."""
    models = _models(run)
    if not models:
        return []
    heading = (
        "Risk map (evaluation: model of period t)" if forecast_period(run.record) else ("Risk map")
    )
    return [f"<h2>{heading}</h2>", _maps(run, models, "risk", "relative risk", 2)]


def _metrics_table(metrics: Metrics) -> pd.DataFrame:
    rows = []
    for model in metrics.names:
        for period in ("train", "test"):
            row = {"model": display_name(model), "period": period}
            for metric in ("pai", "pei"):
                values = metrics.readout(model, period, metric)
                for key in READOUT_KEYS:
                    value = np.nan if values[key] is None else values[key]
                    row[f"{metric.upper()} {READOUT_TEXT[key]}"] = value
            rows.append(row)
    return pd.DataFrame(rows)


def accuracy_section(run: RunFiles) -> list[str]:
    """PAI curves in and out of sample, and the PAI/PEI read-outs of every model and baseline."""
    parts = [
        "<h2>Accuracy: PAI and PEI in and out of sample</h2>",
        "<p class='muted'>PAI = share of crimes captured / share of area flagged; PEI = PAI / "
        "the best PAI possible at that share. Out of sample = the model of period t scored on "
        "crimes of period t+1.</p>",
    ]
    if not run.curves.empty:
        parts.append(image(curves_image(run.curves), "PAI curves"))
    parts.append(table(_metrics_table(run.accuracy), 2))
    return parts


def coefficient_sections(run: RunFiles, history: bool) -> list[str]:
    """IRR tables of the risk factors per model, then the crime-history covariates.

    Parameters
    ----------
    run : RunFiles
    history : bool
        Whether crime history is in the models (IRRs read "given crime history").

    Returns
    -------
    list of str
    """
    coef, hist = split_history(run.coefficients)
    given = " given crime history" if history else ""
    parts: list[str] = []
    if not coef.empty:
        parts.append(f"<h2>Coefficients: incident rate ratios{given}</h2>")
        parts.append(
            "<p class='muted'>IRR = how many times a factor multiplies the expected count, with "
            "its 95 % interval; an interval that includes 1 reads <i>no reliable effect</i>."
            + (
                " Crime history is in the model as fixed covariates, so each IRR is its effect "
                "<b>given the place's crime history</b>."
                if given
                else ""
            )
            + "</p>"
        )
        for model, rows in coef.groupby("model", sort=False):
            character = model_character(run.coefficients, str(model))
            parts.append(f"<h3>{esc(display_name(model))}</h3>")
            if character:
                parts.append(f"<p><b>{esc(display_name(model))} {esc(character)}.</b></p>")
            cols = [c for c in COEF_COLUMNS if c in rows.columns]
            parts.append(table(coefficient_reading(rows[cols])))
    if not hist.empty:
        cols = [c for c in ("model", *COEF_COLUMNS) if c in hist.columns and c != "set"]
        parts += [
            "<h2>Crime history (fixed covariates)</h2>",
            "<p class='muted'>hist<i>j</i>_unit: crimes in the unit in the <i>j</i>-th period "
            "before; hist<i>j</i>_<i>d</i>m: crimes within <i>d</i> metres of its point.</p>",
            table(coefficient_reading(hist[cols])),
        ]
    return parts


def conjunctive_section(run: RunFiles, *, counts: bool = True) -> list[str]:
    """Combinations of risk factors, with the dominant profiles (CACC).

    Parameters
    ----------
    run : RunFiles
    counts : bool
        False (the planners' report) leaves out the observed crimes: a profile of one unit
        would place them.

    Returns
    -------
    list of str
        HTML fragments (none without a conjunctive table).
    """
    if run.conjunctive.empty:
        return []
    wanted = _CONJUNCTIVE if counts else [c for c in _CONJUNCTIVE if not c.startswith("observed")]
    keep = [c for c in (*wanted, "dominant") if c in run.conjunctive.columns]
    return [
        "<h2>Conjunctive analysis (CACC)</h2>",
        "<p class='muted'>Units grouped by their combination of selected risk factors. Dominant "
        "profiles (CACC): at least 5 units when there are fewer than 1,000 units, else at "
        "least 10.</p>",
        table(run.conjunctive[keep].head(40), 2),
    ]


def stability_section(run: RunFiles) -> list[str]:
    """How often each variable was selected across the deep-learning seeds."""
    if run.stability.empty:
        return []
    return [
        "<h2>Seed stability (deep-learning RTM)</h2>",
        "<p class='muted'>How often each variable was selected across random seeds, and the "
        "spread of its IRR.</p>",
        table(run.stability, 3),
    ]


def top_places_section(run: RunFiles) -> list[str]:
    """The 25 highest relative-risk units of each model, with place and lat/lon; a model whose
    map is flat offers none, and a list that cuts through tied scores says so."""
    if run.top_places.empty:
        return []
    top = run.top_places.copy()
    if "place" in top.columns:  # "" is read back from the CSV as NaN
        top["place"] = top["place"].astype(object).where(top["place"].notna(), "")
    parts = [
        "<h2>Top places per model</h2>",
        "<p class='muted'>Units with the highest relative risk score; <i>tied</i>: the score "
        "equals that of the first unit left out, so which tied units are listed is "
        "arbitrary.</p>",
    ]
    for model, rows in top.groupby("model", sort=False):
        column = f"risk_{model}"
        if column not in run.units.columns:
            continue
        character = model_character(run.coefficients, str(model))
        shown, note = offered_places(rows.drop(columns="model"), run.units[column], character)
        parts.append(f"<h3>{esc(display_name(model))}</h3>")
        if note:
            parts.append(f"<p class='muted'>{esc(note)}</p>")
        if not shown.empty:
            parts.append(table(shown, 2, decimals=DEGREES))
    return parts


def incidents_section(run: RunFiles) -> list[str]:
    """The crime points, only where the analyst opted in (else why they are not shown)."""
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
    return [
        "<h2>Incidents (raw locations, included by the analyst)</h2>",
        image(incidents_image(run.units, incidents), "incident locations"),
        table(incidents.head(100), 1),
    ]
