"""The `rtm` command: features, synth, run, and one-line errors with exit code 2."""

import json
import shutil
import subprocess
import sys

import geopandas as gpd
import pandas as pd
import pytest

from rtm_core.cli import main


def test_features_demo_writes_the_documented_table(tmp_path, capsys):
    out = tmp_path / "f.parquet"
    assert main(["features", "--demo", "--out", str(out)]) == 0
    table = pd.read_parquet(out)
    assert len(table) == 25_043
    dummies = [c for c in table.columns if "_dis_" in c or "_kde_" in c]
    assert len(dummies) == 6 * 9 * 2 == 108
    assert {"unit_id", "y_train", "y_test", "graffiti_dist", "graffiti_density_800"} <= set(table)
    assert table["y_train"].sum() == 6_855 and table["y_test"].sum() == 6_098
    assert "25,043 units x 108 dummies" in capsys.readouterr().out


def test_features_to_geopackage_keeps_geometry(tmp_path):
    city = tmp_path / "city"
    assert main(["synth", "--out", str(city), "--seed", "2"]) == 0
    out = tmp_path / "f.gpkg"
    assert main(["features", str(city / "config.toml"), "--out", str(out)]) == 0
    frame = gpd.read_file(out)
    assert frame.crs.to_epsg() == 32616 and frame.geom_type.eq("Polygon").all()
    assert "bars_dis_100" in frame and "bars_kde_100" not in frame


def test_synth_refuses_a_non_empty_folder(tmp_path, capsys):
    (tmp_path / "keep.txt").write_text("mine")
    assert main(["synth", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "already exists and is not empty" in err and "Fix:" in err
    assert (tmp_path / "keep.txt").read_text() == "mine"


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        ("[units]\nkind='grid'\n", r"config\.toml \[units\.boundary\]: is missing"),
        ("[units]\nkind='hexagon'\n", r"\[units\.kind\]: unknown value 'hexagon'"),
        (
            "[units]\nboundary='b.gpkg'\ncell_size=-5\n[crimes]\nfile='c.csv'\n",
            r"\[units\.cell_size\]: must be > 0",
        ),
        ("[unit]\nkind='grid'\n", r"\[unit\]: unknown key"),
        ("not toml [", r"is not valid TOML"),
    ],
)
def test_bad_config_is_one_line_with_exit_2(tmp_path, capsys, toml, expected):
    path = tmp_path / "config.toml"
    path.write_text(toml)
    assert main(["features", str(path), "--out", str(tmp_path / "f.parquet")]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "Traceback" not in err
    assert err.startswith("rtm: error: ") and "Fix:" in err
    import re

    assert re.search(expected, err), err


def test_config_and_demo_together_is_an_error(tmp_path, capsys):
    assert main(["run", "x.toml", "--demo", "--out", str(tmp_path / "r")]) == 2
    assert "give a config file or --demo" in capsys.readouterr().err


def test_console_script_is_installed():
    exe = shutil.which("rtm") or str(__import__("pathlib").Path(sys.executable).parent / "rtm")
    result = subprocess.run([exe, "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "features" in result.stdout and "synth" in result.stdout


@pytest.mark.slow
def test_run_on_a_synthetic_city_writes_a_complete_run_folder(tmp_path, capsys):
    city = tmp_path / "city"
    main(["synth", "--out", str(city), "--seed", "4"])
    out = tmp_path / "run"
    code = main(
        [
            "run",
            str(city / "config.toml"),
            "--out",
            str(out),
            "--seeds",
            "2",
            "--burn-in-steps",
            "400",
            "--prune-steps",
            "400",
            "--quiet",
        ]
    )
    assert code == 0, capsys.readouterr().err
    assert f"Run written to {out.resolve()}" in capsys.readouterr().out
    for name in (
        "manifest.json",
        "coefficients.csv",
        "units.gpkg",
        "metrics.json",
        "conjunctive.csv",
        "stability.csv",
        "report.html",
    ):
        assert (out / name).is_file(), name
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "complete"
    assert set(manifest["timings"]) >= {"features", "fit", "total"}
    assert set(manifest["timings"]["fit"]) == {"dl", "classical"}
    metrics = json.loads((out / "metrics.json").read_text())
    assert set(metrics) == {"dl", "classical", "prior_counts", "kde", "forest"}
    for periods in metrics.values():
        for period in ("train", "test"):
            for metric in ("pai", "pei", "pei_star", "hit_rate"):
                assert set(periods[period][metric]) == {"0.01", "0.05", "0.10", "z2"}
    coef = pd.read_csv(out / "coefficients.csv")
    assert {
        "model",
        "variable",
        "set",
        "coef",
        "irr",
        "irr_low",
        "irr_high",
        "selected_share",
    } <= set(coef)
    units = gpd.read_file(out / "units.gpkg")
    assert {
        "unit_id",
        "y_train",
        "y_test",
        "risk_dl",
        "risk_classical",
        "risk_prior_counts",
        "risk_kde",
        "risk_forest",
    } <= set(units)
    assert units["risk_dl"].min() == pytest.approx(1.0)
    html = (out / "report.html").read_text()
    assert "<script" not in html and "http://" not in html and "https://" not in html
    assert "data:image/png;base64," in html
    # a second run into the same folder is refused; the first is untouched
    before = (out / "manifest.json").read_text()
    assert main(["run", str(city / "config.toml"), "--out", str(out), "--quiet"]) == 2
    assert (out / "manifest.json").read_text() == before
