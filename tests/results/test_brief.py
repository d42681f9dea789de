"""The brief a planner acts on: where risk concentrates (named places), what drives it (only
reliable factors), how sure we are (1-3), the top places with names and lat/lon, ties said,
and nothing from a model that kept no risk factor passed off as a finding."""

from __future__ import annotations

import dataclasses

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from rtm_core.record.folder import load_run
from rtm_core.results.brief import (
    PLACE_COLUMNS,
    brief_places,
    certainty_sentence,
    make_brief,
    rank_labels,
    where_sentence,
)
from rtm_core.results.reading import certainty, reliable, risk_factors_kept
from tests.brief_run import DISTRICTS


@pytest.fixture(scope="module")
def run(places_run_dir):
    return load_run(places_run_dir)


def _with(run, **changes):
    """A copy of a loaded run with some files changed (the manifest as JSON)."""
    return dataclasses.replace(run, **changes)


def _kept_labels(run, model: str) -> dict[str, bool]:
    """Label of each risk factor the model kept -> whether its IRR is reliable."""
    labels = run.factor_labels()
    rows = run.coefficients[run.coefficients["model"] == model]
    rows = rows[rows["variable"].isin(risk_factors_kept(run.coefficients, model))]
    return {labels[v]: bool(ok) for v, ok in zip(rows["variable"], reliable(rows), strict=True)}


def test_the_brief_names_places_reliable_drivers_and_how_sure(run):
    brief = make_brief(run)
    assert brief.column == f"forecast_{brief.model}"  # the forecast, not the model of period t
    assert brief.title == "Forecast for 2023-01-01 – 2023-12-31"
    assert any(name in brief.where for name in DISTRICTS)
    assert "highest-ranked places lie there" in brief.where
    assert "The riskiest 5 % of the cells hold" in brief.where
    kept = _kept_labels(run, brief.model)
    assert any(kept.values()), "the fixture's model has a reliable factor"
    drivers = brief.drivers.split("Also kept")[0]
    for label, ok in kept.items():  # only reliable factors are named as drivers
        assert (label in drivers) == ok, (label, brief.drivers)
    level, words = certainty(run.comparison, brief.model)
    assert brief.certainty == level and brief.sure == certainty_sentence(level, words, True)
    places = brief.places
    assert list(places.columns) == PLACE_COLUMNS  # no counts, no incidents
    assert len(places) == 10 and places["rank"].tolist() == list(range(1, 11))
    assert set(places["place"]) <= set(DISTRICTS)
    west, south, east, north = run.units.to_crs(4326).total_bounds
    assert places["lon"].between(west, east).all() and places["lat"].between(south, north).all()
    values = places["value"].to_numpy()
    assert (np.diff(values) <= 0).all()
    assert values[0] == pytest.approx(run.units[brief.column].max())


def test_a_comparison_makes_the_surest_model_the_briefs(run):
    areas = ("0.01", "0.05", "0.10")
    rows = [
        {"model": m, "baseline": "best", "measure": "pai", "area": a, "verdict": v}
        for m, v in (("dl", "beats"), ("classical", "level"))
        for a in areas
    ]
    surer = _with(run)
    object.__setattr__(surer, "comparison", pd.DataFrame(rows))
    brief = make_brief(surer)
    assert brief.model == "dl" and brief.certainty == 3
    assert brief.sure == (
        "How sure we are: 3 of 3 — the map beats the best baseline at 1, 5 and 10 % of the area."
    )


def test_a_model_that_kept_no_risk_factor_is_named_and_offers_no_places_from_ties(run):
    coef = run.coefficients
    no_factors = coef[coef["set"].isna()]
    history_only = _with(run, coefficients=no_factors)
    brief = make_brief(history_only)
    assert brief.model == "dl"
    assert (
        brief.drivers
        == "The deep-learning RTM kept no risk factor: its map is crime history alone."
    )
    assert "The classical RTM kept no risk factor: its map is crime history alone." in brief.notes
    assert brief.sure == (
        "How sure we are: 1 of 3 — a model that kept no risk factor is not an RTM result."
    )
    # without a forecast its map is flat: every place ties, so none is offered
    manifest = dict(run.manifest, forecast=None)
    flat = run.units.assign(risk_dl=1.0)
    flat_run = _with(history_only, manifest=manifest, units=flat)
    brief = make_brief(flat_run)
    assert brief.column == "risk_dl" and brief.places.empty
    assert f"{len(flat):,} places share the score at the end of the list" in brief.notes[-1]
    assert brief.where.startswith("The map does not single out places.")


def _units(scores) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "unit_id": np.arange(len(scores)),
            "risk_dl": scores,
            "factors_dl": ["bars within 100 m"] + [""] * (len(scores) - 1),
            "place": ["Norte", "Sur", "", "Norte", "Sur", "Sur"][: len(scores)],
        },
        geometry=[
            box(440_000 + 100 * i, 4_630_000, 440_100 + 100 * i, 4_630_100)
            for i in range(len(scores))
        ],
        crs="EPSG:32616",
    )


def test_ties_at_the_end_of_the_list_are_said():
    units = _units([5.0, 4.0, 3.0, 3.0, 3.0, 1.0])
    places, note = brief_places(units, "risk_dl", "dl", 3)
    assert places["tied"].tolist() == [False, False, True]
    assert rank_labels(places) == ["1", "2", "3="]
    assert note == (
        "The last 1 listed (marked =) share their value with 2 more places not listed: which "
        "of them are listed is arbitrary."
    )
    assert places["factors present"].tolist() == ["bars within 100 m", "none", "none"]
    dropped, note = brief_places(units, "risk_dl", "dl", 3, from_ties=False)
    assert dropped["rank"].tolist() == [1, 2] and note.startswith("3 places share the score")
    untied, note = brief_places(units, "risk_dl", "dl", 5)
    assert not untied["tied"].any() and note == ""


def test_where_names_the_places_most_top_places_lie_in():
    units = _units([9.0, 8.0, 7.0, 6.0, 5.0, 4.0])
    places, _ = brief_places(units, "risk_dl", "dl", 6)
    text = where_sentence(places, 0.42, "cells")
    assert text == (
        "Risk concentrates in Sur, Norte: 5 of the 6 highest-ranked places lie there. "
        "The riskiest 5 % of the cells hold 42 % of the expected crimes."
    ).replace("Sur, Norte", "Sur and Norte")
    unnamed = places.assign(place="")
    assert "this run has no area names: add a places layer" in where_sentence(
        unnamed, None, "cells"
    )


@pytest.mark.parametrize(
    ("level", "words", "said"),
    [
        (3, "beats the best baseline at 1, 5 and 10 % of the area", "the map beats the best"),
        (1, "below the best baseline at 5 % of the area", "the map is below the best baseline"),
        (1, "level with the best baseline at every share of the area", "the map is level with"),
        (1, "no comparison in this run", "there is no comparison with the baselines"),
    ],
)
def test_how_sure_reads_as_a_sentence(level, words, said):
    sentence = certainty_sentence(level, words, True)
    assert sentence.startswith(f"How sure we are: {level} of 3 — {said}")
    assert sentence.endswith(".")
    assert "not an RTM result" in certainty_sentence(1, words, False)
