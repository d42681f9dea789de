"""Rolling-origin backtests: the same study repeated with the test period moved back.

Origin ``i`` (0 … N−1) moves the training and the test period back by ``i`` test-period
lengths (history windows follow, since they are computed from each target period). Every
origin is a complete, ordinary run folder written by :func:`rtm_core.runs.pipeline.run_pipeline`
under ``DIR/origins/<test start, ISO date>/``; the out-of-sample accuracy of every model and
baseline is collected into ``DIR/backtest.csv``, each model is compared with the best
baseline (mean PAI over the origins, with a bootstrap across the origins' test crimes) in
``DIR/comparison.csv``, and both are summarised in ``DIR/backtest.html`` (see
:mod:`rtm_core.backtest.report`).

Origins are independent. They run in process one after the other, in a pool of spawned
processes (``processes``; default half the cores), or as tasks on a Dask cluster
(``workers``/``scheduler``, or ``RTM_DASK_SCHEDULER``). On an existing cluster the workers
must see the same file system as the caller (the data files and ``DIR``); uploaded layers
travel inside the config. The whole backtest is written into a staging folder and renamed at
the end, so a failure or a cancel leaves no half-written ``DIR``.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rtm_core.backtest.engines import (
    BacktestError,
    Tracker,
    default_processes,
    run_origin,
    run_origins,
)
from rtm_core.backtest.report import (
    backtest_comparison,
    collect_metrics,
    origin_characters,
    write_html,
)
from rtm_core.cluster import dask_client
from rtm_core.config import BacktestConfig, RunConfig
from rtm_core.errors import ConfigError, check_cancel
from rtm_core.io import parse_dates, read_layer
from rtm_core.periods import Period, lag_windows, period_length, shift_period
from rtm_core.record.access import normalise_email
from rtm_core.record.folder import (
    BACKTEST_MANIFEST_FILE,
    BACKTEST_TABLE_FILE,
    COMPARISON_FILE,
    ORIGINS_DIR,
    environment,
    staged_run,
)
from rtm_core.runs.pipeline import Progress

__all__ = [
    "Origin",
    "BacktestError",
    "origin_configs",
    "check_data_reaches_back",
    "run_backtest",
    "run_origin",
    "default_processes",
    "MAX_ORIGINS",
]

MAX_ORIGINS = 50


@dataclass(frozen=True)
class Origin:
    """One origin of a backtest.

    Attributes
    ----------
    index : int
        0 for the study as configured, i for the test period moved back i periods.
    train, test : Period
    config : RunConfig
        The study with the shifted periods.
    """

    index: int
    train: Period
    test: Period
    config: RunConfig

    @property
    def name(self) -> str:
        """The origin's key: the test period's first day, ISO (``2018-01-01``)."""
        return self.test.as_config()[0]

    def describe(self) -> str:
        """For people: ``origin 2017-01-01 (train 2016-01-01 – 2016-12-31, test ...)``."""
        return f"origin {self.name} (train {self.train.label()}, test {self.test.label()})"


def _dated(config: RunConfig) -> tuple[Period, Period]:
    crimes = config.crimes
    fix = (
        "give [crimes] one file with a date column: file = ..., date = ..., "
        "train = [first, last], test = [first, last]"
    )
    if crimes.source is None or not crimes.date or not crimes.train or not crimes.test:
        raise ConfigError(
            config.source,
            "crimes.date",
            "a backtest moves the periods back in time, so it needs one crimes file with a "
            "date column (separate train/test files cannot be moved)",
            fix,
        )
    try:
        return Period.from_config(crimes.train), Period.from_config(crimes.test)
    except ValueError as exc:
        raise ConfigError(config.source, "crimes.train", str(exc), "write YYYY-MM-DD") from None


def origin_configs(config: RunConfig, origins: int | None = None) -> list[Origin]:
    """The shifted studies of a backtest, origin 0 (the study as configured) first.

    Parameters
    ----------
    config : RunConfig
        A study with one dated crimes file.
    origins : int, optional
        Number of origins; default ``config.backtest.origins``.

    Returns
    -------
    list of Origin

    Raises
    ------
    ConfigError
        No dated crimes file, or ``origins`` not an integer in 1 … 50.
    """
    n = config.backtest.origins if origins is None else origins
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_ORIGINS:
        raise ConfigError(
            config.source,
            "backtest.origins",
            f"must be an integer from 1 to {MAX_ORIGINS}, got {n!r}",
            "e.g. origins = 3",
        )
    train, test = _dated(config)
    length = period_length(test)
    gap = test.start - train.end
    train_length = period_length(train)
    out = []
    for i in range(n):
        # the test period steps back by its own length (calendar months stay months); the
        # training period keeps its own length and its exact gap before the test period
        shifted_test = shift_period(test, length, -i)
        end = shifted_test.start - gap
        shifted_train = Period(train_length.shift(end, -1), end)
        crimes = dataclasses.replace(
            config.crimes, train=shifted_train.as_config(), test=shifted_test.as_config()
        )
        shifted = config.replace(crimes=crimes, backtest=BacktestConfig(origins=n))
        out.append(Origin(i, shifted_train, shifted_test, shifted))
    return out


def _earliest_needed(origin: Origin) -> Period:
    """The first window an origin reads: its training period or its oldest history window."""
    lags = origin.config.history.lags if origin.config.history.enabled else 0
    windows = lag_windows(origin.train, lags, period_length(origin.train))
    return windows[-1] if windows else origin.train


def check_data_reaches_back(config: RunConfig, origins: list[Origin]) -> None:
    """Refuse a backtest whose oldest origin needs crimes from before the file's first date.

    Reads the crimes file's date column once, before any origin runs, so an origin that
    cannot be studied fails the backtest at once rather than after the others.

    Parameters
    ----------
    config : RunConfig
        The backtest's configuration (crimes as one file with a date column).
    origins : list of Origin
        The origins (see :func:`origin_configs`).

    Raises
    ------
    ConfigError
        Naming the first origin that needs earlier data, the date needed and the file's
        earliest date.
    """
    source = config.crimes.source
    layer = read_layer(source)
    if config.crimes.date not in layer.frame.columns:
        return  # the pipeline reports a missing date column with the columns it found
    when = parse_dates(layer.frame[config.crimes.date]).dropna()  # local wall time, as the study
    if when.empty:
        return  # the pipeline says that no date could be read
    first = when.min()
    for origin in origins:
        needed = _earliest_needed(origin)
        if needed.start < first.normalize():
            what = "its history" if needed != origin.train else "its training period"
            raise ConfigError(
                source.label,
                "backtest.origins",
                f"{origin.describe()} needs crimes from {needed.as_config()[0]} for {what}, "
                f"but the earliest date in the file is {first.date().isoformat()}",
                f"use fewer origins (at most {origin.index}), fewer history lags, "
                "or a file reaching further back",
            )


def run_backtest(
    config: RunConfig,
    out_dir: str | Path,
    *,
    origins: int | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    processes: int | None = None,
    progress: Callable[[Progress], None] | None = None,
    cancel=None,
    label: str = "",
    owner: str | None = None,
) -> Path:
    """Run a rolling-origin backtest and write ``out_dir`` atomically.

    Parameters
    ----------
    config : RunConfig
        The study (one crimes file with a date column); origin 0 is this study.
    out_dir : path
        Folder to create (must not exist or be empty).
    origins : int, optional
        Number of origins; default ``config.backtest.origins`` (3).
    workers : int, optional
        Run the origins as tasks on a Dask ``LocalCluster`` of this many workers.
    scheduler : str, optional
        Run them on an existing Dask scheduler (default ``$RTM_DASK_SCHEDULER``).
    processes : int, optional
        Without Dask: processes running origins at once; default half the cores (1 runs
        them one after the other in this process).
    progress : callable, optional
        Receives :class:`~rtm_core.runs.pipeline.Progress`: overall fraction, origins done in
        ``step``/``total``, the origin and its phase in ``message``.
    cancel : object with ``is_set()``, optional
        A cancel stops the backtest within a few seconds and writes nothing.
    label : str
        A name for the backtest (stored in ``backtest.json``).
    owner : str, optional
        The e-mail of the user running it (``backtest.json``'s ``owner``; its origin runs
        are opened under the backtest's ownership, see :mod:`rtm_core.record.access`).

    Returns
    -------
    Path
        ``out_dir``, holding ``backtest.csv``, ``backtest.html``, ``backtest.json`` and
        ``origins/<test start>/`` run folders.

    Raises
    ------
    ConfigError
        No dated crimes file, a bad number of origins, or data not reaching back far
        enough for an origin (named in the message).
    BacktestError
        An origin failed (named in the message).
    Cancelled
        ``cancel`` was set; nothing is written.
    """
    out_dir = Path(out_dir)
    if workers is not None and (isinstance(workers, bool) or workers < 1):
        raise ConfigError("rtm", "--workers", f"must be >= 1, got {workers!r}", "give 1 or more")
    if processes is not None and (isinstance(processes, bool) or processes < 1):
        raise ConfigError(
            "rtm", "--processes", f"must be >= 1, got {processes!r}", "give 1 or more"
        )
    plan = origin_configs(config, origins)
    check_data_reaches_back(config, plan)
    check_cancel(cancel)
    tracker = Tracker(plan, progress)
    started, t0 = time.time(), time.perf_counter()
    with staged_run(out_dir) as staging:
        folder = staging / ORIGINS_DIR
        folder.mkdir()
        with dask_client(workers, scheduler) as client:
            n = 1 if client is not None else min(len(plan), processes or default_processes())
            if client is not None:
                engine = f"dask ({client.scheduler.address})"
            else:
                engine = "in process" if n <= 1 else f"{n} processes"
            results = run_origins(plan, folder, tracker, cancel, processes=n, client=client)
        check_cancel(cancel)
        table = collect_metrics({name: r["metrics"] for name, r in results.items()})
        table.to_csv(staging / BACKTEST_TABLE_FILE, index=False)
        manifest = {
            "kind": "backtest",
            "label": label,
            **({"owner": normalise_email(owner)} if owner else {}),
            "name": out_dir.name,
            "created": started,
            "status": "complete",
            "config": config.to_dict(),
            "origins": [
                {
                    "origin": o.name,
                    "train": list(o.train.as_config()),
                    "test": list(o.test.as_config()),
                    "folder": f"{ORIGINS_DIR}/{o.name}",
                    "seconds": results[o.name]["seconds"],
                }
                for o in plan
            ],
            "engine": engine,
            "timings": {"total": time.perf_counter() - t0},
            "versions": environment(),
        }
        (staging / BACKTEST_MANIFEST_FILE).write_text(json.dumps(manifest, indent=2, default=str))
        dirs = [folder / o.name for o in plan]
        comparison = backtest_comparison(dirs, random_state=config.model.random_state)
        if comparison is not None:
            comparison.to_csv(staging / COMPARISON_FILE, index=False)
        write_html(staging, table, manifest, comparison, origin_characters(dirs))
        check_cancel(cancel)  # the last moment: a cancel now still leaves nothing behind
    if progress is not None:
        progress(Progress("done", 1.0, f"backtest written to {out_dir}", len(plan), len(plan)))
    return out_dir
