"""The anchor on its way into a study: bare x/y tables take its CRS, history files too."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

from rtm_core.config import CrimesConfig, HistoryConfig, LayerSource, load_config
from rtm_core.io import read_layer
from rtm_core.study.load import load_study
from rtm_core.study.prepare import fill_config_crs
from rtm_core.synth import make_city, write_city

NOTE = "no CRS given; x/y ranges match the boundary's, EPSG:32616 used"


@pytest.fixture(scope="module")
def per_year(tmp_path_factory):
    """A synthetic city (UTM 16N) with its crimes split into one bare x/y file per year."""
    folder = tmp_path_factory.mktemp("prepare")
    config = load_config(write_city(make_city(9, size=2_000.0, periods=4), folder))
    crimes = pd.read_csv(folder / "crimes.csv")
    sources = {}
    for year in ("2019", "2020", "2021", "2022"):
        path = folder / f"{year}.csv"
        crimes[crimes["OCCUR_DATE"].str.startswith(year)].to_csv(path)
        sources[year] = LayerSource(path=path, name=path.name, x="X", y="Y")  # no crs
    history = HistoryConfig(lags=2, files=(sources["2020"], sources["2019"]))
    crimes = CrimesConfig(train_source=sources["2021"], test_source=sources["2022"])
    return config.replace(crimes=crimes, history=history)


def test_history_files_take_the_anchors_crs_like_the_crimes(per_year):
    anchor = read_layer(per_year.units.boundary)
    filled, notes = fill_config_crs(per_year, anchor)
    sources = [filled.crimes.train_source, filled.crimes.test_source, *filled.history.files]
    assert [s.crs for s in sources] == ["EPSG:32616"] * 4
    assert notes == {name: NOTE for name in ("2021.csv", "2022.csv", "2020.csv", "2019.csv")}
    assert filled.units == per_year.units
    assert [g.source for g in filled.generators] == [g.source for g in per_year.generators]


def test_a_study_with_bare_xy_history_files_loads(per_year):
    study = load_study(per_year)
    notes = {r.source: r.note for r in study.reads}
    assert NOTE in notes["2019.csv"] and NOTE in notes["2020.csv"]
    assert study.history is not None and len(study.history.blocks) == 4


def test_nothing_is_filled_without_a_projected_anchor(per_year):
    anchor = read_layer(per_year.units.boundary)
    lonlat = dataclasses.replace(anchor, frame=anchor.frame.to_crs("EPSG:4326"))
    assert fill_config_crs(per_year, lonlat) == (per_year, {})
