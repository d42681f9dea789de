"""The colour classes of every map: a unit's class agrees with the value its table shows and
with the legend's range, and the reddest class is never empty."""

from __future__ import annotations

import numpy as np
from hypothesis import example, given, settings
from hypothesis import strategies as st

from rtm_core.results.colours import class_legend, score_classes
from tests.hypothesis_profiles import examples


def test_a_score_just_under_its_rounded_break_is_in_the_class_its_value_shows():
    # the Spanish-city brief: 44 tied top cells at 2.5907 (shown 2.591) were drawn in the
    # lowest class because the break, a rounded quantile, was 2.591
    score = np.r_[np.full(956, 1.7771), np.full(44, 2.5907)]
    breaks, classes = score_classes(score, digits=3)
    assert breaks == [2.591]
    assert (classes[956:] == 1).all() and (classes[:956] == 0).all()
    assert [text for _, text in class_legend(breaks, 1.777, fmt="{:.3f}")] == [
        "1.777 – 2.591",
        "≥ 2.591",
    ]


@settings(max_examples=examples(200))
@given(
    score=st.lists(
        st.floats(0, 50, allow_nan=False, allow_subnormal=False), min_size=1, max_size=300
    ),
    digits=st.sampled_from([2, 3]),
)
@example(score=[1.7771] * 20 + [2.5907], digits=3)
def test_each_class_holds_the_shown_values_of_its_legend_range(score, digits):
    breaks, classes = score_classes(np.array(score), digits)
    shown = np.round(np.array(score), digits)
    edges = [-np.inf, *breaks, np.inf]
    for value, k in zip(shown, classes, strict=True):
        assert edges[k] <= value < edges[k + 1]
    if breaks:  # every break is a shown value's quantile: the top class holds the highest
        assert classes[np.argmax(shown)] == len(breaks)
        assert breaks == sorted(set(breaks)) and breaks[0] > shown.min()
