"""Where work runs beyond this process: a Dask ``LocalCluster`` or an existing scheduler.

The one owner of Dask clients in ``rtm_core``. Callers ask for a client with
:func:`dask_client` and submit pure functions to it; without ``workers`` or ``scheduler`` (and
no ``RTM_DASK_SCHEDULER`` in the environment) no client is made and work stays in process.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from rtm_core.errors import ConfigError

__all__ = ["dask_client", "SCHEDULER_ENV"]

#: environment variable naming an existing Dask scheduler, e.g. ``tcp://10.0.0.5:8786``
SCHEDULER_ENV = "RTM_DASK_SCHEDULER"


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
        None when neither a scheduler nor workers were asked for: run in process.
    """
    scheduler = scheduler or os.environ.get(SCHEDULER_ENV) or None
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
