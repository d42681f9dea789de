"""Train: choose the models and their settings, start a background run, follow its progress."""

import streamlit as st

from rtm_app import cache, state, widgets
from rtm_app.charts import model_name
from rtm_core.config import EvaluationConfig, ModelConfig

PRESETS = {
    "quick": ("Quick demo run (2 seeds, 300 + 300 steps)", 2, 300, 300),
    "full": ("Full run (20 seeds, 10,000 + 10,000 steps)", 20, 10_000, 10_000),
}
LOSSES = {"poisson": "Poisson", "negbin": "Negative binomial (NB2)"}
AREAS = {"measure": "area or street length", "count": "number of units"}


def apply_preset() -> None:
    """Copy the chosen preset into the form's fields."""
    preset = st.session_state.get("train_preset")
    if preset in PRESETS:
        _, seeds, burn_in, prune = PRESETS[preset]
        st.session_state.update(train_seeds=seeds, train_burn_in=burn_in, train_prune=prune)


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

history = data.run_config().history
if history.enabled:
    st.caption(
        f"Crime history in the models: {history.lags} lag(s), crimes in the unit and within "
        f"{', '.join(map(str, history.bandwidths))} m, as "
        f"{'log(1 + count)' if history.transform == 'log1p' else 'counts'} (set on Risk "
        "factors). The run also forecasts the period after the data."
    )
else:
    st.caption("No crime history in the models (set lags on the Risk factors page).")
manager = cache.job_manager()
cuda = cache.cuda_available()
if "train_seeds" not in st.session_state:
    st.session_state["train_preset"] = "quick"
    apply_preset()

st.segmented_control(
    "Preset",
    list(PRESETS),
    format_func=lambda key: PRESETS[key][0],
    key="train_preset",
    on_change=apply_preset,
)
with st.form("train_settings"):
    top = st.columns(3)
    kinds = top[0].pills(
        "Models",
        ["dl", "classical"],
        selection_mode="multi",
        default=["dl", "classical"],
        format_func=model_name,
    )
    loss = top[1].selectbox("Loss (deep-learning RTM)", list(LOSSES), format_func=LOSSES.get)
    devices = ["auto", "cpu", "cuda"] if cuda else ["auto", "cpu"]
    device = top[2].selectbox(
        "Device", devices, help="CUDA available" if cuda else "No CUDA device on this server"
    )
    steps = st.columns(3)
    burn_in = steps[0].number_input("Burn-in steps", min_value=1, step=100, key="train_burn_in")
    prune = steps[1].number_input("Prune steps", min_value=1, step=100, key="train_prune")
    seeds = steps[2].number_input("Seeds", min_value=1, max_value=500, key="train_seeds")
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
    if not kinds:
        st.error("No model chosen. Fix: pick the deep-learning RTM, the classical RTM or both.")
    else:
        model = ModelConfig(
            kinds=tuple(kinds),
            loss=loss,
            seeds=int(seeds),
            burn_in_steps=int(burn_in),
            prune_steps=int(prune),
            cancel_gate=gate,
            device=device,
        )
        state.set_model_config(model)
        job_id = manager.submit(
            data.run_config(model).replace(evaluation=EvaluationConfig(area=area)),
            state.runs_dir(),
            label=label.strip() or data.name,
            owner=state.session_id(),
        )
        state.add_job(job_id)
        st.rerun()  # so the sidebar shows the new job too


def job_card(job) -> None:
    """One job: status, progress bar with phase, step and loss, and its actions."""
    with st.container(border=True):
        head, action = st.columns([4, 1], vertical_alignment="center")
        head.markdown(f"**{job.label or job.out_dir.name}** · {job.status}")
        if job.active:
            st.progress(job.fraction, text=widgets.progress_text(job))
            if action.button("Cancel", key=f"cancel_{job.job_id}", icon=":material/stop:"):
                manager.cancel(job.job_id)
        elif job.status == "done":
            st.caption(f"Finished in {job.elapsed:.0f} s · `{job.result}`")
            if action.button("Open results", key=f"open_{job.job_id}", type="primary"):
                state.select_run(job.result)
                st.switch_page(widgets.RESULTS_PAGE)
        elif job.status == "failed":
            st.error(job.error, icon=":material/error:")
        else:
            st.caption("Cancelled: nothing was written.")


st.subheader("Your training jobs")
if not widgets.my_jobs():
    st.caption("None yet in this session.")
widgets.live_job_list(widgets.my_jobs, job_card)
