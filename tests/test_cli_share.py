"""``rtm share`` and ``rtm run --owner``: who owns a run and whom it is shared with, from the
command line, with the audit log beside the run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rtm_core.cli import main
from rtm_core.record.audit import read_events


@pytest.fixture
def run_dir(tmp_path):
    folder = tmp_path / "runs" / "run-a"
    folder.mkdir(parents=True)
    (folder / "manifest.json").write_text(json.dumps({"label": "a", "owner": "alice@pd.example"}))
    return folder


def shared(run_dir: Path) -> list:
    return json.loads((run_dir / "manifest.json").read_text()).get("shared_with", [])


def test_share_and_revoke_as_the_operator(run_dir, capsys):
    assert main(["share", str(run_dir), "--with", "planners", "--with", "Someone@pd"]) == 0
    assert shared(run_dir) == ["planners", "someone@pd"]
    assert capsys.readouterr().out.strip() == (
        "run-a: owned by alice@pd.example; shared with planners, someone@pd"
    )
    assert main(["share", str(run_dir), "--revoke", "--with", "planners"]) == 0
    assert shared(run_dir) == ["someone@pd"]
    assert main(["share", str(run_dir), "--revoke"]) == 0
    assert shared(run_dir) == []
    events = read_events(run_dir.parent)
    assert [e.action for e in events] == ["share"] * 3
    assert events[-1].user.startswith("operator (") and events[-1].run == "run-a"
    assert events[-1].detail == "owned by alice@pd.example; shared with planners, someone@pd"


def test_share_without_changes_prints_the_sharing(run_dir, capsys):
    assert main(["share", str(run_dir)]) == 0
    assert "owned by alice@pd.example; shared with no one" in capsys.readouterr().out
    assert read_events(run_dir.parent) == []


@pytest.mark.parametrize(
    "args, message",
    [
        (["--with", "everyone"], "'everyone' is neither a role nor an e-mail address"),
        (["--as", "bob@pd.example", "--with", "planners"], "only the run's owner or an admin"),
        (["--as", "bob", "--with", "planners"], "'bob' is not an e-mail address"),
    ],
)
def test_a_refused_share_is_one_line_and_changes_nothing(run_dir, capsys, args, message):
    assert main(["share", str(run_dir), *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("rtm: error: ") and message in err and err.count("\n") == 1
    assert shared(run_dir) == [] and read_events(run_dir.parent) == []


def test_the_owner_or_an_admin_may_share_as_themselves(run_dir, monkeypatch):
    monkeypatch.setenv("RTM_ADMINS", "ada@pd.example")
    assert main(["share", str(run_dir), "--as", "ALICE@pd.example", "--with", "analysts"]) == 0
    assert main(["share", str(run_dir), "--as", "ada@pd.example", "--with", "planners"]) == 0
    assert shared(run_dir) == ["analysts", "planners"]
    assert [(e.user, e.role) for e in read_events(run_dir.parent)] == [
        ("ada@pd.example", "admin"),
        ("alice@pd.example", "analyst"),
    ]


def test_share_needs_a_run_folder(tmp_path, capsys):
    assert main(["share", str(tmp_path), "--with", "planners"]) == 2
    assert "is not a run folder" in capsys.readouterr().err


def test_run_records_the_owner_given(tmp_path, monkeypatch, capsys):
    seen = {}

    def fake_pipeline(config, out, *, progress, label, client, owner):
        seen["owner"] = owner
        Path(out).mkdir(parents=True)
        (Path(out) / "manifest.json").write_text("{}")
        return Path(out)

    monkeypatch.setattr("rtm_core.runs.pipeline.run_pipeline", fake_pipeline)
    out = str(tmp_path / "r")
    assert main(["run", "--demo", "--out", out, "--owner", "Alice@PD.example", "--quiet"]) == 0
    assert seen == {"owner": "alice@pd.example"}
    assert main(["run", "--demo", "--out", out + "2", "--owner", "alice"]) == 2
    assert "'alice' is not an e-mail address" in capsys.readouterr().err
