"""Checks of whole settings sections, however they were built (a TOML file, ``rtm``'s
overrides, the app's forms), with the validators of :mod:`rtm_core.config.validate` and the
TOML's wording: what ``rtm run`` would refuse in a file, the app refuses in its forms.
"""

from __future__ import annotations

import dataclasses

from rtm_core.config.settings import (
    DEVICES,
    KEEP,
    KERNELS,
    LOSSES,
    MODEL_KINDS,
    UNIT_KINDS,
    FeaturesConfig,
    ModelConfig,
    UnitsConfig,
)
from rtm_core.config.validate import choice, flag, integer, number, positive, subset

__all__ = ["check_model", "check_units", "check_features"]


def check_model(model: ModelConfig, source: str, prefix: str = "") -> ModelConfig:
    """Check every field of a :class:`~rtm_core.config.ModelConfig` (however it was built).

    The TOML's ``[model]`` section and the app's Train and Backtest forms pass through here
    (``rtm``'s ``--seeds`` ... use the same validators flag by flag), with the rules the
    estimators apply to the same values.

    Parameters
    ----------
    model : ModelConfig
    source : str
        Where the settings came from (a file name, the app's "model settings").
    prefix : str
        Prefix of the field names in messages (``"model."`` in a TOML file).

    Returns
    -------
    ModelConfig
        ``model`` itself.

    Raises
    ------
    ConfigError
        The first bad field.
    """

    def where(name: str) -> str:
        return f"{prefix}{name}"

    subset(model.kinds, MODEL_KINDS, source, where("kinds"), 'use "dl" and/or "classical"')
    choice(model.loss, LOSSES, source, where("loss"))
    for name in ("seeds", "burn_in_steps", "prune_steps"):
        positive(getattr(model, name), source, where(name), whole=True)
    positive(model.learning_rate, source, where("learning_rate"))
    flag(model.cancel_gate, source, where("cancel_gate"))
    choice(model.device, DEVICES, source, where("device"))
    integer(model.random_state, source, where("random_state"), minimum=0, fix="use e.g. 0")
    integer(model.cv_folds, source, where("cv_folds"), minimum=2, fix="use 5 or 10 folds")
    if model.seed_batch is not None:
        positive(model.seed_batch, source, where("seed_batch"), whole=True)
    return model


def check_units(units: UnitsConfig, source: str, prefix: str = "units.") -> UnitsConfig:
    """Check the settings of a :class:`~rtm_core.config.UnitsConfig` (not its files).

    Parameters
    ----------
    units : UnitsConfig
    source : str
        Where the settings came from.
    prefix : str
        Prefix of the field names in messages.

    Returns
    -------
    UnitsConfig
        ``units`` with the measures as floats.

    Raises
    ------
    ConfigError
        The first bad field, worded as the TOML words it.
    """
    choice(units.kind, UNIT_KINDS, source, f"{prefix}kind")
    choice(units.keep, KEEP, source, f"{prefix}keep")
    positive(units.max_cells, source, f"{prefix}max_cells", whole=True)
    return dataclasses.replace(
        units,
        cell_size=positive(units.cell_size, source, f"{prefix}cell_size"),
        snap_distance=positive(units.snap_distance, source, f"{prefix}snap_distance"),
    )


def check_features(
    features: FeaturesConfig, source: str, prefix: str = "features."
) -> FeaturesConfig:
    """Check a :class:`~rtm_core.config.FeaturesConfig`: kernel, threshold, chunk size.

    Parameters
    ----------
    features : FeaturesConfig
    source : str
        Where the settings came from.
    prefix : str
        Prefix of the field names in messages.

    Returns
    -------
    FeaturesConfig
        ``features`` with the threshold as a float.

    Raises
    ------
    ConfigError
        The first bad field, worded as the TOML words it.
    """
    choice(features.kernel, KERNELS, source, f"{prefix}kernel")
    positive(features.chunk_size, source, f"{prefix}chunk_size", whole=True)
    fix = "set e.g. `threshold = 2`"
    threshold = number(features.threshold, source, f"{prefix}threshold", fix=fix)
    return dataclasses.replace(features, threshold=threshold)
