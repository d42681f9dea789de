"""The memory savers of large runs give the same numbers as the plain computations."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from rtm_core.models.baselines import ForestBaseline
from rtm_core.models.design import Design, set_terms
from rtm_core.models.rows import collapse as _collapse
from rtm_core.models.rows import collapse_ints as _collapse_ints
from tests.hypothesis_profiles import examples


def test_dummies_are_stored_as_one_byte_and_other_values_as_float32():
    dummies = Design(np.array([[0, 1], [1, 1]], dtype=np.float32), ("a", "b"), ("s", "s"))
    assert dummies.X.dtype == np.uint8 and dummies.X.tolist() == [[0, 1], [1, 1]]
    other = Design(np.array([[0, 2.5], [1, 1]]), ("a", "b"), ("s", "s"))
    assert other.X.dtype == np.float32 and other.X[0, 1] == 2.5


@given(st.integers(0, 2**32 - 1), st.integers(1, 40), st.integers(1, 12))
@settings(max_examples=examples(25), deadline=None)
def test_set_terms_equal_the_float64_product(seed, n, p):
    rng = np.random.default_rng(seed)
    X = rng.integers(0, 2, (n, p)).astype(np.uint8)
    coef = np.where(rng.random(p) < 0.5, 0.0, rng.normal(size=p))
    np.testing.assert_allclose(set_terms(X, coef), X.astype(np.float64) @ coef, rtol=1e-12)
    same = (X[:, None, :] == X[None, :, :]).all(axis=2)  # equal rows get equal values exactly
    eta = set_terms(X, coef)
    assert all(eta[i] == eta[j] for i, j in zip(*np.nonzero(same), strict=True))


@given(st.lists(st.integers(0, 50), min_size=1, max_size=200))
@settings(max_examples=examples(25), deadline=None)
def test_counting_collapse_gives_the_sorting_collapse_groups(keys):
    key = np.asarray(keys, dtype=np.int64)
    first, _, counts = _collapse(key)
    member, sizes = _collapse_ints(key)
    assert np.array_equal(key[member], key[first]) and np.array_equal(sizes, counts)


def test_the_forest_fits_on_a_seeded_sample_of_a_large_study_and_predicts_every_unit():
    rng = np.random.default_rng(0)
    features = pd.DataFrame({"a": rng.random(3000), "b": rng.random(3000)})
    y = rng.poisson(1 + 2 * features["a"].to_numpy())
    small = ForestBaseline(max_iter=20, max_fit_units=1000).fit(features, y)
    again = ForestBaseline(max_iter=20, max_fit_units=1000).fit(features, y)
    whole = ForestBaseline(max_iter=20, max_fit_units=None).fit(features, y)
    assert small.n_fit_units_ == 1000 and whole.n_fit_units_ == 3000
    np.testing.assert_array_equal(small.predict(features), again.predict(features))
    assert small.predict(features).shape == (3000,)
    # chunked prediction equals one call on the whole matrix
    np.testing.assert_array_equal(
        whole.predict(features), whole.model_.predict(features.to_numpy(dtype=np.float64))
    )


@given(
    st.integers(0, 2**32 - 1), st.integers(1, 30), st.sampled_from(["u1", "?", "f4", "f8", "i8"])
)
@settings(max_examples=examples(40), deadline=None)
def test_row_keys_pack_exactly_the_blocks_that_hold_only_zeros_and_ones(seed, n, dtype):
    from rtm_core.models.rows import row_keys

    rng = np.random.default_rng(seed)
    top = 2 if rng.random() < 0.7 else 3
    block = rng.integers(0, top, (n, 3)).astype(dtype)
    key = row_keys(block)
    if np.isin(block, (0, 1)).all():  # the plain test the cheaper one replaced
        want = np.packbits(block.astype(bool), axis=1)
    else:
        want = np.ascontiguousarray(block, dtype=np.float64).view(np.uint8)
    assert np.array_equal(key.view(np.uint8).reshape(n, -1), want)
