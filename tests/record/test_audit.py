"""The audit log (rtm_core.record.audit): append-only JSON lines, one per event."""

from __future__ import annotations

import json
import stat
import threading

import pytest

from rtm_core.record.audit import AUDIT_FILE, MAX_TEXT, read_events, record_event


def test_events_are_appended_as_json_lines_and_read_newest_first(tmp_path):
    record_event(tmp_path, user="ada@pd", role="admin", action="login", now=0)
    record_event(
        tmp_path, user="bob@pd", role="analyst", action="denied", run="run-a", detail="x", now=60
    )
    lines = (tmp_path / AUDIT_FILE).read_text().splitlines()
    assert [json.loads(line) for line in lines] == [
        {
            "time": "1970-01-01T00:00:00Z",
            "user": "ada@pd",
            "role": "admin",
            "action": "login",
            "run": "",
            "detail": "",
        },
        {
            "time": "1970-01-01T00:01:00Z",
            "user": "bob@pd",
            "role": "analyst",
            "action": "denied",
            "run": "run-a",
            "detail": "x",
        },
    ]
    events = read_events(tmp_path)
    assert [e.action for e in events] == ["denied", "login"]
    assert [e.action for e in read_events(tmp_path, limit=1)] == ["denied"]
    assert stat.S_IMODE((tmp_path / AUDIT_FILE).stat().st_mode) & 0o007 == 0  # not world-readable


def test_a_crafted_name_cannot_forge_a_second_event(tmp_path):
    forged = 'x"}\n{"time": "2020", "user": "ada@pd", "action": "share"}'
    record_event(tmp_path, user="eve@pd", role=None, action="denied", detail=forged + "y" * 999)
    (event,) = read_events(tmp_path)
    assert len((tmp_path / AUDIT_FILE).read_text().splitlines()) == 1
    assert event.user == "eve@pd" and event.role == "" and "\n" not in event.detail
    assert len(event.detail) == MAX_TEXT


def test_unreadable_lines_are_skipped_and_a_missing_log_is_empty(tmp_path):
    assert read_events(tmp_path) == []
    record_event(tmp_path, user="a@pd", role="analyst", action="open", run="r")
    with open(tmp_path / AUDIT_FILE, "a") as handle:
        handle.write('{"time": "torn\n[1, 2]\n')
    assert [e.run for e in read_events(tmp_path)] == ["r"]


def test_writers_on_many_threads_lose_no_event(tmp_path):
    def write(k):
        for i in range(25):
            record_event(tmp_path, user=f"u{k}@pd", role="analyst", action="export", run=str(i))

    threads = [threading.Thread(target=write, args=(k,)) for k in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(read_events(tmp_path)) == 100


def test_an_unknown_action_is_a_programming_error(tmp_path):
    with pytest.raises(ValueError, match="unknown audit action 'peek'"):
        record_event(tmp_path, user="a", role="admin", action="peek")
