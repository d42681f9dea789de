"""Every environment variable the project reads, and the one rule each kind is read by.

The names are spelled here only (``rtm_core`` and the app import them); operators set them for
the app, a server or ``rtm`` (README, "Settings of the app" and "Serving it to your department").

Rules:

- numbers (:func:`positive_from_env`): unset or blank means the default; anything else must be
  a positive number (a whole one where asked), else a :class:`~rtm_core.errors.ConfigError`
  naming the variable and an example;
- switches (:func:`flag_from_env`): ``1``, ``true``, ``yes``, ``on`` (any case) mean on;
  unset, blank, ``0``, ``false``, ``no``, ``off`` mean off; anything else is an error;
- text (:func:`text_from_env`) and lists of names (:func:`names_from_env`, comma-separated,
  blanks dropped) are taken as given.
"""

from __future__ import annotations

import math
import os

from rtm_core.errors import ConfigError

__all__ = [
    "ADMINS",
    "ALLOW_ANONYMOUS",
    "ANALYSTS",
    "BASEMAP",
    "DASK_SCHEDULER",
    "MALLOC_TRIM",
    "MAX_JOBS",
    "MAX_JOBS_PER_USER",
    "MAX_UPLOAD_MB",
    "PLANNERS",
    "ROLE_CLAIM",
    "RUNS_DIR",
    "SESSION_HOURS",
    "TORCH_THREADS",
    "flag_from_env",
    "names_from_env",
    "positive_from_env",
    "text_from_env",
]

#: folder of the app's run folders (default ``runs/``)
RUNS_DIR = "RTM_RUNS_DIR"
#: ``online``: the app's maps draw a Carto basemap (needs internet)
BASEMAP = "RTM_BASEMAP"
#: training jobs the app runs at once (default 2)
MAX_JOBS = "RTM_MAX_JOBS"
#: threads per job: torch, risk-factor chunks, lasso folds, forest
TORCH_THREADS = "RTM_TORCH_THREADS"
#: largest input file in MB (default 200)
MAX_UPLOAD_MB = "RTM_MAX_UPLOAD_MB"
#: a Dask scheduler address ``rtm`` sends its tasks to
DASK_SCHEDULER = "RTM_DASK_SCHEDULER"
#: the ID-token claim holding a user's groups (default ``groups``), matched against the lists below
ROLE_CLAIM = "RTM_ROLE_CLAIM"
#: comma-separated group names or e-mail addresses of the analysts
ANALYSTS = "RTM_ANALYSTS"
#: ... of the planners (read-only: the Brief of runs shared with them)
PLANNERS = "RTM_PLANNERS"
#: ... of the admins (every run, the audit log)
ADMINS = "RTM_ADMINS"
#: ``1``: serve without login on an address other than loopback (with a banner saying so)
ALLOW_ANONYMOUS = "RTM_ALLOW_ANONYMOUS"
#: training jobs (and, apart, backtests) one user may have queued or running (default 2)
MAX_JOBS_PER_USER = "RTM_MAX_JOBS_PER_USER"
#: hours a login lasts before the app asks for it again (default 8)
SESSION_HOURS = "RTM_SESSION_HOURS"
#: glibc's own variable; a Dask worker that has it trims its heap (:mod:`rtm_core.cluster`)
MALLOC_TRIM = "MALLOC_TRIM_THRESHOLD_"

_ON = {"1", "true", "yes", "on", "online"}
_OFF = {"", "0", "false", "no", "off"}


def text_from_env(name: str, default: str = "") -> str:
    """The stripped text of environment variable ``name``, or ``default`` when unset or blank.

    Parameters
    ----------
    name : str
        The variable.
    default : str
        Returned when the variable is unset or blank.

    Returns
    -------
    str
    """
    return os.environ.get(name, "").strip() or default


def names_from_env(name: str) -> tuple[str, ...]:
    """A comma-separated list of names (groups, e-mail addresses), blanks dropped.

    Parameters
    ----------
    name : str
        The variable, e.g. ``"RTM_ANALYSTS"``.

    Returns
    -------
    tuple of str
        In the order given, without duplicates; empty when unset.
    """
    parts = (part.strip() for part in text_from_env(name).split(","))
    return tuple(dict.fromkeys(part for part in parts if part))


def flag_from_env(name: str) -> bool:
    """A switch: on for ``1``/``true``/``yes``/``on``, off when unset or ``0``/``false``/...

    Parameters
    ----------
    name : str
        The variable, e.g. ``"RTM_ALLOW_ANONYMOUS"``.

    Returns
    -------
    bool

    Raises
    ------
    ConfigError
        Any other value.
    """
    raw = text_from_env(name).lower()
    if raw in _ON:
        return True
    if raw in _OFF:
        return False
    raise ConfigError(
        "environment", name, f"must be 1 or 0, got {raw!r}", f"set {name}=1 or unset it"
    )


def positive_from_env(name: str, default: float, *, whole: bool = False, example: str) -> float:
    """A positive number from environment variable ``name``, or ``default`` when unset.

    Parameters
    ----------
    name : str
        The variable, e.g. ``"RTM_MAX_JOBS"``.
    default : float
        Returned when the variable is unset or blank.
    whole : bool, default False
        Ask for a positive integer (``"2.5"`` is refused) instead of any positive number.
    example : str
        A good value, for the fix in the error (e.g. ``"200"``).

    Returns
    -------
    float or int
        The value (an ``int`` when ``whole``), or ``default``.

    Raises
    ------
    ConfigError
        The variable is set but is not a positive (whole) number.
    """
    raw = text_from_env(name)
    if not raw:
        return default
    try:
        value = int(raw) if whole else float(raw)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        kind = "integer" if whole else "number"
        raise ConfigError(
            "environment", name, f"must be a positive {kind}, got {raw!r}", f"e.g. {example}"
        )
    return value
