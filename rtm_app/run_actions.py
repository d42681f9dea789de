"""The Runs page's actions on one run, each offered only to whom the access rules allow:
open it, run it again, read its config, share it, delete it (and every change audited)."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from rtm_app import auth, permissions, state, widgets
from rtm_core.errors import RTMError
from rtm_core.record.access import SHARE_GROUPS
from rtm_core.record.folder import RunInfo, delete_run
from rtm_core.record.sharing import change_sharing

__all__ = ["open_section", "share_section", "delete_section", "split_addresses"]


def _refused(why) -> str:
    return "" if why else f"Not for you: {why.reason}."


def open_section(complete: list[RunInfo], names: dict[str, str]) -> str:
    """Pick a complete run; *Open in Results*, *Run again* and *Open config* (the last two
    for its owner or an admin). Returns the run chosen (its path as text)."""
    labels = {str(r.path): r.label for r in complete}
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    paths = [str(r.path) for r in complete]
    chosen = left.selectbox("Complete run", paths, format_func=names.get)
    if right.button("Open in Results", type="primary", icon=":material/insights:"):
        state.select_run(chosen)
        st.switch_page(widgets.RESULTS_PAGE)
    again, show = st.columns([1, 3], vertical_alignment="center")
    rerun = permissions.decision("rerun", chosen)
    help_again = _refused(rerun) or "same config and inputs"
    if again.button("Run again", icon=":material/replay:", help=help_again, disabled=not rerun):
        try:
            job_id = widgets.run_again(chosen, labels[chosen])
        except RTMError as exc:
            widgets.show_error(exc)
        else:
            widgets.flash(f"Started {names[chosen]} again (job {job_id}); see the sidebar.")
            st.rerun()
    config = permissions.decision("config", chosen)
    help_config = _refused(config) or "the run's config.toml: `rtm run config.toml` repeats it"
    if show.toggle("Open config", help=help_config, disabled=not config):
        widgets.show_run_config(chosen)
    return chosen


def split_addresses(text: str) -> list[str]:
    """E-mail addresses typed into one box, separated by commas, semicolons or spaces."""
    return [part for part in text.replace(";", ",").replace(" ", ",").split(",") if part]


def share_section(chosen: str, names: dict[str, str]) -> None:
    """Who the chosen run is shared with; its owner or an admin may change it."""
    st.subheader("Share")
    owned = permissions.ownership(chosen)
    st.caption(f"{names[chosen]}: {owned.describe()}.")
    why = permissions.decision("share", chosen, owned)
    if not why:
        st.caption(f"{why.reason[0].upper()}{why.reason[1:]}.")
        return
    roles = [t for t in owned.shared_with if t in SHARE_GROUPS]
    people = [t for t in owned.shared_with if t not in SHARE_GROUPS]
    with st.form(f"share_{names[chosen]}"):
        left, right = st.columns([1, 2])
        chosen_roles = left.multiselect("Share with", list(SHARE_GROUPS), default=roles)
        typed = right.text_input(
            "and these people", ", ".join(people), placeholder="e-mail addresses, comma-separated"
        )
        save = st.form_submit_button("Save sharing", icon=":material/share:")
    if save:
        try:
            new = change_sharing(chosen, clear=True, add=[*chosen_roles, *split_addresses(typed)])
        except RTMError as exc:
            widgets.show_error(exc)
            return
        permissions.audit("share", chosen, new.describe())
        widgets.flash(f"{names[chosen]}: {new.describe()}.")
        st.rerun()
    link = auth.app_url()
    if link and "planners" in roles:
        st.caption(f"Planners open its Brief at {link}/brief?run={Path(chosen).name}")


def delete_section(runs: list[RunInfo], names: dict[str, str]) -> None:
    """Delete a run the user may delete (their own; any for an admin), after a yes."""
    deletable = permissions.visible(runs, "delete")
    if not deletable:
        st.caption("Only a run's owner or an admin may delete it; none of these is yours.")
        return
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    paths = [str(r.path) for r in deletable]
    victim = left.selectbox("Run to delete", paths, format_func=names.get)
    if right.button("Delete...", icon=":material/delete:"):
        state.ask_delete(victim)
    if state.delete_asked() != victim:
        return
    st.warning(f"Delete **{names[victim]}** and all its files? This cannot be undone.")
    yes, no = st.columns(2)
    if yes.button("Yes, delete it", type="primary"):
        try:
            permissions.check("delete", victim)
            delete_run(victim, state.runs_dir())
        except RTMError as exc:
            widgets.show_error(exc)
        else:
            permissions.audit("delete", victim)
            if str(state.selected_run()) == victim:
                state.select_run(None)
            state.ask_delete(None)
            widgets.flash(f"Deleted {names[victim]}.")
            st.rerun()
    if no.button("Keep it"):
        state.ask_delete(None)
        st.rerun()
