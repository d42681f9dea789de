"""Background RTM jobs: run pipelines in daemon threads, queue them, report progress, cancel.

The dashboard keeps one :class:`JobManager` per server. Each job runs
:func:`rtm_core.runs.pipeline.run_pipeline` in its own daemon thread and only ever updates its own
record under the manager's lock; callers read copies (:class:`JobStatus`). At most
``max_concurrent`` jobs run at once; the others wait in a first-in, first-out queue and know
their place in it. Nothing here imports streamlit.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from rtm_core.cluster import set_process_threads, usable_cores
from rtm_core.config import RunConfig
from rtm_core.config.environment import (
    MAX_JOBS,
    MAX_JOBS_PER_USER,
    TORCH_THREADS,
    positive_from_env,
)
from rtm_core.errors import Cancelled, ConfigError, LimitReached, RTMError
from rtm_core.record.folder import new_run_name

__all__ = [
    "JobStatus",
    "JobManager",
    "STATUSES",
    "ACTIVE",
    "job_threads",
    "max_jobs_from_env",
    "max_jobs_per_user_from_env",
]

log = logging.getLogger(__name__)

STATUSES = ("queued", "running", "done", "failed", "cancelled")
ACTIVE = ("queued", "running")
DEFAULT_MAX_JOBS = 2
DEFAULT_MAX_JOBS_PER_USER = 2
KEEP_FINISHED = 200  # finished jobs remembered per manager (oldest forgotten first)

Runner = Callable[..., Path]


@dataclass(frozen=True)
class JobStatus:
    """A snapshot of one job, safe to read from any thread.

    Attributes
    ----------
    job_id : str
    owner : str
        Who submitted it (the dashboard passes a per-browser-session id).
    label : str
        The analyst's name for the run.
    status : {"queued", "running", "done", "failed", "cancelled"}
    position : int
        Place in the queue (1 = next to start) while queued, else 0.
    phase : str
        Pipeline phase ("data", "features", "baselines", "dl", "classical", "evaluate", "done").
    fraction : float
        Overall progress in [0, 1]; never goes backwards.
    message : str
        What the pipeline is doing, for people.
    step, total : int
        Step within the phase (e.g. Adam steps), when known.
    loss : float or None
        Latest training loss.
    out_dir : Path
        The run folder the job writes.
    result : Path or None
        The finished run folder (status "done").
    error : str
        One-line reason for "failed" (and "cancelled").
    submitted, started, finished : float or None
        Seconds since the epoch.
    cancelling : bool
        Cancel was asked while it ran; it stops at its next check.
    """

    job_id: str
    owner: str
    label: str
    status: str
    position: int
    phase: str
    fraction: float
    message: str
    step: int
    total: int
    loss: float | None
    out_dir: Path
    result: Path | None
    error: str
    submitted: float
    started: float | None
    finished: float | None
    cancelling: bool = False

    @property
    def active(self) -> bool:
        """True while the job is queued or running."""
        return self.status in ACTIVE

    @property
    def elapsed(self) -> float:
        """Seconds spent running so far (0 while queued)."""
        if self.started is None:
            return 0.0
        return (self.finished or time.time()) - self.started


@dataclass
class _Job:
    """The mutable record behind a :class:`JobStatus` (guarded by the manager's lock)."""

    status: JobStatus
    config: RunConfig
    cancel: threading.Event
    run_owner: str | None = None


def max_jobs_from_env(default: int = DEFAULT_MAX_JOBS) -> int:
    """The concurrent-job limit from ``RTM_MAX_JOBS`` (default 2).

    Raises
    ------
    ConfigError
        The variable is set but is not a positive integer.
    """
    return positive_from_env(MAX_JOBS, default, whole=True, example="2")


def max_jobs_per_user_from_env(default: int = DEFAULT_MAX_JOBS_PER_USER) -> int:
    """Jobs one user may have queued or running at once: ``RTM_MAX_JOBS_PER_USER`` (default 2).

    Raises
    ------
    ConfigError
        The variable is set but is not a positive integer.
    """
    return positive_from_env(MAX_JOBS_PER_USER, default, whole=True, example="2")


def job_threads(max_concurrent: int) -> int:
    """Threads per job (torch, risk factors, lasso): ``RTM_TORCH_THREADS``, else a core left to
    the web server and the rest shared between the jobs that run at once.

    Raises
    ------
    ConfigError
        ``RTM_TORCH_THREADS`` is set but is not a positive integer.
    """
    cores = usable_cores()
    default = max(1, (cores - 1) // max_concurrent)
    return positive_from_env(TORCH_THREADS, default, whole=True, example="2")


class JobManager:
    """A registry of background RTM jobs with a concurrency limit and a FIFO queue.

    Parameters
    ----------
    max_concurrent : int, optional
        Jobs that may run at the same time; default ``RTM_MAX_JOBS`` or 2.
    runner : callable, optional
        ``runner(config, out_dir, *, progress, cancel, label) -> Path`` (and ``owner=`` for a
        job submitted with ``run_owner``); default :func:`rtm_core.runs.pipeline.run_pipeline`.
        Tests pass a fake.
    configure_torch : bool
        Set torch's thread count (one core left to the server) before the first job.

    Examples
    --------
    >>> manager = JobManager(max_concurrent=1)                       # doctest: +SKIP
    >>> job_id = manager.submit(demo_config(seeds=2), "runs", owner="me")  # doctest: +SKIP
    >>> manager.status(job_id).status                                # doctest: +SKIP
    'running'
    """

    def __init__(
        self,
        max_concurrent: int | None = None,
        *,
        runner: Runner | None = None,
        configure_torch: bool = True,
    ):
        limit = max_jobs_from_env() if max_concurrent is None else max_concurrent
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise ConfigError(
                "JobManager", "max_concurrent", f"must be a positive integer, got {limit!r}", "2"
            )
        self.max_concurrent = limit
        self.threads = job_threads(limit)  # a bad RTM_TORCH_THREADS is refused here, at start
        self._runner = runner
        self._lock = threading.Lock()
        self._jobs: dict[str, _Job] = {}
        self._queue: deque[str] = deque()
        self._running: set[str] = set()
        self._torch_ready = not configure_torch

    # ------------------------------------------------------------------ public API

    def submit(
        self,
        config: RunConfig,
        runs_dir: str | Path,
        label: str = "",
        owner: str = "",
        *,
        run_owner: str | None = None,
        max_active: int | None = None,
        what: str = "jobs",
    ) -> str:
        """Queue a pipeline run; it starts as soon as a slot is free.

        Parameters
        ----------
        config : RunConfig
            What to run.
        runs_dir : path
            Parent folder of run folders; the job writes ``runs_dir/<new run name>``.
        label : str
            The analyst's name for the run (stored in the manifest).
        owner : str
            Who submitted it; :meth:`jobs` filters on it.
        run_owner : str, optional
            The e-mail recorded as the run's owner (passed to the runner as ``owner=``);
            None: a run without an owner (and the runner is called as before).
        max_active : int, optional
            Refuse the job when ``owner`` already has this many queued or running
            (checked and queued under one lock, so two clicks cannot both pass).
        what : str
            What the jobs are called in that refusal ("training jobs", "backtests").

        Returns
        -------
        str
            The job id.

        Raises
        ------
        LimitReached
            ``owner`` already has ``max_active`` jobs queued or running.
        """
        job_id = uuid.uuid4().hex[:12]
        out_dir = Path(runs_dir) / new_run_name()
        status = JobStatus(
            job_id=job_id,
            owner=str(owner),
            label=str(label),
            status="queued",
            position=0,
            phase="queued",
            fraction=0.0,
            message="waiting for a free slot",
            step=0,
            total=0,
            loss=None,
            out_dir=out_dir,
            result=None,
            error="",
            submitted=time.time(),
            started=None,
            finished=None,
        )
        with self._lock:
            if max_active is not None:
                self._check_limit_locked(str(owner), max_active, what)
            self._jobs[job_id] = _Job(status, config, threading.Event(), run_owner)
            self._queue.append(job_id)
            self._dispatch_locked()
            self._forget_old_locked()
        return job_id

    def status(self, job_id: str) -> JobStatus:
        """A snapshot of one job.

        Raises
        ------
        KeyError
            No job has this id.
        """
        with self._lock:
            return self._snapshot_locked(job_id)

    def jobs(self, owner: str | None = None) -> list[JobStatus]:
        """Snapshots of every job (of one owner when given), newest first."""
        with self._lock:
            ids = [
                job_id
                for job_id, job in self._jobs.items()
                if owner is None or job.status.owner == owner
            ]
            return [self._snapshot_locked(job_id) for job_id in reversed(ids)]

    def cancel(self, job_id: str) -> bool:
        """Ask a job to stop; a queued job is dropped at once.

        A running pipeline checks its cancel token between steps and stops within about a
        second, leaving no run folder.

        Returns
        -------
        bool
            True if the job was still queued or running.
        """
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None or job.status.status not in ACTIVE:
                return False
            job.cancel.set()
            if job.status.status == "queued":
                self._queue.remove(job_id)
                job.status = replace(
                    job.status,
                    status="cancelled",
                    message="cancelled before it started",
                    error="cancelled by the user",
                    finished=time.time(),
                )
            else:
                job.status = replace(job.status, message="cancelling...", cancelling=True)
            return True

    def active_like(self, config: RunConfig, owner: str | None = None) -> list[JobStatus]:
        """Jobs queued or running with the same configuration (of one owner when given),
        newest first: what a second identical job would repeat.

        Parameters
        ----------
        config : RunConfig
            The configuration about to be submitted (compared field by field: the same
            inputs, study, models and settings; the label does not count).
        owner : str, optional
            Only this owner's jobs.

        Returns
        -------
        list of JobStatus
        """
        with self._lock:
            ids = [
                job_id
                for job_id, job in self._jobs.items()
                if job.status.status in ACTIVE
                and (owner is None or job.status.owner == owner)
                and job.config == config
            ]
            return [self._snapshot_locked(job_id) for job_id in reversed(ids)]

    def wait(self, job_id: str, timeout: float | None = None) -> JobStatus:
        """Block until the job has finished (or ``timeout`` seconds passed); its snapshot.

        Parameters
        ----------
        job_id : str
        timeout : float, optional
            Seconds to wait at most; None waits for the end.

        Returns
        -------
        JobStatus
            The job's snapshot when it finished or the time ran out.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            snap = self.status(job_id)
            if not snap.active or (deadline is not None and time.monotonic() >= deadline):
                return snap
            time.sleep(0.05)

    def active_count(self) -> int:
        """Jobs queued or running."""
        with self._lock:
            return len(self._queue) + len(self._running)

    # ------------------------------------------------------------------ internals

    def _check_limit_locked(self, owner: str, max_active: int, what: str) -> None:
        active = sum(
            1 for job in self._jobs.values() if job.status.owner == owner and job.status.active
        )
        if active >= max_active:
            raise LimitReached(
                f"your {what}",
                MAX_JOBS_PER_USER,
                f"{active} of yours are already queued or running, the most one user may have",
                "wait for one to finish or cancel one, then start again",
            )

    def _snapshot_locked(self, job_id: str) -> JobStatus:
        job = self._jobs[job_id]
        if job.status.status == "queued":
            return replace(job.status, position=self._queue.index(job_id) + 1)
        return job.status

    def _dispatch_locked(self) -> None:
        while self._queue and len(self._running) < self.max_concurrent:
            job_id = self._queue.popleft()
            job = self._jobs[job_id]
            self._running.add(job_id)
            job.status = replace(
                job.status,
                status="running",
                phase="starting",
                message="starting",
                started=time.time(),
            )
            thread = threading.Thread(
                target=self._run, args=(job_id,), name=f"rtm-job-{job_id}", daemon=True
            )
            thread.start()

    def _forget_old_locked(self) -> None:
        finished = [j for j, job in self._jobs.items() if job.status.status not in ACTIVE]
        for job_id in finished[: max(0, len(finished) - KEEP_FINISHED)]:
            del self._jobs[job_id]

    def _progress(self, job_id: str, report) -> None:
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None or job.status.status != "running":
                return
            job.status = replace(
                job.status,
                phase=str(report.phase),
                fraction=max(job.status.fraction, min(1.0, float(report.fraction))),
                message=job.status.message
                if job.cancel.is_set()
                else str(getattr(report, "message", "")),
                step=int(getattr(report, "step", 0) or 0),
                total=int(getattr(report, "total", 0) or 0),
                loss=getattr(report, "loss", None),
            )

    def _run(self, job_id: str) -> None:
        with self._lock:
            job = self._jobs[job_id]
            config, cancel, status = job.config, job.cancel, job.status
            owned = {"owner": job.run_owner} if job.run_owner else {}
        outcome: dict = {}
        try:
            if not self._torch_ready:
                self._prepare_torch()
            runner = self._runner or _default_runner()
            result = runner(
                config,
                status.out_dir,
                progress=lambda report: self._progress(job_id, report),
                cancel=cancel,
                label=status.label,
                **owned,
            )
            outcome = {
                "status": "done",
                "result": Path(result),
                "fraction": 1.0,
                "phase": "done",
                "message": "finished",
            }
        except Cancelled:
            outcome = {
                "status": "cancelled",
                "error": "cancelled by the user",
                "message": "cancelled",
            }
        except RTMError as exc:
            outcome = {"status": "failed", "error": _one_line(str(exc)), "message": "failed"}
        except Exception as exc:  # a bug, not the analyst's fault: keep the server alive
            log.exception("RTM job %s crashed", job_id)
            outcome = {
                "status": "failed",
                "error": _one_line(f"internal error ({type(exc).__name__}: {exc})"),
                "message": "failed",
            }
        finally:
            with self._lock:
                job = self._jobs.get(job_id)
                if job is not None:
                    if not outcome:
                        outcome = {"status": "failed", "error": "interrupted", "message": "failed"}
                    job.status = replace(job.status, finished=time.time(), **outcome)
                self._running.discard(job_id)
                self._dispatch_locked()

    def _prepare_torch(self) -> None:
        """Limit torch's threads (one core left to the server, the rest shared by the jobs).

        Done before the first job, not at start: a server whose users only list or read runs
        need not import torch for it (nor, see :func:`_default_runner`, the pipeline).
        """
        set_process_threads(self.threads)
        self._torch_ready = True


def _default_runner() -> Runner:
    # imported when the first job starts: the pipeline brings torch, scikit-learn, glum and
    # statsmodels (1.6 s of CPU on top of what the pages import), which a page that lists or
    # shows runs does not need
    from rtm_core.runs.pipeline import run_pipeline

    return run_pipeline


def _one_line(text: str) -> str:
    first = text.strip().splitlines()[0] if text.strip() else "unknown error"
    return first[:500]
