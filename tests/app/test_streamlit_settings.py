"""The Streamlit settings the app ships with (``.streamlit/config.toml``) hold where it runs."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

import streamlit as st
from streamlit.runtime.scriptrunner import magic
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = [ROOT / "app.py", *sorted((ROOT / "views").glob("*.py"))]


def _magic_writes(script: Path) -> list[int]:
    """Lines of ``script`` whose value Streamlit's magic would write to the page."""
    tree = magic.add_magic(script.read_text(encoding="utf-8"), str(script))
    return sorted(
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "transparent_write"
    )


def test_no_page_relies_on_magic_so_it_stays_off():
    # magic parses each script with ast.parse, which CPython 3.11 cannot run on two threads at
    # once (a page failed with "AST constructor recursion depth mismatch" in a suite run)
    settings = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert settings["runner"]["magicEnabled"] is False
    assert len(SCRIPTS) > 5
    assert {script.name: _magic_writes(script) for script in SCRIPTS if _magic_writes(script)} == {}


def test_magic_detection_sees_a_bare_expression(tmp_path):
    script = tmp_path / "page.py"
    script.write_text('import streamlit as st\nst.title("x")\n"a bare string"\nst.session_state\n')
    assert _magic_writes(script) == [3, 4]


def test_the_app_under_test_reads_the_shipped_settings():
    AppTest.from_string("import streamlit as st\nst.write('hi')").run()
    assert st.get_option("runner.magicEnabled") is False
    assert st.get_option("runner.postScriptGC") is False
