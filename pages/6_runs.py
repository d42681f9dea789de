"""Runs: every run folder on disk (from the app or the `rtm` command); open, compare, delete."""

import streamlit as st

from rtm_app import cache, state, tables, widgets
from rtm_app.run_compare import intervention_section
from rtm_app.run_list import run_names, runs_table
from rtm_core.errors import RTMError
from rtm_core.record.folder import delete_run

st.title("Runs")
st.caption(f"Run folders in `{state.runs_dir().resolve()}`, newest first.")
widgets.show_flash()
runs = cache.runs(state.runs_dir())
if not runs:
    st.info("No run yet. Start one on the Train page, or with `rtm run --demo --out runs/demo`.")
    st.stop()

st.dataframe(runs_table(runs), hide_index=True, width="stretch")
complete = [r for r in runs if r.status == "complete"]
names = run_names(runs)
labels = {str(r.path): r.label for r in runs}

st.subheader("Open a run")
if complete:
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    chosen = left.selectbox("Complete run", [str(r.path) for r in complete], format_func=names.get)
    if right.button("Open in Results", type="primary", icon=":material/insights:"):
        state.select_run(chosen)
        st.switch_page(widgets.RESULTS_PAGE)
    again, show = st.columns([1, 3], vertical_alignment="center")
    if again.button("Run again", icon=":material/replay:", help="same config and inputs"):
        try:
            job_id = widgets.run_again(chosen, labels[chosen])
        except RTMError as exc:
            widgets.show_error(exc)
        else:
            widgets.flash(f"Started {names[chosen]} again (job {job_id}); see the sidebar.")
            st.rerun()
    if show.toggle("Open config", help="the run's config.toml: `rtm run config.toml` repeats it"):
        widgets.show_run_config(chosen)
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
left, right = st.columns([3, 1], vertical_alignment="bottom")
victim = left.selectbox("Run to delete", [str(r.path) for r in runs], format_func=names.get)
if right.button("Delete...", icon=":material/delete:"):
    state.ask_delete(victim)
if state.delete_asked() == victim:
    st.warning(f"Delete **{names[victim]}** and all its files? This cannot be undone.")
    yes, no = st.columns(2)
    if yes.button("Yes, delete it", type="primary"):
        try:
            delete_run(victim, state.runs_dir())
        except RTMError as exc:
            widgets.show_error(exc)
        else:
            if str(state.selected_run()) == victim:
                state.select_run(None)
            state.ask_delete(None)
            widgets.flash(f"Deleted {names[victim]}.")
            st.rerun()
    if no.button("Keep it"):
        state.ask_delete(None)
        st.rerun()
