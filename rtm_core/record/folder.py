"""Run folders: their file names, atomic writes, listing, loading and deleting.

A run is written into a hidden staging folder beside its final place and renamed when every
file is complete, so a cancelled, failed or killed run never looks finished. A run folder
holds ``manifest.json`` (config, input hashes, versions, seeds, device, timings, status; see
:mod:`rtm_core.record.manifest`), ``coefficients.csv``, ``units.gpkg``, ``metrics.json``,
``curves.csv``, ``conjunctive.csv``, ``stability.csv``, ``top_places.csv``, ``variables.csv``,
``comparison.csv``, ``calibration.csv`` (both absent from folders written before them),
``report.html``, ``config.toml`` and ``inputs/`` (and ``incidents.csv`` only when the analyst
opted in to incident locations in the report; ``places.gpkg``, the named areas, when the run
has place names). The names are spelled here only; the files are written by
:func:`rtm_core.runs.outputs.write_run` and read by :func:`load_run`.
A write that fails (disk full, read-only folder) is reported as an :class:`InputError` and
leaves no staging folder; a folder that is not a complete run is listed as "damaged".
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd

from rtm_core.errors import InputError
from rtm_core.io.gdal import read_vector
from rtm_core.record.manifest import Manifest, RunFiles, environment, presence_column

__all__ = [
    "RunInfo",
    "RunFiles",
    "staged_run",
    "write_failed_run",
    "holds_failed_run",
    "list_runs",
    "load_run",
    "delete_run",
    "file_hash",
    "new_run_name",
    "REQUIRED_FILES",
    "environment",
    "presence_column",
]

MANIFEST_FILE = "manifest.json"
COEFFICIENTS_FILE = "coefficients.csv"
UNITS_FILE = "units.gpkg"
UNITS_LAYER = "units"
METRICS_FILE = "metrics.json"
CURVES_FILE = "curves.csv"
CONJUNCTIVE_FILE = "conjunctive.csv"
STABILITY_FILE = "stability.csv"
TOP_PLACES_FILE = "top_places.csv"
VARIABLES_FILE = "variables.csv"
REPORT_FILE = "report.html"
CONFIG_FILE = "config.toml"  # the run's config in the public schema (rtm_core.runs.rerun)
INPUTS_DIR = "inputs"  # the inputs it read, by content hash
INCIDENTS_FILE = "incidents.csv"  # crime points, only when the analyst opted in (report)
PLACES_FILE = "places.gpkg"  # named areas (beats, neighbourhoods) for the maps' labels
PLACES_LAYER = "places"
COMPARISON_FILE = "comparison.csv"  # each model against each baseline, with intervals
CALIBRATION_FILE = "calibration.csv"  # observed vs expected counts, totals and by decile
REQUIRED_FILES = (MANIFEST_FILE, COEFFICIENTS_FILE, UNITS_FILE, METRICS_FILE)
STAGING_PREFIX = ".staging-"
BACKTESTS_DIR = "backtests"  # backtests kept beside the runs (the app's Backtest page)
# a backtest folder: its manifest, table and report, and one run folder per origin under ORIGINS_DIR
BACKTEST_MANIFEST_FILE = "backtest.json"
BACKTEST_TABLE_FILE = "backtest.csv"
BACKTEST_REPORT_FILE = "backtest.html"
ORIGINS_DIR = "origins"


def file_hash(path: str | Path | None = None, data: bytes | None = None) -> str:
    """SHA-256 of a file or of bytes (hex).

    Parameters
    ----------
    path : path, optional
        The file hashed (read in blocks).
    data : bytes, optional
        Bytes hashed instead of a file.

    Returns
    -------
    str
        The hex digest.
    """
    digest = hashlib.sha256()
    if data is not None:
        digest.update(data)
    else:
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def new_run_name(prefix: str = "run") -> str:
    """A sortable, unique run folder name: ``run-YYYYmmdd-HHMMSS-xxxx``."""
    return f"{prefix}-{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:4]}"


@contextmanager
def staged_run(out_dir: str | Path) -> Iterator[Path]:
    """Write a run into a staging folder; rename it to ``out_dir`` only on success.

    Parameters
    ----------
    out_dir : path
        Final run folder; must not exist yet, or be empty, or hold a failed run (replaced
        once the new run is written). Complete runs are never overwritten.

    Yields
    ------
    Path
        The staging folder to write into.

    Raises
    ------
    InputError
        ``out_dir`` exists, its parent cannot be written, or writing failed (disk full,
        read-only folder); the staging folder is removed first.
    """
    out_dir = Path(out_dir)
    in_the_way = out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir()))
    status = _inspect(out_dir).status if in_the_way and out_dir.is_dir() else None
    replace_failed = status == "failed"
    if in_the_way and not replace_failed:
        complete = status == "complete"
        raise InputError(
            str(out_dir),
            "--out",
            "already exists and is not empty" + (" (it holds a complete run)" if complete else ""),
            "choose a new run folder (another --out) or delete it",
        )
    parent = out_dir.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        staging = parent / f"{STAGING_PREFIX}{out_dir.name}-{uuid.uuid4().hex[:8]}"
        staging.mkdir()
    except OSError as exc:
        in_the_way = isinstance(exc, FileExistsError | NotADirectoryError)
        reason = "a file is in the way" if in_the_way else exc.strerror
        raise InputError(
            str(parent), "--out", f"cannot write here ({reason})", "choose a writable folder"
        ) from None
    try:
        yield staging
        if replace_failed and out_dir.exists():
            _remove_failed_run(out_dir, parent)
        if out_dir.exists():
            out_dir.rmdir()  # an empty folder given as --out
        os.replace(staging, out_dir)
    except OSError as exc:  # disk full, read-only, quota: report it, leave nothing half-written
        shutil.rmtree(staging, ignore_errors=True)
        name = Path(exc.filename).name if isinstance(exc.filename, str | Path) else ""
        reason = (exc.strerror or str(exc) or type(exc).__name__) + (f": {name}" if name else "")
        raise InputError(
            str(out_dir),
            "--out",
            f"writing the run failed ({reason})",
            "free disk space or choose a writable folder, then run again",
        ) from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def holds_failed_run(out_dir: str | Path) -> bool:
    """Whether ``out_dir`` holds a failed run (its manifest says status "failed").

    Such a folder does not block a new run into the same ``--out``: :func:`staged_run`
    replaces it once the new run is written.
    """
    out_dir = Path(out_dir)
    if not (out_dir / MANIFEST_FILE).is_file():
        return False
    return _inspect(out_dir).status == "failed"


def _remove_failed_run(out_dir: Path, parent: Path) -> None:
    """Move a failed run aside (one rename, so out_dir is never half-deleted), then delete it."""
    trash = parent / f"{STAGING_PREFIX}failed-{out_dir.name}-{uuid.uuid4().hex[:8]}"
    os.replace(out_dir, trash)
    shutil.rmtree(trash, ignore_errors=True)


def write_failed_run(out_dir: str | Path, manifest: Manifest | dict, error: str) -> Path | None:
    """Record a failed run as a folder holding only its manifest (status "failed").

    Parameters
    ----------
    out_dir : path
        The run folder (left alone when it holds a complete run).
    manifest : Manifest or dict
        What the run recorded before it failed.
    error : str
        Why it failed (one line).

    Returns
    -------
    Path or None
        ``out_dir``, or None when nothing could be written there.
    """
    out_dir = Path(out_dir)
    if isinstance(manifest, Manifest):
        record = manifest.updated(status="failed", error=error).to_json()
    else:
        record = dict(manifest, status="failed", error=error)
    try:
        with staged_run(out_dir) as staging:
            (staging / MANIFEST_FILE).write_text(json.dumps(record, indent=2, default=str))
    except (InputError, OSError):
        return None
    return out_dir


@dataclass(frozen=True)
class RunInfo:
    """One run folder as listed on the Runs page.

    Attributes
    ----------
    path : Path
    name : str
    status : {"complete", "failed", "damaged"}
    created : float
        Seconds since the epoch.
    label : str
        The analyst's label, else the config source.
    models : tuple of str
    problem : str
        Why a run is damaged or failed.
    manifest : dict
    """

    path: Path
    name: str
    status: str
    created: float
    label: str
    models: tuple[str, ...]
    problem: str
    manifest: dict


def _inspect(path: Path) -> RunInfo:
    """Status of one run folder; anything unexpected in it makes it "damaged", never raises."""
    try:
        return _inspect_files(path)
    except Exception as exc:  # odd manifest types, unreadable files: list it, do not crash
        try:
            created = path.stat().st_mtime
        except OSError:
            created = 0.0
        return RunInfo(
            path, path.name, "damaged", created, path.name, (), f"unreadable ({exc})", {}
        )


def _gpkg_problem(path: Path) -> str:
    """Why a GeoPackage is unusable (not SQLite, truncated), from its header only; "" if fine."""
    with open(path, "rb") as handle:
        head = handle.read(100)
    if len(head) < 100 or not head.startswith(b"SQLite format 3\x00"):
        return f"{path.name} is not a GeoPackage"
    page_size = int.from_bytes(head[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(head[28:32], "big")
    size = path.stat().st_size
    header_valid = head[24:28] == head[92:96]  # else SQLite ignores the page count
    if (header_valid and size < page_size * pages) or (page_size and size % page_size):
        return f"{path.name} is truncated"
    return ""


def _inspect_files(path: Path) -> RunInfo:
    created = path.stat().st_mtime
    try:
        manifest = json.loads((path / MANIFEST_FILE).read_text(encoding="utf-8"))
        if not isinstance(manifest, dict):
            raise ValueError("manifest is not an object")
        Manifest.from_json(manifest)  # a newer schema: say so
    except (OSError, ValueError) as exc:
        return RunInfo(
            path,
            path.name,
            "damaged",
            created,
            path.name,
            (),
            f"manifest.json unreadable ({exc})",
            {},
        )
    config = manifest.get("config")
    source = config.get("source", path.name) if isinstance(config, dict) else path.name
    label = str(manifest.get("label") or source)
    models = manifest.get("models", ())
    models = tuple(str(m) for m in models) if isinstance(models, list | tuple) else ()
    created = float(manifest.get("created", created))
    if manifest.get("status") == "failed":
        return RunInfo(
            path,
            path.name,
            "failed",
            created,
            label,
            models,
            str(manifest.get("error", "")),
            manifest,
        )
    missing = [f for f in REQUIRED_FILES if not (path / f).is_file()]
    problem = f"missing {', '.join(missing)}" if missing else _gpkg_problem(path / UNITS_FILE)
    if not problem:
        try:
            json.loads((path / METRICS_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            problem = f"metrics.json unreadable ({exc})"
    if problem:
        return RunInfo(path, path.name, "damaged", created, label, models, problem, manifest)
    return RunInfo(path, path.name, "complete", created, label, models, "", manifest)


def list_runs(parent: str | Path) -> list[RunInfo]:
    """Every run folder under ``parent``, newest first; staging and backtest folders skipped."""
    parent = Path(parent)
    if not parent.is_dir():
        return []
    runs = [
        _inspect(p)
        for p in parent.iterdir()
        if p.is_dir() and not p.name.startswith(".") and p.name != BACKTESTS_DIR
    ]
    return sorted(runs, key=lambda r: r.created, reverse=True)


def _csv(path: Path, dtype: dict | None = None) -> pd.DataFrame:
    try:
        return pd.read_csv(path, dtype=dtype, keep_default_na=False, na_values=[""])
    except (OSError, pd.errors.EmptyDataError):  # optional files may be missing or empty
        return pd.DataFrame()
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        first = str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__
        raise InputError(
            str(path.parent), path.name, f"run file unreadable ({first})", "delete it or re-run"
        ) from None


def load_run(path: str | Path) -> RunFiles:
    """Load a complete run folder (of this schema, or written before, see
    :mod:`rtm_core.record.manifest`).

    Raises
    ------
    InputError
        The folder is not a complete run (damaged or failed).
    """
    path = Path(path)
    info = _inspect(path)
    if info.status != "complete":
        raise InputError(
            str(path), None, f"run is {info.status} ({info.problem})", "delete it or re-run"
        )
    try:
        metrics = json.loads((path / METRICS_FILE).read_text(encoding="utf-8"))
        units = read_vector(path / UNITS_FILE, use_arrow=True)
    except Exception as exc:
        raise InputError(
            str(path), None, f"run files unreadable ({exc})", "delete it or re-run"
        ) from None
    return RunFiles(
        path=path,
        manifest=info.manifest,
        # text columns stay text when every value is empty (a model that kept no factor)
        coefficients=_csv(path / COEFFICIENTS_FILE, {"model": str, "variable": str, "set": str}),
        metrics=metrics,
        units=units,
        curves=_csv(path / CURVES_FILE),
        conjunctive=_csv(path / CONJUNCTIVE_FILE),
        stability=_csv(path / STABILITY_FILE),
        top_places=_csv(path / TOP_PLACES_FILE),
        variables=_csv(path / VARIABLES_FILE),
        places=_places(path / PLACES_FILE),
        comparison=_optional_csv(path / COMPARISON_FILE, {"area": str}),
        calibration=_optional_csv(path / CALIBRATION_FILE),
    )


def _places(path: Path) -> gpd.GeoDataFrame | None:
    """The named areas of a run (None for a run without place names, or written before)."""
    if not path.is_file():
        return None
    try:
        return read_vector(path, layer=PLACES_LAYER)
    except Exception as exc:
        raise InputError(
            str(path.parent), path.name, f"run file unreadable ({exc})", "delete it or re-run"
        ) from None


def _optional_csv(path: Path, dtype: dict | None = None) -> pd.DataFrame | None:
    """A file that older run folders lack: None when it is not there."""
    if not path.is_file():
        return None
    try:
        return pd.read_csv(path, dtype=dtype, keep_default_na=False, na_values=[""])
    except pd.errors.EmptyDataError:
        return None
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        first = str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__
        raise InputError(
            str(path.parent), path.name, f"run file unreadable ({first})", "delete it or re-run"
        ) from None


def delete_run(path: str | Path, parent: str | Path) -> None:
    """Delete one run folder that lies directly under ``parent`` (nothing else).

    Parameters
    ----------
    path : path
        The run folder.
    parent : path
        The runs folder it must lie in.

    Raises
    ------
    InputError
        ``path`` is not a folder directly under ``parent``.
    """
    path, parent = Path(path).resolve(), Path(parent).resolve()
    if path.parent != parent or not path.is_dir():
        raise InputError(
            str(path), None, "is not a run folder of this workspace", "pick a run from the list"
        )
    shutil.rmtree(path)
