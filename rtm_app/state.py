"""Per-browser-session state: the data set, model settings, this session's jobs, the open run.

Everything a page remembers between reruns goes through here, under ``rtm_`` keys. The runs
folder comes from ``RTM_RUNS_DIR`` (default ``./runs``) and is shared by every session and
by the ``rtm`` command.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import streamlit as st

from rtm_app.dataset import DataSet
from rtm_core.config import LayerSource, ModelConfig

RUNS_ENV = "RTM_RUNS_DIR"
BASEMAP_ENV = "RTM_BASEMAP"  # "online" shows a Carto basemap (needs internet)
_CHOICES = "rtm_layer_choices"  # "role|file name" -> the choices made when it was added

_DATA, _MODEL, _JOBS, _RUN, _SESSION = (
    "rtm_data",
    "rtm_model",
    "rtm_jobs",
    "rtm_selected_run",
    "rtm_session",
)


def runs_dir() -> Path:
    """Folder holding every run folder (``RTM_RUNS_DIR``, default ``./runs``)."""
    return Path(os.environ.get(RUNS_ENV) or "runs")


def session_id() -> str:
    """A random id for this browser session (owner of its training jobs)."""
    if _SESSION not in st.session_state:
        st.session_state[_SESSION] = uuid.uuid4().hex
    return st.session_state[_SESSION]


def dataset() -> DataSet:
    """The current data set; the Chicago demo on a first visit."""
    if _DATA not in st.session_state:
        st.session_state[_DATA] = DataSet.demo()
    return st.session_state[_DATA]


def set_dataset(data: DataSet) -> None:
    """Replace the current data set."""
    st.session_state[_DATA] = data


def model_config() -> ModelConfig:
    """Model settings last used on the Train page (library defaults at first)."""
    return st.session_state.get(_MODEL, ModelConfig())


def set_model_config(model: ModelConfig) -> None:
    """Remember model settings."""
    st.session_state[_MODEL] = model


def my_jobs() -> list[str]:
    """Ids of the jobs this session started, oldest first."""
    return list(st.session_state.get(_JOBS, []))


def add_job(job_id: str) -> None:
    """Remember a job started by this session."""
    st.session_state[_JOBS] = [*my_jobs(), job_id]


def selected_run() -> Path | None:
    """The run the analyst opened last (None when none was opened)."""
    value = st.session_state.get(_RUN)
    return Path(value) if value else None


def select_run(path: str | Path | None) -> None:
    """Open a run on the Results, Stability and Export pages."""
    st.session_state[_RUN] = str(path) if path else None


def online_basemap() -> bool:
    """Whether maps draw a web basemap (sidebar toggle; default from ``RTM_BASEMAP``)."""
    default = os.environ.get(BASEMAP_ENV, "").strip().lower() in {"1", "online", "true", "yes"}
    return bool(st.session_state.get("rtm_basemap", default))


def layer_choices(role: str, file_name: str) -> dict:
    """Choices made the last time ``file_name`` was added as ``role`` (columns, CRS, dates).

    Empty when the file was not added before in this session.
    """
    return dict(st.session_state.get(_CHOICES, {}).get(f"{role}|{file_name}", {}))


def remember_layer_choices(role: str, file_name: str, choices: dict) -> None:
    """Keep the choices of an added layer so re-adding the same file restores them."""
    saved = dict(st.session_state.get(_CHOICES, {}))
    saved[f"{role}|{file_name}"] = dict(choices)
    st.session_state[_CHOICES] = saved


def upload_source(upload, *, layer=None, x=None, y=None, crs=None) -> LayerSource:
    """A LayerSource for an ``st.file_uploader`` file (its bytes and name)."""
    return LayerSource(
        data=upload.getvalue(),
        name=upload.name,
        layer=layer or None,
        x=x or None,
        y=y or None,
        crs=(crs or "").strip() or None,
    )
