"""Data: the layers of the study. The Chicago demo is ready on a first visit."""

from pathlib import Path

import streamlit as st

from rtm_app import cache, maps, state, widgets
from rtm_app.dataset import (
    ROLES,
    DataSet,
    add_layer,
    generator_name,
    suggest_periods,
    summary_table,
)
from rtm_core.config import LayerSource
from rtm_core.errors import RTMError
from rtm_core.io import list_layers

NO_COLUMN = "(detect lon/lat columns)"
FILE_TYPES = ["csv", "txt", "tsv", "geojson", "json", "gpkg", "zip"]

st.title("Data")
st.caption(
    "Units of analysis (a study-area boundary cut into grid cells, or your own street "
    "segments, intersections or polygons), crimes of a training period (t) and a test period "
    "(t+1), and one layer per crime generator."
)
widgets.show_flash()
data = state.dataset()
form_id = st.session_state.setdefault("rtm_upload_form", 0)

head = st.columns([3, 1, 1], vertical_alignment="center")
head[0].markdown(f"Data set: **{data.name}** · {len(data.layers())} layers")
if head[1].button("Load demo", icon=":material/restart_alt:", width="stretch"):
    state.set_dataset(DataSet.demo())
    st.rerun()
if head[2].button("Start empty", icon=":material/add:", width="stretch"):
    state.set_dataset(DataSet("My data"))
    st.rerun()

entries, problems = cache.layer_entries(data)
for problem in problems:
    widgets.show_error(problem)

add_col, map_col = st.columns([2, 3], gap="large")

with add_col:
    st.subheader("Add a layer")
    role = st.radio("This file holds", list(ROLES), format_func=ROLES.get, key=f"role_{form_id}")
    upload = st.file_uploader(
        "Layer file: CSV, GeoJSON, GeoPackage or zipped shapefile",
        type=FILE_TYPES,
        key=f"file_{form_id}",
    )
    options: dict = {}
    source = None
    if upload is not None:
        suffix = Path(upload.name).suffix.lower()
        columns: list[str] = []
        layer_name = x = y = None
        if suffix == ".gpkg":
            probe = LayerSource(data=upload.getvalue(), name=upload.name)
            names = list_layers(probe)
            layer_name = st.selectbox("Layer in the GeoPackage", names, key=f"gpkg_{form_id}")
        if suffix in (".csv", ".txt", ".tsv"):
            columns = cache.csv_columns(upload.getvalue())
            x = st.selectbox("x / longitude column", [NO_COLUMN, *columns], key=f"x_{form_id}")
            y = st.selectbox("y / latitude column", [NO_COLUMN, *columns], key=f"y_{form_id}")
            x, y = (None, None) if NO_COLUMN in (x, y) else (x, y)
            crs_help = "EPSG:4326 for lon/lat; the projected CRS of x/y otherwise"
        else:
            crs_help = "Only needed when the file has no CRS (e.g. a shapefile without .prj)"
        crs = st.text_input("CRS of the coordinates", placeholder="e.g. EPSG:26971", help=crs_help)
        source = state.upload_source(upload, layer=layer_name, x=x, y=y, crs=crs)
        if role in ("crimes", "units"):
            try:
                columns = [c for c in cache.layer(source).frame.columns if c != "geometry"]
            except RTMError as exc:
                widgets.show_error(exc)
        if role == "generator":
            options["name"] = st.text_input("Set name", value=generator_name(upload.name))
        elif role == "crimes":
            options["date"] = st.selectbox("Date column", columns, key=f"date_{form_id}")
            guess = None
            if options["date"]:
                try:
                    guess = suggest_periods(cache.layer(source).frame, options["date"])
                except RTMError:
                    guess = None
            train = st.date_input("Training period (t)", value=guess[0] if guess else ())
            test = st.date_input("Test period (t+1)", value=guess[1] if guess else ())
            if len(train) == 2 and len(test) == 2:
                options["train"] = (train[0].isoformat(), train[1].isoformat())
                options["test"] = (test[0].isoformat(), test[1].isoformat())
        elif role == "units":
            options["id_column"] = st.selectbox("Unit id column", ["(row number)", *columns])
            if options["id_column"] == "(row number)":
                options["id_column"] = None
            options["fixed"] = tuple(
                st.multiselect("Fixed covariates (always in the model)", columns)
            )
    if st.button("Add layer", type="primary", disabled=source is None, icon=":material/add:"):
        try:
            new = add_layer(data, role, source, reader=cache.layer, **options)
        except RTMError as exc:
            widgets.show_error(exc)
        else:
            if new.name == "Chicago demo":
                new = new.replace(name="Chicago demo, edited")
            state.set_dataset(new)
            st.session_state["rtm_upload_form"] = form_id + 1
            widgets.flash(f"Added {upload.name} as {ROLES[role].split(' (')[0].lower()}.")
            st.rerun()

with map_col:
    st.subheader("Map")
    if entries:
        names = [name for _, name, _ in entries]
        colors = maps.layer_colors(names)
        roles = [role for role, _, _ in entries]
        first = {role: name for role, name in reversed(list(zip(roles, names, strict=True)))}
        default = [first[r] for r in ("boundary", "units", "crimes", "crimes_train") if r in first]
        default += [first["generator"]] if "generator" in first else []
        shown = st.multiselect("Layers on the map", names, default=default)
        named = [(name, layer.frame) for _, name, layer in entries if name in shown]
        key = cache.dataset_key(data) + "|".join(shown)
        deck = cache.data_map(key, named, names, state.online_basemap())
        st.pydeck_chart(deck, height=520, key="data_map")
        widgets.legend([(colors[name], name) for name in shown])
        st.caption(f"Point layers show at most {maps.SAMPLE_POINTS:,} points each.")
    else:
        st.info("No layer yet: add one on the left, or load the Chicago demo.")

st.subheader("Layers")
if entries:
    st.dataframe(summary_table(entries), hide_index=True, width="stretch")
    if data.generators:
        drop_col, button_col = st.columns([3, 1], vertical_alignment="bottom")
        drop = drop_col.selectbox("Generator layer", [g.name for g in data.generators])
        if button_col.button("Remove layer", icon=":material/delete:", width="stretch"):
            state.set_dataset(data.without_generator(drop))
            widgets.flash(f"Removed {drop}.")
            st.rerun()

st.subheader("Study check")
if data.missing():
    st.warning("Still missing: " + ", ".join(data.missing()) + ".", icon=":material/warning:")
else:
    try:
        study = cache.study(data.run_config())
    except RTMError as exc:
        widgets.show_error(exc)
    else:
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
        cols[3].metric("Working CRS", study.crs.to_string())
        notes = [r.note for r in study.reads if r.note]
        if notes:
            st.caption("Notes: " + "; ".join(notes))
        st.page_link(widgets.FACTORS_PAGE, label="Next: risk factors", icon=":material/layers:")
