"""rtm_app.train_settings: the Train page's presets, choices and the run config it submits."""

from __future__ import annotations

import pytest

from rtm_app.dataset import DataSet
from rtm_app.train_settings import (
    NO_MODEL,
    PRESETS,
    check_models,
    device_options,
    history_note,
    model_config,
    preset_fields,
    training_config,
)
from rtm_core.config import HistoryConfig, ModelConfig
from rtm_core.errors import RTMError


def test_presets_fill_seeds_and_steps():
    assert preset_fields("quick") == {"seeds": 2, "burn_in": 300, "prune": 300}
    assert preset_fields("full") == {"seeds": 20, "burn_in": 10_000, "prune": 10_000}
    assert preset_fields(None) == {} and preset_fields("nope") == {}
    assert set(PRESETS) == {"quick", "full"}


def test_cuda_is_offered_only_when_the_server_has_it():
    assert device_options(False) == ["auto", "cpu"]
    assert device_options(True) == ["auto", "cpu", "cuda"]


def test_history_note_says_lags_distances_and_transform():
    assert history_note(HistoryConfig()).startswith("No crime history in the models")
    note = history_note(HistoryConfig(lags=2, bandwidths=(150, 300), transform="count"))
    assert "2 lag(s)" in note and "150, 300 m" in note and "as counts" in note
    assert "log(1 + count)" in history_note(HistoryConfig(lags=1))


def test_model_config_takes_the_forms_values():
    model = model_config(
        ["classical", "dl"],
        loss="negbin",
        seeds=3.0,
        burn_in=50,
        prune=60,
        cancel_gate=1,
        device="cpu",
    )
    assert model == ModelConfig(
        kinds=("classical", "dl"),
        loss="negbin",
        seeds=3,
        burn_in_steps=50,
        prune_steps=60,
        cancel_gate=True,
        device="cpu",
    )
    assert isinstance(model.seeds, int) and model.cancel_gate is True


def test_no_model_chosen_is_one_line_with_the_fix():
    for kinds in ([], (), None):
        with pytest.raises(RTMError) as caught:
            check_models(kinds)
        assert str(caught.value) == NO_MODEL
    with pytest.raises(RTMError, match="No model chosen"):
        model_config(
            [], loss="poisson", seeds=1, burn_in=1, prune=1, cancel_gate=False, device="cpu"
        )
    assert check_models(["dl"]) == ("dl",)


def test_training_config_is_the_data_sets_study_with_the_model_and_area():
    data = DataSet.demo()
    model = ModelConfig(kinds=("dl",), seeds=2, burn_in_steps=20, prune_steps=20)
    config = training_config(data, model, "count")
    assert config.model == model
    assert config.evaluation.area == "count"
    assert config.generators == data.generators and config.units == data.units
