"""The risk colours: one ramp and one set of classes for every map (app, report, brief).

Scores are cut into classes at quantiles (:data:`RISK_QUANTILES`: the top half, quarter,
tenth, twentieth and hundredth of the units), so the reddest class is always the riskiest
1 % whatever the score's range; each class takes the colour of the yellow -> orange -> dark
red ramp at its position. The app's pydeck maps and the report's matplotlib maps draw the
same classes with the same legend text.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "RISK_QUANTILES",
    "ramp_color",
    "hex_color",
    "score_breaks",
    "class_legend",
    "class_of",
    "score_classes",
]

#: yellow -> orange -> dark red
_STOPS = ((0.0, (255, 255, 178)), (0.5, (253, 141, 60)), (1.0, (177, 0, 38)))
#: quantiles of the relative-risk score that start a new colour class
RISK_QUANTILES = (0.5, 0.75, 0.9, 0.95, 0.99)


def ramp_color(t: float) -> tuple[int, int, int]:
    """RGB of the risk ramp at ``t`` in [0, 1]."""
    t = min(max(float(t), 0.0), 1.0)
    (t0, c0), (t1, c1) = (_STOPS[0], _STOPS[1]) if t < 0.5 else (_STOPS[1], _STOPS[2])
    w = (t - t0) / (t1 - t0)
    return tuple(int(round(a + (b - a) * w)) for a, b in zip(c0, c1, strict=True))


def hex_color(rgb) -> str:
    """``(r, g, b)`` -> ``"#rrggbb"``."""
    r, g, b = rgb[:3]
    return f"#{r:02x}{g:02x}{b:02x}"


def score_breaks(score: np.ndarray, quantiles=RISK_QUANTILES, digits: int = 2) -> list[float]:
    """Class breaks of scores at ``quantiles`` (rounded to ``digits`` decimals, distinct,
    above the minimum).

    Parameters
    ----------
    score : array-like
        Scores of every unit (NaN ignored).
    quantiles : sequence of float
    digits : int
        Decimals kept (2 for relative risk, 3 for a forecast of expected crimes).

    Returns
    -------
    list of float
        Increasing; empty when every unit has the same score.
    """
    score = np.asarray(score, dtype=float)
    score = score[np.isfinite(score)]
    if score.size == 0:
        return []
    low = round(float(score.min()), digits)
    values = sorted({round(float(v), digits) for v in np.quantile(score, quantiles)})
    return [v for v in values if v > low]


def class_of(score: np.ndarray, breaks: list[float]) -> np.ndarray:
    """The class of each score, as the maps colour it.

    Parameters
    ----------
    score : array-like
    breaks : list of float
        From :func:`score_breaks`.

    Returns
    -------
    ndarray of int
        0 below ``breaks[0]`` ... ``len(breaks)`` at or above the last break.
    """
    return np.searchsorted(np.asarray(breaks, dtype=float), np.asarray(score, dtype=float), "right")


def score_classes(score: np.ndarray, digits: int) -> tuple[list[float], np.ndarray]:
    """Breaks and the class of each score, both from the scores as shown (``digits`` decimals).

    A break is a rounded quantile, so an unrounded score just under it (2.5907 under the break
    2.591) would fall in the class below while its table and tooltip say 2.591: classing the
    shown value keeps the map, its legend and the tables in agreement (the app's maps send
    rounded scores for the same reason).

    Parameters
    ----------
    score : array-like
        Scores of every unit.
    digits : int
        Decimals shown (2 for relative risk, 3 for expected crimes).

    Returns
    -------
    breaks : list of float
        From :func:`score_breaks` on the shown scores.
    classes : ndarray of int
        From :func:`class_of`.
    """
    shown = np.round(np.asarray(score, dtype=float), digits)
    breaks = score_breaks(shown, digits=digits)
    return breaks, class_of(shown, breaks)


def class_legend(breaks: list[float], low: float, fmt="{:.3g}") -> list[tuple[str, str]]:
    """``(hex colour, range text)`` of each class (the colour of class ``k`` of ``n`` is the
    ramp at ``k / n``).

    Parameters
    ----------
    breaks : list of float
        From :func:`score_breaks`.
    low : float
        The lowest score (where the first class starts).
    fmt : str
        How the numbers are written.

    Returns
    -------
    list of (str, str)
    """
    n = len(breaks)
    edges = [low, *breaks]
    out = []
    for k in range(n + 1):
        if k == n:
            text = f"≥ {fmt.format(edges[k])}"
        else:
            text = f"{fmt.format(edges[k])} – {fmt.format(edges[k + 1])}"
        out.append((hex_color(ramp_color(k / n if n else 0.0)), text))
    return out
