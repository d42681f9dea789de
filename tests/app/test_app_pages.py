"""Every page of the dashboard under Streamlit's AppTest, on the embedded Chicago demo.

Pages that show a run get a small demo run (deep-learning RTM, a few steps) made once per
session and copied into each test's runs folder.
"""

from __future__ import annotations

import json
import shutil
import time
from datetime import date
from pathlib import Path

import geopandas as gpd
import pytest
from shapely.geometry import LineString
from streamlit.testing.v1 import AppTest

from rtm_app.dataset import parse_bandwidths
from rtm_core.config import demo_config
from rtm_core.errors import InputError
from rtm_core.record.folder import list_runs
from rtm_core.runs.pipeline import run_pipeline

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app.py")
DATA, FACTORS, TRAIN, RESULTS = (
    "views/1_data.py",
    "views/2_risk_factors.py",
    "views/3_train.py",
    "views/4_results.py",
)
STABILITY, RUNS, EXPORT = "views/5_stability.py", "views/6_runs.py", "views/7_export.py"


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory) -> Path:
    """A complete run of the demo: deep-learning RTM, 2 seeds, 20 + 20 steps."""
    config = demo_config(kinds=("dl",), seeds=2, burn_in_steps=20, prune_steps=20)
    out = tmp_path_factory.mktemp("demo") / "run-demo"
    return run_pipeline(config, out, label="demo for tests")


def app(runs_dir: Path) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    assert not at.exception, at.exception
    return at


def open_page(at: AppTest, page: str) -> AppTest:
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def decks(at: AppTest) -> list[str]:
    return [deck.proto.json for deck in at.get("deck_gl_json_chart")]


def copy_run(source: Path, runs_dir: Path, name: str, label: str | None = None) -> Path:
    target = runs_dir / name
    shutil.copytree(source, target)
    if label:
        manifest = json.loads((target / "manifest.json").read_text())
        (target / "manifest.json").write_text(json.dumps(manifest | {"label": label}))
    return target


# --------------------------------------------------------------------------- Data


def test_data_page_opens_on_the_demo(runs_dir):
    at = app(runs_dir)
    assert at.title[0].value == "Data"
    assert any("Chicago demo" in m.value for m in at.markdown)
    (layers,) = [df.value for df in at.dataframe]
    assert len(layers) == 10 and layers["dropped"].sum() == 0  # with the neighbourhoods
    assert layers["role"].iloc[-1] == "Places"
    assert {m.label: m.value for m in at.metric}["Units"] == "25,043"
    (spec,) = decks(at)
    deck = json.loads(spec)
    assert "mapProvider" not in deck and deck["mapStyle"] == "__MAP_STYLE__"  # no basemap
    assert len(spec) < 1_000_000
    assert not at.error


def choose_role(at: AppTest, role: str) -> None:
    at.radio[0].set_value(role).run()


def test_a_bad_upload_shows_a_one_line_error_and_keeps_the_data(runs_dir):
    at = app(runs_dir)
    before = at.session_state["rtm_data"]
    choose_role(at, "generator")
    at.file_uploader[0].set_value(("bars.geojson", b"{ this is not json", "application/json"))
    at.run()
    add = next(b for b in at.button if b.label == "Add layer")
    add.click().run()
    assert not at.exception
    (error,) = at.error
    assert "bars.geojson" in error.value and "Fix:" in error.value
    assert "\n" not in error.value and "Traceback" not in error.value
    assert at.session_state["rtm_data"] == before
    assert len(at.dataframe[0].value) == 10


def test_a_csv_without_coordinates_is_refused_with_the_fix(runs_dir):
    at = app(runs_dir)
    choose_role(at, "generator")
    at.file_uploader[0].set_value(("shops.csv", b"name,size\na,1\nb,2\n", "text/csv"))
    at.run()
    next(b for b in at.button if b.label == "Add layer").click().run()
    assert not at.exception
    assert "Fix:" in at.error[0].value and "shops.csv" in at.error[0].value
    assert len(at.session_state["rtm_data"].generators) == 6


def test_a_lon_lat_csv_is_added_as_a_generator(runs_dir):
    at = app(runs_dir)
    choose_role(at, "generator")
    rows = "lon,lat\n-87.65,41.88\n-87.66,41.90\n-87.70,41.95\n"
    at.file_uploader[0].set_value(("Corner Shops.csv", rows.encode(), "text/csv"))
    at.run()
    next(b for b in at.button if b.label == "Add layer").click().run()
    assert not at.exception and not at.error
    data = at.session_state["rtm_data"]
    assert [g.name for g in data.generators][-1] == "corner_shops"
    assert data.name == "Chicago demo, edited"
    assert any("Added Corner Shops.csv" in s.value for s in at.success)
    assert len(at.dataframe[0].value) == 11  # the demo's nine layers, its places, the new one


def test_an_empty_data_set_asks_for_its_layers(runs_dir):
    at = app(runs_dir)
    next(b for b in at.button if b.label == "Start empty").click().run()
    assert any("Still missing" in w.value for w in at.warning)
    open_page(at, FACTORS)
    assert any("first" in w.value for w in at.warning)
    open_page(at, TRAIN)
    assert any("first" in w.value for w in at.warning)


# --------------------------------------------------------------------------- Risk factors


def test_risk_factors_are_built_and_mapped(runs_dir):
    at = open_page(app(runs_dir), FACTORS)
    assert any("Build risk factors" in i.value for i in at.info)
    next(b for b in at.button if b.label == "Build risk factors").click().run()
    assert not at.exception and not at.error
    prevalence = at.dataframe[-1].value
    assert len(prevalence) == 108
    assert prevalence["prevalence"].between(0, 1).all()
    (spec,) = decks(at)
    assert '"ColumnLayer"' in spec


def test_bandwidth_text_is_parsed_or_refused_with_the_fix():
    with pytest.raises(InputError, match="'lots' is not a number.*Fix:"):
        parse_bandwidths("100 lots", "bars")
    with pytest.raises(InputError, match="Fix:"):
        parse_bandwidths("-5", "bars")
    assert parse_bandwidths("300, 100;100 50") == (50, 100, 300)


# --------------------------------------------------------------------------- Train


@pytest.mark.slow
def test_training_a_tiny_job_writes_a_run_folder(runs_dir):
    at = open_page(app(runs_dir), TRAIN)
    assert any("CUDA available" in c.value for c in at.caption)
    at.button_group[1].set_value(["dl"])  # models: deep-learning RTM only (fast)
    at.number_input(key="train_burn_in").set_value(20)
    at.number_input(key="train_prune").set_value(20)
    at.number_input(key="train_seeds").set_value(2)
    at.text_input[0].input("apptest run")
    next(b for b in at.button if b.label == "Start training").click().run()
    assert not at.exception
    seen_progress = bool(at.get("progress"))
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        time.sleep(0.5)
        at.run()
        assert not at.exception
        seen_progress |= bool(at.get("progress"))
        if any(b.label == "Open results" for b in at.button):
            break
    else:
        pytest.fail("the training job did not finish in time")
    assert seen_progress
    (run,) = list_runs(runs_dir)
    assert run.status == "complete" and run.label == "apptest run"
    assert run.manifest["models"] == ["dl"]
    next(b for b in at.button if b.label == "Open results").click().run()
    assert not at.exception
    assert at.session_state["rtm_selected_run"] == str(run.path)


@pytest.mark.timing
@pytest.mark.slow
def test_cancel_stops_a_training_job_from_the_page(runs_dir):
    at = open_page(app(runs_dir), TRAIN)
    at.button_group[1].set_value(["dl"])
    at.number_input(key="train_burn_in").set_value(500_000)
    next(b for b in at.button if b.label == "Start training").click().run()

    def progress_text() -> str:
        return " ".join(p.proto.text for p in at.get("progress"))

    deadline = time.monotonic() + 120
    while "deep-learning" not in progress_text() and time.monotonic() < deadline:
        time.sleep(0.3)
        at.run()
    assert "deep-learning" in progress_text(), progress_text()
    next(b for b in at.button if b.label == "Cancel").click().run()
    asked = time.monotonic()
    while not any("Cancelled" in c.value for c in at.caption):
        assert time.monotonic() - asked < 10, "cancel did not stop the job"
        time.sleep(0.3)
        at.run()
    assert not at.exception
    assert list(runs_dir.iterdir()) == []  # nothing written, no staging left


def test_the_quick_preset_fills_the_form(runs_dir):
    at = open_page(app(runs_dir), TRAIN)
    assert at.number_input(key="train_seeds").value == 2
    at.button_group[0].set_value("full").run()
    assert at.number_input(key="train_burn_in").value == 10_000
    assert at.number_input(key="train_seeds").value == 20


# --------------------------------------------------------------------------- run pages


def test_results_stability_and_export_show_the_latest_run(runs_dir, demo_run):
    copy_run(demo_run, runs_dir, "run-demo")
    at = open_page(app(runs_dir), RESULTS)
    assert not at.error
    assert len(at.dataframe) >= 4  # IRR, read-outs, conjunctive, top places
    irr = at.dataframe[0].value
    assert {"IRR", "95 % low", "95 % high"} <= set(irr.columns)
    (spec,) = decks(at)
    assert len(spec) < 1_500_000, "the risk map payload grew"
    assert '"ColumnLayer"' in spec
    assert "Relative risk score" in at.get("deck_gl_json_chart")[0].proto.tooltip
    assert len(at.get("vega_lite_chart")) >= 2  # IRR forest + PAI curves

    open_page(at, STABILITY)
    assert not at.error
    assert decks(at) and at.get("vega_lite_chart")

    open_page(at, EXPORT)
    labels = [b.label for b in at.get("download_button")]
    assert labels == [
        "GeoPackage",
        "GeoJSON",
        "CSV",
        "GeoTIFF",
        "IRR table (CSV)",
        "Report (HTML)",
        "Manifest (JSON)",
    ]


def test_runs_page_lists_damaged_folders_compares_and_deletes(runs_dir, demo_run):
    copy_run(demo_run, runs_dir, "run-a", "first")
    copy_run(demo_run, runs_dir, "run-b", "second")
    (runs_dir / "garbled").mkdir()
    (runs_dir / "garbled" / "manifest.json").write_text("{oops")
    partial = copy_run(demo_run, runs_dir, "partial")
    (partial / "units.gpkg").unlink()
    at = open_page(app(runs_dir), RUNS)
    table = at.dataframe[0].value
    status = dict(zip(table["run"], table["status"], strict=True))
    assert status == {
        "run-a": "complete",
        "run-b": "complete",
        "garbled": "damaged",
        "partial": "damaged",
    }
    problems = dict(zip(table["run"], table["problem"], strict=True))
    assert "manifest.json unreadable" in problems["garbled"]
    assert "units.gpkg" in problems["partial"]
    # runs, selected variables, IRR changes, PAI, then "Did the intervention work?": the IRR
    # ratios and the change in PAI (the same run twice: ratio 1, level everywhere)
    assert len(at.dataframe) == 6
    assert at.dataframe[2].value["change"].abs().max() == pytest.approx(0)
    assert any(m.value == "**Did the intervention work?**" for m in at.markdown)
    ratios = at.dataframe[4].value
    assert ratios["ratio B / A"].tolist() == pytest.approx([1.0] * len(ratios))
    assert (ratios["change"] == "level").all() and (ratios["p-value"] == 1).all()
    change = at.dataframe[5].value
    assert change["difference"].abs().max() == pytest.approx(0)
    assert (change["B against A"] == "level").all()
    assert any(
        m.value.startswith("The deep-learning RTM, out of sample: at 1 % run B is level with run A")
        for m in at.markdown
    )

    victim = at.selectbox[-1]
    victim.set_value(str(runs_dir / "garbled")).run()
    next(b for b in at.button if b.label == "Delete...").click().run()
    assert any("cannot be undone" in w.value for w in at.warning)
    assert (runs_dir / "garbled").exists()
    next(b for b in at.button if b.label == "Yes, delete it").click().run()
    assert not at.exception
    assert not (runs_dir / "garbled").exists()
    assert any("Deleted" in s.value for s in at.success)


def test_run_pages_without_runs_point_to_train(runs_dir):
    at = app(runs_dir)
    for page in (RESULTS, STABILITY, EXPORT):
        open_page(at, page)
        assert any("No finished run yet" in i.value for i in at.info)
    open_page(at, RUNS)
    assert any("No run yet" in i.value for i in at.info)


def upload(at: AppTest, path: Path, mime: str = "application/octet-stream") -> None:
    at.file_uploader[0].set_value((path.name, path.read_bytes(), mime))
    at.run()
    assert not at.exception, [e.value for e in at.exception]


def test_a_geopackage_layer_is_chosen_from_its_layers(runs_dir, layer_files):
    at = app(runs_dir)
    choose_role(at, "generator")
    upload(at, layer_files["gpkg"][0])
    layer_box = next(s for s in at.selectbox if s.label == "Layer in the GeoPackage")
    assert layer_box.options == ["points", "area"]
    layer_box.set_value("points").run()
    next(b for b in at.button if b.label == "Add layer").click().run()
    assert not at.error
    added = at.session_state["rtm_data"].generators[-1]
    assert (added.name, added.source.layer) == ("layers", "points")


def test_a_zipped_shapefile_is_added(runs_dir, layer_files):
    at = app(runs_dir)
    choose_role(at, "generator")
    upload(at, layer_files["zip"][0], "application/zip")
    next(b for b in at.button if b.label == "Add layer").click().run()
    assert not at.error
    assert at.session_state["rtm_data"].generators[-1].name == "points"


def test_dated_crimes_csv_is_mapped_split_and_checked(runs_dir, tiny_city):
    at = app(runs_dir)
    choose_role(at, "crimes")
    upload(at, tiny_city.crimes, "text/csv")
    at.selectbox(key="x_0").set_value("x")
    at.selectbox(key="y_0").set_value("y")
    next(t for t in at.text_input if t.label == "CRS of the coordinates").input("EPSG:26971")
    at.run()
    at.radio(key="periods_0").set_value("Custom dates").run()  # presets come first (issue 9)
    date_box = at.selectbox(key="date_0")
    assert date_box.options == ["when"]
    train, test = at.date_input
    train.set_value((date(2021, 1, 1), date(2021, 12, 31)))
    test.set_value((date(2022, 1, 1), date(2022, 12, 31)))
    next(b for b in at.button if b.label == "Add layer").click().run()
    assert not at.exception and not at.error
    crimes = at.session_state["rtm_data"].crimes
    assert (crimes.date, crimes.train, crimes.test) == (
        "when",
        ("2021-01-01", "2021-12-31"),
        ("2022-01-01", "2022-12-31"),
    )
    metrics = {m.label: m.value for m in at.metric}
    # the tiny city's crimes all fall inside the demo's Chicago grid (4 in 2021, 3 in 2022)
    assert metrics["Crimes in period t"] == "4" and metrics["Crimes in period t+1"] == "3"


def test_crimes_with_periods_in_the_wrong_order_are_refused(runs_dir, tiny_city):
    at = app(runs_dir)
    choose_role(at, "crimes")
    upload(at, tiny_city.crimes, "text/csv")
    at.selectbox(key="x_0").set_value("x")
    at.selectbox(key="y_0").set_value("y")
    next(t for t in at.text_input if t.label == "CRS of the coordinates").input("EPSG:26971")
    at.run()
    at.radio(key="periods_0").set_value("Custom dates").run()  # presets come first (issue 9)
    train, test = at.date_input
    train.set_value((date(2022, 1, 1), date(2022, 12, 31)))
    test.set_value((date(2021, 1, 1), date(2021, 12, 31)))
    next(b for b in at.button if b.label == "Add layer").click().run()
    assert not at.exception
    assert "Fix:" in at.error[0].value and "test period" in at.error[0].value
    assert at.session_state["rtm_data"].crimes.train_source is not None  # demo crimes kept


def test_a_units_layer_offers_fixed_covariates(runs_dir, tmp_path):
    units = gpd.GeoDataFrame(
        {"seg": [1, 2, 3], "lanes": [2.0, 4.0, 2.0]},
        geometry=[
            LineString([(x, 570_000), (x + 100, 570_000)]) for x in (350_000, 350_100, 350_200)
        ],
        crs="EPSG:26971",
    )
    path = tmp_path / "streets.geojson"
    units.to_file(path, driver="GeoJSON", engine="pyogrio")
    at = app(runs_dir)
    choose_role(at, "units")
    upload(at, path, "application/geo+json")
    next(s for s in at.selectbox if s.label == "Unit id column").set_value("seg")
    next(m for m in at.multiselect if m.label.startswith("Fixed")).set_value(["lanes"])
    next(b for b in at.button if b.label == "Add layer").click().run()
    assert not at.exception
    assert at.session_state["rtm_data"].units.fixed_columns == ("lanes",)
    # three short streets hold none of the demo's crimes: the study check says so, in one line
    (error,) = at.error
    assert "no training crime" in error.value and "Fix:" in error.value
    open_page(at, FACTORS)
    fixed = next(m for m in at.multiselect if m.label.startswith("Fixed"))
    assert fixed.value == ["lanes"]


def test_a_generator_layer_can_be_removed(runs_dir):
    at = app(runs_dir)
    next(s for s in at.selectbox if s.label == "Generator layer").set_value("graffiti").run()
    next(b for b in at.button if b.label == "Remove layer").click().run()
    assert not at.exception
    names = [g.name for g in at.session_state["rtm_data"].generators]
    assert "graffiti" not in names and len(names) == 5


def test_the_basemap_switch_uses_carto_only_when_online(runs_dir, monkeypatch):
    at = app(runs_dir)
    assert "cartocdn" not in decks(at)[0]
    at.toggle(key="rtm_basemap").set_value(True).run()
    deck = json.loads(decks(at)[0])
    assert deck["mapProvider"] == "carto" and "cartocdn" in deck["mapStyle"]
    monkeypatch.setenv("RTM_BASEMAP", "online")
    fresh = app(runs_dir)
    assert json.loads(decks(fresh)[0])["mapProvider"] == "carto"
