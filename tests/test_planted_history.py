"""Acceptance: with crime history in the model, both RTMs still find the planted truth.

Cities from ``rtm synth --periods 4`` (2019 .. 2022): the first year has hot spots, every later
year follows ``log mu = intercept + env + 0.5 * log1p(crimes in the cell the year before)``
(see :func:`rtm_core.synth.make_city`). The run trains on 2021 with ``[history] lags = 2``
(2020, 2019), so ``hist1_unit`` has the planted coefficient 0.5 and every other history factor
0. Read back from files through the config, as a user's data would be. Over all sets of all
cities, at least 90 % select the planted variable (or nothing for a null set); the planted
history coefficient is recovered within 10 %, and every history factor planted at 0 lies within
3 standard errors of 0 (a relative tolerance means nothing at 0).

The deep-learning RTM trains 20 batched seeds with 3,000 + 3,000 Adam steps (history columns
make every unit a distinct row, so the default 10,000 + 10,000 cost minutes here); its fixed
layer then agrees with the classical fit to about 0.01 on these cities.
"""

import json

import numpy as np
import pytest

from rtm_core.config import load_config
from rtm_core.factors.designs import build_features, period_designs
from rtm_core.models.classical import ClassicalRTM
from rtm_core.models.dl import DeepRTM
from rtm_core.study.load import load_study
from rtm_core.synth import make_city, write_city

CITY_SEEDS = (21, 22)
SIZE = 8_000.0

STEPS = 3_000

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]


@pytest.fixture(scope="module")
def fits(tmp_path_factory):
    out = []
    for seed in CITY_SEEDS:
        folder = tmp_path_factory.mktemp(f"history_city{seed}")
        config = load_config(write_city(make_city(seed, size=SIZE, periods=4), folder))
        truth = json.loads((folder / "truth.json").read_text())
        study = load_study(config)
        design = period_designs(study, build_features(study, config.features), config).train
        dl = DeepRTM(
            n_seeds=20, cancel_gate=True, random_state=0, burn_in_steps=STEPS, prune_steps=STEPS
        ).fit(design, study.y_train)
        classical = ClassicalRTM(random_state=0).fit(design, study.y_train)
        out.append((truth, design, {"dl": dl, "classical": classical}))
    return out


@pytest.mark.parametrize("kind", ["dl", "classical"])
def test_planted_sets_are_selected_beside_history(fits, kind):
    correct, total = 0, 0
    for truth, _, models in fits:
        chosen = models[kind].selected_
        for set_name, planted in truth["sets"].items():
            total += 1
            correct += chosen[set_name] == (planted["variable"] if planted else None)
    assert correct / total >= 0.9, f"{kind}: {correct}/{total} sets right"


@pytest.mark.parametrize("kind", ["dl", "classical"])
def test_history_coefficients_are_recovered_within_10_percent(fits, kind):
    for truth, design, models in fits:
        planted = truth["history"]["coefficients"]
        rows = models[kind].coefficients_.set_index("variable")
        hist = [n for n in design.covariate_names if n.startswith("hist")]
        assert "hist1_unit" in hist and "hist2_600m" in hist
        for name, value in planted.items():
            assert np.isclose(rows.loc[name, "coef"], value, rtol=0.1), (kind, name, rows.loc[name])
        for name in set(hist) - set(planted):
            z = rows.loc[name, "coef"] / rows.loc[name, "se"]
            assert abs(z) <= 3.0, f"{kind}: {name} = {rows.loc[name, 'coef']:.3f} (z {z:.1f})"
