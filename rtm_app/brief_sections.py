"""The Brief's sections: what a planner reads and takes away from one run.

Every section draws from the planner's copy of the run
(:func:`rtm_core.results.planner.planner_run`): risk scores and forecasts, the risk factors
kept with their IRRs, the verdict against the baselines, the top places, and the planners'
files. Nothing that places a crime (per-unit counts, incidents, raw inputs) is drawn or sent.
"""

from __future__ import annotations

import time

import pandas as pd
import streamlit as st

from rtm_app import charts, permissions, tables
from rtm_app import results_sections as sections
from rtm_core.config import MODEL_KINDS
from rtm_core.results import planner
from rtm_core.results.export import export_name
from rtm_core.results.summary import forecast_period

__all__ = ["header", "where_section", "kept_factors", "kept_factor_table", "downloads"]

NUMBER = st.column_config.NumberColumn(format="%.2f")


def header(run) -> None:
    """The run's label, when it was made, its units and models, and who shared it."""
    m = run.record
    created = time.strftime("%Y-%m-%d", time.localtime(m.created))
    models = ", ".join(charts.model_name(k) for k in m.models) or "none"
    n_units = m.n_units if m.n_units is not None else len(run.units)
    st.markdown(f"### {m.label or m.name}")
    shared = f" · shared by {m.owner}" if m.owner else ""
    st.caption(f"Made {created} · {n_units:,} {m.unit_kind or ''} units · {models}{shared}")


def where_section(run) -> None:
    """Where risk is highest: the forecast map and its top places when the run forecasts,
    else the risk map and the riskiest places."""
    forecast = forecast_period(run.manifest)
    if forecast is not None and sections.scored_models(run.units, "forecast"):
        sections.forecast_section(run, forecast, counts=False)
        return
    sections.risk_map_section(run, False, counts=False)
    models = sections.scored_models(run.units)
    if not models or run.top_places.empty:
        return
    st.subheader("Top places")
    model = st.radio(
        "Model", models, format_func=charts.model_name, horizontal=True, key="brief_places"
    )
    st.dataframe(
        tables.top_places(run.top_places, model, 10),
        hide_index=True,
        width="stretch",
        column_config={"score": NUMBER},
    )


def kept_factor_table(run) -> pd.DataFrame:
    """The risk factors each model kept, with their IRR and 95 % interval.

    Parameters
    ----------
    run : RunFiles

    Returns
    -------
    DataFrame
        Columns ``model``, ``risk factor``, ``IRR``, ``95 % low``, ``95 % high``; empty when
        no model kept a factor.
    """
    coef = run.coefficients
    labels = run.factor_labels()
    rows = []
    for model in MODEL_KINDS:
        kept = run.record.selected_factors(model)
        if not kept or coef.empty or "variable" not in coef.columns:
            continue
        part = coef[(coef["model"] == model) & coef["variable"].isin(kept)]
        for _, row in part.iterrows():
            rows.append(
                {
                    "model": charts.model_name(model),
                    "risk factor": str(labels.get(row["variable"], row["variable"])),
                    "IRR": row.get("irr"),
                    "95 % low": row.get("irr_low"),
                    "95 % high": row.get("irr_high"),
                }
            )
    return pd.DataFrame(rows, columns=["model", "risk factor", "IRR", "95 % low", "95 % high"])


def kept_factors(run) -> None:
    """What drives risk: the factors kept, their IRRs as a table and a chart."""
    st.subheader("What drives risk here")
    table = kept_factor_table(run)
    if table.empty:
        st.info("No model kept a risk factor: its map is crime history alone, or flat.")
        return
    st.caption(
        "IRR: how many times a factor multiplies the expected number of crimes in a place, "
        "with its 95 % interval."
    )
    numbers = {c: NUMBER for c in ("IRR", "95 % low", "95 % high")}
    st.dataframe(table, hide_index=True, width="stretch", column_config=numbers)
    labels = run.factor_labels()
    selected = set(run.record.all_selected_factors())
    chosen = run.coefficients[run.coefficients["variable"].isin(selected)]
    forest = charts.irr_forest(chosen, labels)
    if forest is not None:
        st.altair_chart(forest, width="stretch")


def downloads(run) -> None:
    """The planners' files: the report, and the map as GeoJSON and GeoPackage."""
    st.subheader("Take it with you")
    st.caption(
        "The report and the map hold risk scores, forecasts and the factors present in each "
        "place; no crime counts, incidents or inputs."
    )
    files = (
        ("Report (HTML)", planner.planner_report, "brief.html", "text/html"),
        ("Map (GeoJSON)", planner.planner_geojson, "map.geojson", "application/geo+json"),
        (
            "Map (GeoPackage)",
            planner.planner_geopackage,
            "map.gpkg",
            "application/geopackage+sqlite3",
        ),
    )
    for column, (label, make, suffix, mime) in zip(st.columns(3), files, strict=True):
        column.download_button(
            label,
            data=permissions.audited_download(make, run, suffix),
            file_name=export_name(run, suffix),
            mime=mime,
            on_click="ignore",
            icon=":material/download:",
            width="stretch",
        )
