"""Rolling backtests: shifted periods, backtest.csv / .html, processes, Dask, cancel, the CLI."""

from __future__ import annotations

import dataclasses
import json
import pickle
import re
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from rtm_core.backtest.report import (
    COLUMNS,
    collect_metrics,
    list_backtests,
    load_backtest,
    render_html,
    summary_table,
    verdict,
)
from rtm_core.backtest.rolling import (
    BacktestError,
    check_data_reaches_back,
    origin_configs,
    run_backtest,
)
from rtm_core.cli import main
from rtm_core.config import LayerSource, load_config
from rtm_core.config.settings import demo_config
from rtm_core.errors import Cancelled, ConfigError
from rtm_core.models.registry import display_name
from rtm_core.periods import Period, period_length
from rtm_core.record.folder import list_runs, load_run
from tests.backtest_city import dated_city
from tests.hypothesis_profiles import examples


@pytest.fixture(scope="module")
def city(tmp_path_factory) -> Path:
    return dated_city(tmp_path_factory.mktemp("dated") / "city")


@pytest.fixture(scope="module")
def finished(city, tmp_path_factory) -> Path:
    """A 2-origin backtest run in this process."""
    out = tmp_path_factory.mktemp("bt") / "bt"
    return run_backtest(load_config(city), out, origins=2, processes=1)


# --------------------------------------------------------------------------- origins


def test_origins_move_training_and_test_back_one_period_each(city):
    plan = origin_configs(load_config(city), 3)
    assert [o.name for o in plan] == ["2022-01-01", "2021-01-01", "2020-01-01"]
    assert plan[2].config.crimes.train == ("2019-01-01", "2019-12-31")
    assert plan[2].config.crimes.test == ("2020-01-01", "2020-12-31")
    assert all(o.config.crimes.date == "OCCUR_DATE" for o in plan)


@settings(max_examples=examples(60), deadline=None)
@given(
    start=st.dates(
        min_value=pd.Timestamp("2001-01-01").date(), max_value=pd.Timestamp("2030-12-31").date()
    ),
    days=st.integers(1, 400),
    gap=st.integers(0, 30),
    n=st.integers(1, 8),
)
# found by Hypothesis (a clean clone's CI): a 243-day test from 1 January is 8 calendar months,
# and moving the 243-day training period back by 8 months shrank it to 241 days
@example(start=pd.Timestamp("2001-01-01").date(), days=243, gap=0, n=2)
def test_origins_tile_time_without_overlap(start, days, gap, n):
    """Any period length: origin i's test period is origin i-1's moved back by one length, and
    every training period keeps the configured one's length (months stay months, days days)."""
    test = Period(pd.Timestamp(start), pd.Timestamp(start) + pd.Timedelta(days=days))
    train = Period(test.start - pd.Timedelta(days=days + gap), test.start - pd.Timedelta(days=gap))
    config = demo_config().replace(
        crimes=demo_config().crimes.__class__(
            source=demo_config().units.boundary,
            date="d",
            train=train.as_config(),
            test=test.as_config(),
        )
    )
    plan = origin_configs(config, n)
    for newer, older in zip(plan, plan[1:], strict=False):
        assert older.test.end == newer.test.start  # back to back, no overlap, no gap
        # one training length long: the same days, or the same calendar months
        assert period_length(train).shift(older.train.start, 1) == older.train.end
        assert older.test.start - older.train.end == pd.Timedelta(days=gap)
        assert older.train.end <= older.test.start


def test_origin_configs_pickle_with_uploaded_bytes(city):
    """Pool processes and Dask workers get the config by pickle: an upload's bytes travel."""
    config = load_config(city)
    path = config.crimes.source.path
    upload = LayerSource(
        data=path.read_bytes(), name=path.name, x="X", y="Y", crs=config.crimes.source.crs
    )
    config = config.replace(crimes=dataclasses.replace(config.crimes, source=upload))
    for origin in origin_configs(config, 2):
        copy = pickle.loads(pickle.dumps(origin.config))
        assert copy.crimes.source.data == path.read_bytes() and copy == origin.config


def test_a_backtest_needs_one_dated_crimes_file():
    with pytest.raises(ConfigError, match=r"\[crimes\.date\].*needs one crimes file with a date"):
        origin_configs(demo_config(), 2)


@pytest.mark.parametrize("bad", [0, -1, 51, 2.5, True])
def test_origins_must_be_a_sensible_integer(city, bad):
    with pytest.raises(
        ConfigError, match=r"\[backtest\.origins\]: must be an integer from 1 to 50"
    ):
        origin_configs(load_config(city), bad)


def test_an_origin_before_the_data_is_named_and_nothing_is_written(city, tmp_path):
    config = load_config(city)
    with pytest.raises(ConfigError) as caught:
        check_data_reaches_back(config, origin_configs(config, 3))
    message = str(caught.value)
    assert "origin 2020-01-01" in message and "needs crimes from 2019-01-01" in message
    assert "earliest date in the file is 2020-01-01" in message and "at most 2" in message
    with pytest.raises(ConfigError, match="origin 2020-01-01"):
        run_backtest(config, tmp_path / "bt", origins=3)
    assert list(tmp_path.iterdir()) == []


def test_history_lags_reach_further_back(city):
    config = load_config(city)
    config = config.replace(history=config.history.__class__(lags=1))
    with pytest.raises(
        ConfigError, match=r"origin 2021-01-01 .*needs crimes from 2019-01-01 for its history"
    ):
        check_data_reaches_back(config, origin_configs(config, 2))


# --------------------------------------------------------------------------- outputs


def test_backtest_csv_holds_every_model_measure_and_area(finished):
    table = pd.read_csv(finished / "backtest.csv", dtype=str)
    assert list(table.columns) == COLUMNS
    assert sorted(table["origin"].unique()) == ["2021-01-01", "2022-01-01"]
    assert sorted(table["measure"].unique()) == ["hit_rate", "pai", "pei"]
    assert sorted(table["area"].unique()) == ["0.01", "0.05", "0.10"]
    models = set(table["model"])
    assert {"dl", "classical", "prior_counts", "kde", "forest"} <= models
    assert len(table) == 2 * len(models) * 3 * 3
    # every value is the test-period value of that origin's own run folder
    for origin in ("2021-01-01", "2022-01-01"):
        metrics = json.loads((finished / "origins" / origin / "metrics.json").read_text())
        rows = table[table["origin"] == origin]
        for row in rows.itertuples():
            expected = metrics[row.model]["test"][row.measure][row.area]
            assert float(row.value) == pytest.approx(expected)


def test_each_origin_is_an_ordinary_run_folder(finished):
    runs = list_runs(finished / "origins")
    assert sorted(r.name for r in runs) == ["2021-01-01", "2022-01-01"]
    assert all(r.status == "complete" for r in runs)
    run = load_run(finished / "origins" / "2021-01-01")
    assert run.manifest["config"]["crimes"]["test"] == ["2021-01-01", "2021-12-31"]
    assert run.manifest["config"]["crimes"]["train"] == ["2020-01-01", "2020-12-31"]


def test_backtest_html_is_self_contained(finished):
    page = (finished / "backtest.html").read_text()
    assert "<script" not in page.lower() and "http://" not in page and "https://" not in page
    assert page.count("data:image/png;base64,") == 1
    assert "PAI at 5 % of the area, by origin" in page and "Mean and range" in page
    assert "On average over the 2 origins (out of sample): The " in page
    assert "Best mean PAI at 5 %" in page and "90 % interval" in page
    manifest = json.loads((finished / "backtest.json").read_text())
    assert [o["origin"] for o in manifest["origins"]] == ["2022-01-01", "2021-01-01"]
    assert manifest["engine"] == "in process" and manifest["status"] == "complete"
    assert [b.name for b in list_backtests(finished.parent)] == ["bt"]
    assert load_backtest(finished).table.equals(
        pd.read_csv(finished / "backtest.csv", dtype={"origin": str, "area": str})
    )


def _metrics(values: dict[str, float]) -> dict:
    return {
        model: {
            "test": {
                m: {a: v * (1 + i) for i, a in enumerate(("0.01", "0.05", "0.10"))}
                for m in ("pai", "pei", "hit_rate")
            }
        }
        for model, v in values.items()
    }


def _comparison(rows) -> pd.DataFrame:
    """A backtest comparison.csv by hand: (model, baseline, area, value, other, low, high)."""
    from rtm_core.results.bootstrap import COMPARISON_COLUMNS, verdict_of

    return pd.DataFrame(
        [
            [m, b, "pai", a, v, o, v - o, lo, hi, verdict_of(lo, hi)]
            for m, b, a, v, o, lo, hi in rows
        ],
        columns=COMPARISON_COLUMNS,
    )


def test_summary_and_verdict_on_planted_values():
    table = collect_metrics(
        {
            "2018-01-01": _metrics({"dl": 2.0, "classical": 3.0, "prior_counts": 4.0, "kde": 1.0}),
            "2017-01-01": _metrics({"dl": 4.0, "classical": 3.0, "prior_counts": 1.0, "kde": 1.0}),
        }
    )
    summary = summary_table(table).set_index("model")
    assert summary.loc["dl", "mean 0.05"] == pytest.approx(6.0)  # (2*2 + 4*2) / 2
    assert (summary.loc["dl", "min 0.05"], summary.loc["dl", "max 0.05"]) == (4.0, 8.0)
    comparison = _comparison(
        [
            ("dl", "prior_counts", "0.05", 6.0, 5.0, -0.4, 2.3),
            ("dl", "kde", "0.05", 6.0, 2.0, 3.1, 4.8),
            ("dl", "best", "0.05", 6.0, 5.0, -0.4, 2.3),
        ]
    )
    result = verdict(table, comparison)
    assert result.best_model == "dl"
    assert result.sentence == (
        "On average over the 2 origins (out of sample): The deep-learning RTM is level with the "
        "best baseline (prior counts) at 5 %: mean PAI 6.00 vs 5.00, difference +1.00, 90 % "
        "interval -0.40 to +2.30."
    )
    assert not result.rtm_wins  # level, not a win
    wins = comparison.assign(low=0.2, verdict="beats")
    assert verdict(table, wins).rtm_wins
    no_factor = verdict(table, wins, {"dl": "kept no risk factor: its map is flat"})
    assert not no_factor.rtm_wins and "kept no risk factor" in no_factor.sentence
    old = verdict(table)
    assert old.sentence.startswith("The comparison with intervals is not available")
    page = render_html(table, {"origins": [], "name": "x"}, comparison)
    assert "Deep-learning RTM" in page and "4.00 – 8.00" in page and "-0.40" in page


def test_a_backtest_names_models_and_baselines_as_the_run_does():
    assert display_name("history_only") == "Crime history alone (baseline)"
    assert display_name("unknown") == "unknown"
    with_history = collect_metrics({"2018-01-01": _metrics({"dl": 2.0, "history_only": 2.5})})
    comparison = _comparison(
        [
            ("dl", "history_only", "0.05", 4.0, 5.0, -1.5, -0.5),
            ("dl", "best", "0.05", 4.0, 5.0, -1.5, -0.5),
        ]
    )
    assert (
        "Against crime history alone (a Poisson GLM on the history windows), the deep-learning "
        "RTM is below it at 5 %: mean PAI 4.00 vs 5.00, difference -1.00, 90 % interval -1.50 "
        "to -0.50."
    ) in verdict(with_history, comparison).sentence


def test_the_backtest_compares_mean_pai_with_every_baseline(finished):
    """comparison.csv: mean PAI over the origins of backtest.csv, the best baseline the
    highest mean among every baseline (the forest included), loaded with the backtest."""
    files = load_backtest(finished)
    comparison = files.comparison
    assert set(comparison["verdict"]) <= {"beats", "level", "below"}
    pai = files.table[files.table["measure"] == "pai"]
    means = pai.groupby(["model", "area"])["value"].mean()
    for _, row in comparison.iterrows():
        assert row["model_value"] == pytest.approx(means[(row["model"], row["area"])])
    baselines = [m for m in pai["model"].unique() if m not in ("dl", "classical")]
    assert set(comparison["baseline"]) == {*baselines, "best"}
    best = comparison[(comparison["baseline"] == "best") & (comparison["model"] == "dl")]
    for _, row in best.iterrows():
        top = max(means[(b, row["area"])] for b in baselines)
        assert row["baseline_value"] == pytest.approx(top)
    assert verdict(files.table, comparison).sentence.count("90 % interval") >= 3


def test_a_backtest_folder_is_opened_with_one_read_of_its_manifest(tmp_path, monkeypatch):
    folder = tmp_path / "bt"
    folder.mkdir()
    table = collect_metrics({"2018-01-01": _metrics({"dl": 2.0, "kde": 1.0})})
    table.to_csv(folder / "backtest.csv", index=False)
    manifest = {"label": "mine", "origins": [{"origin": "2018-01-01"}]}
    (folder / "backtest.json").write_text(json.dumps(manifest))
    reads = []
    real = Path.read_text
    monkeypatch.setattr(
        Path, "read_text", lambda self, **kw: reads.append(self) or real(self, **kw)
    )
    files = load_backtest(folder)
    assert files.manifest == manifest and len(files.table) == len(table)
    assert reads == [folder / "backtest.json"]  # was read and parsed twice


# --------------------------------------------------------------------------- execution


def test_a_failing_origin_is_named_and_nothing_is_written(tmp_path):
    config = load_config(dated_city(tmp_path / "city", first_year_in_one_cell=True))
    config = config.replace(model=dataclasses.replace(config.model, kinds=("dl",), seeds=1))
    with pytest.raises(BacktestError, match=r"backtest origin 2021-01-01 \(train 2020-01-01"):
        run_backtest(config, tmp_path / "runs" / "bt", origins=2, processes=1)
    assert not (tmp_path / "runs").exists() or list((tmp_path / "runs").iterdir()) == []


def test_cancel_in_process_stops_and_writes_nothing(city, tmp_path):
    stop = threading.Event()
    seen = []

    def progress(p):
        seen.append(p)
        if p.fraction > 0.1:
            stop.set()

    with pytest.raises(Cancelled):
        run_backtest(
            load_config(city),
            tmp_path / "bt",
            origins=2,
            processes=1,
            progress=progress,
            cancel=stop,
        )
    assert list(tmp_path.iterdir()) == []
    assert seen[-1].fraction < 0.5


@pytest.mark.slow
def test_process_pool_equals_in_process(city, finished, tmp_path):
    out = run_backtest(load_config(city), tmp_path / "bt", origins=2, processes=2)
    assert (out / "backtest.csv").read_bytes() == (finished / "backtest.csv").read_bytes()
    assert json.loads((out / "backtest.json").read_text())["engine"] == "2 processes"


@pytest.mark.timing
def test_cancel_with_processes_stops_within_seconds_and_writes_nothing(city, tmp_path):
    stop, when = threading.Event(), []

    def progress(p):
        if p.phase == "dl" and not stop.is_set():
            when.append(time.monotonic())
            stop.set()

    with pytest.raises(Cancelled):
        run_backtest(
            load_config(city),
            tmp_path / "bt",
            origins=2,
            processes=2,
            progress=progress,
            cancel=stop,
        )
    assert time.monotonic() - when[0] < 5.0
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_dask_local_cluster_equals_in_process(city, finished, tmp_path):
    out = run_backtest(load_config(city), tmp_path / "bt", origins=2, workers=2)
    assert (out / "backtest.csv").read_bytes() == (finished / "backtest.csv").read_bytes()
    assert json.loads((out / "backtest.json").read_text())["engine"].startswith("dask")
    assert sorted(p.name for p in (out / "origins").iterdir()) == ["2021-01-01", "2022-01-01"]


# --------------------------------------------------------------------------- CLI


def test_cli_backtest_writes_the_folder(city, tmp_path, capsys):
    out = tmp_path / "bt"
    code = main(
        [
            "backtest",
            str(city),
            "--out",
            str(out),
            "--origins",
            "2",
            "--kinds",
            "dl",
            "--seeds",
            "1",
        ]
    )
    assert code == 0
    captured = capsys.readouterr()
    assert f"Backtest written to {out.resolve()}" in captured.out
    assert "[2/2 origins] origin 2021-01-01 done" in captured.err
    table = pd.read_csv(out / "backtest.csv")
    assert "classical" not in set(table["model"]) and "dl" in set(table["model"])


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--demo"], r"\[crimes\.date\]: a backtest moves the periods back"),
        (["CITY", "--origins", "0"], r"\[backtest\.origins\]: must be an integer from 1 to 50"),
        (
            ["CITY", "--origins", "3"],
            r"origin 2020-01-01 .* earliest date in the file is 2020-01-01",
        ),
        (["CITY", "--seeds", "0"], r"\[--seeds\]: must be > 0"),
        (["CITY", "--processes", "0"], r"\[--processes\]: must be >= 1"),
        (["CITY", "--workers", "0"], r"\[--workers\]: must be >= 1"),
    ],
)
def test_cli_backtest_errors_are_one_line_with_exit_2(city, tmp_path, capsys, argv, expected):
    argv = [str(city) if a == "CITY" else a for a in argv]
    assert main(["backtest", *argv, "--out", str(tmp_path / "bt")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Fix:" in err and re.search(expected, err), err
    assert not (tmp_path / "bt").exists()


def test_values_are_finite_where_defined(finished):
    table = pd.read_csv(finished / "backtest.csv")
    assert np.isfinite(table["value"].dropna()).all()
