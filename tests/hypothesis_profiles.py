"""Hypothesis profiles: the suite is deterministic by default; exploring is asked for.

- ``deterministic`` (default, and CI): ``derandomize=True``, so every run of ``make test`` on
  every machine draws the same examples; a failure is a failure of the code, never luck.
- ``random``: the same number of examples with fresh randomness; ``--hypothesis-seed N``
  replays one draw (``HYPOTHESIS_PROFILE=random pytest --hypothesis-seed 3``).
- ``explore`` (``make test-explore``): fresh randomness and ten times the examples, to find
  new failing cases; pin each one with ``@example`` in the test that found it.

Pick one with the ``HYPOTHESIS_PROFILE`` environment variable. Tests give their number of
examples through :func:`examples`, so exploring scales every property test at once.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "deterministic")
_FACTOR = {"deterministic": 1, "random": 1, "explore": 10}

_COMMON = {"deadline": None, "print_blob": True}
settings.register_profile(
    "deterministic",
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
    **_COMMON,
)
settings.register_profile("random", derandomize=False, database=None, **_COMMON)
settings.register_profile("explore", derandomize=False, **_COMMON)


def load() -> None:
    """Load the profile ``HYPOTHESIS_PROFILE`` names (default ``deterministic``).

    Raises
    ------
    ValueError
        An unknown profile name.
    """
    if PROFILE not in _FACTOR:
        raise ValueError(
            f"HYPOTHESIS_PROFILE={PROFILE!r} is unknown. Fix: use one of {sorted(_FACTOR)}"
        )
    settings.load_profile(PROFILE)


def examples(n: int) -> int:
    """``n`` examples, or ten times as many under the ``explore`` profile.

    Parameters
    ----------
    n : int
        The test's number of examples in the deterministic suite.

    Returns
    -------
    int
    """
    return n * _FACTOR.get(PROFILE, 1)
