"""The anchor layer (boundary or units) on its way into a study: working CRS, repair, notes.

:func:`load_study` reads the anchor first; what it decides here (the working CRS, repaired
polygons, the boundary's CRS for bare x/y columns) is said in the read reports' notes, so the
data summary shows it.
"""

from __future__ import annotations

import dataclasses

import geopandas as gpd
from pyproj import CRS

from rtm_core.config import LayerSource, RunConfig
from rtm_core.config.toml import map_sources
from rtm_core.io import Layer, ReadReport, to_working_crs, working_crs
from rtm_core.io.delimited import fill_missing_crs
from rtm_core.io.tables import date_note
from rtm_core.study.repair import repair_note, repair_polygons

__all__ = [
    "prepare_anchor",
    "repair_layer",
    "fill_config_crs",
    "date_notes",
    "add_note",
    "add_notes",
]


def prepare_anchor(
    layer: Layer, configured: str | None, *, role: str = "boundary"
) -> tuple[gpd.GeoDataFrame, CRS, str]:
    """The anchor layer in the working CRS, its polygons repaired.

    Parameters
    ----------
    layer : Layer
        The boundary (grid units) or the units layer, as read.
    configured : str or None
        ``units.crs``.
    role : str
        "boundary" or "units layer", for the note.

    Returns
    -------
    frame : GeoDataFrame
        In the working CRS, invalid polygons repaired.
    crs : pyproj.CRS
        The working CRS.
    note : str
        How the CRS was chosen and what was repaired ("" when nothing needs saying).

    Raises
    ------
    InputError
        Unusable configured CRS, or a polygon left with no area by repair.
    """
    crs, crs_note = working_crs(configured, layer.frame, source=layer.report.source, role=role)
    frame, repaired = repair_layer(to_working_crs(layer, crs), layer.report.source)
    return frame, crs, "; ".join(n for n in (crs_note, repaired) if n)


def repair_layer(frame: gpd.GeoDataFrame, source: str) -> tuple[gpd.GeoDataFrame, str]:
    """Repair a layer's invalid polygons (points and lines pass).

    Parameters
    ----------
    frame : GeoDataFrame
    source : str
        The layer's name, for the note and the error.

    Returns
    -------
    frame : GeoDataFrame
        Repaired (the input itself when nothing was invalid).
    note : str
        What was repaired ("" when nothing was).

    Raises
    ------
    InputError
        A polygon has no area left after repair.
    """
    frame, repairs = repair_polygons(frame, source=source)
    return frame, repair_note(repairs)


def fill_config_crs(config: RunConfig, anchor: Layer) -> tuple[RunConfig, dict[str, str]]:
    """Give bare x/y tables (crimes, history files, generators) the anchor's CRS where their
    ranges fit it.

    Parameters
    ----------
    config : RunConfig
    anchor : Layer
        The boundary or units layer as read; nothing is filled unless its CRS is projected.

    Returns
    -------
    config : RunConfig
        With ``crs`` set on those sources (the anchor's own source is left as it is: it was
        read already, so it has a CRS or is lon/lat).
    notes : dict of str to str
        Source label → note, for :func:`add_notes` once the layers are read.
    """
    frame = anchor.frame
    if frame.crs is None or not frame.crs.is_projected:
        return config, {}
    bounds = tuple(frame.total_bounds)
    anchors = (config.units.boundary, config.units.source)
    notes: dict[str, str] = {}

    def fill(source: LayerSource) -> LayerSource:
        if any(source is a for a in anchors):
            return source
        filled, note = fill_missing_crs(source, frame.crs, bounds)
        if note:
            notes[filled.label] = note
        return filled

    filled = map_sources(config, fill)
    return (filled, notes) if notes else (config, {})


def date_notes(crime_layers, date: str | None) -> dict[str, str]:
    """Source label → note for crime layers whose dates need one (UTC offsets, day first).

    Parameters
    ----------
    crime_layers : iterable of (Layer, LayerSource)
        The crime layers as read.
    date : str or None
        The crimes' date column (no notes without one).

    Returns
    -------
    dict of str to str
    """
    notes = {}
    for layer, _ in crime_layers:
        if date is not None and date in layer.frame.columns:
            note = date_note(layer.frame[date])
            if note:
                notes[layer.report.source] = note
    return notes


def add_note(report: ReadReport, note: str) -> ReadReport:
    """The report with ``note`` appended to its notes.

    Parameters
    ----------
    report : ReadReport
    note : str
        "" leaves the report as it is.

    Returns
    -------
    ReadReport
    """
    if not note:
        return report
    joined = "; ".join(n for n in (report.note, note) if n)
    return dataclasses.replace(report, note=joined)


def add_notes(reads: list[ReadReport], notes: dict[str, str]) -> None:
    """Append each source's note to its read report (in place).

    Parameters
    ----------
    reads : list of ReadReport
        Changed in place.
    notes : dict of str to str
        Source label → note.
    """
    for i, report in enumerate(reads):
        if report.source in notes:
            reads[i] = add_note(report, notes[report.source])
