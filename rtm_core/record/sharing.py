"""Reading and changing who a run is shared with, in its ``manifest.json``.

The manifest is rewritten atomically: the new text goes to a temporary file beside it, is
flushed to disk, and replaces the old file in one rename, so a reader (the app listing runs,
another session) sees the old manifest or the new one, never half of one. Changes in this
process are serialised; only ``shared_with`` changes, every other key is kept as it was.
"""

from __future__ import annotations

import json
import os
import threading
import uuid
from collections.abc import Iterable
from pathlib import Path

from rtm_core.errors import InputError
from rtm_core.record.access import Ownership
from rtm_core.record.folder import MANIFEST_FILE

__all__ = ["read_ownership", "change_sharing", "write_json_atomically"]

_LOCK = threading.Lock()


def _manifest(run_dir: Path) -> dict:
    try:
        data = json.loads((run_dir / MANIFEST_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(
            str(run_dir), MANIFEST_FILE, f"unreadable ({exc})", "pick a run from the list"
        ) from None
    if not isinstance(data, dict):
        raise InputError(
            str(run_dir), MANIFEST_FILE, "is not a JSON object", "pick a run from the list"
        )
    return data


def read_ownership(run_dir: str | Path) -> Ownership:
    """The ownership recorded in a run folder's manifest (no owner when unreadable).

    Parameters
    ----------
    run_dir : path

    Returns
    -------
    Ownership
    """
    try:
        return Ownership.of(_manifest(Path(run_dir)))
    except InputError:
        return Ownership()


def write_json_atomically(path: str | Path, data: dict) -> None:
    """Write ``data`` as JSON to ``path`` through a temporary file and one rename.

    Parameters
    ----------
    path : path
    data : dict

    Raises
    ------
    OSError
        The folder cannot be written (the old file is left as it was).
    """
    path = Path(path)
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        with open(temporary, "w", encoding="utf-8") as handle:
            handle.write(json.dumps(data, indent=2, default=str))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def change_sharing(
    run_dir: str | Path,
    *,
    add: Iterable[str] = (),
    remove: Iterable[str] = (),
    clear: bool = False,
) -> Ownership:
    """Share a run with more people or roles, or with fewer.

    Parameters
    ----------
    run_dir : path
        A run folder (its ``manifest.json`` is rewritten).
    add : iterable of str
        Role names (``planners``, ``analysts``) or e-mail addresses to share with.
    remove : iterable of str
        Entries to share with no longer.
    clear : bool
        Share with no one first (then ``add``).

    Returns
    -------
    Ownership
        The run's ownership as written.

    Raises
    ------
    ConfigError
        An entry is neither a role name nor an e-mail address.
    InputError
        The folder has no readable manifest, or it cannot be written.
    """
    run_dir = Path(run_dir)
    with _LOCK:
        manifest = _manifest(run_dir)
        now = Ownership.of(manifest)
        if clear:
            now = Ownership(now.owner)
        new = now.changed(add=add, remove=remove)
        manifest["shared_with"] = list(new.shared_with)
        try:
            write_json_atomically(run_dir / MANIFEST_FILE, manifest)
        except OSError as exc:
            raise InputError(
                str(run_dir),
                MANIFEST_FILE,
                f"cannot be written ({exc.strerror or exc})",
                "check that the runs folder is writable",
            ) from None
    return new
