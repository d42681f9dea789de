"""Environment variables: one reader per kind, each with one rule and one message form."""

from __future__ import annotations

import pytest

from rtm_core.config.environment import (
    TORCH_THREADS,
    flag_from_env,
    names_from_env,
    positive_from_env,
    text_from_env,
)
from rtm_core.errors import ConfigError
from rtm_core.runs.jobs import JobManager, job_threads


def test_text_and_names(monkeypatch):
    monkeypatch.setenv("RTM_X", "  a@pd.example, analysts ,, a@pd.example ")
    assert text_from_env("RTM_X") == "a@pd.example, analysts ,, a@pd.example"
    assert names_from_env("RTM_X") == ("a@pd.example", "analysts")
    monkeypatch.setenv("RTM_X", "   ")
    assert text_from_env("RTM_X", "runs") == "runs" and names_from_env("RTM_X") == ()


@pytest.mark.parametrize(
    ("raw", "on"), [("1", True), ("TRUE", True), ("yes", True), ("online", True), ("0", False)]
)
def test_flags(monkeypatch, raw, on):
    monkeypatch.setenv("RTM_X", raw)
    assert flag_from_env("RTM_X") is on


def test_a_flag_that_is_neither_on_nor_off_is_refused(monkeypatch):
    monkeypatch.setenv("RTM_X", "maybe")
    with pytest.raises(ConfigError, match=r"environment \[RTM_X\]: must be 1 or 0, got 'maybe'"):
        flag_from_env("RTM_X")


def test_numbers(monkeypatch):
    monkeypatch.delenv("RTM_X", raising=False)
    assert positive_from_env("RTM_X", 3, whole=True, example="2") == 3
    monkeypatch.setenv("RTM_X", "2.5")
    with pytest.raises(ConfigError, match=r"must be a positive integer, got '2.5'\. Fix: e\.g\. 2"):
        positive_from_env("RTM_X", 3, whole=True, example="2")


def test_a_bad_torch_thread_count_is_refused_when_the_job_server_starts(monkeypatch):
    monkeypatch.setenv(TORCH_THREADS, "two")
    with pytest.raises(ConfigError, match=r"\[RTM_TORCH_THREADS\]: must be a positive integer"):
        JobManager(max_concurrent=1, configure_torch=False)
    monkeypatch.setenv(TORCH_THREADS, "3")
    assert job_threads(2) == 3 and JobManager(1, configure_torch=False).threads == 3
    monkeypatch.delenv(TORCH_THREADS)
    assert job_threads(1) >= 1
