"""Audit log (admins): who logged in, opened, exported, shared, deleted or ran what, and what
was refused, newest first."""

import streamlit as st

from rtm_app import auth, state
from rtm_app.audit_table import audit_frame
from rtm_core.record.audit import AUDIT_ACTIONS, AUDIT_FILE, read_events

auth.require_role("admin")
st.title("Audit log")
st.caption(
    f"`{state.runs_dir().resolve() / AUDIT_FILE}`: one line per event, only ever appended. "
    "It records who did what to which run, never a file's contents."
)
events = audit_frame(read_events(state.runs_dir(), limit=20_000))
if events.empty:
    st.info("Nothing recorded yet.")
    st.stop()

left, right = st.columns([1, 2])
user = left.selectbox("User", ["everyone", *sorted(events["user"].unique())])
actions = right.multiselect("Actions", list(AUDIT_ACTIONS), default=list(AUDIT_ACTIONS))
shown = events[events["action"].isin(actions)]
if user != "everyone":
    shown = shown[shown["user"] == user]
st.caption(f"{len(shown):,} of {len(events):,} events.")
st.dataframe(shown, hide_index=True, width="stretch", key="audit_table")
