"""Brief: one run as a planner reads it: where risk is highest, what drives it, whether the
map beats last year's hot spots, and the files to take away. Nothing places a crime."""

import streamlit as st

from rtm_app import brief_sections as brief
from rtm_app import results_sections as sections
from rtm_app import widgets
from rtm_core.results.planner import planner_run

st.title("Brief")
st.caption(
    "The forecast or risk map of a run shared with you, the risk factors behind it and how "
    "well it did against simple hot-spot maps. Crime counts and incident locations are left "
    "out."
)
run = planner_run(widgets.open_run("brief", needs="open"))

brief.header(run)
brief.where_section(run)
sections.verdict_section(run)
brief.kept_factors(run)
brief.downloads(run)
