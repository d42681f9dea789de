"""Results of one run: IRR table and chart, risk map, accuracy curves, conjunctive table."""

import streamlit as st

from rtm_app import cache, charts, maps, state, tables, widgets

NUMBER = st.column_config.NumberColumn(format="%.3f")
METRICS = {"pai": "PAI", "hit_rate": "Hit rate", "pei": "PEI"}

st.title("Results")
run = widgets.open_run("results")

widgets.run_header(run)
models = [k for k in ("dl", "classical") if f"risk_{k}" in run.units.columns]

st.subheader("Risk factors: incident rate ratios (relative risk values)")
st.caption(
    "IRR = how many times a factor multiplies the expected number of crimes in a unit, "
    "with its 95 % interval. Only one factor per set is kept; fixed terms have no set."
)
st.dataframe(
    tables.irr_table(run.coefficients),
    hide_index=True,
    width="stretch",
    column_config={c: NUMBER for c in ("IRR", "95 % low", "95 % high", "selected share")}
    | {"p-value": st.column_config.NumberColumn(format="%.2e")},
    key="irr_table",
)
forest = charts.irr_forest(run.coefficients)
if forest is not None:
    st.altair_chart(forest, width="stretch")


@st.fragment
def risk_map_section() -> None:
    """The risk map with its model choice and factor overlays (reruns on its own)."""
    st.subheader("Risk map")
    if not models:
        st.info("This run has no model risk score to map.")
        return
    pick, overlay = st.columns([1, 3])
    model = pick.radio("Model", models, format_func=charts.model_name, key="map_model")
    labels = cache.factor_labels(run, model)
    chosen = overlay.multiselect("Ring the units where these risk factors are present", labels)
    deck, classes = cache.risk_map(run.path, model, tuple(chosen), state.online_basemap())
    st.pydeck_chart(deck, height=560, key="risk_map")
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


risk_map_section()

st.subheader("Accuracy in and out of sample")
st.caption(
    "Units ranked by predicted risk and flagged until a share of the area is covered. "
    "PAI = share of crimes captured / share of area flagged. Solid lines: RTM models; "
    "dashed: baselines (prior counts, KDE of prior crimes, gradient boosting)."
)
metric = st.segmented_control(
    "Measure", list(METRICS), format_func=METRICS.get, default="pai", key="curve_metric"
)
curves = charts.accuracy_curves(run.curves, metric or "pai")
if curves is not None:
    st.altair_chart(curves, width="stretch")
st.caption(
    f"{METRICS[metric or 'pai']} at 1 %, 5 % and 10 % of the area, and over the units whose "
    "predicted risk has a z-score above 2 (the seed's rule)."
)
st.dataframe(
    tables.readouts(run.metrics, metric or "pai"),
    hide_index=True,
    width="stretch",
    column_config={c: NUMBER for c in tables.READOUT_KEYS.values()},
)

st.subheader("Conjunctive analysis and top places")
if models:
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
    st.dataframe(
        tables.top_places(run.top_places, model, n),
        hide_index=True,
        width="stretch",
        column_config={"score": NUMBER},
    )
