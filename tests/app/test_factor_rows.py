"""rtm_app.factor_rows: the Risk factors page's rows, settings and prevalence table."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from rtm_app.dataset import DataSet
from rtm_app.factor_rows import (
    apply_factor_settings,
    generator_rows,
    generator_settings,
    map_choices,
    numeric_covariates,
    prevalence_table,
)
from rtm_core.config import CrimesConfig, LayerSource
from rtm_core.errors import ConfigError, InputError
from rtm_core.factors.features import RiskFactors


@pytest.fixture(scope="module")
def demo() -> DataSet:
    return DataSet.demo()


def _factors(prevalence: list[float]) -> RiskFactors:
    names = [f"v{k}" for k in range(len(prevalence))]
    variables = pd.DataFrame(
        {
            "name": names,
            "set": ["a"] * len(names),
            "measure": ["dis"] * len(names),
            "bandwidth": [100] * len(names),
            "prevalence": prevalence,
            "label": [f"label {n}" for n in names],
        }
    )
    table = pd.DataFrame({n: np.zeros(4, dtype=np.uint8) for n in names})
    return RiskFactors(table, variables, pd.DataFrame(columns=["name"]))


def test_rows_read_back_as_the_data_sets_settings(demo):
    rows = generator_rows(demo)
    assert list(rows.columns) == ["layer", "distance", "density", "bandwidths"]
    assert rows["layer"].tolist() == [g.name for g in demo.generators]
    settings = generator_settings(rows)
    assert settings == {g.name: (g.measures, g.bandwidths) for g in demo.generators}


def test_edited_rows_become_measures_and_sorted_bandwidths(demo):
    rows = generator_rows(demo).head(2).copy()
    rows.loc[0, ["distance", "density", "bandwidths"]] = [False, True, "300, 100;200"]
    rows.loc[1, ["distance", "density"]] = [True, False]
    settings = generator_settings(rows)
    first, second = rows["layer"]
    assert settings[first] == (("kde",), (100, 200, 300))
    assert settings[second][0] == ("distance",)


@pytest.mark.parametrize(
    ("typed", "problem"), [("100 abc", "'abc' is not a number"), ("100 100", "repeats")]
)
def test_a_bad_bandwidth_names_its_layer_and_the_fix(demo, typed, problem):
    rows = generator_rows(demo).head(1).copy()
    rows.loc[0, "bandwidths"] = typed
    with pytest.raises(ConfigError) as caught:
        generator_settings(rows)
    message = str(caught.value)
    assert message.startswith(rows.loc[0, "layer"]) and problem in message
    assert "Fix:" in message and "\n" not in message


def test_apply_factor_settings_changes_units_kernel_layers_and_history(demo):
    rows = generator_rows(demo)
    rows.loc[0, ["distance", "density", "bandwidths"]] = [True, False, "250"]
    new = apply_factor_settings(
        demo,
        units={"cell_size": 200.0, "keep": "intersect"},
        kernel="gaussian",
        threshold=1.5,
        rows=rows,
        history=(3, "100 200", "count"),  # the demo cannot have history: lags count as 0
    )
    assert (new.units.cell_size, new.units.keep) == (200.0, "intersect")
    assert (new.features.kernel, new.features.threshold) == ("gaussian", 1.5)
    assert (new.generators[0].measures, new.generators[0].bandwidths) == (("distance",), (250,))
    assert new.generators[1:] == demo.generators[1:]
    assert new.history.lags == 0 and new.history.transform == "count"
    assert demo.units.cell_size == 150.0  # the data set itself is unchanged


def test_a_layer_without_measures_is_refused(demo):
    rows = generator_rows(demo)
    rows.loc[0, ["distance", "density"]] = [False, False]
    with pytest.raises(InputError, match="none chosen. Fix: choose distance and/or density"):
        apply_factor_settings(
            demo,
            units={},
            kernel="quartic",
            threshold=2.0,
            rows=rows,
            history=(0, "150", "log1p"),
        )


def test_history_lags_are_kept_when_the_crimes_are_dated(demo):
    crimes = CrimesConfig(
        source=LayerSource(path="crimes.csv"),
        date="date",
        train=("2020-01-01", "2020-12-31"),
        test=("2021-01-01", "2021-12-31"),
    )
    dated = dataclasses.replace(demo, crimes=crimes)
    new = apply_factor_settings(
        dated,
        units={},
        kernel="quartic",
        threshold=2.0,
        rows=generator_rows(dated),
        history=(2, "300, 150", "log1p"),
    )
    assert (new.history.lags, new.history.bandwidths) == (2, (150, 300))


def test_numeric_covariates_leave_out_the_id_and_text():
    frame = pd.DataFrame({"id": [1, 2], "lanes": [2, 4], "name": ["a", "b"], "width": [1.5, 2]})
    assert numeric_covariates(frame, "id") == ["lanes", "width"]
    assert numeric_covariates(frame, None) == ["id", "lanes", "width"]


def test_in_model_is_the_rtm_core_rule_and_the_map_starts_on_a_common_factor():
    factors = _factors([0.0, 0.02, 0.3, 1.0, 0.6])
    table = prevalence_table(factors)
    assert table["in model"].tolist() == [False, True, True, False, True]
    assert table["in model"].tolist() == factors.in_model.tolist()
    assert list(table.columns) == ["name", "label", "prevalence", "in model"]
    names, index = map_choices(table)
    assert names == ["v1", "v2", "v4"]
    assert names[index] == "v2"  # the first between 5 % and 50 %


def test_the_map_offers_every_factor_when_none_is_in_the_models():
    table = prevalence_table(_factors([0.0, 1.0]))
    assert map_choices(table) == (["v0", "v1"], 0)
    table = prevalence_table(_factors([0.01, 0.9]))
    assert map_choices(table) == (["v0", "v1"], 0)  # none common: the first
