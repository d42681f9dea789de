"""RTM dashboard: Data → Risk factors → Train → Results → Stability → Runs → Export →
Backtest, and the Brief a planner acts on.

Run with ``make run`` (``streamlit run app.py --server.address 127.0.0.1``). This file only
sets the page up, lets the login gate decide who may come in, routes between the pages the
user's role may open and draws the shared sidebar; every computation lives in ``rtm_core``.
The page scripts are in ``views/`` (not ``pages/``), so this navigation is the only way to a
page (see :mod:`rtm_app.auth`).
"""

import streamlit as st

from rtm_app import auth, widgets

st.set_page_config(page_title="Risk Terrain Modeling", page_icon="🗺️", layout="wide")

ANALYSTS = ("admin", "analyst")
EVERYONE = ("admin", "analyst", "planner")


def page(script: str, title: str, icon: str, roles=ANALYSTS, **options) -> tuple:
    """A page of ``views/`` and the roles that may open it."""
    return st.Page(f"views/{script}", title=title, icon=f":material/{icon}:", **options), roles


PAGES = [
    page("1_data.py", "Data", "upload_file", default=True),
    page("2_risk_factors.py", "Risk factors", "layers"),
    page("3_train.py", "Train", "model_training"),
    page("4_results.py", "Results", "insights"),
    page("5_stability.py", "Stability", "stacked_bar_chart"),
    page("6_runs.py", "Runs", "folder_open"),
    page("7_export.py", "Export", "download"),
    page("8_backtest.py", "Backtest", "timeline"),
    page("9_brief.py", "Brief", "summarize", EVERYONE),
]
AUDIT = page("audit.py", "Audit log", "policy", ("admin",))  # when others are served

visitor = auth.gate()  # stops here with the login, the no-role page or a setup problem
page = st.navigation(auth.pages_for(visitor, PAGES + ([AUDIT] if visitor.served else [])))
with st.sidebar:
    auth.user_box(visitor)
    widgets.sidebar(analyst=visitor.user.role in ANALYSTS)
auth.banner(visitor)
page.run()
