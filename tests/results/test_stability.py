"""Seed-stability summaries, checked on small hand-made cases."""

import numpy as np
import pytest

from rtm_core.errors import ConfigError
from rtm_core.results.stability import selection_table, summarize_seeds, top_share_by_unit

NAMES = ["bar_dis_100", "bar_dis_200", "shop_kde_400"]
SETS = ["bar", "bar", "shop"]
# four seeds: bar picks dis_100, dis_100, dis_200, None; shop picks kde_400 twice
SELECTED = [
    {"bar": "bar_dis_100", "shop": "shop_kde_400"},
    {"bar": "bar_dis_100", "shop": None},
    {"bar": "bar_dis_200", "shop": "shop_kde_400"},
    {"bar": None},  # a missing set counts as None
]
COEF = np.log(
    np.array(
        [
            [2.0, 1.0, 1.5],
            [3.0, 1.0, 1.0],
            [1.0, 1.8, 2.5],
            [1.0, 1.0, 1.0],
        ]
    )
)


def test_selection_table_by_hand():
    table = selection_table(SELECTED, COEF, NAMES, SETS)
    assert table[["set", "variable"]].values.tolist() == [
        ["bar", "bar_dis_100"],
        ["bar", "bar_dis_200"],
        ["bar", "none"],
        ["shop", "none"],
        ["shop", "shop_kde_400"],
    ]
    np.testing.assert_allclose(table.groupby("set")["share"].sum(), 1.0)
    row = table.iloc[0]
    assert row["n_seeds"] == 2 and row["share"] == 0.5
    assert row["irr_median"] == pytest.approx(2.5)  # IRRs 2 and 3
    assert row["irr_min"] == pytest.approx(2.0) and row["irr_max"] == pytest.approx(3.0)
    assert row["irr_p2_5"] == pytest.approx(2.025)  # 2 + 0.025 * (3 - 2)
    assert row["irr_p97_5"] == pytest.approx(2.975)
    shop = table.set_index("variable").loc["shop_kde_400"]
    assert shop["share"] == 0.5 and shop["irr_median"] == pytest.approx(2.0)  # 1.5, 2.5
    assert np.isnan(table.iloc[2]["irr_median"])


def test_selection_table_errors():
    with pytest.raises(ConfigError, match="does not match 4 seeds x 3 variables"):
        selection_table(SELECTED, COEF[:, :2], NAMES, SETS)
    with pytest.raises(ConfigError, match="not in that set"):
        selection_table([{"bar": "shop_kde_400"}], COEF[:1], NAMES, SETS)


def test_top_share_by_unit_by_hand():
    # 10 units, top 20 % = 2 units per seed
    risks = np.array(
        [
            np.arange(10.0),  # units 9, 8
            np.arange(10.0)[::-1],  # units 0, 1
            [0, 0, 0, 0, 0, 0, 0, 5, 5, 5],  # 7, 8, 9 tied for 2 slots: 2/3 each
        ]
    )
    got = top_share_by_unit(risks, share=0.2)
    expected = np.zeros(10)
    expected[[9, 8]] += 1
    expected[[0, 1]] += 1
    expected[[7, 8, 9]] += 2 / 3
    np.testing.assert_allclose(got, expected / 3)
    np.testing.assert_allclose(got.sum(), 2.0)  # each seed flags exactly share * n units


def test_top_share_fractional_slots():
    got = top_share_by_unit(np.array([[3.0, 2.0, 1.0, 0.0]]), share=0.3)  # 1.2 slots
    np.testing.assert_allclose(got, [1.0, 0.2, 0.0, 0.0])
    with pytest.raises(ConfigError, match=r"share.*\(0, 1\]"):
        top_share_by_unit(np.ones((2, 3)), share=0.0)


def test_summarize_seeds():
    summary = summarize_seeds(SELECTED, COEF, np.ones((4, 5)), NAMES, SETS, share=0.2)
    assert summary.n_seeds == 4 and summary.share == 0.2
    np.testing.assert_allclose(summary.top_share, 0.2)
    assert len(summary.selection) == 5
