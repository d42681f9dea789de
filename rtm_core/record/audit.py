"""The audit log: ``RTM_RUNS_DIR/audit.jsonl``, append-only, one JSON object per event.

Each event records ``time`` (UTC, ISO 8601), ``user`` (an e-mail, or ``local``/``anonymous``/
``operator``), ``role``, ``action`` (one of :data:`AUDIT_ACTIONS`), ``run`` (a run folder's
name, or ``""``) and ``detail`` (a short note such as the file exported or the new sharing):
who did what to which run, never a file's contents. Text is cut to one line of at most
:data:`MAX_TEXT` characters, so a crafted name cannot forge a second event or bloat the log.

Events are only ever appended, each with one ``write`` on a file opened for appending (so
lines from the app and the ``rtm`` command do not interleave), and the file is created
readable by its owner and group only. Lines that do not read back (a torn write, an edit by
hand) are skipped by :func:`read_events`, never fatal.
"""

from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path

__all__ = ["AUDIT_FILE", "AUDIT_ACTIONS", "MAX_TEXT", "AuditEvent", "record_event", "read_events"]

AUDIT_FILE = "audit.jsonl"
#: what is recorded: a login, an action refused, a run opened, a file exported, a run's
#: sharing changed, a run deleted, a run (or backtest) started
AUDIT_ACTIONS = ("login", "denied", "open", "export", "share", "delete", "run")
MAX_TEXT = 300
_LOCK = threading.Lock()


def _one_line(value: object) -> str:
    text = " ".join(str(value if value is not None else "").split())
    return text[:MAX_TEXT]


@dataclass(frozen=True)
class AuditEvent:
    """One line of the audit log.

    Attributes
    ----------
    time : str
        UTC, ``YYYY-mm-ddTHH:MM:SSZ``.
    user, role, action, run, detail : str
        As described in the module docstring (``role`` is ``""`` for a user without one).
    """

    time: str
    user: str
    role: str
    action: str
    run: str = ""
    detail: str = ""


def record_event(
    runs_dir: str | Path,
    *,
    user: str,
    role: str | None,
    action: str,
    run: str = "",
    detail: str = "",
    now: float | None = None,
) -> AuditEvent:
    """Append one event to ``runs_dir/audit.jsonl`` (the folder is made when missing).

    Parameters
    ----------
    runs_dir : path
        The runs folder (``RTM_RUNS_DIR``).
    user : str
        Who acted.
    role : str or None
        Their role.
    action : str
        One of :data:`AUDIT_ACTIONS`.
    run : str
        The run folder's name (not its path), or ``""``.
    detail : str
        A short note (file name, sharing, reason refused).
    now : float, optional
        Seconds since the epoch (default: the time now).

    Returns
    -------
    AuditEvent
        The event written.

    Raises
    ------
    ValueError
        ``action`` is not one of :data:`AUDIT_ACTIONS` (a programming error).
    OSError
        The log cannot be written (the caller decides whether that stops the action).
    """
    if action not in AUDIT_ACTIONS:
        raise ValueError(f"unknown audit action {action!r}; use one of {AUDIT_ACTIONS}")
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() if now is None else now))
    event = AuditEvent(
        stamp, _one_line(user), _one_line(role or ""), action, _one_line(run), _one_line(detail)
    )
    line = (json.dumps(asdict(event), ensure_ascii=False) + "\n").encode("utf-8")
    folder = Path(runs_dir)
    folder.mkdir(parents=True, exist_ok=True)
    with _LOCK:
        handle = os.open(folder / AUDIT_FILE, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        try:
            os.write(handle, line)
        finally:
            os.close(handle)
    return event


def read_events(runs_dir: str | Path, *, limit: int | None = None) -> list[AuditEvent]:
    """The events of ``runs_dir/audit.jsonl``, newest first.

    Parameters
    ----------
    runs_dir : path
    limit : int, optional
        At most this many (the newest).

    Returns
    -------
    list of AuditEvent
        Empty when there is no log yet; lines that are not an event are skipped.
    """
    path = Path(runs_dir) / AUDIT_FILE
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return []
    events = []
    for line in reversed(lines):
        try:
            data = json.loads(line)
            event = AuditEvent(**{f.name: str(data.get(f.name, "")) for f in fields(AuditEvent)})
        except (ValueError, TypeError, AttributeError):
            continue
        events.append(event)
        if limit is not None and len(events) >= limit:
            break
    return events
