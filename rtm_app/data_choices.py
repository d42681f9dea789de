"""What the Data page guesses and checks for a new layer (no streamlit here).

The guessing itself lives in :mod:`rtm_core.study.guess` (columns, dates, period presets),
:mod:`rtm_core.io.crs` (working CRS, CRS of x/y columns) and :mod:`rtm_core.study.checks` (every
problem of a layer or study); this module turns their answers into the options, labels and
defaults the page shows, and applies the working CRS to a :class:`DataSet`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import CRS

from rtm_app.dataset import DataSet
from rtm_core.config import LayerSource
from rtm_core.errors import InputError
from rtm_core.io import (
    Layer,
    crs_name,
    crs_text,
    metre_counterpart,
    parse_crs,
    read_table,
    suggest_crs,
    working_crs,
    xy_ranges,
)
from rtm_core.io.tables import table_kind
from rtm_core.study.checks import Problem, check_layer
from rtm_core.study.guess import (
    StudyExtent,
    guess_coordinates,
    guess_date_column,
    period_presets,
)

__all__ = [
    "CoordinateOption",
    "PeriodOption",
    "WorkingCrs",
    "as_dates",
    "check_working_crs",
    "default_map_layers",
    "map_layers_shown",
    "coordinate_options",
    "crs_reason",
    "date_column",
    "crs_for_columns",
    "period_options",
    "read_table_or_none",
    "saved_index",
    "saved_preset",
    "suggest_working_crs",
    "with_working_crs",
    "layer_problems",
    "problem_line",
]

_FIX = 'type a projected CRS in metres, e.g. "EPSG:26971", or a UTM zone such as "EPSG:32616"'


@dataclass(frozen=True)
class WorkingCrs:
    """The working CRS the Data page proposes for a boundary or units layer.

    Attributes
    ----------
    crs : str
        ``"EPSG:<code>"`` (projected, metres), or its WKT when the layer's CRS has no code.
    why : str
        One sentence for the data summary ("boundary is in EPSG:3435 (US survey foot);
        working CRS EPSG:26971 (metres), the same zone").
    """

    crs: str
    why: str


def suggest_working_crs(frame: gpd.GeoDataFrame, role: str = "boundary") -> WorkingCrs:
    """The working CRS for a boundary/units layer as read, and why.

    Its own CRS when projected in metres; the metre counterpart of a CRS in feet; else the
    estimated UTM zone (see :func:`rtm_core.io.working_crs`).
    """
    crs, note = working_crs(None, frame, source=role, role=role)
    return WorkingCrs(crs_text(crs), note or f"the {role}'s own CRS ({crs_name(crs)}, metres)")


def check_working_crs(text: str, source: str = "Working CRS") -> str:
    """A typed working CRS, checked: projected and in metres.

    Parameters
    ----------
    text : str
        What the analyst typed (``"EPSG:26971"``, ``"26971"``, WKT or a PROJ string).
    source : str
        Name for the message.

    Returns
    -------
    str
        The CRS as ``"EPSG:<code>"`` (or its PROJ/WKT text when it has no EPSG code).

    Raises
    ------
    InputError
        Empty, unknown, geographic (degrees) or not in metres; one line with the fix.
    """
    text = (text or "").strip()
    if not text:
        raise InputError(
            source, "units.crs", "no CRS given", 'type a projected CRS in metres, e.g. "EPSG:26971"'
        )
    try:
        crs = parse_crs(text, source=source, field="units.crs")
    except InputError:
        raise InputError(source, "units.crs", f"unknown CRS {text!r}", _FIX) from None
    if not crs.is_projected:
        raise InputError(
            source,
            "units.crs",
            f"{crs_name(crs)} is in degrees; distances and bandwidths need metres",
            _FIX,
        )
    unit = crs.axis_info[0].unit_name if crs.axis_info else "metre"
    if unit not in ("metre", "meter"):
        counterpart = metre_counterpart(crs)
        fix = f"use {crs_name(counterpart)}, the same zone in metres" if counterpart else _FIX
        raise InputError(
            source, "units.crs", f"{crs_name(crs)} measures in {unit}, bandwidths are metres", fix
        )
    return crs_text(crs)


def with_working_crs(data: DataSet, crs: str | None) -> DataSet:
    """The data set with ``units.crs`` set (unchanged when it has no units yet)."""
    if data.units is None or data.units.crs == crs:
        return data
    return data.replace(units=dataclasses.replace(data.units, crs=crs))


def crs_reason(chosen: str, suggested: WorkingCrs) -> str:
    """The data summary's sentence on the working CRS: which one, and why."""
    shown = chosen if chosen.startswith("EPSG:") else crs_name(CRS.from_user_input(chosen))
    if chosen == suggested.crs:
        return f"Working CRS {shown}, chosen for you: {suggested.why}."
    return f"Working CRS {shown}, typed on this page (suggested: {suggested.why})."


# --------------------------------------------------------------------------- columns


@dataclass(frozen=True)
class CoordinateOption:
    """One pair of coordinate columns found, as the Data page lists it.

    Attributes
    ----------
    label : str
        Columns, kind and complete-row count ("X Coordinate / Y Coordinate: projected x/y,
        3,000 of 3,000 rows complete").
    x, y : str
        Columns.
    """

    label: str
    x: str
    y: str


def read_table_or_none(source: LayerSource) -> pd.DataFrame | None:
    """The upload as a plain table (CSV, ``.csv.gz``, zipped CSV, ``.xlsx``); None for a GIS
    layer. Raises :class:`~rtm_core.errors.InputError` for an unreadable table."""
    if table_kind(source) is None:
        return None
    return read_table(source)[0]


def coordinate_options(
    table: pd.DataFrame, extent: StudyExtent | None = None
) -> list[CoordinateOption]:
    """Coordinate column pairs found in ``table``, best first, with their complete rows.

    Parameters
    ----------
    table : DataFrame
        The upload as read.
    extent : StudyExtent, optional
        Where the boundary lies: columns are then judged by their values too
        (:func:`rtm_core.study.guess.guess_coordinates`).

    Returns
    -------
    list of CoordinateOption
        The pairs, complete projected x/y before lon/lat with gaps; empty when none is found.
    """
    guess = guess_coordinates(table, extent)
    out = []
    for cand in guess.candidates:
        kind = "lon/lat" if cand.kind == "lonlat" else "projected x/y"
        label = f"{cand.x} / {cand.y}: {kind}, {cand.n_complete:,} of {cand.n_rows:,} rows"
        label += f" ({cand.n_missing:,} without coordinates)" if cand.n_missing else " complete"
        out.append(CoordinateOption(label, cand.x, cand.y))
    return out


def crs_for_columns(
    table: pd.DataFrame, x: str, y: str, anchor: gpd.GeoDataFrame | None
) -> tuple[str, str]:
    """The suggested CRS of two coordinate columns, and why.

    ``"EPSG:4326"`` for values that are lon/lat degrees; the boundary's CRS when the x/y
    ranges fit it ("same as the boundary: EPSG:3435"); else ``""`` with a hint.
    """
    xs = pd.to_numeric(table[x], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    ys = pd.to_numeric(table[y], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    ok = np.isfinite(xs) & np.isfinite(ys)
    if not ok.any():
        return "", ""
    if (np.abs(xs[ok]) <= 180).all() and (np.abs(ys[ok]) <= 90).all():
        return "EPSG:4326", "lon/lat degrees: EPSG:4326"
    if anchor is None or anchor.crs is None:
        return "", "type the CRS of these x/y columns (or add the boundary first)"
    suggested = suggest_crs(xy_ranges(xs, ys), anchor.crs, tuple(anchor.total_bounds))
    if suggested is None:
        return "", (
            f"the x/y ranges do not fit the boundary's {crs_name(anchor.crs)}: type their CRS"
        )
    name = crs_name(suggested)
    return name, f"same as the boundary: {name}"


def saved_index(options: list[CoordinateOption], saved: dict) -> int:
    """Index of the option matching the choices saved for this file (0: the best guess)."""
    for i, option in enumerate(options):
        if (option.x, option.y) == (saved.get("x"), saved.get("y")):
            return i
    return 0


# --------------------------------------------------------------------------- dates


def date_column(table: pd.DataFrame) -> str | None:
    """The column whose values parse as dates (:func:`rtm_core.study.guess.guess_date_column`)."""
    return guess_date_column(table)


@dataclass(frozen=True)
class PeriodOption:
    """A period preset as the page lists it, with the crimes in each period.

    Attributes
    ----------
    label : str
        "last full year (2023) after 2022: t 2022-01-01 – 2022-12-31 (612 crimes), t+1 …".
    train, test : tuple of str
        Inclusive ``(start, end)`` dates.
    n_train, n_test : int
    """

    label: str
    train: tuple[str, str]
    test: tuple[str, str]
    n_train: int
    n_test: int


def period_options(table: pd.DataFrame, date: str) -> list[PeriodOption]:
    """Training/test presets of the date column (last full year after the year before it,
    quarters, months) with crime counts; empty when the column holds no full periods."""
    if date not in table.columns:
        return []
    out = []
    for p in period_presets(table[date]):
        label = (
            f"{p.name}: t {p.train[0]} – {p.train[1]} ({p.n_train:,} crimes), "
            f"t+1 {p.test[0]} – {p.test[1]} ({p.n_test:,} crimes)"
        )
        out.append(PeriodOption(label, tuple(p.train), tuple(p.test), p.n_train, p.n_test))
    return out


def saved_preset(options: list[PeriodOption], saved: dict) -> str | None:
    """Label of the preset whose periods were saved for this file; "Custom dates" when the
    saved periods match no preset; None when nothing was saved."""
    if not saved.get("train"):
        return None
    for option in options:
        if list(option.train) == list(saved["train"]) and list(option.test) == list(saved["test"]):
            return option.label
    return "Custom dates"


def as_dates(period) -> tuple[date, ...]:
    """``("2022-01-01", "2022-12-31")`` as dates for ``st.date_input`` (empty when None)."""
    if not period:
        return ()
    return tuple(pd.Timestamp(v).date() for v in period)


# --------------------------------------------------------------------------- problems


def layer_problems(
    source: LayerSource, role: str, *, date: str | None = None, boundary: Layer | None = None
) -> list[Problem]:
    """Every problem (and note) of a layer about to be added in ``role`` (a Data page role:
    both crimes-per-period roles are checked as crimes); see
    :func:`rtm_core.study.checks.check_layer`."""
    kind = "crimes" if role.startswith("crimes") else role
    return check_layer(source, kind, date=date if role == "crimes" else None, boundary=boundary)


def problem_line(problem: Problem) -> str:
    """One line: an error with its fix, or "Note: …" for what was repaired or guessed."""
    text = str(problem)
    return text if problem.severity == "error" else f"Note: {text.rstrip('.')}."


#: roles whose first layer the Data page's map shows at first (then the first generator)
MAP_ROLES = ("boundary", "units", "crimes", "crimes_train", "generator")


def default_map_layers(entries: list[tuple[str, str, object]]) -> list[str]:
    """Names of the layers the Data page's map shows at first: the first layer of each role
    in :data:`MAP_ROLES` (boundary or units, crimes, one generator), in that order.

    ``entries`` are ``(role, name, layer)`` as :func:`rtm_app.cache.layer_entries` gives them.
    """
    first: dict[str, str] = {}
    for role, name, _ in entries:
        first.setdefault(role, name)
    return [first[role] for role in MAP_ROLES if role in first]


def map_layers_shown(
    names: list[str], default: list[str], shown: list[str] | None, known: list[str] | None
) -> list[str]:
    """The layers the Data page's map shows: what the analyst kept, and every new layer.

    Parameters
    ----------
    names : list of str
        Every layer of the data set now.
    default : list of str
        What a first map shows (:func:`default_map_layers`).
    shown : list of str or None
        The layers shown on the last map (None before the first).
    known : list of str or None
        The layers the data set had then.

    Returns
    -------
    list of str
        ``default`` for a first map or another data set (no layer in common with the last
        one); else the layers still shown plus every layer added since, in ``names`` order,
        so a layer just added is drawn without being picked, and one the analyst took off
        stays off.
    """
    if shown is None or known is None or not set(known) & set(names):
        return list(default)
    keep = set(shown) | (set(names) - set(known))
    return [name for name in names if name in keep]
