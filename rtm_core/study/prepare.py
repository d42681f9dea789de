"""The anchor layer (boundary or units) on its way into a study: working CRS, repair, notes.

:func:`load_study` reads the anchor first; what it decides here (the working CRS, repaired
polygons, the boundary's CRS for bare x/y columns) is said in the read reports' notes, so the
data summary shows it.
"""

from __future__ import annotations

import dataclasses

import geopandas as gpd
from pyproj import CRS

from rtm_core.config import RunConfig
from rtm_core.io import Layer, ReadReport, to_working_crs, working_crs
from rtm_core.io.delimited import fill_missing_crs
from rtm_core.io.tables import offset_note
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
    """Repair a layer's invalid polygons (points and lines pass); returns it and the note."""
    frame, repairs = repair_polygons(frame, source=source)
    return frame, repair_note(repairs)


def fill_config_crs(config: RunConfig, anchor: Layer) -> tuple[RunConfig, dict[str, str]]:
    """Give bare x/y tables (crimes, generators) the anchor's CRS where their ranges fit it.

    Returns
    -------
    config : RunConfig
        With ``crs`` set on those sources.
    notes : dict of str to str
        Source label → note, for :func:`add_notes` once the layers are read.
    """
    frame = anchor.frame
    if frame.crs is None or not frame.crs.is_projected:
        return config, {}
    bounds = tuple(frame.total_bounds)
    notes: dict[str, str] = {}

    def fill(source):
        if source is None:
            return None
        filled, note = fill_missing_crs(source, frame.crs, bounds)
        if note:
            notes[filled.label] = note
        return filled

    crimes = dataclasses.replace(
        config.crimes,
        source=fill(config.crimes.source),
        train_source=fill(config.crimes.train_source),
        test_source=fill(config.crimes.test_source),
    )
    generators = tuple(dataclasses.replace(g, source=fill(g.source)) for g in config.generators)
    if not notes:
        return config, {}
    return config.replace(crimes=crimes, generators=generators), notes


def date_notes(crime_layers, date: str | None) -> dict[str, str]:
    """Source label → note for crime layers whose dates carry UTC offsets."""
    notes = {}
    for layer, _ in crime_layers:
        if date is not None and date in layer.frame.columns:
            note = offset_note(layer.frame[date])
            if note:
                notes[layer.report.source] = note
    return notes


def add_note(report: ReadReport, note: str) -> ReadReport:
    """The report with ``note`` appended to its notes."""
    if not note:
        return report
    joined = "; ".join(n for n in (report.note, note) if n)
    return dataclasses.replace(report, note=joined)


def add_notes(reads: list[ReadReport], notes: dict[str, str]) -> None:
    """Append each source's note to its read report (in place)."""
    for i, report in enumerate(reads):
        if report.source in notes:
            reads[i] = add_note(report, notes[report.source])
