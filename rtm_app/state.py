"""Per-browser-session state: the data set, model settings, this session's jobs, the open run.

Everything a page remembers between reruns goes through here, under ``rtm_`` keys. The runs
folder comes from ``RTM_RUNS_DIR`` (default ``./runs``) and is shared by every session and
by the ``rtm`` command.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import streamlit as st

from rtm_app.dataset import DataSet
from rtm_core.config import LayerSource, ModelConfig, environment

#: widget keys the code reads or fills itself (the sidebar's basemap switch, the Train form)
BASEMAP = "rtm_basemap"
TRAIN_PRESET, TRAIN_SEEDS, TRAIN_BURN_IN, TRAIN_PRUNE = (
    "train_preset",
    "train_seeds",
    "train_burn_in",
    "train_prune",
)
BACKTEST_PICK = "backtest_pick"  # the Backtest page's choice of a finished backtest

_DATA, _MODEL, _JOBS, _RUN, _SESSION = (
    "rtm_data",
    "rtm_model",
    "rtm_jobs",
    "rtm_selected_run",
    "rtm_session",
)
_CHOICES = "rtm_layer_choices"  # "role|file name" -> the choices made when it was added
_UPLOAD_FORM = "rtm_upload_form"  # number of the Data page's add-a-layer form
_FACTORS = "rtm_factors_key"  # config key of the risk factors last built on their page
_CONFIRM_DELETE = "rtm_confirm_delete"  # the run the Runs page asks to confirm deleting
_BACKTEST_OPEN = "rtm_backtest_open"  # a backtest to show once the page reruns
_FLASH = "rtm_flash"  # a note to show on the next run of a page
_DUPLICATE = "rtm_duplicate_job"  # a job held back because an identical one is active
_VISITOR = "rtm_visitor"  # who is using this session, and how the app is served (auth.gate)
_OPENED = "rtm_opened_runs"  # runs whose opening this session already wrote to the audit log
_LINKS = "rtm_run_links"  # ?run= deep links this session already followed


def runs_dir() -> Path:
    """Folder holding every run folder (``RTM_RUNS_DIR``, default ``./runs``)."""
    return Path(environment.text_from_env(environment.RUNS_DIR, "runs"))


def session_id() -> str:
    """A random id for this browser session (owner of its training jobs)."""
    if _SESSION not in st.session_state:
        st.session_state[_SESSION] = uuid.uuid4().hex
    return st.session_state[_SESSION]


def set_visitor(visitor) -> None:
    """Remember who uses this session (a :class:`~rtm_app.login_setup.Visitor`); the gate
    sets it on every run of the app."""
    st.session_state[_VISITOR] = visitor


def visitor():
    """Who uses this session (:class:`~rtm_app.login_setup.Visitor`); nobody (no role, no
    access) when the gate has not let the session in."""
    from rtm_app.login_setup import NOBODY

    return st.session_state.get(_VISITOR, NOBODY)


def job_owner() -> str:
    """Whose jobs this session shows: the logged-in user's e-mail (so a job outlives an
    expired session and a new tab), else this browser session's id."""
    who = visitor()
    return who.user.email if who.login and who.user.email else session_id()


def first_opening(path: str | Path) -> bool:
    """True the first time this session opens the run at ``path`` (then False)."""
    seen = st.session_state.setdefault(_OPENED, set())
    key = str(path)
    if key in seen:
        return False
    seen.add(key)
    return True


def first_link(name: str) -> bool:
    """True the first time this session follows a ``?run=`` link to ``name`` (then False)."""
    seen = st.session_state.setdefault(_LINKS, set())
    if name in seen:
        return False
    seen.add(name)
    return True


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
    default = environment.flag_from_env(environment.BASEMAP)
    return bool(st.session_state.get(BASEMAP, default))


def layer_choices(role: str, file_name: str) -> dict:
    """Choices made the last time ``file_name`` was added as ``role`` (columns, CRS, dates).

    Parameters
    ----------
    role : str
        The role the file was added as (see :data:`rtm_app.dataset.ROLES`).
    file_name : str
        The uploaded file's name.

    Returns
    -------
    dict
        Empty when the file was not added before in this session.
    """
    return dict(st.session_state.get(_CHOICES, {}).get(f"{role}|{file_name}", {}))


def remember_layer_choices(role: str, file_name: str, choices: dict) -> None:
    """Keep the choices of an added layer so re-adding the same file restores them.

    Parameters
    ----------
    role : str
        The role the file was added as.
    file_name : str
        The uploaded file's name.
    choices : dict
        What the add-a-layer form held (columns, CRS, dates, ...).
    """
    saved = dict(st.session_state.get(_CHOICES, {}))
    saved[f"{role}|{file_name}"] = dict(choices)
    st.session_state[_CHOICES] = saved


def upload_source(upload, *, layer=None, x=None, y=None, crs=None) -> LayerSource:
    """A LayerSource for an ``st.file_uploader`` file (its bytes and name).

    Parameters
    ----------
    upload : UploadedFile
        What ``st.file_uploader`` returned.
    layer : str, optional
        Layer of a GeoPackage.
    x, y : str, optional
        Coordinate columns of a table.
    crs : str, optional
        CRS of the coordinates (blank: the file's own).

    Returns
    -------
    LayerSource
    """
    return LayerSource(
        data=upload.getvalue(),
        name=upload.name,
        layer=layer or None,
        x=x or None,
        y=y or None,
        crs=(crs or "").strip() or None,
    )


def upload_form_id() -> int:
    """Number of the Data page's add-a-layer form (its widget keys end with it)."""
    return st.session_state.setdefault(_UPLOAD_FORM, 0)


def next_upload_form() -> None:
    """Start a fresh add-a-layer form (new widget keys: no file, default choices)."""
    st.session_state[_UPLOAD_FORM] = upload_form_id() + 1


def widget_value(key: str, default=None):
    """The value a widget with ``key`` holds.

    Parameters
    ----------
    key : str
        The widget's key.
    default : object, optional
        Returned before the widget was drawn or filled.

    Returns
    -------
    object
    """
    return st.session_state.get(key, default)


def set_widget_values(**values) -> None:
    """Fill widgets by key before they are drawn (e.g. a preset, or a picked x/y pair)."""
    st.session_state.update(values)


def forget_stale(key: str, options: list) -> None:
    """Drop a widget's remembered value that is not among its options (another file); an
    emptied select box (None) stays empty.

    Parameters
    ----------
    key : str
        The widget's key.
    options : list
        The options the widget offers now.
    """
    value = st.session_state.get(key)
    if value is not None and value not in options:
        del st.session_state[key]


def factors_built(config_key: str) -> bool:
    """Whether the risk factors of the config with ``config_key`` were built on their page."""
    return st.session_state.get(_FACTORS) == config_key


def set_factors_built(config_key: str) -> None:
    """Remember that the risk factors of the config with ``config_key`` were built."""
    st.session_state[_FACTORS] = config_key


def train_form_filled() -> bool:
    """Whether the Train form's step and seed fields hold values (from a preset or typed)."""
    return TRAIN_SEEDS in st.session_state


def fill_train_form(*, seeds: int, burn_in: int, prune: int, preset: str | None = None) -> None:
    """Fill the Train form's seed and step fields (and its preset choice) before it is drawn.

    Parameters
    ----------
    seeds, burn_in, prune : int
        Seeds and steps of the deep-learning RTM.
    preset : str, optional
        The preset to show as chosen (unchanged when None).
    """
    values = {TRAIN_SEEDS: seeds, TRAIN_BURN_IN: burn_in, TRAIN_PRUNE: prune}
    st.session_state.update(values if preset is None else values | {TRAIN_PRESET: preset})


def delete_asked() -> str | None:
    """The run folder whose deletion waits for a yes or no (None when none)."""
    return st.session_state.get(_CONFIRM_DELETE)


def ask_delete(path: str | None) -> None:
    """Ask to confirm deleting the run at ``path`` (None: ask nothing)."""
    if path is None:
        st.session_state.pop(_CONFIRM_DELETE, None)
    else:
        st.session_state[_CONFIRM_DELETE] = str(path)


def open_backtest_later(path: str | Path) -> None:
    """Show the backtest at ``path`` when the Backtest page next runs (one just finished)."""
    st.session_state[_BACKTEST_OPEN] = str(path)


def pick_backtest_to_open(choices) -> None:
    """Pick the backtest left by :func:`open_backtest_later` when it is among ``choices``."""
    if st.session_state.get(_BACKTEST_OPEN) in choices:
        st.session_state[BACKTEST_PICK] = st.session_state.pop(_BACKTEST_OPEN)


def flash(message: str) -> None:
    """Keep ``message`` to show once on the next run of a page."""
    st.session_state[_FLASH] = message


def take_flash() -> str | None:
    """The message left by :func:`flash` (then forgotten); None when there is none."""
    return st.session_state.pop(_FLASH, None)


def ask_duplicate(request) -> None:
    """Hold back a job whose twin is queued or running, until the analyst says yes or no.

    Parameters
    ----------
    request : object or None
        What to submit on yes (the Train page keeps its config and label); None: ask nothing.
    """
    if request is None:
        st.session_state.pop(_DUPLICATE, None)
    else:
        st.session_state[_DUPLICATE] = request


def duplicate_asked():
    """The job held back by :func:`ask_duplicate` (None when none)."""
    return st.session_state.get(_DUPLICATE)
