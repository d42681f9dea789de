"""Four analysts train at once under a server-wide limit of two jobs.

Each session (owner) sees only its own jobs; the third and fourth wait in line with their
position; all four finish with their own, correct results (a queued run gives exactly what
the same config gives alone). The city is a small synthetic one (400 cells, two years): the
jobs take a second or two each, long enough for the queue to be seen, and the test no longer
spends 20 s of the suite's serial timing part training the Chicago demo five times.
"""

import dataclasses
import time

import numpy as np
import pandas as pd
import pytest

from rtm_core.config import load_config
from rtm_core.record.folder import list_runs, load_run
from rtm_core.runs.jobs import JobManager
from rtm_core.runs.pipeline import run_pipeline
from rtm_core.synth import make_city, write_city

pytestmark = pytest.mark.slow

SESSIONS = ("alice", "bob", "carol", "dan")


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    return load_config(
        write_city(make_city(3, size=4000.0, cell_size=200.0), tmp_path_factory.mktemp("city"))
    )


def _config(city, random_state: int):
    model = {"kinds": ("dl",), "seeds": 2, "burn_in_steps": 150, "prune_steps": 150}
    return city.replace(model=dataclasses.replace(city.model, **model, random_state=random_state))


@pytest.mark.timing
def test_four_sessions_with_a_limit_of_two(city, tmp_path):
    runs = tmp_path / "runs"
    manager = JobManager(max_concurrent=2)
    jobs = {
        owner: manager.submit(_config(city, 10 * i), runs, label=f"{owner}'s run", owner=owner)
        for i, owner in enumerate(SESSIONS)
    }
    seen_running, seen_positions = 0, set()
    deadline = time.time() + 300
    while time.time() < deadline:
        states = {owner: manager.status(job) for owner, job in jobs.items()}
        running = [s for s in states.values() if s.status == "running"]
        seen_running = max(seen_running, len(running))
        assert len(running) <= 2
        seen_positions |= {s.position for s in states.values() if s.status == "queued"}
        if not any(s.active for s in states.values()):
            break
        time.sleep(0.2)
    assert seen_running == 2, "the limit of two was never used"
    assert {1, 2} <= seen_positions, f"queued jobs did not show their place: {seen_positions}"

    finals = {owner: manager.wait(job, timeout=5) for owner, job in jobs.items()}
    assert {f.status for f in finals.values()} == {"done"}, [f.error for f in finals.values()]
    for owner in SESSIONS:
        (own,) = manager.jobs(owner)
        assert own.job_id == jobs[owner] and own.label == f"{owner}'s run"

    results = {owner: load_run(f.result) for owner, f in finals.items()}
    assert len({str(f.result) for f in finals.values()}) == 4
    assert len([r for r in list_runs(runs) if r.status == "complete"]) == 4
    for i, owner in enumerate(SESSIONS):
        run = results[owner]
        assert run.manifest["label"] == f"{owner}'s run"
        # what the DL trained: spawn keys 0, 1 of SeedSequence(random_state = 10 i) (the
        # manifest of schema 1 listed [10 i, 10 i + 1], true only for i = 0)
        assert (run.manifest["seeds"], run.manifest["seed_root"]) == ([0, 1], 10 * i)
    # different seeds give different fits; the same config alone gives the same fit
    risks = [results[o].units["risk_dl"].to_numpy() for o in SESSIONS]
    assert not np.allclose(risks[0], risks[1])
    alone = load_run(run_pipeline(_config(city, 30), tmp_path / "alone"))
    pd.testing.assert_series_equal(
        results["dan"].units["risk_dl"], alone.units["risk_dl"], rtol=1e-5
    )
