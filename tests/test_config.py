"""rtm_core.config: TOML parsing, relative paths, the demo config, errors naming file and key."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from rtm_core.config import (
    DEFAULT_BANDWIDTHS,
    DEMO_PATH,
    FeaturesConfig,
    GeneratorConfig,
    LayerSource,
    ModelConfig,
    RunConfig,
    demo_config,
    load_config,
    parse_config,
)
from rtm_core.errors import ConfigError, InputError

FULL_TOML = """\
[units]
kind = "file"
file = "streets/segments.gpkg"
layer = "segments"
id = "SEG_ID"
fixed = ["intersection"]
snap_distance = 25
crs = "EPSG:26971"

[crimes]
file = "../shared/crimes.csv"
x = "X"
y = "Y"
crs = "EPSG:3435"
date = "OCCUR_DATE"
train = ["2021-01-01", "2021-12-31"]
test = ["2022-01-01", "2022-12-31"]

[[generators]]
name = "liquor"
file = "liquor.csv"
x = "lon"
y = "lat"
crs = "EPSG:4326"
measures = ["distance", "kde"]
bandwidths = [800, 50, 200.0]

[[generators]]
name = "bus_stops"
file = "/abs/stops.geojson"
measures = ["distance"]

[features]
kernel = "gaussian"
threshold = 1.5
chunk_size = 1000

[model]
kinds = ["dl"]
loss = "negbin"
seeds = 5
burn_in_steps = 100
prune_steps = 200
learning_rate = 0.01
cancel_gate = true
device = "cpu"
random_state = 7
cv_folds = 3
"""


def test_full_toml_with_relative_paths(tmp_path):
    folder = tmp_path / "project" / "configs"
    folder.mkdir(parents=True)
    path = folder / "run.toml"
    path.write_text(FULL_TOML, encoding="utf-8")
    cfg = load_config(path)

    assert cfg.source == "run.toml"
    units = cfg.units
    assert units.kind == "file" and units.boundary is None
    assert units.source == LayerSource(
        path=folder / "streets" / "segments.gpkg",
        layer="segments",
        crs="EPSG:26971",
        name="segments.gpkg",
    )
    assert (units.id_column, units.fixed_columns, units.snap_distance, units.crs) == (
        "SEG_ID",
        ("intersection",),
        25.0,
        "EPSG:26971",
    )
    crimes = cfg.crimes
    assert crimes.source.path == folder / ".." / "shared" / "crimes.csv"
    assert crimes.source.path.resolve() == tmp_path / "project" / "shared" / "crimes.csv"
    assert (crimes.source.x, crimes.source.y, crimes.source.crs) == ("X", "Y", "EPSG:3435")
    assert crimes.date == "OCCUR_DATE"
    assert crimes.train == ("2021-01-01", "2021-12-31")
    assert crimes.test == ("2022-01-01", "2022-12-31")
    assert crimes.train_source is None and crimes.test_source is None

    liquor, stops = cfg.generators
    assert liquor.name == "liquor"
    assert liquor.source.path == folder / "liquor.csv"
    assert (liquor.source.x, liquor.source.y, liquor.source.crs) == ("lon", "lat", "EPSG:4326")
    assert liquor.measures == ("distance", "kde")
    assert liquor.bandwidths == (50, 200, 800)  # sorted, whole metres
    assert stops.source.path == Path("/abs/stops.geojson")
    assert stops.measures == ("distance",)
    assert stops.bandwidths == DEFAULT_BANDWIDTHS

    assert cfg.features == FeaturesConfig(kernel="gaussian", threshold=1.5, chunk_size=1000)
    assert cfg.model == ModelConfig(
        kinds=("dl",),
        loss="negbin",
        seeds=5,
        burn_in_steps=100,
        prune_steps=200,
        learning_rate=0.01,
        cancel_gate=True,
        device="cpu",
        random_state=7,
        cv_folds=3,
    )


def test_split_crime_files_and_defaults(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text(
        '[units]\nboundary = "area.geojson"\n'
        '[crimes]\ntrain_file = "t0.csv"\ntest_file = "t1.csv"\ntrain_layer = "a"\n'
        'x = "x"\ny = "y"\ncrs = "EPSG:26971"\n'
        '[[generators]]\nname = "bars"\nfile = "bars.gpkg"\nlayer = "bars"\n',
        encoding="utf-8",
    )
    cfg = load_config(path)
    assert cfg.units.kind == "grid"
    assert cfg.units.boundary.path == tmp_path / "area.geojson"
    assert (cfg.units.cell_size, cfg.units.keep, cfg.units.snap_distance) == (150.0, "centre", 50.0)
    assert cfg.crimes.source is None
    assert cfg.crimes.train_source.path == tmp_path / "t0.csv"
    assert cfg.crimes.train_source.layer == "a"
    assert cfg.crimes.test_source.layer is None
    assert cfg.crimes.test_source.crs == "EPSG:26971"
    assert cfg.generators[0].source.layer == "bars"
    assert cfg.generators[0].source.label == "bars.gpkg:bars"
    assert cfg.features == FeaturesConfig()
    assert cfg.model == ModelConfig()


def test_demo_path_shortcut():
    cfg = parse_config(
        {
            "units": {"boundary": "<demo>", "boundary_layer": "boundary"},
            "crimes": {"train_file": "<demo>", "test_file": "<demo>"},
            "generators": [{"name": "liquor", "file": "<demo>", "layer": "liquor_retail"}],
        }
    )
    assert cfg.units.boundary.path == DEMO_PATH
    assert cfg.generators[0].source.path == DEMO_PATH


def test_demo_config_fields():
    cfg = demo_config()
    assert isinstance(cfg, RunConfig)
    assert cfg.source == "<demo>"
    assert DEMO_PATH.is_file() and DEMO_PATH.name == "chicago_demo.gpkg"
    units = cfg.units
    assert (units.kind, units.cell_size, units.keep, units.crs) == (
        "grid",
        150.0,
        "centre",
        "EPSG:26971",
    )
    assert (units.boundary.path, units.boundary.layer) == (DEMO_PATH, "boundary")
    assert cfg.crimes.source is None
    assert cfg.crimes.train_source.layer == "burglary_2017"
    assert cfg.crimes.test_source.layer == "burglary_2018"
    assert [g.name for g in cfg.generators] == [
        "liquor_retail",
        "abandoned_buildings",
        "abandoned_cars",
        "graffiti",
        "sanitation",
        "street_light_outages",
    ]
    for generator in cfg.generators:
        assert generator.source.path == DEMO_PATH
        assert generator.source.layer == generator.name
        assert generator.measures == ("distance", "kde")
        assert generator.bandwidths == (50, 100, 200, 300, 400, 500, 600, 700, 800)
    assert cfg.features == FeaturesConfig(kernel="quartic", threshold=2.0)
    assert cfg.model == ModelConfig()


def test_demo_config_model_overrides():
    cfg = demo_config(seeds=3, burn_in_steps=10)
    assert (cfg.model.seeds, cfg.model.burn_in_steps) == (3, 10)
    assert cfg.model.prune_steps == ModelConfig().prune_steps


def test_to_dict_is_json_serialisable_and_leaves_bytes_out(tmp_path):
    cfg = demo_config()
    upload = LayerSource(data=b"\x00\x01 raw upload", name="bars.zip")
    cfg = cfg.replace(generators=cfg.generators[:1] + (GeneratorConfig("bars", upload),))
    data = json.loads(json.dumps(cfg.to_dict()))
    assert data["units"]["boundary"]["path"] == str(DEMO_PATH)
    assert data["units"]["cell_size"] == 150.0
    assert data["generators"][0]["bandwidths"] == list(DEFAULT_BANDWIDTHS)
    assert data["generators"][1]["source"] == {
        "path": None,
        "layer": None,
        "x": None,
        "y": None,
        "crs": None,
        "name": "bars.zip",
    }
    assert data["model"]["kinds"] == ["dl", "classical"]
    assert data["source"] == "<demo>"


def test_replace_returns_a_new_config():
    cfg = demo_config()
    other = cfg.replace(features=FeaturesConfig(kernel="gaussian"))
    assert other.features.kernel == "gaussian" and cfg.features.kernel == "quartic"


# ---------------------------------------------------------------------------- errors

BASE = {
    "units": {"boundary": "b.gpkg"},
    "crimes": {"train_file": "a.csv", "test_file": "b.csv", "x": "x", "y": "y"},
    "generators": [{"name": "liquor", "file": "l.csv"}],
}


def _set(path: str, value):
    """A change to BASE: ``"units.cell_size"`` -> value (None deletes)."""

    def change(data):
        *parents, key = path.split(".")
        node = data
        for part in parents:
            node = node[int(part)] if part.isdigit() else node[part]
        if value is None:
            del node[key]
        else:
            node[key] = value

    return change


CONFIG_ERRORS = [
    pytest.param(
        _set("colour", "red"),
        r"c\.toml \[colour\]: unknown key\. Fix: remove it",
        id="top-unknown-key",
    ),
    pytest.param(
        _set("units.cellsize", 150),
        r"c\.toml \[units\.cellsize\]: unknown key\. Fix: remove it or use one of .*cell_size",
        id="units-unknown-key",
    ),
    pytest.param(
        _set("generators.0.bandwith", [100]),
        r"c\.toml \[generators\[0\]\.bandwith\]: unknown key\. Fix:",
        id="generator-unknown-key",
    ),
    pytest.param(
        _set("units.cell_size", "150"),
        r"c\.toml \[units\.cell_size\]: must be a number, got str '150'\. Fix: write `cell_size`",
        id="wrong-type-string",
    ),
    pytest.param(
        _set("units.cell_size", True),
        r"c\.toml \[units\.cell_size\]: must be a number, got True\. Fix: write `cell_size` as",
        id="wrong-type-bool",
    ),
    pytest.param(
        _set("model", {"seeds": 2.5}),
        r"c\.toml \[model\.seeds\]: must be an integer, got float 2\.5\. Fix:",
        id="wrong-type-float-for-int",
    ),
    pytest.param(
        _set("units", [1, 2]),
        r"c\.toml \[units\]: must be a table, got list .*Fix:",
        id="section-wrong-type",
    ),
    pytest.param(
        _set("crimes", None),
        r"c\.toml \[crimes\]: is missing\. Fix: add a \[crimes\]",
        id="missing-crimes",
    ),
    pytest.param(
        _set("units", None),
        r"c\.toml \[units\]: is missing\. Fix: add a \[units\]",
        id="missing-units",
    ),
    pytest.param(
        _set("generators", None),
        r"c\.toml \[generators\]: is missing\. Fix: add \[\[generators\]\] tables",
        id="missing-generators",
    ),
    pytest.param(
        _set("generators", []), r"c\.toml \[generators\]: is empty\. Fix:", id="no-generators"
    ),
    pytest.param(
        _set("units.boundary", None),
        r"c\.toml \[units\.boundary\]: is missing\. Fix: set `boundary` to a file path",
        id="grid-without-boundary",
    ),
    pytest.param(
        _set("crimes", {"train_file": "a.csv"}),
        r"c\.toml \[crimes\.file\]: is missing\. Fix: give `file`",
        id="crimes-without-files",
    ),
    pytest.param(
        _set("crimes", {"file": "c.csv", "train": ["2021-01-01", "2021-12-31"]}),
        r"c\.toml \[crimes\.date\]: is missing\. Fix: name the date column",
        id="crimes-without-date",
    ),
    pytest.param(
        _set("crimes", {"file": "c.csv", "date": "d", "train": ["2021-01-01", "2021-12-31"]}),
        r"c\.toml \[crimes\.test\]: is missing\. Fix: add `test",
        id="crimes-without-test",
    ),
    pytest.param(
        _set("crimes", {"file": "c.csv", "date": "d", "train": ["2021"], "test": ["a", "b"]}),
        r"c\.toml \[crimes\.train\]: must be two dates, got \['2021'\]\. Fix:",
        id="period-one-date",
    ),
    pytest.param(
        lambda d: d["generators"].append({"name": "liquor", "file": "other.csv"}),
        r"c\.toml \[generators\]: name 'liquor' is used twice\. Fix: give each layer its own",
        id="duplicate-generator-names",
    ),
    pytest.param(
        _set("generators.0.name", "2 liquor"),
        r"c\.toml \[generators\[0\]\.name\]: '2 liquor' is not a simple name\. Fix:",
        id="generator-bad-name",
    ),
    pytest.param(
        _set("generators.0.bandwidths", [0, 100]),
        r"c\.toml \[generators\[0\]\.bandwidths\]: must be > 0 metres, got 0\. Fix:",
        id="bandwidth-zero",
    ),
    pytest.param(
        _set("generators.0.bandwidths", [-50]),
        r"c\.toml \[generators\[0\]\.bandwidths\]: must be > 0 metres, got -50\. Fix:",
        id="bandwidth-negative",
    ),
    pytest.param(
        _set("generators.0.bandwidths", []),
        r"c\.toml \[generators\[0\]\.bandwidths\]: is empty\. Fix: list at least one",
        id="bandwidth-empty",
    ),
    pytest.param(
        _set("generators.0.bandwidths", [164, 656, 2625, 26247]),
        r"c\.toml \[generators\[0\]\.bandwidths\]: 26247 m is over 20 km \(feet by mistake\?\)\. "
        r"Fix: give bandwidths in metres",
        id="bandwidth-in-feet",
    ),
    pytest.param(
        _set("generators.0.bandwidths", [100, 100]),
        r"\[generators\[0\]\.bandwidths\]: repeats a value in \[100, 100\]\. Fix:",
        id="bandwidth-repeated",
    ),
    pytest.param(
        _set("generators.0.bandwidths", [100.5]),
        r"\[generators\[0\]\.bandwidths\]: must be whole metres, got 100\.5\. Fix: round",
        id="bandwidth-fraction",
    ),
    pytest.param(
        _set("generators.0.bandwidths", ["200"]),
        r"\[generators\[0\]\.bandwidths\]: '200' is not a number\. Fix:",
        id="bandwidth-string",
    ),
    pytest.param(
        _set("generators.0.measures", ["distance", "density"]),
        r"\[generators\[0\]\.measures\]: unknown \['density'\]\. Fix: use distance and/or kde",
        id="unknown-measure",
    ),
    pytest.param(
        _set("units.cell_size", 0),
        r"c\.toml \[units\.cell_size\]: must be > 0, got 0\.0\. Fix: set a positive",
        id="cell-size-zero",
    ),
    pytest.param(
        _set("units.kind", "hexagons"),
        r"c\.toml \[units\.kind\]: unknown value 'hexagons'\. Fix: use one of 'grid', 'file'",
        id="unknown-units-kind",
    ),
    pytest.param(
        _set("features", {"kernel": "epanechnikov"}),
        r"c\.toml \[features\.kernel\]: unknown value 'epanechnikov'\. Fix: use one of 'quartic'",
        id="unknown-kernel",
    ),
    pytest.param(
        _set("model", {"kinds": ["dl", "xgboost"]}),
        r"c\.toml \[model\.kinds\]: unknown \['xgboost'\]\. Fix:",
        id="unknown-model-kind",
    ),
    pytest.param(
        _set("model", {"device": "tpu"}),
        r"c\.toml \[model\.device\]: unknown value 'tpu'\. Fix: use one of 'auto', 'cpu', 'cuda'",
        id="unknown-device",
    ),
    pytest.param(
        _set("model", {"seeds": 0}),
        r"c\.toml \[model\.seeds\]: must be > 0, got 0\. Fix:",
        id="zero-seeds",
    ),
]


@pytest.mark.parametrize(("change", "match"), CONFIG_ERRORS)
def test_config_errors_name_file_key_and_fix(change, match):
    data = copy.deepcopy(BASE)
    change(data)
    with pytest.raises(ConfigError, match=match):
        parse_config(data, file="c.toml")


def test_config_error_is_an_input_error():
    with pytest.raises(InputError, match="Fix:"):
        parse_config({}, file="c.toml")


def test_load_config_file_problems(tmp_path):
    with pytest.raises(ConfigError, match=r"missing\.toml: file not found\. Fix: check the path"):
        load_config(tmp_path / "missing.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("[units\nkind = grid", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"broken\.toml: is not valid TOML \(.*\)\. Fix: fix the"):
        load_config(broken)
    latin = tmp_path / "latin.toml"
    latin.write_bytes('[units]\nboundary = "caf\xe9.gpkg"\n'.encode("latin-1"))
    with pytest.raises(ConfigError, match=r"latin\.toml: cannot be read .*Fix: save it as UTF-8"):
        load_config(latin)
