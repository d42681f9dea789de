"""Backtest: the study repeated with the test period moved back; PAI at 5 % by origin."""

import streamlit as st

from rtm_app import backtest, backtest_sections, state, widgets
from rtm_app.job_cards import backtest_card, open_finished_backtest
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
reason = backtest.unavailable_reason(data)
if reason:
    st.warning(reason, icon=":material/warning:")
    st.page_link(widgets.DATA_PAGE, label="Go to Data", icon=":material/upload_file:")
else:
    with st.form("backtest_settings"):
        top = st.columns([1, 2, 2])
        origins = top[0].number_input(
            "Origins",
            min_value=backtest.MIN_ORIGINS,
            max_value=backtest.MAX_ORIGINS,
            value=backtest.default_origins(),
            help="Test periods: the configured one and the periods before it.",
        )
        preset = top[1].selectbox(
            "Model settings", list(backtest.PRESETS), format_func=lambda k: backtest.PRESETS[k][0]
        )
        kinds = widgets.model_pills(top[2])
        label = st.text_input("Backtest label", placeholder=f"e.g. {data.name}, 3 origins")
        go = st.form_submit_button("Start backtest", type="primary", icon=":material/play_arrow:")
    if go:
        try:
            models = check_models(kinds)
            config = backtest.backtest_config(data, int(origins), preset, models)
            backtest.start(config, label.strip() or data.name)
        except RTMError as exc:
            widgets.show_error(exc)
        else:
            st.rerun()

if backtest.my_backtests():
    st.subheader("Your backtests")
widgets.live_job_list(backtest.my_backtests, backtest_card, on_finished=open_finished_backtest)

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
