"""The Results page's verdict and calibration sections, drawn from one loaded run.

The verdict comes from the run's comparison table (``comparison.csv``, or computed now for a
run written before it, or "not available"); the calibration from ``calibration.csv`` and the
forecast's warnings. Sentences and numbers are :mod:`rtm_core.results`' own.
"""

from __future__ import annotations

import streamlit as st

from rtm_app import cache, charts, tables, widgets
from rtm_core.config import MODEL_KINDS
from rtm_core.results.calibration import (
    calibration_sentence,
    fit_sentence,
    run_forecast_warnings,
)
from rtm_core.results.verdict import run_verdicts

__all__ = ["verdict_section", "calibration_section", "forecast_warnings"]

VERDICT_CAPTION = (
    "Out of sample (period t+1): each model beside the best baseline, the baseline with the "
    "highest PAI at that share of the area among every baseline the run scored (prior counts, "
    "KDE of prior crimes, gradient boosting and, with crime history, the history baselines). "
    "A model **beats** it only when the 90 % interval of the difference in PAI (a bootstrap "
    "over the test period's crimes) lies above 0, is **below** it only when the interval lies "
    "under 0, and is **level** otherwise."
)


def verdict_section(run) -> None:
    """Whether each model beats the best baseline out of sample, with the interval."""
    found = cache.comparison(run)
    verdicts = run_verdicts(run, found.table)
    if not verdicts:
        return
    st.subheader("Does the RTM beat the simplest maps?")
    st.caption(VERDICT_CAPTION)
    if found.note:
        (st.info if found.table is not None else st.warning)(found.note)
    for verdict in verdicts:
        widgets.verdict_box(verdict)
    table = tables.verdict_table(verdicts)
    if found.table is None or table.empty:
        return
    st.table(table.style.format(precision=2, na_rep="-").hide(axis="index"))


def forecast_warnings(run, model: str) -> None:
    """The warnings on one model's forecast (out of line with the data), if any."""
    for warning in run_forecast_warnings(run).get(model, []):
        st.warning(warning, icon=":material/warning:")


def calibration_section(run) -> None:
    """Expected against observed crimes by decile, per model, with the family kept."""
    models = [m for m in MODEL_KINDS if m in run.record.models]
    if not models:
        return
    st.subheader("Calibration: expected against observed crimes")
    st.caption(
        "Units cut into ten deciles of predicted risk: crimes the model expected (bars) and "
        "crimes observed (dots). In sample the totals agree by construction (calibrated in "
        "the large); out of sample they show how far the period moved."
    )
    table = run.calibration
    model = models[0]
    if len(models) > 1:
        model = st.radio(
            "Model", models, format_func=charts.model_name, horizontal=True, key="calib_model"
        )
    fit = fit_sentence(run, model)
    if fit:
        st.markdown(fit)
    forecast_warnings(run, model)
    if table is None or table.empty or model not in set(table["model"]):
        st.info(
            "Calibration is not available for this run: it was written before runs kept "
            "calibration.csv. Run it again (Runs page) to get it."
        )
        return
    st.markdown(calibration_sentence(table, model))
    chart = charts.calibration_chart(table, model)
    if chart is not None:
        st.altair_chart(chart)
