"""Exceptions raised by rtm_core.

Every error a user can cause is an :class:`RTMError` whose message is one line naming the
file (or object), the field and the fix. The CLI and the app show ``str(error)`` and nothing
else; tracebacks are for ``--debug``.
"""

from __future__ import annotations

__all__ = [
    "RTMError",
    "InputError",
    "ConfigError",
    "AccessDenied",
    "LimitReached",
    "FitError",
    "Cancelled",
    "NotFittedError",
]


class RTMError(Exception):
    """Base class of every error rtm_core raises on purpose."""


class InputError(RTMError, ValueError):
    """Bad data: a file, layer or column that cannot be used as given.

    Parameters
    ----------
    source : str
        The file or layer the problem is in (shown first).
    field : str or None
        The column, key or setting at fault.
    problem : str
        What is wrong, in the user's terms.
    fix : str
        What the user should do about it.
    """

    def __init__(self, source: str, field: str | None, problem: str, fix: str):
        self.source = str(source)
        self.field = field
        self.problem = problem
        self.fix = fix
        where = f"{self.source}" + (f" [{field}]" if field else "")
        super().__init__(f"{where}: {problem}. Fix: {fix}")

    def __reduce__(self):  # pickles (a Dask task's error reaches the caller as itself)
        return type(self), (self.source, self.field, self.problem, self.fix)


class ConfigError(InputError):
    """A configuration value that is missing, of the wrong type or out of range."""


class AccessDenied(InputError):
    """An action the user's role or the run's ownership does not allow (who may do what is
    :mod:`rtm_core.record.access`); ``source`` is the run, ``field`` the action."""


class LimitReached(InputError):
    """A per-user limit was reached (e.g. ``RTM_MAX_JOBS_PER_USER`` jobs queued or running)."""


class FitError(RTMError, RuntimeError):
    """A model could not be fitted on the data given (e.g. no crimes in the training period)."""


class Cancelled(RTMError):
    """Raised inside a long computation when its cancel token was set."""


class NotFittedError(RTMError, AttributeError):
    """An estimator was used before ``fit``."""


def check_cancel(cancel) -> None:
    """Raise :class:`Cancelled` if ``cancel`` (anything with ``is_set()``) is set."""
    if cancel is not None and cancel.is_set():
        raise Cancelled("cancelled by the user")
