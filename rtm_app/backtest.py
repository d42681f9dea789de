"""The Backtest page's logic: backtest jobs, where backtests live, the chart and the table.

Backtests run as background jobs of their own :class:`~rtm_core.runs.jobs.JobManager` (one at a
time per server: a backtest already runs its origins in parallel where the machine allows)
and are written under ``$RTM_RUNS_DIR/backtests/`` (left out of the Runs page's list). Each
origin is an ordinary run folder under ``<backtest>/origins/``.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import altair as alt
import pandas as pd
import streamlit as st

from rtm_app import permissions, state
from rtm_app.charts import model_lines
from rtm_app.dataset import DataSet
from rtm_core.backtest.report import AREAS, summary_table
from rtm_core.config import BacktestConfig, ModelConfig, RunConfig
from rtm_core.errors import AccessDenied
from rtm_core.models.registry import display_name
from rtm_core.record.access import Ownership, decide
from rtm_core.record.folder import BACKTESTS_DIR
from rtm_core.runs.jobs import JobManager, JobStatus

__all__ = [
    "MIN_ORIGINS",
    "MAX_ORIGINS",
    "PRESETS",
    "backtests_dir",
    "manager",
    "unavailable_reason",
    "default_origins",
    "backtest_config",
    "DATA_SET",
    "AS_IN_RUN",
    "settings_sources",
    "default_label",
    "preset_options",
    "run_settings",
    "start",
    "visible",
    "check_again",
    "again_config",
    "my_backtests",
    "progress_text",
    "pai_chart",
    "summary_frame",
]

MIN_ORIGINS, MAX_ORIGINS = 2, 6
#: model settings offered for a backtest: (label, seeds, burn-in steps, prune steps)
PRESETS = {
    "quick": ("Quick (2 seeds, 300 + 300 steps per origin)", 2, 300, 300),
    "full": ("Full (20 seeds, 10,000 + 10,000 steps per origin)", 20, 10_000, 10_000),
}


def backtests_dir() -> Path:
    """Folder of the app's backtests: ``$RTM_RUNS_DIR/backtests``."""
    return state.runs_dir() / BACKTESTS_DIR


def _run_backtest(
    config: RunConfig, out_dir, *, progress=None, cancel=None, label: str = "", owner=None
):
    from rtm_core.backtest.rolling import run_backtest

    return run_backtest(config, out_dir, progress=progress, cancel=cancel, label=label, owner=owner)


@st.cache_resource(show_spinner=False)
def manager() -> JobManager:
    """The server's backtest job manager (one backtest at a time; others wait in line)."""
    return JobManager(max_concurrent=1, runner=_run_backtest)


def unavailable_reason(data: DataSet) -> str:
    """Why a backtest cannot run on this data set, with the fix ("" when it can)."""
    if data.missing():
        return "Add " + ", ".join(data.missing()) + " on the Data page first."
    if not data.dated_crimes:
        return (
            "A backtest moves the training and test periods back in time, so it needs the "
            "crimes as one file with a date column; this data set has one crimes file per "
            "period. Fix: on the Data page, add the crimes as "
            "“Crimes, both periods (one file with a date column)”."
        )
    return ""


def default_origins() -> int:
    """The config's default number of origins, within what the page offers."""
    return min(max(BacktestConfig().origins, MIN_ORIGINS), MAX_ORIGINS)


#: the "Use the settings of" option meaning the current data set (not a run)
DATA_SET = ""
#: the "Model settings" option meaning the run's own model settings
AS_IN_RUN = "run"


def settings_sources(runs) -> dict[str, str]:
    """What a backtest can take its study and settings from: the current data set, or a
    complete run that keeps its config (``config.toml``), as the run pickers name it.

    Parameters
    ----------
    runs : list of RunInfo
        The run folders (:func:`rtm_app.cache.runs`).

    Returns
    -------
    dict
        Option -> label; :data:`DATA_SET` first, then run folder paths.
    """
    from rtm_app.run_list import run_names
    from rtm_core.runs.rerun import CONFIG_FILE

    kept = [r for r in runs if r.status == "complete" and (r.path / CONFIG_FILE).is_file()]
    names = run_names(kept)
    return {DATA_SET: "the data set (Data and Risk factors pages)"} | {
        path: f"run {name}" for path, name in names.items()
    }


def default_label(runs, source: str, data: DataSet) -> str:
    """A backtest's label when none is typed: the run's label, or the data set's name."""
    label = next((r.label for r in runs if str(r.path) == source), "")
    return label or data.name


def preset_options(run_config: RunConfig | None) -> dict[str, str]:
    """The "Model settings" choices: the run's own settings first when the backtest takes a
    run's, then the presets."""
    presets = {key: value[0] for key, value in PRESETS.items()}
    if run_config is None:
        return presets
    m = run_config.model
    own = f"As in the run ({m.seeds} seeds, {m.burn_in_steps:,} + {m.prune_steps:,} steps)"
    return {AS_IN_RUN: own} | presets


def run_settings(run: str | Path) -> RunConfig:
    """The study and settings a run folder keeps, checked for a backtest.

    Raises
    ------
    InputError
        The folder keeps no config, or its crimes are one file per period (a backtest
        moves the periods back in a dated crimes file).
    """
    from rtm_core.errors import InputError
    from rtm_core.runs.rerun import load_run_config

    config = load_run_config(run)
    crimes = config.crimes
    if crimes.source is None or not crimes.date:
        raise InputError(
            Path(run).name,
            "crimes",
            "this run's crimes are one file per period; a backtest needs one file with a "
            "date column",
            "use the settings of another run, or of the data set",
        )
    return config


def backtest_config(
    data: DataSet,
    origins: int,
    preset: str,
    kinds: tuple[str, ...],
    run_config: RunConfig | None = None,
) -> RunConfig:
    """The run configuration of a backtest started on the page.

    Parameters
    ----------
    data : DataSet
        The current data set (used when no run's settings are).
    origins : int
        Test periods.
    preset : str
        A key of :data:`PRESETS`, or ``"run"`` for the run's own model settings.
    kinds : tuple of str
        The models.
    run_config : RunConfig, optional
        A run's settings (:func:`run_settings`): its study, factors and history are used.

    Returns
    -------
    RunConfig
    """
    if run_config is None:
        base = ModelConfig()
    else:
        base = run_config.model
    if preset == AS_IN_RUN and run_config is not None:
        model = dataclasses.replace(base, kinds=kinds)
    else:
        _, seeds, burn_in, prune = PRESETS[preset]
        model = dataclasses.replace(
            base, kinds=kinds, seeds=seeds, burn_in_steps=burn_in, prune_steps=prune
        )
    config = data.run_config(model) if run_config is None else run_config.replace(model=model)
    return config.replace(backtest=BacktestConfig(origins=int(origins)))


def start(config: RunConfig, label: str) -> str:
    """Queue a backtest for this session's user; its job id.

    Raises
    ------
    LimitReached
        The user has ``RTM_MAX_JOBS_PER_USER`` backtests queued or running.
    """
    backtests_dir().mkdir(parents=True, exist_ok=True)
    return permissions.submit_job(manager(), config, backtests_dir(), label, what="backtests")


def visible(backtests: list) -> list:
    """The backtests (:class:`~rtm_core.backtest.report.BacktestInfo`) this session's user
    may open: their own, those shared with them, or every one for an admin."""
    user = state.visitor().user
    return [b for b in backtests if decide(user, Ownership.of(b.manifest), "counts")]


def check_again(files) -> None:
    """Refuse to repeat a backtest (on its raw inputs) for anyone but its owner or an admin.

    Raises
    ------
    AccessDenied
        The one-line reason.
    """
    why = decide(state.visitor().user, Ownership.of(files.manifest), "rerun")
    if not why:
        raise AccessDenied(files.path.name, "rerun", why.reason, "ask its owner or an admin")


def again_config(backtest: Path, origins: int) -> RunConfig:
    """The study of a finished backtest (kept in its newest origin's run folder), with
    ``origins`` origins: to repeat it, e.g. with more origins.

    Raises
    ------
    InputError
        The backtest's newest origin keeps no readable config.
    """
    from rtm_core.backtest.report import load_backtest
    from rtm_core.runs.rerun import load_run_config

    files = load_backtest(backtest)
    newest = files.manifest["origins"][0]["folder"]
    config = load_run_config(Path(backtest) / newest)
    return config.replace(backtest=BacktestConfig(origins=int(origins)))


def progress_text(job: JobStatus) -> str:
    """One line for a running backtest: origins done, the origin and its phase, time."""
    if job.status == "queued":
        return f"Queued: position {job.position} in line"
    done = f"{job.step} of {job.total} origins done · " if job.total else ""
    return f"{done}{job.message or job.phase} · {job.elapsed:.0f} s"


def my_backtests() -> list[JobStatus]:
    """This user's backtest jobs (this session's when login is off), newest first."""
    return manager().jobs(owner=state.job_owner())


def pai_chart(table: pd.DataFrame, area: str = "0.05") -> alt.Chart | None:
    """PAI at ``area`` of the area by origin, one line per model (RTMs solid, baselines dashed)."""
    rows = table[(table["measure"] == "pai") & (table["area"] == area)].dropna(subset=["value"])
    if rows.empty:
        return None
    rows = rows.copy()
    lines = model_lines(rows)
    title = f"PAI at {float(area) * 100:g} % (out of sample)"
    return (
        alt.Chart(rows)
        .mark_line(point=True, strokeWidth=2)
        .encode(
            x=alt.X(
                "origin:O",
                title="Origin (first day of the test period)",
                axis=alt.Axis(labelAngle=0),
            ),
            y=alt.Y("value:Q", title=title, scale=alt.Scale(zero=False)),
            **lines,
            tooltip=[
                "Model",
                alt.Tooltip("origin:N", title="Origin"),
                alt.Tooltip("value:Q", format=".2f", title="PAI"),
            ],
        )
        .properties(height=320)
    )


def summary_frame(table: pd.DataFrame) -> pd.DataFrame:
    """Mean and range of PAI over the origins per model at 1 / 5 / 10 %, readable."""
    summary = summary_table(table, "pai")
    out = pd.DataFrame({"Model": summary["model"].map(display_name)})
    for area in AREAS:
        pct = f"{float(area) * 100:g} %"
        out[f"PAI {pct} mean"] = summary[f"mean {area}"]
        out[f"PAI {pct} range"] = [
            f"{lo:.2f} – {hi:.2f}" if pd.notna(lo) else ""
            for lo, hi in zip(summary[f"min {area}"], summary[f"max {area}"], strict=True)
        ]
    out["Origins"] = summary["origins"]
    return out
