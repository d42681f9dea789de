"""Fixtures of the AppTest suites: served on loopback, fresh Streamlit caches per test and a
runs folder."""

from __future__ import annotations

import functools
import importlib
import pkgutil
from pathlib import Path

import pytest
import streamlit as st
from streamlit.runtime.caching.cache_utils import CachedFunc

import rtm_app


@pytest.fixture(autouse=True)
def served_on_loopback():
    """Streamlit's ``server.address`` as ``make run`` sets it: AppTest starts no server, and an
    unset address means every address (the app then asks for login; see rtm_app.auth)."""
    before = st.get_option("server.address")
    st.config.set_option("server.address", "127.0.0.1")
    yield
    st.config.set_option("server.address", before)


#: Caches of pure reads keyed by their inputs' content (path, size and mtime, or the upload's
#: bytes; a config's key covers its every source): the same key gives the same value in any
#: test, as in any session of a served app, so they are kept from test to test and the demo is
#: read, checked and drawn once per worker instead of once per test.
CONTENT_KEYED = (
    "rtm_app.cache._layer",
    "rtm_app.cache._study",
    "rtm_app.cache._factors",
    "rtm_app.cache._data_map",
    "rtm_app.cache._factor_map",
    "rtm_app.data_form._table",
    "rtm_app.data_form._study_problems",
    "rtm_app.column_form._guess",
)


@functools.cache
def _app_caches() -> dict[str, CachedFunc]:
    """Every ``st.cache_*`` function of the app's modules, by dotted name."""
    found = {}
    for info in pkgutil.iter_modules(rtm_app.__path__):
        module = importlib.import_module(f"rtm_app.{info.name}")
        for name, value in vars(module).items():
            own = getattr(value, "__module__", "") == module.__name__  # not an imported one
            if isinstance(value, CachedFunc) and own:
                found[f"{module.__name__}.{name}"] = value
    missing = set(CONTENT_KEYED) - set(found)
    assert not missing, f"CONTENT_KEYED names caches the app no longer has: {missing}"
    return found


def _clear_all_but_content_keyed() -> None:
    for name, cached in _app_caches().items():
        if name not in CONTENT_KEYED:
            cached.clear()


@pytest.fixture(autouse=True)
def fresh_caches():
    """Clear every cache of the app before and after each test, but the content-keyed reads
    (:data:`CONTENT_KEYED`): job managers, logins, runs and their maps start afresh."""
    st.cache_data.clear()
    _clear_all_but_content_keyed()
    yield
    st.cache_data.clear()
    _clear_all_but_content_keyed()


@pytest.fixture
def runs_dir(tmp_path, monkeypatch) -> Path:
    """An empty runs folder as ``$RTM_RUNS_DIR``, and no online basemap."""
    folder = tmp_path / "runs"
    folder.mkdir()
    monkeypatch.setenv("RTM_RUNS_DIR", str(folder))
    monkeypatch.delenv("RTM_BASEMAP", raising=False)
    return folder
