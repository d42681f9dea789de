"""Settings read from environment variables (limits an operator sets for the app or a server).

One rule for all of them: unset or blank means the default; anything else must be a positive
number (a whole one where asked), else a :class:`~rtm_core.errors.ConfigError` that names the
variable and an example.
"""

from __future__ import annotations

import math
import os

from rtm_core.errors import ConfigError

__all__ = ["positive_from_env"]


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
    raw = os.environ.get(name, "").strip()
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
