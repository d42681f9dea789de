"""Exports: spreadsheet-safe CSV, GeoTIFF geometry, vector round trips."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
from affine import Affine
from rasterio.transform import xy
from shapely.geometry import Point, box

from rtm_core.errors import InputError
from rtm_core.record.folder import RunFiles
from rtm_core.results import export

CRS = "EPSG:26971"
X0, Y0, CELL, N_ROWS, N_COLS = 350_000.0, 570_000.0, 100.0, 3, 4


def grid_run(tmp_path: Path, *, factors=None) -> RunFiles:
    """A small grid run: 3 x 4 grid with two cells missing (outside the study area)."""
    cells = [(r, c) for r in range(N_ROWS) for c in range(N_COLS) if (r, c) not in {(0, 0), (2, 3)}]
    rows = np.array([r for r, _ in cells])
    cols = np.array([c for _, c in cells])
    geometry = [
        box(X0 + c * CELL, Y0 + r * CELL, X0 + (c + 1) * CELL, Y0 + (r + 1) * CELL)
        for r, c in cells
    ]
    n = len(cells)
    units = gpd.GeoDataFrame(
        {
            "unit_id": rows * N_COLS + cols,
            "y_train": np.arange(n) % 3,
            "y_test": np.arange(n) % 2,
            "risk_dl": 1.0 + rows * 10 + cols,  # encodes the cell: easy to check
            "factors_dl": factors if factors is not None else [""] * n,
            "risk_kde": np.linspace(0, 1, n),
            "row": rows,
            "col": cols,
        },
        geometry=geometry,
        crs=CRS,
    )
    manifest = {
        "label": "test",
        "crs": CRS,
        "grid": {"x0": X0, "y0": Y0, "cell_size": CELL, "n_rows": N_ROWS, "n_cols": N_COLS},
    }
    (tmp_path / "report.html").write_text("<html>report</html>", encoding="utf-8")
    coefficients = pd.DataFrame(
        {
            "model": ["dl", "dl"],
            "variable": ["intercept", '=HYPERLINK("http://x")'],
            "set": ["", "bars"],
            "coef": [-1.0, 0.5],
            "irr": [0.37, 1.65],
        }
    )
    empty = pd.DataFrame()
    return RunFiles(tmp_path, manifest, coefficients, {}, units, empty, empty, empty, empty, empty)


def test_formula_cells_and_headers_are_neutralised():
    frame = pd.DataFrame(
        {
            "text": ["=SUM(A1:A9)", "+1", "-2+3", "@cmd", "\tx", "\rx", "plain", "a=b"],
            "number": [-1.5, 2, 3, 4, 5, 6, 7, 8],
            "=evil": ["ok"] * 8,
        }
    )
    safe = export.neutralise_formulas(frame)
    assert safe["text"].tolist() == [
        "'=SUM(A1:A9)",
        "'+1",
        "'-2+3",
        "'@cmd",
        "'\tx",
        "'\rx",
        "plain",
        "a=b",
    ]
    assert safe["number"].tolist() == frame["number"].tolist()  # numbers are not formulas
    assert list(safe.columns) == ["text", "number", "'=evil"]
    assert frame["text"].iloc[0] == "=SUM(A1:A9)"  # the input is left alone


def test_units_csv_is_spreadsheet_safe_and_has_centres(tmp_path):
    n = N_ROWS * N_COLS - 2
    run = grid_run(tmp_path, factors=["=cmd|' /C calc'!A0"] + [""] * (n - 1))
    table = pd.read_csv(io.BytesIO(export.units_csv(run)), keep_default_na=False)
    assert table.loc[0, "factors_dl"] == "'=cmd|' /C calc'!A0"
    assert {"x", "y", "lon", "lat", "unit_id", "risk_dl"} <= set(table.columns)
    centre = run.units.geometry.centroid
    np.testing.assert_allclose(table["x"], centre.x, atol=0.01)
    np.testing.assert_allclose(table["y"], centre.y, atol=0.01)
    lonlat = centre.to_crs("EPSG:4326")
    np.testing.assert_allclose(table["lon"], lonlat.x, atol=1e-6)


def test_coefficients_csv_is_neutralised(tmp_path):
    table = pd.read_csv(io.BytesIO(export.coefficients_csv(grid_run(tmp_path))))
    assert table["variable"].tolist() == ["intercept", '\'=HYPERLINK("http://x")']


def test_geotiff_has_the_grid_shape_crs_transform_and_values(tmp_path):
    run = grid_run(tmp_path)
    with rasterio.MemoryFile(export.risk_geotiff(run, "risk_dl")) as memfile:
        with memfile.open() as raster:
            assert (raster.height, raster.width, raster.count) == (N_ROWS, N_COLS, 1)
            assert raster.crs.to_epsg() == 26971
            assert raster.transform == Affine(CELL, 0, X0, 0, -CELL, Y0 + N_ROWS * CELL)
            assert raster.descriptions == ("risk_dl",)
            image = raster.read(1)
            transform = raster.transform
    for unit in run.units.itertuples():
        i = N_ROWS - 1 - unit.row  # raster rows run north to south
        assert image[i, unit.col] == pytest.approx(unit.risk_dl)
        cx, cy = xy(transform, i, unit.col)  # pixel centre = cell centre
        assert unit.geometry.centroid.equals_exact(Point(cx, cy), 1e-6)
    assert np.isnan(image[N_ROWS - 1, 0]) and np.isnan(image[0, N_COLS - 1])  # no cell there


def test_geotiff_defaults_to_the_first_risk_column_and_refuses_non_grid_runs(tmp_path):
    run = grid_run(tmp_path)
    with rasterio.MemoryFile(export.risk_geotiff(run)) as memfile, memfile.open() as raster:
        assert raster.descriptions == ("risk_dl",)
    with pytest.raises(InputError, match="no column 'risk_nope'.*Fix:"):
        export.risk_geotiff(run, "risk_nope")
    points = RunFiles(
        tmp_path,
        {"crs": CRS},
        run.coefficients,
        {},
        run.units.drop(columns=["row", "col"]),
        *[pd.DataFrame()] * 5,
    )
    with pytest.raises(InputError, match="not a grid run.*Fix:"):
        export.risk_geotiff(points)


def test_geojson_round_trips_in_lon_lat(tmp_path):
    run = grid_run(tmp_path)
    back = gpd.read_file(io.BytesIO(export.units_geojson(run)))
    assert back.crs.to_epsg() == 4326
    assert back["unit_id"].tolist() == run.units["unit_id"].tolist()
    np.testing.assert_allclose(back["risk_dl"], run.units["risk_dl"])
    expected = run.units.to_crs("EPSG:4326").geometry
    assert all(a.equals_exact(b, 1e-7) for a, b in zip(back.geometry, expected, strict=True))


def test_geopackage_round_trips_in_the_run_crs(tmp_path):
    run = grid_run(tmp_path)
    back = gpd.read_file(io.BytesIO(export.units_geopackage(run)), layer="units")
    assert back.crs.to_epsg() == 26971
    pd.testing.assert_frame_equal(
        pd.DataFrame(back.drop(columns="geometry")),
        pd.DataFrame(run.units.drop(columns="geometry")),
        check_dtype=False,
    )
    assert back.geometry.equals(run.units.geometry)


def test_report_and_manifest_bytes(tmp_path):
    run = grid_run(tmp_path)
    assert export.report_html(run) == b"<html>report</html>"
    assert json.loads(export.manifest_json(run)) == run.manifest
    assert export.export_name(run, "units.csv") == f"{tmp_path.name}_units.csv"
    assert export.risk_columns(run) == ["risk_dl", "risk_kde"]


def test_the_forecast_is_a_raster_too(tmp_path):
    run = grid_run(tmp_path)
    run.units["forecast_dl"] = run.units["risk_dl"] * 0.5
    assert export.risk_columns(run) == ["risk_dl", "risk_kde", "forecast_dl"]
    raster_bytes = export.risk_geotiff(run, "forecast_dl")
    with rasterio.MemoryFile(raster_bytes) as memfile, memfile.open() as raster:
        assert raster.descriptions == ("forecast_dl",)
        image = raster.read(1)
    unit = run.units.iloc[0]
    assert image[N_ROWS - 1 - unit.row, unit.col] == pytest.approx(unit.forecast_dl)


def test_a_run_folder_of_the_earlier_format_exports(tmp_path):
    """tests/data/run_v1: written before the manifest had a schema (see tests/runs)."""
    from rtm_core.record.folder import load_run

    source = Path(__file__).resolve().parents[1] / "data" / "run_v1"
    run = load_run(shutil.copytree(source, tmp_path / "run_v1"))
    assert run.record.schema == 1
    back = gpd.read_file(io.BytesIO(export.units_geopackage(run)), engine="pyogrio")
    assert len(back) == run.record.n_units and back.crs == run.units.crs
    table = pd.read_csv(io.BytesIO(export.units_csv(run)))
    assert {"x", "y", "lon", "lat", "risk_dl", "forecast_dl"} <= set(table.columns)
    grid = run.record.grid
    with rasterio.MemoryFile(export.risk_geotiff(run)) as memfile, memfile.open() as raster:
        assert (raster.height, raster.width) == (grid["n_rows"], grid["n_cols"])
        assert raster.crs.to_string() == run.record.crs
    page = export.report_html(run).decode("utf-8")  # no report.html kept: drawn from the run
    assert "Risk Terrain Model: v1 fixture" in page and "Forecast for 2023-01-01" in page
    assert json.loads(export.manifest_json(run)) == json.loads(
        (source / "manifest.json").read_text()
    )
