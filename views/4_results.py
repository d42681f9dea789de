"""Results of one run: the forecast (when the run has one) first, whether the RTM beats the
best baseline, IRR table and chart, risk map, accuracy curves, calibration, conjunctive table."""

import streamlit as st

from rtm_app import results_sections as sections
from rtm_app import verdict_sections, widgets
from rtm_core.results.summary import forecast_period, has_history

st.title("Results")
run = widgets.open_run("results")

widgets.run_header(run)
forecast = forecast_period(run.manifest)
if forecast is not None and sections.scored_models(run.units, "forecast"):
    sections.forecast_section(run, forecast)
verdict_sections.verdict_section(run)
sections.irr_section(run, has_history(run.manifest, run.coefficients))
sections.risk_map_section(run, forecast is not None)
sections.accuracy_section(run)
verdict_sections.calibration_section(run)
sections.conjunctive_section(run)
