"""Job cards of the Train and Backtest pages, and the Train page's start with its duplicate check.

A card is drawn once per page run: its title and its Cancel button stay put. Only the progress
bar inside it is redrawn, by a fragment every :data:`REFRESH_S` seconds, so the timer never
redraws the button under the pointer (a button inside the polled fragment was replaced twice a
second, and a click that fell between its press and release was lost). When the job ends the
fragment reruns the whole page, which draws the finished card.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import streamlit as st

from rtm_app import backtest, cache, permissions, state, widgets
from rtm_app.run_list import short_id
from rtm_core.config import RunConfig
from rtm_core.errors import RTMError
from rtm_core.runs.jobs import JobStatus

__all__ = [
    "REFRESH_S",
    "CANCEL_WAIT_S",
    "TrainRequest",
    "job_title",
    "job_list",
    "training_card",
    "backtest_card",
    "open_finished_backtest",
    "start_training",
    "duplicate_confirm",
]

#: seconds between two redraws of a running job's progress bar (a step of the deep-learning
#: RTM takes milliseconds; a bar that moves each second reads as live and costs the server
#: half the page runs of the former 0.5 s)
REFRESH_S = 1.0
#: seconds a Cancel click waits for the job to stop (a pipeline checks its cancel token
#: between steps, within about a second), so the card redrawn after it shows the outcome
CANCEL_WAIT_S = 2.0


def job_title(job: JobStatus) -> str:
    """A job's card title: label, time submitted and the run's short id (as run lists show
    it), so two jobs with the same label can be told apart."""
    when = time.strftime("%H:%M:%S", time.localtime(job.submitted))
    name = job.label or job.out_dir.name
    tail = "" if job.active else f" · {job.status}"
    return f"**{name}** · submitted {when} · `{short_id(job.out_dir.name)}`{tail}"


@st.fragment(run_every=REFRESH_S)
def _live_progress(job_id: str, status, text, on_finished) -> None:
    """The progress bar of one active job; reruns the page once the job has ended."""
    try:
        job = status(job_id)
    except KeyError:  # forgotten by the manager
        st.rerun()
    if not job.active:
        if on_finished is not None:
            on_finished(job)
        st.rerun()
    st.progress(job.fraction, text=text(job))


def _card(job: JobStatus, *, manager, progress, key: str, done=None, on_finished=None) -> None:
    """One job's card.

    Parameters
    ----------
    job : JobStatus
        The job.
    manager : JobManager
        Its manager (status and cancel).
    progress : callable
        The progress bar's text for an active job.
    key : str
        Prefix of the Cancel button's key.
    done : callable, optional
        Draws a finished job's action, given the job and the action column.
    on_finished : callable, optional
        Called with the job when the fragment sees it end, before the page reruns.
    """
    with st.container(border=True):
        head, action = st.columns([4, 1], vertical_alignment="center")
        head.markdown(job_title(job))
        if job.active:
            if action.button(
                "Cancelling..." if job.cancelling else "Cancel",
                key=f"{key}_{job.job_id}",
                icon=":material/stop:",
                disabled=job.cancelling,
            ):
                manager.cancel(job.job_id)
                manager.wait(job.job_id, timeout=CANCEL_WAIT_S)  # then the card says so
                st.rerun()
            _live_progress(job.job_id, manager.status, progress, on_finished)
        elif job.status == "done":
            st.caption(f"Finished in {job.elapsed:.0f} s · `{job.result}`")
            if done is not None:
                done(job, action)
        elif job.status == "failed":
            st.error(job.error, icon=":material/error:")
        else:
            st.caption("Cancelled: nothing was written.")


def _open_results(job: JobStatus, column) -> None:
    if column.button("Open results", key=f"open_{job.job_id}", type="primary"):
        state.select_run(job.result)
        st.switch_page(widgets.RESULTS_PAGE)


def training_card(job: JobStatus, on_finished=None) -> None:
    """One training job: progress with phase, step and loss, and Cancel; or Open results."""
    _card(
        job,
        manager=cache.job_manager(),
        progress=widgets.progress_text,
        key="cancel",
        done=_open_results,
        on_finished=on_finished,
    )


def backtest_card(job: JobStatus, on_finished=None) -> None:
    """One backtest job: progress (origins done, origin and phase), and Cancel."""
    _card(
        job,
        manager=backtest.manager(),
        progress=backtest.progress_text,
        key="cancel_bt",
        on_finished=on_finished,
    )


def job_list(fetch, card, on_finished=None) -> None:
    """This session's job cards, newest first (active ones follow their progress live).

    Parameters
    ----------
    fetch : callable
        Returns this session's jobs (:class:`~rtm_core.runs.jobs.JobStatus`), newest first.
    card : callable
        Draws one job: ``card(job, on_finished)``.
    on_finished : callable, optional
        Called with a job seen finishing, before the page reruns.
    """
    for job in fetch():
        card(job, on_finished)


def open_finished_backtest(job: JobStatus) -> None:
    """Show a backtest that just finished once the Backtest page reruns."""
    if job.status == "done":
        state.open_backtest_later(job.result)


# --------------------------------------------------------------------------- starting


@dataclass(frozen=True)
class TrainRequest:
    """A training job about to be submitted: its config and label."""

    config: RunConfig
    label: str


def _submit(request: TrainRequest) -> str:
    """Queue the job for this session's user (owner, per-user limit, audit: permissions)."""
    job_id = permissions.submit_job(
        cache.job_manager(), request.config, state.runs_dir(), request.label
    )
    state.add_job(job_id)
    return job_id


def start_training(config: RunConfig, label: str) -> str | None:
    """Submit a training job, unless an identical one of this session is queued or running:
    then hold it back and ask (:func:`duplicate_confirm`).

    Parameters
    ----------
    config : RunConfig
        What to run.
    label : str
        The run's label.

    Returns
    -------
    str or None
        The job id; None when the job waits for the analyst's answer.
    """
    request = TrainRequest(config, label)
    if cache.job_manager().active_like(config, owner=state.job_owner()):
        state.ask_duplicate(request)
        return None
    state.ask_duplicate(None)
    return _submit(request)


def duplicate_confirm() -> None:
    """The question for a job held back by :func:`start_training`: start it anyway, or not."""
    request = state.duplicate_asked()
    if request is None:
        return
    twins = cache.job_manager().active_like(request.config, owner=state.job_owner())
    if not twins:  # the twin ended meanwhile: nothing to ask
        twins_text = "An identical job has just ended."
    else:
        twin = twins[0]
        twins_text = (
            f"An identical job is already {twin.status}: {job_title(twin)}. "
            "A second one would repeat it with the same data and settings."
        )
    st.warning(twins_text + " Start another one anyway?", icon=":material/content_copy:")
    yes, no, _ = st.columns([1, 1, 3])
    if yes.button("Start it anyway", type="primary", key="duplicate_yes"):
        state.ask_duplicate(None)
        try:
            _submit(request)
        except RTMError as exc:  # the per-user limit
            widgets.show_error(exc)
            return
        st.rerun()
    if no.button("Don't start it", key="duplicate_no"):
        state.ask_duplicate(None)
        st.rerun()
