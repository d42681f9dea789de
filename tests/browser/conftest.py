"""Fixtures for the browser tests: a real `streamlit run app.py` and Debian's Chromium.

The server runs on a free loopback port with a temporary runs folder. Chromium is driven by
Playwright with ``executable_path`` (never ``playwright install``). Without Chromium the
tests are skipped, except under CI (``CI`` set), where that is a failure.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-output" / "screenshots"
SERVER = Path(__file__).with_name("streamlit_server.py")
#: the servers running now, with their logs (the failure hook reads them)
LIVE_SERVERS: dict[subprocess.Popen, Path] = {}
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """Path of the Chromium binary (skip, or fail under CI, when missing)."""
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        message = "Chromium not found (apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail("playwright is not installed")
        pytest.skip("playwright is not installed")
    return path


@pytest.fixture(scope="module")
def runs_dir(tmp_path_factory) -> Path:
    """An empty runs folder for the server."""
    return tmp_path_factory.mktemp("runs")


@pytest.fixture(scope="module")
def app_url(runs_dir: Path, chromium_path: str):
    """Start the dashboard; yield its URL; stop it."""
    with serve_app(runs_dir) as url:
        yield url


@pytest.fixture(scope="module")
def serve(runs_dir: Path):
    """Start another server over the same runs folder (a restart): ``with serve() as url``."""
    return lambda: serve_app(runs_dir)


@contextlib.contextmanager
def serve_app(runs_dir: Path, *, port: int | None = None, env: dict | None = None, args=()):
    """Run a dashboard server over ``runs_dir`` on a free port (or ``port``); yield its URL;
    stop it. ``env`` adds environment variables and ``args`` Streamlit options (e.g.
    ``--secrets.files``); a server with login is reached at ``localhost``, as its
    ``redirect_uri`` says."""
    port = port or free_port()
    env = dict(os.environ, RTM_RUNS_DIR=str(runs_dir), RTM_MAX_JOBS="2", **(env or {}))
    env.pop("RTM_BASEMAP", None)
    log = open(runs_dir.parent / f"streamlit-{port}.log", "w")
    server = subprocess.Popen(
        [
            sys.executable,
            str(SERVER),
            "run",
            str(ROOT / "app.py"),
            "--server.port",
            str(port),
            "--server.address",
            "127.0.0.1",
            "--server.headless",
            "true",
            "--browser.gatherUsageStats",
            "false",
            "--server.fileWatcherType",
            "none",
            *args,
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://{'localhost' if args else '127.0.0.1'}:{port}"
    LIVE_SERVERS[server] = Path(log.name)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as reply:
                    if reply.status == 200:
                        break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                log.flush()
                pytest.fail("streamlit did not start:\n" + Path(log.name).read_text()[-3000:])
            time.sleep(0.3)
        yield url
    finally:
        LIVE_SERVERS.pop(server, None)
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


@pytest.fixture(scope="module")
def page(chromium_path: str, app_url: str):
    """A Chromium page (1400 x 1000) with console errors and failed requests recorded."""
    from playwright.sync_api import sync_playwright

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        context = browser.new_context(
            viewport={"width": 1400, "height": 1000}, accept_downloads=True
        )
        tab = context.new_page()
        tab.failed_requests = []
        tab.on("requestfailed", lambda request: tab.failed_requests.append(request.url))
        yield tab
        context.close()
        browser.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """When a browser test fails, save what each of its open pages shows (a screenshot in
    ``test-output/screenshots/failed-<test>-<k>.png`` and the page's text in the report) and
    what each running server was doing (the end of its log, after a dump of its threads'
    stacks), so a failure on a loaded CI machine can be read afterwards."""
    report = yield
    if report.when == "call" and report.failed:
        for k, tab in enumerate(_open_pages(item)):
            name = f"failed-{item.name}-{k}".replace("/", "_")[:150]
            try:
                tab.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True, timeout=10_000)
                text = tab.locator("body").inner_text(timeout=10_000)
            except Exception as exc:  # a page that died: say so and go on
                text = f"(page unreadable: {exc})"
            report.sections.append((f"page {k} at failure ({tab.url})", text[-4000:]))
        for server, log in list(LIVE_SERVERS.items()):
            report.sections.append((f"server {server.pid} at failure", _server_state(server, log)))
    return report


def _server_state(server: subprocess.Popen, log: Path) -> str:
    """Whether the server still runs, and the end of its log after it dumped its threads."""
    code = server.poll()
    if code is None:
        server.send_signal(signal.SIGUSR1)  # faulthandler: every thread's stack, into the log
        time.sleep(1.0)
        state = "running; its threads' stacks were dumped into the log"
    else:
        state = f"exited with code {code}"
    return f"{state}\n--- end of {log.name} ---\n{log.read_text(errors='replace')[-12000:]}"


def _open_pages(item) -> list:
    """The Playwright pages a test holds: its ``page`` and every page of its browsers."""
    pages = []
    for value in getattr(item, "funcargs", {}).values():
        if hasattr(value, "contexts"):  # a Browser
            pages += [tab for context in value.contexts for tab in context.pages]
        elif hasattr(value, "screenshot") and hasattr(value, "url"):  # a Page
            pages.append(value)
    return list(dict.fromkeys(pages))
