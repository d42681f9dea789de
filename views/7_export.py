"""Export: units with risk scores, the risk raster, the IRR table, the report, the manifest."""

from functools import partial

import streamlit as st

from rtm_app import charts, permissions, widgets
from rtm_core.results import export

st.title("Export")
run = widgets.open_run("export")


def download(column, label: str, make, suffix: str, mime: str, help_text: str) -> None:
    """A download button whose file is made when clicked."""
    column.download_button(
        label,
        data=permissions.audited_download(make, run, suffix),
        file_name=export.export_name(run, suffix),
        mime=mime,
        help=help_text,
        on_click="ignore",
        icon=":material/download:",
        width="stretch",
    )


st.subheader("Units with risk scores")
cols = st.columns(3)
download(
    cols[0],
    "GeoPackage",
    export.units_geopackage,
    "units.gpkg",
    "application/geopackage+sqlite3",
    "Unit geometry in the run's CRS, for QGIS/ArcGIS.",
)
download(
    cols[1],
    "GeoJSON",
    export.units_geojson,
    "units.geojson",
    "application/geo+json",
    "Unit geometry in lon/lat (EPSG:4326), for web maps.",
)
download(
    cols[2],
    "CSV",
    export.units_csv,
    "units.csv",
    "text/csv",
    "One row per unit with its centre (x/y and lon/lat), counts, scores and factors.",
)

st.subheader("Risk raster")
if run.manifest.get("grid"):
    columns = export.risk_columns(run)
    left, right = st.columns([2, 1], vertical_alignment="bottom")
    column = left.selectbox("Score", columns, format_func=charts.score_column_name)
    download(
        right,
        "GeoTIFF",
        partial(export.risk_geotiff, column=column),
        f"{column}.tif",
        "image/tiff",
        "One float band on the grid; NaN outside the study area.",
    )
else:
    st.caption("Only grid runs have a raster; this run's units come from a file.")

st.subheader("Tables and report")
cols = st.columns(3)
download(
    cols[0],
    "IRR table (CSV)",
    export.coefficients_csv,
    "coefficients.csv",
    "text/csv",
    "Coefficients, IRR with 95 % interval and selection share per model.",
)
download(
    cols[1],
    "Report (HTML)",
    export.report_html,
    "report.html",
    "text/html",
    "A self-contained page with map, tables and curves to share with planners.",
)
download(
    cols[2],
    "Manifest (JSON)",
    export.manifest_json,
    "manifest.json",
    "application/json",
    "Config, input hashes, versions, seeds, device and timings of the run.",
)
