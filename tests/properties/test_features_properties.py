"""Invariants of the risk factors (Hypothesis): signs, 0/1 dummies, nesting, shift invariance."""

from __future__ import annotations

import numpy as np
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from rtm_core.factors.features import build_risk_factors, layer_measures_chunk
from rtm_core.study.generators import GeneratorLayer
from tests.hypothesis_profiles import examples

SETTINGS = settings(max_examples=examples(30), deadline=None)
COORD = st.floats(-1000.0, 1000.0, allow_nan=False, allow_infinity=False)


def _xy(max_rows: int):
    return st.integers(1, max_rows).flatmap(lambda n: arrays(np.float64, (n, 2), elements=COORD))


@st.composite
def layouts(draw):
    units = draw(_xy(12))
    points = draw(_xy(10))
    if draw(st.booleans()):  # duplicates: repeat some points
        points = np.concatenate([points, points[: draw(st.integers(1, len(points)))]])
    bandwidths = sorted(draw(st.sets(st.integers(10, 2000), min_size=1, max_size=4)))
    kernel = draw(st.sampled_from(["quartic", "gaussian"]))
    return units, points, tuple(bandwidths), kernel


def _factors(units, points, bandwidths, kernel, threshold=1.0):
    layer = GeneratorLayer("g", points, None, ("distance", "kde"), bandwidths)
    return build_risk_factors(units, [layer], kernel=kernel, threshold=threshold, chunk_size=5)


@SETTINGS
@given(layouts())
def test_distances_and_densities_are_non_negative(layout):
    units, points, bandwidths, kernel = layout
    out = layer_measures_chunk(units, points, bandwidths, kernel=kernel)
    assert out.distance.shape == (len(units),)
    assert out.density.shape == (len(units), len(bandwidths))
    assert (out.distance >= 0).all()
    assert (out.density >= 0).all()
    # a unit sitting on a generator point is at distance 0 and has positive density
    on_point = layer_measures_chunk(points[:1], points, bandwidths, kernel=kernel)
    assert on_point.distance[0] == 0.0
    assert (on_point.density[0] > 0).all()


@SETTINGS
@given(layouts(), st.floats(-1e5, 1e5), st.floats(-1e5, 1e5))
def test_densities_do_not_move_when_everything_moves_together(layout, dx, dy):
    units, points, bandwidths, kernel = layout
    # keep away from the kernel's rim, where rounding of the shifted coordinates could move a
    # point across d = h (the truncated Gaussian jumps there)
    gaps = np.hypot(*(units[:, None, :] - points[None, :, :]).transpose(2, 0, 1))
    assume(np.abs(gaps[..., None] - np.asarray(bandwidths, float)).min() > 1e-6)
    offset = np.array([dx, dy])
    here = layer_measures_chunk(units, points, bandwidths, kernel=kernel)
    there = layer_measures_chunk(units + offset, points + offset, bandwidths, kernel=kernel)
    scale = max(1.0, float(here.density.max()))
    np.testing.assert_allclose(there.density, here.density, rtol=1e-6, atol=1e-9 * scale)
    np.testing.assert_allclose(there.distance, here.distance, rtol=1e-9, atol=1e-6)


@SETTINGS
@given(layouts(), st.floats(-1.0, 3.0))
def test_dummies_are_zero_one_and_distance_dummies_nest(layout, threshold):
    units, points, bandwidths, kernel = layout
    factors = _factors(units, points, bandwidths, kernel, threshold)
    table = factors.table
    for name in factors.dummy_names:
        assert set(np.unique(table[name])) <= {0, 1}
    for small, large in zip(bandwidths, bandwidths[1:], strict=False):
        assert (table[f"g_dis_{small}"] <= table[f"g_dis_{large}"]).all()
    prevalence = factors.variables["prevalence"]
    assert ((prevalence >= 0) & (prevalence <= 1)).all()
    # a distance dummy is exactly "within d"
    for d in bandwidths:
        np.testing.assert_array_equal(table[f"g_dis_{d}"], table["g_dist"] <= d)
