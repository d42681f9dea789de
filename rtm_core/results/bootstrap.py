"""Is a difference in PAI more than luck? A paired bootstrap over the test period's crimes.

Two maps scored on the same crimes differ in PAI partly by chance: with 600 test crimes, two
homicides more or less in the top 5 % of the area move PAI by 0.3. The bootstrap draws the
test period's crimes again, with replacement, as many as there were (``n_resamples`` times,
1,000 by default), scores every map on the *same* resample (a paired comparison: what both
maps share cancels out) and takes the 5th and 95th percentiles of each difference in PAI: its
90 % interval. A map **beats** another only when the interval lies above 0, is **below** it
only when the interval lies under 0, and is **level** otherwise.

Why it is fast. Every map's ranking, and so the share of each unit it flags at 1, 5 and 10 %
of the area (whole units 1, the unit or tied block cut by the boundary a fraction, as in
:mod:`rtm_core.results.evaluate`), is fixed; only which crimes are drawn changes. A resample
is a multinomial draw of crimes over the units that hold them, and a map's PAI on it is the
drawn crimes times the flagged shares, over the crimes and the share of area. Units whose
flagged shares are the same under every map and area are drawn as one group, so a resample
costs one multinomial over a few hundred or thousand groups, however many units the map has
(``bench/bootstrap.py``: 1M units and 100,000 crimes in about a second).

The draws come from ``numpy.random.SeedSequence(random_state, spawn_key=(BOOTSTRAP_KEY,))``:
the run's ``random_state`` gives the same intervals again, from a stream apart from the
deep-learning seeds' (spawn keys 0 … K-1).

Pure numpy/pandas, no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from rtm_core.config import MODEL_KINDS
from rtm_core.errors import ConfigError
from rtm_core.models.registry import BASELINES
from rtm_core.record.manifest import AREA_KEYS

__all__ = [
    "BEST",
    "BOOTSTRAP_KEY",
    "COMPARISON_COLUMNS",
    "INTERVAL",
    "N_RESAMPLES",
    "VERDICTS",
    "ScoredCrimes",
    "best_baseline",
    "bootstrap_rng",
    "compare_maps",
    "flagged_shares",
    "scored_crimes",
    "verdict_of",
]

#: resamples drawn unless told otherwise
N_RESAMPLES = 1000
#: coverage of the interval: the 5th to the 95th percentile
INTERVAL = 0.90
#: spawn key of the bootstrap's stream under the run's random_state
BOOTSTRAP_KEY = 0xB007
#: the three words of a comparison
VERDICTS = ("beats", "level", "below")
#: ``baseline`` of the rows comparing a model with the best baseline at that area
BEST = "best"
#: columns of comparison.csv
COMPARISON_COLUMNS = [
    "model",
    "baseline",
    "measure",
    "area",
    "model_value",
    "baseline_value",
    "difference",
    "low",
    "high",
    "verdict",
]
_CHUNK = 100  # resamples drawn at once (memory: chunk x groups integers)


def bootstrap_rng(random_state: int) -> np.random.Generator:
    """The bootstrap's generator for a run's ``random_state`` (see the module docstring)."""
    seed = np.random.SeedSequence(int(random_state), spawn_key=(BOOTSTRAP_KEY,))
    return np.random.default_rng(seed)


def verdict_of(low: float, high: float) -> str:
    """The word of a difference's interval.

    Parameters
    ----------
    low, high : float
        The interval's ends.

    Returns
    -------
    str
        "beats" when the interval lies above 0, "below" when under 0, else "level".
    """
    if low > 0:
        return "beats"
    if high < 0:
        return "below"
    return "level"


def flagged_shares(risk, measure=None, shares=(0.01, 0.05, 0.10)) -> np.ndarray:
    """The share of each unit flagged when the riskiest ``share`` of the area is taken.

    Units are ranked by ``risk``; units of equal risk form one block, flagged together by the
    same fraction (the expected value of a random tie-break), and the block cut by the area
    boundary is flagged by the fraction of its measure that fits, exactly as
    :func:`rtm_core.results.evaluate.accuracy_curve` interpolates.

    Parameters
    ----------
    risk : array-like of shape (n_units,)
        Predicted risk (finite).
    measure : array-like of shape (n_units,) or None
        Area or length per unit (> 0); None counts units equally.
    shares : sequence of float
        Shares of the total measure flagged, in (0, 1].

    Returns
    -------
    ndarray of shape (n_units, n_shares)
        Values in [0, 1]; ``observed @ result / observed.sum() / shares`` is the PAI.
    """
    risk = np.asarray(risk, dtype=np.float64).ravel()
    measure = np.ones(risk.size) if measure is None else np.asarray(measure, np.float64).ravel()
    _, block = np.unique(-risk, return_inverse=True)  # block 0 is the riskiest
    block = block.ravel()
    width = np.bincount(block, weights=measure)
    before = np.cumsum(width) - width
    cut = np.asarray(shares, dtype=np.float64) * measure.sum()
    with np.errstate(invalid="ignore", divide="ignore"):
        fraction = (cut[None, :] - before[:, None]) / width[:, None]
    return np.clip(fraction, 0.0, 1.0)[block]


@dataclass(frozen=True)
class ScoredCrimes:
    """The test period's crimes, grouped by how every map flags the units that hold them.

    Attributes
    ----------
    maps : tuple of str
        Model and baseline keys, in the order of ``shares``' second axis: models, then
        baselines, in the registry's order (whatever order they were given in).
    areas : tuple of str
        Read-out keys ("0.01", "0.05", "0.10"), the third axis.
    crimes : ndarray of shape (n_groups,)
        Crimes of each group of units (units with the same flagged shares under every map).
    shares : ndarray of shape (n_groups, n_maps, n_areas)
        The flagged share of the group's units under each map at each area.
    total : int
        Crimes of the period (``crimes.sum()``).
    """

    maps: tuple[str, ...]
    areas: tuple[str, ...]
    crimes: np.ndarray
    shares: np.ndarray
    total: int

    @property
    def area_shares(self) -> np.ndarray:
        """The areas as fractions (0.01, 0.05, 0.10)."""
        return np.array([float(a) for a in self.areas])

    def pai(self, counts: np.ndarray | None = None) -> np.ndarray:
        """PAI of every map at every area, of the observed crimes or of resampled ones.

        Parameters
        ----------
        counts : ndarray of shape (n_resamples, n_groups), optional
            Crimes drawn per group; default the observed ``crimes``.

        Returns
        -------
        ndarray of shape (n_maps, n_areas), or (n_resamples, n_maps, n_areas)
        """
        counts = self.crimes if counts is None else counts
        captured = np.tensordot(counts, self.shares, axes=([-1], [0]))
        return captured / self.total / self.area_shares

    def resample(self, rng: np.random.Generator, n_resamples: int) -> np.ndarray:
        """PAI of every map at every area on ``n_resamples`` bootstrap draws of the crimes.

        Parameters
        ----------
        rng : numpy.random.Generator
            The bootstrap's generator (:func:`bootstrap_rng`).
        n_resamples : int
            Draws of the period's crimes, each as many as there were.

        Returns
        -------
        ndarray of shape (n_resamples, n_maps, n_areas)
        """
        p = self.crimes / self.total
        out = []
        for start in range(0, n_resamples, _CHUNK):
            size = min(_CHUNK, n_resamples - start)
            out.append(self.pai(rng.multinomial(self.total, p, size=size).astype(np.float64)))
        return np.concatenate(out, axis=0)


def scored_crimes(
    rankings: Mapping[str, np.ndarray], observed, measure=None, *, areas=AREA_KEYS
) -> ScoredCrimes:
    """Group the period's crimes by the flagged shares of every map (see :class:`ScoredCrimes`).

    Parameters
    ----------
    rankings : mapping of str -> array-like of shape (n_units,)
        The risk each map ranked the units by for this period (for models with crime history,
        the test period's expected counts).
    observed : array-like of shape (n_units,)
        Crimes per unit in the period.
    measure : array-like of shape (n_units,) or None
        Area or length per unit; None counts units equally.
    areas : sequence of str
        Read-out keys.

    Returns
    -------
    ScoredCrimes

    Raises
    ------
    ConfigError
        A ranking or the counts of another length than the others, or non-finite values.
    """
    observed = np.asarray(observed, dtype=np.float64).ravel()
    if not np.isfinite(observed).all() or (observed < 0).any():
        raise ConfigError(
            "bootstrap", "observed", "holds negative or missing counts", "pass crime counts"
        )
    held = np.flatnonzero(observed > 0)
    columns = []
    rankings = {name: rankings[name] for name in sorted(rankings, key=_canonical)}
    for name, risk in rankings.items():
        risk = np.asarray(risk, dtype=np.float64).ravel()
        if risk.shape != observed.shape or not np.isfinite(risk).all():
            raise ConfigError(
                "bootstrap",
                name,
                f"needs one finite risk per unit ({observed.size}), got {risk.size} values",
                "pass the ranking the map was scored by",
            )
        columns.append(flagged_shares(risk, measure, [float(a) for a in areas])[held])
    shares = np.stack(columns, axis=1) if columns else np.zeros((held.size, 0, len(areas)))
    flat = shares.reshape(held.size, len(columns) * len(areas))
    if held.size and flat.shape[1]:  # one byte string per row: np.unique(axis=0) is slower
        rows = np.ascontiguousarray(flat)
        keys = rows.view(np.dtype((np.void, rows.dtype.itemsize * rows.shape[1]))).ravel()
        _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
        groups = flat[first]
    else:  # no crimes, or no map: one group at most
        groups, inverse = flat[:1], np.zeros(held.size, dtype=np.int64)
    crimes = np.bincount(inverse.ravel(), weights=observed[held], minlength=len(groups))
    return ScoredCrimes(
        maps=tuple(rankings),
        areas=tuple(areas),
        crimes=crimes,
        shares=groups.reshape(len(groups), len(columns), len(areas)),
        total=int(round(observed.sum())),
    )


def _canonical(name: str) -> tuple[int, str]:
    """Models, then baselines, in the registry's order (then any other name): the draws of a
    resample depend on the order of the groups, so one order gives one table."""
    order = [*MODEL_KINDS, *BASELINES]
    return (order.index(name), "") if name in order else (len(order), name)


def best_baseline(values: Mapping[str, float]) -> str | None:
    """The baseline with the highest value (ties: the first in ``BASELINES`` order).

    Parameters
    ----------
    values : mapping of str -> float
        Baseline key -> its test PAI at one area (NaN or None: not scored there).

    Returns
    -------
    str or None
        None when no baseline has a value.
    """
    best, top = None, -np.inf
    for key in [*[k for k in BASELINES if k in values], *[k for k in values if k not in BASELINES]]:
        value = values[key]
        if value is not None and np.isfinite(value) and value > top:
            best, top = key, float(value)
    return best


def compare_maps(
    origins: Sequence[ScoredCrimes],
    models: Sequence[str],
    baselines: Sequence[str] | None = None,
    *,
    n_resamples: int = N_RESAMPLES,
    random_state: int = 0,
) -> pd.DataFrame:
    """Each model against each baseline and the best one: PAI difference with its interval.

    With one :class:`ScoredCrimes` (a run) the values are the run's test PAI; with several
    (the origins of a backtest) they are the mean PAI over the origins, each origin's crimes
    resampled on their own in every draw. Origins without crimes are left out.

    Parameters
    ----------
    origins : sequence of ScoredCrimes
        The test period's crimes of each origin, scored by the same maps.
    models : sequence of str
        Model keys compared (those missing from the maps are skipped).
    baselines : sequence of str, optional
        Baseline keys; default every map that is not a model.
    n_resamples : int
        Bootstrap resamples (at least 1,000 for the run folder's table).
    random_state : int
        Seeds :func:`bootstrap_rng`.

    Returns
    -------
    DataFrame
        Columns :data:`COMPARISON_COLUMNS`; per model, one row per baseline and area, then
        the rows with ``baseline = "best"`` (the baseline with the highest value at that area,
        see :func:`best_baseline`). Empty when no origin has crimes or nothing is compared.
    """
    origins = [o for o in origins if o.total > 0]
    if not origins:
        return pd.DataFrame(columns=COMPARISON_COLUMNS)
    maps = [m for m in origins[0].maps if all(m in o.maps for o in origins)]
    models = [m for m in models if m in maps]
    baselines = [b for b in (baselines or maps) if b in maps and b not in models]
    rng = bootstrap_rng(random_state)
    observed = np.mean([o.pai()[[o.maps.index(m) for m in maps]] for o in origins], axis=0)
    draws = np.mean(
        [o.resample(rng, n_resamples)[:, [o.maps.index(m) for m in maps]] for o in origins],
        axis=0,
    )
    areas = origins[0].areas
    rows = []
    for model in models:
        i = maps.index(model)
        per_area = {}
        for baseline in baselines:
            j = maps.index(baseline)
            for k, area in enumerate(areas):
                row = _row(
                    model,
                    baseline,
                    area,
                    observed[i, k],
                    observed[j, k],
                    draws[:, i, k] - draws[:, j, k],
                )
                per_area.setdefault(area, {})[baseline] = row
                rows.append(row)
        for area in areas:
            values = {b: r["baseline_value"] for b, r in per_area.get(area, {}).items()}
            best = best_baseline(values)
            if best is not None:
                rows.append(dict(per_area[area][best], baseline=BEST))
    return pd.DataFrame(rows, columns=COMPARISON_COLUMNS)


def _row(model, baseline, area, value, other, differences) -> dict:
    low, high = np.quantile(differences, [(1 - INTERVAL) / 2, (1 + INTERVAL) / 2])
    return {
        "model": model,
        "baseline": baseline,
        "measure": "pai",
        "area": area,
        "model_value": float(value),
        "baseline_value": float(other),
        "difference": float(value - other),
        "low": float(low),
        "high": float(high),
        "verdict": verdict_of(low, high),
    }
