"""Does the RTM beat the simplest maps a planner already has? Plain answers from a run.

From ``metrics.json`` (the test period, out of sample) each model is put beside the best
baseline at 1 %, 5 % and 10 % of the area (over whichever of ``prior_counts``,
``prior_counts_lags``, ``kde``, ``forest`` and ``history_only`` the run scored), with one
plain sentence per model:

    "The deep-learning RTM beats the best baseline (prior counts) at 5 % of the area:
    PAI 6.60 vs 6.30."

A model with few distinct risk levels gets a note on *ties*: the read-outs share tied units
out evenly (see :mod:`rtm_core.results.evaluate`), so where the top 1 % and 5 % cut through the same
tied level they hold the same mix of units and PAI is flat; and where no unit's risk has a
z-score above 2 the seed's rule flags nothing (``None`` at z > 2).

Pure numpy/pandas, no I/O; the Results page and the report show the same sentences.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from rtm_core.config import MODEL_KINDS
from rtm_core.models.registry import BASELINES, sentence_name
from rtm_core.record.manifest import AREA_KEYS, READOUT_TEXT
from rtm_core.results.evaluate import flag_z2

__all__ = [
    "AREAS",
    "AREA_TEXT",
    "BASELINES",
    "Comparison",
    "Verdict",
    "best_baselines",
    "compare",
    "sentence",
    "ties_note",
    "verdicts",
    "run_verdicts",
]

#: read-out keys of metrics.json compared here, and how they are written in sentences
AREAS = AREA_KEYS
AREA_TEXT = {key: READOUT_TEXT[key] for key in AREA_KEYS}
MEASURE_TEXT = {"pai": "PAI", "pei": "PEI", "hit_rate": "hit rate", "pei_star": "PEI*"}
#: fewer distinct risk levels than this earn a ties note
FEW_LEVELS = 20
_VERB = {"beats": "beats", "matches": "matches", "below": "is below"}


@dataclass(frozen=True)
class Comparison:
    """A model against the best baseline at one share of the area.

    Attributes
    ----------
    area : str
        Read-out key ("0.01", "0.05", "0.10").
    model_value, baseline_value : float or None
        The measure (PAI by default) of the model and of the best baseline.
    baseline : str or None
        Key of the best baseline there (None when no baseline has a value).
    outcome : {"beats", "matches", "below", "n/a"}
        "matches" when both round to the same two decimals; "n/a" when a value is missing.
    """

    area: str
    model_value: float | None
    baseline: str | None
    baseline_value: float | None
    outcome: str


@dataclass(frozen=True)
class Verdict:
    """What one model's out-of-sample accuracy says, in numbers and in words.

    Attributes
    ----------
    model : str
    comparisons : tuple of Comparison
        One per share of the area in :data:`AREAS`.
    sentence : str
        The plain sentence shown on the Results page and in the report.
    ties : str
        The ties note ("" when ties do not shape the read-outs).
    """

    model: str
    comparisons: tuple[Comparison, ...]
    sentence: str
    ties: str = ""

    @property
    def flag(self) -> str:
        """ "beats" (at every share compared), "below" (at every one), "mixed" or "n/a"."""
        outcomes = {c.outcome for c in self.comparisons if c.outcome != "n/a"}
        if not outcomes:
            return "n/a"
        if outcomes == {"beats"}:
            return "beats"
        if outcomes <= {"below", "matches"} and "below" in outcomes:
            return "below"
        if outcomes == {"matches"}:
            return "matches"
        return "mixed"

    @property
    def headline(self) -> str:
        """A short flag: "Beats the best baseline", "Below the best baseline", ..."""
        flag = self.flag
        if flag == "beats":
            return "Beats the best baseline"
        if flag == "below":
            return "Below the best baseline"
        if flag == "matches":
            return "Level with the best baseline"
        if flag == "mixed":
            wins = [AREA_TEXT[c.area] for c in self.comparisons if c.outcome == "beats"]
            return f"Beats the best baseline at {_join(wins)} only" if wins else "Mixed"
        return "No comparison"


def _value(metrics: Mapping, model: str, period: str, measure: str, area: str) -> float | None:
    try:
        value = metrics[model][period][measure][area]
    except (KeyError, TypeError):
        return None
    if value is None:
        return None
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def best_baselines(
    metrics: Mapping, *, period: str = "test", measure: str = "pai", areas=AREAS
) -> dict[str, tuple[str, float] | None]:
    """The best baseline at each share of the area.

    Parameters
    ----------
    metrics : mapping
        The content of ``metrics.json``.
    period : {"test", "train"}
    measure : str
        "pai" (default), "hit_rate", "pei" or "pei_star"; higher is better for each.
    areas : sequence of str
        Read-out keys.

    Returns
    -------
    dict
        Area key -> ``(baseline key, value)``, or None where no baseline has a value. Equal
        values go to the baseline listed first in :data:`BASELINES`.
    """
    out: dict[str, tuple[str, float] | None] = {}
    for area in areas:
        best = None
        for key in BASELINES:
            value = _value(metrics, key, period, measure, area)
            if value is not None and (best is None or value > best[1]):
                best = (key, value)
        out[area] = best
    return out


def _outcome(model_value: float | None, best: tuple[str, float] | None) -> str:
    if model_value is None or best is None:
        return "n/a"
    if round(model_value, 2) == round(best[1], 2):
        return "matches"
    return "beats" if model_value > best[1] else "below"


def compare(
    metrics: Mapping, model: str, *, period: str = "test", measure: str = "pai", areas=AREAS
) -> tuple[Comparison, ...]:
    """``model`` against the best baseline at each share of the area (see :class:`Comparison`).

    Parameters
    ----------
    metrics : mapping
        The content of ``metrics.json``.
    model : str
        The model's key.
    period : {"test", "train"}
    measure : str
        The measure compared, PAI by default.
    areas : sequence of str
        Read-out keys, default :data:`AREAS`.

    Returns
    -------
    tuple of Comparison
        One per area.
    """
    best = best_baselines(metrics, period=period, measure=measure, areas=areas)
    out = []
    for area in areas:
        value = _value(metrics, model, period, measure, area)
        top = best[area]
        out.append(
            Comparison(
                area=area,
                model_value=value,
                baseline=top[0] if top else None,
                baseline_value=top[1] if top else None,
                outcome=_outcome(value, top),
            )
        )
    return tuple(out)


def _join(items: list[str]) -> str:
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _clause(outcome: str, comparisons: list[Comparison], measure: str) -> str:
    names = list(dict.fromkeys(sentence_name(c.baseline) for c in comparisons))
    who = f"the best baseline ({names[0]})" if len(names) == 1 else "the best baseline"
    areas = _join([AREA_TEXT.get(c.area, c.area) for c in comparisons])

    def figure(c: Comparison) -> str:
        text = f"{c.model_value:.2f} vs {c.baseline_value:.2f}"
        if len(names) > 1:
            text += f" ({sentence_name(c.baseline)})"
        return text if len(comparisons) == 1 else f"{text} at {AREA_TEXT.get(c.area, c.area)}"

    figures = _join([figure(c) for c in comparisons])
    return f"{_VERB[outcome]} {who} at {areas} of the area: {measure} {figures}"


def sentence(model: str, comparisons, *, measure: str = "pai") -> str:
    """One plain sentence: whether ``model`` beats the best baseline, with the figures.

    Parameters
    ----------
    model : str
        Model key ("dl", "classical").
    comparisons : sequence of Comparison
        From :func:`compare`.
    measure : str
        The measure compared (for its name in the sentence).

    Returns
    -------
    str
        E.g. "The classical RTM is below the best baseline (KDE of prior crimes) at 1 %, 5 %
        and 10 % of the area: PAI 2.00 vs 5.00 at 1 %, 2.00 vs 4.00 at 5 % and 1.50 vs 3.00
        at 10 %."
    """
    name = sentence_name(model)
    label = MEASURE_TEXT.get(measure, measure)
    comparisons = list(comparisons)
    if not any(c.baseline is not None for c in comparisons):
        return f"The {name} has no baseline to be compared with in this run."
    groups: dict[str, list[Comparison]] = {}
    for c in comparisons:
        if c.outcome != "n/a":
            groups.setdefault(c.outcome, []).append(c)
    if not groups:
        return f"The {name} has no out-of-sample {label} to compare (no crimes in the test period)."
    clauses = [_clause(o, groups[o], label) for o in ("beats", "matches", "below") if o in groups]
    text = f"The {name} " + clauses[0]
    for clause in clauses[1:]:
        text += "; it " + clause
    return text + "."


def _tie_groups(risk: np.ndarray, shares) -> list[tuple[bool, list[float]]]:
    """Shares whose cut falls inside the same tied level (groups of two or more), each with
    whether that level is the highest one (then PAI is exactly the same at those shares)."""
    ordered = np.sort(risk)[::-1]
    n = len(ordered)
    groups: dict[float, tuple[bool, list[float]]] = {}
    for share in shares:
        k = share * n
        cut = ordered[min(max(int(math.ceil(k)) - 1, 0), n - 1)]
        level = np.flatnonzero(ordered == cut)
        if level[0] < k < level[-1] + 1:  # the cut goes through this level: units both sides
            groups.setdefault(float(cut), (bool(level[0] == 0), []))[1].append(share)
    return [g for g in groups.values() if len(g[1]) > 1]


def ties_note(risk, *, model: str = "", shares=(0.01, 0.05, 0.10), few: int = FEW_LEVELS) -> str:
    """Why a model's read-outs may be flat or missing: ties among its risk levels.

    Parameters
    ----------
    risk : array-like of shape (n_units,)
        The model's risk per unit (``risk_<model>`` of ``units.gpkg``).
    model : str
        Model key, for the sentence.
    shares : sequence of float
        The read-out shares of the area.
    few : int
        Fewer distinct risk levels than this are named.

    Returns
    -------
    str
        "" when ties do not shape the read-outs; else one sentence such as "Ties: the
        classical RTM has only 4 distinct risk levels, so the top 1 % and 5 % of the area fall
        in one tied level and hold the same units (PAI is the same at both); no unit's risk
        has a z-score above 2, so z > 2 flags nothing (None)."
    """
    risk = np.asarray(risk, dtype=float).ravel()
    risk = risk[np.isfinite(risk)]
    if risk.size == 0:
        return ""
    levels = np.unique(np.round(risk, 12)).size
    groups = _tie_groups(np.round(risk, 12), shares)
    z_none = not flag_z2(risk).any()
    if levels >= few and not groups and not z_none:
        return ""
    name = sentence_name(model) if model else "model"
    head = f"the {name} has only {levels} distinct risk level{'s' if levels != 1 else ''}"
    if levels >= few:
        head = f"the {name} has {levels:,} distinct risk levels"
    parts = []
    for top, group in groups:
        areas = _join([f"{share * 100:g} %" for share in group])
        if top:
            both = "both" if len(group) == 2 else "each"
            parts.append(
                f"the top {areas} of the area all fall in the highest tied level and hold the "
                f"same mix of units (PAI is the same at {both})"
            )
        else:
            parts.append(
                f"the top {areas} of the area cut through the same tied level (its units are "
                "shared out evenly, so PAI changes little between them)"
            )
    if z_none:
        parts.append("no unit's risk has a z-score above 2, so z > 2 flags nothing (None)")
    if not parts:
        return f"Ties: {head}, so neighbouring areas share tied units."
    return f"Ties: {head}, so " + "; ".join(parts) + "."


def verdicts(
    metrics: Mapping,
    risks: Mapping[str, np.ndarray] | None = None,
    *,
    models=MODEL_KINDS,
    measure: str = "pai",
) -> list[Verdict]:
    """One :class:`Verdict` per model present in ``metrics`` (out of sample).

    Parameters
    ----------
    metrics : mapping
        The content of ``metrics.json``.
    risks : mapping, optional
        Model key -> risk per unit, for the ties notes (no notes without it).
    models : sequence of str
        Which keys are models (the rest are baselines).
    measure : str
        The measure compared, PAI by default.

    Returns
    -------
    list of Verdict
        In the order of ``models``.
    """
    out = []
    for model in models:
        if model not in metrics:
            continue
        comparisons = compare(metrics, model, measure=measure)
        ties = ""
        if risks is not None and model in risks:
            ties = ties_note(risks[model], model=model)
        out.append(Verdict(model, comparisons, sentence(model, comparisons, measure=measure), ties))
    return out


def run_verdicts(metrics: Mapping, units: pd.DataFrame, **kwargs) -> list[Verdict]:
    """:func:`verdicts` of a run folder's ``metrics.json`` and ``units.gpkg``.

    The ties notes count the levels of what the evaluation ranked: ``expected_<model>``
    (expected counts) where the run has it, else the relative risk score ``risk_<model>``.

    Parameters
    ----------
    metrics : mapping
        The content of ``metrics.json``.
    units : DataFrame
        The run's units with their ``expected_<model>`` or ``risk_<model>`` columns.
    **kwargs
        Passed on to :func:`verdicts` (``models``, ``measure``).

    Returns
    -------
    list of Verdict
    """
    risks = {}
    for model in kwargs.get("models", MODEL_KINDS):
        for column in (f"expected_{model}", f"risk_{model}"):
            if column in units.columns:
                risks[model] = units[column].to_numpy(dtype=float)
                break
    return verdicts(metrics, risks, **kwargs)
