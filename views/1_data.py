"""Data: the layers of the study. The Chicago demo is ready on a first visit."""

import streamlit as st

from rtm_app import cache, data_form, state, widgets
from rtm_app.dataset import ROLES, DataSet, summary_table

st.title("Data")
st.caption(
    "Units of analysis (a study-area boundary cut into grid cells, or your own street "
    "segments, intersections or polygons), crimes of a training period (t) and a test period "
    "(t+1), and one layer per crime generator."
)
widgets.show_flash()
data = state.dataset()
form_id = state.upload_form_id()

head = st.columns([3, 1, 1], vertical_alignment="center")
head[0].markdown(f"Data set: **{data.name}** · {len(data.layers())} layers")
if head[1].button("Load demo", icon=":material/restart_alt:", width="stretch"):
    state.set_dataset(DataSet.demo())
    st.rerun()
if head[2].button("Start empty", icon=":material/add:", width="stretch"):
    state.set_dataset(DataSet("My data"))
    st.rerun()

entries, unreadable = cache.layer_entries(data)  # the Study check lists why

add_col, map_col = st.columns([2, 3], gap="large")

with add_col:
    st.subheader("Add a layer")
    role = st.radio("This file holds", list(ROLES), format_func=ROLES.get, key=f"role_{form_id}")
    upload = st.file_uploader(
        "Layer file", type=data_form.FILE_TYPES, help=data_form.FILE_HELP, key=f"file_{form_id}"
    )
    form = data_form.layer_form(data, role, upload, form_id) if upload is not None else None
    if st.button("Add layer", type="primary", disabled=form is None, icon=":material/add:"):
        data_form.add(data, role, form, upload.name)

with map_col:
    st.subheader("Map")
    if entries:
        data_form.layer_map(data, entries)
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
    data_form.working_crs_control(data)

st.subheader("Study check")
data_form.study_check(data, unreadable)
