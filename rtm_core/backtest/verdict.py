"""What a backtest says: each RTM model against the best baseline, mean PAI over the origins,
with a bootstrap interval across the origins' test crimes, in the Results page's words.

``comparison.csv`` of a backtest has the columns of a run's (:mod:`rtm_core.results.bootstrap`)
with the mean PAI over the origins as values: each draw resamples every origin's test crimes
on its own (:func:`backtest_comparison`). The best baseline is the run's one definition, here
on the mean PAI.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from rtm_core.backtest.table import RTM_MODELS, summary_table
from rtm_core.models.registry import sentence_name
from rtm_core.record.folder import COEFFICIENTS_FILE, load_run
from rtm_core.results.bootstrap import compare_maps
from rtm_core.results.comparison import run_scored_crimes
from rtm_core.results.reading import map_subject, model_character
from rtm_core.results.verdict import AREA_TEXT, VERB, Comparison, clause, comparisons
from rtm_core.results.verdict import Verdict as RunVerdict

__all__ = ["UNAVAILABLE", "Verdict", "backtest_comparison", "origin_characters", "verdict"]


@dataclass(frozen=True)
class Verdict:
    """What the backtest says: each RTM model against the best baseline, mean PAI over the
    origins, with the interval of a bootstrap across the origins' test crimes.

    Attributes
    ----------
    best_model : str or None
        The model or baseline with the highest mean PAI at the area read (5 %).
    verdicts : tuple of rtm_core.results.verdict.Verdict
        One per RTM model, from the backtest's comparison table (none without it).
    sentence : str
        The sentences for people ("not available" for a backtest without its comparison).
    area : str
        The read-out :attr:`rtm_wins` looks at.
    """

    best_model: str | None
    verdicts: tuple
    sentence: str
    area: str = "0.05"

    @property
    def rtm_wins(self) -> bool:
        """Whether an RTM model that kept a risk factor beats the best baseline at
        :attr:`area` (the interval of the mean difference lies above 0)."""
        return any(
            c.area == self.area and c.verdict == "beats"
            for v in self.verdicts
            if not v.character
            for c in v.comparisons
        )


UNAVAILABLE = (
    "The comparison with intervals is not available for this backtest: it was written before "
    "backtests kept comparison.csv. Run it again to get it."
)


def _history_clause(comparison: pd.DataFrame, model: str, area: str) -> str:
    rows = comparison[
        (comparison["model"] == model)
        & (comparison["baseline"] == "history_only")
        & (comparison["area"].astype(str) == area)
    ]
    if rows.empty:
        return ""
    row = rows.iloc[0]
    c = Comparison(area, "history_only", *(float(row[k]) for k in _FIGURES), str(row["verdict"]))
    return (
        f"Against crime history alone (a Poisson GLM on the history windows), the "
        f"{sentence_name(model)} {VERB[c.verdict]} it at {AREA_TEXT[area]}: "
        f"{c.figures('mean PAI')}."
    )


_FIGURES = ("model_value", "baseline_value", "difference", "low", "high")


def verdict(
    table: pd.DataFrame,
    comparison: pd.DataFrame | None = None,
    characters: dict | None = None,
    *,
    area: str = "0.05",
) -> Verdict:
    """Each RTM model against the best baseline, mean PAI over the origins, in words.

    The best baseline is the run's one definition (the baseline with the highest value at
    that share of the area among every baseline scored, ties in ``BASELINES`` order), here
    on the mean PAI over the origins; the interval comes from ``comparison.csv`` (a bootstrap
    across the origins' test crimes, :func:`backtest_comparison`).

    Parameters
    ----------
    table : DataFrame
        ``backtest.csv``.
    comparison : DataFrame or None
        The backtest's ``comparison.csv`` (None: written before it; then said so).
    characters : dict, optional
        Model key -> :func:`~rtm_core.results.reading.model_character` when it kept no risk
        factor at any origin.
    area : str
        The read-out of :attr:`Verdict.rtm_wins` and of the history sentence.

    Returns
    -------
    Verdict
    """
    summary = summary_table(table, "pai")
    means = summary.set_index("model")[f"mean {area}"] if not summary.empty else pd.Series()
    means = means.dropna()
    best_model = str(means.idxmax()) if not means.empty else None
    if comparison is None:
        return Verdict(best_model, (), UNAVAILABLE, area)
    found = []
    for model in RTM_MODELS:
        character = (characters or {}).get(model, "")
        c = comparisons(comparison, model)
        if not c and not character:
            continue
        found.append(RunVerdict(model, c, _sentence(model, c, character), character))
    if not found:
        return Verdict(best_model, (), "The backtest has no RTM model to compare.", area)
    n = table["origin"].nunique()
    lines = [f"On average over the {n} origins (out of sample):"]
    lines += [v.sentence for v in found]
    lines += [h for v in found if (h := _history_clause(comparison, v.model, area))]
    return Verdict(best_model, tuple(found), " ".join(lines), area)


def _sentence(model: str, found, character: str) -> str:
    """As :func:`rtm_core.results.verdict.sentence`, with mean PAI over the origins."""
    name = sentence_name(model)
    clauses = "; it ".join(clause(c, measure="mean PAI") for c in found)
    if character:
        head = f"The {name} {character}"
        return f"{head}; {map_subject(character)} {clauses}." if found else f"{head}."
    return f"The {name} {clauses}."


def backtest_comparison(origin_dirs, random_state: int = 0) -> pd.DataFrame | None:
    """The comparison table of a backtest: mean PAI over the origins, with the interval of a
    bootstrap across the origins' test crimes (each origin resampled on its own).

    Parameters
    ----------
    origin_dirs : sequence of path
        The origins' run folders.
    random_state : int
        Seeds the bootstrap (the study's ``[model] random_state``).

    Returns
    -------
    DataFrame or None
        Columns of ``comparison.csv``; None when an origin does not keep its test rankings.
    """
    scored = []
    for folder in origin_dirs:
        crimes = run_scored_crimes(load_run(folder))
        if crimes is None:
            return None
        scored.append(crimes)
    return compare_maps(scored, RTM_MODELS, random_state=random_state)


def origin_characters(origin_dirs) -> dict[str, str]:
    """Model key -> what its map is, for the models that kept no risk factor at any origin.

    Parameters
    ----------
    origin_dirs : sequence of path
        The origins' run folders.

    Returns
    -------
    dict
        Only models that kept no risk factor at every origin.
    """
    found: dict[str, set] = {}
    for folder in origin_dirs:
        path = Path(folder) / COEFFICIENTS_FILE
        coefficients = pd.read_csv(path) if path.is_file() else pd.DataFrame()
        for model in RTM_MODELS:
            found.setdefault(model, set()).add(model_character(coefficients, model))
    return {m: texts.pop() for m, texts in found.items() if len(texts) == 1 and "" not in texts}
