"""A TOML table with typed getters whose errors name the file, the key and the fix, and the
readers of values that several sections share (layer sources, periods, bandwidths, names)."""

from __future__ import annotations

import math
from pathlib import Path

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

    def error(self, key: str, problem: str, fix: str) -> ConfigError:
        return ConfigError(self.file, f"{self.where}.{key}" if self.where else key, problem, fix)

    def section(self, key: str, *, required: bool = False) -> Table:
        """The sub-table ``[key]`` (an empty one when absent and not required)."""
        where = f"{self.where}.{key}" if self.where else key
        return Table(self.get(key, dict, {}, required=required), where, self.file, self.base)

    def has(self, key: str) -> bool:
        return key in self.data

    def get(self, key: str, kind: type | tuple, default=None, *, required=False, fix=""):
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
        if isinstance(value, bool) and bool not in kinds:
            raise self.error(
                key,
                f"must be {_kind_name(kinds)}, got {value!r}",
                fix or f"write `{key}` as {_kind_name(kinds)}",
            )
        if not isinstance(value, kinds):
            raise self.error(
                key,
                f"must be {_kind_name(kinds)}, got {type(value).__name__} {value!r}",
                fix or f"write `{key}` as {_kind_name(kinds)}",
            )
        return value

    def choice(self, key: str, options: tuple[str, ...], default: str) -> str:
        value = self.get(key, str, default)
        if value not in options:
            raise self.error(
                key, f"unknown value {value!r}", f"use one of {', '.join(map(repr, options))}"
            )
        return value

    def positive(self, key: str, default, *, integer=False):
        value = self.get(key, int if integer else float, default)
        if not (math.isfinite(value) and value > 0):
            raise self.error(key, f"must be > 0, got {value!r}", f"set a positive `{key}`")
        return value

    def path(self, key: str, *, required=False) -> Path | None:
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
    value = table.get("bandwidths", list, list(default))
    if not value:
        raise table.error("bandwidths", "is empty", "list at least one distance in metres")
    out = []
    for item in value:
        if isinstance(item, bool) or not isinstance(item, int | float) or not math.isfinite(item):
            raise table.error("bandwidths", f"{item!r} is not a number", "use metres, e.g. 200")
        if item <= 0:
            raise table.error(
                "bandwidths", f"must be > 0 metres, got {item!r}", "use positive distances"
            )
        if item != int(item):
            raise table.error(
                "bandwidths", f"must be whole metres, got {item!r}", "round to an integer"
            )
        out.append(int(item))
    if len(set(out)) != len(out):
        raise table.error("bandwidths", f"repeats a value in {out}", "list each distance once")
    if max(out) > 20_000:
        raise table.error(
            "bandwidths",
            f"{max(out)} m is over 20 km (feet by mistake?)",
            "give bandwidths in metres (1 ft = 0.3048 m)",
        )
    return tuple(sorted(out))


def read_finite(table: Table, key: str, default: float) -> float:
    value = table.get(key, float, default)
    if not math.isfinite(value):
        raise table.error(key, f"must be a finite number, got {value!r}", f"set e.g. `{key} = 2`")
    return value


def read_names(table: Table, key: str) -> tuple[str, ...]:
    value = table.get(key, list, [])
    bad = [v for v in value if not isinstance(v, str) or not v.strip()]
    if bad:
        raise table.error(
            key, f"must list column names, got {bad[0]!r}", f'write `{key} = ["column", ...]`'
        )
    if len(set(value)) != len(value):
        raise table.error(key, f"repeats a column in {value}", "list each column once")
    return tuple(value)


def read_boundary(units: Table, kind: str) -> LayerSource | None:
    path = units.path("boundary", required=kind == "grid")
    if path is None:
        return None
    return LayerSource(path=path, layer=units.get("boundary_layer", str), name=path.name)
