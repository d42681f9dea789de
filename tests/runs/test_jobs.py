"""Background jobs: queueing, progress, cancel, failures and concurrent runs on the tiny city."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import pytest

from rtm_core.config import load_config
from rtm_core.errors import Cancelled, ConfigError, InputError, LimitReached
from rtm_core.record.folder import load_run
from rtm_core.runs.jobs import JobManager, max_jobs_from_env, max_jobs_per_user_from_env
from rtm_core.runs.pipeline import Progress, run_pipeline


class GatedRunner:
    """A fake pipeline that reports progress and waits until released (or cancelled)."""

    def __init__(self):
        self.release = {}
        self.started = []

    def __call__(self, config, out_dir, *, progress, cancel, label):
        gate = self.release.setdefault(label, threading.Event())
        self.started.append(label)
        progress(Progress("dl", 0.3, "training", step=3, total=10, loss=0.5))
        while not gate.wait(0.01):
            if cancel.is_set():
                raise Cancelled("cancelled by the user")
        Path(out_dir).mkdir(parents=True)
        return Path(out_dir)

    def open(self, label):
        self.release.setdefault(label, threading.Event()).set()


def wait_until(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return False


def tiny_config(city, **model):
    config = load_config(city.config)
    base = {"seeds": 2, "burn_in_steps": 40, "prune_steps": 40}
    return config.replace(model=dataclasses.replace(config.model, **(base | model)))


def test_jobs_over_the_limit_queue_in_order_with_their_position(tmp_path):
    runner = GatedRunner()
    manager = JobManager(max_concurrent=1, runner=runner, configure_torch=False)
    a = manager.submit(None, tmp_path, label="a", owner="me")
    b = manager.submit(None, tmp_path, label="b", owner="me")
    c = manager.submit(None, tmp_path, label="c", owner="me")
    assert wait_until(lambda: manager.status(a).phase == "dl")
    assert manager.status(a).status == "running"
    assert (manager.status(b).status, manager.status(b).position) == ("queued", 1)
    assert (manager.status(c).status, manager.status(c).position) == ("queued", 2)

    runner.open("a")
    assert manager.wait(a, timeout=5).status == "done"
    assert wait_until(lambda: manager.status(b).status == "running")
    assert (manager.status(c).status, manager.status(c).position) == ("queued", 1)
    runner.open("b")
    runner.open("c")
    assert manager.wait(c, timeout=5).status == "done"
    assert runner.started == ["a", "b", "c"]
    assert manager.active_count() == 0


def test_progress_is_reported_and_never_goes_back(tmp_path):
    seen = []

    def runner(config, out_dir, *, progress, cancel, label):
        for fraction in (0.2, 0.6, 0.4, 0.9):
            progress(Progress("classical", fraction, "stepwise", step=2, total=6, loss=1.5))
            seen.append(manager.status(job).fraction)
        return Path(out_dir)

    manager = JobManager(max_concurrent=1, runner=runner, configure_torch=False)
    job = manager.submit(None, tmp_path, label="p")
    final = manager.wait(job, timeout=5)
    assert seen == [0.2, 0.6, 0.6, 0.9]
    assert final.status == "done" and final.fraction == 1.0 and final.phase == "done"
    assert final.result == final.out_dir and final.out_dir.parent == tmp_path


def test_cancelling_a_queued_job_drops_it_at_once(tmp_path):
    runner = GatedRunner()
    manager = JobManager(max_concurrent=1, runner=runner, configure_torch=False)
    first = manager.submit(None, tmp_path, label="first")
    queued = manager.submit(None, tmp_path, label="queued")
    assert manager.cancel(queued)
    snap = manager.status(queued)
    assert snap.status == "cancelled" and snap.position == 0
    assert not manager.cancel(queued)  # already finished
    runner.open("first")
    assert manager.wait(first, timeout=5).status == "done"
    assert "queued" not in runner.started
    assert not snap.out_dir.exists()


def test_jobs_are_listed_per_owner_newest_first(tmp_path):
    runner = GatedRunner()
    manager = JobManager(max_concurrent=2, runner=runner, configure_torch=False)
    mine = [manager.submit(None, tmp_path, label=f"m{k}", owner="alice") for k in range(2)]
    theirs = manager.submit(None, tmp_path, label="t", owner="bob")
    assert [j.job_id for j in manager.jobs(owner="alice")] == mine[::-1]
    assert [j.job_id for j in manager.jobs(owner="bob")] == [theirs]
    assert len(manager.jobs()) == 3
    for label in ("m0", "m1", "t"):
        runner.open(label)
    for job_id in [*mine, theirs]:
        assert manager.wait(job_id, timeout=5).status == "done"


def test_a_crashing_runner_is_recorded_and_the_queue_moves_on(tmp_path):
    def runner(config, out_dir, *, progress, cancel, label):
        if label == "bad":
            raise ValueError("boom\nsecond line")
        return Path(out_dir)

    manager = JobManager(max_concurrent=1, runner=runner, configure_torch=False)
    bad = manager.submit(None, tmp_path, label="bad")
    good = manager.submit(None, tmp_path, label="good")
    failed = manager.wait(bad, timeout=5)
    assert failed.status == "failed"
    assert failed.error == "internal error (ValueError: boom"
    assert manager.wait(good, timeout=5).status == "done"


def test_the_concurrency_limit_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("RTM_MAX_JOBS", "3")
    assert max_jobs_from_env() == 3
    assert JobManager(configure_torch=False).max_concurrent == 3
    monkeypatch.setenv("RTM_MAX_JOBS", "many")
    with pytest.raises(ConfigError, match="RTM_MAX_JOBS"):
        max_jobs_from_env()
    with pytest.raises(ConfigError, match="max_concurrent"):
        JobManager(max_concurrent=0, configure_torch=False)


def test_unknown_job_id_raises_key_error():
    manager = JobManager(max_concurrent=1, runner=GatedRunner(), configure_torch=False)
    with pytest.raises(KeyError):
        manager.status("nope")
    assert manager.cancel("nope") is False


# ------------------------------------------------------------ real pipeline (tiny city)


@pytest.mark.timing
@pytest.mark.slow
def test_cancel_stops_a_real_run_within_two_seconds_and_writes_nothing(tiny_city, tmp_path):
    runs = tmp_path / "runs"
    manager = JobManager(max_concurrent=1)
    config = tiny_config(tiny_city, kinds=("dl",), burn_in_steps=200_000, prune_steps=10)
    job = manager.submit(config, runs, label="long", owner="me")
    assert wait_until(lambda: manager.status(job).phase == "dl", timeout=60)
    assert wait_until(lambda: manager.status(job).step > 0, timeout=30)
    asked = time.monotonic()
    assert manager.cancel(job)
    final = manager.wait(job, timeout=10)
    assert final.status == "cancelled"
    assert time.monotonic() - asked < 2.0
    assert not final.out_dir.exists()
    leftovers = list(runs.iterdir()) if runs.exists() else []
    assert leftovers == []  # no run folder, no staging folder


@pytest.mark.slow
def test_a_bad_config_fails_with_its_one_line_message(tiny_city, tmp_path):
    config = tiny_config(tiny_city)
    generator = dataclasses.replace(
        config.generators[0],
        source=dataclasses.replace(config.generators[0].source, path=tmp_path / "missing.csv"),
    )
    config = config.replace(generators=(generator, *config.generators[1:]))
    manager = JobManager(max_concurrent=1)
    job = manager.submit(config, tmp_path / "runs", label="bad")
    final = manager.wait(job, timeout=60)
    assert final.status == "failed"
    assert "Fix:" in final.error and "\n" not in final.error
    assert final.result is None
    with pytest.raises(InputError, match="failed"):
        load_run(final.out_dir)  # a failed-run record, not a complete run


@pytest.mark.slow
def test_concurrent_jobs_write_separate_correct_runs(tiny_city, tmp_path):
    runs = tmp_path / "runs"
    manager = JobManager(max_concurrent=2)
    config_a = tiny_config(tiny_city, random_state=0)
    config_b = tiny_config(tiny_city, random_state=7, seeds=3)
    a = manager.submit(config_a, runs, label="run a", owner="alice")
    b = manager.submit(config_b, runs, label="run b", owner="bob")
    assert wait_until(lambda: manager.status(b).status == "running", timeout=5)
    done_a, done_b = manager.wait(a, timeout=180), manager.wait(b, timeout=180)
    assert (done_a.status, done_b.status) == ("done", "done"), (done_a.error, done_b.error)
    assert done_a.result != done_b.result
    run_a, run_b = load_run(done_a.result), load_run(done_b.result)
    assert (run_a.manifest["label"], run_b.manifest["label"]) == ("run a", "run b")
    # the seeds trained: spawn keys 0..K-1 of SeedSequence(random_state) (schema 2; schema 1
    # listed random_state .. random_state + K - 1, true only for random_state 0)
    assert (run_a.manifest["seeds"], run_a.manifest["seed_root"]) == ([0, 1], 0)
    assert (run_b.manifest["seeds"], run_b.manifest["seed_root"]) == ([0, 1, 2], 7)

    alone = load_run(run_pipeline(config_a, tmp_path / "alone", label="alone"))
    columns = ["model", "variable", "irr"]
    pd.testing.assert_frame_equal(
        run_a.coefficients[columns], alone.coefficients[columns], rtol=1e-4
    )
    pd.testing.assert_series_equal(run_a.units["risk_dl"], alone.units["risk_dl"], rtol=1e-4)


def test_a_user_over_their_limit_is_refused_and_others_are_not(tmp_path, monkeypatch):
    runner = GatedRunner()
    manager = JobManager(max_concurrent=1, runner=runner, configure_torch=False)
    monkeypatch.setenv("RTM_MAX_JOBS_PER_USER", "2")
    limit = max_jobs_per_user_from_env()
    a = manager.submit(None, tmp_path, label="a", owner="alice@pd", max_active=limit)
    manager.submit(None, tmp_path, label="b", owner="alice@pd", max_active=limit)
    with pytest.raises(LimitReached, match=r"RTM_MAX_JOBS_PER_USER\]: 2 of yours are already"):
        manager.submit(None, tmp_path, label="c", owner="alice@pd", max_active=limit)
    assert len(manager.jobs("alice@pd")) == 2  # the refused job left no trace
    manager.submit(None, tmp_path, label="d", owner="bob@pd", max_active=limit)
    runner.open("a")
    assert manager.wait(a, timeout=5).status == "done"
    manager.submit(None, tmp_path, label="e", owner="alice@pd", max_active=limit)  # a slot freed
    for label in "bde":
        runner.open(label)


def test_the_per_user_limit_is_read_from_the_environment(monkeypatch):
    monkeypatch.delenv("RTM_MAX_JOBS_PER_USER", raising=False)
    assert max_jobs_per_user_from_env() == 2
    monkeypatch.setenv("RTM_MAX_JOBS_PER_USER", "0")
    with pytest.raises(ConfigError, match="RTM_MAX_JOBS_PER_USER.*positive integer"):
        max_jobs_per_user_from_env()


def test_a_job_with_a_run_owner_passes_it_to_the_runner(tmp_path):
    seen = {}

    def runner(config, out_dir, *, progress, cancel, label, owner=None):
        seen[label] = owner
        Path(out_dir).mkdir(parents=True)
        return Path(out_dir)

    manager = JobManager(max_concurrent=1, runner=runner, configure_torch=False)
    owned = manager.submit(None, tmp_path, label="owned", owner="s1", run_owner="alice@pd")
    plain = manager.submit(None, tmp_path, label="plain", owner="s1")
    assert manager.wait(owned, timeout=5).status == "done"
    assert manager.wait(plain, timeout=5).status == "done"
    assert seen == {"owned": "alice@pd", "plain": None}


def test_the_pipeline_is_imported_when_the_first_job_starts_not_with_the_manager():
    """A server whose users only list or read runs never pays for torch, scikit-learn, glum
    and statsmodels (1.6 s of CPU at start); the first job brings them."""
    code = """
import sys
from rtm_core.runs import jobs
manager = jobs.JobManager(max_concurrent=1)
heavy = {"torch", "sklearn", "glum", "statsmodels", "rtm_core.runs.pipeline"}
assert not heavy & set(sys.modules), sorted(heavy & set(sys.modules))
assert manager.threads >= 1
jobs._default_runner()
assert heavy <= set(sys.modules), sorted(heavy - set(sys.modules))
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
