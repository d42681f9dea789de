"""Job cards of the Train and Backtest pages: status, progress bar and the job's actions."""

from __future__ import annotations

import streamlit as st

from rtm_app import backtest, cache, state, widgets
from rtm_core.runs.jobs import JobStatus


def _card(job: JobStatus, *, progress, cancel, key: str, done=None) -> None:
    """One job's card.

    Parameters
    ----------
    job : JobStatus
        The job.
    progress : callable
        The progress bar's text for a running job.
    cancel : callable
        Cancels a job by id.
    key : str
        Prefix of the Cancel button's key.
    done : callable, optional
        Draws a finished job's action, given the job and the action column.
    """
    with st.container(border=True):
        head, action = st.columns([4, 1], vertical_alignment="center")
        head.markdown(f"**{job.label or job.out_dir.name}** · {job.status}")
        if job.active:
            st.progress(job.fraction, text=progress(job))
            if action.button("Cancel", key=f"{key}_{job.job_id}", icon=":material/stop:"):
                cancel(job.job_id)
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


def training_card(job: JobStatus) -> None:
    """One training job: status, progress with phase, step and loss; Cancel or Open results."""
    cancel = cache.job_manager().cancel
    _card(job, progress=widgets.progress_text, cancel=cancel, key="cancel", done=_open_results)


def backtest_card(job: JobStatus) -> None:
    """One backtest job: status, progress (origins done, origin and phase), Cancel."""
    cancel = backtest.manager().cancel
    _card(job, progress=backtest.progress_text, cancel=cancel, key="cancel_bt")


def open_finished_backtest(job: JobStatus) -> None:
    """Show a backtest that just finished once the Backtest page reruns."""
    if job.status == "done":
        state.open_backtest_later(job.result)
