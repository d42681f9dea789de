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
