"""Where work runs and on how many threads: Dask clients and torch's thread count.

The one owner of Dask clients in ``rtm_core``. Callers ask for a client with
:func:`dask_client` and submit pure functions to it; without ``workers`` or ``scheduler`` (and
no ``RTM_DASK_SCHEDULER`` in the environment) no client is made and work stays in process.

Also the one owner of how many threads a process's own work uses: :func:`set_process_threads`
for a process (a job server, a pool process), read back by :func:`process_threads` (the risk
factors' chunks run on that many threads, the lasso's folds on that many processes), and
:func:`torch_threads` for the duration of a fit. Nothing else in ``rtm_core`` calls
``torch.set_num_threads``. And of helper processes: :func:`share_with_helpers` runs a list of
tasks on the calling thread and on loky helper processes (for work that holds the GIL or
saturates one core's memory bandwidth, where threads do not add up).
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import queue
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

from rtm_core.config.environment import DASK_SCHEDULER, MALLOC_TRIM, text_from_env
from rtm_core.errors import ConfigError

__all__ = [
    "dask_client",
    "Throttled",
    "roomy_malloc",
    "process_threads",
    "set_process_threads",
    "share_with_helpers",
    "torch_threads",
    "usable_cores",
]

_FLAG_POLL_S = 0.5  # a remote cancel flag is asked at most this often
_process_threads: int | None = None  # set by set_process_threads; None = every usable core

#: environment variable naming an existing Dask scheduler, e.g. ``tcp://10.0.0.5:8786``


@contextmanager
def dask_client(
    workers: int | None = None,
    scheduler: str | None = None,
    *,
    memory_limit: str | None = None,
) -> Iterator[object | None]:
    """A ``dask.distributed.Client`` for the duration of a ``with`` block, or None.

    Parameters
    ----------
    workers : int, optional
        Start a ``LocalCluster`` with this many single-threaded worker processes.
    scheduler : str, optional
        Address of an existing scheduler (``tcp://host:8786``); default
        ``$RTM_DASK_SCHEDULER``. Wins over ``workers``.
    memory_limit : str, optional
        Memory limit per local worker (e.g. ``"4GB"``); default Dask's.

    Yields
    ------
    Client or None
        None when neither a scheduler nor workers were asked for: run in process. The
        client (and a local cluster) is closed when the block ends.

    Raises
    ------
    ConfigError
        ``workers`` below 1 (or a bool), or a scheduler that cannot be reached within 20 s.
    """
    scheduler = scheduler or text_from_env(DASK_SCHEDULER) or None
    if workers is not None and (isinstance(workers, bool) or workers < 1):
        raise ConfigError("rtm", "--workers", f"must be >= 1, got {workers!r}", "give 1 or more")
    if scheduler is None and workers is None:
        yield None
        return
    from dask.distributed import Client, LocalCluster

    if scheduler is not None:
        try:
            client = Client(scheduler, timeout="20s")
        except OSError as exc:
            raise ConfigError(
                "rtm",
                "--scheduler",
                f"cannot reach the Dask scheduler at {scheduler} ({exc})",
                "start `dask scheduler` there, or check the address and port",
            ) from None
        try:
            yield client
        finally:
            client.close()
        return
    kwargs = {"memory_limit": memory_limit} if memory_limit else {}
    with (
        LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",
            **kwargs,
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client


class Throttled:
    """Ask a slow ``is_set()`` (a Dask ``Event``, a Manager proxy) at most every half second.

    Once set it stays set; a flag that cannot be asked any more (the parent went away) reads as
    set, so the work stops.
    """

    def __init__(self, flag):
        self._flag = flag
        self._last = 0.0
        self._value = False

    def is_set(self) -> bool:
        now = time.monotonic()
        if not self._value and now - self._last >= _FLAG_POLL_S:
            self._last = now
            try:
                self._value = bool(self._flag.is_set())
            except Exception:  # the parent went away: stop
                self._value = True
        return self._value


def usable_cores() -> int:
    """Cores this process may run on (its CPU affinity where the platform tells, else all)."""
    affinity = getattr(os, "sched_getaffinity", None)
    return len(affinity(0)) if affinity else os.cpu_count() or 1


def set_process_threads(threads: int) -> None:
    """Threads for this process's work: torch's intra-op threads and :func:`process_threads`.

    A job server leaves a core to the web server and shares the rest among its jobs; a pool
    of backtest processes shares the cores among them. Torch's setting is skipped when torch
    cannot be imported.

    Parameters
    ----------
    threads : int
        Threads, at least 1.
    """
    global _process_threads
    _process_threads = max(1, int(threads))
    try:
        import torch
    except ImportError:  # torch missing: the fit reports it properly
        return
    torch.set_num_threads(_process_threads)


def process_threads() -> int:
    """Threads this process's own parallel loops may use.

    Returns
    -------
    int
        The value of :func:`set_process_threads`; else, inside a Dask task, the worker's
        thread count (a local cluster's workers have one each, and share the cores); else
        :func:`usable_cores`.
    """
    if _process_threads:
        return _process_threads
    worker = _dask_worker()
    if worker is not None:
        state = getattr(worker, "state", None)
        return max(1, int(getattr(state, "nthreads", 1) or 1))
    return usable_cores()


def share_with_helpers(
    tasks: Sequence[tuple],
    local: Callable,
    remote: Callable,
    *,
    helpers: int,
    initializer: Callable | None = None,
    initargs: tuple = (),
) -> list:
    """Results of ``tasks``, run on this thread and on ``helpers`` helper processes.

    This thread calls ``local(*task)`` while each helper process (a loky worker, started with
    ``initializer(*initargs)``: it sets up whatever ``remote`` needs, once) calls
    ``remote(*task)``; each runner takes the next task in order when it is free. ``local``
    and ``remote`` must compute the same thing, so which runner took a task does not change
    its result. Loky starts helpers without re-running the caller's ``__main__``, so scripts
    need no ``if __name__ == "__main__"`` guard.

    Parameters
    ----------
    tasks : sequence of tuple
        Arguments of each call (pickled to the helpers: keep them small).
    local, remote : callable
        ``remote`` must be importable (a module-level function).
    helpers : int
        Helper processes; capped at ``len(tasks) - 1``. Below 1, or in a daemonic process
        (which may not start children), every task runs here.
    initializer : callable, optional
    initargs : tuple

    Returns
    -------
    list
        One result per task, in task order.

    Raises
    ------
    Exception
        The first error a task raised (here or in a helper); the helpers are stopped. A helper
        that cannot start or dies is not an error: its tasks run here.
    """
    helpers = min(int(helpers), len(tasks) - 1)
    if helpers < 1 or multiprocessing.current_process().daemon:
        return [local(*task) for task in tasks]
    from loky import ProcessPoolExecutor
    from loky.process_executor import BrokenProcessPool

    todo: queue.SimpleQueue = queue.SimpleQueue()
    for i in range(len(tasks)):
        todo.put(i)
    results: dict[int, object] = {}
    errors: list[BaseException] = []

    def take() -> int | None:
        if errors:
            return None
        try:
            return todo.get_nowait()
        except queue.Empty:
            return None

    executor = ProcessPoolExecutor(helpers, initializer=initializer, initargs=initargs)

    def run_remote() -> None:
        while (i := take()) is not None:
            try:
                future = executor.submit(remote, *tasks[i])
            except Exception:  # no helper can start here: task i is left to this thread
                return
            try:
                results[i] = future.result()
            except BrokenProcessPool:  # the helper died: task i is left to this thread
                return
            except BaseException as exc:  # the task's own error, raised by this thread
                errors.append(exc)
                return

    runners = [threading.Thread(target=run_remote, daemon=True) for _ in range(helpers)]
    for runner in runners:
        runner.start()
    try:
        while (i := take()) is not None:
            results[i] = local(*tasks[i])
        for runner in runners:
            runner.join()
        if errors:
            raise errors[0]
        for i in range(len(tasks)):  # what a broken helper left
            if i not in results:
                results[i] = local(*tasks[i])
    except BaseException as exc:
        errors.append(exc)  # the remote runners take nothing more
        executor.shutdown(wait=False, kill_workers=True)
        raise
    executor.shutdown(wait=True)
    return [results[i] for i in range(len(tasks))]


@contextmanager
def torch_threads(threads: int, device="cpu") -> Iterator[None]:
    """Torch's intra-op threads set to ``threads`` on CPU inside the block, restored after.

    Parameters
    ----------
    threads : int
        Threads inside the block.
    device : str or torch.device
        Nothing changes for a non-CPU device.

    Yields
    ------
    None
    """
    import torch

    if torch.device(device).type != "cpu":
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc mallopt parameters (malloc.h)
_ROOMY_BYTES = 32 * 1024 * 1024  # the largest mmap threshold glibc takes on 64-bit
_MMAP_DEFAULT = 128 * 1024  # glibc's mmap threshold, fixed there once a threshold is set


@contextmanager
def roomy_malloc() -> Iterator[None]:
    """glibc keeps freed memory inside the block; Dask's trim setting comes back after it.

    Dask's nanny starts every worker with ``MALLOC_TRIM_THRESHOLD_=65536``. Setting it fixes
    glibc's mmap threshold at 128 KiB, so each temporary tensor of a training step (a few
    hundred KiB) is mapped and unmapped again: a deep-learning fit then takes 3-4x the CPU time
    (measured on the demo: 5.7 s instead of 1.4-1.8 s for 5 seeds x 2,000 steps). Inside the
    block both thresholds are 32 MiB; afterwards they are Dask's again (trim 64 KiB, mmap
    128 KiB) and the heap is trimmed. Nothing happens outside a Dask worker, outside glibc, or
    when the variable is not set.

    Yields
    ------
    None
    """
    trim = text_from_env(MALLOC_TRIM)
    libc = _glibc() if trim.isdigit() and _dask_worker() is not None else None
    if libc is None:
        yield
        return
    libc.mallopt(_M_TRIM_THRESHOLD, _ROOMY_BYTES)
    libc.mallopt(_M_MMAP_THRESHOLD, _ROOMY_BYTES)
    try:
        yield
    finally:
        libc.mallopt(_M_TRIM_THRESHOLD, int(trim))
        libc.mallopt(_M_MMAP_THRESHOLD, _MMAP_DEFAULT)
        libc.malloc_trim(0)


def _dask_worker():
    """The Dask worker running this task, or None outside one."""
    if "distributed" not in sys.modules:  # never imported: no worker here
        return None
    try:
        from dask.distributed import get_worker

        return get_worker()
    except (ImportError, ValueError):
        return None


def _glibc():
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return None
    return libc if hasattr(libc, "mallopt") and hasattr(libc, "malloc_trim") else None
