"""The access rules applied in the app: which runs this session's user sees, whether they may
take an action, the jobs they start (owned by them, within their limit), and the audit log of
what they did.

The rules themselves are :func:`rtm_core.record.access.decide`; this module only finds a
run's ownership (a backtest's origin run is owned as its backtest is), asks the rule for the
session's user (:func:`rtm_app.state.visitor`) and writes ``RTM_RUNS_DIR/audit.jsonl`` when
the app is served to others (login on, or anonymous); a local ``make run`` writes no log.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import streamlit as st

from rtm_app import state
from rtm_core.errors import AccessDenied
from rtm_core.record.access import Decision, Ownership, decide
from rtm_core.record.audit import record_event
from rtm_core.record.folder import BACKTEST_MANIFEST_FILE, ORIGINS_DIR, RunInfo
from rtm_core.record.sharing import read_ownership

__all__ = [
    "ownership",
    "decision",
    "visible",
    "audit",
    "audited_download",
    "check",
    "refuse",
    "submit_job",
]

log = logging.getLogger(__name__)


def ownership(path: str | Path) -> Ownership:
    """Who owns the run at ``path`` (an origin run of a backtest: the backtest's owner)."""
    path = Path(path)
    backtest = path.parent.parent / BACKTEST_MANIFEST_FILE
    if path.parent.name == ORIGINS_DIR and backtest.is_file():
        try:
            return Ownership.of(json.loads(backtest.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            return Ownership()
    return read_ownership(path)


def decision(action: str, path: str | Path, owned: Ownership | None = None) -> Decision:
    """Whether this session's user may take ``action`` on the run at ``path``.

    Parameters
    ----------
    action : str
        One of :data:`rtm_core.record.access.ACTIONS`.
    path : path
        The run folder.
    owned : Ownership, optional
        Its ownership when already read (else read from the folder).

    Returns
    -------
    Decision
    """
    return decide(state.visitor().user, owned or ownership(path), action)


def visible(runs: list[RunInfo], action: str = "open") -> list[RunInfo]:
    """The runs (as listed) on which this session's user may take ``action``."""
    user = state.visitor().user
    return [r for r in runs if decide(user, Ownership.of(r.manifest), action)]


def _write(visitor, runs_dir: Path, action: str, run, detail: str) -> None:
    if not visitor.served:
        return
    try:
        record_event(
            runs_dir,
            user=visitor.user.label,
            role=visitor.user.role,
            action=action,
            run=Path(run).name if run else "",
            detail=detail,
        )
    except OSError as exc:  # the log's folder is not writable: say so in the server's log
        log.warning("audit log not written (%s): %s %s", exc, action, run)


def audited_download(make, run, name: str):
    """A download's data function that writes the export to the audit log when it runs.

    Streamlit makes a download's file when it is clicked, outside the page's run, so who is
    exporting is taken now.

    Parameters
    ----------
    make : callable
        ``make(run) -> bytes``.
    run : RunFiles
    name : str
        The file's name (the log's detail).

    Returns
    -------
    callable
        Returns the file's bytes.
    """
    visitor, runs_dir = state.visitor(), state.runs_dir()

    def produce() -> bytes:
        _write(visitor, runs_dir, "export", run.path, name)
        return make(run)

    return produce


def audit(action: str, run: str | Path = "", detail: str = "") -> None:
    """Write one event of this session's user to the audit log (when others are served).

    Parameters
    ----------
    action : str
        One of :data:`rtm_core.record.audit.AUDIT_ACTIONS`.
    run : str or path
        The run folder (its name is written), or "".
    detail : str
        A short note: the file exported, the new sharing, why something was refused.
    """
    _write(state.visitor(), state.runs_dir(), action, run, detail)


def refuse(action: str, run: str | Path, why: Decision) -> None:
    """Log a refused action and show it as one line."""
    audit("denied", run, f"{action}: {why.reason}")
    st.error(f"Not allowed: {why.reason}.", icon=":material/block:")


def check(action: str, path: str | Path) -> None:
    """Raise (after logging the refusal) unless this session's user may take ``action``.

    Raises
    ------
    AccessDenied
        The one-line reason, e.g. "only the run's owner or an admin may delete it".
    """
    why = decision(action, path)
    if not why:
        audit("denied", path, f"{action}: {why.reason}")
        raise AccessDenied(Path(path).name, action, why.reason, "ask the run's owner or an admin")


def submit_job(manager, config, runs_dir: Path, label: str, what: str = "training jobs") -> str:
    """Queue a run (or backtest) for this session's user: owned by them when logged in,
    within ``RTM_MAX_JOBS_PER_USER`` when others are served, and written to the audit log.

    Parameters
    ----------
    manager : JobManager
        Training or backtest jobs.
    config : RunConfig
    runs_dir : Path
        Where the job writes its folder.
    label : str
    what : str
        What the limit's message calls these jobs.

    Returns
    -------
    str
        The job id.

    Raises
    ------
    LimitReached
        The user already has that many queued or running.
    """
    from rtm_core.runs.jobs import max_jobs_per_user_from_env

    visitor = state.visitor()
    job_id = manager.submit(
        config,
        runs_dir,
        label=label,
        owner=state.job_owner(),
        run_owner=visitor.user.email if visitor.login else None,
        max_active=max_jobs_per_user_from_env() if visitor.served else None,
        what=what,
    )
    audit("run", manager.status(job_id).out_dir, f"{what}: {label}")
    return job_id
