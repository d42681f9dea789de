"""Faults: a crash inside training, cancel, a kill mid-write, corrupted run folders, an
unwritable output folder and a full disk. None of them may leave a run that looks finished,
swallow the error, or lose an earlier run.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest

from rtm_core.cli import main
from rtm_core.config import load_config
from rtm_core.errors import Cancelled, FitError, InputError, RTMError
from rtm_core.record.folder import REQUIRED_FILES, list_runs, load_run
from rtm_core.results.report import render_report
from rtm_core.runs.pipeline import run_pipeline
from tests.hardening.conftest import MeanForest, fast

ROOT = Path(__file__).resolve().parents[2]


def _only_manifest(folder: Path) -> dict:
    assert [p.name for p in folder.iterdir()] == ["manifest.json"]
    return json.loads((folder / "manifest.json").read_text())


def _no_staging(parent: Path) -> None:
    assert not [p.name for p in parent.iterdir() if p.name.startswith(".")]


@pytest.fixture(autouse=True)
def quick_baselines(monkeypatch):
    """These tests are about faults: a stand-in for the slow gradient-boosting baseline."""
    monkeypatch.setattr("rtm_core.runs.pipeline.ForestBaseline", MeanForest)


@pytest.fixture
def config_path(synth_city: Path) -> Path:
    return fast(synth_city)


@pytest.fixture(scope="module")
def complete_run(synth_template: Path, tmp_path_factory) -> Path:
    """One complete run folder of the synthetic city (copy it before changing it)."""
    folder = tmp_path_factory.mktemp("complete")
    shutil.copytree(synth_template, folder / "city")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("rtm_core.runs.pipeline.ForestBaseline", MeanForest)
        return run_pipeline(load_config(fast(folder / "city")), folder / "runs" / "complete")


# ------------------------------------------------------------------ exception in training


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (RuntimeError("injected crash"), "internal error (RuntimeError: injected crash)"),
        (
            FitError("DeepRTM: the loss diverged. Fix: lower the learning rate"),
            "DeepRTM: the loss diverged. Fix: lower the learning rate",
        ),
    ],
    ids=["bug", "fit-error"],
)
def test_exception_inside_training_leaves_a_failed_run(
    config_path, tmp_path, monkeypatch, error, expected
):
    from rtm_core.models import dl

    def broken_fit(self, *args, **kwargs):
        raise error

    monkeypatch.setattr(dl.DeepRTM, "fit", broken_fit)
    runs = tmp_path / "runs"
    with pytest.raises(type(error)):
        run_pipeline(load_config(config_path), runs / "r1")

    manifest = _only_manifest(runs / "r1")
    assert manifest["status"] == "failed" and manifest["error"] == expected
    assert manifest["config"]["model"]["kinds"] == ["dl"]  # what was asked is kept
    (info,) = list_runs(runs)
    assert (info.name, info.status, info.problem) == ("r1", "failed", expected)
    with pytest.raises(InputError, match=r"r1: run is failed \(.*\)\. Fix: delete it or re-run"):
        load_run(runs / "r1")
    _no_staging(runs)


def test_crash_inside_training_through_the_cli_is_one_line(
    config_path, tmp_path, monkeypatch, capsys
):
    from rtm_core.models import dl

    def broken_fit(self, *args, **kwargs):
        raise ZeroDivisionError("injected")

    monkeypatch.setattr(dl.DeepRTM, "fit", broken_fit)
    code = main(["run", str(config_path), "--out", str(tmp_path / "r"), "--quiet"])
    err = capsys.readouterr().err
    assert code == 1
    assert err == "rtm: internal error: ZeroDivisionError: injected (rerun with --debug)\n"
    assert _only_manifest(tmp_path / "r")["status"] == "failed"


# ---------------------------------------------------------------------------- cancel


@pytest.mark.parametrize("phase", ["data", "features", "baselines", "dl", "evaluate"])
def test_cancel_leaves_nothing(config_path, tmp_path, phase):
    runs = tmp_path / "runs"
    earlier = runs / "earlier"
    earlier.mkdir(parents=True)
    (earlier / "manifest.json").write_text('{"status": "failed", "error": "x"}')
    cancel = threading.Event()
    seen = []

    def progress(report):
        seen.append(report.phase)
        if report.phase == phase:
            cancel.set()

    with pytest.raises(Cancelled):
        run_pipeline(load_config(config_path), runs / "r1", progress=progress, cancel=cancel)

    assert phase in seen and "done" not in seen
    assert sorted(p.name for p in runs.iterdir()) == ["earlier"]  # no run, no staging
    assert [r.name for r in list_runs(runs)] == ["earlier"]


# ------------------------------------------------------------------- killed mid-write

KILLER = """
import os, signal, sys
import rtm_core.runs.pipeline
from tests.hardening.conftest import MeanForest
rtm_core.runs.pipeline.ForestBaseline = MeanForest
import {module} as target

def die(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)

target.{name} = die
from rtm_core.config import load_config
from rtm_core.runs.pipeline import run_pipeline
run_pipeline(load_config(sys.argv[1]), sys.argv[2])
"""


@pytest.mark.parametrize(
    ("module", "name"),
    [
        ("rtm_core.runs.outputs", "write_report"),  # every other file written, manifest included
        ("geopandas.GeoDataFrame", "to_file"),  # the first file, units.gpkg
    ],
    ids=["before-report", "before-units"],
)
def test_kill_mid_write_leaves_no_finished_looking_run(config_path, tmp_path, module, name):
    runs = tmp_path / "runs"
    parent_module, _, attribute = module.rpartition(".")
    if attribute[0].isupper():  # a class: patch the method on it
        script = KILLER.format(module=parent_module, name=f"{attribute}.{name}")
    else:
        script = KILLER.format(module=module, name=name)
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script), str(config_path), str(runs / "r1")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == -signal.SIGKILL, result.stderr[-2000:]

    assert not (runs / "r1").exists()
    (staging,) = [p for p in runs.iterdir() if p.name.startswith(".staging-r1-")]
    if name == "write_report":  # killed a moment before the rename: still not a run
        assert json.loads((staging / "manifest.json").read_text())["status"] == "complete"
    assert list_runs(runs) == []

    # a later run to the same place still works, and the leftover does not disturb it
    run_pipeline(load_config(config_path), runs / "r1")
    (info,) = list_runs(runs)
    assert (info.name, info.status) == ("r1", "complete")
    assert (runs / "r1" / "report.html").is_file()


def test_kill_while_writing_features_keeps_the_earlier_file(config_path, tmp_path):
    out = tmp_path / "factors.parquet"
    out.write_bytes(b"earlier output")
    script = """
        import os, signal, sys
        os.replace = lambda *a, **k: os.kill(os.getpid(), signal.SIGKILL)
        from rtm_core.cli import main
        main(["features", sys.argv[1], "--out", sys.argv[2]])
    """
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script), str(config_path), str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == -signal.SIGKILL, result.stderr[-2000:]
    assert out.read_bytes() == b"earlier output"
    leftovers = [p.name for p in tmp_path.iterdir() if p.name != "city" and p != out]
    assert all(n.startswith(".factors.partial-") for n in leftovers), leftovers


# -------------------------------------------------------------- corrupted run folders


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


CORRUPTIONS = {
    "manifest-not-json": (
        lambda run: (run / "manifest.json").write_text("{not json"),
        r"manifest\.json unreadable",
    ),
    "manifest-not-an-object": (
        lambda run: (run / "manifest.json").write_text("[1, 2, 3]"),
        r"manifest\.json unreadable \(manifest is not an object\)",
    ),
    "manifest-wrong-types": (
        lambda run: (run / "manifest.json").write_text(
            json.dumps({"created": "yesterday", "models": 5, "config": [], "status": "complete"})
        ),
        r"unreadable \(could not convert string to float: 'yesterday'\)",
    ),
    "manifest-missing": (
        lambda run: (run / "manifest.json").unlink(),
        r"manifest\.json unreadable",
    ),
    "coefficients-missing": (
        lambda run: (run / "coefficients.csv").unlink(),
        r"missing coefficients\.csv",
    ),
    "units-truncated": (lambda run: _truncate(run / "units.gpkg"), r"units\.gpkg is truncated"),
    "units-empty": (
        lambda run: (run / "units.gpkg").write_bytes(b""),
        r"units\.gpkg is not a GeoPackage",
    ),
    "units-not-gpkg": (
        lambda run: (run / "units.gpkg").write_text("PK this is a zip now"),
        r"units\.gpkg is not a GeoPackage",
    ),
    "metrics-not-json": (
        lambda run: (run / "metrics.json").write_text('{"dl": '),
        r"metrics\.json unreadable",
    ),
}


@pytest.mark.parametrize("kind", list(CORRUPTIONS))
def test_corrupted_run_is_listed_as_damaged(complete_run, tmp_path, kind):
    corrupt, problem = CORRUPTIONS[kind]
    runs = tmp_path / "runs"
    shutil.copytree(complete_run, runs / "good")
    shutil.copytree(complete_run, runs / "broken")
    corrupt(runs / "broken")

    listed = {r.name: r for r in list_runs(runs)}
    assert listed["good"].status == "complete"
    assert listed["broken"].status == "damaged"
    assert pd.Series([listed["broken"].problem]).str.contains(problem).all(), listed["broken"]
    with pytest.raises(
        InputError, match=r"broken: run is damaged \(.*\)\. Fix: delete it or re-run"
    ):
        load_run(runs / "broken")
    with pytest.raises(InputError, match=r"run is damaged"):
        render_report(runs / "broken")
    assert load_run(runs / "good").units.shape[0] > 0  # the others still open


def test_every_required_file_is_checked(complete_run, tmp_path):
    for name in REQUIRED_FILES:
        run = tmp_path / name
        shutil.copytree(complete_run, run)
        (run / name).unlink()
    listed = {r.name: r.status for r in list_runs(tmp_path)}
    assert listed == dict.fromkeys(REQUIRED_FILES, "damaged")


def test_unreadable_optional_table_is_a_clear_error(complete_run, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(complete_run, run)
    (run / "curves.csv").write_bytes(b'model,share\n"dl,0.1\n' + b"\xff\xfe" * 50)
    with pytest.raises(InputError, match=r"run \[curves\.csv\]: run file unreadable .*Fix:"):
        load_run(run)


# ------------------------------------------------------------- unwritable output folder


def _blocked_parents(tmp_path: Path) -> list[Path]:
    """Output folders that cannot be created, for root too (chmod does not stop root)."""
    a_file = tmp_path / "not-a-folder"
    a_file.write_text("a file where a folder should be")
    parents = [a_file, a_file / "deeper"]
    if Path("/proc/self").is_dir():
        parents.append(Path("/proc/rtm-cannot-write-here"))
    return parents


def test_unwritable_output_folder_for_a_run(config_path, tmp_path, capsys):
    for parent in _blocked_parents(tmp_path):
        with pytest.raises(InputError, match=r"\[--out\]: cannot write here \(.+\)\. Fix: choose"):
            run_pipeline(load_config(config_path), parent / "run")
        code = main(["run", str(config_path), "--out", str(parent / "run"), "--quiet"])
        err = capsys.readouterr().err
        assert code == 2 and err.count("\n") == 1, err
        assert f"{parent} [--out]: cannot write here" in err and "Fix: choose a writable" in err
    assert (tmp_path / "not-a-folder").read_text() == "a file where a folder should be"


def test_unwritable_output_folder_for_features(config_path, tmp_path, capsys):
    for parent in _blocked_parents(tmp_path):
        code = main(["features", str(config_path), "--out", str(parent / "factors.parquet")])
        err = capsys.readouterr().err
        assert code == 2 and err.count("\n") == 1, err
        assert "[--out]: cannot be used as the output folder" in err, err
        assert "Fix: choose a writable folder" in err


# ----------------------------------------------------------------------- disk full


def _disk_full(path, *args, **kwargs):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))


def test_disk_full_during_a_run_is_reported(config_path, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(gpd.GeoDataFrame, "to_file", lambda self, path, *a, **k: _disk_full(path))
    runs = tmp_path / "runs"
    (runs / "earlier").mkdir(parents=True)
    (runs / "earlier" / "manifest.json").write_text('{"status": "failed", "error": "old"}')

    with pytest.raises(RTMError) as info:
        run_pipeline(load_config(config_path), runs / "r1")
    message = str(info.value)
    assert message == (
        f"{runs / 'r1'} [--out]: writing the run failed (No space left on device: units.gpkg). "
        "Fix: free disk space or choose a writable folder, then run again"
    )
    _no_staging(runs)
    listed = {r.name: r for r in list_runs(runs)}
    assert listed["r1"].status == "failed" and listed["r1"].problem == message
    assert listed["earlier"].problem == "old"

    code = main(["run", str(config_path), "--out", str(runs / "r2"), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "No space left on device" in err
    _no_staging(runs)


def test_disk_full_while_writing_features(config_path, tmp_path, monkeypatch, capsys):
    def half_then_full(self, path, *args, **kwargs):
        Path(path).write_bytes(b"PAR1 half a file")
        _disk_full(path)

    monkeypatch.setattr(pd.DataFrame, "to_parquet", half_then_full)
    monkeypatch.setattr(gpd.GeoDataFrame, "to_parquet", half_then_full)
    out = tmp_path / "out" / "factors.parquet"
    out.parent.mkdir()
    out.write_bytes(b"earlier output")
    code = main(["features", str(config_path), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1, err
    assert err == (
        f"rtm: error: {out} [--out]: could not be written (No space left on device). "
        "Fix: free disk space or choose a writable folder\n"
    )
    assert out.read_bytes() == b"earlier output"
    assert [p.name for p in out.parent.iterdir()] == ["factors.parquet"]  # no half file
