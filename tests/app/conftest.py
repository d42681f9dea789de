"""Fixtures of the AppTest suites: served on loopback, fresh Streamlit caches per test and a
runs folder."""

from __future__ import annotations

from pathlib import Path

import pytest
import streamlit as st


@pytest.fixture(autouse=True)
def served_on_loopback():
    """Streamlit's ``server.address`` as ``make run`` sets it: AppTest starts no server, and an
    unset address means every address (the app then asks for login; see rtm_app.auth)."""
    before = st.get_option("server.address")
    st.config.set_option("server.address", "127.0.0.1")
    yield
    st.config.set_option("server.address", before)


@pytest.fixture(autouse=True)
def fresh_caches():
    """Clear st.cache_data / st.cache_resource before and after each test."""
    st.cache_data.clear()
    st.cache_resource.clear()
    yield
    st.cache_data.clear()
    st.cache_resource.clear()


@pytest.fixture
def runs_dir(tmp_path, monkeypatch) -> Path:
    """An empty runs folder as ``$RTM_RUNS_DIR``, and no online basemap."""
    folder = tmp_path / "runs"
    folder.mkdir()
    monkeypatch.setenv("RTM_RUNS_DIR", str(folder))
    monkeypatch.delenv("RTM_BASEMAP", raising=False)
    return folder
