"""How the origins of a backtest run: in process, in spawned processes, or on Dask.

Every engine runs :func:`run_origin` (a pure, top-level function that pickles) once per origin
and returns ``{origin name: result}``; progress goes through a :class:`Tracker`, a cancel
stops all origins within a few seconds, and a failed origin raises :class:`BacktestError`
naming it. Used by :func:`rtm_core.backtest.rolling.run_backtest`.
"""

from __future__ import annotations

import json
import multiprocessing
import queue as queue_module
import time
import uuid
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from pathlib import Path

from rtm_core.cluster import Throttled as _Throttled
from rtm_core.cluster import set_process_threads, usable_cores
from rtm_core.config import RunConfig
from rtm_core.errors import Cancelled, RTMError, check_cancel
from rtm_core.runs.pipeline import Progress, run_pipeline

__all__ = [
    "BacktestError",
    "Tracker",
    "default_processes",
    "run_origin",
    "run_origins",
]

_STOP_GRACE_S = 2.0  # after a cancel, pool processes that have not stopped are ended


class BacktestError(RTMError):
    """One origin of a backtest failed; the message names the origin and the reason."""


def default_processes() -> int:
    """Processes used for origins without Dask: half the cores, at least one."""
    return max(1, usable_cores() // 2)


class _Forward:
    """Send an origin's progress to a queue, at most every 2 % or on a phase change."""

    def __init__(self, sink, name: str):
        self._sink, self._name = sink, name
        self._last = (-1.0, "")

    def __call__(self, p: Progress) -> None:
        if p.fraction - self._last[0] < 0.02 and p.phase == self._last[1]:
            return
        self._last = (p.fraction, p.phase)
        try:
            self._sink.put((self._name, p.phase, float(p.fraction), p.message))
        except Exception:  # progress must never fail a run
            pass


def run_origin(config: RunConfig, out_dir: str | Path, *, cancel=None, progress=None) -> dict:
    """Run one origin's study into ``out_dir`` and return its test metrics.

    A pure, top-level function (it pickles), used in process, in pool processes and as a
    Dask task. Errors come back as a plain dict, because the library's exceptions do not
    survive pickling.

    Parameters
    ----------
    config : RunConfig
        The shifted study (see :func:`origin_configs`).
    out_dir : path
        The origin's run folder (must not exist).
    cancel : object with ``is_set()``, optional
    progress : callable or object with ``put``, optional
        Receives :class:`~rtm_core.runs.pipeline.Progress`; a queue receives
        ``(origin, phase, fraction, message)`` tuples.

    Returns
    -------
    dict
        ``{"status": "done", "metrics": {...}, "seconds": s}``, or
        ``{"status": "failed"|"cancelled", "error": message}``.
    """
    out_dir = Path(out_dir)
    if progress is not None and not callable(progress):
        progress = _Forward(progress, out_dir.name)
    if cancel is not None and not isinstance(cancel, _Throttled):
        cancel = _Throttled(cancel)
    start = time.perf_counter()
    try:
        run_pipeline(config, out_dir, progress=progress, cancel=cancel, label=out_dir.name)
        metrics = json.loads((out_dir / "metrics.json").read_text(encoding="utf-8"))
    except Cancelled:
        return {"status": "cancelled", "error": "cancelled by the user"}
    except RTMError as exc:
        return {"status": "failed", "error": _one_line(str(exc))}
    except Exception as exc:  # a bug: still a message the caller can show
        return {"status": "failed", "error": f"internal error ({type(exc).__name__}: {exc})"}
    return {"status": "done", "metrics": metrics, "seconds": time.perf_counter() - start}


def _one_line(text: str) -> str:
    return (text.strip().splitlines() or ["unknown error"])[0][:500]


def _init_pool(threads: int) -> None:
    """Pool processes share the cores: limit each one's threads (torch, risk factors, lasso)."""
    set_process_threads(threads)


class Tracker:
    """Overall progress of a backtest from its origins' reports."""

    def __init__(self, origins: list, progress):
        self.n = len(origins)
        self.progress = progress
        self.fractions = {o.name: 0.0 for o in origins}
        self.done = 0

    def origin(self, name: str, phase: str, fraction: float, message: str) -> None:
        """Take one origin's progress report and pass the overall progress on.

        Parameters
        ----------
        name : str
            The origin's name.
        phase : str
            Its pipeline phase ("done" is left to :meth:`finished`).
        fraction : float
            How far that origin is, 0 to 1.
        message : str
            The origin's progress message.
        """
        if phase == "done":  # the origin's own "run written to <staging>": finished() says it
            return
        self.fractions[name] = max(self.fractions.get(name, 0.0), min(fraction, 1.0))
        self._send(phase, f"origin {name}: {message}")

    def finished(self, name: str) -> None:
        """Count one origin as done."""
        self.fractions[name] = 1.0
        self.done += 1
        self._send("origin", f"origin {name} done")

    def _send(self, phase: str, message: str) -> None:
        if self.progress is None:
            return
        overall = sum(self.fractions.values()) / max(self.n, 1)
        self.progress(Progress(phase, min(overall, 0.99), message, self.done, self.n))


def _record(origin, result: dict, results: dict, tracker: Tracker) -> None:
    """Keep a finished origin's result, or raise its failure (every engine, the same way)."""
    if result["status"] == "cancelled":
        raise Cancelled("cancelled by the user")
    if result["status"] != "done":
        raise BacktestError(f"backtest {origin.describe()} failed: {result['error']}")
    results[origin.name] = result
    tracker.finished(origin.name)


def run_origins(
    origins, folder: Path, tracker: Tracker, cancel, *, processes: int = 1, client=None
) -> dict[str, dict]:
    """Run every origin: on Dask when a client is given, else in ``processes`` processes.

    Parameters
    ----------
    origins : list of Origin
        The origins (see :func:`~rtm_core.backtest.rolling.origin_configs`).
    folder : Path
        The staging folder; each origin's run folder is written under it by its name.
    tracker : Tracker
        Receives every origin's progress and completion.
    cancel : threading.Event or None
        Set to stop: running origins stop at their next check and write nothing.
    processes : int
        1 runs the origins one after another in this process; more, in a pool of spawned
        processes sharing the cores. Ignored with a client.
    client : dask.distributed.Client, optional
        The cluster's client (see :mod:`rtm_core.cluster`).

    Returns
    -------
    dict of str to dict
        Origin name → :func:`run_origin`'s result, in the order of ``origins``.

    Raises
    ------
    Cancelled
        ``cancel`` was set.
    BacktestError
        An origin failed (the first one to report, with its message).
    """
    if client is not None:
        return _on_dask(origins, folder, tracker, cancel, client)
    if processes <= 1:
        return _in_process(origins, folder, tracker, cancel)
    return _in_processes(origins, folder, tracker, cancel, processes)


def _in_process(origins, folder: Path, tracker: Tracker, cancel) -> dict[str, dict]:
    """The origins one after another in this process."""
    results = {}
    for origin in origins:
        check_cancel(cancel)

        def forward(p: Progress, _name=origin.name) -> None:
            tracker.origin(_name, p.phase, p.fraction, p.message)

        result = run_origin(origin.config, folder / origin.name, cancel=cancel, progress=forward)
        _record(origin, result, results, tracker)
    return results


def _drain(q, tracker: Tracker) -> None:
    while True:
        try:
            name, phase, fraction, message = q.get_nowait()
        except (queue_module.Empty, EOFError, OSError):
            return
        tracker.origin(name, phase, fraction, message)


def _in_processes(
    origins, folder: Path, tracker: Tracker, cancel, processes: int
) -> dict[str, dict]:
    """The origins in a pool of ``processes`` spawned processes (torch's threads shared)."""
    context = multiprocessing.get_context("spawn")
    threads = max(1, usable_cores() // processes)
    with context.Manager() as manager:
        stop, reports = manager.Event(), manager.Queue()
        pool = ProcessPoolExecutor(
            max_workers=processes, mp_context=context, initializer=_init_pool, initargs=(threads,)
        )
        pending = {
            pool.submit(run_origin, o.config, folder / o.name, cancel=stop, progress=reports): o
            for o in origins
        }
        results = {}
        try:
            while pending:
                done, _ = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
                _drain(reports, tracker)
                if cancel is not None and cancel.is_set():
                    raise Cancelled("cancelled by the user")
                for future in done:
                    origin = pending.pop(future)
                    _record(origin, future.result(), results, tracker)
        except BaseException:
            stop.set()  # running origins stop at their next cancel check and write nothing
            _stop_pool(pool, pending)
            raise
        pool.shutdown(wait=True)
    return {o.name: results[o.name] for o in origins}


def _stop_pool(pool: ProcessPoolExecutor, pending) -> None:
    """Give running origins a moment to stop by themselves, then end their processes.

    A process still importing the library (spawned moments ago) cannot see the cancel flag
    yet; ending it is safe because everything it writes lies in the staging folder, which the
    caller removes.
    """
    for future in pending:
        future.cancel()
    wait(pending, timeout=_STOP_GRACE_S)
    for process in list(getattr(pool, "_processes", {}).values()):  # our own workers only
        if process.is_alive():
            process.terminate()
    pool.shutdown(wait=True, cancel_futures=True)


def _on_dask(origins, folder: Path, tracker: Tracker, cancel, client) -> dict[str, dict]:
    """The origins as tasks of a Dask cluster (progress and cancel through named queues)."""
    from dask.distributed import Event, Queue, as_completed

    tag = uuid.uuid4().hex[:12]
    stop = Event(f"rtm-backtest-cancel-{tag}", client=client)
    reports = Queue(f"rtm-backtest-progress-{tag}", client=client)
    futures = {
        client.submit(
            run_origin,
            o.config,
            str(folder / o.name),
            cancel=stop,
            progress=reports,
            key=f"rtm-backtest-origin-{o.name}-{tag}",
            pure=False,
        ): o
        for o in origins
    }
    results = {}
    remaining = as_completed(list(futures))
    try:
        while True:
            _drain_dask(reports, tracker)
            if cancel is not None and cancel.is_set():
                raise Cancelled("cancelled by the user")
            batch = remaining.next_batch(block=False) if not remaining.is_empty() else []
            for future in batch:
                origin = futures[future]
                _record(origin, future.result(), results, tracker)
            if len(results) == len(futures):
                break
            time.sleep(0.2)
    except BaseException:
        stop.set()
        client.cancel(list(futures))
        raise
    finally:
        _drain_dask(reports, tracker)
    return {o.name: results[o.name] for o in origins}


def _drain_dask(reports, tracker: Tracker) -> None:
    try:
        n = reports.qsize()
        items = reports.get(batch=n) if n else []
    except Exception:
        return
    for name, phase, fraction, message in items:
        tracker.origin(name, phase, fraction, message)
