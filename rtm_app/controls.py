"""What an error says in the app: the control on the screen to change, not the TOML field.

:mod:`rtm_core` words each message for the TOML file and the ``rtm`` command: its field is the
setting as they name it (``crimes.date``, ``x``, ``crs``, ``seeds``, ``units.cell_size``) and
its fix says to edit it. On a page the analyst changes a control instead, so each page section
passes a map from those fields to its controls, and :func:`on_screen` rewrites the message to
name the control ("Fix: pick the column that holds the dates in 'Date column' above"). A
message whose field no control matches is shown as it is. No streamlit here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from rtm_core.errors import InputError, RTMError

__all__ = [
    "Control",
    "X_LABEL",
    "Y_LABEL",
    "CRS_LABEL",
    "DATE_LABEL",
    "PERIODS_LABEL",
    "TRAIN_PERIOD_LABEL",
    "TEST_PERIOD_LABEL",
    "SET_NAME_LABEL",
    "GPKG_LAYER_LABEL",
    "ROLE_LABEL",
    "ID_COLUMN_LABEL",
    "WORKING_CRS_LABEL",
    "LAYER_FORM",
    "STUDY_CHECK",
    "TRAIN_FORM",
    "FACTOR_FORM",
    "on_screen",
    "missing",
]

#: labels of the Data page's add-a-layer form (the form uses these constants)
X_LABEL = "x / longitude column"
Y_LABEL = "y / latitude column"
CRS_LABEL = "CRS of the coordinates"
DATE_LABEL = "Date column"
PERIODS_LABEL = "Training (t) and test (t+1) periods"
TRAIN_PERIOD_LABEL = "Training period (t)"
TEST_PERIOD_LABEL = "Test period (t+1)"
SET_NAME_LABEL = "Set name"
GPKG_LAYER_LABEL = "Layer in the GeoPackage"
ROLE_LABEL = "This file holds"
ID_COLUMN_LABEL = "Unit id column"
WORKING_CRS_LABEL = "Working CRS (projected, metres)"


@dataclass(frozen=True)
class Control:
    """A control on a page and what to do with it.

    Attributes
    ----------
    label : str
        The control's label, as the page shows it.
    action : str
        What to do there, as the start of a fix ("pick the column that holds the dates").
    where : str
        Where the control is, said after its label ("above", "on the Data page").
    keep_fix : bool
        For a problem in the data of a column chosen with this control ("is not numeric"):
        add the library's own fix ("or make the column numbers only").
    text : str
        The whole fix, where "<action> in '<label>' <where>" does not read well ("").
    """

    label: str
    action: str
    where: str = "above"
    keep_fix: bool = False
    text: str = ""

    def fix(self) -> str:
        """The fix naming the control: "<action> in '<label>' <where>" (or :attr:`text`)."""
        return self.text or f"{self.action} in '{self.label}' {self.where}"


_X = Control(X_LABEL, "pick the longitude (or projected x) column", keep_fix=True)
_Y = Control(Y_LABEL, "pick the latitude (or projected y) column", keep_fix=True)
_DATE = Control(DATE_LABEL, "pick the column that holds the dates (e.g. 2021-03-01)")
_PERIODS = Control(PERIODS_LABEL, "pick a preset, or both custom periods")

#: the Data page's add-a-layer form: library field -> control
LAYER_FORM: dict[str, Control] = {
    "x": _X,
    "y": _Y,
    "crs": Control(CRS_LABEL, "type the CRS of the coordinates (EPSG:4326 for lon/lat)"),
    "date": _DATE,
    "crimes.date": _DATE,
    "periods": _PERIODS,
    "crimes.train": Control(PERIODS_LABEL, "pick other training dates"),
    "crimes.test": Control(PERIODS_LABEL, "pick other test dates"),
    "train": Control(TRAIN_PERIOD_LABEL, "pick its first and last day"),
    "test": Control(TEST_PERIOD_LABEL, "pick its first and last day"),
    "name": Control(SET_NAME_LABEL, "type a name of letters, digits and _"),
    "layer": Control(GPKG_LAYER_LABEL, "pick the layer to add"),
    "role": Control(ROLE_LABEL, "pick what the file holds"),
    "id_column": Control(ID_COLUMN_LABEL, "pick the column of unit ids"),
}

#: the Data page's study check (layers already added): library field -> control
STUDY_CHECK: dict[str, Control] = {
    "units.crs": Control(WORKING_CRS_LABEL, "type a projected CRS in metres"),
    "crimes.train": Control(
        PERIODS_LABEL, "add the crimes file again and pick other training dates", where="below"
    ),
    "crimes.test": Control(
        PERIODS_LABEL, "add the crimes file again and pick other test dates", where="below"
    ),
}

#: the Train page's form
TRAIN_FORM: dict[str, Control] = {
    "kinds": Control("Models", "pick the deep-learning RTM, the classical RTM or both"),
    "loss": Control("Loss (deep-learning RTM)", "pick a loss"),
    "device": Control("Device", "pick a device"),
    "seeds": Control("Seeds", "type a whole number of seeds from 1"),
    "burn_in_steps": Control("Burn-in steps", "type a whole number of steps from 1"),
    "prune_steps": Control("Prune steps", "type a whole number of steps from 1"),
}

#: the Risk factors page's form ("source|field" where a field alone is ambiguous)
FACTOR_FORM: dict[str, Control] = {
    "units.cell_size": Control("Cell size (m)", "type a size in metres"),
    "units.snap_distance": Control("Snap distance for crimes (m)", "type a distance in metres"),
    "features.threshold": Control("Density threshold (z-score)", "type a number, e.g. 1.96"),
    "bandwidths": Control(
        "Bandwidths (m)",
        "type whole metres such as 100 200 400",
        where="in the layer's row of the generator table above",
    ),
    "measures": Control(
        "Distance dummies",
        "",
        text="tick 'Distance dummies' and/or 'Density dummies' in the layer's row of the "
        "generator table above",
    ),
    "crime history|bandwidths": Control(
        "History distances (m)", "type distances in metres, e.g. 150 300 600"
    ),
    "crime history|lags": Control(
        "Lags (periods before; 0 = off)", "choose 0 (off) or the periods before each target"
    ),
    "crime history|transform": Control("History as", "pick log(1 + count) or count"),
}


def _control(
    error: InputError, controls: Mapping[str, Control], columns: Mapping[str, str]
) -> tuple[Control | None, bool]:
    """The control a message points at, and whether its field is a column of the data."""
    field = error.field
    if field is None:
        return None, False
    if f"{error.source}|{field}" in controls:
        return controls[f"{error.source}|{field}"], False
    if field in columns and columns[field] in controls:
        return controls[columns[field]], True
    return controls.get(field), False


def on_screen(
    error: Exception, controls: Mapping[str, Control], columns: Mapping[str, str] | None = None
) -> str:
    """One line for the app: the message with its fix pointing at the on-screen control.

    Parameters
    ----------
    error : Exception
        An :class:`~rtm_core.errors.InputError` (or a
        :class:`~rtm_core.study.checks.Problem`: anything with ``source``, ``field``,
        ``problem`` and ``fix``); other errors keep their own first line.
    controls : mapping
        Library field (or ``"source|field"``) -> :class:`Control` of the page.
    columns : mapping, optional
        Column chosen in a control -> that control's field (``{"fecha_hecho": "date"}``), so
        a problem in a column's data points at the control that chose it.

    Returns
    -------
    str
        ``"<source>: <problem>. Fix: <what to do> in '<control>' above"``; a swapped lon/lat
        pair points at both column controls. Unmatched messages are unchanged.
    """
    if not all(hasattr(error, name) for name in ("source", "field", "problem", "fix")):
        text = str(error) if isinstance(error, RTMError) else f"Unexpected error: {error}"
        return text.splitlines()[0] if text else type(error).__name__
    columns = dict(columns or {})
    field = error.field or ""
    parts = field.split("/")
    if len(parts) == 2 and [columns.get(p) for p in parts] == ["x", "y"]:
        x, y = controls.get("x"), controls.get("y")
        if x is not None and y is not None:
            fix = f"pick the longitude in '{x.label}' and the latitude in '{y.label}' above"
            return f"{error.source}: {error.problem}. Fix: {fix}"
    control, in_column = _control(error, controls, columns)
    if control is None:
        return str(error).splitlines()[0]
    where = f"{error.source}, column '{field}'" if in_column else error.source
    fix = control.fix()
    if in_column and control.keep_fix and error.fix:
        fix += f", or {error.fix}"
    return f"{where}: {error.problem}. Fix: {fix}"


def missing(source: str, field: str, controls: Mapping[str, Control], problem: str) -> str:
    """The line for a control left empty ("crimes.csv: no date column chosen. Fix: pick ...").

    Parameters
    ----------
    source : str
        The file.
    field : str
        The library field the control sets (a key of ``controls``).
    controls : mapping
        As for :func:`on_screen`.
    problem : str
        What is missing.

    Returns
    -------
    str
    """
    return on_screen(InputError(source, field, problem, ""), controls)
