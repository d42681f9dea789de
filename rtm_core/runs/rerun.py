"""A run folder that re-runs anywhere: its inputs under ``inputs/`` and its ``config.toml``.

Each input (a file the config names, or an app upload's bytes) is copied into
``RUN/inputs/<hash>/<file name>``, where ``<hash>`` is the first 16 hex digits of the file's
SHA-256, so the same file is kept once and its name is unchanged in messages. A shapefile
travels with its sidecar files. Files larger than ``[inputs] copy_max_mb`` are referenced by
absolute path instead (their hash is in the manifest, so a changed file is noticed). The
embedded demo is referenced as ``"<demo>"``. ``RUN/config.toml`` is the run's configuration in
the public schema with paths relative to the run folder, so
``rtm run RUN/config.toml --out NEW`` repeats the run from any directory.
"""

from __future__ import annotations

import dataclasses
import shutil
from dataclasses import dataclass
from pathlib import Path

from rtm_core.config import DEMO_PATH, LayerSource, RunConfig, load_config
from rtm_core.config.toml import config_to_toml, map_sources
from rtm_core.errors import InputError
from rtm_core.record.folder import CONFIG_FILE, INPUTS_DIR, file_hash

__all__ = [
    "KeptInput",
    "keep_inputs",
    "write_rerunnable_config",
    "load_run_config",
    "CONFIG_FILE",
    "INPUTS_DIR",
]

_SHAPEFILE_SIDECARS = (".shx", ".dbf", ".prj", ".cpg", ".qix", ".sbn", ".sbx")


@dataclass(frozen=True)
class KeptInput:
    """How one input was kept.

    Attributes
    ----------
    name : str
        The layer's name in messages (file name, plus layer).
    sha256 : str
        Hash of the input's bytes.
    kept : {"copied", "referenced", "embedded demo"}
    path : str
        Where the run's config.toml finds it (relative to the run folder when copied).
    """

    name: str
    sha256: str
    kept: str
    path: str


def _files_of(path: Path) -> list[Path]:
    """The file and, for a shapefile, its sidecars."""
    if path.suffix.lower() != ".shp":
        return [path]
    sidecars = [path.with_suffix(s) for s in _SHAPEFILE_SIDECARS]
    sidecars += [path.with_suffix(s.upper()) for s in _SHAPEFILE_SIDECARS]
    return [path, *(p for p in dict.fromkeys(sidecars) if p.is_file())]


def keep_inputs(config: RunConfig, run_dir: str | Path) -> tuple[RunConfig, list[KeptInput]]:
    """Copy (or reference) every input of ``config`` into ``run_dir/inputs``.

    Parameters
    ----------
    config : RunConfig
        The configuration the run read.
    run_dir : path
        The run folder being written (its staging folder: paths are kept relative to it).

    Returns
    -------
    config : RunConfig
        The same configuration, its sources pointing at the kept files (upload bytes dropped).
    kept : list of KeptInput
        One entry per distinct input.
    """
    run_dir = Path(run_dir)
    limit = config.inputs.copy_max_mb * 1024 * 1024
    records: dict[tuple, KeptInput] = {}

    def keep(source: LayerSource) -> LayerSource:
        if source.data is not None:  # an app upload: its bytes become a file
            digest = file_hash(data=source.data)
            name = Path(source.name or source.label or "upload").name
            target = run_dir / INPUTS_DIR / digest[:16] / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(source.data)
            record = KeptInput(source.label, digest, "copied", _relative(target, run_dir))
        elif source.path is None:
            return source
        elif Path(source.path).resolve() == DEMO_PATH.resolve():
            digest = file_hash(DEMO_PATH)
            record = KeptInput(source.label, digest, "embedded demo", "<demo>")
            target = DEMO_PATH
        else:
            path = Path(source.path)
            files = _files_of(path)
            digest = file_hash(path)
            if sum(f.stat().st_size for f in files) > limit:
                target = path.resolve()
                record = KeptInput(source.label, digest, "referenced", str(target))
            else:
                folder = run_dir / INPUTS_DIR / digest[:16]
                folder.mkdir(parents=True, exist_ok=True)
                for f in files:
                    shutil.copy2(f, folder / f.name)
                target = folder / path.name
                record = KeptInput(source.label, digest, "copied", _relative(target, run_dir))
        records.setdefault((record.name, record.sha256), record)
        return dataclasses.replace(source, path=Path(target), data=None, name=source.label)

    kept_config = map_sources(config, keep)
    return kept_config, list(records.values())


def _relative(path: Path, run_dir: Path) -> str:
    return path.relative_to(run_dir).as_posix()


def write_rerunnable_config(config: RunConfig, run_dir: str | Path) -> list[KeptInput]:
    """Keep the inputs of ``config`` in ``run_dir`` and write ``run_dir/config.toml``.

    Parameters
    ----------
    config : RunConfig
    run_dir : path

    Returns
    -------
    list of KeptInput
        For the manifest (``inputs_kept``).
    """
    run_dir = Path(run_dir)
    kept_config, kept = keep_inputs(config, run_dir)
    header = (
        "# The configuration of this run, in the public `rtm` schema. Repeat the run from any\n"
        "# directory with:  rtm run config.toml --out NEW_RUN   (paths are relative to here)\n"
    )
    text = config_to_toml(kept_config, base=run_dir)
    (run_dir / CONFIG_FILE).write_text(header + text, encoding="utf-8")
    return kept


def load_run_config(run_dir: str | Path) -> RunConfig:
    """The configuration kept in a run folder, ready to run again.

    Parameters
    ----------
    run_dir : path
        A run folder written by this version or later (it holds ``config.toml``).

    Returns
    -------
    RunConfig

    Raises
    ------
    InputError
        The folder has no ``config.toml`` (a run written before run folders kept it).
    ConfigError
        The kept config no longer reads (e.g. a referenced large input was moved).
    """
    path = Path(run_dir) / CONFIG_FILE
    if not path.is_file():
        raise InputError(
            str(Path(run_dir).name),
            CONFIG_FILE,
            "this run folder keeps no config (written before runs kept their inputs)",
            "start it again from the Train page, or with `rtm run CONFIG.toml`",
        )
    return load_config(path)
