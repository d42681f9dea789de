"""The Risk factors page's controls: units, densities, generator rows, crime history, and the
prevalence table with its map. What they compute lives in :mod:`rtm_app.factor_rows`.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from rtm_app import cache, state, widgets
from rtm_app.dataset import DataSet
from rtm_app.factor_rows import (
    KEEP,
    KERNELS,
    generator_rows,
    map_choices,
    numeric_covariates,
    prevalence_table,
)
from rtm_app.history import MAX_LAGS, TRANSFORMS, unavailable_reason
from rtm_core.errors import RTMError

HISTORY_NOTE = (
    "Past crimes as fixed covariates (always in the model, any sign): per lag j, the "
    "crimes of the j-th period before each target period in the unit and within each "
    "distance of its point. Risk factor IRRs then read *given the place's crime history*; "
    "the run also forecasts the period after the data."
)


def unit_controls(data: DataSet) -> dict:
    """Cell size and kept cells of a grid, or fixed covariates and snap distance of a units
    layer; returns the :class:`~rtm_core.config.UnitsConfig` fields to change."""
    units = data.units
    if units.kind == "grid":
        left, right = st.columns(2)
        cell_size = left.number_input(
            "Cell size (m)", min_value=10.0, max_value=5000.0, value=float(units.cell_size)
        )
        keep = right.radio(
            "Keep cells with their",
            list(KEEP),
            format_func=KEEP.get,
            horizontal=True,
            index=list(KEEP).index(units.keep),
        )
        return {"cell_size": float(cell_size), "keep": keep}
    try:
        numeric = numeric_covariates(cache.layer(units.source).frame, units.id_column)
    except RTMError as exc:
        widgets.show_error(exc)
        numeric = []
    left, right = st.columns(2)
    fixed = left.multiselect(
        "Fixed covariates (always in, any sign)",
        numeric,
        default=[c for c in units.fixed_columns if c in numeric],
    )
    snap = right.number_input(
        "Snap distance for crimes (m)", min_value=1.0, value=float(units.snap_distance)
    )
    return {"fixed_columns": tuple(fixed), "snap_distance": float(snap)}


def density_controls(data: DataSet) -> tuple[str, float]:
    """Kernel and density threshold (z-score)."""
    left, right = st.columns(2)
    kernel = left.selectbox(
        "Kernel",
        list(KERNELS),
        format_func=KERNELS.get,
        index=list(KERNELS).index(data.features.kernel),
    )
    threshold = right.number_input(
        "Density threshold (z-score)", value=float(data.features.threshold), step=0.5
    )
    return kernel, threshold


def generator_editor(data: DataSet) -> pd.DataFrame:
    """One editable row per generator layer; returns the edited rows."""
    return st.data_editor(
        generator_rows(data),
        hide_index=True,
        width="stretch",
        disabled=["layer"],
        column_config={
            "distance": st.column_config.CheckboxColumn("Distance dummies"),
            "density": st.column_config.CheckboxColumn("Density dummies"),
            "bandwidths": st.column_config.TextColumn("Bandwidths (m)", width="large"),
        },
        key="generator_settings",
    )


def history_controls(data: DataSet) -> tuple[int, str, str]:
    """Lags, distances (as typed) and transform of crime history (off when unavailable)."""
    no_history = unavailable_reason(data)
    st.caption(no_history or HISTORY_NOTE)
    left, middle, right = st.columns([1, 2, 2])
    lags = left.number_input(
        "Lags (periods before; 0 = off)",
        min_value=0,
        max_value=MAX_LAGS,
        value=0 if no_history else int(data.history.lags),
        step=1,
        disabled=bool(no_history),
        key="history_lags",
    )
    distances = middle.text_input(
        "History distances (m)",
        value=" ".join(map(str, data.history.bandwidths)),
        disabled=bool(no_history),
        key="history_bandwidths",
    )
    transform = right.radio(
        "History as",
        list(TRANSFORMS),
        format_func=TRANSFORMS.get,
        index=list(TRANSFORMS).index(data.history.transform),
        horizontal=True,
        disabled=bool(no_history),
        key="history_transform",
    )
    return int(lags), distances, transform


def prevalence_section(config, factors) -> None:
    """How common each factor is (table) beside a map of the chosen factor.

    Parameters
    ----------
    config : RunConfig
        The data set's run config (the map is cached under it).
    factors : RiskFactors
        The factors built from ``config``.
    """
    table = prevalence_table(factors)
    st.subheader("How common each risk factor is")
    st.caption(
        f"{len(table)} dummies over {len(factors.table):,} units. Factors present in no unit "
        "or in every unit carry no information and are left out of the models."
    )
    table_col, map_col = st.columns([1, 1], gap="large")  # the table needs ~400 px
    table_col.dataframe(
        table[["label", "prevalence", "in model"]],
        hide_index=True,
        width="stretch",
        height=520,
        column_config={  # sized to fit the column: no cut-off "In model"
            "label": st.column_config.TextColumn("Risk factor"),
            "prevalence": st.column_config.ProgressColumn(
                "Share of units", format="percent", min_value=0.0, max_value=1.0, width=110
            ),
            "in model": st.column_config.CheckboxColumn("In model", width=70),
        },
    )
    with map_col:
        labels = dict(zip(table["name"], table["label"], strict=True))
        names, index = map_choices(table)
        variable = st.selectbox("Show on the map", names, index=index, format_func=labels.get)
        st.pydeck_chart(
            cache.factor_map(config, variable, state.online_basemap()),
            height=480,
            key="factor_map",
        )
        widgets.legend(
            [("#e66101", f"units where {labels[variable]}"), ("#505050", "layer features")]
        )
