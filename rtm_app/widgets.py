"""Small UI pieces used by several pages: the sidebar, the run picker, job progress, legends."""

from __future__ import annotations

import html
import math
import time
from pathlib import Path

import streamlit as st

from rtm_app import cache, permissions, state
from rtm_app.charts import model_name
from rtm_app.controls import on_screen
from rtm_app.run_list import run_names
from rtm_core.config import MODEL_KINDS
from rtm_core.errors import InputError, RTMError
from rtm_core.record.access import Ownership
from rtm_core.runs.jobs import JobStatus

DATA_PAGE = "views/1_data.py"
FACTORS_PAGE = "views/2_risk_factors.py"
TRAIN_PAGE = "views/3_train.py"
RESULTS_PAGE = "views/4_results.py"


def error_line(exc: Exception) -> str:
    """The one-line message of an error, as :func:`show_error` shows it."""
    text = str(exc) if isinstance(exc, RTMError) else f"Unexpected error: {exc}"
    return text.splitlines()[0] if text else type(exc).__name__


def show_error(exc: Exception, controls=None, columns=None) -> None:
    """The one-line message of an RTM error (no traceback).

    Parameters
    ----------
    exc : Exception
        The error.
    controls : mapping, optional
        The page's controls by library field (:mod:`rtm_app.controls`): the message's fix
        then names the control to change instead of the TOML field.
    columns : mapping, optional
        Column chosen in a control -> that control's field (see
        :func:`rtm_app.controls.on_screen`).
    """
    if controls is not None and isinstance(exc, InputError):
        st.error(on_screen(exc, controls, columns), icon=":material/error:")
        return
    st.error(error_line(exc), icon=":material/error:")


def my_jobs() -> list[JobStatus]:
    """This user's jobs (this session's when login is off), newest first."""
    return cache.job_manager().jobs(owner=state.job_owner())


def progress_text(job: JobStatus) -> str:
    """One line: phase, step and loss of a job."""
    if job.status == "queued":
        return f"Queued: position {job.position} in line"
    parts = [job.message or job.phase]
    if job.total:
        parts.append(f"step {job.step:,} / {job.total:,}")
    if job.loss is not None and math.isfinite(job.loss):
        parts.append(f"loss {job.loss:.4f}")
    if job.status == "running":
        parts.append(f"{job.elapsed:.0f} s")
    return " · ".join(parts)


def job_line(job: JobStatus) -> str:
    """Short status line of a job for the sidebar."""
    name = job.label or job.out_dir.name
    return f"**{name}**: {job.status}"


def sidebar(*, analyst: bool = True) -> None:
    """Current data set, this user's active jobs, open run, basemap switch (a planner gets
    the open run and the basemap switch only)."""
    st.markdown("### Risk Terrain Modeling")
    if analyst:
        _sidebar_data()
        _sidebar_jobs()
    run = state.selected_run()
    if run is not None:
        st.caption("Open run")
        st.markdown(f"`{run.name}`")
    st.toggle(
        "Basemap (needs internet)",
        key=state.BASEMAP,
        value=state.online_basemap(),
        help="Draw a Carto street map under the layers. Off: layers only, no network needed.",
    )


def _sidebar_data() -> None:
    data = state.dataset()
    st.caption("Current data set")
    st.markdown(f"**{data.name}**")
    if data.complete:
        units = data.units
        kind = f"grid of {units.cell_size:g} m cells" if units.kind == "grid" else "units layer"
        st.caption(f"{kind} · {len(data.generators)} generator layers")
    else:
        st.caption("Missing: " + ", ".join(data.missing()))


def _sidebar_jobs() -> None:
    jobs = my_jobs()
    active = [j for j in jobs if j.active]
    if not active:
        if jobs:
            st.caption("Last job")
            st.markdown(job_line(jobs[0]))
        return

    @st.fragment(run_every=2.0)
    def live() -> None:
        now = [j for j in my_jobs() if j.active]
        if not now:
            st.rerun()
        st.caption("Training")
        for job in now:
            st.markdown(job_line(job))
            st.progress(job.fraction, text=progress_text(job))

    live()


def default_run(complete: list) -> Path | None:
    """The open run if still complete, else this session's latest, else the latest on disk."""
    paths = {str(r.path) for r in complete}
    chosen = state.selected_run()
    if chosen is not None and str(chosen) in paths:
        return chosen
    for job in my_jobs():
        if job.result is not None and str(job.result) in paths:
            return job.result
    return complete[0].path if complete else None


def _follow_link(runs: list, needs: str) -> None:
    """Open the run a ``?run=NAME`` link names, once per session, if the user may.

    A run they may not open gets the same line as one that does not exist (the link tells
    nothing about other users' runs); the refusal is written to the audit log.
    """
    name = st.query_params.get("run")
    if not name or not state.first_link(name):
        return
    found = next((r for r in runs if r.name == name), None)
    if found is not None and found.status == "complete":
        why = permissions.decision(needs, found.path, Ownership.of(found.manifest))
        if why:
            state.select_run(found.path)
            return
        permissions.audit("denied", found.path, f"{needs} by link: {why.reason}")
    st.error(f"No finished run called {name!r} is shared with you.", icon=":material/block:")


def run_picker(key: str, needs: str = "counts") -> Path | None:
    """Choose a complete run the user may take action ``needs`` on (``counts``: see its
    per-unit counts, as Results, Stability and Export show them; ``open``: its Brief);
    default :func:`default_run`, or the run a ``?run=NAME`` link names. None when there is
    none."""
    listed = cache.runs(state.runs_dir())
    _follow_link(listed, needs)
    complete = [r for r in permissions.visible(listed, needs) if r.status == "complete"]
    opened = state.selected_run()  # a run opened from elsewhere, e.g. a backtest's origin
    if opened is not None and all(str(r.path) != str(opened) for r in complete):
        extra = [r for r in cache.runs(opened.parent) if r.path == opened]
        complete = [
            r for r in extra if r.status == "complete" and permissions.decision(needs, r.path)
        ] + complete
    if not complete:
        if state.visitor().user.role == "planner":
            st.info("No run has been shared with you yet.", icon=":material/info:")
            return None
        st.info("No finished run yet. Start one on the Train page.", icon=":material/info:")
        st.page_link(TRAIN_PAGE, label="Go to Train", icon=":material/model_training:")
        return None
    default = default_run(complete)
    options = [str(r.path) for r in complete]
    names = run_names(complete)
    index = options.index(str(default)) if default is not None else 0
    choice = st.selectbox(
        "Run", options, index=index, format_func=names.get, key=f"{key}_run_picker"
    )
    if state.selected_run() is None or str(state.selected_run()) != choice:
        state.select_run(choice)
    return Path(choice)


def open_run(key: str, needs: str = "counts"):
    """The run chosen with :func:`run_picker`, loaded; stops the page when there is none or
    it cannot be read (the reason is shown as one line). The first opening of each run in a
    session is written to the audit log."""
    path = run_picker(key, needs)
    if path is None:
        st.stop()
    try:
        run = cache.run_files(path)
    except RTMError as exc:
        show_error(exc)
        st.stop()
    if state.first_opening(path):
        permissions.audit("open", path, f"{key} page")
    return run


def run_header(run) -> None:
    """Units, crimes, seeds and run time of a run as metrics, with models and device below."""
    m = run.record
    created = time.strftime("%Y-%m-%d %H:%M", time.localtime(m.created))
    crimes = m.crimes or {}
    n_units = m.n_units if m.n_units is not None else len(run.units)
    cols = st.columns(5)
    cols[0].metric("Units", f"{n_units:,}", help=m.unit_kind)
    cols[1].metric("Crimes, period t", f"{crimes.get('train', '?'):,}")
    cols[2].metric("Crimes, period t+1", f"{crimes.get('test', '?'):,}")
    root = f" (random state {m.seed_root})" if m.seed_root is not None else ""
    cols[3].metric("Seeds", len(m.seeds), help=f"of the deep-learning RTM{root}")
    cols[4].metric("Run time", f"{(m.timings or {}).get('total', 0):.0f} s")
    models = ", ".join(model_name(k) for k in m.models) or "none"
    st.caption(
        f"Models: {models} · device {m.device or '?'} · CRS {_crs_shown(m.crs)} · "
        f"created {created} · folder `{run.path}`"
    )


def _crs_shown(text: str | None) -> str:
    """A run's CRS for its header: "EPSG:<code>", or the CRS's name instead of its WKT."""
    if not text or text.startswith("EPSG:"):
        return text or "?"
    from pyproj import CRS

    from rtm_core.io import crs_name

    try:
        return crs_name(CRS.from_user_input(text))
    except Exception:  # an unreadable CRS text: show its start
        return text[:40]


def legend(items: list[tuple[str, str]], title: str = "") -> None:
    """A row of coloured squares with labels under a map."""
    chips = " ".join(
        f"<span style='display:inline-block;width:12px;height:12px;background:{color};"
        f"border:1px solid #999;margin:0 4px 0 10px;vertical-align:middle'></span>"
        f"{html.escape(text)}"
        for color, text in items
    )
    st.html(f"<div style='font-size:0.85rem'>{html.escape(title)}{chips}</div>")


def verdict_box(verdict) -> None:
    """One model's verdict: a coloured flag with the plain sentence, and the ties note."""
    text = f"**{model_name(verdict.model)}: {verdict.headline}.** {verdict.sentence}"
    if verdict.tone == "beats":  # level, mixed and "kept no risk factor" are notes
        st.success(text)
    elif verdict.tone == "below":
        st.warning(text)
    else:
        st.info(text)
    if verdict.ties:
        st.info(verdict.ties)


def flash(message: str) -> None:
    """Show ``message`` as a success note on the next run of the page."""
    state.flash(message)


def show_flash() -> None:
    """Show (once) the note left by :func:`flash`.

    The note's slot is drawn on every run, with or without a note, so that the elements below
    it keep their places: a note that came and went shifted them by one, and while such a run
    was drawing, the page showed the last run's form beside the new one (two add-a-layer forms
    on the Data page for a moment, a click on either one landing in the form about to go).
    """
    slot = st.empty()
    message = state.take_flash()
    if message:
        slot.success(message, icon=":material/check_circle:")


def run_again(run_path: str | Path, label: str) -> str:
    """Queue a run folder's kept config (same inputs, same settings) as a new job.

    Parameters
    ----------
    run_path : path
        The run folder (it holds ``config.toml``).
    label : str
        The run's label; the new job is labelled "<label> (again)".

    Returns
    -------
    str
        The job id (added to this session's jobs).

    Raises
    ------
    AccessDenied
        The user may not run it again (only its owner or an admin may).
    LimitReached
        The user has ``RTM_MAX_JOBS_PER_USER`` jobs queued or running.
    """
    from rtm_core.runs.rerun import load_run_config

    permissions.check("rerun", run_path)
    config = load_run_config(run_path)
    label = f"{label or Path(run_path).name} (again)"
    job_id = permissions.submit_job(cache.job_manager(), config, state.runs_dir(), label)
    state.add_job(job_id)
    return job_id


def show_run_config(run_path: str | Path) -> None:
    """The run's config.toml as text, with a download button."""
    from rtm_core.runs.rerun import CONFIG_FILE

    why = permissions.decision("config", run_path)
    if not why:
        permissions.refuse("config", run_path, why)
        return
    path = Path(run_path) / CONFIG_FILE
    if not path.is_file():
        st.info("This run folder keeps no config.toml (written before runs kept their inputs).")
        return
    text = path.read_text(encoding="utf-8")
    st.code(text, language="toml")
    st.download_button("Download config.toml", text, file_name=CONFIG_FILE, mime="text/plain")


def model_pills(where) -> list[str]:
    """The "Models" choice of the Train and Backtest forms: both RTMs, both on by default.

    Parameters
    ----------
    where : streamlit container
        Where the pills go (e.g. a form column).

    Returns
    -------
    list of str
        The chosen model kinds (``"dl"``, ``"classical"``).
    """
    return where.pills(
        "Models",
        list(MODEL_KINDS),
        selection_mode="multi",
        default=list(MODEL_KINDS),
        format_func=model_name,
    )
