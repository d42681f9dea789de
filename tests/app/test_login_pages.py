"""The login gate and the roles under AppTest: what an anonymous visitor, each role and a
misconfigured server see, which pages and runs each role gets, and what is audited.

A real OpenID Connect provider (``oidc-provider-mock``, one per module, on loopback) answers
the gate's discovery check; ``AppTest.user`` plays the login cookie. The full login through
a browser is in ``tests/browser/test_login_browser.py``.
"""

from __future__ import annotations

import secrets
import shutil
import threading
import time
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from rtm_app.login_setup import NO_LOGIN_LINE
from rtm_core.record.audit import read_events
from rtm_core.record.sharing import change_sharing

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app.py")
DATA, RESULTS, RUNS, TRAIN = (
    "views/1_data.py",
    "views/4_results.py",
    "views/6_runs.py",
    "views/3_train.py",
)
BRIEF, AUDIT = "views/9_brief.py", "views/audit.py"
ANALYST_GROUP, PLANNER_GROUP, ADMIN_GROUP = "rtm-analysts", "rtm-planners", "rtm-admins"


@pytest.fixture(scope="module")
def provider():
    """A real OIDC provider on loopback: its discovery URL."""
    import oidc_provider_mock

    with oidc_provider_mock.run_server_in_thread() as server:
        yield f"http://localhost:{server.server_port}/.well-known/openid-configuration"


@pytest.fixture
def roles(monkeypatch):
    monkeypatch.setenv("RTM_ANALYSTS", ANALYST_GROUP)
    monkeypatch.setenv("RTM_PLANNERS", PLANNER_GROUP)
    monkeypatch.setenv("RTM_ADMINS", f"{ADMIN_GROUP},ada@pd.example")
    for name in ("RTM_ROLE_CLAIM", "RTM_ALLOW_ANONYMOUS", "RTM_SESSION_HOURS"):
        monkeypatch.delenv(name, raising=False)


def auth_section(provider: str, **changes) -> dict:
    section = {
        "redirect_uri": "http://localhost:8501/oauth2callback",
        "cookie_secret": secrets.token_hex(32),
        "client_id": "rtm",
        "client_secret": "not-a-real-secret",
        "server_metadata_url": provider,
    }
    return {k: v for k, v in (section | changes).items() if v is not None}


def claims(email: str, *groups: str, age_hours: float = 0.0) -> dict:
    name = email.split("@")[0].title()
    return {
        "is_logged_in": True,
        "email": email,
        "name": name,
        "groups": list(groups),
        "iat": int(time.time() - age_hours * 3600),
    }


ALICE = claims("alice@pd.example", ANALYST_GROUP)
BOB = claims("bob@pd.example", ANALYST_GROUP)
PAT = claims("pat@pd.example", PLANNER_GROUP)
NORA = claims("nora@pd.example", "staff")
ADA = claims("ada@pd.example")


def visit(section: dict | None, user: dict | None = None, page: str | None = None, **query):
    at = AppTest.from_file(APP, default_timeout=120)
    if section is not None:
        at.secrets["auth"] = section
    at.user = user if user is not None else {"is_logged_in": False}
    at.query_params.update(query)
    at.run()
    if page is not None:
        at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def shown_text(at: AppTest) -> list[str]:
    parts = [m.value for m in (*at.markdown, *at.error, *at.warning, *at.info, *at.title)]
    return parts + [b.label for b in at.button]


def test_no_folder_named_pages():
    # Streamlit runs pages/*.py for a deep link on a fresh server without app.py's gate
    assert not (ROOT / "pages").exists()
    assert sorted(p.name for p in (ROOT / "views").glob("*.py"))[-2:] == ["9_brief.py", "audit.py"]
    app_text = (ROOT / "app.py").read_text()
    assert app_text.index("auth.gate()") < app_text.index("st.navigation(")


# --------------------------------------------------------------------------- without login


def test_no_login_beyond_loopback_shows_one_line_only(runs_dir, roles):
    st.config.set_option("server.address", "0.0.0.0")
    at = visit(None)
    assert [e.value for e in at.error] == [NO_LOGIN_LINE]
    assert shown_text(at) == [NO_LOGIN_LINE] and not at.sidebar.children


def test_anonymous_serving_when_allowed_shows_a_banner(runs_dir, roles, monkeypatch):
    st.config.set_option("server.address", "0.0.0.0")
    monkeypatch.setenv("RTM_ALLOW_ANONYMOUS", "1")
    at = visit(None)
    assert at.title[0].value == "Data"
    assert "Login is off (RTM_ALLOW_ANONYMOUS=1)" in at.warning[0].value


def test_a_bad_switch_is_one_line_naming_it(runs_dir, roles, monkeypatch):
    st.config.set_option("server.address", "0.0.0.0")
    monkeypatch.setenv("RTM_ALLOW_ANONYMOUS", "perhaps")
    at = visit(None)
    assert len(at.error) == 1 and "RTM_ALLOW_ANONYMOUS" in at.error[0].value
    assert "set RTM_ALLOW_ANONYMOUS=1 or unset it" in at.error[0].value


def test_on_loopback_without_login_nothing_changes(runs_dir, roles, alices_run):
    shutil.copytree(alices_run, runs_dir / "run-alice")
    at = visit(None, page=RUNS)  # the local operator sees every run, owned or not
    assert at.title[0].value == "Runs" and "Share" not in [s.value for s in at.subheader]
    assert "owner" not in at.dataframe[0].value.columns
    assert not (runs_dir / "audit.jsonl").exists()  # nothing audited on a local make run


# --------------------------------------------------------------------------- broken [auth]


@pytest.mark.parametrize(
    "changes, line",
    [
        ({"client_secret": None}, "[auth] in secrets.toml has no client_secret"),
        ({"cookie_secret": "short"}, "cookie_secret is shorter than 32 characters"),
        (
            {"redirect_uri": "http://rtm.pd.example/oauth2callback"},
            "redirect_uri http://rtm.pd.example/oauth2callback must be this app's https://",
        ),
        ({"redirect_uri": "https://rtm.pd.example/"}, "ending in /oauth2callback"),
    ],
)
def test_a_broken_auth_section_stops_with_one_line_naming_the_key(
    runs_dir, roles, provider, changes, line
):
    at = visit(auth_section(provider, **changes), ALICE)
    assert len(at.error) == 1 and line in at.error[0].value
    assert not at.title and not at.sidebar.children


def test_an_unreachable_provider_stops_with_one_line_naming_the_url(runs_dir, roles):
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        url = f"http://localhost:{sock.getsockname()[1]}/.well-known/openid-configuration"
    at = visit(auth_section(url))
    assert len(at.error) == 1
    assert f"the identity provider at {url} does not answer" in at.error[0].value
    assert not at.button


# --------------------------------------------------------------------------- the gate


@pytest.mark.parametrize("page", [None, RESULTS, RUNS, BRIEF, AUDIT])
def test_an_anonymous_visitor_sees_one_line_and_log_in(runs_dir, roles, provider, page):
    at = visit(auth_section(provider), None, page)
    assert [m.value for m in at.markdown] == [
        "**Risk Terrain Modeling.** Log in with your department account."
    ]
    assert [b.label for b in at.button] == ["Log in"]
    assert not at.title and not at.sidebar.children and not at.dataframe


def test_an_expired_session_asks_for_login_and_keeps_the_users_jobs(
    runs_dir, roles, provider, monkeypatch
):
    from rtm_app import cache

    release = threading.Event()

    def runner(config, out_dir, *, progress, cancel, label, owner=None):
        while not (release.wait(0.05) or cancel.is_set()):
            pass
        Path(out_dir).mkdir(parents=True)
        return Path(out_dir)

    monkeypatch.setenv("RTM_SESSION_HOURS", "8")
    manager = cache.job_manager()
    manager._runner = runner
    manager.submit(None, runs_dir, label="long run", owner="alice@pd.example")
    old = claims("alice@pd.example", ANALYST_GROUP, age_hours=9)
    at = visit(auth_section(provider), old, TRAIN)
    assert "Your session has expired (a login lasts 8 hours)" in at.markdown[0].value
    assert [b.label for b in at.button] == ["Log in"] and not at.title
    again = visit(auth_section(provider), ALICE, TRAIN)  # logged in again, a new session
    assert any("long run" in m.value for m in again.sidebar.markdown)
    release.set()


def test_a_user_without_a_role_sees_whom_to_ask(runs_dir, roles, provider):
    at = visit(auth_section(provider), NORA, RESULTS)
    assert len(at.warning) == 1
    text = at.warning[0].value
    assert "logged in as **nora@pd.example**" in text and "no role" in text
    assert "Ask ada@pd.example" in text
    assert [b.label for b in at.button] == ["Log out"] and not at.title
    events = read_events(runs_dir)
    assert [(e.user, e.action) for e in events] == [
        ("nora@pd.example", "denied"),
        ("nora@pd.example", "login"),
    ]


def test_each_role_gets_its_pages(runs_dir, roles, provider):
    analyst = visit(auth_section(provider), ALICE)
    assert analyst.title[0].value == "Data"
    assert "alice@pd.example · analyst" in analyst.sidebar.markdown[0].value
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        analyst.switch_page(AUDIT)  # not among an analyst's pages
    planner = visit(auth_section(provider), PAT)
    assert planner.title[0].value == "Brief"  # the planner's only page is the default
    for page in (DATA, TRAIN, RESULTS, RUNS, AUDIT):
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            planner.switch_page(page)
    assert not any("Current data set" in c.value for c in planner.sidebar.caption)
    admin = visit(auth_section(provider), ADA, AUDIT)
    assert admin.title[0].value == "Audit log"


# --------------------------------------------------------------------------- runs by role


def test_runs_are_seen_by_their_owner_and_those_they_are_shared_with(
    runs_dir, roles, provider, alices_run
):
    shutil.copytree(alices_run, runs_dir / "run-private")
    shutil.copytree(alices_run, runs_dir / "run-shared")
    change_sharing(runs_dir / "run-shared", add=["planners"])
    section = auth_section(provider)

    alice = visit(section, ALICE, RUNS)
    assert set(alice.dataframe[0].value["run"]) == {"run-private", "run-shared"}
    assert "Share" in [s.value for s in alice.subheader]
    bob = visit(section, BOB, RUNS)
    assert bob.info and "No run yet" in bob.info[0].value  # neither is shared with analysts
    pat = visit(section, PAT, BRIEF)
    (picker,) = [s for s in pat.selectbox if s.label == "Run"]
    [shown] = [Path(o).name for o in picker.options]  # "label · created · id"
    assert shown.startswith("Burglary 2023 · ") and shown.endswith(" · run-shared")

    denied = visit(section, BOB, RESULTS, run="run-private")  # a link to Alice's private run
    assert "No finished run called 'run-private' is shared with you" in denied.error[0].value
    assert not any(s.label == "Run" for s in denied.selectbox)
    refused = [e for e in read_events(runs_dir) if e.action == "denied"]
    assert [(e.user, e.run) for e in refused] == [("bob@pd.example", "run-private")]


def test_only_the_owner_may_share_and_sharing_is_audited(runs_dir, roles, provider, alices_run):
    shutil.copytree(alices_run, runs_dir / "run-a")
    change_sharing(runs_dir / "run-a", add=["analysts"])
    section = auth_section(provider)
    bob = visit(section, BOB, RUNS)  # shared with analysts: he sees it, read-only
    assert any("Only the run's owner or an admin may share it" in c.value for c in bob.caption)
    assert next(b for b in bob.button if b.label == "Run again").disabled
    assert not [s for s in bob.selectbox if s.label == "Run to delete"]

    alice = visit(section, ALICE, RUNS)
    alice.multiselect[0].set_value(["analysts", "planners"])
    alice.text_input[0].set_value("Carol@pd.example")
    next(b for b in alice.button if b.label == "Save sharing").click().run()
    assert not alice.exception
    manifest = (runs_dir / "run-a" / "manifest.json").read_text()
    assert '"analysts",\n    "planners",\n    "carol@pd.example"' in manifest
    (event,) = [e for e in read_events(runs_dir) if e.action == "share"]
    assert event.user == "alice@pd.example"
    assert (
        event.detail
        == "owned by alice@pd.example; shared with analysts, planners, carol@pd.example"
    )
    link = "Planners open its Brief at http://localhost:8501/brief?run=run-a"
    assert any(link in c.value for c in alice.caption)


def test_a_users_jobs_are_limited(runs_dir, roles, provider, monkeypatch):
    from rtm_app import cache

    release = threading.Event()

    def runner(config, out_dir, *, progress, cancel, label, owner=None):
        while not (release.wait(0.05) or cancel.is_set()):
            pass
        Path(out_dir).mkdir(parents=True)
        return Path(out_dir)

    monkeypatch.setenv("RTM_MAX_JOBS_PER_USER", "1")
    cache.job_manager()._runner = runner
    at = visit(auth_section(provider), ALICE, TRAIN)
    next(b for b in at.button if b.label == "Start training").click().run()
    next(b for b in at.button if b.label == "Start training").click().run()
    next(b for b in at.button if b.label == "Start it anyway").click().run()  # same settings
    assert len(at.error) == 1
    assert "1 of yours are already queued or running" in at.error[0].value
    assert [j.owner for j in cache.job_manager().jobs()] == ["alice@pd.example"]
    assert [e.action for e in read_events(runs_dir)] == ["run", "login"]
    release.set()
