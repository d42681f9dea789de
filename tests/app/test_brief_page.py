"""The Brief page (AppTest): the paragraph, how sure we are, the map with the areas named and
no crime counts sent to the browser, the top places with names and lat/lon, the planner-safe
report and map to download; and the Data page's Places role with its guessed, editable name
column."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from rtm_app.dataset import NO_NAMES, DataSet, add_layer
from rtm_core.config import LayerSource
from rtm_core.errors import InputError
from tests.brief_run import DISTRICTS, write_districts

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app.py")
BRIEF = "views/9_brief.py"


def open_brief(runs_dir: Path) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    at.switch_page(BRIEF).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_the_brief_page_shows_the_brief_without_crime_counts(runs_dir, places_run_dir):
    shutil.copytree(places_run_dir, runs_dir / "run-places")
    at = open_brief(runs_dir)
    assert at.title[0].value == "Brief"
    text = " ".join(m.value for m in at.markdown)
    assert "Risk concentrates in" in text and any(name in text for name in DISTRICTS)
    assert "How sure we are: 1 of 3" in at.warning[0].value
    assert at.subheader[0].value.startswith("Forecast for 2023-01-01 – 2023-12-31 · ")
    deck = json.loads(at.get("deck_gl_json_chart")[0].proto.json)
    layers = {layer["@@type"]: layer for layer in deck["layers"]}
    labels = [row[2] for row in layers["TextLayer"]["data"]]
    assert sorted(labels) == sorted(DISTRICTS)
    assert layers["TextLayer"]["characterSet"] == "auto"  # literals, not accessors
    assert layers["TextLayer"]["sizeUnits"] == "pixels"
    units = deck["layers"][0]["data"]
    assert len(units[0]) == 6  # lon, lat, id, forecast, factors, place: no counts
    tooltip = at.get("deck_gl_json_chart")[0].proto.tooltip
    assert "Crimes" not in tooltip and "period t" not in tooltip
    [places] = [d.value for d in at.dataframe]
    assert list(places.columns) == [
        "#", "place", "lat", "lon", "expected crimes", "risk factors present",
    ]  # fmt: skip
    assert set(places["place"]) <= set(DISTRICTS) and len(places) == 10
    labels = [button.proto.label for button in at.get("download_button")]
    assert labels == ["Report (HTML)", "Map (GeoJSON)", "Map (GeoPackage)"]  # planner-safe


def test_the_results_maps_name_the_areas_too(runs_dir, places_run_dir):
    shutil.copytree(places_run_dir, runs_dir / "run-places")
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    at.switch_page("views/4_results.py").run()
    assert not at.exception, [e.value for e in at.exception]
    for chart in at.get("deck_gl_json_chart"):
        deck = json.loads(chart.proto.json)
        texts = [layer for layer in deck["layers"] if layer["@@type"] == "TextLayer"]
        assert [sorted(row[2] for row in texts[0]["data"])] == [sorted(DISTRICTS)]
        assert "Crimes" in chart.proto.tooltip  # the analyst's maps keep the counts


def test_a_places_layer_is_added_with_its_guessed_name_column(runs_dir, tmp_path):
    districts = tmp_path / "districts.gpkg"
    write_districts(districts)
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    form = at.session_state["rtm_upload_form"]
    at.radio(key=f"role_{form}").set_value("places").run()
    at.file_uploader[0].set_value((districts.name, districts.read_bytes(), "application/x"))
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    box = at.selectbox(key=f"place_{form}")
    assert box.value == "NOMBRE" and box.options == [NO_NAMES, "OBJECTID", "NOMBRE", "SHAPE__Area"]
    assert any("Guessed from the column names" in c.value for c in at.caption)
    next(b for b in at.button if b.label == "Add layer").click().run()
    assert not at.exception, [e.value for e in at.exception]
    data = at.session_state["rtm_data"]
    assert data.places.name == "NOMBRE" and data.places.source.name == "districts.gpkg"
    assert data.run_config().places == data.places  # the demo's layers plus these places


def test_add_layer_keeps_a_places_layer_before_the_boundary_names(tmp_path):
    districts = tmp_path / "districts.gpkg"
    write_districts(districts)
    source = LayerSource(path=districts, name=districts.name)
    data = add_layer(DataSet("mine"), "places", source, place_name="NOMBRE")
    assert (data.places.source, data.places.name) == (source, "NOMBRE")
    assert [role for role, _, _ in data.layers()] == ["places"]
    # a boundary added later does not replace the places layer's names
    data = add_layer(data, "boundary", source, place_name="OBJECTID")
    assert data.places.name == "NOMBRE"
    bare = add_layer(DataSet("mine"), "boundary", source, place_name="NOMBRE")
    assert bare.places.source is None and bare.places.name == "NOMBRE"
    off = add_layer(DataSet("mine"), "boundary", source, place_name=NO_NAMES)
    assert off.places.name == ""
    with pytest.raises(InputError, match=r"\[place name column\]: column not found"):
        add_layer(DataSet("mine"), "places", source, place_name="NAME")
