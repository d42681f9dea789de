"""Small helpers the pages call: default map layers, scored models, backtest origin labels."""

from __future__ import annotations

import pandas as pd

from rtm_app import backtest
from rtm_app.backtest_sections import again_origins, origin_labels
from rtm_app.data_choices import default_map_layers
from rtm_app.results_sections import scored_models


def test_the_data_map_starts_with_the_first_layer_of_each_role():
    entries = [
        ("generator", "bars", None),
        ("crimes_train", "crimes 2022", None),
        ("boundary", "city", None),
        ("generator", "stops", None),
        ("crimes_test", "crimes 2023", None),
    ]
    assert default_map_layers(entries) == ["city", "crimes 2022", "bars"]
    assert default_map_layers([]) == []
    units = [("units", "segments", None), ("crimes", "all crimes", None)]
    assert default_map_layers(units) == ["segments", "all crimes"]


def test_scored_models_follow_model_kinds_order():
    units = pd.DataFrame(columns=["unit_id", "risk_classical", "risk_dl", "forecast_dl"])
    assert scored_models(units) == ["dl", "classical"]
    assert scored_models(units, "forecast") == ["dl"]
    assert scored_models(pd.DataFrame(columns=["unit_id"])) == []


def test_backtest_origins_are_labelled_and_offered_again_within_range():
    manifest = {
        "origins": [
            {
                "origin": "2023-01-01",
                "test": ["2023-01-01", "2023-12-31"],
                "train": ["2022-01-01", "2022-12-31"],
            },
            {
                "origin": "2022-01-01",
                "test": ["2022-01-01", "2022-12-31"],
                "train": ["2021-01-01", "2021-12-31"],
            },
        ]
    }
    labels = origin_labels(manifest)
    assert list(labels) == ["2023-01-01", "2022-01-01"]
    assert (
        labels["2023-01-01"] == "test 2023-01-01 – 2023-12-31 · trained on 2022-01-01 – 2022-12-31"
    )
    assert again_origins(manifest) == max(2, backtest.MIN_ORIGINS)
    assert again_origins({}) == backtest.MIN_ORIGINS
    many = {"origins": [manifest["origins"][0]] * (backtest.MAX_ORIGINS + 3)}
    assert again_origins(many) == backtest.MAX_ORIGINS
    assert origin_labels({}) == {}


def test_the_runs_table_and_pickers_tell_runs_with_the_same_label_apart(tmp_path):
    import time

    from rtm_app.run_list import run_names, runs_table, short_id
    from rtm_core.record.folder import RunInfo

    created = time.mktime((2026, 3, 4, 5, 6, 0, 0, 0, -1))
    later = created + 3600
    first, second = "run-20260304-050600-ab12", "run-20260304-060600-cd34"
    runs = [
        RunInfo(tmp_path / "x", first, "complete", created, "city", (), "", {}),
        RunInfo(tmp_path / "y", second, "complete", later, "city", (), "", {}),
        RunInfo(tmp_path / "b", "b", "damaged", 0.0, "b", (), "manifest.json unreadable", {}),
    ]
    table = runs_table(runs)
    assert list(table.columns) == [
        "label", "created", "id", "status", "models", "problem", "run"
    ]  # fmt: skip
    assert table.loc[0].tolist() == [
        "city", "2026-03-04 05:06", "ab12", "complete", "", "", "run-20260304-050600-ab12"
    ]  # fmt: skip
    assert table.loc[2, "problem"] == "manifest.json unreadable"
    names = run_names(runs)
    assert names[str(tmp_path / "x")] == "city · 2026-03-04 05:06 · ab12"
    assert names[str(tmp_path / "y")] == "city · 2026-03-04 06:06 · cd34"
    assert len(set(names.values())) == 3  # the same label, told apart
    assert short_id("my-run") == "my-run" and short_id("run-20260304-050600-ab12") == "ab12"
