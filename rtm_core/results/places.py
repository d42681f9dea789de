"""Top places that are not an accident of ties: what a list of the riskiest units may offer,
and the sentence that says where it cuts through units of equal risk.

A list of the ``k`` riskiest units is only a ranking where the units in it score higher than
those left out. Where the ``k``-th unit ties with units outside the list, which of the tied
units appear is arbitrary (the unit order), and a model that kept no risk factor scores every
unit the same: its "top places" are all ties. Pure numpy/pandas, no I/O.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["listed_ties", "offered_places", "tie_note"]


def listed_ties(all_scores, listed_scores) -> tuple[int, int, float | None]:
    """How the end of a top list ties with the units left out.

    Parameters
    ----------
    all_scores : array-like of shape (n_units,)
        Every unit's score.
    listed_scores : array-like
        The scores of the listed units, highest first.

    Returns
    -------
    (int, int, float or None)
        The rank of the first listed unit tied with an unlisted one (0 when none), the
        number of unlisted units sharing that score, and the score.
    """
    scores = np.round(np.asarray(all_scores, dtype=np.float64).ravel(), 12)
    listed = np.round(np.asarray(listed_scores, dtype=np.float64).ravel(), 12)
    if listed.size == 0 or listed.size >= scores.size:
        return 0, 0, None
    last = listed[-1]
    outside = int((scores == last).sum() - (listed == last).sum())
    if outside <= 0:
        return 0, 0, None
    first = int(np.flatnonzero(listed == last)[0]) + 1
    return first, outside, float(last)


def tie_note(all_scores, listed_scores, *, what: str = "score") -> str:
    """The sentence saying where a top list cuts through tied units ("" when it does not).

    Parameters
    ----------
    all_scores, listed_scores : array-like
        As in :func:`listed_ties`.
    what : str
        What the scores are ("score", "forecast").

    Returns
    -------
    str
        E.g. "Places 18-25 share the score 2.10 with 340 units not listed: the list cuts
        through a tie, so which of them appear is arbitrary (unit order)."
    """
    first, outside, value = listed_ties(all_scores, listed_scores)
    if not first:
        return ""
    n = np.asarray(listed_scores).size
    which = f"Place {n} shares" if first == n else f"Places {first}-{n} share"
    units = "unit" if outside == 1 else "units"
    return (
        f"{which} the {what} {value:.2f} with {outside:,} {units} not listed: the list cuts "
        "through a tie, so which of them appear is arbitrary (unit order)."
    )


def offered_places(
    places: pd.DataFrame, all_scores, character: str = "", *, column: str = "score"
) -> tuple[pd.DataFrame, str]:
    """The top places a model may offer, and what to say about them.

    Parameters
    ----------
    places : DataFrame
        The list, highest first (``top_places.csv`` rows of one model, or the forecast's).
    all_scores : array-like
        Every unit's value of ``column``.
    character : str
        :func:`~rtm_core.results.reading.model_character` ("" when it kept a risk factor).
    column : str
        The column of ``places`` holding the scores.

    Returns
    -------
    (DataFrame, str)
        No rows and "It kept no risk factor: every unit scores the same, so it offers no top
        places." for a model that kept no risk factor whose scores are all equal; else the
        list and its :func:`tie_note`.
    """
    scores = np.asarray(all_scores, dtype=np.float64).ravel()
    if places.empty or column not in places.columns:
        return places, ""
    flat = scores.size > 0 and np.ptp(scores) == 0
    if flat:
        lead = "It kept no risk factor: e" if character else "E"
        return places.iloc[0:0], f"{lead}very unit scores the same, so it offers no top places."
    return places, tie_note(scores, places[column].to_numpy(), what=column)
