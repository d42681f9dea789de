"""A run's comparison table, from its folder: ``comparison.csv``, or computed now from
``units.gpkg`` for a run written before it, or "not available" with the reason.

What each map ranked the units by in the test period is in ``units.gpkg``: the models'
expected counts ``expected_<model>`` and the baselines' ``risk_<baseline>``, except where crime
history makes the test period's ranking differ, kept as ``test_risk_<name>`` (models: the
expected counts of the test period; baselines: their test-period risk). A run with history
written before those columns cannot be scored again out of sample, and says so.

Pure pandas/numpy, no I/O (the run is already loaded).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from rtm_core.config import MODEL_KINDS
from rtm_core.models.registry import BASELINES
from rtm_core.record.manifest import RunFiles
from rtm_core.results.bootstrap import ScoredCrimes, compare_maps, scored_crimes

__all__ = [
    "PERIOD_FREE_BASELINES",
    "TEST_RISK_PREFIX",
    "RunComparison",
    "run_comparison",
    "run_scored_crimes",
    "test_rankings",
    "test_risk_column",
    "unit_measure",
]

#: units.gpkg column of a map's test-period ranking, where it differs from the training one
TEST_RISK_PREFIX = "test_risk_"
#: baselines whose test-period risk is their training-period risk (no crime history in them)
PERIOD_FREE_BASELINES = ("prior_counts", "kde")
UNAVAILABLE = (
    "The comparison with intervals is not available for this run: it was written before "
    "runs kept comparison.csv, and its units table lacks the test period's rankings of the "
    "models with crime history. Fix: run it again (Runs page, Run again)."
)
COMPUTED = (
    "This run was written before runs kept comparison.csv: the comparison was computed now "
    "from its units table (the same bootstrap, seeded by the run's random state)."
)


def test_risk_column(name: str) -> str:
    """The ``units.gpkg`` column of a map's test-period ranking (``test_risk_<name>``)."""
    return f"{TEST_RISK_PREFIX}{name}"


def _has_history(run: RunFiles) -> bool:
    history = run.record.history
    return bool(isinstance(history, dict) and history.get("lags"))


def test_rankings(run: RunFiles) -> dict[str, np.ndarray]:
    """What every model and baseline ranked the units by in the test period.

    Parameters
    ----------
    run : RunFiles

    Returns
    -------
    dict
        Map key -> risk per unit, models first (:data:`MODEL_KINDS` order), then baselines
        (``BASELINES`` order); a map whose test ranking the folder does not keep is left out.
    """
    units, history = run.units, _has_history(run)
    out = {}
    for name in (*MODEL_KINDS, *BASELINES):
        kept = test_risk_column(name)
        trained = f"expected_{name}" if name in MODEL_KINDS else f"risk_{name}"
        if name in MODEL_KINDS and trained not in units.columns:
            trained = f"risk_{name}"
        if kept in units.columns:
            out[name] = units[kept].to_numpy(dtype=np.float64)
        elif trained in units.columns and (not history or name in PERIOD_FREE_BASELINES):
            out[name] = units[trained].to_numpy(dtype=np.float64)
    return out


def unit_measure(run: RunFiles) -> np.ndarray | None:
    """What the run's "share of area" was taken over: None (unit count, or a grid of equal
    cells), the units' areas or their lengths (from ``units.gpkg``'s geometry)."""
    measure = run.record.measure
    if run.record.unit_kind == "grid" or measure not in ("area", "length"):
        return None
    geometry = run.units.geometry
    values = geometry.area if measure == "area" else geometry.length
    return values.to_numpy(dtype=np.float64)


def run_scored_crimes(run: RunFiles) -> ScoredCrimes | None:
    """The run's test crimes scored by every map whose test ranking it keeps.

    Parameters
    ----------
    run : RunFiles

    Returns
    -------
    ScoredCrimes or None
        None when no model's test ranking is kept (a run with history written before
        ``test_risk_<name>`` columns) or the units table has no ``y_test``.
    """
    rankings = test_rankings(run)
    if "y_test" not in run.units.columns or not any(m in rankings for m in MODEL_KINDS):
        return None
    return scored_crimes(rankings, run.units["y_test"].to_numpy(), unit_measure(run))


@dataclass(frozen=True)
class RunComparison:
    """A run's comparison table and where it came from.

    Attributes
    ----------
    table : DataFrame or None
        ``comparison.csv``'s rows; None when not available.
    note : str
        "" when read from ``comparison.csv``; else why it was computed now, or why it is not
        available (with the fix).
    """

    table: pd.DataFrame | None
    note: str = ""


def run_comparison(run: RunFiles) -> RunComparison:
    """The run's comparison: its ``comparison.csv``, or computed now from its units table.

    Parameters
    ----------
    run : RunFiles

    Returns
    -------
    RunComparison
        Computed now (seeded by the run's ``random_state``) for a run written before
        ``comparison.csv`` whose units keep every model's test ranking; else not available.
    """
    if run.comparison is not None:
        return RunComparison(run.comparison)
    crimes = run_scored_crimes(run)
    models = [m for m in MODEL_KINDS if crimes is not None and m in crimes.maps]
    wanted = [m for m in run.record.models if m in MODEL_KINDS] or models
    if crimes is None or any(m not in models for m in wanted):
        return RunComparison(None, UNAVAILABLE)
    table = compare_maps([crimes], models, random_state=run.record.seed_root or 0)
    return RunComparison(table, COMPUTED)
