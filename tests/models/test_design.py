"""rtm_core.models.design: the model matrix's storage, its checks and the set terms."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from rtm_core.errors import InputError
from rtm_core.models.design import Design, set_terms
from tests.hypothesis_profiles import examples


def small():
    X = np.array([[1, 0, 1], [0, 1, 0], [1, 1, 0], [0, 0, 0]])
    fixed = np.array([[0.5], [1.5], [2.5], [3.5]])
    return Design(X, ("bar_200", "bar_400", "shop_100"), ("bar", "bar", "shop"), fixed, ("h",))


def test_dummies_are_stored_as_bytes_and_other_values_as_float32():
    d = small()
    assert d.X.dtype == np.uint8 and d.covariates.dtype == np.float64
    assert Design(np.array([[True, False]]), ("a", "b"), ("s", "s")).X.dtype == np.uint8
    assert Design(np.array([[0.5, 1.0]]), ("a", "b"), ("s", "t")).X.dtype == np.float32
    assert d.n_units == 4 and d.covariates.shape == (4, 1)
    assert Design(np.zeros((3, 1)), ("a",), ("s",)).covariates.shape == (3, 0)


def test_sets_columns_and_subset():
    d = small()
    assert d.set_names == ("bar", "shop")
    assert d.set_index.tolist() == [0, 0, 1]
    assert d.columns_of("bar").tolist() == [0, 1]
    sub = d.subset(["shop_100", "bar_200"])
    assert sub.names == ("shop_100", "bar_200") and sub.sets == ("shop", "bar")
    np.testing.assert_array_equal(sub.X, d.X[:, [2, 0]])
    np.testing.assert_array_equal(sub.covariates, d.covariates)
    assert sub.covariate_names == ("h",)


@pytest.mark.parametrize(
    ("kwargs", "field", "message"),
    [
        ({"X": np.zeros(3), "names": (), "sets": ()}, "X", "must be 2-D"),
        ({"X": np.zeros((3, 2)), "names": ("a",), "sets": ("s", "s")}, "names", "1 names"),
        ({"X": np.zeros((3, 2)), "names": ("a", "b"), "sets": ("s",)}, "sets", "1 sets"),
        (
            {
                "X": np.zeros((3, 1)),
                "names": ("a",),
                "sets": ("s",),
                "covariates": np.zeros((2, 1)),
            },
            "covariates",
            "2 rows for 3 units",
        ),
        (
            {
                "X": np.zeros((3, 1)),
                "names": ("a",),
                "sets": ("s",),
                "covariates": np.zeros((3, 2)),
                "covariate_names": ("h",),
            },
            "covariate_names",
            "1 names for 2 columns",
        ),
    ],
)
def test_a_design_that_does_not_fit_together_is_refused_with_the_field(kwargs, field, message):
    with pytest.raises(InputError, match=rf"Design \[{field}\]: .*{message}.*Fix: "):
        Design(**kwargs)


def test_set_terms_by_hand():
    X = small().X
    coef = np.array([0.5, 0.0, 2.0])
    np.testing.assert_array_equal(set_terms(X, coef), [2.5, 0.0, 0.5, 0.0])
    assert set_terms(X, np.zeros(3)).dtype == np.float64


SHAPES = st.tuples(st.integers(1, 30), st.integers(1, 6))


@settings(max_examples=examples(60), deadline=None)
@given(
    X=arrays(np.uint8, SHAPES, elements=st.integers(0, 1)),
    data=st.data(),
)
def test_set_terms_equal_the_product_and_same_dummies_give_the_same_value(X, data):
    coef = data.draw(
        arrays(np.float64, X.shape[1], elements=st.floats(0, 5, allow_nan=False, width=32))
    )
    terms = set_terms(X, coef)
    np.testing.assert_allclose(terms, X.astype(np.float64) @ coef, rtol=1e-12, atol=1e-12)
    _, first, inverse = np.unique(X, axis=0, return_index=True, return_inverse=True)
    np.testing.assert_array_equal(terms, terms[first][inverse.ravel()])
