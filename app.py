"""RTM dashboard: Data → Risk factors → Train → Results → Stability → Runs → Export →
Backtest, and the Brief a planner acts on.

Run with ``make run`` (or ``streamlit run app.py``). This file only sets the page up, routes
between pages and draws the shared sidebar; every computation lives in ``rtm_core``.
"""

import streamlit as st

from rtm_app import widgets

st.set_page_config(page_title="Risk Terrain Modeling", page_icon="🗺️", layout="wide")

PAGES = [
    st.Page("pages/1_data.py", title="Data", icon=":material/upload_file:", default=True),
    st.Page("pages/2_risk_factors.py", title="Risk factors", icon=":material/layers:"),
    st.Page("pages/3_train.py", title="Train", icon=":material/model_training:"),
    st.Page("pages/4_results.py", title="Results", icon=":material/insights:"),
    st.Page("pages/5_stability.py", title="Stability", icon=":material/stacked_bar_chart:"),
    st.Page("pages/6_runs.py", title="Runs", icon=":material/folder_open:"),
    st.Page("pages/7_export.py", title="Export", icon=":material/download:"),
    st.Page("pages/8_backtest.py", title="Backtest", icon=":material/timeline:"),
    st.Page("pages/9_brief.py", title="Brief", icon=":material/summarize:"),
]

page = st.navigation(PAGES)
with st.sidebar:
    widgets.sidebar()
page.run()
