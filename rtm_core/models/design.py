"""The model matrix shared by every RTM model: set dummies, fixed covariates, names."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from rtm_core.errors import InputError

__all__ = ["Design", "set_terms"]


@dataclass(frozen=True)
class Design:
    """Risk-factor dummies grouped in sets, plus fixed covariates, for ``n`` units.

    Attributes
    ----------
    X : ndarray of shape (n_units, n_vars)
        Set variables (RTM dummies, 0/1): uint8 when every value is 0 or 1 (one byte per
        cell: 108 MB for 1M units x 108 dummies, a quarter of float32), else float32. Their
        coefficients are constrained >= 0 and at most one variable per set may be selected.
    names : tuple of str
        Column names of ``X`` (e.g. ``"liquor_dis_200"``).
    sets : tuple of str
        Set (generator layer) of each column of ``X``; same length as ``names``.
    covariates : ndarray of shape (n_units, n_covariates)
        Fixed covariates (crime history, the units' own columns): always in the model,
        unconstrained sign. The intercept is NOT a
        column here; every model adds its own.
    covariate_names : tuple of str
        Column names of ``covariates``.

    Raises
    ------
    InputError
        ``X`` not 2-D, or names, sets, covariate rows or covariate names that do not match it.
    """

    X: np.ndarray
    names: tuple[str, ...]
    sets: tuple[str, ...]
    covariates: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    covariate_names: tuple[str, ...] = ()

    def __post_init__(self):
        X = _compact(np.asarray(self.X))
        if X.ndim != 2:
            raise InputError(
                "Design", "X", f"must be 2-D, got shape {X.shape}", "pass (n_units, n_vars) dummies"
            )
        covariates = np.asarray(self.covariates, dtype=np.float64)
        if covariates.size == 0:
            covariates = np.zeros((X.shape[0], 0))
        if covariates.shape[0] != X.shape[0]:
            raise InputError(
                "Design",
                "covariates",
                f"has {covariates.shape[0]} rows for {X.shape[0]} units",
                "pass one row of fixed covariates per unit, like X",
            )
        if len(self.names) != X.shape[1] or len(self.sets) != X.shape[1]:
            raise InputError(
                "Design",
                "names" if len(self.names) != X.shape[1] else "sets",
                f"{len(self.names)} names and {len(self.sets)} sets for {X.shape[1]} columns of X",
                "give one name and one set per column of X",
            )
        if len(self.covariate_names) != covariates.shape[1]:
            raise InputError(
                "Design",
                "covariate_names",
                f"{len(self.covariate_names)} names for {covariates.shape[1]} columns of "
                "covariates",
                "give one name per column of covariates",
            )
        object.__setattr__(self, "X", X)
        object.__setattr__(self, "covariates", covariates)
        object.__setattr__(self, "names", tuple(self.names))
        object.__setattr__(self, "sets", tuple(self.sets))
        object.__setattr__(self, "covariate_names", tuple(self.covariate_names))

    @property
    def n_units(self) -> int:
        """Number of units (rows)."""
        return self.X.shape[0]

    @property
    def set_names(self) -> tuple[str, ...]:
        """Distinct sets in order of first appearance."""
        return tuple(dict.fromkeys(self.sets))

    @property
    def set_index(self) -> np.ndarray:
        """Integer set id (position in :attr:`set_names`) of each column of ``X``."""
        lookup = {s: i for i, s in enumerate(self.set_names)}
        return np.array([lookup[s] for s in self.sets], dtype=np.int64)

    def columns_of(self, set_name: str) -> np.ndarray:
        """Column positions in ``X`` of the variables of one set."""
        return np.flatnonzero(np.asarray(self.sets) == set_name)

    def subset(self, names) -> Design:
        """A design keeping only the named set variables (fixed covariates kept)."""
        pos = [self.names.index(n) for n in names]
        return Design(
            X=self.X[:, pos],
            names=tuple(self.names[i] for i in pos),
            sets=tuple(self.sets[i] for i in pos),
            covariates=self.covariates,
            covariate_names=self.covariate_names,
        )


def _compact(X: np.ndarray) -> np.ndarray:
    """0/1 data as uint8, anything else as float32."""
    if X.dtype == np.uint8 and X.size and X.max() <= 1:
        return X
    if X.dtype == np.bool_ or (
        X.size and np.issubdtype(X.dtype, np.number) and ((X == 0) | (X == 1)).all()
    ):
        return X.astype(np.uint8)
    return np.asarray(X, dtype=np.float32)


def set_terms(X: np.ndarray, coef: np.ndarray) -> np.ndarray:
    """``X @ coef`` in float64 over the nonzero coefficients only, column by column.

    Never converts the whole design to float64 (864 MB for 1M units x 108 dummies); each
    unit's sum runs over its nonzero terms in column order, so units with the same dummies
    get exactly the same value.

    Parameters
    ----------
    X : ndarray of shape (n_units, n_vars)
        Set dummies (any numeric dtype).
    coef : ndarray of shape (n_vars,)

    Returns
    -------
    ndarray of shape (n_units,), float64
    """
    coef = np.asarray(coef, dtype=np.float64)
    eta = np.zeros(X.shape[0])
    for c in np.flatnonzero(coef):
        eta += X[:, c].astype(np.float64) * coef[c]
    return eta
