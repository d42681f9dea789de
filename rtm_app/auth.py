"""Login and the gate every page passes: who is logged in, their role, the pages they get.

``app.py`` calls :func:`gate` before ``st.navigation``, so no page runs for anyone the gate
stops. The page scripts live in ``views/``, not ``pages/``: Streamlit runs a script in a
folder named ``pages/`` when its URL is opened on a freshly started server, without running
``app.py`` (until some session has called ``st.navigation``), which would bypass the gate.
With ``views/``, ``st.navigation`` in ``app.py`` is the only way to a page.

What the gate shows instead of a page (one line each, nothing else, no sidebar):

- login not configured, served beyond loopback: how to configure it (``RTM_ALLOW_ANONYMOUS=1``
  lets everyone in, with a banner on every page);
- a broken ``[auth]`` or an identity provider that does not answer: the key or URL at fault;
- an anonymous visitor, or a login older than ``RTM_SESSION_HOURS``: *Log in*;
- a logged-in user without a role: who they are, whom to ask, and *Log out*.
"""

from __future__ import annotations

import threading
import time

import streamlit as st

from rtm_app import permissions, state
from rtm_app.login_setup import (
    ANONYMOUS,
    DEFAULT_SESSION_HOURS,
    LOCAL,
    NO_LOGIN_LINE,
    Visitor,
    auth_problem,
    is_loopback,
    provider_problem,
    session_expired,
)
from rtm_core.config.environment import (
    ALLOW_ANONYMOUS,
    SESSION_HOURS,
    flag_from_env,
    positive_from_env,
)
from rtm_core.errors import RTMError
from rtm_core.record.access import RoleRules

__all__ = [
    "gate",
    "app_url",
    "pages_for",
    "user_box",
    "banner",
    "require_role",
    "session_hours",
]

ANALYST_ROLES = ("admin", "analyst")


def session_hours() -> float:
    """How long a login lasts (``RTM_SESSION_HOURS``, default 8)."""
    return positive_from_env(SESSION_HOURS, DEFAULT_SESSION_HOURS, example="8")


def _auth_section():
    """The ``[auth]`` secrets section, or None when there is none (or no secrets file)."""
    from streamlit.errors import StreamlitSecretNotFoundError

    try:
        section = st.secrets.get("auth")
    except StreamlitSecretNotFoundError:
        return None
    return section.to_dict() if hasattr(section, "to_dict") else section


@st.cache_data(ttl=60, show_spinner=False)
def _provider_problem(url: str) -> str:
    return provider_problem(url)


@st.cache_resource(show_spinner=False)
def _logins() -> tuple[set, threading.Lock]:
    """Logins already written to the audit log by this server: (e-mail, ``iat``)."""
    return set(), threading.Lock()


def _stop(text: str, *, error: bool = True) -> None:
    (st.error if error else st.info)(text, icon=":material/lock:")
    st.stop()


def _login_screen(text: str) -> None:
    st.markdown(text)
    if st.button("Log in", type="primary", icon=":material/login:"):
        st.login()
    st.stop()


def _served_without_login() -> Visitor:
    if is_loopback(st.get_option("server.address")):
        return LOCAL
    if flag_from_env(ALLOW_ANONYMOUS):
        return ANONYMOUS
    _stop(NO_LOGIN_LINE)


def _record_login(visitor: Visitor, claims: dict) -> None:
    """Write a login to the audit log once per login (not per page, tab or rerun)."""
    seen, lock = _logins()
    key = (visitor.user.email, str(claims.get("iat")))
    with lock:
        if key in seen:
            return
        seen.add(key)
    permissions.audit("login", detail=visitor.user.name)
    if visitor.user.role is None:
        permissions.audit("denied", detail="no role (RTM_ANALYSTS, RTM_PLANNERS, RTM_ADMINS)")


def _no_role_page(visitor: Visitor, rules: RoleRules) -> None:
    user = visitor.user
    who = user.email or user.name or "an account without an e-mail address"
    ask = ", ".join(rules.admin_contacts()) or "the administrator of this dashboard"
    st.warning(
        f"You are logged in as **{who}**, but you have no role in this dashboard. "
        f"Ask {ask} to add you to the analysts or the planners.",
        icon=":material/person_off:",
    )
    if st.button("Log out", icon=":material/logout:"):
        st.logout()
    st.stop()


def gate() -> Visitor:
    """Who may use this session, or stop the script with the one screen they get instead.

    Returns
    -------
    Visitor
        Also kept for the pages (:func:`rtm_app.state.visitor`).
    """
    try:
        visitor = _gate()
    except RTMError as exc:  # a bad RTM_* setting: one line naming it
        _stop(str(exc).splitlines()[0])
    state.set_visitor(visitor)
    return visitor


def _gate() -> Visitor:
    section = _auth_section()
    if section is None:
        return _served_without_login()
    problem = auth_problem(section)
    if problem:
        _stop(problem)
    if not st.user.is_logged_in:
        problem = _provider_problem(section["server_metadata_url"].strip())
        if problem:
            _stop(problem)
        _login_screen("**Risk Terrain Modeling.** Log in with your department account.")
    claims = st.user.to_dict()
    hours = session_hours()
    if session_expired(claims, time.time(), hours):
        _login_screen(
            f"Your session has expired (a login lasts {hours:g} hours): log in again. "
            "Jobs you started go on and are there when you are back."
        )
    rules = RoleRules.from_env()
    visitor = Visitor(rules.user(claims), "login")
    state.set_visitor(visitor)  # the audit log names them
    _record_login(visitor, claims)
    if visitor.user.role is None:
        _no_role_page(visitor, rules)
    return visitor


def app_url() -> str:
    """The app's public address: ``[auth] redirect_uri`` without ``/oauth2callback`` ("" when
    login is off), for links such as a run's Brief."""
    section = _auth_section() or {}
    redirect = str(section.get("redirect_uri", "")).strip()
    return redirect.removesuffix("/oauth2callback")


def pages_for(visitor: Visitor, pages: list[tuple]) -> list:
    """The pages of ``pages`` (``(st.Page, roles)``, the app's default page first) this
    visitor's role may open.

    A role without the default page (a planner: the Brief only) gets a hidden default page
    that forwards to its first page with the link's query (``?run=``), so that page keeps its
    own address (``/brief?run=NAME``) instead of becoming the app's root.
    """
    allowed = [page for page, roles in pages if visitor.user.role in roles]
    if not allowed or allowed[0] is pages[0][0]:
        return allowed
    first = allowed[0]

    def home() -> None:
        st.switch_page(first, query_params=st.query_params.to_dict())

    forward = st.Page(home, title=first.title, url_path="home", default=True, visibility="hidden")
    return [forward, *allowed]


def user_box(visitor: Visitor) -> None:
    """Who is logged in, with their role and *Log out* (nothing when login is off)."""
    if not visitor.login:
        return
    user = visitor.user
    st.markdown(f"**{user.name or user.email}**  \n{user.email} · {user.role}")
    if st.button("Log out", icon=":material/logout:", key="log_out"):
        st.logout()


def banner(visitor: Visitor) -> None:
    """The warning on every page when the app serves without login beyond this machine."""
    if visitor.mode == "anonymous":
        st.warning(
            "Login is off (RTM_ALLOW_ANONYMOUS=1): anyone who reaches this server can open, "
            "export and delete every run.",
            icon=":material/lock_open:",
        )


def require_role(*roles: str) -> None:
    """Stop a page for a user whose role is not among ``roles`` (and log the refusal)."""
    user = state.visitor().user
    if user.role not in roles:
        permissions.audit("denied", detail=f"page for {', '.join(roles)} only")
        _stop("This page is not open to your role.")
