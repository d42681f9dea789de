"""The process's thread budget (rtm_core.cluster): one owner, read by every parallel loop."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

import rtm_core
from rtm_core import cluster


@pytest.fixture
def restore_budget(monkeypatch):
    monkeypatch.setattr(cluster, "_process_threads", None)
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


def test_without_a_setting_the_budget_is_every_usable_core(restore_budget):
    assert cluster.process_threads() == cluster.usable_cores() >= 1


def test_setting_the_budget_sets_torch_too_and_floors_at_one(restore_budget):
    cluster.set_process_threads(1)
    assert cluster.process_threads() == 1 and torch.get_num_threads() == 1
    cluster.set_process_threads(0)
    assert cluster.process_threads() == 1


def test_parallel_loops_read_the_budget_from_the_one_owner():
    root = Path(rtm_core.__file__).parent
    readers = {
        p.relative_to(root).as_posix()
        for p in root.rglob("*.py")
        if "cpu_count(" in p.read_text() or "sched_getaffinity" in p.read_text()
    }
    assert readers == {"cluster.py"}


@pytest.mark.parametrize("threads", [1, 3])
def test_inside_a_dask_task_the_budget_is_the_workers_threads(restore_budget, threads):
    from dask.distributed import Client, LocalCluster

    with (
        LocalCluster(
            n_workers=1, threads_per_worker=threads, processes=False, dashboard_address=None
        ) as local,
        Client(local) as client,
    ):
        assert client.submit(cluster.process_threads, pure=False).result() == threads


# ------------------------------------------------------------------ helper processes


def _square_in_helper(i, flags):
    """A task in a helper process: leaves a flag, returns (pid, i * i)."""
    import os

    (flags / f"{i}").write_text("")
    return os.getpid(), i * i


def _fail_in_helper(i, flags):
    (flags / f"{i}").write_text("")
    raise ValueError(f"task {i} failed in a helper")


def _die_in_helper(i, flags):
    import os

    (flags / f"{i}").write_text("")
    os._exit(3)


def _local_after_a_helper(flags):
    """This thread's runner: waits (up to 60 s) until a helper has done one task."""
    import os
    import time

    def local(i, flags):
        deadline = time.monotonic() + 60
        while not any(flags.iterdir()) and time.monotonic() < deadline:
            time.sleep(0.05)
        return os.getpid(), i * i

    return local


def test_tasks_are_shared_with_a_helper_and_come_back_in_order(tmp_path):
    import os

    tasks = [(i, tmp_path) for i in range(8)]
    out = cluster.share_with_helpers(
        tasks, _local_after_a_helper(tmp_path), _square_in_helper, helpers=1
    )
    assert [value for _, value in out] == [i * i for i in range(8)]
    assert any(pid != os.getpid() for pid, _ in out)  # the helper ran some


def test_a_task_error_in_a_helper_is_raised_here(tmp_path):
    tasks = [(i, tmp_path) for i in range(4)]
    with pytest.raises(ValueError, match="failed in a helper"):
        cluster.share_with_helpers(
            tasks, _local_after_a_helper(tmp_path), _fail_in_helper, helpers=1
        )


def test_a_helper_that_dies_leaves_its_tasks_to_this_thread(tmp_path):
    import os

    tasks = [(i, tmp_path) for i in range(4)]
    out = cluster.share_with_helpers(
        tasks, _local_after_a_helper(tmp_path), _die_in_helper, helpers=1
    )
    assert out == [(os.getpid(), i * i) for i in range(4)]
    assert len(list(tmp_path.iterdir())) == 1  # the helper took one task, then died


def test_without_helpers_or_in_a_daemonic_process_everything_runs_here(tmp_path, monkeypatch):
    import multiprocessing
    import os

    def local(i, flags):
        return os.getpid(), i

    tasks = [(i, tmp_path) for i in range(3)]
    assert cluster.share_with_helpers(tasks, local, _die_in_helper, helpers=0) == [
        (os.getpid(), i) for i in range(3)
    ]
    monkeypatch.setattr(multiprocessing.current_process(), "daemon", True, raising=False)
    assert cluster.share_with_helpers(tasks, local, _die_in_helper, helpers=4) == [
        (os.getpid(), i) for i in range(3)
    ]
