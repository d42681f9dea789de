"""The one set of small validators behind every door a setting comes in by.

The TOML parser (:mod:`rtm_core.config.parsing`), the ``rtm`` command's overrides, the app's
data set and settings builders and the estimators' parameter checks all call these, so one
mistake gets one error class everywhere:

- :class:`~rtm_core.errors.ConfigError` for a bad setting (a value of the wrong type, out of
  range, not among the choices; repeated or implausible bandwidths; a bool where a number
  is meant, which Python would silently take as 0 or 1);
- :class:`~rtm_core.errors.InputError` is left to bad *data* (files, layers, columns, a
  malformed :class:`~rtm_core.models.design.Design`). Crime counts handed to an estimator's
  ``fit`` are an argument like its settings: a wrong length or a negative count is a
  ConfigError in every model and baseline.

Every message has the shape ``SOURCE [FIELD]: must be <what>, got <value>. Fix: <fix>``:
``source`` is where the value came from (the TOML file, ``rtm``, the app's form, the
estimator) and ``field`` the setting as that door names it (``model.seeds``, ``--seeds``,
``n_seeds``). Where a door has always worded the requirement its own way (the TOML's and the
CLI's ``must be > 0``), it passes ``expected=`` and keeps its words; the rule is still this
module's. Whole settings sections, however they were built, are checked with these by
:mod:`rtm_core.config.checks`.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Sequence
from datetime import date, datetime

import numpy as np

from rtm_core.errors import ConfigError

__all__ = [
    "MAX_BANDWIDTH",
    "shown",
    "integer",
    "number",
    "positive",
    "fraction",
    "flag",
    "choice",
    "subset",
    "repeats",
    "bandwidths",
    "iso_date",
    "column_name",
]

#: largest bandwidth (metres) taken without complaint: more is probably feet by mistake
MAX_BANDWIDTH = 20_000


def shown(value) -> str:
    """A value as messages show it: ``True``, ``'150'`` as ``str '150'``, ``2.5`` as
    ``float 2.5`` (the type is named when it is not the kind asked for)."""
    if isinstance(value, bool) or value is None:
        return repr(value)
    return f"{type(value).__name__} {value!r}"


def _whole(value) -> bool:
    """An integer that is not a bool (numpy integers count)."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _real(value) -> bool:
    """A real number that is not a bool (numpy floats and integers count)."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _name(field: str) -> str:
    """The last part of a field (``model.seeds`` -> ``seeds``), as fixes name it."""
    return field.rsplit(".", 1)[-1]


def _integer_kind(minimum: int | None, maximum: int | None) -> str:
    if minimum is not None and maximum is not None:
        return f"an integer from {minimum} to {maximum}"
    if minimum == 1:
        return "a positive integer"
    if minimum == 0:
        return "a non-negative integer"
    if minimum is not None:
        return f"an integer >= {minimum}"
    if maximum is not None:
        return f"an integer <= {maximum}"
    return "an integer"


def integer(
    value,
    source: str,
    field: str,
    *,
    minimum: int | None = None,
    maximum: int | None = None,
    kind: str | None = None,
    expected: str | None = None,
    fix: str | None = None,
) -> int:
    """An integer (never a bool) within ``[minimum, maximum]``.

    Parameters
    ----------
    value : object
        The value as given.
    source, field : str
        Where it came from and the setting's name there (shown first in the message).
    minimum, maximum : int, optional
        Inclusive bounds.
    kind : str, optional
        What the value must be, for any mistake; default: the kind and range in one phrase
        ("a positive integer", "an integer >= 2", "an integer from 1 to 50").
    expected : str, optional
        The requirement in the door's own words for a value out of range (e.g. ``"> 0"``);
        a value of the wrong type is then "must be an integer, got float 2.5".
    fix : str, optional
        The fix shown; default: the kind and range to use.

    Returns
    -------
    int

    Raises
    ------
    ConfigError
        A bool, a non-integer, or a value out of range.
    """
    kind = kind or _integer_kind(minimum, maximum)
    fix = fix or f"use {kind}"
    if not _whole(value):
        if expected is None:
            raise ConfigError(source, field, f"must be {kind}, got {value!r}", fix)
        raise ConfigError(source, field, f"must be an integer, got {shown(value)}", fix)
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise ConfigError(source, field, f"must be {expected or kind}, got {value!r}", fix)
    return int(value)


def _number_kind(low, high, low_open: bool, high_open: bool) -> str:
    if low is not None and high is not None:
        return f"a number in {'(' if low_open else '['}{low}, {high}{')' if high_open else ']'}"
    if low == 0:
        return "a positive number" if low_open else "a non-negative number"
    if low is not None:
        return f"a number {'>' if low_open else '>='} {low}"
    if high is not None:
        return f"a number {'<' if high_open else '<='} {high}"
    return "a finite number"


def number(
    value,
    source: str,
    field: str,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
    expected: str | None = None,
    fix: str | None = None,
) -> float:
    """A finite real number (never a bool) between ``low`` and ``high``.

    Parameters
    ----------
    value : object
    source, field : str
        Where it came from and the setting's name there.
    low, high : float, optional
        Bounds; inclusive unless ``low_open`` / ``high_open``.
    low_open, high_open : bool
        Whether the bound itself is refused.
    expected : str, optional
        The requirement in the door's own words (e.g. ``"> 0"``); a value of the wrong type
        is then "must be a number". Default: kind and range in one phrase.
    fix : str, optional

    Returns
    -------
    float

    Raises
    ------
    ConfigError
        A bool, a non-number, NaN or infinity, or a value out of range.
    """
    kind = _number_kind(low, high, low_open, high_open)
    fix = fix or f"use {kind}"
    if not _real(value):
        if expected is None:
            raise ConfigError(source, field, f"must be {kind}, got {value!r}", fix)
        raise ConfigError(source, field, f"must be a number, got {shown(value)}", fix)
    value = float(value)
    below = low is not None and (value <= low if low_open else value < low)
    above = high is not None and (value >= high if high_open else value > high)
    if not math.isfinite(value) or below or above:
        raise ConfigError(source, field, f"must be {expected or kind}, got {value!r}", fix)
    return value


def positive(value, source: str, field: str, *, whole: bool = False, fix: str | None = None):
    """A setting that must be > 0, worded as the TOML and ``rtm`` have always worded it.

    Parameters
    ----------
    value : object
    source, field : str
    whole : bool
        An integer setting (seeds, steps, cells) rather than a measure (metres, rates).
    fix : str, optional
        Default: "set a positive `<name>`".

    Returns
    -------
    int or float

    Raises
    ------
    ConfigError
        ``must be an integer|a number, got ...`` or ``must be > 0, got ...``.
    """
    fix = fix or f"set a positive `{_name(field)}`"
    if whole:
        return integer(value, source, field, minimum=1, expected="> 0", fix=fix)
    return number(value, source, field, low=0, low_open=True, expected="> 0", fix=fix)


def fraction(value, source: str, field: str, *, fix: str | None = None) -> float:
    """A share in (0, 1] (e.g. of the area flagged).

    Parameters
    ----------
    value : object
    source, field : str
    fix : str, optional

    Returns
    -------
    float
    """
    return number(value, source, field, low=0, high=1, low_open=True, fix=fix)


def flag(value, source: str, field: str, *, fix: str = "use True or False") -> bool:
    """True or False, nothing else (no 0/1, no ``"yes"``).

    Parameters
    ----------
    value : object
    source, field : str
    fix : str

    Returns
    -------
    bool
    """
    if not isinstance(value, bool | np.bool_):
        raise ConfigError(source, field, f"must be True or False, got {value!r}", fix)
    return bool(value)


def choice(
    value,
    options: Sequence[str],
    source: str,
    field: str,
    *,
    noun: str = "value",
    fix: str | None = None,
) -> str:
    """One of ``options``.

    Parameters
    ----------
    value : object
    options : sequence of str
    source, field : str
    noun : str
        What the value is, in "unknown <noun> 'x'".
    fix : str, optional
        Default: "use one of 'a', 'b'".

    Returns
    -------
    str
    """
    if not isinstance(value, str) or value not in options:
        fix = fix or f"use one of {', '.join(map(repr, options))}"
        raise ConfigError(source, field, f"unknown {noun} {value!r}", fix)
    return value


def subset(values: Iterable, options: Sequence[str], source: str, field: str, fix: str) -> tuple:
    """A non-empty selection from ``options`` (model kinds, measures).

    Parameters
    ----------
    values : iterable of str
    options : sequence of str
    source, field : str
    fix : str

    Returns
    -------
    tuple of str
    """
    values = tuple(values)
    if not values:
        raise ConfigError(source, field, "none chosen", fix)
    bad = [v for v in values if v not in options]
    if bad:
        raise ConfigError(source, field, f"unknown {bad!r}", fix)
    return values


def column_name(value, source: str, field: str, *, empty_means: str = "") -> str | None:
    """A column name (surrounding spaces dropped), None when not given.

    Parameters
    ----------
    value : str or None
    source, field : str
    empty_means : str
        What an empty name means where one is allowed (e.g. "no place names"); "" refuses it.

    Returns
    -------
    str or None
        The name; "" only where ``empty_means`` allows it.
    """
    if value is None:
        return None
    if not isinstance(value, str):
        fix = f'write `{_name(field)} = "NAME"`'
        raise ConfigError(source, field, f"must be a column name, got {shown(value)}", fix)
    name = value.strip()
    if not name and not empty_means:
        raise ConfigError(source, field, "is empty", "name a column of the layer")
    return name


def repeats(values: Iterable) -> list:
    """The values listed more than once, each once, in order of first repeat."""
    seen, out = set(), []
    for value in values:
        if value in seen and value not in out:
            out.append(value)
        seen.add(value)
    return out


def bandwidths(values, source: str, field: str = "bandwidths") -> tuple[int, ...]:
    """Bandwidths: a non-empty list of whole metres, each > 0, at most 20 km, each once.

    Parameters
    ----------
    values : sequence of numbers
    source, field : str

    Returns
    -------
    tuple of int
        Sorted.

    Raises
    ------
    ConfigError
        Empty; a non-number or bool; 0 or less; a fraction of a metre; a value listed twice
        ("repeats a value in [100, 100]"); over 20 km ("feet by mistake?").
    """
    if isinstance(values, str | bytes) or not isinstance(values, Iterable):
        raise ConfigError(source, field, f"must be a list, got {shown(values)}", "e.g. [100, 200]")
    values = list(values)
    if not values:
        raise ConfigError(source, field, "is empty", "list at least one distance in metres")
    out = []
    for item in values:
        if not _real(item) or not math.isfinite(item):
            raise ConfigError(source, field, f"{item!r} is not a number", "use metres, e.g. 200")
        if item <= 0:
            raise ConfigError(
                source, field, f"must be > 0 metres, got {item!r}", "use positive distances"
            )
        if item != int(item):
            raise ConfigError(
                source, field, f"must be whole metres, got {item!r}", "round to an integer"
            )
        out.append(int(item))
    if repeats(out):
        raise ConfigError(source, field, f"repeats a value in {out}", "list each distance once")
    if max(out) > MAX_BANDWIDTH:
        raise ConfigError(
            source,
            field,
            f"{max(out)} m is over 20 km (feet by mistake?)",
            "give bandwidths in metres (1 ft = 0.3048 m)",
        )
    return tuple(sorted(out))


def iso_date(value, source: str, field: str) -> date:
    """A calendar date: a ``date``, or a string starting ``YYYY-MM-DD``.

    Parameters
    ----------
    value : date or str
    source, field : str

    Returns
    -------
    datetime.date

    Raises
    ------
    ConfigError
        Anything else, e.g. ``"2021-13-01"`` or ``"last spring"``.
    """
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip()[:10])
        except ValueError:
            pass
    raise ConfigError(
        source, field, f"must be a date like 2021-01-01, got {value!r}", "write it as YYYY-MM-DD"
    )
