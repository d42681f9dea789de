"""All problems at once: check a layer, or a whole study, and list every problem with its fix.

:func:`load_study` stops at the first error (a run cannot go on); these checks go on, so an
analyst fixing data sees the whole list in one go (the Data page when a layer is added,
``rtm check CONFIG.toml`` on the command line). Notes say what was repaired or guessed.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import pandas as pd

from rtm_core.config import LayerSource, RunConfig
from rtm_core.errors import InputError
from rtm_core.io import Layer, parse_dates, read_layer, read_table, working_crs
from rtm_core.io.delimited import (
    detect_lonlat,
    fill_missing_crs,
    looks_like_degrees,
    numeric_column,
)
from rtm_core.io.tables import date_note, table_kind
from rtm_core.study.load import load_study
from rtm_core.study.repair import check_polygons, repair_note

__all__ = ["Problem", "ROLES", "check_layer", "check_study", "errors"]

ROLES = ("boundary", "crimes", "generator", "units", "places")
_FAMILIES = {
    "boundary": ("polygon",),
    "places": ("polygon",),
    "crimes": ("point",),
    "units": ("point", "line", "polygon"),
    "generator": ("point", "line", "polygon"),
}


@dataclass(frozen=True)
class Problem:
    """One problem (or note) found in the data.

    Attributes
    ----------
    source : str
        The file (and layer) or "config".
    field : str or None
        The column, key or setting.
    problem : str
        What is wrong (or, for a note, what was done).
    fix : str
        What to do about it ("" for notes).
    severity : {"error", "note"}
        Errors stop a run; notes are said and the run goes on.
    """

    source: str
    field: str | None
    problem: str
    fix: str
    severity: str = "error"

    def __str__(self) -> str:
        where = self.source + (f" [{self.field}]" if self.field else "")
        tail = f". Fix: {self.fix}" if self.fix else ""
        return f"{where}: {self.problem}{tail}"

    @classmethod
    def from_error(cls, error: InputError) -> Problem:
        """The problem an :class:`InputError` describes."""
        return cls(error.source, error.field, error.problem, error.fix)

    @classmethod
    def note(cls, source: str, text: str) -> Problem:
        """A note: something repaired, guessed or dropped.

        Parameters
        ----------
        source : str
            The file (and layer).
        text : str
            What was done.

        Returns
        -------
        Problem
            With severity "note" and no fix.
        """
        return cls(source, None, text, "", "note")


def errors(problems: list[Problem]) -> list[Problem]:
    """The problems that stop a run."""
    return [p for p in problems if p.severity == "error"]


def check_layer(
    source: LayerSource,
    role: str,
    *,
    date: str | None = None,
    boundary: Layer | None = None,
) -> list[Problem]:
    """Read one layer completely and return every problem found, and notes.

    Parameters
    ----------
    source : LayerSource
        Path or upload bytes, with the columns and CRS chosen.
    role : {"boundary", "crimes", "generator", "units", "places"}
    date : str, optional
        The crimes' date column (checked that it exists and reads as dates).
    boundary : Layer, optional
        The boundary as read: bare x/y columns whose ranges fit it take its CRS (a note).

    Returns
    -------
    list of Problem
        Empty when the layer is fine and nothing needs saying.
    """
    return _check_layer(source, role, date=date, boundary=boundary).problems


@dataclass(frozen=True)
class _Checked:
    """One layer checked: its problems, and what was read on the way (for the study checks)."""

    problems: list[Problem]
    layer: Layer | None = None  # None when it could not be read
    table: pd.DataFrame | None = None  # a table file as read (None for other files)
    when: pd.Series | None = None  # the table's date column parsed


def _check_layer(
    source: LayerSource, role: str, *, date: str | None = None, boundary: Layer | None = None
) -> _Checked:
    """:func:`check_layer`, reading a table file once and repairing polygons once."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {ROLES}, got {role!r}")
    problems: list[Problem] = []
    table = read = when = None
    try:
        if table_kind(source) is not None:  # a zip with two CSVs is refused here
            read = read_table(source)
            table = read[0]
    except InputError as exc:
        return _Checked([Problem.from_error(exc)])
    if boundary is not None and boundary.frame.crs is not None:
        source, note = fill_missing_crs(
            source, boundary.frame.crs, tuple(boundary.frame.total_bounds), table
        )
        if note:
            problems.append(Problem.note(source.label, note))
    if table is not None:
        table_problems, when = _table_problems(source, table, date if role == "crimes" else None)
        problems += table_problems
        if errors(table_problems):
            return _Checked(problems, None, table, when)
    try:
        layer = read_layer(source, table=read)
        family = layer.geom_type
    except InputError as exc:
        return _Checked(problems + [Problem.from_error(exc)], None, table, when)
    label = layer.report.source
    if layer.report.note:
        problems += [Problem.note(label, n) for n in layer.report.note.split("; ")]
    if layer.report.n_dropped:
        problems.append(
            Problem.note(
                label,
                f"{layer.report.n_dropped:,} of {layer.report.n_read:,} rows without usable "
                "coordinates dropped",
            )
        )
    if family not in _FAMILIES[role]:
        wanted = " or ".join(f"{f}s" for f in _FAMILIES[role])
        problems.append(
            Problem(
                label,
                "geometry",
                f"a {role} layer must hold {wanted}, got {family}s",
                f"upload the {role} as {wanted}",
            )
        )
    if role in ("boundary", "units"):
        try:
            _, note = working_crs(None, layer.frame, source=label, role=role)
        except InputError as exc:
            problems.append(Problem.from_error(exc))
        else:
            if note:
                problems.append(Problem.note(label, note))
    if family == "polygon":
        problems += _polygon_problems(layer.frame, label)
    return _Checked(problems, layer, table, when)


def _polygon_problems(frame: gpd.GeoDataFrame, label: str) -> list[Problem]:
    repairs, broken = check_polygons(frame)
    if broken:
        return [
            Problem(
                label,
                "geometry",
                f"{name} is not a valid polygon and repairing it leaves no area",
                "redraw that feature or remove it from the layer",
            )
            for name in broken
        ]
    note = repair_note(repairs)
    return [Problem.note(label, note)] if note else []


def _table_problems(
    source: LayerSource, table: pd.DataFrame, date: str | None
) -> tuple[list[Problem], pd.Series | None]:
    """Every problem of a table's coordinate and date columns (not only the first), and the
    date column parsed (None without one)."""
    label = source.label
    problems: list[Problem] = []
    columns = [str(c) for c in table.columns]
    x_col, y_col, crs = source.x, source.y, source.crs
    if x_col is None and y_col is None:
        try:
            x_col, y_col = detect_lonlat(list(table.columns), label)
            crs = crs or "EPSG:4326"
        except InputError as exc:
            problems.append(Problem.from_error(exc))
    coords = {}
    for key, col in (("x", x_col), ("y", y_col)):
        if col is None:
            if x_col is not None or y_col is not None:
                problems.append(
                    Problem(label, key, "coordinate column not named", f"name the {key} column")
                )
        elif col not in table.columns:
            problems.append(
                Problem(
                    label,
                    key,
                    f"column {col!r} not found (columns: {', '.join(columns[:12])})",
                    f"set {key} to one of the file's columns",
                )
            )
        else:
            try:
                coords[key] = numeric_column(table[col], label, col)
            except InputError as exc:
                problems.append(Problem.from_error(exc))
    if crs is None and len(coords) == 2 and not looks_like_degrees(coords["x"], coords["y"]):
        problems.append(
            Problem(label, "crs", "no CRS given for the x/y columns", 'set crs, e.g. "EPSG:26971"')
        )
    when = None
    if date is not None:
        date_problems, when = _date_problems(table, date, label)
        problems += date_problems
    return problems, when


def _date_problems(
    table: pd.DataFrame, date: str, label: str
) -> tuple[list[Problem], pd.Series | None]:
    if date not in table.columns:
        cols = ", ".join(map(str, list(table.columns)[:12]))
        return [
            Problem(
                label,
                date,
                f"date column not found (columns: {cols})",
                "set crimes.date to the date column",
            )
        ], None
    when = parse_dates(table[date])
    if len(when) and when.isna().all():
        return [
            Problem(
                label,
                date,
                "no date in the column could be read",
                "use dates like 2021-03-01 (YYYY-MM-DD), or set crimes.date to the date column",
            )
        ], when
    notes = [date_note(table[date])]
    undated = int(when.isna().sum())
    if undated:
        notes.append(f"{undated:,} rows without a readable date")
    return [Problem.note(label, n) for n in notes if n], when


def _period_problems(config: RunConfig, when: pd.Series | None) -> list[Problem]:
    """Crimes per period (one file with a date column): empty periods, order, bad dates.

    ``when`` is the crimes table's date column as parsed by the layer check (None when the
    crimes are not a table, or it could not be read, or lacks the column).
    """
    cfg = config.crimes
    if cfg.source is None or cfg.date is None or cfg.train is None or cfg.test is None:
        return []
    label = cfg.source.label
    bounds, problems = {}, []
    for key, period in (("train", cfg.train), ("test", cfg.test)):
        try:
            start, end = pd.Timestamp(period[0]), pd.Timestamp(period[1])
        except (ValueError, TypeError):
            problems.append(
                Problem(
                    label, f"crimes.{key}", f"cannot read dates {list(period)}", "write YYYY-MM-DD"
                )
            )
            continue
        if end < start:
            problems.append(
                Problem(
                    label,
                    f"crimes.{key}",
                    f"ends ({period[1]}) before it starts ({period[0]})",
                    "swap the dates",
                )
            )
            continue  # no counts for a period that is itself wrong
        bounds[key] = (start, end + pd.Timedelta(days=1))
    if len(bounds) == 2 and bounds["test"][0] < bounds["train"][1]:
        problems.append(
            Problem(
                label,
                "crimes.test",
                "the test period starts before the training period ends",
                "make the test period (t+1) follow the training period (t)",
            )
        )
    if when is None:
        return problems  # reported with the layer
    if when.isna().all() or errors(problems):
        return problems  # unreadable dates are reported with the layer; bad periods above
    for key, (start, end) in bounds.items():
        n = int(((when >= start) & (when < end)).sum())
        name = "training" if key == "train" else "test"
        if n == 0:
            problems.append(
                Problem(
                    label,
                    f"crimes.{key}",
                    f"no crimes in the {name} period",
                    "check the period dates or the file",
                )
            )
        else:
            problems.append(Problem.note(label, f"{n:,} crimes in the {name} period"))
    return problems


def check_study(config: RunConfig, *, max_cells: int | None = None) -> list[Problem]:
    """Check every layer of a run configuration and its periods; every problem, no early stop.

    When no layer has an error the study itself is loaded too (grid size, crimes inside the
    area, generators within reach), so an empty error list means ``rtm run`` can start.

    Parameters
    ----------
    config : RunConfig
    max_cells : int, optional
        As for :func:`rtm_core.study.load.load_study`.

    Returns
    -------
    list of Problem
        Errors and notes, layer by layer (anchor, crimes, periods, generators, places).
    """
    ucfg = config.units
    problems: list[Problem] = []
    anchor_source = ucfg.boundary if ucfg.kind == "grid" else ucfg.source
    role = "boundary" if ucfg.kind == "grid" else "units"
    checked = _check_layer(anchor_source, role)
    problems += checked.problems
    anchor = checked.layer
    if ucfg.crs is not None and anchor is not None:
        try:
            working_crs(ucfg.crs, anchor.frame, source=anchor.report.source)
        except InputError as exc:
            problems.append(Problem.from_error(exc))
    crimes = config.crimes
    when = None
    for source in (crimes.source, crimes.train_source, crimes.test_source):
        if source is not None:
            date = crimes.date if source is crimes.source else None
            checked = _check_layer(source, "crimes", date=date, boundary=anchor)
            problems += checked.problems
            if source is crimes.source:
                when = checked.when
    problems += _period_problems(config, when)
    for gcfg in config.generators:
        problems += check_layer(gcfg.source, "generator", boundary=anchor)
    if config.places.source is not None:
        problems += check_layer(config.places.source, "places", boundary=anchor)
    if not errors(problems):
        try:
            load_study(config, max_cells=max_cells)
        except InputError as exc:
            problems.append(Problem.from_error(exc))
    return _unique(problems)


def _unique(problems: list[Problem]) -> list[Problem]:
    seen, out = set(), []
    for p in problems:
        if p not in seen:
            seen.add(p)
            out.append(p)
    return out
