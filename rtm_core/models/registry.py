"""The one registry of what a run scores: the RTM models and the baselines beside them.

Keys are those of ``metrics.json``, of ``units.gpkg``'s ``risk_<key>``/``forecast_<key>``
columns and of ``coefficients.csv``'s ``model`` column. Every reader (the app, the report, the
verdicts, the backtest) takes its names from here: :func:`display_name` for headings and
tables, :func:`sentence_name` inside a sentence.
"""

from __future__ import annotations

from dataclasses import dataclass

from rtm_core.config import MODEL_KINDS

__all__ = [
    "BASELINES",
    "MODELS",
    "Scorer",
    "display_name",
    "is_baseline",
    "sentence_name",
]


@dataclass(frozen=True)
class Scorer:
    """A model or baseline a run scores.

    Attributes
    ----------
    key : str
        As in ``metrics.json`` (``"dl"``, ``"prior_counts"``).
    name : str
        For headings and tables ("Deep-learning RTM", "Prior counts (baseline)").
    text : str
        Inside a sentence ("deep-learning RTM", "prior counts").
    """

    key: str
    name: str
    text: str


def _model(key: str, text: str) -> Scorer:
    return Scorer(key, f"{text[0].upper()}{text[1:]}", text)


def _baseline(key: str, text: str) -> Scorer:
    return Scorer(key, f"{text[0].upper()}{text[1:]} (baseline)", text)


#: the RTM models, in the order of ``[model] kinds`` (:data:`rtm_core.config.MODEL_KINDS`)
MODELS: dict[str, Scorer] = {
    scorer.key: scorer
    for scorer in (_model("dl", "deep-learning RTM"), _model("classical", "classical RTM"))
}
#: the baselines, in the order ties between them are broken
BASELINES: dict[str, Scorer] = {
    scorer.key: scorer
    for scorer in (
        _baseline("prior_counts", "prior counts"),
        _baseline("prior_counts_lags", "prior counts over the history windows"),
        _baseline("kde", "KDE of prior crimes"),
        _baseline("forest", "gradient boosting"),
        _baseline("history_only", "crime history alone"),
    )
}
if tuple(MODELS) != MODEL_KINDS:  # pragma: no cover - a developer's slip, caught at import
    raise RuntimeError(f"the registry's models {tuple(MODELS)} differ from {MODEL_KINDS}")


def display_name(key: str) -> str:
    """Heading name of a model or baseline key; an unknown key is returned as is.

    Parameters
    ----------
    key : str
        ``"dl"``, ``"classical"`` or a baseline key.

    Returns
    -------
    str
        E.g. "Deep-learning RTM", "Prior counts (baseline)".
    """
    scorer = MODELS.get(key) or BASELINES.get(key)
    return scorer.name if scorer else key


def sentence_name(key: str) -> str:
    """A model or baseline key as written inside a sentence ("prior counts")."""
    scorer = MODELS.get(key) or BASELINES.get(key)
    return scorer.text if scorer else key


def is_baseline(key: str) -> bool:
    """Whether ``key`` names a baseline (not an RTM model)."""
    return key in BASELINES
