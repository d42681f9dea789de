"""rtm_core.factors.features: distances, kernel densities and dummies against hand-worked sums."""

from __future__ import annotations

import math
import threading

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import LineString, Point, box

from rtm_core.errors import Cancelled, InputError
from rtm_core.factors.features import (
    build_risk_factors,
    kernel_weights,
    layer_measures_chunk,
    zscore_dummy,
)
from rtm_core.study.generators import GeneratorLayer

# One unit at the origin; generators at (30, 0) twice, (0, 40) and (300, 0).
UNIT = np.array([[0.0, 0.0]])
POINTS = np.array([[30.0, 0.0], [30.0, 0.0], [0.0, 40.0], [300.0, 0.0]])
PER_KM2 = 1e6


def quartic_by_hand(h: float, distances: list[float]) -> float:
    """3 / (pi h^2) * sum (1 - (d/h)^2)^2 over d < h, per km^2."""
    return sum(3 / (math.pi * h**2) * (1 - (d / h) ** 2) ** 2 for d in distances if d < h) * 1e6


# ------------------------------------------------------------------------- kernels


def test_quartic_kernel_values():
    h = 50.0
    np.testing.assert_allclose(
        kernel_weights([0.0, 30.0, 40.0, 50.0, 80.0], h, "quartic"),
        [
            3 / (math.pi * 2500),
            3 / (math.pi * 2500) * 0.64**2,  # 1 - (30/50)^2 = 0.64
            3 / (math.pi * 2500) * 0.36**2,  # 1 - (40/50)^2 = 0.36
            0.0,
            0.0,
        ],
    )


def test_gaussian_kernel_values_sigma_is_a_third_of_the_bandwidth():
    h = 90.0  # sigma = 30
    peak = 1 / (2 * math.pi * 30**2)
    np.testing.assert_allclose(
        kernel_weights([0.0, 30.0, 60.0, 89.0, 90.0, 200.0], h, "gaussian"),
        [
            peak,
            peak * math.exp(-0.5),
            peak * math.exp(-2.0),
            peak * math.exp(-0.5 * (89 / 30) ** 2),
            0.0,  # truncated at d = h
            0.0,
        ],
    )


@pytest.mark.parametrize(
    ("kernel", "mass"),
    [("quartic", 1.0), ("gaussian", 1 - math.exp(-4.5))],  # Gaussian cut at 3 sigma
)
def test_kernels_integrate_to_one_per_point(kernel, mass):
    h, step = 100.0, 0.5
    axis = np.arange(-h, h, step) + step / 2
    gx, gy = np.meshgrid(axis, axis)
    total = kernel_weights(np.hypot(gx, gy), h, kernel).sum() * step * step
    assert total == pytest.approx(mass, rel=1e-3)


def test_unknown_kernel_is_refused():
    with pytest.raises(InputError, match=r"features \[kernel\]: unknown kernel 'box'.*Fix:"):
        kernel_weights([1.0], 10, "box")
    with pytest.raises(InputError, match=r"features \[kernel\]: unknown kernel 'box'.*Fix:"):
        build_risk_factors(UNIT, [], kernel="box")


# ------------------------------------------------------------------ hand layouts


def test_distance_and_quartic_density_by_hand():
    out = layer_measures_chunk(UNIT, POINTS, [30, 50, 100, 400], kernel="quartic")
    assert out.distance.tolist() == [30.0]
    expected = [
        0.0,  # h = 30: the two points at exactly 30 m sit on the rim (weight 0)
        3 / (math.pi * 50**2) * (2 * (1 - 0.6**2) ** 2 + (1 - 0.8**2) ** 2) * PER_KM2,
        3 / (math.pi * 100**2) * (2 * (1 - 0.3**2) ** 2 + (1 - 0.4**2) ** 2) * PER_KM2,
        3
        / (math.pi * 400**2)
        * (2 * (1 - 0.075**2) ** 2 + (1 - 0.1**2) ** 2 + (1 - 0.75**2) ** 2)
        * PER_KM2,
    ]
    np.testing.assert_allclose(out.density[0], expected, rtol=1e-12)
    assert expected[1] == pytest.approx(362.4149, rel=1e-6)  # 3 / (pi 2500) * 0.9488 * 1e6


def test_gaussian_density_by_hand():
    out = layer_measures_chunk(UNIT, POINTS, [90], kernel="gaussian")
    sigma = 30.0
    expected = (
        (2 * math.exp(-0.5 * 1.0) + math.exp(-0.5 * (40 / 30) ** 2)) / (2 * math.pi * sigma**2)
    ) * PER_KM2
    assert out.density[0, 0] == pytest.approx(expected, rel=1e-12)


def test_duplicates_count_in_density_but_not_in_distance():
    single = layer_measures_chunk(UNIT, POINTS[1:], [100])
    double = layer_measures_chunk(UNIT, POINTS, [100])
    assert single.distance.tolist() == double.distance.tolist() == [30.0]
    point_at_30 = 3 / (math.pi * 100**2) * (1 - 0.3**2) ** 2 * PER_KM2
    assert double.density[0, 0] - single.density[0, 0] == pytest.approx(point_at_30, rel=1e-12)


def test_several_units_and_bandwidth_order_does_not_matter():
    units = np.array([[0.0, 0.0], [30.0, 40.0], [1000.0, 1000.0]])
    out = layer_measures_chunk(units, POINTS, [400, 50])
    # unit (30, 40): 40 m from (30, 0) twice, 30 m from (0, 40), hypot(270, 40) from (300, 0)
    np.testing.assert_allclose(out.distance, [30.0, 30.0, math.hypot(700, 1000)])
    np.testing.assert_allclose(
        out.density[:, 1],
        [
            quartic_by_hand(50, [30, 30, 40]),
            quartic_by_hand(50, [40, 40, 30]),
            0.0,
        ],
    )
    np.testing.assert_allclose(
        out.density[:, 0],
        [
            quartic_by_hand(400, [30, 30, 40, 300]),
            quartic_by_hand(400, [40, 40, 30, math.hypot(270, 40)]),
            0.0,
        ],
    )


def test_measures_can_be_skipped():
    only_distance = layer_measures_chunk(UNIT, POINTS, [50], want_density=False)
    assert only_distance.distance.tolist() == [30.0]
    assert np.isnan(only_distance.density).all()
    only_density = layer_measures_chunk(UNIT, POINTS, [50], want_distance=False)
    assert np.isnan(only_density.distance).all()
    assert only_density.density[0, 0] > 0
    empty = layer_measures_chunk(np.empty((0, 2)), POINTS, [50])
    assert empty.distance.shape == (0,) and empty.density.shape == (0, 1)


# ------------------------------------------------------------------------- z-scores


def test_zscore_dummy_by_hand():
    # mean 1, population sd sqrt((9 * 1 + 81) / 10) = 3: z(10) = 3, z(0) = -1/3
    values = np.array([0.0] * 9 + [10.0])
    assert zscore_dummy(values, 2.0).tolist() == [0] * 9 + [1]
    assert zscore_dummy(values, 3.0).tolist() == [0] * 10  # strictly greater
    assert zscore_dummy(values, -0.5).tolist() == [1] * 10
    assert zscore_dummy(values).dtype == np.int8


def test_zscore_dummy_threshold_is_strict():
    # mean 2, sd sqrt((4 * 4 + 64) / 5) = 4: z(10) = 2 exactly, not > 2
    values = np.array([0.0, 0.0, 0.0, 0.0, 10.0])
    assert zscore_dummy(values, 2.0).tolist() == [0, 0, 0, 0, 0]
    assert zscore_dummy(values, 1.99).tolist() == [0, 0, 0, 0, 1]


def test_zscore_dummy_constant_column_is_all_zero():
    assert zscore_dummy(np.full(6, 7.5), 2.0).tolist() == [0] * 6
    assert zscore_dummy(np.zeros(3), -1.0).tolist() == [0, 0, 0]  # z = 0 everywhere


# ---------------------------------------------------------------------- risk factors


def _layer(name, points, measures=("distance", "kde"), bandwidths=(50, 100), geometry=None):
    return GeneratorLayer(name, np.asarray(points, float), geometry, measures, bandwidths)


def test_names_columns_and_variables_metadata():
    units = np.array([[0.0, 0.0], [0.0, 75.0], [500.0, 500.0], [2000.0, 0.0]])
    layers = [
        _layer("bars", POINTS),
        _layer("stops", [[0.0, 100.0]], measures=("distance",), bandwidths=(100,)),
    ]
    factors = build_risk_factors(units, layers, threshold=1.0)
    assert list(factors.table.columns) == [
        "bars_dist",
        "bars_dis_50",
        "bars_dis_100",
        "bars_density_50",
        "bars_kde_50",
        "bars_density_100",
        "bars_kde_100",
        "stops_dist",
        "stops_dis_100",
    ]
    assert factors.dummy_names == [
        "bars_dis_50",
        "bars_dis_100",
        "bars_kde_50",
        "bars_kde_100",
        "stops_dis_100",
    ]
    assert factors.continuous_names == [
        "bars_dist",
        "bars_density_50",
        "bars_density_100",
        "stops_dist",
    ]
    table = factors.table
    # nearest bars: (30, 0); (0, 40) at 35 m; (300, 0) at hypot(200, 500); (300, 0) at 1700 m
    np.testing.assert_allclose(table["bars_dist"], [30, 35, math.hypot(200, 500), 1700])
    assert table["bars_dis_50"].tolist() == [1, 1, 0, 0]
    assert table["bars_dis_100"].tolist() == [1, 1, 0, 0]
    assert table["stops_dis_100"].tolist() == [1, 1, 0, 0]  # 100 m <= 100 m counts
    # density 50 in units of 3 / (pi 50^2): 0.9488, 0.2601, 0, 0 -> z = 1.67, -0.11, -0.78
    np.testing.assert_allclose(
        table["bars_density_50"],
        [quartic_by_hand(50, [30, 30, 40]), quartic_by_hand(50, [35]), 0, 0],
    )
    assert table["bars_kde_50"].tolist() == [1, 0, 0, 0]
    assert all(table[c].dtype == np.int8 for c in factors.dummy_names)

    variables = factors.variables.set_index("name")
    assert list(factors.variables.columns) == [
        "name",
        "set",
        "measure",
        "bandwidth",
        "label",
        "prevalence",
    ]
    assert variables.loc["bars_dis_100", ["set", "measure", "bandwidth"]].tolist() == [
        "bars",
        "dis",
        100,
    ]
    assert variables.loc["bars_kde_50", ["set", "measure", "bandwidth"]].tolist() == [
        "bars",
        "kde",
        50,
    ]
    assert variables.loc["bars_dis_50", "prevalence"] == 0.5
    assert variables.loc["bars_kde_50", "prevalence"] == 0.25
    assert variables.loc["stops_dis_100", "label"] == "stops within 100 m"
    assert factors.labels()["bars_kde_100"] == "bars density high (100 m)"

    continuous = factors.continuous.set_index("name")
    assert continuous.loc["bars_dist", "measure"] == "distance"
    assert np.isnan(continuous.loc["bars_dist", "bandwidth"])
    assert continuous.loc["bars_density_100", ["set", "measure", "bandwidth"]].tolist() == [
        "bars",
        "kde",
        100,
    ]


def test_chunking_gives_the_same_result_as_one_chunk():
    rng = np.random.default_rng(7)
    units = rng.uniform(0, 2000, size=(503, 2))
    layers = [
        _layer("a", rng.uniform(0, 2000, size=(200, 2)), bandwidths=(50, 200, 400)),
        _layer("b", np.repeat(rng.uniform(0, 2000, size=(30, 2)), 3, axis=0)),
    ]
    whole = build_risk_factors(units, layers, chunk_size=10_000)
    for chunk_size in (1, 7, 100):
        chunked = build_risk_factors(units, layers, chunk_size=chunk_size)
        pd.testing.assert_frame_equal(chunked.table, whole.table, rtol=1e-12)
        pd.testing.assert_frame_equal(chunked.variables, whole.variables)


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_chunks_on_threads_give_the_same_table_bit_for_bit(monkeypatch, threads):
    rng = np.random.default_rng(11)
    units = rng.uniform(0, 2000, size=(700, 2))
    frame = gpd.GeoDataFrame(
        geometry=[LineString([(x, 0), (x, 2000)]) for x in (300, 900, 1500)]
        + [box(1000, 1000, 1200, 1300)]
    )
    layers = [
        _layer("a", rng.uniform(0, 2000, size=(300, 2)), bandwidths=(50, 200, 400)),
        _layer("b", np.repeat(rng.uniform(0, 2000, size=(40, 2)), 2, axis=0)),
        GeneratorLayer.from_frame("c", frame, bandwidths=(100, 300)),
    ]
    monkeypatch.setattr("rtm_core.cluster._process_threads", 1)
    one = build_risk_factors(units, layers, chunk_size=60)
    monkeypatch.setattr("rtm_core.cluster._process_threads", threads)
    many = build_risk_factors(units, layers, chunk_size=60)
    pd.testing.assert_frame_equal(many.table, one.table, check_exact=True)


def test_a_cancel_stops_the_threaded_chunks(monkeypatch):
    monkeypatch.setattr("rtm_core.cluster._process_threads", 2)
    stop = threading.Event()
    seen = []

    def progress(name, done, total):
        seen.append(name)
        stop.set()  # cancelled once the first layer starts: its chunks stop

    rng = np.random.default_rng(2)
    with pytest.raises(Cancelled):
        build_risk_factors(
            rng.uniform(0, 2000, size=(400, 2)),
            [_layer("a", POINTS), _layer("b", POINTS)],
            chunk_size=10,
            progress=progress,
            cancel=stop,
        )
    assert seen == ["a"]


def test_lines_and_polygons_use_distance_to_the_nearest_geometry():
    street = LineString([(100, -50), (100, 50)])
    park = box(200, 0, 300, 100)
    frame = gpd.GeoDataFrame({"kind": ["street", "park"]}, geometry=[street, park])
    layer = GeneratorLayer.from_frame("places", frame, bandwidths=(60, 150))
    assert layer.geometry is not None and len(layer.geometry) == 2
    # densities use one representative point per feature: a line's midpoint, a point in a polygon
    np.testing.assert_allclose(layer.points[0], [100, 0])
    assert park.contains(Point(layer.points[1]))

    units = np.array([[0.0, 0.0], [100.0, 80.0], [250.0, 50.0], [400.0, 50.0]])
    factors = build_risk_factors(units, [layer])
    # to the street's nearest point, not to its representative point
    np.testing.assert_allclose(factors.table["places_dist"], [100.0, 30.0, 0.0, 100.0])
    assert factors.table["places_dis_60"].tolist() == [0, 1, 1, 0]

    as_points = _layer("places", layer.points, bandwidths=(60, 150))
    np.testing.assert_allclose(
        factors.table["places_density_150"],
        build_risk_factors(units, [as_points]).table["places_density_150"],
    )


def test_point_layer_from_frame_keeps_duplicates():
    frame = gpd.GeoDataFrame(geometry=gpd.points_from_xy([1, 1, 5], [2, 2, 6]))
    layer = GeneratorLayer.from_frame("p", frame, measures=("kde",), bandwidths=(100.0,))
    assert layer.geometry is None
    assert layer.points.tolist() == [[1, 2], [1, 2], [5, 6]]
    assert layer.bandwidths == (100,) and layer.measures == ("kde",)


def test_multipoint_layer_counts_every_point():
    frame = gpd.GeoDataFrame(
        geometry=gpd.GeoSeries.from_wkt(["MULTIPOINT ((30 0), (0 40))", "POINT (30 0)"])
    )
    layer = GeneratorLayer.from_frame("p", frame, bandwidths=(50,))
    assert layer.geometry is None
    assert sorted(layer.points.tolist()) == [[0, 40], [30, 0], [30, 0]]
    factors = build_risk_factors(UNIT, [layer])
    assert factors.table["p_dist"].tolist() == [30.0]
    assert factors.table["p_density_50"].iloc[0] == pytest.approx(quartic_by_hand(50, [30, 30, 40]))


def test_design_leaves_constant_dummies_out():
    units = np.array([[0.0, 0.0], [0.0, 75.0], [500.0, 500.0], [2000.0, 0.0]])
    factors = build_risk_factors(units, [_layer("bars", POINTS, bandwidths=(50, 5000))])
    design = factors.design()
    assert "bars_dis_5000" not in design.names  # all units within 5 km
    assert "bars_dis_50" in design.names
    assert set(design.sets) == {"bars"}
    assert design.X.shape == (4, len(design.names))
    fixed = pd.DataFrame({"corner": [1.0, 0.0, 0.0, 1.0]})
    with_fixed = factors.design(fixed)
    assert with_fixed.covariate_names == ("corner",)
    np.testing.assert_array_equal(with_fixed.covariates[:, 0], [1, 0, 0, 1])


def test_progress_and_cancel():
    calls = []
    build_risk_factors(
        UNIT, [_layer("a", POINTS), _layer("b", POINTS)], progress=lambda *a: calls.append(a)
    )
    assert calls == [("a", 0, 2), ("b", 1, 2), ("done", 2, 2)]
    stop = threading.Event()
    stop.set()
    with pytest.raises(Cancelled):
        build_risk_factors(UNIT, [_layer("a", POINTS)], cancel=stop)


@pytest.mark.parametrize(
    ("layer", "match"),
    [
        (_layer("bars", np.empty((0, 2))), r"bars: the generator layer is empty\. Fix:"),
        (_layer("bars", POINTS, bandwidths=()), r"bars \[bandwidths\]: is empty\. Fix:"),
        (
            _layer("bars", POINTS, bandwidths=(100, 0)),
            r"bars \[bandwidths\]: must be > 0 metres, got 0\. Fix:",
        ),
        (
            _layer("bars", POINTS, bandwidths=(-50,)),
            r"bars \[bandwidths\]: must be > 0 metres, got -50\. Fix:",
        ),
        (
            _layer("bars", POINTS, measures=("density",)),
            r"bars \[measures\]: unknown \('density',\)\. Fix: use distance and/or kde",
        ),
    ],
    ids=["empty", "no-bandwidths", "zero-bandwidth", "negative-bandwidth", "bad-measure"],
)
def test_bad_layers_are_refused(layer, match):
    with pytest.raises(InputError, match=match):
        build_risk_factors(UNIT, [layer])
