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
