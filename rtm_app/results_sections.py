"""The Results page's sections, each drawn from one loaded run (:class:`RunFiles`).

The forecast (when the run has one), the IRR tables, the risk map, the accuracy curves and the
conjunctive table with the top places (the verdict and calibration sections are in
:mod:`rtm_app.verdict_sections`); the page only orders them.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from rtm_app import cache, charts, maps, state, tables, widgets
from rtm_app.verdict_sections import forecast_warnings
from rtm_core.config import MODEL_KINDS
from rtm_core.results.places import offered_places, tie_note
from rtm_core.results.reading import model_character
from rtm_core.results.summary import forecast_places, forecast_sentence

NUMBER = st.column_config.NumberColumn(format="%.3f")
P_VALUE = st.column_config.NumberColumn(format="%.2e")
METRICS = {"pai": "PAI", "hit_rate": "Hit rate", "pei": "PEI"}
HISTORY_NOTE = (
    " Crime history is in the model as fixed covariates, so each IRR of the environment "
    "is its effect **given the place's crime history**."
)


def scored_models(units: pd.DataFrame, prefix: str = "risk") -> list[str]:
    """The models with a ``<prefix>_<kind>`` column in a run's units table.

    Parameters
    ----------
    units : DataFrame
        The run's units table.
    prefix : {"risk", "forecast"}
        Risk scores, or the forecast's expected counts.

    Returns
    -------
    list of str
        In :data:`~rtm_core.config.MODEL_KINDS` order.
    """
    return [k for k in MODEL_KINDS if f"{prefix}_{k}" in units.columns]


@st.fragment
def forecast_section(run, forecast: dict, *, counts: bool = True) -> None:
    """The forecast map a planner acts on, with its top places and the factors there.

    Parameters
    ----------
    run : RunFiles
        The loaded run.
    forecast : dict
        Its forecast period (:func:`~rtm_core.results.summary.forecast_period`).
    counts : bool
        Crime counts in the map's tooltips (False on the Brief: nothing that places a crime).
    """
    st.subheader(f"Forecast for {forecast['start']} – {forecast['end']}")
    st.markdown(forecast_sentence(forecast))
    pick, _ = st.columns([1, 3])
    model = pick.radio(
        "Model",
        scored_models(run.units, "forecast"),
        format_func=charts.model_name,
        key="forecast_model",
    )
    deck, classes = cache.forecast_map(run.path, model, state.online_basemap(), counts=counts)
    st.pydeck_chart(deck, height=560, key="forecast_map")
    widgets.legend(classes, "Forecast, expected crimes:")
    forecast_warnings(run, model)
    n = st.slider("Top places of the forecast", 5, 25, 10, key="forecast_top")
    places = forecast_places(run.units, model, n)
    st.dataframe(
        places,
        hide_index=True,
        width="stretch",
        column_config={"forecast": NUMBER},
        key="forecast_places",
    )
    ties = tie_note(run.units[f"forecast_{model}"], places["forecast"], what="forecast")
    if ties:
        st.caption(ties)


def irr_section(run, history: bool) -> None:
    """IRR table and forest chart of the risk factors, then the crime-history rows.

    Parameters
    ----------
    run : RunFiles
        The loaded run.
    history : bool
        Whether the run had crime history (the IRRs then read "given crime history").
    """
    given = " given crime history" if history else ""
    st.subheader(f"Risk factors: incident rate ratios{given}")
    st.caption(
        "IRR = how many times a factor multiplies the expected number of crimes in a unit, "
        "with its 95 % interval. Only one factor per set is kept; fixed terms have no set."
        + (HISTORY_NOTE if history else "")
    )
    numbers = {c: NUMBER for c in ("IRR", "95 % low", "95 % high")} | {"p-value": P_VALUE}
    st.dataframe(
        tables.irr_table(run.coefficients),
        hide_index=True,
        width="stretch",
        column_config=numbers | {"selected share": NUMBER},
        key="irr_table",
    )
    labels = {}
    if {"name", "label"} <= set(run.variables.columns):
        labels = dict(zip(run.variables["name"], run.variables["label"], strict=True))
    forest = charts.irr_forest(run.coefficients, labels, given=given)
    if forest is not None:
        st.altair_chart(forest, width="stretch")
    history_rows = tables.irr_table(run.coefficients, history=True)
    if history_rows.empty:
        return
    st.markdown("**Crime history (fixed covariates)**")
    st.caption(
        "`hist{j}_unit`: crimes in the unit in the j-th period before; `hist{j}_{d}m`: "
        "crimes within d metres of the unit's point (log(1 + count) unless the run chose "
        "counts)."
    )
    st.dataframe(
        history_rows.drop(columns=["set", "selected share"], errors="ignore"),
        hide_index=True,
        width="stretch",
        column_config=numbers,
        key="history_table",
    )


@st.fragment
def risk_map_section(run, has_forecast: bool, *, counts: bool = True) -> None:
    """The risk map with its model choice and factor overlays (reruns on its own).

    Parameters
    ----------
    run : RunFiles
        The loaded run.
    has_forecast : bool
        Whether the run forecasts (the map then says it is the model of period t).
    counts : bool
        Crime counts in the map's tooltips (False on the Brief).
    """
    st.subheader("Risk map (evaluation: model of period t)" if has_forecast else "Risk map")
    models = scored_models(run.units)
    if not models:
        st.info("This run has no model risk score to map.")
        return
    pick, overlay = st.columns([1, 3])
    model = pick.radio("Model", models, format_func=charts.model_name, key="map_model")
    labels = cache.factor_labels(run, model)
    note = cache.map_note(run)  # a large grid: blocks, no factor rings
    chosen = (
        []
        if note
        else overlay.multiselect("Ring the units where these risk factors are present", labels)
    )
    online = state.online_basemap()
    deck, classes = cache.risk_map(run.path, model, tuple(chosen), online, counts=counts)
    st.pydeck_chart(deck, height=560, key="risk_map")
    if note:
        st.caption(note)
    widgets.legend(classes, "Relative risk score:")
    if labels:
        st.caption(
            "Risk factors (numbers in the tooltip): "
            + "; ".join(f"**{k}** {label}" for k, label in enumerate(labels, start=1))
        )
    if chosen:
        palette = maps.PALETTE
        rings = [(maps.hex_color(palette[k % len(palette)]), n) for k, n in enumerate(chosen)]
        widgets.legend(rings, "Rings:")


def accuracy_section(run) -> None:
    """Accuracy curves (PAI, hit rate or PEI) and their read-outs."""
    st.subheader("Accuracy in and out of sample")
    st.caption(
        "Units ranked by predicted risk and flagged until a share of the area is covered. "
        "PAI = share of crimes captured / share of area flagged. Solid lines: RTM models; "
        "dashed: baselines (prior counts, KDE of prior crimes, gradient boosting)."
    )
    metric = st.segmented_control(
        "Measure", list(METRICS), format_func=METRICS.get, default="pai", key="curve_metric"
    )
    metric = metric or "pai"
    curves = charts.accuracy_curves(run.curves, metric)
    if curves is not None:
        st.altair_chart(curves, width="stretch")
    st.caption(
        f"{METRICS[metric]} at 1 %, 5 % and 10 % of the area, and over the units whose "
        "predicted risk has a z-score above 2 (the seed's rule)."
    )
    st.dataframe(
        tables.readouts(run.metrics, metric),
        hide_index=True,
        width="stretch",
        column_config={c: NUMBER for c in tables.READOUT_KEYS.values()},
    )


def conjunctive_section(run) -> None:
    """Units grouped by their combination of selected factors, and the top places."""
    st.subheader("Conjunctive analysis and top places")
    models = scored_models(run.units)
    if not models:
        return
    model = st.radio(
        "Model", models, format_func=charts.model_name, horizontal=True, key="table_model"
    )
    st.caption(
        "Units grouped by their combination of selected risk factors: units, expected crimes "
        "(model) and observed crimes in t and t+1. Dominant profiles (CACC): at least 5 units "
        "when there are fewer than 1,000 units, else at least 10."
    )
    st.dataframe(
        tables.conjunctive(run.conjunctive, model),
        hide_index=True,
        width="stretch",
        column_config={"expected": NUMBER, "expected_rate": NUMBER},
    )
    n = st.slider("Top places", min_value=5, max_value=25, value=10)
    character = model_character(run.coefficients, model)
    places, note = offered_places(
        tables.top_places(run.top_places, model, n), run.units[f"risk_{model}"], character
    )
    if note:
        (st.info if places.empty else st.caption)(note)
    if not places.empty:
        st.dataframe(places, hide_index=True, width="stretch", column_config={"score": NUMBER})
