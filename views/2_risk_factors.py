"""Risk factors: units, kernel and bandwidths per generator layer; how common each factor is."""

import streamlit as st

from rtm_app import cache, factor_form, state, widgets
from rtm_app.controls import FACTOR_FORM
from rtm_app.factor_rows import apply_factor_settings
from rtm_core.errors import RTMError

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

with st.form("factor_settings"):
    st.subheader("Units")
    unit_settings = factor_form.unit_controls(data)
    st.subheader("Densities")
    kernel, threshold = factor_form.density_controls(data)
    st.subheader("Generator layers")
    st.caption("One row per layer (one set). Bandwidths in metres, separated by spaces.")
    rows = factor_form.generator_editor(data)
    st.subheader("Crime history")
    history = factor_form.history_controls(data)
    build = st.form_submit_button("Build risk factors", type="primary", icon=":material/build:")

if build:
    try:
        data = apply_factor_settings(
            data,
            units=unit_settings,
            kernel=kernel,
            threshold=threshold,
            rows=rows,
            history=history,
        )
        config = data.run_config()
        cache.risk_factors(config)
    except RTMError as exc:
        widgets.show_error(exc, FACTOR_FORM)
    else:
        state.set_dataset(data)
        state.set_factors_built(cache.config_key(config))

config = data.run_config()
if not state.factors_built(cache.config_key(config)):
    st.info("Press **Build risk factors** to compute them with these settings.")
    st.stop()

try:
    factors = cache.risk_factors(config)
except RTMError as exc:
    widgets.show_error(exc)
    st.stop()

factor_form.prevalence_section(config, factors)
st.page_link(widgets.TRAIN_PAGE, label="Next: train the models", icon=":material/model_training:")
