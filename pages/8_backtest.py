"""Backtest: the study repeated with the test period moved back; PAI at 5 % by origin."""

import streamlit as st

from rtm_app import backtest, state, widgets
from rtm_app.charts import model_name
from rtm_core.backtest.report import list_backtests, load_backtest, model_label, verdict
from rtm_core.errors import RTMError

OPEN = "rtm_backtest_open"  # a backtest to show once the page reruns (one just finished)

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
        kinds = top[2].pills(
            "Models",
            ["dl", "classical"],
            selection_mode="multi",
            default=["dl", "classical"],
            format_func=model_name,
        )
        label = st.text_input("Backtest label", placeholder=f"e.g. {data.name}, 3 origins")
        go = st.form_submit_button("Start backtest", type="primary", icon=":material/play_arrow:")
    if go:
        if not kinds:
            st.error("No model chosen. Fix: pick the deep-learning RTM, the classical RTM or both.")
        else:
            try:
                config = backtest.backtest_config(data, int(origins), preset, tuple(kinds))
            except RTMError as exc:
                widgets.show_error(exc)
            else:
                backtest.start(config, label.strip() or data.name)
                st.rerun()


def job_card(job) -> None:
    """One backtest job: status, progress bar (origins done, origin and phase), cancel."""
    with st.container(border=True):
        head, action = st.columns([4, 1], vertical_alignment="center")
        head.markdown(f"**{job.label or job.out_dir.name}** · {job.status}")
        if job.active:
            st.progress(job.fraction, text=backtest.progress_text(job))
            if action.button("Cancel", key=f"cancel_bt_{job.job_id}", icon=":material/stop:"):
                backtest.manager().cancel(job.job_id)
        elif job.status == "done":
            st.caption(f"Finished in {job.elapsed:.0f} s · `{job.result}`")
        elif job.status == "failed":
            st.error(job.error, icon=":material/error:")
        else:
            st.caption("Cancelled: nothing was written.")


def open_finished(job) -> None:
    """Open a backtest that just finished in the list below."""
    if job.status == "done":
        st.session_state[OPEN] = str(job.result)


if backtest.my_backtests():
    st.subheader("Your backtests")
widgets.live_job_list(backtest.my_backtests, job_card, on_finished=open_finished)

st.subheader("Finished backtests")
found = [b for b in list_backtests(backtest.backtests_dir()) if b.status == "complete"]
if not found:
    st.caption(
        f"None yet in `{backtest.backtests_dir()}`. "
        "From the command line: `rtm backtest config.toml --out DIR`."
    )
    st.stop()
names = {str(b.path): f"{b.label} · {len(b.origins)} origins · {b.name}" for b in found}
if st.session_state.get(OPEN) in names:
    st.session_state["backtest_pick"] = st.session_state.pop(OPEN)
chosen = st.selectbox("Backtest", list(names), format_func=names.get, key="backtest_pick")
try:
    files = load_backtest(chosen)
except RTMError as exc:
    widgets.show_error(exc)
    st.stop()

result = verdict(files.table)
best = f" Best mean PAI at 5 %: **{model_label(result.best_model)}**." if result.best_model else ""
if result.rtm_wins:
    st.success(result.sentence + best, icon=":material/check_circle:")
else:
    st.warning(result.sentence + best, icon=":material/info:")
chart = backtest.pai_chart(files.table)
if chart is None:
    st.info("No PAI at 5 % was defined at any origin (no test crimes).")
else:
    st.altair_chart(chart, width="stretch")
st.markdown("**Mean and range over the origins** (PAI, out of sample)")
summary = backtest.summary_frame(files.table)
st.dataframe(
    summary,
    hide_index=True,
    width="stretch",
    column_config={
        c: st.column_config.NumberColumn(format="%.2f")
        for c in summary.columns
        if c.endswith("mean")
    },
    key="backtest_summary",
)
origins = files.manifest.get("origins", [])
st.caption(
    f"{len(origins)} origins · ran {files.manifest.get('engine', '?')} in "
    f"{files.manifest.get('timings', {}).get('total', 0):.0f} s · folder `{files.path}`"
)
pick, show = st.columns([3, 1], vertical_alignment="bottom")
periods = {
    o["origin"]: f"test {' – '.join(o['test'])} · trained on {' – '.join(o['train'])}"
    for o in origins
}
origin = pick.selectbox(
    "Origin (each is a complete run folder)",
    list(periods),
    format_func=periods.get,
    key="backtest_origin",
)
if show.button("Open in Results", icon=":material/insights:"):
    state.select_run(files.origin_dir(origin))
    st.switch_page(widgets.RESULTS_PAGE)
left, mid, right = st.columns([1, 1, 2], vertical_alignment="bottom")
report = (files.path / "backtest.html").read_bytes()
left.download_button("Download backtest.html", report, file_name="backtest.html", mime="text/html")
left.download_button(
    "Download backtest.csv",
    (files.path / "backtest.csv").read_bytes(),
    file_name="backtest.csv",
    mime="text/csv",
)
again = mid.number_input(
    "Origins",
    min_value=backtest.MIN_ORIGINS,
    max_value=backtest.MAX_ORIGINS,
    value=min(max(len(origins), backtest.MIN_ORIGINS), backtest.MAX_ORIGINS),
    key="backtest_again_origins",
)
if right.button("Run this backtest again", icon=":material/replay:", help="same study and inputs"):
    try:
        config = backtest.again_config(files.path, int(again))
    except RTMError as exc:
        widgets.show_error(exc)
    else:
        backtest.start(config, f"{files.manifest.get('label') or files.path.name} (again)")
        st.rerun()
