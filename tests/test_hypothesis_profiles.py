"""The suite draws the same Hypothesis examples on every machine unless asked to explore."""

from __future__ import annotations

import os

import pytest
from hypothesis import settings

from tests import hypothesis_profiles


@pytest.mark.skipif(
    os.environ.get("HYPOTHESIS_PROFILE", "deterministic") != "deterministic",
    reason="another profile was asked for",
)
def test_the_default_profile_is_derandomized():
    assert settings.default.derandomize is True
    assert settings.default.deadline is None
    assert hypothesis_profiles.examples(60) == 60


def test_an_unknown_profile_is_refused(monkeypatch):
    monkeypatch.setattr(hypothesis_profiles, "PROFILE", "fast")
    with pytest.raises(ValueError, match="HYPOTHESIS_PROFILE='fast' is unknown. Fix: use one of"):
        hypothesis_profiles.load()
