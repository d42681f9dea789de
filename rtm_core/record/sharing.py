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

from rtm_core.errors import AccessDenied, InputError
from rtm_core.record.access import Ownership, User, decide
from rtm_core.record.audit import record_event
from rtm_core.record.folder import MANIFEST_FILE

__all__ = [
    "read_ownership",
    "change_sharing",
    "run_folder",
    "share_as",
    "write_json_atomically",
]

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


def run_folder(path: str | Path) -> Path:
    """``path`` as a run folder (it holds ``manifest.json``).

    Raises
    ------
    InputError
        It does not.
    """
    path = Path(path)
    if not (path / MANIFEST_FILE).is_file():
        raise InputError(
            str(path), None, "is not a run folder", "give a run folder (it holds manifest.json)"
        )
    return path


def share_as(
    run_dir: str | Path,
    user: User,
    *,
    add: Iterable[str] = (),
    remove: Iterable[str] = (),
    clear: bool = False,
    audit_user: str | None = None,
) -> Ownership:
    """Change a run's sharing on behalf of ``user``, if the rules let them, and audit it.

    Parameters
    ----------
    run_dir : path
        The run folder.
    user : User
        Who is acting (the owner or an admin may share).
    add, remove, clear
        As in :func:`change_sharing`.
    audit_user : str, optional
        The name the audit log gives (default ``user.label``). The event goes to
        ``audit.jsonl`` in the run's parent folder (``RTM_RUNS_DIR`` for the app's runs).

    Returns
    -------
    Ownership
        The run's ownership as written.

    Raises
    ------
    AccessDenied
        ``user`` may not share this run (nothing is changed).
    ConfigError, InputError
        As :func:`change_sharing`.
    """
    run_dir = run_folder(run_dir)
    why = decide(user, read_ownership(run_dir), "share")
    if not why:
        raise AccessDenied(str(run_dir), "share", why.reason, "ask the owner or an admin")
    new = change_sharing(run_dir, add=add, remove=remove, clear=clear)
    record_event(
        run_dir.resolve().parent,
        user=audit_user or user.label,
        role=user.role,
        action="share",
        run=run_dir.name,
        detail=new.describe(),
    )
    return new
