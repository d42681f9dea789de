"""Safety: size limits, hostile zips, no unsafe deserialisation in product code, an HTML
report that escapes user text and leaves incident locations out unless asked, and CSV exports
that spreadsheets cannot run.
"""

from __future__ import annotations

import html
import io
import json
import re
import shutil
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from rtm_core import io as rtm_io
from rtm_core.config import LayerSource, load_config, parse_config
from rtm_core.errors import ConfigError, InputError
from rtm_core.io import max_upload_bytes, read_layer
from rtm_core.record.folder import INCIDENTS_FILE, load_run
from rtm_core.results.export import coefficients_csv
from rtm_core.results.report import render_report, write_report
from rtm_core.runs.pipeline import run_pipeline
from tests.hardening.conftest import MeanForest, edit_config, fast

# GDAL notes that a GeoPackage read from memory has no .gpkg name: harmless
pytestmark = pytest.mark.filterwarnings("ignore:.*non conformant file extension:RuntimeWarning")

ROOT = Path(__file__).resolve().parents[2]
HOSTILE = "<script>alert(1)</script>"


# ---------------------------------------------------------------------- upload size


def test_upload_limit_default_and_environment(monkeypatch):
    monkeypatch.delenv("RTM_MAX_UPLOAD_MB", raising=False)
    assert max_upload_bytes() == 200 * 1024 * 1024
    monkeypatch.setenv("RTM_MAX_UPLOAD_MB", "0.5")
    assert max_upload_bytes() == 512 * 1024
    for bad in ("lots", "0", "-3", "nan"):
        monkeypatch.setenv("RTM_MAX_UPLOAD_MB", bad)
        with pytest.raises(ConfigError, match=r"environment \[RTM_MAX_UPLOAD_MB\]: must be a pos"):
            max_upload_bytes()


@pytest.mark.parametrize("as_upload", [True, False], ids=["bytes", "path"])
def test_upload_limit_is_enforced_before_parsing(tmp_path, monkeypatch, as_upload):
    monkeypatch.setenv("RTM_MAX_UPLOAD_MB", "0.01")  # 10 KiB
    rows = "".join(f"{440000 + i},{4630000 + i}\n" for i in range(1000))  # ~18 KB
    path = tmp_path / "big.csv"
    path.write_text("x,y\n" + rows)
    kwargs = {"x": "x", "y": "y", "crs": "EPSG:32616", "name": "big.csv"}
    source = (
        LayerSource(data=path.read_bytes(), **kwargs)
        if as_upload
        else LayerSource(path=path, **kwargs)
    )
    with pytest.raises(
        InputError, match=r"big\.csv \[file\]: is 0\.0\d+ MB, over the 0\.01 MB limit\."
    ):
        read_layer(source)
    monkeypatch.setenv("RTM_MAX_UPLOAD_MB", "1")
    assert read_layer(source).report.n_kept == 1000


# --------------------------------------------------------------------------- zips


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as out:
        for name, data in members.items():
            info = zipfile.ZipInfo(name)  # written verbatim: ZipFile.write would clean names
            info.compress_type = zipfile.ZIP_DEFLATED
            out.writestr(info, data)
    return buffer.getvalue()


@pytest.mark.parametrize(
    "member",
    ["../evil.shp", "a/../../evil.shp", "/etc/evil.shp", "C:/evil.shp", "..\\evil.shp", "\\x.shp"],
)
def test_zip_names_that_escape_the_folder_are_refused(member, tmp_path):
    data = _zip({member: b"x", "evil.shx": b"x", "evil.dbf": b"x"})
    with pytest.raises(InputError, match=r"up\.zip: member .* escapes the folder\. Fix:"):
        read_layer(LayerSource(data=data, name="up.zip"))
    assert list(tmp_path.iterdir()) == []  # nothing was unpacked anywhere


def test_zip_bomb_is_refused_before_unpacking(monkeypatch):
    monkeypatch.setattr(rtm_io.zips, "MAX_ZIP_UNPACKED", 1024 * 1024)
    data = _zip({"a.shp": b"\0" * (8 * 1024 * 1024), "a.shx": b"", "a.dbf": b""})
    assert len(data) < 20_000  # 8 MB of zeros packed into a few KB
    with pytest.raises(InputError, match=r"up\.zip: unpacks to 8 MB \(limit 1 MB\)\. Fix:"):
        read_layer(LayerSource(data=data, name="up.zip"))


def test_zip_with_too_many_members_is_refused():
    data = _zip({f"f{i}.txt": b"" for i in range(rtm_io.MAX_ZIP_MEMBERS + 1)})
    with pytest.raises(InputError, match=r"up\.zip: holds 201 files \(limit 200\)\. Fix:"):
        read_layer(LayerSource(data=data, name="up.zip"))


# ------------------------------------------------------------- unsafe deserialisation

UNSAFE = [
    (r"\bimport\s+(c?pickle|dill|cloudpickle|shelve|marshal)\b", "pickle-like import"),
    (r"\bfrom\s+(c?pickle|dill|cloudpickle|shelve|marshal)\s+import\b", "pickle-like import"),
    (r"\bpickle\.", "pickle"),
    (r"read_pickle\(", "pandas read_pickle"),
    (r"allow_pickle\s*=\s*True", "numpy allow_pickle"),
    (r"(?<![\w.])eval\(", "eval"),
    (r"(?<![\w.])exec\(", "exec"),
    (r"\btorch\.load\(", "torch.load"),
    (r"\bjoblib\.load\(", "joblib.load"),
    (r"\byaml\.load\(", "yaml.load"),
    (r"shell\s*=\s*True", "subprocess shell=True"),
]


def _product_files() -> list[Path]:
    files = [ROOT / "app.py"] if (ROOT / "app.py").is_file() else []
    for folder in ("rtm_core", "rtm_app", "views"):
        files += sorted((ROOT / folder).rglob("*.py"))
    return files


def test_no_unsafe_loading_in_product_code():
    files = _product_files()
    assert any(f.parent.name == "io" and f.name == "layers.py" for f in files)
    found = []
    for path in files:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            code = line.split("#", 1)[0]
            for pattern, what in UNSAFE:
                if re.search(pattern, code):
                    found.append(f"{path.relative_to(ROOT)}:{number}: {what}: {line.strip()}")
    assert found == []


# ---------------------------------------------------------------------- the report


@pytest.fixture(scope="module")
def runs(synth_template: Path, tmp_path_factory) -> dict[str, Path]:
    """Two complete runs of the synthetic city: the default, and one that opted in to
    incident locations."""
    folder = tmp_path_factory.mktemp("report")
    out = {}
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("rtm_core.runs.pipeline.ForestBaseline", MeanForest)
        for name, opt_in in (("default", False), ("incidents", True)):
            city = folder / f"city-{name}"
            shutil.copytree(synth_template, city)
            config = fast(city)
            if opt_in:
                edit_config(
                    city, lambda data: data.__setitem__("report", {"include_incidents": True})
                )
            out[name] = run_pipeline(load_config(config), folder / "runs" / name)
    out["crimes"] = folder / "city-default" / "crimes.csv"
    return out


def _hostile_copy(run: Path, folder: Path) -> Path:
    """A copy of a run whose label and every text column carry hostile text."""
    copy = folder / "hostile"
    shutil.copytree(run, copy)
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest.update(label=HOSTILE, crs=HOSTILE, unit_kind=HOSTILE)
    manifest["crimes"] = {"train": HOSTILE, "test": 1}
    (copy / "manifest.json").write_text(json.dumps(manifest))
    for name in ("coefficients.csv", "conjunctive.csv", "top_places.csv", "stability.csv"):
        table = pd.read_csv(copy / name)
        assert not table.empty, name
        text = [c for c in table.columns if table[c].dtype == object] or [table.columns[0]]
        table[text[0]] = table[text[0]].astype(str).str.cat([HOSTILE] * len(table), sep=" ")
        table.to_csv(copy / name, index=False)
    metrics = json.loads((copy / "metrics.json").read_text())
    metrics[HOSTILE] = metrics["dl"]
    (copy / "metrics.json").write_text(json.dumps(metrics))
    return copy


def test_report_escapes_text_from_user_files(runs, tmp_path):
    page = render_report(_hostile_copy(runs["default"], tmp_path))
    assert "<script" not in page.lower()
    escaped = html.escape(HOSTILE)
    assert page.count(escaped) >= 8  # title, heading, crs, unit kind, crimes and four tables
    assert "<title>&lt;script&gt;" in page


def test_layer_names_cannot_carry_markup():
    config = {
        "units": {"boundary": "b.gpkg"},
        "crimes": {"train_file": "a.csv", "test_file": "b.csv"},
        "generators": [{"name": HOSTILE, "file": "g.csv"}],
    }
    with pytest.raises(ConfigError, match=r"\[generators\[0\]\.name\]: .* is not a simple name"):
        parse_config(config, file="config.toml")


def _coordinates(crimes_csv: Path, n: int = 200) -> list[str]:
    table = pd.read_csv(crimes_csv, dtype=str).head(n)
    return [v for v in table["X"].tolist() + table["Y"].tolist() if len(v) > 6]


def test_report_leaves_incident_locations_out_by_default(runs):
    run = runs["default"]
    assert not (run / INCIDENTS_FILE).exists()
    page = (run / "report.html").read_text()
    assert "Incidents" not in page
    assert not [v for v in _coordinates(runs["crimes"]) if v in page]
    # asking for incidents on a run that did not store them explains how to get them
    page = render_report(run, include_incidents=True)
    assert "did not store incident locations" in page and "include_incidents = true" in page


def test_report_includes_incidents_when_the_analyst_opts_in(runs):
    run = runs["incidents"]
    assert load_run(run).manifest["config"]["report"] == {"include_incidents": True}
    incidents = pd.read_csv(run / INCIDENTS_FILE)
    assert set(incidents["period"]) == {"train", "test"}
    assert len(incidents) == sum(load_run(run).manifest["crimes"].values())
    page = (run / "report.html").read_text()
    assert "Incidents (raw locations, included by the analyst)" in page
    assert "alt='incident locations'" in page
    assert f"{incidents['x'].iloc[0]:.1f}" in page  # the table shows coordinates
    # the analyst may still share a version without them
    assert "Incidents" not in render_report(run, include_incidents=False)
    write_report(run, include_incidents=False)
    assert "Incidents" not in (run / "report.html").read_text()


# ----------------------------------------------------------------------- CSV export


def test_csv_export_neutralises_formulas(runs, tmp_path):
    copy = tmp_path / "run"
    shutil.copytree(runs["default"], copy)
    table = pd.read_csv(copy / "coefficients.csv")
    table.loc[0, "variable"] = '=HYPERLINK("http://evil.example","click")'
    table.loc[1, "variable"] = "@SUM(A1:A9)"
    table.to_csv(copy / "coefficients.csv", index=False)
    exported = pd.read_csv(io.BytesIO(coefficients_csv(load_run(copy))), dtype=str)
    assert exported.loc[0, "variable"].startswith("'=HYPERLINK")
    assert exported.loc[1, "variable"] == "'@SUM(A1:A9)"
    assert not exported["variable"].str.match(r"^[=+@\t\r-]").any()
