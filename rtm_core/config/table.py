"""A TOML table with typed getters whose errors name the file, the key and the fix, and the
readers of values that several sections share (layer sources, periods, bandwidths, names)."""

from __future__ import annotations

from pathlib import Path

from rtm_core.config import validate
from rtm_core.config.settings import DEFAULT_BANDWIDTHS, DEMO_PATH, LayerSource
from rtm_core.errors import ConfigError

__all__ = [
    "Table",
    "SOURCE_KEYS",
    "read_layer_source",
    "read_period",
    "read_bandwidths",
    "read_finite",
    "read_names",
    "read_boundary",
]


class Table:
    """A TOML table with typed getters whose errors name the file and key."""

    def __init__(self, data: dict, where: str, file: str, base: Path):
        self.data, self.where, self.file, self.base = data, where, file, base
        self.used: set[str] = set()

    def field(self, key: str) -> str:
        """The key as messages name it: ``model.seeds``, ``generators[0].bandwidths``."""
        return f"{self.where}.{key}" if self.where else key

    def error(self, key: str, problem: str, fix: str) -> ConfigError:
        """The error for ``key``, naming the file and the key.

        Parameters
        ----------
        key : str
        problem, fix : str
            What is wrong and what to do, in the user's terms.

        Returns
        -------
        ConfigError
        """
        return ConfigError(self.file, self.field(key), problem, fix)

    def section(self, key: str, *, required: bool = False) -> Table:
        """The sub-table ``[key]`` (an empty one when absent and not required).

        Parameters
        ----------
        key : str
        required : bool
            Refuse a missing table.

        Returns
        -------
        Table
        """
        where = f"{self.where}.{key}" if self.where else key
        return Table(self.get(key, dict, {}, required=required), where, self.file, self.base)

    def has(self, key: str) -> bool:
        return key in self.data

    def get(self, key: str, kind: type | tuple, default=None, *, required=False, fix=""):
        """The value of ``key``, of the TOML type ``kind`` (an integer is taken as a number).

        Parameters
        ----------
        key : str
        kind : type or tuple of types
            ``str``, ``int``, ``float``, ``bool``, ``list`` or ``dict``; a bool is never an
            integer or a number.
        default : object
            Returned when the key is absent.
        required : bool
            Refuse a missing key.
        fix : str
            The fix shown for a missing key or a wrong type (default: how to write it).

        Returns
        -------
        object
        """
        self.used.add(key)
        if key not in self.data:
            if required:
                default_fix = (
                    f"add `{key} = ...` to [{self.where}]" if self.where else f"add a [{key}] table"
                )
                raise self.error(key, "is missing", fix or default_fix)
            return default
        value = self.data[key]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if float in kinds and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if (isinstance(value, bool) and bool not in kinds) or not isinstance(value, kinds):
            raise self.error(
                key,
                f"must be {_kind_name(kinds)}, got {validate.shown(value)}",
                fix or f"write `{key}` as {_kind_name(kinds)}",
            )
        return value

    def choice(self, key: str, options: tuple[str, ...], default: str) -> str:
        """One of ``options`` (:func:`~rtm_core.config.validate.choice`).

        Parameters
        ----------
        key : str
        options : tuple of str
        default : str

        Returns
        -------
        str
        """
        return validate.choice(self.get(key, str, default), options, self.file, self.field(key))

    def positive(self, key: str, default, *, integer=False):
        """A number (or integer) > 0 (:func:`~rtm_core.config.validate.positive`).

        Parameters
        ----------
        key : str
        default : int or float
        integer : bool
            An integer setting.

        Returns
        -------
        int or float
        """
        value = self.get(key, int if integer else float, default)
        return validate.positive(value, self.file, self.field(key), whole=integer)

    def path(self, key: str, *, required=False) -> Path | None:
        """A file path, relative to the config's folder (``<demo>`` is the embedded demo).

        Parameters
        ----------
        key : str
        required : bool
            Refuse a missing key.

        Returns
        -------
        Path or None
        """
        value = self.get(key, str, None, required=required, fix=f"set `{key}` to a file path")
        if value is None:
            return None
        path = Path(value)
        if str(path).startswith("<demo>"):
            return DEMO_PATH
        return path if path.is_absolute() else (self.base / path)

    def check_unknown(self, allowed: set[str]) -> None:
        unknown = sorted(set(self.data) - allowed)
        if unknown:
            raise self.error(
                unknown[0],
                "unknown key",
                f"remove it or use one of {', '.join(sorted(allowed))}",
            )


def _kind_name(kinds: tuple) -> str:
    names = {str: "a string", int: "an integer", float: "a number", bool: "true or false"}
    names |= {list: "a list", dict: "a table"}
    return " or ".join(names.get(k, k.__name__) for k in kinds)


SOURCE_KEYS = {"file", "layer", "x", "y", "crs"}


def read_layer_source(table: Table, prefix: str = "", *, required=True) -> LayerSource | None:
    """A layer source from ``{prefix}file`` / ``{prefix}layer`` and the table's x, y, crs.

    Parameters
    ----------
    table : Table
    prefix : str
        ``"train_"`` / ``"test_"`` for the per-period crime files (they share x, y and crs).
    required : bool
        Refuse a missing file (else None).

    Returns
    -------
    LayerSource or None
    """
    path = table.path(f"{prefix}file", required=required)
    if path is None:
        return None
    return LayerSource(
        path=path,
        layer=table.get(f"{prefix}layer", str),
        x=table.get("x", str),
        y=table.get("y", str),
        crs=table.get("crs", str),
        name=path.name,
    )


def read_period(table: Table, key: str) -> tuple[str, str] | None:
    """Two dates ``[start, end]`` (read as dates with the crimes, by the study).

    Parameters
    ----------
    table : Table
    key : str

    Returns
    -------
    tuple of str or None
    """
    value = table.get(key, list)
    if value is None:
        return None
    if len(value) != 2 or not all(isinstance(v, str) for v in value):
        raise table.error(
            key,
            f"must be two dates, got {value!r}",
            f'write `{key} = ["2021-01-01", "2021-12-31"]`',
        )
    return (value[0], value[1])


def read_bandwidths(table: Table, default=DEFAULT_BANDWIDTHS) -> tuple[int, ...]:
    """``bandwidths``: whole metres, each once (see :func:`~rtm_core.config.validate.bandwidths`).

    Parameters
    ----------
    table : Table
    default : tuple of int
        Used when the key is absent.

    Returns
    -------
    tuple of int
    """
    value = table.get("bandwidths", list, list(default))
    return validate.bandwidths(value, table.file, table.field("bandwidths"))


def read_finite(table: Table, key: str, default: float) -> float:
    """A finite number (e.g. the density threshold).

    Parameters
    ----------
    table : Table
    key : str
    default : float

    Returns
    -------
    float
    """
    value = table.get(key, float, default)
    return validate.number(value, table.file, table.field(key), fix=f"set e.g. `{key} = 2`")


def read_names(table: Table, key: str) -> tuple[str, ...]:
    """Column names, each once.

    Parameters
    ----------
    table : Table
    key : str

    Returns
    -------
    tuple of str
    """
    value = table.get(key, list, [])
    bad = [v for v in value if not isinstance(v, str) or not v.strip()]
    if bad:
        raise table.error(
            key, f"must list column names, got {bad[0]!r}", f'write `{key} = ["column", ...]`'
        )
    if validate.repeats(value):
        raise table.error(key, f"repeats a column in {value}", "list each column once")
    return tuple(value)


def read_boundary(units: Table, kind: str) -> LayerSource | None:
    """The boundary of a grid (required when ``kind`` is ``"grid"``).

    Parameters
    ----------
    units : Table
        ``[units]``.
    kind : {"grid", "file"}

    Returns
    -------
    LayerSource or None
    """
    path = units.path("boundary", required=kind == "grid")
    if path is None:
        return None
    return LayerSource(path=path, layer=units.get("boundary_layer", str), name=path.name)
