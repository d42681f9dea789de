"""Risk factors: units, kernel and bandwidths per generator layer; how common each factor is."""

import pandas as pd
import streamlit as st

from rtm_app import cache, state, widgets
from rtm_app.dataset import parse_bandwidths, with_factor_settings
from rtm_app.history import MAX_LAGS, TRANSFORMS, history_settings, unavailable_reason
from rtm_core.errors import RTMError

KEEP = {"centre": "centre inside the boundary", "intersect": "touching the boundary"}
KERNELS = {"quartic": "Quartic (biweight)", "gaussian": "Gaussian (truncated)"}

st.title("Risk factors")
st.caption(
    "For each generator layer and bandwidth d: *distance* dummies (unit within d metres of "
    "the nearest feature) and *density* dummies (kernel density z-score above the threshold). "
    "All factors of one layer form a set; a model keeps at most one per set."
)
widgets.show_flash()
data = state.dataset()
if data.missing():
    st.warning("Add " + ", ".join(data.missing()) + " first.", icon=":material/warning:")
    st.page_link(widgets.DATA_PAGE, label="Go to Data", icon=":material/upload_file:")
    st.stop()

units = data.units
with st.form("factor_settings"):
    st.subheader("Units")
    if units.kind == "grid":
        left, right = st.columns(2)
        cell_size = left.number_input(
            "Cell size (m)", min_value=10.0, max_value=5000.0, value=float(units.cell_size)
        )
        keep = right.radio(
            "Keep cells with their",
            list(KEEP),
            format_func=KEEP.get,
            horizontal=True,
            index=list(KEEP).index(units.keep),
        )
        unit_settings = {"cell_size": float(cell_size), "keep": keep}
    else:
        try:
            frame = cache.layer(units.source).frame
            numeric = [c for c in frame.select_dtypes("number").columns if c != units.id_column]
        except RTMError as exc:
            widgets.show_error(exc)
            numeric = []
        left, right = st.columns(2)
        fixed = left.multiselect(
            "Fixed covariates (always in, any sign)",
            numeric,
            default=[c for c in units.fixed if c in numeric],
        )
        snap = right.number_input(
            "Snap distance for crimes (m)", min_value=1.0, value=float(units.snap_distance)
        )
        unit_settings = {"fixed": tuple(fixed), "snap_distance": float(snap)}

    st.subheader("Densities")
    left, right = st.columns(2)
    kernel = left.selectbox(
        "Kernel",
        list(KERNELS),
        format_func=KERNELS.get,
        index=list(KERNELS).index(data.features.kernel),
    )
    threshold = right.number_input(
        "Density threshold (z-score)", value=float(data.features.threshold), step=0.5
    )

    st.subheader("Generator layers")
    st.caption("One row per layer (one set). Bandwidths in metres, separated by spaces.")
    layers = pd.DataFrame(
        {
            "layer": [g.name for g in data.generators],
            "distance": ["distance" in g.measures for g in data.generators],
            "density": ["kde" in g.measures for g in data.generators],
            "bandwidths": [" ".join(map(str, g.bandwidths)) for g in data.generators],
        }
    )
    edited = st.data_editor(
        layers,
        hide_index=True,
        width="stretch",
        disabled=["layer"],
        column_config={
            "distance": st.column_config.CheckboxColumn("Distance dummies"),
            "density": st.column_config.CheckboxColumn("Density dummies"),
            "bandwidths": st.column_config.TextColumn("Bandwidths (m)", width="large"),
        },
        key="generator_settings",
    )

    st.subheader("Crime history")
    no_history = unavailable_reason(data)
    st.caption(
        no_history
        or "Past crimes as fixed covariates (always in the model, any sign): per lag j, the "
        "crimes of the j-th period before each target period in the unit and within each "
        "distance of its point. Risk factor IRRs then read *given the place's crime history*; "
        "the run also forecasts the period after the data."
    )
    left, middle, right = st.columns([1, 2, 2])
    history_lags = left.number_input(
        "Lags (periods before; 0 = off)",
        min_value=0,
        max_value=MAX_LAGS,
        value=0 if no_history else int(data.history.lags),
        step=1,
        disabled=bool(no_history),
        key="history_lags",
    )
    history_bandwidths = middle.text_input(
        "History distances (m)",
        value=" ".join(map(str, data.history.bandwidths)),
        disabled=bool(no_history),
        key="history_bandwidths",
    )
    history_transform = right.radio(
        "History as",
        list(TRANSFORMS),
        format_func=TRANSFORMS.get,
        index=list(TRANSFORMS).index(data.history.transform),
        horizontal=True,
        disabled=bool(no_history),
        key="history_transform",
    )
    build = st.form_submit_button("Build risk factors", type="primary", icon=":material/build:")

if build:
    try:
        settings = {
            row.layer: (
                tuple(m for m, on in (("distance", row.distance), ("kde", row.density)) if on),
                parse_bandwidths(str(row.bandwidths), row.layer),
            )
            for row in edited.itertuples()
        }
        history = history_settings(
            data, 0 if no_history else int(history_lags), history_bandwidths, history_transform
        )
        data = with_factor_settings(
            data,
            units=unit_settings,
            kernel=kernel,
            threshold=threshold,
            generators=settings,
            history=history,
        )
        config = data.run_config()
        cache.risk_factors(config)
    except RTMError as exc:
        widgets.show_error(exc)
    else:
        state.set_dataset(data)
        st.session_state["rtm_factors_key"] = cache.config_key(config)

config = data.run_config()
if st.session_state.get("rtm_factors_key") != cache.config_key(config):
    st.info("Press **Build risk factors** to compute them with these settings.")
    st.stop()

try:
    factors = cache.risk_factors(config)
except RTMError as exc:
    widgets.show_error(exc)
    st.stop()

variables = factors.variables.copy()
variables["in model"] = variables["prevalence"].between(0, 1, inclusive="neither")
st.subheader("How common each risk factor is")
st.caption(
    f"{len(variables)} dummies over {len(factors.table):,} units. Factors present in no unit "
    "or in every unit carry no information and are left out of the models."
)
table_col, map_col = st.columns([2, 3], gap="large")
with table_col:
    st.dataframe(
        variables[["label", "prevalence", "in model"]],
        hide_index=True,
        width="stretch",
        height=520,
        column_config={
            "label": st.column_config.TextColumn("Risk factor", width="medium"),
            "prevalence": st.column_config.ProgressColumn(
                "Share of units", format="percent", min_value=0.0, max_value=1.0
            ),
        },
    )
with map_col:
    labels = dict(zip(variables["name"], variables["label"], strict=True))
    usable = variables.loc[variables["in model"], "name"].tolist() or variables["name"].tolist()
    common = variables["prevalence"].between(0.05, 0.5)
    first = variables.loc[common, "name"].tolist()
    index = usable.index(first[0]) if first and first[0] in usable else 0
    variable = st.selectbox("Show on the map", usable, index=index, format_func=labels.get)
    st.pydeck_chart(
        cache.factor_map(config, variable, state.online_basemap()), height=480, key="factor_map"
    )
    widgets.legend([("#e66101", f"units where {labels[variable]}"), ("#505050", "layer features")])
st.page_link(widgets.TRAIN_PAGE, label="Next: train the models", icon=":material/model_training:")
