"""From a run configuration to a study: units, crimes per period, generator layers.

This is where the config meets the data: every layer is read through :mod:`rtm_core.io`,
brought into the working CRS, the units are built and the crimes counted per period.
:func:`load_study` reads in three stages: the units (from the boundary or the units layer,
which also decides the working CRS), the crimes of each period (and their history), then the
generator layers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import CRS

from rtm_core.config import RunConfig, UnitsConfig
from rtm_core.errors import InputError, check_cancel
from rtm_core.io import Layer, ReadReport, to_working_crs
from rtm_core.study.crime_history import CrimeHistory, check_reaches_back
from rtm_core.study.crimes import load_crimes, read_source, split_periods
from rtm_core.study.generators import GeneratorLayer
from rtm_core.study.places import Places, places_from_frame, unit_places
from rtm_core.study.prepare import (
    add_note,
    add_notes,
    date_notes,
    fill_config_crs,
    prepare_anchor,
    repair_layer,
)
from rtm_core.study.reach import check_not_swapped, is_near, reach_box
from rtm_core.study.units import CountReport, Units, count_crimes, grid_units, units_from_layer

__all__ = [
    "PILED_CRIMES",
    "Study",
    "load_study",
    "split_periods",
    "check_outcome_varies",
]

#: this many training crimes or more, all in one unit, are refused as a data error (geocoded
#: to one default point, or the wrong CRS squeezing them together)
PILED_CRIMES = 10


@dataclass(frozen=True)
class Study:
    """Everything the models need before risk factors.

    Attributes
    ----------
    units : Units
    crimes_train, crimes_test : ndarray of shape (m, 2)
        Crime coordinates of each period (working CRS), all of them (also those outside).
    y_train, y_test : ndarray of int64
        Crimes per unit.
    generators : tuple of GeneratorLayer
    boundary : GeoDataFrame or None
        Study area (grid units).
    reads : tuple of ReadReport
        One per layer read.
    counts : tuple of CountReport
        Training and test assignment.
    crs : pyproj.CRS
        Working CRS.
    history : CrimeHistory or None
        Every dated crime (all periods, for history windows and the forecast period), or,
        without dates but with ``[history] files``, the crimes of each period; None otherwise.
    places : Places or None
        Named areas and each unit's place name (``[places]``, or the boundary's or units'
        own name column); None when there are no names.
    """

    units: Units
    crimes_train: np.ndarray
    crimes_test: np.ndarray
    y_train: np.ndarray
    y_test: np.ndarray
    generators: tuple[GeneratorLayer, ...]
    boundary: gpd.GeoDataFrame | None
    reads: tuple[ReadReport, ...]
    counts: tuple[CountReport, ...]
    crs: CRS
    history: CrimeHistory | None = None
    places: Places | None = None

    def summary(self) -> pd.DataFrame:
        """One row per layer read: rows read, dropped, kept, CRS and notes."""
        return pd.DataFrame([r.__dict__ for r in self.reads])

    @property
    def covariates(self) -> pd.DataFrame:
        """The units' own fixed covariates (columns beyond id/geometry/row/col), one row per
        unit in unit order; crime history joins them per period in
        :mod:`rtm_core.factors.designs`."""
        skip = {"unit_id", "row", "col", "geometry"}
        cols = [c for c in self.units.frame.columns if c not in skip]
        return pd.DataFrame(self.units.frame[cols])


def load_study(
    config: RunConfig,
    *,
    progress: Callable[[str], None] | None = None,
    cancel=None,
    max_cells: int | None = None,
) -> Study:
    """Read every layer, build the units and count the crimes of both periods.

    Parameters
    ----------
    config : RunConfig
    progress : callable, optional
        ``progress(message)`` as each layer is read.
    cancel : object with ``is_set()``, optional
    max_cells : int, optional
        Largest grid built; default ``config.units.max_cells`` (1,000,000 cells unless the
        analyst raised it to confirm a large grid).

    Returns
    -------
    Study

    Raises
    ------
    InputError
        A layer cannot be used; the message names the file, the field and the fix.
    """
    say = progress or (lambda message: None)
    reads: list[ReadReport] = []
    say("reading units")
    units, boundary, anchor, crs = _read_units(config.units, reads, max_cells)
    config, crs_notes = fill_config_crs(config, anchor)  # bare x/y fitting the anchor's CRS
    places = _read_places(config, units, boundary, anchor, crs, reads)
    check_cancel(cancel)
    say("reading crimes")
    crimes = _read_crimes(config, units, crs, reads)
    generators = _read_generators(config, units, crs, reads, say, cancel)
    add_notes(reads, crs_notes | date_notes(crimes.layers, config.crimes.date))
    return Study(
        units=units,
        crimes_train=crimes.train_xy,
        crimes_test=crimes.test_xy,
        y_train=crimes.y_train,
        y_test=crimes.y_test,
        generators=generators,
        boundary=boundary,
        reads=tuple(reads),
        counts=crimes.counts,
        crs=crs,
        history=crimes.history,
        places=places,
    )


def _read_places(
    config: RunConfig, units: Units, boundary, anchor: Layer, crs: CRS, reads: list
) -> Places | None:
    """Named areas from ``[places]``, else the boundary's (or polygon units') name column.

    Without ``[places]`` a single boundary polygon names nothing (it is the whole city);
    the boundary's name column is guessed only when it holds several polygons.
    """
    pcfg = config.places
    if pcfg.name == "":
        return None
    if pcfg.source is not None:
        layer = read_source(pcfg.source, reads)
        frame, repaired = repair_layer(to_working_crs(layer, crs), layer.report.source)
        label = layer.report.source
    elif units.kind in ("grid", "polygon"):
        label = anchor.report.source
        frame = boundary
        if frame is None:  # polygon units: their own layer, repaired as the units were
            frame = repair_layer(to_working_crs(anchor, crs), label)[0]
        if pcfg.name is None and len(frame) < 2:
            return None
    else:
        return None
    found = places_from_frame(frame, pcfg.name, label)
    if found is None:
        return None
    areas, column, guessed = found
    reach = units.grid.cell_size if units.grid is not None else config.units.snap_distance
    places = Places(areas, column, label, guessed, unit_places(units.points, areas, reach))
    if pcfg.source is not None:
        reads[-1] = add_note(reads[-1], "; ".join(n for n in (repaired, places.note) if n))
    return places


def _read_units(
    ucfg: UnitsConfig, reads: list, max_cells: int | None
) -> tuple[Units, gpd.GeoDataFrame | None, Layer, CRS]:
    """The units (a grid over the boundary, or the units layer), the boundary, the anchor
    layer as read, and the working CRS it decides."""
    if ucfg.kind != "grid":
        layer = read_source(ucfg.source, reads)
        frame, crs, note = prepare_anchor(layer, ucfg.crs, role="units layer")
        reads[-1] = add_note(reads[-1], note)
        units = units_from_layer(
            frame,
            id_column=ucfg.id_column,
            fixed_columns=ucfg.fixed_columns,
            source=layer.report.source,
        )
        return units, None, layer, crs
    layer = read_source(ucfg.boundary, reads)
    if layer.geom_type != "polygon":
        raise InputError(
            layer.report.source,
            "geometry",
            "the boundary must be a polygon",
            "upload the study-area polygon",
        )
    # working CRS (a feet CRS gives way to metres) and invalid polygons repaired, said
    boundary, crs, note = prepare_anchor(layer, ucfg.crs)
    reads[-1] = add_note(reads[-1], note)
    units = grid_units(
        boundary,
        ucfg.cell_size,
        keep=ucfg.keep,
        max_cells=ucfg.max_cells if max_cells is None else max_cells,
        source=layer.report.source,
    )
    return units, boundary, layer, crs


@dataclass(frozen=True)
class _Crimes:
    """The crimes of a study as counted on its units."""

    train_xy: np.ndarray
    test_xy: np.ndarray
    y_train: np.ndarray
    y_test: np.ndarray
    counts: tuple[CountReport, CountReport]
    layers: tuple
    history: CrimeHistory | None


def _read_crimes(config: RunConfig, units: Units, crs: CRS, reads: list) -> _Crimes:
    """Crimes of both periods counted per unit, refused when they cannot be modelled."""
    ucfg = config.units
    train_xy, test_xy, layers, history = load_crimes(config.crimes, crs, reads, config.history)
    if history is not None:
        check_reaches_back(history)  # the oldest lag window needs crimes
    y_train, train_report = count_crimes(
        units, train_xy, snap_distance=ucfg.snap_distance, period="train"
    )
    y_test, test_report = count_crimes(
        units, test_xy, snap_distance=ucfg.snap_distance, period="test"
    )
    _check_crimes(config, units, crs, layers, train_xy, test_xy, y_train, train_report)
    return _Crimes(train_xy, test_xy, y_train, y_test, (train_report, test_report), layers, history)


def _check_crimes(config, units, crs, layers, train_xy, test_xy, y_train, train_report) -> None:
    """Refuse crimes that miss a period, the study area, or pile up in one unit."""
    crime_label = (config.crimes.source or config.crimes.train_source).label
    if len(train_xy) == 0:
        raise InputError(
            crime_label,
            "crimes.train",
            "no crimes in the training period",
            "check the period dates or the file",
        )
    if train_report.n_counted == 0:
        for crime_layer, crime_source in layers:
            check_not_swapped(crime_layer, crime_source, crs, reach_box(units, 0.0))
        raise InputError(
            crime_label,
            "geometry",
            "no training crime falls inside the study area",
            "check the crimes' CRS and that they cover the boundary",
        )
    occupied = np.flatnonzero(y_train)
    if len(occupied) == 1 and len(units) > 1 and y_train.sum() >= PILED_CRIMES:
        raise InputError(
            crime_label,
            "geometry",
            f"every training crime ({int(y_train.sum())}) falls in one unit "
            f"(unit_id {units.unit_ids[occupied[0]]}), so risk cannot vary over space",
            "check the crimes' coordinates and CRS (all geocoded to one default point?)",
        )
    if len(test_xy) == 0:
        test_label = (config.crimes.source or config.crimes.test_source).label
        raise InputError(
            test_label,
            "crimes.test",
            "no crimes in the test period",
            "check the period dates or the file",
        )


def _read_generators(
    config: RunConfig, units: Units, crs: CRS, reads: list, say, cancel
) -> tuple[GeneratorLayer, ...]:
    """Every generator layer in the working CRS, refused when none of it reaches the units."""
    generators = []
    for gcfg in config.generators:
        check_cancel(cancel)
        say(f"reading {gcfg.name}")
        glayer = read_source(gcfg.source, reads)
        glayer.geom_type  # noqa: B018  (raises on mixed geometry types)
        gframe, repaired = repair_layer(to_working_crs(glayer, crs), glayer.report.source)
        reads[-1] = add_note(reads[-1], repaired)
        generator = GeneratorLayer.from_frame(gcfg.name, gframe, gcfg.measures, gcfg.bandwidths)
        if not is_near(generator, units):
            check_not_swapped(glayer, gcfg.source, crs, reach_box(units, max(gcfg.bandwidths)))
            raise InputError(
                glayer.report.source,
                "geometry",
                "no feature lies within reach of the study area",
                "check the layer's CRS (wrong .prj or crs?) and that it covers the study area",
            )
        generators.append(generator)
    return tuple(generators)


def check_outcome_varies(study: Study, label: str) -> None:
    """Refuse to fit a model when the training crimes occupy fewer than two units.

    Parameters
    ----------
    study : Study
        As from :func:`load_study` (so at least one training crime was counted).
    label : str
        The crimes file, for the message.

    Raises
    ------
    InputError
        The outcome has no spatial variation, so no risk factor can explain it.
    """
    occupied = np.flatnonzero(study.y_train)
    if len(occupied) < 2:
        raise InputError(
            label,
            "geometry",
            f"every training crime ({int(study.y_train.sum())}) falls in one unit "
            f"(unit_id {study.units.unit_ids[occupied[0]]}), so risk cannot vary over space",
            "check the crimes' coordinates and CRS, or use a longer training period",
        )
