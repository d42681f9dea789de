"""Invariants of the deep-learning RTM on small random designs (Hypothesis).

At most one selected variable per set, set coefficients >= 0, coefficients only on the pruned
columns, a selected variable belongs to its set, finite positive predictions.
"""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from rtm_core.models.design import Design
from rtm_core.models.dl import DeepRTM
from tests.hypothesis_profiles import examples


@st.composite
def small_designs(draw):
    n = draw(st.integers(8, 40))
    sizes = draw(st.lists(st.integers(1, 4), min_size=1, max_size=3))
    p = sum(sizes)
    X = draw(arrays(np.float32, (n, p), elements=st.sampled_from([0.0, 1.0])))
    X[:2, 0] = (0.0, 1.0)  # at least one dummy varies (else the fit refuses the design)
    y = draw(arrays(np.int64, n, elements=st.integers(0, 5))).astype(float)
    if y.sum() == 0:
        y[draw(st.integers(0, n - 1))] = 1.0
    sets = [f"s{g}" for g, size in enumerate(sizes) for _ in range(size)]
    names = [f"v{j}" for j in range(p)]
    q = draw(st.integers(0, 1))
    fixed = draw(arrays(np.float64, (n, q), elements=st.sampled_from([0.0, 1.0, 2.5])))
    design = Design(
        X=X,
        names=names,
        sets=sets,
        covariates=fixed,
        covariate_names=tuple(f"f{i}" for i in range(q)),
    )
    params = {
        "loss": draw(st.sampled_from(["poisson", "negbin"])),
        "cancel_gate": draw(st.booleans()),
        "n_seeds": draw(st.integers(1, 3)),
        "random_state": draw(st.integers(0, 2**31)),
    }
    return design, y, params


@settings(max_examples=examples(40), deadline=None)
@given(small_designs())
def test_selection_invariants(case):
    design, y, params = case
    model = DeepRTM(burn_in_steps=40, prune_steps=40, learning_rate=0.05, **params)
    model.fit(design, y)
    assert (model.seed_coef_ >= 0).all() and (model.coef_ >= 0).all()
    for k, selected in enumerate(model.seed_selected_):
        assert set(selected) == set(design.set_names)
        for set_name in design.set_names:
            cols = design.columns_of(set_name)
            nonzero = np.flatnonzero(model.seed_coef_[k, cols] > 0)
            assert nonzero.size <= 1
            chosen = selected[set_name]
            if chosen is None:
                assert nonzero.size == 0
            else:
                assert design.names[cols[nonzero[0]]] == chosen
    mu = model.predict(design)
    assert np.isfinite(mu).all() and (mu > 0).all()
    shares = model.selection_share_
    assert all(0.0 <= s <= 1.0 for s in shares.values())
    assert len(model.coefficients_) == 1 + design.covariates.shape[1] + sum(
        v is not None for v in model.selected_.values()
    )
