"""RiskFactors.in_model: the one rule for which dummies enter the models, used by design()."""

from __future__ import annotations

import numpy as np
import pandas as pd

from rtm_core.factors.features import RiskFactors


def test_constant_dummies_are_out_of_the_model_and_of_the_design():
    table = pd.DataFrame(
        {
            "never": [0, 0, 0, 0],
            "some": [1, 0, 0, 1],
            "always": [1, 1, 1, 1],
            "one": [0, 0, 1, 0],
        },
        dtype=np.uint8,
    )
    variables = pd.DataFrame(
        {
            "name": list(table.columns),
            "set": ["a", "a", "b", "b"],
            "measure": ["dis"] * 4,
            "bandwidth": [100] * 4,
            "prevalence": table.mean().to_numpy(),
            "label": list(table.columns),
        }
    )
    factors = RiskFactors(table, variables, pd.DataFrame(columns=["name"]))
    assert factors.in_model.tolist() == [False, True, False, True]
    design = factors.design()
    assert list(design.names) == ["some", "one"]
    assert list(design.sets) == ["a", "b"]


def test_dummies_only_keeps_every_dummy_and_drops_the_measures():
    from rtm_core.factors.features import build_risk_factors
    from rtm_core.study.generators import GeneratorLayer

    rng = np.random.default_rng(3)
    units = rng.uniform(0, 1_000, (200, 2))
    bars = pd.DataFrame(rng.uniform(0, 1_000, (15, 2)), columns=["x", "y"])
    layer = GeneratorLayer("bars", bars.to_numpy(), None, ("distance", "kde"), (100, 300))
    factors = build_risk_factors(units, [layer])
    assert factors.continuous_names  # distances and densities are there to drop
    light = factors.dummies_only()
    kept = [c for c in factors.table.columns if c not in factors.continuous_names]
    assert list(light.table.columns) == kept
    assert light.dummy_names == factors.dummy_names and light.continuous_names == []
    np.testing.assert_array_equal(light.design().X, factors.design().X)
