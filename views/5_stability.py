"""Stability: does the deep-learning RTM pick the same factors, IRRs and places across seeds?"""

import streamlit as st

from rtm_app import cache, charts, maps, state, widgets
from rtm_core.results.stability import tie_shared_units

st.title("Seed stability")
st.caption(
    "The deep-learning RTM is trained with several random seeds at once. A stable result picks "
    "the same variable in each set, with similar IRRs, and flags the same places."
)
run = widgets.open_run("stability")

seeds = run.manifest.get("seeds", [])
if run.stability.empty:
    st.info(
        "This run has no seed results: stability needs the deep-learning RTM. "
        "Start a run with it on the Train page.",
        icon=":material/info:",
    )
    st.stop()
st.markdown(f"**{len(seeds)} seeds** of the deep-learning RTM.")

st.subheader("How often each variable was selected")
st.caption("Share of the seeds that kept each variable of a set (or none of the set).")
bars = charts.selection_bars(run.stability)
if bars is not None:
    st.altair_chart(bars)

st.subheader("IRR across seeds")
st.caption("Median (dot), central 95 % (thick) and full range (thin) over the seeds.")
spread = charts.irr_spread(run.stability)
if spread is not None:
    st.altair_chart(spread, width="stretch")
else:
    st.caption("No variable was selected by any seed.")

st.subheader("Places in the top 5 % across seeds")
if "top5_share_dl" in run.units.columns:
    st.pydeck_chart(cache.share_map(run.path, state.online_basemap()), height=520, key="share_map")
    widgets.legend(
        maps.share_legend(),
        "Share of the seeds that put the unit in their top 5 % "
        "(units never there are not drawn: the map shows through):",
    )
    tied = tie_shared_units(run.units["top5_share_dl"], len(seeds))
    if tied:
        st.caption(
            f"{tied:,} pale yellow units are in no seed's top 5 % outright: they tie at some "
            "seed's cut-off and share its last places (less than one seed's worth each)."
        )
st.subheader("Selection table")
st.dataframe(
    run.stability,
    hide_index=True,
    width="stretch",
    column_config={"share": st.column_config.NumberColumn(format="percent")}
    | {c: st.column_config.NumberColumn(format="%.3f") for c in run.stability.columns[4:]},
)
