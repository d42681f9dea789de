"""Deep-learning RTM: planted truth, GLM agreement, exactness of the fast paths, errors.

Fits use 1,500 + 1,500 steps at learning rate 1e-2 on small synthetic designs (3 sets of 4
nested distance dummies) so the file runs in seconds; the method is the same as the default.
"""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
import statsmodels.api as sm
import torch

from rtm_core.errors import Cancelled, ConfigError, FitError, InputError, NotFittedError
from rtm_core.models.design import Design
from rtm_core.models.dl import DeepRTM
from rtm_core.models.dl_module import Adam, Layout, Rows, gradient

BANDWIDTHS = (100, 200, 400, 800)
FAST = {"burn_in_steps": 1500, "prune_steps": 1500, "learning_rate": 1e-2}
TRUTH = {"bars_dis_100": 2.0, "liquor_dis_100": 1.5}  # "parks" has no effect


def planted(n=4000, seed=0, dispersion=None, fixed=False):
    """3 sets x 4 nested distance dummies; Poisson (or NB2) crimes with TRUTH planted.

    The deep-learning burn-in gives every nested dummy inside the true one about the same
    weight (they share its rate), so the truth sits at the smallest bandwidth here.
    """
    rng = np.random.default_rng(seed)
    columns, names, sets = [], [], []
    for set_name in ("bars", "liquor", "parks"):
        distance = rng.exponential(400, n)
        for bw in BANDWIDTHS:
            columns.append(distance <= bw)
            names.append(f"{set_name}_dis_{bw}")
            sets.append(set_name)
    X = np.column_stack(columns).astype(np.float32)
    eta = np.full(n, np.log(0.5))
    for name, irr in TRUTH.items():
        eta += np.log(irr) * X[:, names.index(name)]
    extra = {}
    if fixed:
        corner = (rng.random(n) < 0.3).astype(float)
        eta += np.log(0.7) * corner
        extra = {"covariates": corner[:, None], "covariate_names": ("corner",)}
    mu = np.exp(eta)
    if dispersion is None:
        y = rng.poisson(mu)
    else:
        y = rng.negative_binomial(1 / dispersion, 1 / (1 + dispersion * mu))
    return Design(X=X, names=names, sets=sets, **extra), y.astype(float)


@pytest.fixture(scope="module")
def data():
    return planted()


@pytest.fixture(scope="module")
def fitted(data):
    design, y = data
    return DeepRTM(**FAST).fit(design, y)


def test_planted_truth_is_selected_with_its_irr(fitted):
    assert fitted.selected_ == {"bars": "bars_dis_100", "liquor": "liquor_dis_100", "parks": None}
    names = list(fitted.names_)
    for name, irr in TRUTH.items():
        assert np.exp(fitted.coef_[names.index(name)]) == pytest.approx(irr, rel=0.10)


def test_irrs_match_a_statsmodels_glm_refit(data, fitted):
    design, y = data
    cols = [design.names.index(v) for v in fitted.selected_.values() if v]
    exog = sm.add_constant(design.X[:, cols].astype(np.float64))
    glm = sm.GLM(y, exog, family=sm.families.Poisson()).fit()
    table = fitted.coefficients_
    np.testing.assert_allclose(table["irr"], np.exp(glm.params), rtol=0.05)
    np.testing.assert_allclose(table["se"], glm.bse, rtol=0.05)
    np.testing.assert_allclose(table["p_value"] > 0, True)


def test_coefficients_table_layout(fitted):
    table = fitted.coefficients_
    assert list(table.columns) == [
        "variable",
        "set",
        "coef",
        "se",
        "irr",
        "irr_low",
        "irr_high",
        "p_value",
        "selected_share",
    ]
    assert list(table["variable"]) == ["intercept", "bars_dis_100", "liquor_dis_100"]
    assert list(table["set"]) == ["", "bars", "liquor"]
    assert (table["irr_low"] < table["irr"]).all() and (table["irr"] < table["irr_high"]).all()
    assert table["selected_share"].tolist() == [1.0, 1.0, 1.0]


def test_fitted_attributes(fitted, data):
    design, y = data
    p = design.X.shape[1]
    assert fitted.seed_coef_.shape == (1, p) and fitted.seed_intercept_.shape == (1,)
    assert fitted.n_iter_ == 3000 and fitted.device_ == "cpu" and fitted.fit_seconds_ > 0
    assert fitted.loss_history_.shape == (30,)
    assert fitted.loss_history_[-1] < fitted.loss_history_[0]
    assert fitted.dispersion_ is None and fitted.best_seed_ == 0
    assert fitted.covariate_coef_.shape == (0,)
    assert fitted.selection_share_["bars_dis_100"] == 1.0
    assert fitted.selection_share_["bars_dis_800"] == 0.0
    mu = fitted.predict(design)
    assert mu.shape == (design.n_units,) and (mu > 0).all()
    np.testing.assert_allclose(mu.sum(), y.sum(), rtol=0.01)  # Poisson score equation
    sets_part = fitted.linear_predictor(design, part="sets")
    np.testing.assert_allclose(np.log(mu) - sets_part, fitted.intercept_, atol=1e-9)


def test_invariants_one_variable_per_set_and_nonnegative(data):
    design, y = data
    model = DeepRTM(burn_in_steps=300, prune_steps=300, n_seeds=4, random_state=3).fit(design, y)
    assert (model.seed_coef_ >= 0).all()
    for k, selected in enumerate(model.seed_selected_):
        for set_name in design.set_names:
            cols = design.columns_of(set_name)
            assert (model.seed_coef_[k, cols] > 0).sum() <= 1
            if selected[set_name] is not None:
                assert design.sets[design.names.index(selected[set_name])] == set_name
    assert model.best_seed_ == int(np.argmin(model.seed_loss_))


def test_same_seed_gives_identical_results(data):
    design, y = data
    params = {"burn_in_steps": 400, "prune_steps": 400, "random_state": 7}
    a = DeepRTM(**params).fit(design, y)
    b = DeepRTM(**params).fit(design, y)
    np.testing.assert_array_equal(a.seed_coef_, b.seed_coef_)
    np.testing.assert_array_equal(a.loss_history_, b.loss_history_)
    assert a.selected_ == b.selected_


@pytest.mark.parametrize("loss", ["poisson", "negbin"])
def test_batched_seed_equals_the_seed_alone(loss):
    design, y = planted(n=1500, seed=2, fixed=True)
    params = {
        "burn_in_steps": 600,
        "prune_steps": 600,
        "learning_rate": 1e-2,
        "loss": loss,
        "random_state": 11,
    }
    batch = DeepRTM(n_seeds=3, **params).fit(design, y)
    for k in range(3):
        alone = DeepRTM(n_seeds=1, seed_offset=k, **params).fit(design, y)
        np.testing.assert_allclose(alone.seed_coef_[0], batch.seed_coef_[k], atol=1e-5)
        np.testing.assert_allclose(alone.seed_intercept_[0], batch.seed_intercept_[k], atol=1e-5)
        np.testing.assert_allclose(
            alone.seed_covariate_coef_[0], batch.seed_covariate_coef_[k], atol=1e-5
        )
        assert alone.seed_selected_[0] == batch.seed_selected_[k]
    first = DeepRTM(n_seeds=1, **params).fit(design, y)
    np.testing.assert_array_equal(first.seed_coef_[0], batch.seed_coef_[0])


@pytest.mark.parametrize("loss", ["poisson", "negbin"])
def test_collapsed_rows_fit_equals_uncollapsed(loss):
    design, y = planted(n=800, seed=4, fixed=True)
    params = {"burn_in_steps": 400, "prune_steps": 400, "learning_rate": 1e-2, "loss": loss}
    fast = DeepRTM(**params).fit(design, y)
    slow = DeepRTM(**params)
    slow._collapse_rows = False
    slow.fit(design, y)
    assert fast.selected_ == slow.selected_
    np.testing.assert_allclose(fast.seed_coef_, slow.seed_coef_, atol=1e-4)
    np.testing.assert_allclose(fast.intercept_, slow.intercept_, atol=1e-4)
    np.testing.assert_allclose(fast.covariate_coef_, slow.covariate_coef_, atol=1e-4)
    np.testing.assert_allclose(fast.seed_loss_, slow.seed_loss_, rtol=1e-5)


# --------------------------------------------------------------------------- gradients
def _unit_loss(family, theta, kept, X, fixed, y, layout, on):
    """Autograd reference: per-seed mean NLL over units, no collapsing, no constant."""
    w = theta[:, layout.weights]
    coef = torch.relu(w.gather(1, kept)) * on
    bits = X.T[kept]  # (K, G, n)
    eta = theta[:, :1] + (coef[:, :, None] * bits).sum(1) + theta[:, layout.covariates] @ fixed.T
    if family == "poisson":
        return (torch.exp(eta) - y * eta).mean(1)
    size = torch.exp(-theta[:, layout.log_dispersion, None])
    mu = torch.exp(eta)
    log_lik = (
        torch.lgamma(y + size)
        - torch.lgamma(size)
        + size * torch.log(size)
        - (size + y) * torch.log(size + mu)
        + y * eta
    )
    return -log_lik.mean(1)


def _gradient_case(family, gate):
    rng = np.random.default_rng(5)
    n, q, sizes = 50, 2, (3, 2, 4)
    p = sum(sizes)
    X = torch.as_tensor(rng.integers(0, 2, (n, p)), dtype=torch.float64)
    fixed = torch.as_tensor(rng.normal(size=(n, q)))
    y = torch.as_tensor(rng.poisson(1.5, n), dtype=torch.float64)
    layout = Layout(q, p, len(sizes), gate, family == "negbin")
    theta = torch.as_tensor(rng.normal(0, 0.3, (2, layout.size)))
    theta[0, layout.weights.start + 1] = -0.2  # a clipped weight: no gradient through relu
    if gate:
        theta[:, layout.gates] = torch.tensor([[1.0, -0.5, 2.0], [-1.0, 0.5, 0.3]])
    starts = np.cumsum((0,) + sizes[:-1])
    kept = torch.as_tensor(starts + rng.integers(0, sizes, (2, len(sizes))))
    kept[0, 0] = layout.weights.start * 0 + 1  # the clipped weight is kept by seed 0
    return X, fixed, y, layout, theta, kept


@pytest.mark.parametrize("family", ["poisson", "negbin"])
@pytest.mark.parametrize("gate", [False, True])
def test_hand_gradient_equals_autograd(family, gate):
    X, fixed, y, layout, theta, kept = _gradient_case(family, gate)
    n = len(y)
    on = (theta[:, layout.gates] > 0).double() if gate else torch.ones(kept.shape)
    dtype = torch.float64 if family == "negbin" else torch.float32  # as DeepRTM builds them
    rows = Rows(
        share=torch.full((1, n), 1 / n, dtype=dtype),
        crimes=(y / n if family == "poisson" else y)[None].to(dtype),
        covariates=fixed.T[None].float(),
    )
    bits = X.T[kept].float()
    grad, loss = gradient(
        theta.float(),
        kept,
        bits,
        rows,
        family,
        layout,
        train_gates=gate,
        gate_penalty=0.01,
        need_loss=True,
    )

    ref = theta.clone().requires_grad_(True)
    reference_loss = _unit_loss(family, ref, kept, X, fixed, y, layout, on)
    reference_loss.sum().backward()
    expected = ref.grad.clone()
    np.testing.assert_allclose(loss.numpy(), reference_loss.detach().numpy(), rtol=1e-4)
    if gate:
        sig = torch.sigmoid(theta[:, layout.gates])
        for g in range(kept.shape[1]):
            flip = on.clone()
            flip[:, g] = 1 - flip[:, g]
            other = theta.clone().requires_grad_(True)
            other_loss = _unit_loss(family, other, kept, X, fixed, y, layout, flip)
            other_loss.sum().backward()
            base = reference_loss.detach()
            change = torch.where(
                on[:, g] > 0, base - other_loss.detach(), other_loss.detach() - base
            )
            expected[:, layout.gates.start + g] = sig[:, g] * (1 - sig[:, g]) * (change + 0.01)
            for k in range(kept.shape[0]):  # a switched-off set learns as if it were on
                if on[k, g] == 0:
                    col = layout.weights.start + kept[k, g]
                    expected[k, col] = other.grad[k, col]
    np.testing.assert_allclose(grad.numpy(), expected.numpy(), atol=2e-5, rtol=1e-3)


def test_hand_adam_equals_torch_adam():
    rng = np.random.default_rng(0)
    start = torch.as_tensor(rng.normal(size=(3, 5)), dtype=torch.float32)
    ours, theirs = start.clone(), start.clone().requires_grad_(True)
    adam = Adam(ours, 1e-2)
    optimizer = torch.optim.Adam([theirs], lr=1e-2)
    for _ in range(50):
        grad = torch.as_tensor(rng.normal(size=(3, 5)), dtype=torch.float32)
        grad[0, 0] = 0.0
        adam.step(ours, grad)
        optimizer.zero_grad()
        theirs.grad = grad.clone()
        optimizer.step()
    np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), rtol=1e-6, atol=1e-7)


# --------------------------------------------------------------------------- NB2 and gate
def test_negbin_learns_the_dispersion():
    design, y = planted(n=4000, seed=1, dispersion=0.5)
    model = DeepRTM(loss="negbin", **FAST).fit(design, y)
    assert 0.35 < model.dispersion_ < 0.7
    assert model.selected_["bars"] == "bars_dis_100"
    assert np.exp(model.coef_[design.names.index("bars_dis_100")]) == pytest.approx(2.0, rel=0.2)
    table = model.coefficients_
    assert np.isfinite(table["se"]).all() and (table["se"] > 0).all()
    poisson = DeepRTM(**FAST).fit(design, y)
    se_nb = table.set_index("variable")["se"]["bars_dis_100"]
    se_p = poisson.coefficients_.set_index("variable")["se"]["bars_dis_100"]
    assert se_nb > se_p  # overdispersion widens the intervals


def test_cancel_gate_switches_off_a_set_that_does_not_pay():
    design, y = planted(n=4000, seed=10)  # without the gate, "parks" gets IRR 1.07
    plain = DeepRTM(**FAST).fit(design, y)
    gated = DeepRTM(cancel_gate=True, **FAST).fit(design, y)
    assert plain.selected_["parks"] is not None
    assert gated.selected_ == {"bars": "bars_dis_100", "liquor": "liquor_dis_100", "parks": None}
    assert gated.seed_gate_.shape == (1, 3)
    assert gated.seed_gate_[0, 2] < 0.5 < gated.seed_gate_[0, 0]
    assert gated.coef_[design.columns_of("parks")].max() == 0.0


# --------------------------------------------------------------------------- progress, cancel
class _Token:
    def __init__(self):
        self.event = threading.Event()
        self.at = None

    def is_set(self):
        return self.event.is_set()


def test_progress_is_called_with_increasing_steps(data):
    design, y = data
    calls = []
    DeepRTM(burn_in_steps=1000, prune_steps=500).fit(design, y, progress=lambda *a: calls.append(a))
    burn = [c for c in calls if c[0] == "burn-in"]
    prune = [c for c in calls if c[0] == "prune"]
    assert calls == burn + prune
    assert [c[1] for c in burn] == list(range(10, 1001, 10))
    assert [c[1] for c in prune] == list(range(5, 501, 5))
    assert all(c[2] == 1000 for c in burn) and all(np.isfinite(c[3]) for c in calls)


def test_seed_batches_in_process_are_the_batches_trained_apart(data):
    design, y = data
    params = {"burn_in_steps": 300, "prune_steps": 300, "random_state": 5}
    calls = []
    batched = DeepRTM(n_seeds=5, seed_batch=2, **params).fit(
        design, y, progress=lambda *a: calls.append(a)
    )
    apart = [
        DeepRTM(n_seeds=n, seed_offset=o, **params).fit(design, y)
        for o, n in ((0, 2), (2, 2), (4, 1))
    ]
    for name in ("seed_coef_", "seed_intercept_", "seed_loss_"):
        merged = np.concatenate([getattr(m, name) for m in apart])
        np.testing.assert_array_equal(getattr(batched, name), merged, err_msg=name)
    assert batched.seed_selected_ == [s for m in apart for s in m.seed_selected_]
    best = apart[batched.best_seed_ // 2]  # the batch holding the reported seed
    np.testing.assert_array_equal(batched.loss_history_, best.loss_history_)
    # progress runs once through each phase over the three batches
    done = [c[1] + (300 if c[0] == "prune" else 0) for c in calls]
    assert done == sorted(done) and calls[-1][:3] == ("prune", 300, 300)


def test_one_owner_of_torch_threads():
    from pathlib import Path

    import rtm_core

    root = Path(rtm_core.__file__).parent
    owners = {
        p.relative_to(root).as_posix()
        for p in root.rglob("*.py")
        if "set_num_threads(" in p.read_text()
    }
    assert owners == {"cluster.py"}


@pytest.mark.timing
def test_cancel_stops_the_fit_quickly(data):
    design, y = data
    token = _Token()

    def progress(phase, step, total, loss):
        if token.at is None:  # first report, after 1 % of the burn-in
            token.at = time.perf_counter()
            token.event.set()

    with pytest.raises(Cancelled):
        DeepRTM(burn_in_steps=100_000, prune_steps=10).fit(
            design, y, progress=progress, cancel=token
        )
    assert time.perf_counter() - token.at < 1.0


def test_cancel_stops_a_batch_and_restores_torch_threads(data):
    design, y = data
    token = _Token()
    token.event.set()
    threads = torch.get_num_threads()
    with pytest.raises(Cancelled):
        DeepRTM(burn_in_steps=100_000, n_seeds=8).fit(design, y, cancel=token)
    assert torch.get_num_threads() == threads


# --------------------------------------------------------------------------- errors
@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"loss": "gamma"}, r"DeepRTM \[loss\]: unknown loss 'gamma'.*Fix: use \"poisson\""),
        ({"burn_in_steps": 0}, r"\[burn_in_steps\]: must be a positive integer, got 0"),
        ({"prune_steps": 2.5}, r"\[prune_steps\]: must be a positive integer, got 2.5"),
        ({"n_seeds": True}, r"\[n_seeds\]: must be a positive integer, got True"),
        ({"learning_rate": -1.0}, r"\[learning_rate\]: must be a positive number, got -1.0"),
        ({"random_state": -3}, r"\[random_state\]: must be a non-negative integer, got -3"),
        ({"cancel_gate": "yes"}, r"\[cancel_gate\]: must be True or False, got 'yes'"),
        ({"device": "tpu"}, r"\[device\]: unknown device 'tpu'.*\"auto\", \"cpu\" or \"cuda\""),
        ({"seed_batch": 0}, r"\[seed_batch\]: must be a positive integer or None, got 0"),
    ],
)
def test_bad_hyperparameters_are_rejected(data, params, match):
    design, y = data
    with pytest.raises(ConfigError, match=match):
        DeepRTM(**params).fit(design, y)


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is present")
def test_cuda_without_a_gpu_names_the_fix(data):
    design, y = data
    with pytest.raises(
        ConfigError,
        match=r"\[device\]: CUDA was asked for.*Fix: use "
        r"device=\"auto\" or \"cpu\"",
    ):
        DeepRTM(device="cuda").fit(design, y)


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda y: y[:-1], r"DeepRTM.fit \[y\]: has shape \(3999,\) but the design has 4000"),
        (lambda y: np.where(np.arange(len(y)) == 3, -1.0, y), r"\[y\]: holds negative counts"),
        (lambda y: np.where(np.arange(len(y)) == 3, np.nan, y), r"\[y\]: holds missing \(NaN\)"),
        (lambda y: y + 0.5, r"\[y\]: holds non-integer counts"),
    ],
)
def test_bad_counts_are_rejected(data, change, match):
    design, y = data
    with pytest.raises(InputError, match=match):
        DeepRTM(**FAST).fit(design, change(y.copy()))


def test_no_crimes_is_a_fit_error(data):
    design, y = data
    with pytest.raises(
        FitError,
        match=r"no crimes in the training period.*Fix: check the "
        r"training dates",
    ):
        DeepRTM().fit(design, np.zeros_like(y))


def test_non_dummy_design_is_rejected(data):
    design, y = data
    bad = Design(X=design.X * 2, names=design.names, sets=design.sets)
    with pytest.raises(InputError, match=r"design.X\]: holds values other than 0 and 1"):
        DeepRTM().fit(bad, y)


def test_use_before_fit_and_bad_part(data, fitted):
    design, _ = data
    with pytest.raises(NotFittedError, match="not fitted yet. Fix: call fit"):
        DeepRTM().predict(design)
    with pytest.raises(ConfigError, match=r"\[part\]: unknown part 'risk'"):
        fitted.linear_predictor(design, part="risk")
    other = design.subset(design.names[:4])
    with pytest.raises(ConfigError, match=r"\[design\]: variables differ"):
        fitted.predict(other)


def test_constant_dummies_are_never_selected(data):
    design, y = data
    n = design.n_units
    X = np.column_stack([design.X, np.ones(n), np.zeros(n), np.zeros(n)]).astype(np.float32)
    extended = Design(
        X=X,
        names=(*design.names, "all_dis_100", "none_dis_100", "none_kde_50"),
        sets=(*design.sets, "bars", "empty", "empty"),
    )
    model = DeepRTM(**FAST).fit(extended, y)
    reference = DeepRTM(**FAST).fit(design, y)
    assert model.selected_ == {**reference.selected_, "empty": None}
    np.testing.assert_array_equal(model.coef_[-3:], 0.0)
    assert model.seed_gate_ is None
    gated = DeepRTM(cancel_gate=True, burn_in_steps=50, prune_steps=50).fit(extended, y)
    assert np.isnan(gated.seed_gate_[0, -1])
    constant = Design(X=np.ones((n, 2), np.float32), names=("a", "b"), sets=("s", "s"))
    with pytest.raises(InputError, match="no risk-factor dummy varies over the units"):
        DeepRTM().fit(constant, y)
