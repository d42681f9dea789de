"""Runs: the run folders this user may see (from the app or the `rtm` command); open, run
again, share, compare, delete."""

import streamlit as st

from rtm_app import cache, permissions, run_actions, state, tables, widgets
from rtm_app.run_compare import intervention_section
from rtm_app.run_list import run_names, runs_table
from rtm_core.errors import RTMError

st.title("Runs")
st.caption(f"Run folders in `{state.runs_dir().resolve()}`, newest first.")
widgets.show_flash()
login = state.visitor().login
runs = permissions.visible(cache.runs(state.runs_dir()), "counts")  # own, shared, or all: admin
if not runs:
    st.info("No run yet. Start one on the Train page, or with `rtm run --demo --out runs/demo`.")
    st.stop()

st.dataframe(runs_table(runs, ownership=login), hide_index=True, width="stretch")
complete = [r for r in runs if r.status == "complete"]
names = run_names(runs)

st.subheader("Open a run")
if complete:
    chosen = run_actions.open_section(complete, names)
    if login:
        run_actions.share_section(chosen, names)
else:
    st.caption("No complete run to open.")

st.subheader("Compare two runs")
if len(complete) >= 2:
    paths = [str(r.path) for r in complete]
    left, right = st.columns(2)
    a = left.selectbox("Run A", paths, index=1, format_func=names.get, key="compare_a")
    b = right.selectbox("Run B", paths, index=0, format_func=names.get, key="compare_b")
    try:
        run_a, run_b = cache.run_files(a), cache.run_files(b)
    except RTMError as exc:
        widgets.show_error(exc)
    else:
        st.markdown("**Selected variables**")
        st.dataframe(tables.compare_selected(run_a.manifest, run_b.manifest), hide_index=True)
        number = st.column_config.NumberColumn(format="%.3f")
        st.markdown("**IRR changes (B − A)**")
        st.dataframe(
            tables.compare_irr(run_a.coefficients, run_b.coefficients),
            hide_index=True,
            width="stretch",
            column_config={"IRR A": number, "IRR B": number, "change": number},
        )
        st.markdown("**Out-of-sample PAI**")
        st.dataframe(
            tables.compare_pai(run_a.metrics, run_b.metrics),
            hide_index=True,
            width="stretch",
            column_config={c: number for c in ("1 %", "5 %", "10 %")},
        )
        intervention_section(run_a, run_b)
else:
    st.caption("Comparing needs two complete runs.")

st.subheader("Delete a run")
run_actions.delete_section(runs, names)
