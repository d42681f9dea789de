"""The Data page's place-name control: which column names the places (the brief lists its
top places by these names).

Shown for a places layer (beats, neighbourhoods, districts) and for a boundary of several
areas. The column is guessed (:func:`rtm_core.study.places.guess_name_column`: by its name in
several languages and by its values) and pre-filled; the analyst may pick another or none.
"""

from __future__ import annotations

import streamlit as st

from rtm_app import cache
from rtm_app.dataset import NO_NAMES
from rtm_core.errors import RTMError
from rtm_core.study.places import guess_name_column

__all__ = ["suggest_place_column", "place_name_control"]


def suggest_place_column(frame, role: str) -> str | None:
    """The name column to pre-fill, or None.

    A boundary of one polygon names nothing (it is the whole study area), so it gets no
    suggestion; a places layer or a boundary of several areas gets the guessed column.

    Parameters
    ----------
    frame : GeoDataFrame
        The layer as read.
    role : {"places", "boundary"}

    Returns
    -------
    str or None
    """
    if role == "boundary" and len(frame) < 2:
        return None
    return guess_name_column(frame)


def place_name_control(form, saved: dict, form_id: int, role: str) -> None:
    """The "Place name column" box, pre-filled; sets ``form.options["place_name"]``.

    Parameters
    ----------
    form : LayerForm
        The upload's form (:class:`rtm_app.data_form.LayerForm`).
    saved : dict
        Choices remembered for this file.
    form_id : int
        Ends the widget key.
    role : {"places", "boundary"}
    """
    try:
        frame = cache.layer(form.source).frame
    except RTMError:  # the layer's problems are listed when it is added
        return
    if role == "boundary" and len(frame) < 2:
        return  # one polygon: the whole area, no place names from it
    columns = [str(c) for c in frame.columns if c != frame.geometry.name]
    options = [NO_NAMES, *columns]
    guess = suggest_place_column(frame, role)
    default = saved.get("place_name") if saved.get("place_name") in options else guess
    choice = st.selectbox(
        "Place name column",
        options,
        index=options.index(default) if default in options else 0,
        key=f"place_{form_id}",
        help="The brief names its top places by this column (e.g. NOMBRE, name, district).",
    )
    if guess is not None and choice == guess:
        st.caption("Guessed from the column names and values.")
    form.options["place_name"] = form.choices["place_name"] = choice
