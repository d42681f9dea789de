"""Brief: what a planner acts on. Where risk concentrates, what drives it, how sure we are,
the map with its legend and area names, the top places, and the report to print."""

import streamlit as st

from rtm_app import brief_sections as sections
from rtm_app import cache, widgets

st.title("Brief")
run = widgets.open_run("brief")
brief = cache.brief(run.path)
if brief is None:
    st.info("This run has no model to brief on.")
    st.stop()

sections.summary(brief)
sections.brief_map(run, brief)
sections.top_places(brief)
sections.report_download(run)
