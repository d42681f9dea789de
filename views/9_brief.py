"""Brief: what a planner acts on. Where risk concentrates, what drives it, how sure we are,
the map with its legend and area names, the top places, how the map did against simple
hot-spot maps, and the files to take away. Nothing here places a crime."""

import streamlit as st

from rtm_app import brief_sections as sections
from rtm_app import cache, verdict_sections, widgets
from rtm_core.results.planner import planner_run

st.title("Brief")
run = planner_run(widgets.open_run("brief", needs="open"))
brief = cache.brief(run.path)
if brief is None:
    st.info("This run has no model to brief on.")
    st.stop()

sections.header(run)
sections.summary(brief)
sections.brief_map(run, brief)
sections.top_places(brief)
verdict_sections.verdict_section(run)
sections.downloads(run)
