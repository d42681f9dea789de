"""Backtest: the study repeated with the test period moved back; PAI at 5 % by origin."""

import streamlit as st

from rtm_app import backtest, backtest_sections, cache, permissions, state, widgets
from rtm_app.job_cards import backtest_card, job_list, open_finished_backtest
from rtm_app.train_settings import check_models
from rtm_core.backtest.report import list_backtests, load_backtest
from rtm_core.errors import RTMError

st.title("Backtest")
st.caption(
    "A rolling backtest repeats the whole study with the training and test periods moved back "
    "one period at a time (history windows move with them) and scores every model and "
    "baseline out of sample at each origin. A model that beats last period's hot spots once "
    "may be lucky; one that beats them at every origin is not."
)
data = state.dataset()
# a run's settings re-run its kept inputs: the owner's or an admin's to use
runs = permissions.visible(cache.runs(state.runs_dir()), "rerun")
sources = backtest.settings_sources(runs)
source = st.selectbox(
    "Use the settings of",
    list(sources),
    format_func=sources.get,
    key="backtest_source",
    help="A run's study, risk factors, history and model settings, as kept in its folder; "
    "or the data set as the Data and Risk factors pages hold it now.",
)
run_config, reason = None, ""
try:
    run_config = backtest.run_settings(source) if source else None
except RTMError as exc:
    reason = widgets.error_line(exc)
else:
    reason = "" if source else backtest.unavailable_reason(data)
if reason:
    st.warning(reason, icon=":material/warning:")
    if not source:
        st.page_link(widgets.DATA_PAGE, label="Go to Data", icon=":material/upload_file:")
else:
    presets = backtest.preset_options(run_config)
    with st.form("backtest_settings", enter_to_submit=False):
        top = st.columns([1, 2, 2])
        origins = top[0].number_input(
            "Origins",
            min_value=backtest.MIN_ORIGINS,
            max_value=backtest.MAX_ORIGINS,
            value=backtest.default_origins(),
            help="Test periods: the configured one and the periods before it.",
        )
        preset = top[1].selectbox("Model settings", list(presets), format_func=presets.get)
        kinds = widgets.model_pills(top[2])
        name = backtest.default_label(runs, source, data)
        label = st.text_input("Backtest label", placeholder=f"e.g. {name}, 3 origins")
        go = st.form_submit_button("Start backtest", type="primary", icon=":material/play_arrow:")
    if go:
        try:
            models = check_models(kinds)
            config = backtest.backtest_config(data, int(origins), preset, models, run_config)
            backtest.start(config, label.strip() or name)
        except RTMError as exc:  # bad settings, or the per-user limit
            widgets.show_error(exc)
        else:
            st.rerun()

if backtest.my_backtests():
    st.subheader("Your backtests")
job_list(backtest.my_backtests, backtest_card, on_finished=open_finished_backtest)

st.subheader("Finished backtests")
found = [
    b for b in backtest.visible(list_backtests(backtest.backtests_dir())) if b.status == "complete"
]
if not found:
    st.caption(
        f"None yet in `{backtest.backtests_dir()}`. "
        "From the command line: `rtm backtest config.toml --out DIR`."
    )
    st.stop()
names = {str(b.path): f"{b.label} · {len(b.origins)} origins · {b.name}" for b in found}
state.pick_backtest_to_open(names)
chosen = st.selectbox("Backtest", list(names), format_func=names.get, key=state.BACKTEST_PICK)
try:
    files = load_backtest(chosen)
except RTMError as exc:
    widgets.show_error(exc)
    st.stop()

backtest_sections.verdict_and_chart(files)
backtest_sections.summary(files)
backtest_sections.origin_actions(files)
