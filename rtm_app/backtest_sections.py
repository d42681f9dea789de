"""The Backtest page's view of one finished backtest: verdict, chart, summary, its origins'
run folders, downloads and "run again". Jobs and charts come from :mod:`rtm_app.backtest`.
"""

from __future__ import annotations

import streamlit as st

from rtm_app import backtest, state, widgets
from rtm_core.backtest.report import BacktestFiles, verdict
from rtm_core.errors import RTMError
from rtm_core.models.registry import display_name
from rtm_core.record.folder import BACKTEST_REPORT_FILE, BACKTEST_TABLE_FILE
from rtm_core.results.summary import verdict_table

__all__ = ["origin_labels", "again_origins", "verdict_and_chart", "summary", "origin_actions"]


def origin_labels(manifest: dict) -> dict[str, str]:
    """Origin -> "test <start> – <end> · trained on <start> – <end>" (newest first)."""
    return {
        o["origin"]: f"test {' – '.join(o['test'])} · trained on {' – '.join(o['train'])}"
        for o in manifest.get("origins", [])
    }


def again_origins(manifest: dict) -> int:
    """Origins offered to run a backtest again: as many as it had, within the page's range."""
    n = len(manifest.get("origins", []))
    return min(max(n, backtest.MIN_ORIGINS), backtest.MAX_ORIGINS)


def verdict_and_chart(files: BacktestFiles) -> None:
    """Each RTM model against the best baseline (mean PAI over the origins, with the
    bootstrap interval), and PAI at 5 % by origin."""
    result = verdict(files.table, files.comparison, files.characters)
    best = (
        f" Best mean PAI at 5 %: **{display_name(result.best_model)}**."
        if result.best_model
        else ""
    )
    below = all(v.flag == "below" for v in result.verdicts)
    if result.rtm_wins:
        st.success(result.sentence + best, icon=":material/check_circle:")
    elif below:  # every model below the best baseline, or no comparison to read
        st.warning(result.sentence + best, icon=":material/info:")
    else:
        st.info(result.sentence + best, icon=":material/info:")
    if result.verdicts:
        table = verdict_table(result.verdicts)
        st.table(table.style.format(precision=2, na_rep="-").hide(axis="index"))
    chart = backtest.pai_chart(files.table)
    if chart is None:
        st.info("No PAI at 5 % was defined at any origin (no test crimes).")
    else:
        st.altair_chart(chart, width="stretch")


def summary(files: BacktestFiles) -> None:
    """Mean and range of PAI over the origins, and what ran where."""
    st.markdown("**Mean and range over the origins** (PAI, out of sample)")
    frame = backtest.summary_frame(files.table)
    st.dataframe(
        frame,
        hide_index=True,
        width="stretch",
        column_config={
            c: st.column_config.NumberColumn(format="%.2f")
            for c in frame.columns
            if c.endswith("mean")
        },
        key="backtest_summary",
    )
    m = files.manifest
    st.caption(
        f"{len(m.get('origins', []))} origins · ran {m.get('engine', '?')} in "
        f"{m.get('timings', {}).get('total', 0):.0f} s · folder `{files.path}`"
    )


def origin_actions(files: BacktestFiles) -> None:
    """Open an origin's run folder in Results; download the report; run the backtest again."""
    pick, show = st.columns([3, 1], vertical_alignment="bottom")
    periods = origin_labels(files.manifest)
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
    for name, mime in ((BACKTEST_REPORT_FILE, "text/html"), (BACKTEST_TABLE_FILE, "text/csv")):
        data = (files.path / name).read_bytes()
        left.download_button(f"Download {name}", data, file_name=name, mime=mime)
    again = mid.number_input(
        "Origins",
        min_value=backtest.MIN_ORIGINS,
        max_value=backtest.MAX_ORIGINS,
        value=again_origins(files.manifest),
        key="backtest_again_origins",
    )
    if right.button(
        "Run this backtest again", icon=":material/replay:", help="same study and inputs"
    ):
        try:
            backtest.check_again(files)
            config = backtest.again_config(files.path, int(again))
            backtest.start(config, f"{files.manifest.get('label') or files.path.name} (again)")
        except RTMError as exc:
            widgets.show_error(exc)
        else:
            st.rerun()
