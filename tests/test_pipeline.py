"""The pipeline's evaluation settings: share of area by unit measure or by unit count."""

import json

import pytest

from rtm_core.config import EvaluationConfig, load_config
from rtm_core.errors import ConfigError
from rtm_core.pipeline import run_pipeline
from rtm_core.synth import make_city, write_city


@pytest.fixture(scope="module")
def city_config(tmp_path_factory):
    folder = tmp_path_factory.mktemp("city")
    config = load_config(write_city(make_city(7, size=3_000.0), folder))
    model = config.model.__class__(kinds=("classical",))
    return config.replace(model=model)


def test_area_by_unit_count_is_recorded_and_equal_for_equal_cells(city_config, tmp_path):
    by_area = run_pipeline(city_config, tmp_path / "area")
    by_count = run_pipeline(
        city_config.replace(evaluation=EvaluationConfig(area="count")), tmp_path / "count"
    )
    area_manifest = json.loads((by_area / "manifest.json").read_text())
    count_manifest = json.loads((by_count / "manifest.json").read_text())
    assert (area_manifest["measure"], count_manifest["measure"]) == ("area", "count")
    # grid cells all have the same area, so both ways give the same PAI
    area_metrics = json.loads((by_area / "metrics.json").read_text())
    count_metrics = json.loads((by_count / "metrics.json").read_text())
    assert area_metrics["classical"]["test"]["pai"] == pytest.approx(
        count_metrics["classical"]["test"]["pai"]
    )


def test_evaluation_area_is_validated(tmp_path):
    from rtm_core.config import parse_config

    data = {
        "units": {"boundary": "b.gpkg"},
        "crimes": {"train_file": "a.csv", "test_file": "b.csv"},
        "generators": [{"name": "bars", "file": "bars.csv"}],
        "evaluation": {"area": "hectares"},
    }
    with pytest.raises(ConfigError, match=r"\[evaluation\.area\]: unknown value 'hectares'"):
        parse_config(data, file="config.toml", base=tmp_path)
    data["evaluation"] = {"area": "count"}
    assert parse_config(data, base=tmp_path).evaluation.area == "count"
