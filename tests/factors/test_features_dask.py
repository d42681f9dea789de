"""Risk factors as Dask tasks on a 2-worker LocalCluster equal the in-process build."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely

from rtm_core.cluster import dask_client
from rtm_core.factors.distributed import build_risk_factors_dask
from rtm_core.factors.features import build_risk_factors, spatial_chunks
from rtm_core.study.generators import GeneratorLayer
from rtm_core.study.units import grid_units
from rtm_core.synth import make_city


@pytest.fixture(scope="module")
def city():
    """A small synthetic city (6 km, 150 m cells) with a line layer added."""
    city = make_city(3, size=6_000.0, cell_size=150.0)
    units = grid_units(city.boundary, 150.0)
    layers = [
        GeneratorLayer.from_frame(name, frame, bandwidths=(100, 200, 400, 800))
        for name, frame in city.generators.items()
    ]
    x0, y0, x1, y1 = city.boundary.total_bounds
    streets = np.array(
        [shapely.LineString([(x0, y), (x1, y)]) for y in np.linspace(y0, y1, 7)[1:-1]]
    )
    import geopandas as gpd

    frame = gpd.GeoDataFrame(geometry=streets, crs=city.boundary.crs)
    layers.append(GeneratorLayer.from_frame("streets", frame, bandwidths=(50, 300)))
    return units.points, layers


@pytest.fixture(scope="module")
def client():
    with dask_client(workers=2) as client:
        yield client


def test_two_workers_give_the_in_process_table_bit_for_bit(city, client):
    points, layers = city
    local = build_risk_factors(points, layers, chunk_size=300)
    seen = []
    remote = build_risk_factors_dask(
        points, layers, client, chunk_size=300, progress=lambda *a: seen.append(a)
    )
    assert len(client.scheduler_info()["workers"]) == 2
    pd.testing.assert_frame_equal(remote.table, local.table, check_exact=True)
    pd.testing.assert_frame_equal(remote.variables, local.variables)
    pd.testing.assert_frame_equal(remote.continuous, local.continuous)
    n_chunks = len(spatial_chunks(points, 300))
    assert n_chunks > 2 and seen[-1] == ("chunks", n_chunks, n_chunks)
    # a real table: densities vary, some dummies are on, the line layer has distances
    assert remote.table["streets_dist"].max() > 0
    assert 0 < remote.variables["prevalence"].max() < 1


def test_spatial_chunks_are_a_permutation_of_compact_patches(city):
    points, _ = city
    chunks = spatial_chunks(points, 200)
    assert np.array_equal(np.sort(np.concatenate(chunks)), np.arange(len(points)))
    assert [len(c) for c in chunks[:-1]] == [200] * (len(chunks) - 1)
    # Morton patches: each chunk spans far less than the whole city in both directions
    spans = np.array([np.ptp(points[c], axis=0) for c in chunks[:-1]])
    city_span = np.ptp(points, axis=0)
    assert (spans.max(axis=1) < 0.75 * city_span.max()).mean() > 0.8


def test_bad_kernel_is_refused_before_any_task(city, client):
    from rtm_core.errors import InputError

    points, layers = city
    with pytest.raises(InputError, match="unknown kernel 'box'"):
        build_risk_factors_dask(points, layers, client, kernel="box")


def test_rtm_features_on_an_existing_scheduler_writes_the_same_table(tmp_path, client, capsys):
    from rtm_core.cli import main
    from rtm_core.synth import write_city

    config = write_city(make_city(4, size=5_000.0, cell_size=150.0), tmp_path / "city")
    here, there = tmp_path / "here.parquet", tmp_path / "there.parquet"
    assert main(["features", str(config), "--out", str(here)]) == 0
    address = client.scheduler.address
    assert main(["features", str(config), "--out", str(there), "--scheduler", address]) == 0
    pd.testing.assert_frame_equal(pd.read_parquet(there), pd.read_parquet(here), check_exact=True)
    assert "dummies" in capsys.readouterr().out


def test_zero_workers_is_refused(tmp_path, capsys):
    from rtm_core.cli import main

    code = main(["features", "--demo", "--out", str(tmp_path / "f.parquet"), "--workers", "0"])
    assert code == 2 and "--workers" in capsys.readouterr().err
