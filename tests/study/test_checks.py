"""rtm_core.study.checks and `rtm check`: every problem at once, each with its fix, plus notes."""

from __future__ import annotations

import dataclasses
import re
import shutil
import zipfile
from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from shapely.geometry import Point, Polygon, box

import rtm_core.io.delimited
import rtm_core.study.checks
import rtm_core.study.load
from rtm_core.cli import main
from rtm_core.config import LayerSource, load_config
from rtm_core.errors import InputError
from rtm_core.io import read_layer
from rtm_core.io.tables import read_table
from rtm_core.study.checks import Problem, check_layer, check_study, errors
from tests.new_city import write_new_city


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("checks") / "city"
    write_new_city(folder)
    return folder


@pytest.fixture
def city(template, tmp_path) -> Path:
    folder = tmp_path / "city"
    shutil.copytree(template, folder)
    return folder


def _source(path: Path, **kwargs) -> LayerSource:
    return LayerSource(path=path, name=path.name, **kwargs)


def _texts(problems, severity=None) -> list[str]:
    return [str(p) for p in problems if severity is None or p.severity == severity]


def test_problem_reads_like_an_input_error():
    error = InputError("crimes.csv", "Date", "date column not found", "set crimes.date")
    problem = Problem.from_error(error)
    assert str(problem) == str(error) and problem.severity == "error"
    assert str(Problem.note("b.gpkg", "repaired")) == "b.gpkg: repaired"


def test_the_new_city_boundary_gives_notes_not_errors(city):
    problems = check_layer(_source(city / "boundary.gpkg"), "boundary")
    assert not errors(problems)
    assert _texts(problems, "note") == [
        "boundary.gpkg: boundary is in EPSG:3435 (US survey foot); working CRS EPSG:26971 "
        "(metres), the same zone",
        "boundary.gpkg: repaired 1 invalid polygon (district 'Riverside': Ring "
        "Self-intersection, area unchanged)",
    ]


def test_crimes_with_offsets_and_gaps(city):
    source = _source(city / "crimes.csv", x="X Coordinate", y="Y Coordinate", crs="EPSG:3435")
    problems = check_layer(source, "crimes", date="Date")
    assert _texts(problems) == [
        "crimes.csv: 3,000 dates carry a UTC offset (e.g. -06:00); their local time is used"
    ]
    lonlat = check_layer(_source(city / "crimes.csv", x="Longitude", y="Latitude"), "crimes")
    assert "crimes.csv: 41 of 3,000 rows without usable coordinates dropped" in _texts(lonlat)


def test_bare_xy_take_the_boundary_crs_only_when_given_the_boundary(city):
    source = _source(city / "bus_stops.csv.gz", x="X", y="Y")
    alone = check_layer(source, "generator")
    assert _texts(errors(alone)) == [
        'bus_stops.csv.gz [crs]: no CRS given for the x/y columns. Fix: set crs, e.g. "EPSG:26971"'
    ]
    boundary = read_layer(_source(city / "boundary.gpkg"))
    problems = check_layer(source, "generator", boundary=boundary)
    assert not errors(problems)
    assert (
        "bus_stops.csv.gz: no CRS given; x/y ranges match the boundary's, EPSG:3435 used"
        in _texts(problems)
    )


def test_every_problem_of_one_table_is_listed(city):
    (city / "bad.csv").write_text("id,east,when\n1,abc,soon\n2,def,later\n")
    source = _source(city / "bad.csv", x="east", y="north", crs="EPSG:3435")
    problems = check_layer(source, "crimes", date="Date")
    assert _texts(problems) == [
        "bad.csv [east]: is not numeric (e.g. 'abc'). Fix: make the column numbers only",
        "bad.csv [y]: column 'north' not found (columns: id, east, when). Fix: set y to one of "
        "the file's columns",
        "bad.csv [Date]: date column not found (columns: id, east, when). Fix: set crimes.date "
        "to the date column",
    ]


def test_wrong_geometry_for_the_role(tmp_path):
    path = tmp_path / "points.gpkg"
    gpd.GeoDataFrame(geometry=[Point(0, 0), Point(9, 9)], crs="EPSG:26971").to_file(path)
    (problem,) = errors(check_layer(_source(path), "boundary"))
    assert str(problem) == (
        "points.gpkg [geometry]: a boundary layer must hold polygons, got points. Fix: upload "
        "the boundary as polygons"
    )
    with pytest.raises(ValueError, match="role must be one of"):
        check_layer(_source(path), "outcome")


def test_every_polygon_without_area_is_named(tmp_path):
    flat = Polygon([(0, 0), (50, 0), (100, 0), (0, 0)])
    frame = gpd.GeoDataFrame(
        {"beat": ["A", "B", "C"]}, geometry=[box(0, 0, 9, 9), flat, flat], crs="EPSG:26971"
    )
    path = tmp_path / "beats.gpkg"
    frame.to_file(path)
    assert [p.problem for p in errors(check_layer(_source(path), "units"))] == [
        "beat 'B' is not a valid polygon and repairing it leaves no area",
        "beat 'C' is not a valid polygon and repairing it leaves no area",
    ]


def _break_three_things(city: Path) -> Path:
    text = (city / "config.toml").read_text()
    text = text.replace('date = "Date"', 'date = "When"').replace('x = "X"', 'x = "XX"')
    (city / "config.toml").write_text(text)
    (city / "bars.csv").write_text("a;b\n1;2\n")
    return city / "config.toml"


def test_check_study_lists_all_problems_of_the_study(city):
    problems = check_study(load_config(_break_three_things(city)))
    assert [(p.source, p.field) for p in errors(problems)] == [
        ("crimes.csv", "When"),
        ("bars.csv", "x"),
        ("bus_stops.csv.gz", "x"),
    ]
    assert any("working CRS EPSG:26971" in p.problem for p in problems)


def test_check_study_of_a_good_city_has_no_errors_and_counts_the_periods(city):
    problems = check_study(load_config(city / "config.toml"))
    assert not errors(problems), problems
    notes = _texts(problems)
    assert "crimes.csv: 626 crimes in the training period" in notes
    assert "crimes.csv: 622 crimes in the test period" in notes


def test_periods_are_checked_without_a_first_error_stop(city):
    config = load_config(city / "config.toml")
    crimes = dataclasses.replace(
        config.crimes, train=("2023-01-01", "2023-12-31"), test=("2023-06-01", "2022-01-01")
    )
    problems = errors(check_study(config.replace(crimes=crimes)))
    assert [str(p) for p in problems] == [
        "crimes.csv [crimes.test]: ends (2022-01-01) before it starts (2023-06-01). Fix: swap "
        "the dates"
    ]
    crimes = dataclasses.replace(config.crimes, train=("2010-01-01", "2010-12-31"))
    (problem,) = errors(check_study(config.replace(crimes=crimes)))
    assert problem.problem == "no crimes in the training period"


def test_rtm_check_prints_every_problem_and_exits_2(city, capsys):
    config = _break_three_things(city)
    assert main(["check", str(config)]) == 2
    out = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in out[:-1]].count("error") == 3
    assert out[-1] == "3 error(s), 2 note(s): fix the errors, then run"


def test_rtm_check_of_the_new_city_exits_0(city, capsys):
    assert main(["check", str(city / "config.toml")]) == 0
    assert capsys.readouterr().out.splitlines()[-1].startswith("0 error(s)")


def test_rtm_run_names_the_first_error_and_counts_the_others(city, tmp_path, capsys):
    config = _break_three_things(city)
    assert main(["run", str(config), "--out", str(tmp_path / "run"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert re.fullmatch(
        r"rtm: error: crimes\.csv \[When\]: date column not found \(columns: .*\)\. Fix: set "
        r"crimes\.date to the date column \(and 2 more problems: run `rtm check "
        + re.escape(str(config))
        + r"`\)\n",
        err,
    ), err


@pytest.fixture
def table_reads(monkeypatch) -> list[str]:
    """Labels of the table files read (by the checks and by the layer reader)."""
    reads: list[str] = []

    def counted(source):
        reads.append(source.label)
        return read_table(source)

    monkeypatch.setattr(rtm_core.study.checks, "read_table", counted)
    monkeypatch.setattr(rtm_core.io.delimited, "read_table", counted)
    return reads


def test_a_table_is_read_once_and_a_polygon_repaired_once(city, table_reads, monkeypatch):
    repairs = []
    real = shapely.make_valid
    monkeypatch.setattr(shapely, "make_valid", lambda g, **kw: repairs.append(1) or real(g, **kw))
    boundary = read_layer(_source(city / "boundary.gpkg"))
    stops = check_layer(
        _source(city / "bus_stops.csv.gz", x="X", y="Y"), "generator", boundary=boundary
    )
    assert not errors(stops) and table_reads == ["bus_stops.csv.gz"]  # was 3 reads
    notes = _texts(check_layer(_source(city / "boundary.gpkg"), "boundary"))
    assert any("repaired 1 invalid polygon" in n for n in notes)
    assert len(repairs) == 1  # was 2: the no-area check, then the repair


def test_check_study_reads_each_table_once(city, table_reads, monkeypatch):
    monkeypatch.setattr(rtm_core.study.checks, "load_study", lambda config, **kw: None)
    check_study(load_config(city / "config.toml"))
    assert "crimes.csv" in table_reads  # was 4 reads of the crimes
    assert len(table_reads) == len(set(table_reads))


def test_a_zip_with_two_tables_is_a_problem_not_a_crash(tmp_path):
    path = tmp_path / "two.zip"
    with zipfile.ZipFile(path, "w") as out:
        out.writestr("a.csv", "x,y\n1,2\n")
        out.writestr("b.csv", "x,y\n1,2\n")
    (problem,) = check_layer(_source(path, x="x", y="y", crs="EPSG:26971"), "generator")
    assert str(problem) == (
        "two.zip [layer]: holds several CSV files (a.csv, b.csv). Fix: zip one CSV per layer"
    )
