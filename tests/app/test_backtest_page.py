"""The Backtest page under AppTest: needs dated crimes, runs a backtest job, draws its chart."""

from __future__ import annotations

import dataclasses
import json
import shutil
import threading
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from rtm_app.backtest import unavailable_reason
from rtm_app.dataset import DataSet
from rtm_app.history import unavailable_reason as history_reason
from rtm_core.backtest.rolling import run_backtest
from rtm_core.config import load_config
from rtm_core.record.folder import list_runs
from tests.backtest_city import dated_city

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app.py")
BACKTEST, RUNS = "views/8_backtest.py", "views/6_runs.py"


@pytest.fixture(scope="module")
def city(tmp_path_factory) -> Path:
    return dated_city(tmp_path_factory.mktemp("dated") / "city")


def dataset(config_path: Path) -> DataSet:
    config = load_config(config_path)
    return DataSet("dated city", config.units, config.crimes, config.generators, config.features)


def page(runs_dir: Path, data: DataSet | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    if data is not None:
        at.session_state["rtm_data"] = data
    at.run()
    at.switch_page(BACKTEST).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def charts(at: AppTest) -> list[dict]:
    return [json.loads(c.proto.spec) for c in at.get("vega_lite_chart")]


def test_the_demo_has_no_dates_and_the_page_says_how_to_fix_it(runs_dir):
    at = page(runs_dir)
    (warning,) = at.warning
    assert "one file with a date column" in warning.value and "Fix:" in warning.value
    assert not [b for b in at.button if b.label == "Start backtest"]
    assert any("None yet" in c.value for c in at.caption)


def test_one_rule_says_whether_the_crimes_are_dated(city):
    dated = dataset(city)
    demo = DataSet.demo()  # one crimes file per period
    undated = dated.replace(crimes=dataclasses.replace(dated.crimes, date=None))
    assert [d.dated_crimes for d in (dated, demo, undated)] == [True, False, False]
    assert unavailable_reason(dated) == "" and history_reason(dated) == ""
    for data in (demo, undated):
        assert "one file with a date column" in unavailable_reason(data)
        assert "one crimes file with a date column" in history_reason(data)


def test_a_backtest_runs_in_the_background_and_draws_its_chart(runs_dir, city):
    at = page(runs_dir, dataset(city))
    assert at.number_input[0].value == 3
    at.number_input[0].set_value(2)
    next(b for b in at.button if b.label == "Start backtest").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    from rtm_app import backtest

    (job,) = backtest.manager().jobs()
    seen_progress = False
    deadline = time.monotonic() + 180
    while backtest.manager().status(job.job_id).active and time.monotonic() < deadline:
        at.run()
        seen_progress |= bool(at.get("progress"))
        time.sleep(1.0)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    status = backtest.manager().status(job.job_id)
    assert status.status == "done", status.error
    assert seen_progress
    (spec,) = charts(at)
    assert spec["mark"]["type"] == "line" and spec["encoding"]["x"]["field"] == "origin"
    summary = next(d.value for d in at.dataframe if "PAI 5 % mean" in d.value.columns)
    assert {"Deep-learning RTM", "Classical RTM"} <= set(summary["Model"])
    assert (summary["Origins"] == 2).all()
    boxes = [m.value for m in [*at.success, *at.warning, *at.info]]
    (said,) = [m for m in boxes if "On average" in m]  # the verdict sentences
    assert said.startswith("On average over the 2 origins (out of sample): The deep-learning")
    assert "90 % interval" in said and "Best mean PAI at 5 %: **" in said
    (verdicts,) = [t.value for t in at.table if "best baseline" in t.value.columns]
    assert set(verdicts["result"]) <= {"beats", "level", "below"} and len(verdicts) == 6
    # the backtest lives under runs/backtests and stays out of the Runs page's list
    assert [p.name for p in (runs_dir / "backtests").iterdir()] == [status.result.name]
    assert list_runs(runs_dir) == []


def test_cancel_stops_the_backtest_and_writes_nothing(runs_dir, city):
    at = page(runs_dir, dataset(city))
    at.number_input[0].set_value(2)
    next(b for b in at.button if b.label == "Start backtest").click().run()
    from rtm_app import backtest

    (job,) = backtest.manager().jobs()
    deadline = time.monotonic() + 60
    while backtest.manager().status(job.job_id).fraction < 0.05 and time.monotonic() < deadline:
        time.sleep(0.2)
    at.run()
    next(b for b in at.button if b.label == "Cancel").click().run()
    final = backtest.manager().wait(job.job_id, timeout=30)
    assert final.status == "cancelled"
    at.run()
    assert any("Cancelled: nothing was written" in c.value for c in at.caption)
    assert [p for p in (runs_dir / "backtests").iterdir()] == []


def test_a_finished_backtest_is_listed_and_can_run_again(runs_dir, city):
    config = load_config(city)
    config = config.replace(model=dataclasses.replace(config.model, kinds=("dl",), seeds=1))
    out = run_backtest(config, runs_dir / "backtests" / "bt-cli", origins=2, label="cli")
    at = page(runs_dir)  # the demo: no dates, but finished backtests are still shown
    assert at.selectbox(key="backtest_pick").options == ["cli · 2 origins · bt-cli"]
    assert len(charts(at)) == 1
    at.selectbox(key="backtest_origin").set_value("2021-01-01")
    next(b for b in at.button if b.label == "Open in Results").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value == "Results"
    picked = at.selectbox(key="results_run_picker")
    assert picked.value == str(out / "origins" / "2021-01-01")
    assert at.get("deck_gl_json_chart")  # the origin's risk map
    at.switch_page(BACKTEST).run()
    next(b for b in at.button if b.label == "Run this backtest again").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    from rtm_app import backtest

    (job,) = backtest.manager().jobs()
    assert job.label == "cli (again)"
    assert backtest.manager().wait(job.job_id, timeout=180).status == "done"
    assert len(list((runs_dir / "backtests").iterdir())) == 2
    assert out.is_dir()


@pytest.fixture(scope="module")
def dated_run(tmp_path_factory, city) -> Path:
    """A complete run of the dated city (deep-learning RTM, 1 seed, 20 + 20 steps)."""
    from rtm_core.runs.pipeline import run_pipeline

    config = load_config(city)
    model = dataclasses.replace(
        config.model, kinds=("dl",), seeds=1, burn_in_steps=20, prune_steps=20
    )
    out = tmp_path_factory.mktemp("dated_run") / "run-20260101-000000-beef"
    return run_pipeline(config.replace(model=model), out, label="dated")


def test_a_backtest_can_take_the_settings_of_a_run(runs_dir, dated_run):
    from rtm_app import backtest

    shutil.copytree(dated_run, runs_dir / dated_run.name)
    at = page(runs_dir)  # the demo data set has no dates: a run's settings still serve
    assert [w.value for w in at.warning if "one file with a date column" in w.value]
    source = at.selectbox(key="backtest_source")
    run_path = str(runs_dir / dated_run.name)
    assert source.options[1].startswith("run dated · ") and source.options[1].endswith("beef")
    source.set_value(run_path).run()
    assert not at.exception and not at.warning, [w.value for w in at.warning]
    preset = next(s for s in at.selectbox if s.label == "Model settings")
    assert preset.value == backtest.AS_IN_RUN
    assert preset.options[0] == "As in the run (1 seeds, 20 + 20 steps)"
    release = threading.Event()  # the job stays queued or running until the checks are done

    def held(config, out_dir, *, progress, cancel, label, owner=None):
        while not (release.wait(0.05) or cancel.is_set()):
            pass
        Path(out_dir).mkdir(parents=True)
        return Path(out_dir)

    backtest.manager()._runner = held
    next(b for b in at.button if b.label == "Start backtest").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    (job,) = backtest.manager().jobs()
    try:
        expected = backtest.backtest_config(
            DataSet.demo(), 3, backtest.AS_IN_RUN, ("dl", "classical"),
            backtest.run_settings(run_path),
        )  # fmt: skip
        assert expected.model.seeds == 1 and expected.backtest.origins == 3
        assert [j.job_id for j in backtest.manager().active_like(expected)] == [job.job_id]
        assert job.label == "dated"
    finally:
        release.set()
        backtest.manager().cancel(job.job_id)
        backtest.manager().wait(job.job_id, timeout=30)


def test_a_run_with_one_crimes_file_per_period_cannot_serve_a_backtest(tmp_path):
    from rtm_app import backtest
    from rtm_core.config import demo_config
    from rtm_core.errors import InputError
    from rtm_core.runs.rerun import write_rerunnable_config

    write_rerunnable_config(demo_config(), tmp_path)
    with pytest.raises(InputError, match="one file per period.*Fix: use the settings of"):
        backtest.run_settings(tmp_path)
    assert list(backtest.preset_options(None)) == ["quick", "full"]
    assert list(backtest.preset_options(demo_config())) == ["run", "quick", "full"]
