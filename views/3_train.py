"""Train: choose the models and their settings, start a background run, follow its progress."""

import streamlit as st

from rtm_app import cache, state, widgets
from rtm_app.controls import TRAIN_FORM
from rtm_app.job_cards import duplicate_confirm, job_list, start_training, training_card
from rtm_app.train_settings import (
    AREAS,
    LOSSES,
    PRESETS,
    device_options,
    history_note,
    model_config,
    preset_fields,
    training_config,
)
from rtm_core.errors import RTMError


def apply_preset() -> None:
    """Copy the chosen preset into the form's fields."""
    fields = preset_fields(state.widget_value(state.TRAIN_PRESET))
    if fields:
        state.fill_train_form(**fields)


st.title("Train")
st.caption(
    "Deep-learning RTM (burn-in with one random variable per set, then prune to the strongest "
    "and keep training; several seeds at once) and classical RTM (penalized Poisson, stepwise "
    "BIC, Poisson or negative binomial). Runs go on in the background: you can use the other "
    "pages meanwhile, and finished runs are kept on disk."
)
data = state.dataset()
if data.missing():
    st.warning("Add " + ", ".join(data.missing()) + " first.", icon=":material/warning:")
    st.page_link(widgets.DATA_PAGE, label="Go to Data", icon=":material/upload_file:")
    st.stop()

st.caption(history_note(data.run_config().history))
manager = cache.job_manager()
cuda = cache.cuda_available()
if not state.train_form_filled():
    state.fill_train_form(preset="quick", **preset_fields("quick"))

st.segmented_control(
    "Preset",
    list(PRESETS),
    format_func=lambda key: PRESETS[key][0],
    key=state.TRAIN_PRESET,
    on_change=apply_preset,
)
with st.form("train_settings", enter_to_submit=False):  # only the button starts a job
    top = st.columns(3)
    kinds = widgets.model_pills(top[0])
    loss = top[1].selectbox("Loss (deep-learning RTM)", list(LOSSES), format_func=LOSSES.get)
    device = top[2].selectbox(
        "Device",
        device_options(cuda),
        help="CUDA available" if cuda else "No CUDA device on this server",
    )
    steps = st.columns(3)
    burn_in = steps[0].number_input("Burn-in steps", min_value=1, step=100, key=state.TRAIN_BURN_IN)
    prune = steps[1].number_input("Prune steps", min_value=1, step=100, key=state.TRAIN_PRUNE)
    seeds = steps[2].number_input("Seeds", min_value=1, max_value=500, key=state.TRAIN_SEEDS)
    bottom = st.columns([2, 1, 1])
    label = bottom[0].text_input("Run label", placeholder=f"e.g. {data.name}, 150 m grid")
    area = bottom[1].selectbox(
        "PAI: share of",
        list(AREAS),
        format_func=AREAS.get,
        help="What accuracy curves flag a share of: unit area (street length for segments) "
        "or the number of units.",
    )
    gate = bottom[2].checkbox("Cancel gate (a set may drop out)", value=False)
    start = st.form_submit_button("Start training", type="primary", icon=":material/play_arrow:")

st.caption(
    f"CUDA available: **{'yes' if cuda else 'no'}**. "
    f"The server runs up to {manager.max_concurrent} training jobs at once; more wait in line."
)

if start:
    try:
        model = model_config(
            kinds,
            loss=loss,
            seeds=seeds,
            burn_in=burn_in,
            prune=prune,
            cancel_gate=gate,
            device=device,
        )
        config = training_config(data, model, area)
    except RTMError as exc:
        widgets.show_error(exc, TRAIN_FORM)
    else:
        state.set_model_config(model)
        try:
            started = start_training(config, label.strip() or data.name)
        except RTMError as exc:  # the per-user limit
            widgets.show_error(exc, TRAIN_FORM)
        else:
            if started:
                st.rerun()  # so the sidebar shows the new job too
duplicate_confirm()

st.subheader("Your training jobs")
if not widgets.my_jobs():
    st.caption("None yet in this session.")
job_list(widgets.my_jobs, training_card)
