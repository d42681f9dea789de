"""The Train page's logic: presets, the offered choices, and the run config it submits.

No streamlit here; the page lays out the controls and passes their values to
:func:`model_config` and :func:`training_config`.
"""

from __future__ import annotations

from rtm_app.dataset import DataSet
from rtm_core.config import EvaluationConfig, HistoryConfig, ModelConfig, RunConfig
from rtm_core.errors import RTMError

__all__ = [
    "PRESETS",
    "LOSSES",
    "AREAS",
    "NO_MODEL",
    "check_models",
    "preset_fields",
    "device_options",
    "history_note",
    "model_config",
    "training_config",
]

_FULL = ModelConfig()  # the full run is the config's defaults
#: preset -> (label, seeds, burn-in steps, prune steps)
PRESETS = {
    "quick": ("Quick demo run (2 seeds, 300 + 300 steps)", 2, 300, 300),
    "full": (
        f"Full run ({_FULL.seeds} seeds, {_FULL.burn_in_steps:,} + {_FULL.prune_steps:,} steps)",
        _FULL.seeds,
        _FULL.burn_in_steps,
        _FULL.prune_steps,
    ),
}
LOSSES = {"poisson": "Poisson", "negbin": "Negative binomial (NB2)"}
AREAS = {"measure": "area or street length", "count": "number of units"}
NO_MODEL = "No model chosen. Fix: pick the deep-learning RTM, the classical RTM or both."


def preset_fields(preset: str | None) -> dict[str, int]:
    """A preset's seeds and steps as ``{"seeds", "burn_in", "prune"}``; empty when unknown."""
    if preset not in PRESETS:
        return {}
    _, seeds, burn_in, prune = PRESETS[preset]
    return {"seeds": seeds, "burn_in": burn_in, "prune": prune}


def check_models(kinds) -> tuple[str, ...]:
    """The models picked, as a tuple.

    Raises
    ------
    RTMError
        None picked (:data:`NO_MODEL`).
    """
    if not kinds:
        raise RTMError(NO_MODEL)
    return tuple(kinds)


def device_options(cuda: bool) -> list[str]:
    """The devices offered: ``auto`` and ``cpu``, and ``cuda`` when the server has it."""
    return ["auto", "cpu", "cuda"] if cuda else ["auto", "cpu"]


def history_note(history: HistoryConfig) -> str:
    """One sentence on the crime history the models will get (set on Risk factors)."""
    if not history.enabled:
        return "No crime history in the models (set lags on the Risk factors page)."
    transform = "log(1 + count)" if history.transform == "log1p" else "counts"
    return (
        f"Crime history in the models: {history.lags} lag(s), crimes in the unit and within "
        f"{', '.join(map(str, history.bandwidths))} m, as {transform} (set on Risk "
        "factors). The run also forecasts the period after the data."
    )


def model_config(
    kinds,
    *,
    loss: str,
    seeds: int,
    burn_in: int,
    prune: int,
    cancel_gate: bool,
    device: str,
) -> ModelConfig:
    """The Train form's model settings.

    Parameters
    ----------
    kinds : sequence of {"dl", "classical"}
        The models picked.
    loss : {"poisson", "negbin"}
    seeds, burn_in, prune : int
        Seeds and steps of the deep-learning RTM.
    cancel_gate : bool
        Whether a set may drop out.
    device : {"auto", "cpu", "cuda"}

    Returns
    -------
    ModelConfig

    Raises
    ------
    RTMError
        No model picked (:data:`NO_MODEL`).
    """
    return ModelConfig(
        kinds=check_models(kinds),
        loss=loss,
        seeds=int(seeds),
        burn_in_steps=int(burn_in),
        prune_steps=int(prune),
        cancel_gate=bool(cancel_gate),
        device=device,
    )


def training_config(data: DataSet, model: ModelConfig, area: str) -> RunConfig:
    """The run config a training job gets: the data set's study with ``model``.

    Parameters
    ----------
    data : DataSet
        The current data set.
    model : ModelConfig
        From :func:`model_config`.
    area : {"measure", "count"}
        What the accuracy curves flag a share of (see :data:`AREAS`).

    Returns
    -------
    RunConfig
    """
    return data.run_config(model).replace(evaluation=EvaluationConfig(area=area))
