"""The Data page's controls: the add-a-layer form, the working CRS and the study check.

The page stays a layout; what the controls propose comes from :mod:`rtm_app.data_choices`
(which asks :mod:`rtm_core.study.guess`, :mod:`rtm_core.io.crs` and :mod:`rtm_core.study.checks`).
Choices made for a file are remembered per (role, file name), so re-adding the same file
restores its columns, CRS and periods.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from rtm_app import cache, controls, data_choices, maps, places_form, state, widgets
from rtm_app.column_form import LayerForm, coordinates, dates
from rtm_app.controls import LAYER_FORM, STUDY_CHECK, on_screen
from rtm_app.dataset import ROLES, DataSet, add_layer, generator_name
from rtm_core.config import LayerSource
from rtm_core.errors import RTMError
from rtm_core.io import list_layers
from rtm_core.study.checks import check_study

#: what the uploader accepts (``.gz`` covers ``.csv.gz``)
FILE_TYPES = ["csv", "txt", "tsv", "gz", "xlsx", "geojson", "json", "gpkg", "zip"]
#: the map's choice of layers, a copy kept across pages, and the data set's layers then
MAP_LAYERS, _MAP_SHOWN, _MAP_KNOWN = "data_map_layers", "rtm_map_shown", "rtm_map_known"
FILE_HELP = (
    "CSV (also .csv.gz, a .zip holding one CSV, ; separated with decimal commas), Excel .xlsx, "
    "GeoJSON, GeoPackage or a zipped shapefile"
)


@st.cache_resource(max_entries=16, show_spinner="Reading the table...")
def _table(key: str, _source: LayerSource):
    return data_choices.read_table_or_none(_source)


def anchor_layer(data: DataSet):
    """The boundary/units layer as read (None when there is none or it cannot be read)."""
    for role, _, source in data.layers():
        if role in ("boundary", "units"):
            try:
                return cache.layer(source)
            except RTMError:
                return None
    return None


def layer_form(data: DataSet, role: str, upload, form_id: int) -> LayerForm | None:
    """The controls for one uploaded file.

    Parameters
    ----------
    data : DataSet
        The current data set (its boundary guides the CRS of x/y columns).
    role : str
        What the file holds (see :data:`rtm_app.dataset.ROLES`).
    upload : UploadedFile
        What ``st.file_uploader`` returned.
    form_id : int
        Number of the form (:func:`rtm_app.state.upload_form_id`); ends the widget keys.

    Returns
    -------
    LayerForm or None
        None when the file's table cannot be read (the reason is shown).
    """
    saved = state.layer_choices(role, upload.name)
    probe = LayerSource(data=upload.getvalue(), name=upload.name)
    probe_key = cache.source_key(probe)
    choices: dict = {}
    try:
        frame = _table(probe_key, probe)
    except RTMError as exc:
        widgets.show_error(exc)
        return None
    if frame is not None:
        choices |= coordinates(frame, saved, form_id, probe_key, anchor_layer(data))
    elif Path(upload.name).suffix.lower() == ".gpkg":
        names = list_layers(probe)
        index = names.index(saved["layer"]) if saved.get("layer") in names else 0
        choices["layer"] = st.selectbox(
            controls.GPKG_LAYER_LABEL, names, index=index, key=f"gpkg_{form_id}"
        )
    if frame is None:
        choices["crs"] = st.text_input(
            controls.CRS_LABEL,
            value=saved.get("crs", ""),
            placeholder="e.g. EPSG:26971",
            help="Only needed when the file has no CRS (e.g. a shapefile without .prj)",
            key=f"crs_{form_id}",
        )
    source = state.upload_source(
        upload,
        layer=choices.get("layer"),
        x=choices.get("x"),
        y=choices.get("y"),
        crs=choices.get("crs"),
    )
    form = LayerForm(source, choices=choices)
    for key in ("x", "y"):
        if frame is not None and choices.get(key) is None:
            form.missing.append(
                controls.missing(upload.name, key, LAYER_FORM, f"no {key} column chosen")
            )
        elif choices.get(key) is not None:
            form.columns[choices[key]] = key
    if role == "generator":
        name = st.text_input(
            controls.SET_NAME_LABEL,
            value=saved.get("name") or generator_name(upload.name),
            key=f"n_{form_id}",
        )
        form.options["name"] = form.choices["name"] = name
    elif role == "crimes":
        dated = frame if frame is not None else _layer_table(source)
        key = probe_key if frame is not None else cache.source_key(source)
        if dated is not None:
            dates(form, dated, saved, form_id, key)
    elif role == "units":
        _units(form, saved, form_id)
    elif role in ("places", "boundary"):
        places_form.place_name_control(form, saved, form_id, role)
    return form


def _layer_table(source: LayerSource):
    try:
        return cache.layer(source).frame.drop(columns="geometry")
    except RTMError as exc:
        widgets.show_error(exc)
        return None


def _units(form: LayerForm, saved: dict, form_id: int) -> None:
    try:
        columns = [c for c in cache.layer(form.source).frame.columns if c != "geometry"]
    except RTMError as exc:
        widgets.show_error(exc)
        columns = []
    options = ["(row number)", *columns]
    index = options.index(saved["id_column"]) if saved.get("id_column") in options else 0
    id_column = st.selectbox(controls.ID_COLUMN_LABEL, options, index=index, key=f"id_{form_id}")
    fixed = st.multiselect(
        "Fixed covariates (always in the model)",
        columns,
        default=[c for c in saved.get("fixed", []) if c in columns],
        key=f"fixed_{form_id}",
    )
    form.options["id_column"] = None if id_column == "(row number)" else id_column
    form.options["fixed_columns"] = tuple(fixed)
    form.choices |= {"id_column": id_column, "fixed": list(fixed)}


def add(data: DataSet, role: str, form: LayerForm, file_name: str) -> None:
    """Check the layer completely, then add it; on problems list them all and change nothing.

    Parameters
    ----------
    data : DataSet
        The current data set.
    role : str
        What the file holds.
    form : LayerForm
        The form's source, options and choices (:func:`layer_form`).
    file_name : str
        The uploaded file's name (its choices are remembered under it).
    """
    if form.missing:
        for line in form.missing:
            st.error(line, icon=":material/error:")
        return
    problems = data_choices.layer_problems(
        form.source, role, date=form.options.get("date"), boundary=anchor_layer(data)
    )
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        for problem in errors:
            st.error(on_screen(problem, LAYER_FORM, form.columns), icon=":material/error:")
        return
    try:
        new = add_layer(data, role, form.source, reader=cache.layer, **form.options)
        if role in ("boundary", "units"):
            layer = cache.layer(form.source)
            new = data_choices.with_working_crs(
                new, data_choices.suggest_working_crs(layer.frame, role).crs
            )
    except RTMError as exc:
        widgets.show_error(exc, LAYER_FORM, form.columns)
        return
    if new.name == "Chicago demo":
        new = new.replace(name="Chicago demo, edited")
    state.remember_layer_choices(role, file_name, form.choices)
    state.set_dataset(new)
    state.next_upload_form()
    notes = [f"\n- {data_choices.problem_line(p)}" for p in problems]
    what = ROLES[role].split(" (")[0].lower()
    widgets.flash(f"Added {file_name} as {what}." + ("\n" if notes else "") + "".join(notes))
    st.rerun()


def layer_map(data: DataSet, entries: list) -> None:
    """The map of the layers read, with the choice of layers shown.

    Parameters
    ----------
    data : DataSet
        The current data set (the map is cached under its content key).
    entries : list of (str, str, Layer)
        Role, name and layer as read (:func:`rtm_app.cache.layer_entries`).
    """
    names = [name for _, name, _ in entries]
    colors = maps.layer_colors(names)
    shown = data_choices.map_layers_shown(
        names,
        data_choices.default_map_layers(entries),
        state.widget_value(MAP_LAYERS, state.widget_value(_MAP_SHOWN)),
        state.widget_value(_MAP_KNOWN),
    )
    state.set_widget_values(**{MAP_LAYERS: shown, _MAP_KNOWN: names})
    shown = st.multiselect("Layers on the map", names, key=MAP_LAYERS)
    state.set_widget_values(**{_MAP_SHOWN: shown})  # kept while another page is open
    named = [(name, layer.frame) for _, name, layer in entries if name in shown]
    key = cache.dataset_key(data) + "|".join(shown)
    deck = cache.data_map(key, named, names, state.online_basemap())
    st.pydeck_chart(deck, height=520, key="data_map")
    widgets.legend([(colors[name], name) for name in shown])
    st.caption(f"Point layers show at most {maps.SAMPLE_POINTS:,} points each.")


def working_crs_control(data: DataSet) -> None:
    """The Working CRS box: pre-filled, editable, validated; it sets ``units.crs``."""
    anchor = anchor_layer(data)
    if anchor is None or data.units is None:
        return
    role = "boundary" if data.units.kind == "grid" else "units layer"
    suggested = data_choices.suggest_working_crs(anchor.frame, role)
    current = data.units.crs or suggested.crs
    key = f"working_crs_{cache.dataset_key(data)[:12]}"
    text = st.text_input(
        controls.WORKING_CRS_LABEL,
        value=current,
        key=key,
        help="Distances, bandwidths and grid cells are measured in this CRS.",
    )
    try:
        checked = data_choices.check_working_crs(text)
    except RTMError as exc:
        widgets.show_error(exc)
        return
    if checked != data.units.crs:
        state.set_dataset(data_choices.with_working_crs(data, checked))
        st.rerun()
    st.caption(data_choices.crs_reason(checked, suggested))


@st.cache_resource(max_entries=4, show_spinner="Checking every layer...")
def _study_problems(key: str, _config):
    return check_study(_config)


def study_check(data: DataSet, unreadable: list[Exception]) -> None:
    """The counts and the working CRS when the study loads; else every problem at once.

    Parameters
    ----------
    data : DataSet
        The current data set.
    unreadable : list of Exception
        The errors met reading the layers for the map, shown while the data set is
        incomplete (a complete one is checked whole).
    """
    if data.missing():
        st.warning("Still missing: " + ", ".join(data.missing()) + ".", icon=":material/warning:")
        for exc in unreadable:
            widgets.show_error(exc)
        return
    config = data.run_config()
    try:
        study = cache.study(config)
    except RTMError as exc:
        found = [
            p for p in _study_problems(cache.config_key(config), config) if p.severity == "error"
        ]
        for problem in found or [exc]:
            st.error(on_screen(problem, STUDY_CHECK), icon=":material/error:")
        return
    train, test = study.counts
    cols = st.columns(4)
    cols[0].metric("Units", f"{len(study.units):,}", help=f"kind: {study.units.kind}")
    for col, count, period in ((cols[1], train, "t"), (cols[2], test, "t+1")):
        col.metric(
            f"Crimes in period {period}",
            f"{count.n_counted:,}",
            f"{count.n_outside:,} outside the units",
            delta_color="off",
            delta_arrow="off",
        )
    cols[3].metric("Working CRS", data_choices.crs_name(study.crs))
    notes = [f"{r.source}: {r.note}" for r in study.reads if r.note]
    if notes:
        st.caption("Notes: " + "; ".join(notes))
    st.page_link(widgets.FACTORS_PAGE, label="Next: risk factors", icon=":material/layers:")
