"""The Train page's frictions (issue 17): only the button starts a job, an identical job asks
first, and the job cards keep their Cancel button out of the redrawn progress bar.

The job manager's runner is replaced by one that waits for its cancel token, so a job stays
running as long as a test needs it and no pipeline runs.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from rtm_app import job_cards
from rtm_core.errors import Cancelled
from rtm_core.runs import jobs

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app.py")
TRAIN = "views/3_train.py"


@pytest.fixture
def waiting_runner(monkeypatch):
    """Jobs run a fake pipeline that only waits to be cancelled; yields the started event."""
    started = threading.Event()

    def wait_for_cancel(config, out_dir, *, progress, cancel, label):
        started.set()
        while not cancel.wait(0.05):
            pass
        raise Cancelled("cancelled by the user")

    monkeypatch.setattr(jobs, "_default_runner", lambda: wait_for_cancel)
    return started


def train_page(runs_dir: Path) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    at.switch_page(TRAIN).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def start(at: AppTest) -> AppTest:
    next(b for b in at.button if b.label == "Start training").click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def my_jobs(at: AppTest) -> list[str]:
    return list(at.session_state["rtm_jobs"]) if "rtm_jobs" in at.session_state else []


def cancel_all(at: AppTest) -> None:
    from rtm_app import cache

    for job_id in my_jobs(at):
        cache.job_manager().cancel(job_id)


def test_the_train_form_is_submitted_by_its_button_only(runs_dir):
    at = train_page(runs_dir)
    (form,) = [b for b in at.main.children.values() if getattr(b, "type", "") == "form"]
    assert form.proto.form.form_id == "train_settings"
    assert form.proto.form.enter_to_submit is False  # Enter in a field starts nothing
    at.text_input[0].input("typed, then Enter").run()  # a field committed, no button pressed
    at.number_input(key="train_seeds").set_value(3).run()
    assert my_jobs(at) == [] and not at.warning
    assert any(c.value == "None yet in this session." for c in at.caption)


def test_an_identical_job_while_one_runs_asks_first(runs_dir, waiting_runner):
    at = train_page(runs_dir)
    try:
        start(at)
        assert waiting_runner.wait(10)
        assert len(my_jobs(at)) == 1
        start(at)  # the same settings again: held back, with a question
        assert len(my_jobs(at)) == 1
        (question,) = [w.value for w in at.warning if "identical job" in w.value]
        assert "already running" in question and "anyway?" in question
        next(b for b in at.button if b.label == "Don't start it").click().run()
        assert len(my_jobs(at)) == 1 and not any("identical" in w.value for w in at.warning)
        start(at)
        next(b for b in at.button if b.label == "Start it anyway").click().run()
        assert not at.exception
        assert len(my_jobs(at)) == 2
        at.number_input(key="train_seeds").set_value(3)  # submitted with the button below
        start(at)  # other settings: no question
        assert len(my_jobs(at)) == 3 and not any("identical" in w.value for w in at.warning)
    finally:
        cancel_all(at)


def test_cancel_stops_the_job_and_shows_cancelling_until_it_stops(runs_dir, waiting_runner):
    from rtm_app import cache

    at = train_page(runs_dir)
    try:
        start(at)
        assert waiting_runner.wait(10)
        at.run()
        (job_id,) = my_jobs(at)
        progress = at.get("progress")
        assert progress and "starting" in " ".join(p.proto.text for p in progress)
        next(b for b in at.button if b.label == "Cancel").click().run()
        assert not at.exception
        status = cache.job_manager().wait(job_id, timeout=10)
        assert status.status == "cancelled" and status.cancelling
        at.run()
        assert any(c.value == "Cancelled: nothing was written." for c in at.caption)
        assert not any(b.label == "Cancel" for b in at.button)
    finally:
        cancel_all(at)


def _stubborn():
    """A runner that notices its cancel token only once released, and its release."""
    release = threading.Event()

    def runner(config, out_dir, *, progress, cancel, label):
        release.wait(10)
        raise Cancelled("cancelled by the user")

    return runner, release


def _config():
    from rtm_core.config import demo_config

    return demo_config(seeds=2)


def test_a_cancelled_running_job_says_so_on_its_button():
    runner, release = _stubborn()
    manager = jobs.JobManager(max_concurrent=1, runner=runner, configure_torch=False)
    job_id = manager.submit(_config(), "unused", label="slow")
    assert manager.wait(job_id, timeout=0.2).status == "running"
    assert manager.cancel(job_id)
    assert manager.status(job_id).cancelling  # "Cancelling..." on the card, disabled
    release.set()
    assert manager.wait(job_id, timeout=10).status == "cancelled"


def test_job_titles_tell_jobs_with_the_same_label_apart():
    runner, release = _stubborn()
    manager = jobs.JobManager(max_concurrent=1, runner=runner, configure_torch=False)
    first = manager.submit(_config(), "runs", label="city")
    second = manager.submit(_config(), "runs", label="city")
    titles = {job_cards.job_title(manager.status(j)) for j in (first, second)}
    assert len(titles) == 2 and all(t.startswith("**city** · submitted ") for t in titles)
    assert [j.job_id for j in manager.active_like(_config())] == [second, first]
    assert manager.active_like(_config(), owner="someone else") == []
    assert manager.active_like(_config().replace(source="other")) == []
    for job_id in (first, second):
        manager.cancel(job_id)
    release.set()
