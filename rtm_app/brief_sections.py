"""The Brief page's sections, drawn from one run's brief (:mod:`rtm_core.results.brief`).

What a planner sees: the paragraph, how sure we are, the map (no crime counts: the units'
counts never reach the browser) with its legend and the areas named, the top places with
their name and lat/lon, and the planner-safe report and map to download (audited). The
page only orders them.
"""

from __future__ import annotations

import time

import pandas as pd
import streamlit as st

from rtm_app import cache, permissions, state, widgets
from rtm_core.models.registry import display_name
from rtm_core.results import planner
from rtm_core.results.brief import Brief, model_heading, rank_labels
from rtm_core.results.export import export_name


def header(run) -> None:
    """The run's label, when it was made, its units and models, and who shared it."""
    m = run.record
    created = time.strftime("%Y-%m-%d", time.localtime(m.created))
    models = ", ".join(display_name(k) for k in m.models) or "none"
    n_units = m.n_units if m.n_units is not None else len(run.units)
    shared = f" · shared by {m.owner}" if m.owner else ""
    st.markdown(f"### {m.label or m.name}")
    st.caption(f"Made {created} · {n_units:,} {m.unit_kind or ''} units · {models}{shared}")


def summary(brief: Brief) -> None:
    """Where risk concentrates and what drives it, then how sure we are (coloured by level)."""
    st.markdown(f"{brief.where} {brief.drivers}")
    box = {3: st.success, 2: st.info}.get(brief.certainty, st.warning)
    box(brief.sure)


def brief_map(run, brief: Brief) -> None:
    """The brief's map (forecast, else relative risk) with its legend and area names."""
    st.subheader(model_heading(brief))
    deck, classes = cache.brief_map(run.path, state.online_basemap())
    st.pydeck_chart(deck, height=560, key="brief_map")
    title = (
        "Forecast, expected crimes:"
        if brief.value_name == "expected crimes"
        else ("Relative risk score:")
    )
    widgets.legend(classes, title)
    named = " Area names are written on the map." if run.places is not None else ""
    st.caption(
        f"{brief.title}: {brief.value_name} per unit ({display_name(brief.model)}). North is "
        f"up.{named} The reddest class is the riskiest 1 % of the units."
    )


def places_table(brief: Brief) -> pd.DataFrame:
    """The top places as the page shows them: rank (``=`` where tied), place, lat, lon,
    value and the risk factors present.

    Parameters
    ----------
    brief : Brief

    Returns
    -------
    DataFrame
    """
    places = brief.places
    return pd.DataFrame(
        {
            "#": rank_labels(places),
            "place": places["place"].replace("", "–"),
            "lat": places["lat"],
            "lon": places["lon"],
            brief.value_name: places["value"],
            "risk factors present": places["factors present"],
        }
    )


def top_places(brief: Brief) -> None:
    """The places to look at first, with what else must be said (ties, other models)."""
    st.subheader("Top places: where to look first")
    if brief.places.empty:
        st.info("No places are listed for this model.")
    else:
        digits = "%.3f" if brief.value_name == "expected crimes" else "%.2f"
        st.dataframe(
            places_table(brief),
            hide_index=True,
            width="stretch",
            column_config={
                "lat": st.column_config.NumberColumn(format="%.5f"),
                "lon": st.column_config.NumberColumn(format="%.5f"),
                brief.value_name: st.column_config.NumberColumn(format=digits),
            },
            key="brief_places",
        )
    for note in brief.notes:
        st.caption(note)


def downloads(run) -> None:
    """The planners' files: the report, and the map as GeoJSON and GeoPackage."""
    st.subheader("Take it with you")
    st.caption(
        "The report and the map hold risk scores, forecasts and the factors present in each "
        "place; no crime counts, incidents or inputs. Open the report in a browser and print "
        "it (Ctrl+P) to PDF: the brief fills the first page, the analyst's tables follow."
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
