"""The brief: what a planner needs from a run, as data and plain sentences.

Three sentences, then a map and a short list of places:

- **where** risk concentrates: the named places (area names from ``[places]`` or the
  boundary) that hold most of the top places, and how much of the expected crimes the riskiest
  5 % of the units hold;
- **what drives it**: only *reliable* risk factors (95 % IRR interval excluding 1,
  :func:`~rtm_core.results.reading.reliable`), with their IRR in words; a model that kept no
  risk factor is named so (:func:`~rtm_core.results.reading.model_character`);
- **how sure** we are, 1-3 (:func:`~rtm_core.results.reading.certainty`, from
  ``comparison.csv``; 1 with "no comparison in this run" for runs without it, and 1 for a model
  that kept no risk factor: its map is not an RTM result).

The map is the forecast of the next period when the run has one, else the relative risk
score. The places are ranked by the same values; ties with the first place left out of the
list are said, and a model that kept no risk factor offers no places from ties. Nothing here
places a crime: no per-unit counts, no incidents. Pure pandas/numpy, no I/O.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely

from rtm_core.config import MODEL_KINDS
from rtm_core.models.registry import display_name, sentence_name
from rtm_core.results.conjunctive import ties_with_next
from rtm_core.results.reading import certainty, model_character, reliable, risk_factors_kept
from rtm_core.results.summary import forecast_period, has_history
from rtm_core.study.units import lonlat, representative_points

__all__ = [
    "BRIEF_PLACES",
    "Brief",
    "make_brief",
    "choose_model",
    "brief_places",
    "rank_labels",
    "model_heading",
    "UNIT_WORDS",
]

#: places listed in the brief
BRIEF_PLACES = 10
#: share of the units the concentration sentence speaks of
TOP_SHARE = 0.05
#: what a unit kind is called in a sentence
UNIT_WORDS = {"grid": "cells", "polygon": "areas", "line": "street segments", "point": "places"}
PLACE_COLUMNS = ["rank", "place", "lat", "lon", "value", "factors present", "tied"]


@dataclass(frozen=True)
class Brief:
    """A run's brief for a planner.

    Attributes
    ----------
    model : str
        The model the brief reads (:func:`choose_model`).
    column : str
        The units column mapped and ranked (``forecast_<model>`` or ``risk_<model>``).
    title : str
        What the map shows ("Forecast for 2023-01-01 – 2023-12-31", "Relative risk").
    value_name : str
        What the values are ("expected crimes", "relative risk score").
    where, drivers, sure : str
        The three sentences.
    certainty : int
        1, 2 or 3.
    notes : tuple of str
        What else must be said (the other models' character, ties, no place names).
    places : DataFrame
        Columns ``rank, place, lat, lon, value, factors present, tied``; the first place
        has rank 1.
    """

    model: str
    column: str
    title: str
    value_name: str
    where: str
    drivers: str
    sure: str
    certainty: int
    notes: tuple[str, ...]
    places: pd.DataFrame

    @property
    def paragraph(self) -> str:
        """The three sentences as one paragraph."""
        return " ".join(s for s in (self.where, self.drivers, self.sure) if s)


def _kept(coefficients: pd.DataFrame, model: str) -> bool:
    return bool(risk_factors_kept(coefficients, model))


def choose_model(coefficients: pd.DataFrame, comparison: pd.DataFrame | None, models) -> str:
    """The model a brief reads: the surest (:func:`certainty`), a model that kept a risk
    factor before one that kept none, then the one with more reliable risk factors, then in
    :data:`~rtm_core.config.MODEL_KINDS` order.

    Parameters
    ----------
    coefficients : DataFrame
    comparison : DataFrame or None
    models : sequence of str
        The models the run scored (at least one).

    Returns
    -------
    str
    """

    def rank(model: str) -> tuple[int, int, int, int]:
        kept = risk_factors_kept(coefficients, model)
        level = certainty(comparison, model)[0] if kept else 1
        rows = coefficients[coefficients["variable"].isin(kept)] if kept else coefficients[:0]
        rows = rows[rows["model"].astype(str) == model]
        order = MODEL_KINDS.index(model) if model in MODEL_KINDS else len(MODEL_KINDS)
        return (-level, int(not kept), -int(reliable(rows).sum()), order)

    return min(models, key=rank)


def _places_of(units: pd.DataFrame) -> np.ndarray:
    if "place" not in units.columns:
        return np.full(len(units), "", dtype=object)
    return units["place"].fillna("").astype(str).str.strip().to_numpy(dtype=object)


def brief_places(
    units, column: str, model: str, n: int = BRIEF_PLACES, *, from_ties: bool = True
) -> tuple[pd.DataFrame, str]:
    """The ``n`` units with the highest ``column``, with place name, lat/lon and factors.

    Parameters
    ----------
    units : GeoDataFrame
        The run's units (``unit_id``, geometry, ``column``, ``factors_<model>``, ``place``).
    column : str
        ``forecast_<model>`` or ``risk_<model>``.
    model : str
    n : int
    from_ties : bool
        False for a model that kept no risk factor: places that tie with the first place
        left out are dropped (their order is arbitrary, so they are not offered).

    Returns
    -------
    places : DataFrame
        Columns :data:`PLACE_COLUMNS`.
    note : str
        The ties note ("" when the list's end is not tied).
    """
    values = units[column].to_numpy(dtype=float)
    values = np.where(np.isfinite(values), values, -np.inf)
    top = np.argsort(-values, kind="stable")[:n]
    tied, outside = ties_with_next(values, top)
    note = ""
    if tied.any() and not from_ties:
        note = (
            f"{int(tied.sum()) + outside:,} places share the score at the end of the list; "
            "they are not listed, since their order would be arbitrary."
        )
        top, tied = top[~tied], tied[~tied]
    elif tied.any():
        note = (
            f"The last {int(tied.sum())} listed (marked =) share their value with "
            f"{outside:,} more places not listed: which of them are listed is arbitrary."
        )
    rows = units.iloc[top]
    where = (
        lonlat(shapely.get_coordinates(representative_points(rows.geometry.values)), units.crs)
        if len(rows) and units.crs is not None
        else np.full((len(rows), 2), np.nan)
    )
    factors = rows.get(f"factors_{model}", pd.Series("", index=rows.index))
    frame = pd.DataFrame(
        {
            "rank": np.arange(1, len(rows) + 1),
            "place": _places_of(units)[top],
            "lat": np.round(where[:, 1], 5),
            "lon": np.round(where[:, 0], 5),
            "value": values[top],
            "factors present": factors.fillna("").astype(str).replace("", "none").to_numpy(),
            "tied": tied,
        }
    )
    return frame, note


def rank_labels(places: pd.DataFrame) -> list[str]:
    """The ranks as listed: ``"10="`` where a place ties with places left out."""
    return [f"{r}=" if t else str(r) for r, t in zip(places["rank"], places["tied"], strict=True)]


def _join(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _concentration(units, model: str, column: str) -> float | None:
    """Share of the expected crimes held by the riskiest :data:`TOP_SHARE` of the units."""
    expected = column if column.startswith("forecast_") else f"expected_{model}"
    if expected not in units.columns or len(units) < 20:
        return None
    values = np.nan_to_num(units[expected].to_numpy(dtype=float))
    total = values.sum()
    if total <= 0:
        return None
    k = max(1, int(round(TOP_SHARE * len(values))))
    return float(np.sort(values)[::-1][:k].sum() / total)


def where_sentence(places: pd.DataFrame, share: float | None, unit_word: str) -> str:
    """Where risk concentrates: the named places most of the listed places lie in, and the
    share of the expected crimes in the riskiest 5 % of the units.

    Parameters
    ----------
    places : DataFrame
        From :func:`brief_places`.
    share : float or None
        Share of the expected crimes held by the riskiest 5 % (None when unknown).
    unit_word : str
        "cells", "street segments" ...

    Returns
    -------
    str
    """
    tail = (
        f" The riskiest 5 % of the {unit_word} hold {100 * share:.0f} % of the expected crimes."
        if share is not None
        else ""
    )
    if places.empty:
        return "The map does not single out places." + tail
    names = [p for p in places["place"] if p]
    if not names:
        return (
            f"Risk concentrates in the {len(places)} places listed below (numbered on the "
            "map; this run has no area names: add a places layer to name them)." + tail
        )
    counts = Counter(names)
    first = list(dict.fromkeys(names))  # ties in count keep the list's order
    top = sorted(first, key=lambda p: (-counts[p], first.index(p)))[:3]
    held = sum(counts[p] for p in top)
    share = f"all {held}" if held == len(places) else f"{held} of the {len(places)}"
    return f"Risk concentrates in {_join(top)}: {share} highest-ranked places lie there." + tail


def _irr_words(irr: float) -> str:
    return f"{irr:.2f} times the expected crimes" if irr >= 1 else f"{irr:.2f} times as many"


def drivers_sentence(coefficients: pd.DataFrame, model: str, labels: dict, history: bool) -> str:
    """What drives risk: the model's reliable risk factors with their IRR in words.

    Parameters
    ----------
    coefficients : DataFrame
        ``coefficients.csv``.
    model : str
    labels : dict
        Variable name -> readable label (``variables.csv``).
    history : bool
        Whether crime history is in the model (IRRs then read "given crime history").

    Returns
    -------
    str
    """
    character = model_character(coefficients, model)
    if character:
        return f"The {sentence_name(model)} {character}."
    rows = coefficients[coefficients["model"].astype(str) == model]
    rows = rows[rows["variable"].astype(str).isin(risk_factors_kept(coefficients, model))]
    good = rows[reliable(rows)].sort_values("irr", ascending=False, kind="stable")
    weak = rows[~reliable(rows)]
    given = ", given each place's crime history" if history else ""

    def label(variable) -> str:
        return str(labels.get(variable, variable))

    if good.empty:
        text = (
            "No risk factor has a reliable effect (every 95 % interval includes 1), so the map "
            "does not show what drives risk."
        )
    else:
        items = [f"{label(r.variable)} ({_irr_words(float(r.irr))})" for r in good.itertuples()]
        text = f"What drives it: places with {_join(items)}{given}."
    if not weak.empty and not good.empty:
        weak_names = _join([label(v) for v in weak["variable"]])
        text += f" Also kept, with no reliable effect: {weak_names}."
    return text


def certainty_sentence(level: int, words: str, kept: bool) -> str:
    """How sure we are, in words: "How sure we are: 2 of 3 — ...".

    Parameters
    ----------
    level : int
        1, 2 or 3 (:func:`~rtm_core.results.reading.certainty`).
    words : str
        What the level means.
    kept : bool
        Whether the model kept a risk factor (a model that kept none is 1, in other words).

    Returns
    -------
    str
    """
    if not kept:
        words = "a model that kept no risk factor is not an RTM result"
    elif words == "no comparison in this run":
        words = (
            "there is no comparison with the baselines in this run, so we cannot say the map "
            "beats simpler hot-spot maps"
        )
    elif words.startswith(("below", "level")):
        words = f"the map is {words}, so we cannot say it beats simpler hot-spot maps"
    else:
        words = f"the map {words}"
    return f"How sure we are: {level} of 3 — {words}."


def make_brief(run, n: int = BRIEF_PLACES) -> Brief | None:
    """The brief of a run (None when it has no model to map).

    Parameters
    ----------
    run : RunFiles
        A loaded run (``comparison`` is read when the run has it).
    n : int
        Places listed.

    Returns
    -------
    Brief or None
    """
    units = run.units
    models = [k for k in MODEL_KINDS if f"risk_{k}" in units.columns]
    if not models:
        return None
    coefficients = run.coefficients
    comparison = getattr(run, "comparison", None)
    model = choose_model(coefficients, comparison, models)
    forecast = forecast_period(run.record)
    column = f"forecast_{model}" if forecast and f"forecast_{model}" in units else f"risk_{model}"
    is_forecast = column.startswith("forecast_")
    kept = _kept(coefficients, model)
    places, ties = brief_places(units, column, model, n, from_ties=kept)
    unit_word = UNIT_WORDS.get(run.record.unit_kind or "", "units")
    level, words = certainty(comparison, model) if kept else (1, "")
    notes = [
        f"The {sentence_name(other)} {model_character(coefficients, other)}."
        for other in models
        if other != model and model_character(coefficients, other)
    ]
    notes += [ties] if ties else []
    return Brief(
        model=model,
        column=column,
        title=f"Forecast for {forecast['start']} – {forecast['end']}"
        if is_forecast
        else ("Relative risk"),
        value_name="expected crimes" if is_forecast else "relative risk score",
        where=where_sentence(places, _concentration(units, model, column), unit_word),
        drivers=drivers_sentence(
            coefficients, model, run.factor_labels(), has_history(run.record, coefficients)
        ),
        sure=certainty_sentence(level, words, kept),
        certainty=level,
        notes=tuple(notes),
        places=places,
    )


def model_heading(brief: Brief) -> str:
    """The map's heading: what it shows and which model ("... · Deep-learning RTM")."""
    return f"{brief.title} · {display_name(brief.model)}"
