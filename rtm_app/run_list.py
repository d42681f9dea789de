"""The Runs page's list of run folders: the table shown and the names in its pickers."""

from __future__ import annotations

import re
import time

import pandas as pd

from rtm_core.record.access import Ownership
from rtm_core.record.folder import RunInfo

__all__ = ["runs_table", "run_names", "run_name", "short_id"]

_SUFFIX = re.compile(r"-([0-9a-f]{4,})$")


def short_id(folder_name: str) -> str:
    """The short id of a run folder: the random suffix of ``run-YYYYmmdd-HHMMSS-xxxx``
    ("xxxx"), else the whole folder name (a folder named by hand or by ``rtm run --out``)."""
    found = _SUFFIX.search(folder_name)
    return found.group(1) if found else folder_name


def run_name(label: str, created: float, folder_name: str) -> str:
    """How pickers and lists name a run: "<label> · <created, local time> · <short id>"."""
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(created))
    return f"{label} · {when} · {short_id(folder_name)}"


def runs_table(runs: list[RunInfo], *, ownership: bool = False) -> pd.DataFrame:
    """One row per run folder: label, created (local time), id, status, models, problem, and
    the run folder's name ("run"); with ``ownership``, also its owner and whom it is shared
    with (when login is on)."""
    table = pd.DataFrame(
        {
            "label": [r.label for r in runs],
            "created": [time.strftime("%Y-%m-%d %H:%M", time.localtime(r.created)) for r in runs],
            "id": [short_id(r.name) for r in runs],
            "status": [r.status for r in runs],
            "models": [", ".join(r.models) for r in runs],
            "problem": [r.problem for r in runs],
            "run": [r.name for r in runs],
        }
    )
    if ownership:
        owned = [Ownership.of(r.manifest) for r in runs]
        table["owner"] = [o.owner or "(none: admins only)" for o in owned]
        table["shared with"] = [", ".join(o.shared_with) for o in owned]
    return table


def run_names(runs: list[RunInfo]) -> dict[str, str]:
    """Run folder path -> :func:`run_name` ("<label> · <created> · <short id>"), as the
    pickers show a run: runs with the same label are told apart by time and id."""
    return {str(r.path): run_name(r.label, r.created, r.name) for r in runs}
