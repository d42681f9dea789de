"""Does the RTM beat the simplest maps a planner already has? Plain answers from a run.

Every sentence comes from the run's comparison table (``comparison.csv``, see
:mod:`rtm_core.results.bootstrap`): each model beside the best baseline at 1 %, 5 % and 10 % of
the area (the baseline with the highest test PAI there, over every baseline the run scored),
with the difference in PAI and its 90 % paired-bootstrap interval over the test period's
crimes, in three words: **beats** (the interval lies above 0), **is below** (under 0) or **is
level with** (it holds 0):

    "The deep-learning RTM is level with the best baseline (prior counts) at 5 %: PAI 7.76 vs
    7.69, difference +0.07, 90 % interval -0.41 to +0.55."

A model that kept no risk factor is named so, and what its map is ("crime history alone", "its
flat map") is what the sentence compares; it is never called an RTM win.

A model with few distinct risk levels gets a note on *ties*: the read-outs share tied units
out evenly (see :mod:`rtm_core.results.evaluate`), so where the top 1 % and 5 % cut through the
same tied level they hold the same mix of units and PAI is flat; and where no unit's risk has a
z-score above 2 the seed's rule flags nothing (``None`` at z > 2).

Pure numpy/pandas, no I/O; the Results page, the Backtest page and the report show the same
sentences.
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
from rtm_core.results.bootstrap import BEST, INTERVAL, best_baseline
from rtm_core.results.evaluate import flag_z2
from rtm_core.results.reading import map_subject, model_character

__all__ = [
    "AREAS",
    "AREA_TEXT",
    "BASELINES",
    "VERB",
    "Comparison",
    "Verdict",
    "best_of",
    "clause",
    "comparisons",
    "run_verdicts",
    "sentence",
    "ties_note",
    "verdicts",
]

#: read-out keys compared here, and how they are written in sentences
AREAS = AREA_KEYS
AREA_TEXT = {key: READOUT_TEXT[key] for key in AREA_KEYS}
#: the verb of each verdict inside a sentence
VERB = {"beats": "beats", "level": "is level with", "below": "is below"}
#: fewer distinct risk levels than this earn a ties note
FEW_LEVELS = 20


@dataclass(frozen=True)
class Comparison:
    """A model against one baseline at one share of the area (a row of ``comparison.csv``).

    Attributes
    ----------
    area : str
        Read-out key ("0.01", "0.05", "0.10").
    baseline : str
        The baseline's key (for a row against the best baseline: the best one's key).
    model_value, baseline_value : float
        Test PAI of the model and of the baseline.
    difference, low, high : float
        ``model_value - baseline_value`` and its 90 % interval.
    verdict : {"beats", "level", "below"}
    """

    area: str
    baseline: str
    model_value: float
    baseline_value: float
    difference: float
    low: float
    high: float
    verdict: str

    def figures(self, measure: str = "PAI") -> str:
        """``PAI 7.76 vs 7.69, difference +0.07, 90 % interval -0.41 to +0.55``."""
        return (
            f"{measure} {self.model_value:.2f} vs {self.baseline_value:.2f}, difference "
            f"{self.difference:+.2f}, {INTERVAL * 100:.0f} % interval {self.low:+.2f} to "
            f"{self.high:+.2f}"
        )


@dataclass(frozen=True)
class Verdict:
    """What one model's out-of-sample accuracy says, in numbers and in words.

    Attributes
    ----------
    model : str
    comparisons : tuple of Comparison
        Against the best baseline, one per share of the area the run compared.
    sentence : str
        The plain sentence shown on the Results page and in the report.
    character : str
        "" for a model that kept a risk factor, else what its map is
        (:func:`~rtm_core.results.reading.model_character`).
    ties : str
        The ties note ("" when ties do not shape the read-outs).
    """

    model: str
    comparisons: tuple[Comparison, ...]
    sentence: str
    character: str = ""
    ties: str = ""

    @property
    def flag(self) -> str:
        """ "beats", "below", "level" (at every share compared), "mixed", "none" (kept no
        risk factor) or "n/a" (no comparison)."""
        if self.character:
            return "none"
        words = {c.verdict for c in self.comparisons}
        if not words:
            return "n/a"
        return words.pop() if len(words) == 1 else "mixed"

    @property
    def tone(self) -> str:
        """How to show it: "beats" (beats at every share), "below" (below somewhere and
        beats nowhere; a model that kept a risk factor) or "neutral"."""
        words = {c.verdict for c in self.comparisons}
        if self.flag == "beats":
            return "beats"
        if not self.character and "below" in words and "beats" not in words:
            return "below"
        return "neutral"

    @property
    def headline(self) -> str:
        """A short flag: "Beats the best baseline", "Level with the best baseline", ..."""
        flag = self.flag
        if flag == "none":
            return "Kept no risk factor"
        if flag in ("beats", "below", "level"):
            return {
                "beats": "Beats the best baseline",
                "below": "Below the best baseline",
                "level": "Level with the best baseline",
            }[flag]
        if flag == "mixed":
            wins = [AREA_TEXT[c.area] for c in self.comparisons if c.verdict == "beats"]
            if wins:
                return f"Beats the best baseline at {_join(wins)} only"
            below = [AREA_TEXT[c.area] for c in self.comparisons if c.verdict == "below"]
            return f"Below the best baseline at {_join(below)}, level elsewhere"
        return "No comparison"


def _join(items: list[str]) -> str:
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _comparison(row: Mapping, baseline: str) -> Comparison:
    return Comparison(
        area=str(row["area"]),
        baseline=baseline,
        model_value=float(row["model_value"]),
        baseline_value=float(row["baseline_value"]),
        difference=float(row["difference"]),
        low=float(row["low"]),
        high=float(row["high"]),
        verdict=str(row["verdict"]),
    )


def best_of(table: pd.DataFrame, model: str, area: str) -> str | None:
    """The key of the best baseline behind the ``"best"`` rows of ``model`` at ``area``.

    Parameters
    ----------
    table : DataFrame
        A comparison table (``comparison.csv``).
    model : str
    area : str

    Returns
    -------
    str or None
        The baseline with the highest test PAI there (ties in ``BASELINES`` order), as
        :func:`rtm_core.results.bootstrap.compare_maps` chose it; None without rows.
    """
    rows = table[(table["model"] == model) & (table["area"].astype(str) == area)]
    rows = rows[rows["baseline"] != BEST]
    return best_baseline(dict(zip(rows["baseline"], rows["baseline_value"], strict=True)))


def comparisons(table: pd.DataFrame | None, model: str) -> tuple[Comparison, ...]:
    """``model`` against the best baseline at each share of the area, from a comparison table.

    Parameters
    ----------
    table : DataFrame or None
        ``comparison.csv`` (None: no comparison).
    model : str

    Returns
    -------
    tuple of Comparison
        In :data:`AREAS` order; the areas without a row are left out.
    """
    if table is None or table.empty:
        return ()
    out = []
    rows = table[(table["model"] == model) & (table["baseline"] == BEST)]
    by_area = {str(row["area"]): row for _, row in rows.iterrows()}
    for area in AREAS:
        if area in by_area:
            out.append(_comparison(by_area[area], best_of(table, model, area) or BEST))
    return tuple(out)


def clause(c: Comparison, *, against: str = "the best baseline", measure: str = "PAI") -> str:
    """One comparison in words, without its subject.

    Parameters
    ----------
    c : Comparison
    against : str
        What the model is compared with (the baseline's name is added in brackets).
    measure : str
        How the values are named ("PAI"; "mean PAI" over a backtest's origins).

    Returns
    -------
    str
        E.g. "is level with the best baseline (prior counts) at 5 %: PAI 7.76 vs 7.69,
        difference +0.07, 90 % interval -0.41 to +0.55".
    """
    who = f"{against} ({sentence_name(c.baseline)})" if c.baseline != BEST else against
    return f"{VERB[c.verdict]} {who} at {AREA_TEXT.get(c.area, c.area)}: {c.figures(measure)}"


def sentence(model: str, found, *, character: str = "") -> str:
    """One plain sentence: the model against the best baseline at each share, with figures.

    Parameters
    ----------
    model : str
        Model key ("dl", "classical").
    found : sequence of Comparison
        From :func:`comparisons`.
    character : str
        :func:`~rtm_core.results.reading.model_character` ("" when it kept a risk factor).

    Returns
    -------
    str
        E.g. "The classical RTM is below the best baseline (KDE of prior crimes) at 1 %: PAI
        2.00 vs 5.00, difference -3.00, 90 % interval -4.10 to -1.90; it is level with ...".
        A model that kept no risk factor: "The classical RTM kept no risk factor: its map is
        crime history alone; crime history alone is level with the best baseline ...".
    """
    name = sentence_name(model)
    found = list(found)
    if character:
        head = f"The {name} {character}"
        if not found:
            return head + "."
        subject = map_subject(character)
        return f"{head}; {subject} " + "; it ".join(clause(c) for c in found) + "."
    if not found:
        return f"The {name} has no out-of-sample comparison with a baseline in this run."
    return f"The {name} " + "; it ".join(clause(c) for c in found) + "."


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
    table: pd.DataFrame | None,
    coefficients: pd.DataFrame | None = None,
    risks: Mapping[str, np.ndarray] | None = None,
    *,
    models=MODEL_KINDS,
) -> list[Verdict]:
    """One :class:`Verdict` per model of the comparison table.

    Parameters
    ----------
    table : DataFrame or None
        ``comparison.csv``.
    coefficients : DataFrame, optional
        ``coefficients.csv``: names the models that kept no risk factor.
    risks : mapping, optional
        Model key -> risk per unit, for the ties notes (no notes without it).
    models : sequence of str
        Which keys are models, in the order given.

    Returns
    -------
    list of Verdict
        In the order of ``models``; a model is left out when it has neither a comparison
        nor coefficients.
    """
    coefficients = pd.DataFrame() if coefficients is None else coefficients
    present = set(table["model"]) if table is not None and not table.empty else set()
    if "model" in coefficients.columns:
        present |= set(coefficients["model"])
    out = []
    for model in models:
        if model not in present:
            continue
        found = comparisons(table, model)
        character = model_character(coefficients, model)
        ties = ""
        if risks is not None and model in risks:
            ties = ties_note(risks[model], model=model)
        text = sentence(model, found, character=character)
        out.append(Verdict(model, found, text, character, ties))
    return out


def run_verdicts(run, table: pd.DataFrame | None = None, **kwargs) -> list[Verdict]:
    """:func:`verdicts` of a run folder: its comparison table, coefficients and units.

    The ties notes count the levels of what the evaluation ranked: ``expected_<model>``
    (expected counts) where the run has it, else the relative risk score ``risk_<model>``.

    Parameters
    ----------
    run : RunFiles
        The loaded run.
    table : DataFrame, optional
        The comparison table to use instead of ``run.comparison`` (e.g. one computed now for
        a run written before ``comparison.csv``).
    **kwargs
        Passed on to :func:`verdicts` (``models``).

    Returns
    -------
    list of Verdict
    """
    units = run.units
    risks = {}
    for model in kwargs.get("models", MODEL_KINDS):
        for column in (f"expected_{model}", f"risk_{model}"):
            if column in units.columns:
                risks[model] = units[column].to_numpy(dtype=float)
                break
    table = run.comparison if table is None else table
    return verdicts(table, run.coefficients, risks, **kwargs)
