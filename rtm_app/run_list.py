"""The Runs page's list of run folders: the table shown and the names in its pickers."""

from __future__ import annotations

import time

import pandas as pd

from rtm_core.record.access import Ownership
from rtm_core.record.folder import RunInfo

__all__ = ["runs_table", "run_names"]


def runs_table(runs: list[RunInfo], *, ownership: bool = False) -> pd.DataFrame:
    """One row per run folder: run, label, status, created (local time), models, problem;
    with ``ownership``, also its owner and whom it is shared with (when login is on)."""
    table = pd.DataFrame(
        {
            "run": [r.name for r in runs],
            "label": [r.label for r in runs],
            "status": [r.status for r in runs],
            "created": [time.strftime("%Y-%m-%d %H:%M", time.localtime(r.created)) for r in runs],
            "models": [", ".join(r.models) for r in runs],
            "problem": [r.problem for r in runs],
        }
    )
    if ownership:
        owned = [Ownership.of(r.manifest) for r in runs]
        table["owner"] = [o.owner or "(none: admins only)" for o in owned]
        table["shared with"] = [", ".join(o.shared_with) for o in owned]
    return table


def run_names(runs: list[RunInfo]) -> dict[str, str]:
    """Run folder path -> "<label> · <folder name>", as the pickers show a run."""
    return {str(r.path): f"{r.label} · {r.name}" for r in runs}
