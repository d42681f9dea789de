"""What the benchmark scripts share: the model settings they take from the command line."""

from __future__ import annotations

import dataclasses

from rtm_core.config import RunConfig


def with_model_overrides(config: RunConfig, seeds: int | None, steps: int | None) -> RunConfig:
    """The configuration with ``--seeds`` and ``--steps`` applied (unset or 0: kept).

    Parameters
    ----------
    config : RunConfig
    seeds : int or None
        ``model.seeds``.
    steps : int or None
        Both ``model.burn_in_steps`` and ``model.prune_steps``.

    Returns
    -------
    RunConfig
    """
    changes = {}
    if seeds:
        changes["seeds"] = seeds
    if steps:
        changes["burn_in_steps"] = changes["prune_steps"] = steps
    return config.replace(model=dataclasses.replace(config.model, **changes))
