"""The report's verdict, calibration and reading sections, as HTML fragments.

Called by :mod:`rtm_core.results.report`; each function takes the run and returns a list of
HTML strings (inline PNG images, every user-given text escaped), so the report only orders
them. The sentences are those of the Results page (:mod:`rtm_core.results.verdict`).
"""

from __future__ import annotations

import html

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd

from rtm_core.config import MODEL_KINDS
from rtm_core.models.registry import display_name
from rtm_core.record.manifest import RunFiles
from rtm_core.results.bootstrap import INTERVAL
from rtm_core.results.calibration import (
    calibration_sentence,
    fit_sentence,
    run_forecast_warnings,
)
from rtm_core.results.comparison import run_comparison
from rtm_core.results.places import tie_note
from rtm_core.results.report_html import table
from rtm_core.results.report_maps import png_base64
from rtm_core.results.summary import verdict_table
from rtm_core.results.verdict import run_verdicts

__all__ = [
    "calibration_image",
    "calibration_section",
    "forecast_notes",
    "verdict_section",
]


def verdict_section(run: RunFiles) -> list[str]:
    """ "Does the RTM beat the simplest maps?": each model's sentence, flag and table.

    Parameters
    ----------
    run : RunFiles

    Returns
    -------
    list of str
        HTML fragments; a note instead of the table when the run has no comparison.
    """
    found = run_comparison(run)
    verdicts = run_verdicts(run, found.table)
    if not verdicts:
        return []
    esc = html.escape
    parts = [
        "<h2>Does the RTM beat the simplest maps?</h2>",
        "<p class='muted'>Out of sample (period t+1): each model beside the best baseline (the "
        "baseline with the highest PAI there, among every baseline the run scored) at 1 %, 5 % "
        f"and 10 % of the area. A model <b>beats</b> it only when the {INTERVAL * 100:.0f} % "
        "interval of the difference in PAI (a bootstrap over the test period's crimes) lies "
        "above 0, is <b>below</b> it only when the interval lies under 0, and is "
        "<b>level</b> otherwise.</p>",
    ]
    if found.note:
        parts.append(f"<p class='muted'>{esc(found.note)}</p>")
    for verdict in verdicts:
        css = verdict.tone if verdict.tone in ("beats", "below") else "mixed"
        parts.append(
            f"<p class='verdict'><span class='{css}'>{esc(display_name(verdict.model))}: "
            f"{esc(verdict.headline)}.</span> {esc(verdict.sentence)}</p>"
        )
        if verdict.ties:
            parts.append(f"<p class='muted'>{esc(verdict.ties)}</p>")
    if found.table is not None:
        parts.append(table(verdict_table(verdicts), 2))
    return parts


def calibration_image(table: pd.DataFrame, model: str) -> str:
    """A PNG (base64): observed and expected crimes by decile of predicted risk, per period.

    Parameters
    ----------
    table : DataFrame
        ``calibration.csv``.
    model : str

    Returns
    -------
    str
    """
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.4), sharey=False)
    for ax, period in zip(axes, ("train", "test"), strict=True):
        rows = table[
            (table["model"] == model)
            & (table["period"] == period)
            & table["group"].str.startswith("decile")
        ]
        x = rows["group"].str.removeprefix("decile ").astype(int)
        ax.bar(x, rows["expected"], color="#c9d6ea", label="expected")
        ax.plot(x, rows["observed"], "o", color="#b42318", label="observed")
        ax.set_xticks(range(1, 11))
        ax.set_xlabel("decile of predicted risk (10 = riskiest)")
        ax.set_title("in sample (period t)" if period == "train" else "out of sample (t+1)")
        ax.grid(alpha=0.3, axis="y")
    axes[0].set_ylabel("crimes")
    axes[1].legend(fontsize=8)
    return png_base64(fig)


def calibration_section(run: RunFiles) -> list[str]:
    """ "Calibration": per model its family and calibration, the chart by decile, the totals,
    and the warnings on its forecast.

    Parameters
    ----------
    run : RunFiles

    Returns
    -------
    list of str
        HTML fragments ("not available" for a run written before ``calibration.csv``).
    """
    esc = html.escape
    table = run.calibration
    warnings = run_forecast_warnings(run)
    models = [m for m in MODEL_KINDS if m in run.record.models]
    parts = [
        "<h2>Calibration: expected against observed crimes</h2>",
        "<p class='muted'>Units cut into ten deciles of predicted risk: crimes the model "
        "expected (bars) and crimes observed (dots). In sample the totals agree by "
        "construction; out of sample they show how far the period moved.</p>",
    ]
    for model in models:
        parts.append(f"<h3>{esc(display_name(model))}</h3>")
        fit = fit_sentence(run, model)
        if fit:
            parts.append(f"<p>{esc(fit)}</p>")
        for warning in warnings.get(model, []):
            parts.append(f"<p class='below'>Warning: {esc(warning)}</p>")
        if table is None or table.empty or model not in set(table["model"]):
            parts.append(
                "<p class='muted'>Calibration is not available for this run (written before "
                "runs kept calibration.csv).</p>"
            )
            continue
        parts.append(f"<p>{esc(calibration_sentence(table, model))}</p>")
        png = calibration_image(table, model)
        parts.append(f"<img alt='calibration {esc(model)}' src='data:image/png;base64,{png}'>")
    return parts


def forecast_notes(run: RunFiles, model: str, places: pd.DataFrame) -> list[str]:
    """Under a forecast's top places: the warnings on the forecast and the ties of the list.

    Parameters
    ----------
    run : RunFiles
    model : str
    places : DataFrame
        The forecast's top places shown (``forecast`` column, highest first).

    Returns
    -------
    list of str
        HTML paragraphs (none when there is nothing to say).
    """
    esc = html.escape
    parts = [
        f"<p class='below'>Warning: {esc(w)}</p>" for w in run_forecast_warnings(run).get(model, [])
    ]
    column = f"forecast_{model}"
    if column in run.units.columns and "forecast" in places.columns:
        note = tie_note(run.units[column], places["forecast"].to_numpy(), what="forecast")
        if note:
            parts.append(f"<p class='muted'>{esc(note)}</p>")
    return parts
