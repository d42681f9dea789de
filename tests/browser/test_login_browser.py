"""Login, roles and sharing in a real browser (issue 19), against a real OpenID Connect
provider (``oidc-provider-mock`` on loopback) and a freshly started server with ``[auth]``.

Five users: two analysts (Alice, Bob), a planner (Pat), a user with no role (Nora) and an
admin (Ada). The runs folder holds three of Alice's runs (each made with the incidents kept
for her report): one private, one shared with planners, one she shares with analysts on the
Runs page here. Checked, in order, on one server started for this module:

1. anonymous deep links to every page of the just-started server show the login line only;
2. Alice sees her runs and shares one with the analysts;
3. Bob gets every analyst page by its link, and cannot open (not even by a link), delete or
   re-run Alice's runs;
4. Pat gets the Brief only (every other page's link lands on it), sees only the run shared
   with planners, and downloads its files: they are opened and hold no counts or incidents;
5. Nora sees whom to ask; 6. Ada gets every page by its link, and reads all of this in the
   audit log.

Each user logs in once through the provider's page; the session is reused through
Playwright's ``storage_state``. Screenshots go to ``test-output/screenshots/``.
"""

from __future__ import annotations

import io
import json
import re
import secrets
import shutil
from pathlib import Path

import geopandas as gpd
import pytest
from playwright.sync_api import expect

from rtm_core.record.sharing import change_sharing
from tests.browser.conftest import CHROMIUM_ARGS, SCREENSHOTS, free_port, serve_app
from tests.browser.test_browser import idle, no_traceback, shot, wait_for_painted_map

pytestmark = [pytest.mark.browser, pytest.mark.slow]

GROUPS = {"analysts": "rtm-analysts", "planners": "rtm-planners", "admins": "rtm-admins"}
USERS = {  # sub -> (e-mail, name, groups)
    "alice": ("alice@pd.example", "Alice Analyst", [GROUPS["analysts"]]),
    "bob": ("bob@pd.example", "Bob Analyst", [GROUPS["analysts"]]),
    "pat": ("pat@pd.example", "Pat Planner", [GROUPS["planners"]]),
    "nora": ("nora@pd.example", "Nora Noone", ["staff"]),
    "ada": ("ada@pd.example", "Ada Admin", [GROUPS["admins"]]),
}
PATHS = [
    "",
    "data",
    "risk_factors",
    "train",
    "results",
    "stability",
    "runs",
    "export",
    "backtest",
    "brief",
    "audit",
    "results?run=run-private",
]
LOGIN_LINE = "Log in with your department account."
#: page address -> the title an analyst gets (an admin gets "Audit log" for "audit")
TITLES = {
    "": "Data",
    "risk_factors": "Risk factors",
    "train": "Train",
    "results": "Results",
    "stability": "Seed stability",
    "runs": "Runs",
    "export": "Export",
    "backtest": "Backtest",
    "brief": "Brief",
    "audit": "Data",  # not an analyst's page: the default one
}
COUNTS = (
    "y_train",
    "y_test",
    "observed_train",
    "observed_test",
    "risk_prior_counts",
    "risk_kde",
    "risk_forest",
    "risk_history_only",
    "expected_dl",
)


@pytest.fixture(scope="module")
def provider():
    """The identity provider with the five users, on loopback."""
    import oidc_provider_mock

    users = [
        oidc_provider_mock.User(sub=sub, claims={"email": e, "name": n, "groups": g})
        for sub, (e, n, g) in USERS.items()
    ]
    with oidc_provider_mock.run_server_in_thread(user_claims=users) as server:
        yield f"http://localhost:{server.server_port}"


@pytest.fixture(scope="module")
def runs(tmp_path_factory, alices_run) -> Path:
    """Alice's three runs (copies of one), before the server starts."""
    folder = tmp_path_factory.mktemp("login_runs")
    for name in ("run-private", "run-shared", "run-later"):
        shutil.copytree(alices_run, folder / name)
    change_sharing(folder / "run-shared", add=["planners"])
    return folder


@pytest.fixture(scope="module")
def app(provider, runs, chromium_path, tmp_path_factory):
    """The app with ``[auth]`` (secrets written outside the repo), freshly started."""
    port = free_port()
    secrets_file = tmp_path_factory.mktemp("secrets") / "secrets.toml"
    section = {
        "redirect_uri": f"http://localhost:{port}/oauth2callback",
        "cookie_secret": secrets.token_hex(32),  # made here, never written in the repo
        "client_id": "rtm-dashboard",
        "client_secret": secrets.token_hex(16),
        "server_metadata_url": f"{provider}/.well-known/openid-configuration",
    }
    lines = [f"{key} = {json.dumps(value)}" for key, value in section.items()]
    secrets_file.write_text("[auth]\n" + "\n".join(lines) + "\n")
    env = {
        "RTM_ANALYSTS": GROUPS["analysts"],
        "RTM_PLANNERS": GROUPS["planners"],
        "RTM_ADMINS": GROUPS["admins"],
    }
    args = ["--secrets.files", str(secrets_file)]
    with serve_app(runs, port=port, env=env, args=args) as url:
        yield url


@pytest.fixture(scope="module")
def browser(chromium_path):
    from playwright.sync_api import sync_playwright

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def sessions(browser, app):
    """``login(sub)``: a page logged in as that user (the login itself done once per user)."""
    states, contexts = {}, []

    def login(sub: str):
        if sub not in states:
            context = browser.new_context(viewport={"width": 1400, "height": 1000})
            page = context.new_page()
            page.goto(app)
            page.get_by_role("button", name="Log in").click()
            page.get_by_role("button", name=sub, exact=True).click()  # the provider's page
            page.get_by_text(USERS[sub][0]).first.wait_for(timeout=30_000)
            states[sub] = context.storage_state()
            context.close()
        context = browser.new_context(
            viewport={"width": 1400, "height": 1000},
            storage_state=states[sub],
            accept_downloads=True,
        )
        contexts.append(context)
        return context.new_page()

    yield login
    for context in contexts:
        context.close()


def open_path(page, app: str, path: str, heading: str | None = None) -> None:
    page.goto(f"{app}/{path}")
    if heading:
        page.get_by_role("heading", level=1).filter(has_text=heading).first.wait_for(timeout=30_000)
    idle(page)
    no_traceback(page)


def body(page) -> str:
    return page.locator('[data-testid="stMain"]').inner_text()


def options(page, label: str) -> list[str]:
    """The options of the select box labelled ``label`` (opened, read, closed)."""
    page.get_by_test_id("stSelectbox").filter(has_text=label).first.click()
    texts = page.get_by_role("option").all_inner_texts()
    page.keyboard.press("Escape")
    return texts


def test_anonymous_deep_links_on_a_fresh_server_show_only_the_login(browser, app):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    for path in PATHS:  # the first request this server gets is a deep link
        page.goto(f"{app}/{path}")
        page.get_by_role("button", name="Log in").wait_for(timeout=30_000)
        idle(page)
        text = body(page)
        assert LOGIN_LINE in text, path
        assert "Burglary" not in text and "run-" not in text and "Data" not in text, path
        assert page.get_by_role("heading", level=1).count() == 0, path
        assert page.get_by_test_id("stSidebar").count() == 0, path
        if path == "results":
            shot(page, "login_1_anonymous_deep_link")
    context.close()


def test_an_analyst_sees_her_runs_and_shares_one_with_the_analysts(sessions, app, runs):
    page = sessions("alice")
    open_path(page, app, "runs", "Runs")
    assert "alice@pd.example · analyst" in page.get_by_test_id("stSidebar").inner_text()
    listed = options(page, "Complete run")
    # "label · created · id"
    assert sorted(t.split(" · ")[-1] for t in listed) == ["run-later", "run-private", "run-shared"]
    page.get_by_test_id("stSelectbox").filter(has_text="Complete run").click()
    page.get_by_role("option").filter(has_text="run-later").click()
    # the chosen run's share form replaces the first run's once that rerun has finished
    page.get_by_text(re.compile(r"run-later: owned by alice@pd\.example")).wait_for(timeout=30_000)
    idle(page)
    share = page.get_by_test_id("stForm")
    expect(share).to_have_count(1, timeout=30_000)
    share.get_by_test_id("stMultiSelect").click()
    page.get_by_role("option", name="analysts").click()
    page.keyboard.press("Escape")
    # Save only once the choice shows in the form and the list has closed: in one loaded
    # clean-clone run the Save never reached the server (no share in the audit log)
    expect(share.get_by_test_id("stMultiSelect")).to_contain_text("analysts", timeout=30_000)
    expect(page.get_by_role("listbox")).to_have_count(0, timeout=30_000)
    share.get_by_role("button", name="Save sharing").click()
    page.get_by_text("run-later: owned by alice@pd.example; shared with analysts").first.wait_for(
        timeout=30_000
    )
    idle(page)
    assert json.loads((runs / "run-later" / "manifest.json").read_text())["shared_with"] == [
        "analysts"
    ]
    open_path(page, app, "results?run=run-private", "Results")
    wait_for_painted_map(page, minimum=0.02)
    shot(page, "login_2_analyst_results")


def every_page_opens(page, app: str, titles: dict) -> None:
    for path, title in titles.items():
        page.goto(f"{app}/{path}")
        page.get_by_role("heading", level=1).filter(has_text=title).first.wait_for(timeout=30_000)
        no_traceback(page)


def test_another_analyst_cannot_open_delete_or_rerun_her_runs(sessions, app, runs):
    page = sessions("bob")
    every_page_opens(page, app, TITLES)
    open_path(page, app, "results?run=run-private", "Results")
    text = body(page)
    assert "No finished run called 'run-private' is shared with you" in text
    assert "Burglary 2023 ·" not in text  # no trace of her run in what he sees
    open_path(page, app, "runs", "Runs")
    [listed] = options(page, "Complete run")
    assert listed.startswith("Burglary 2023 · ") and listed.endswith(" · run-later")
    assert page.get_by_role("button", name="Run again").is_disabled()
    assert "Only the run's owner or an admin may share it" in body(page)
    assert "none of these is yours" in body(page)  # nothing to delete
    assert page.get_by_role("button", name="Delete...").count() == 0
    for name in ("run-private", "run-shared", "run-later"):
        assert (runs / name / "manifest.json").is_file()


def _download(page, label: str, folder: Path) -> Path:
    with page.expect_download(timeout=60_000) as info:
        page.get_by_role("button", name=label).click()
    target = folder / info.value.suggested_filename
    info.value.save_as(target)
    return target


def test_a_planner_gets_the_brief_of_the_shared_run_and_files_without_counts(
    sessions, app, tmp_path
):
    page = sessions("pat")
    for path in ("data", "train", "results", "runs", "export", "backtest", "audit"):
        open_path(page, app, path, "Brief")  # every other page's link lands on the Brief
        text = body(page)
        assert "Add a layer" not in text and "Start training" not in text, path
    nav = page.get_by_test_id("stSidebarNav")
    assert nav.count() == 0 or nav.inner_text().split() == ["Brief"]
    open_path(page, app, "brief", "Brief")
    text = body(page)
    assert "Burglary 2023" in text and "Forecast for 2023-01-01" in text
    assert "Risk concentrates in" in text and "How sure we are" in text
    assert "Does the RTM beat the simplest maps?" in text
    [listed] = options(page, "Run")  # "label · created · id"
    assert listed.startswith("Burglary 2023 · ") and listed.endswith(" · run-shared")
    wait_for_painted_map(page, minimum=0.02)
    shot(page, "login_3_planner_brief")

    report = _download(page, "Report (HTML)", tmp_path).read_text(encoding="utf-8")
    assert "Prepared for planners" in report and "Incidents" not in report
    geojson = json.loads(_download(page, "Map (GeoJSON)", tmp_path).read_text())
    keys = set().union(*(f["properties"] for f in geojson["features"]))
    gpkg = gpd.read_file(io.BytesIO(_download(page, "Map (GeoPackage)", tmp_path).read_bytes()))
    for columns in (keys, set(gpkg.columns), {w for w in COUNTS if w in report}):
        assert not set(COUNTS) & set(columns), sorted(columns)
    assert {"risk_dl", "forecast_dl"} <= keys


def test_a_user_without_a_role_sees_whom_to_ask(sessions, app):
    page = sessions("nora")
    for path in ("", "results", "brief"):
        page.goto(f"{app}/{path}")
        page.get_by_role("button", name="Log out").wait_for(timeout=30_000)
        idle(page)
        text = body(page)
        assert "logged in as nora@pd.example" in text and "no role" in text, path
        assert "Ask rtm-admins" in text and "Burglary" not in text
        assert page.get_by_test_id("stSidebar").count() == 0
    shot(page, "login_4_no_role")


def test_the_admin_reads_every_event_in_the_audit_log(sessions, app, runs):
    page = sessions("ada")
    every_page_opens(page, app, TITLES | {"audit": "Audit log"})
    open_path(page, app, "audit", "Audit log")
    page.locator('[data-testid="stDataFrame"]').first.wait_for(timeout=30_000)
    shot(page, "login_5_admin_audit")
    users = options(page, "User")
    assert users == ["everyone", *sorted(e for e, _, _ in USERS.values())], users
    lines = (runs / "audit.jsonl").read_text().splitlines()
    events = [json.loads(line) for line in lines]
    seen = {(e["user"], e["action"], e["run"]) for e in events}
    for sub in USERS:
        assert (USERS[sub][0], "login", "") in seen, sub
    assert ("alice@pd.example", "share", "run-later") in seen
    assert ("bob@pd.example", "denied", "run-private") in seen
    assert ("nora@pd.example", "denied", "") in seen
    assert ("pat@pd.example", "open", "run-shared") in seen
    assert {("pat@pd.example", "export", "run-shared")} <= seen
    assert len([e for e in events if e["action"] == "export"]) == 3
