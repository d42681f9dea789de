"""Torch engine of the deep-learning RTM: K seeds trained together, hand-written gradients.

Every parameter carries a leading seed dimension: ``theta`` has shape ``(K, P)`` and is laid
out by :class:`Layout` as ``[intercept | covariates (q) | set weights w (p) | gates (G) |
log-dispersion]`` (gates only with the cancel gate, log-dispersion only for NB2). Seed k's
loss is summed, not averaged, over seeds and Adam is elementwise, so a seed trained in a batch
follows the same path as the seed trained alone.

The model of one seed, with one kept column ``j_g`` per set ``g`` and hard gates ``h_g``::

    eta = b0 + fixed @ b + sum_g h_g * relu(w[j_g]) * X[:, j_g]

Speed comes from the layout, not from fewer steps (see ``bench/dl_fit.py``):

* the loss runs over *collapsed rows* (units with the same dummies and covariates, and for
  NB2 the same count), weighted by their number of units: the loss and its gradient are those
  of the unit-level model;
* burn-in gathers only the kept column of each set (``(K, G, m)``), never the full matrix;
* after pruning each seed's rows collapse again on its G kept columns (at most ``2**G`` row
  patterns per covariate pattern), so the prune phase costs next to nothing;
* gradients are written by hand (Poisson ``d/deta = w * mu - ysum``; NB2 with the dispersion)
  and Adam is the ``torch.optim.Adam`` formula in place; the tests compare both with autograd
  and ``torch.optim.Adam``.

What remains is a burn-in step touching every distinct row once per seed: its cost grows as
seeds x distinct rows x sets (~5 ns per seed and row on a 2-core VM), while a prune step and
a small burn-in step cost the ~30 op dispatches of the step itself (~0.2 ms). Real dummy data
collapses little (the Chicago demo: ~20,000 distinct rows of 25,043 units), so K batched seeds
cost well under K single fits but more than one (see ``bench/dl_fit.py``); on a GPU a batch of
seeds costs about one seed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

__all__ = ["Layout", "Rows", "Problem", "TrainSpec", "TrainResult", "Adam", "gradient"]

BETA1, BETA2, EPS = 0.9, 0.999, 1e-8  # torch.optim.Adam defaults
GATE_START = 2.0  # gate logit at the start: sigmoid(2) = 0.88, the set is on
CANCEL_EVERY = 50  # steps between cancel checks
HISTORY_EVERY = 100  # steps between loss_history_ entries
_MASK_CHUNK = 256  # burn-in masks drawn this many steps at a time


@dataclass(frozen=True)
class Layout:
    """Where each parameter lives in the flat parameter row of one seed."""

    n_covariates: int
    n_vars: int
    n_sets: int
    gate: bool
    dispersion: bool

    @property
    def covariates(self) -> slice:
        return slice(1, 1 + self.n_covariates)

    @property
    def weights(self) -> slice:
        return slice(self.covariates.stop, self.covariates.stop + self.n_vars)

    @property
    def gates(self) -> slice:
        return slice(self.weights.stop, self.weights.stop + (self.n_sets if self.gate else 0))

    @property
    def log_dispersion(self) -> int:
        return self.gates.stop

    @property
    def size(self) -> int:
        return self.gates.stop + int(self.dispersion)


@dataclass(frozen=True)
class Rows:
    """The rows a loss runs over; a leading dimension of 1 means "shared by every seed".

    Attributes
    ----------
    share : Tensor of shape (K or 1, M)
        Units in the row divided by the number of units n (the loss is a mean over units).
    crimes : Tensor of shape (K or 1, M)
        Poisson: crimes summed over the row's units, divided by n. NB2: the count of each of
        the row's units (rows are collapsed on the count too).
    covariates : Tensor of shape (K or 1, q, M)
        Fixed covariates of the row.
    """

    share: torch.Tensor
    crimes: torch.Tensor
    covariates: torch.Tensor


@dataclass(frozen=True)
class Problem:
    """Everything the training loop needs, already on the device.

    Attributes
    ----------
    family : {"poisson", "negbin"}
    columns : Tensor of shape (p, m)
        Set dummies of the collapsed rows, one column of X per tensor row (uint8: a quarter
        of the memory traffic of float32 when a step gathers its kept columns).
    rows : Rows
        The collapsed rows (leading dimension 1).
    set_columns : ndarray of shape (G, max_set_size)
        Column positions of each set, padded with -1.
    set_sizes : ndarray of shape (G,)
    rest_id : ndarray of shape (m,)
        Per collapsed row, the id of its covariate pattern (NB2: covariates and count); rows
        of one seed collapse again on (rest_id, kept columns) after pruning.
    rest_covariates : ndarray of shape (q, n_rest)
    rest_count : ndarray of shape (n_rest,) or None
        NB2 only: the count of each rest pattern.
    start : ndarray of shape (P,)
        Initial parameters of every seed.
    loss_constant : float
        ``sum(lgamma(y + 1)) / n``: added to reported losses so they are full NLLs.
    gate_penalty : float
        Penalty per switched-on set (0 without the cancel gate).
    layout : Layout
    """

    family: str
    columns: torch.Tensor
    rows: Rows
    set_columns: np.ndarray
    set_sizes: np.ndarray
    rest_id: np.ndarray
    rest_covariates: np.ndarray
    rest_count: np.ndarray | None
    start: np.ndarray
    loss_constant: float
    gate_penalty: float
    layout: Layout


@dataclass(frozen=True)
class TrainSpec:
    """Steps and learning rate of one training run."""

    burn_in_steps: int
    prune_steps: int
    learning_rate: float
    collapse_rows: bool = True


@dataclass(frozen=True)
class TrainResult:
    """Raw per-seed results of :func:`train` (numpy, float64)."""

    theta: np.ndarray  # (K, P)
    kept: np.ndarray  # (K, G) column kept per set after pruning
    seed_loss: np.ndarray  # (K,) final NLL (+ gate penalty of the sets left on)
    history: np.ndarray  # (n_records, K) NLL every HISTORY_EVERY steps
    n_iter: int


class Adam:
    """``torch.optim.Adam`` (defaults, no weight decay) on one parameter tensor, in place."""

    def __init__(self, theta: torch.Tensor, learning_rate: float):
        self.learning_rate = learning_rate
        self.exp_avg = torch.zeros_like(theta)
        self.exp_avg_sq = torch.zeros_like(theta)
        self.n_steps = 0

    def step(self, theta: torch.Tensor, grad: torch.Tensor) -> None:
        """One Adam step on ``theta`` in place.

        Parameters
        ----------
        theta : Tensor of shape (K, P)
        grad : Tensor of shape (K, P)
        """
        self.n_steps += 1
        self.exp_avg.lerp_(grad, 1 - BETA1)
        self.exp_avg_sq.mul_(BETA2).addcmul_(grad, grad, value=1 - BETA2)
        step_size = self.learning_rate / (1 - BETA1**self.n_steps)
        denom = (self.exp_avg_sq.sqrt() / math.sqrt(1 - BETA2**self.n_steps)).add_(EPS)
        theta.addcdiv_(self.exp_avg, denom, value=-step_size)


# --------------------------------------------------------------------------- losses
def _negbin_parts(eta, log_dispersion):
    """NB2 pieces in float64: mu, size = 1/alpha, size + mu."""
    mu = torch.exp(eta.double())
    size = torch.exp(-log_dispersion.double())
    return mu, size, size + mu


def row_losses(family, eta, share, crimes, log_dispersion=None):
    """Per-row loss contributions (mean NLL without ``loss_constant``).

    Parameters
    ----------
    family : {"poisson", "negbin"}
    eta : Tensor
        Linear predictor per row.
    share, crimes : Tensor
        As in :class:`Rows`, broadcast against ``eta``.
    log_dispersion : Tensor, optional
        NB2 only.

    Returns
    -------
    Tensor of the shape of ``eta``
    """
    if family == "poisson":
        return share * torch.exp(eta) - crimes * eta
    mu, size, total = _negbin_parts(eta, log_dispersion)
    log_lik = (
        torch.lgamma(crimes + size)
        - torch.lgamma(size)
        + size * torch.log(size)
        - (size + crimes) * torch.log(total)
        + crimes * eta.double()
    )
    return -share * log_lik


def residuals(family, eta, share, crimes, log_dispersion=None):
    """d loss / d eta per row (float32), and for NB2 d loss / d log-dispersion per seed.

    Parameters
    ----------
    family : {"poisson", "negbin"}
    eta : Tensor
        Linear predictor per row.
    share, crimes : Tensor
        As in :class:`Rows`, broadcast against ``eta``.
    log_dispersion : Tensor, optional
        NB2 only.

    Returns
    -------
    (Tensor, Tensor or None)
        d loss / d eta (shape of ``eta``); d loss / d log-dispersion per seed (NB2) or None.
    """
    if family == "poisson":
        return torch.addcmul(-crimes, share, torch.exp(eta)), None
    mu, size, total = _negbin_parts(eta, log_dispersion)
    resid = (share * size * (mu - crimes) / total).float()
    d_size = (
        torch.digamma(crimes + size)
        - torch.digamma(size)
        + torch.log(size)
        + 1
        - torch.log(total)
        - (size + crimes) / total
    )
    return resid, (share * size * d_size).sum(-1).float()


# --------------------------------------------------------------------------- gradient
def _linear_predictor(theta, coef, bits, rows, layout):
    k, n_rows = theta.shape[0], bits.shape[-1]
    eta = torch.baddbmm(theta[:, :1, None], coef[:, None, :], bits).view(k, n_rows)
    if layout.n_covariates:
        eta = eta + torch.matmul(theta[:, None, layout.covariates], rows.covariates).view(k, n_rows)
    return eta


def _gate_terms(family, eta, coef, on, bits, rows, log_disp):
    """Loss change from switching each set (``L_on - L_off``) and d loss / d coef when on."""
    sign = 1.0 - 2.0 * on  # +1: set is off, switch it on; -1: set is on, switch it off
    d_eta = (sign * coef)[:, :, None] * bits
    eta_t = eta[:, None, :] + d_eta
    share, crimes = rows.share[:, None, :], rows.crimes[:, None, :]
    disp = None if log_disp is None else log_disp[:, :, None]
    base = row_losses(family, eta, rows.share, rows.crimes, log_disp)
    change = (row_losses(family, eta_t, share, crimes, disp) - base[:, None, :]).sum(-1)
    resid_t, _ = residuals(family, eta_t, share, crimes, disp)
    return sign * change.float(), (resid_t * bits).sum(-1)


def gradient(
    theta, kept, bits, rows, family, layout, *, train_gates=False, gate_penalty=0.0, need_loss=False
):
    """Hand-written gradient of every seed's loss (mean NLL over units) at ``theta``.

    Parameters
    ----------
    theta : Tensor of shape (K, P)
    kept : Tensor of shape (K, G)
        Column kept in each set for this step.
    bits : Tensor of shape (K, G, M)
        The kept columns over the rows.
    rows : Rows
    family : {"poisson", "negbin"}
    layout : Layout
    train_gates : bool
        Train the gates (prune phase with the cancel gate): a gate's gradient is
        ``sigmoid'(s) * (L_on - L_off + gate_penalty)``, the exact derivative of the expected
        loss when the set is on with probability ``sigmoid(s)``, the other sets as they are;
        a switched-off set's weight keeps learning as if the set were on.
    gate_penalty : float
        Penalty per switched-on set (:attr:`Problem.gate_penalty`).
    need_loss : bool
        Also return the loss of each seed (mean NLL without ``loss_constant``).

    Returns
    -------
    grad : Tensor of shape (K, P)
    loss : Tensor of shape (K,) or None
    """
    weights = theta[:, layout.weights]
    kept_w = weights.gather(1, kept)
    coef = torch.relu(kept_w)
    on = (theta[:, layout.gates] > 0).to(coef.dtype) if layout.gate else None
    eff = coef if on is None else coef * on
    eta = _linear_predictor(theta, eff, bits, rows, layout)
    log_disp = theta[:, layout.log_dispersion, None] if layout.dispersion else None
    resid, d_disp = residuals(family, eta, rows.share, rows.crimes, log_disp)
    grad = torch.zeros_like(theta)
    grad[:, 0] = resid.sum(1)
    if layout.n_covariates:
        grad[:, layout.covariates] = torch.matmul(
            resid[:, None, :], rows.covariates.transpose(1, 2)
        )[:, 0]
    d_coef = torch.bmm(resid[:, None, :], bits.transpose(1, 2))[:, 0]
    if train_gates:
        change, d_coef_on = _gate_terms(family, eta, coef, on, bits, rows, log_disp)
        d_coef = torch.where(on > 0, d_coef, d_coef_on)
        gate = torch.sigmoid(theta[:, layout.gates])
        grad[:, layout.gates] = gate * (1 - gate) * (change + gate_penalty)
    grad[:, layout.weights].scatter_(1, kept, d_coef * (kept_w > 0))
    if d_disp is not None:
        grad[:, layout.log_dispersion] = d_disp
    loss = None
    if need_loss:
        loss = row_losses(family, eta, rows.share, rows.crimes, log_disp).sum(1).float()
    return grad, loss
