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


def test_the_runs_table_has_one_row_per_folder_and_names_join_label_and_folder(tmp_path):
    import time

    from rtm_app.run_list import run_names, runs_table
    from rtm_core.record.folder import RunInfo

    created = time.mktime((2026, 3, 4, 5, 6, 0, 0, 0, -1))
    runs = [
        RunInfo(tmp_path / "a", "a", "complete", created, "first", ("dl", "classical"), "", {}),
        RunInfo(tmp_path / "b", "b", "damaged", 0.0, "b", (), "manifest.json unreadable", {}),
    ]
    table = runs_table(runs)
    assert list(table.columns) == ["run", "label", "status", "created", "models", "problem"]
    assert table.loc[0].tolist() == [
        "a",
        "first",
        "complete",
        "2026-03-04 05:06",
        "dl, classical",
        "",
    ]
    assert table.loc[1, "problem"] == "manifest.json unreadable"
    assert run_names(runs) == {str(tmp_path / "a"): "first · a", str(tmp_path / "b"): "b · b"}
