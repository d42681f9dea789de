"""Sharing a run (rtm_core.record.sharing): only shared_with changes, written atomically."""

from __future__ import annotations

import json
import os

import pytest

from rtm_core.errors import ConfigError, InputError
from rtm_core.record.access import Ownership
from rtm_core.record.folder import list_runs
from rtm_core.record.manifest import Manifest
from rtm_core.record.sharing import change_sharing, read_ownership


@pytest.fixture
def run_dir(tmp_path):
    folder = tmp_path / "runs" / "run-a"
    folder.mkdir(parents=True)
    manifest = {
        "schema": 2,
        "label": "a",
        "owner": "alice@pd.example",
        "status": "complete",
        "future_key": {"kept": True},
    }
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return folder


def test_sharing_changes_only_shared_with(run_dir):
    before = json.loads((run_dir / "manifest.json").read_text())
    after = change_sharing(run_dir, add=["Planners", "bob@pd.example"])
    assert after == Ownership("alice@pd.example", ("planners", "bob@pd.example"))
    written = json.loads((run_dir / "manifest.json").read_text())
    assert written == before | {"shared_with": ["planners", "bob@pd.example"]}
    assert read_ownership(run_dir) == after
    assert Manifest.from_json(written).shared_with == ("planners", "bob@pd.example")
    assert change_sharing(run_dir, remove=["planners"]).shared_with == ("bob@pd.example",)
    assert change_sharing(run_dir, clear=True).shared_with == ()
    assert sorted(os.listdir(run_dir)) == ["manifest.json"]  # no temporary file left


def test_a_bad_entry_changes_nothing(run_dir):
    before = (run_dir / "manifest.json").read_bytes()
    with pytest.raises(ConfigError, match="'everyone' is neither a role nor an e-mail"):
        change_sharing(run_dir, add=["planners", "everyone"])
    assert (run_dir / "manifest.json").read_bytes() == before


def test_a_failed_write_leaves_the_old_manifest(run_dir, monkeypatch):
    before = (run_dir / "manifest.json").read_bytes()

    def no_rename(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", no_rename)
    with pytest.raises(InputError, match="cannot be written \\(No space left on device\\)"):
        change_sharing(run_dir, add=["planners"])
    assert (run_dir / "manifest.json").read_bytes() == before
    assert sorted(os.listdir(run_dir)) == ["manifest.json"]


def test_a_folder_without_a_manifest_has_no_owner_and_cannot_be_shared(tmp_path):
    assert read_ownership(tmp_path) == Ownership()
    with pytest.raises(InputError, match="manifest.json"):
        change_sharing(tmp_path, add=["planners"])


def test_a_shared_run_is_still_listed_as_before(run_dir):
    change_sharing(run_dir, add=["planners"])
    (info,) = list_runs(run_dir.parent)
    assert info.label == "a" and info.manifest["shared_with"] == ["planners"]
