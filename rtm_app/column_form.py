"""The Data page's column controls of a table: coordinate columns, the date column, periods.

What they propose comes from :mod:`rtm_app.data_choices` (which asks
:mod:`rtm_core.study.guess`): coordinate columns by their names in any language and by their
values against the boundary, the date column by parsing, period presets the data covers.
A control the guess leaves empty shows what to pick, and the form adds nothing until it is
picked; the labels are :mod:`rtm_app.controls`' so that errors can name them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import streamlit as st

from rtm_app import controls, data_choices, state
from rtm_app.controls import LAYER_FORM
from rtm_app.dataset import suggest_periods
from rtm_core.config import LayerSource
from rtm_core.io.delimited import coordinate_roles
from rtm_core.study.guess import StudyExtent

__all__ = ["CUSTOM", "LayerForm", "coordinates", "dates"]

CUSTOM = "Custom dates"
_UNSET = object()


@dataclass
class LayerForm:
    """What the form holds for one upload: the source to read, add_layer options, choices.

    ``missing`` holds one line per control still empty (nothing is added while there is
    one); ``columns`` maps each column chosen in a control to the library field it sets
    (``{"longitud": "x"}``), so a problem in its data names the control.
    """

    source: LayerSource
    options: dict = field(default_factory=dict)
    choices: dict = field(default_factory=dict)
    missing: list = field(default_factory=list)
    columns: dict = field(default_factory=dict)


@st.cache_resource(max_entries=64, show_spinner="Looking at the columns...")
def _guess(key: str, what: str, _frame, *args):
    """A :mod:`rtm_app.data_choices` guess on a table, once per table (``key``) and args."""
    return getattr(data_choices, what)(_frame, *args)


def _named(columns: list[str], roles: tuple[str, str]) -> str | None:
    """The first column whose name says it holds one of ``roles`` (e.g. ``("x", "lon")``)."""
    return next((c for c in columns if coordinate_roles(c) & set(roles)), None)


def coordinates(frame, saved: dict, form_id: int, key: str, anchor) -> dict:
    """The coordinate controls of a table: the pairs found, x and y columns, their CRS.

    Parameters
    ----------
    frame : DataFrame
        The table as read.
    saved : dict
        Choices saved for this file (:func:`rtm_app.state.layer_choices`).
    form_id : int
        Number of the form (ends the widget keys).
    key : str
        The table's cache key.
    anchor : Layer or None
        The boundary or units layer as read: columns are judged by their values against it.

    Returns
    -------
    dict
        ``x``, ``y`` (None while not chosen: a warning says so) and ``crs``.
    """
    anchor_frame = anchor.frame if anchor is not None else None
    columns = list(map(str, frame.columns))
    options = _guess(key, "coordinate_options", frame, StudyExtent.of(anchor_frame))
    x_key, y_key = f"x_{form_id}", f"y_{form_id}"
    if options:
        index = data_choices.saved_index(options, saved)
        labels = [o.label for o in options]

        def follow() -> None:  # the x/y boxes follow the pair picked here
            picked = options[labels.index(state.widget_value(f"xy_{form_id}"))]
            state.set_widget_values(**{x_key: picked.x, y_key: picked.y})

        state.forget_stale(f"xy_{form_id}", labels)
        st.radio(
            "Coordinate columns found",
            labels,
            index=index,
            key=f"xy_{form_id}",
            on_change=follow,
            help="Found by their names and values (lon/lat within the boundary). Complete "
            "projected x/y are preferred over lon/lat with gaps: rows without coordinates "
            "are dropped.",
        )
        first = options[index]
        x0, y0 = (saved["x"], saved["y"]) if index == 0 and saved.get("x") else (first.x, first.y)
    else:  # names alone (non-numeric values are reported when the layer is added)
        x0 = saved.get("x") or _named(columns, ("x", "lon"))
        y0 = saved.get("y") or _named(columns, ("y", "lat"))
    unrecognised = st.empty()
    left, right = st.columns(2)
    for key, value in ((x_key, x0), (y_key, y0)):  # the pair picked above moves these
        state.forget_stale(key, columns)
        unset = state.widget_value(key, _UNSET) is _UNSET  # first run, or another file
        if unset and value in columns:  # a box the analyst emptied stays empty
            state.set_widget_values(**{key: value})
    x = left.selectbox(
        controls.X_LABEL, columns, index=None, key=x_key, placeholder="pick the column"
    )
    y = right.selectbox(
        controls.Y_LABEL, columns, index=None, key=y_key, placeholder="pick the column"
    )
    if x is None or y is None:
        unrecognised.warning(
            f"No coordinate columns recognised: pick them in '{controls.X_LABEL}' and "
            f"'{controls.Y_LABEL}' below.",
            icon=":material/warning:",
        )
        return {"x": x, "y": y, "crs": ""}
    suggested, note = data_choices.crs_for_columns(frame, x, y, anchor_frame)
    same_pair = saved.get("crs") and (saved.get("x"), saved.get("y")) == (x, y)
    crs = st.text_input(
        controls.CRS_LABEL,
        value=saved["crs"] if same_pair else suggested,
        placeholder="e.g. EPSG:26971",
        help="EPSG:4326 for lon/lat; the projected CRS of x/y otherwise",
        key=f"crs_{form_id}_{x}_{y}",
    )
    if note and crs.strip() == suggested:
        st.caption(note)
    return {"x": x, "y": y, "crs": crs.strip()}


def dates(form: LayerForm, frame, saved: dict, form_id: int, key: str) -> None:
    """The date column and the training and test periods of a crimes table, into ``form``
    (its options and choices; a line in ``form.missing`` for each control left empty).

    Parameters
    ----------
    form : LayerForm
        The form being filled (its x/y columns are not offered as dates).
    frame : DataFrame
        The table (or the layer's attributes).
    saved : dict
        Choices saved for this file.
    form_id : int
        Number of the form.
    key : str
        The table's cache key.
    """
    xy = (form.choices.get("x"), form.choices.get("y"))
    columns = [c for c in map(str, frame.columns) if c not in xy]
    guess = _guess(key, "date_column", frame)
    default = saved.get("date") if saved.get("date") in columns else guess
    index = columns.index(default) if default in columns else None
    state.forget_stale(f"date_{form_id}", columns)
    date = st.selectbox(
        controls.DATE_LABEL,
        columns,
        index=index,
        key=f"date_{form_id}",
        placeholder="pick the column of crime dates",
    )
    label = form.source.label
    if date is None:
        form.missing.append(controls.missing(label, "date", LAYER_FORM, "no date column chosen"))
        return
    form.columns[date] = "date"
    if guess is not None and date == guess:
        st.caption("Detected by parsing the values as dates.")
    form.options["date"] = form.choices["date"] = date
    presets = _guess(key, "period_options", frame, date)
    pick = _period_choice(presets, saved, form_id)
    if pick != CUSTOM:
        preset = presets[[p.label for p in presets].index(pick)]
        train, test = preset.train, preset.test
    else:
        halves = suggest_periods(frame, date)
        periods = []
        for name, field_key, widget, half in (
            (controls.TRAIN_PERIOD_LABEL, "train", "t", 0),
            (controls.TEST_PERIOD_LABEL, "test", "u", 1),
        ):
            value = data_choices.as_dates(saved.get(field_key))
            picked = st.date_input(
                name, value=value or (halves[half] if halves else ()), key=f"{widget}_{form_id}"
            )
            if len(picked) != 2:
                form.missing.append(
                    controls.missing(label, field_key, LAYER_FORM, f"{name} is not complete")
                )
            periods.append(tuple(d.isoformat() for d in picked))
        if form.missing:
            return
        train, test = periods
    form.options |= {"train": tuple(train), "test": tuple(test)}
    form.choices |= {"train": list(train), "test": list(test), "preset": pick}


def _period_choice(presets: list, saved: dict, form_id: int) -> str:
    """The period radio: a preset, or "Custom dates". It moves to the first preset when
    presets appear (a date column chosen) unless the analyst picked custom dates while
    presets were offered."""
    labels = [p.label for p in presets] + [CUSTOM]
    key, explicit = f"periods_{form_id}", f"periods_custom_{form_id}"
    state.forget_stale(key, labels)
    if state.widget_value(key) is None:
        chosen = data_choices.saved_preset(presets, saved)
        state.set_widget_values(**{key: chosen if chosen in labels else labels[0]})
    elif state.widget_value(key) == CUSTOM and presets and not state.widget_value(explicit):
        state.set_widget_values(**{key: labels[0]})

    def remember() -> None:  # custom dates picked while presets were offered stay picked
        state.set_widget_values(**{explicit: state.widget_value(key) == CUSTOM and bool(presets)})

    return st.radio(
        controls.PERIODS_LABEL,
        labels,
        key=key,
        on_change=remember,
        help="Crime counts per period are shown before you add the layer.",
    )
