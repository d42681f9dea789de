"""rtm_core.results.conjunctive: the conjunctive table (CACC profiles) and top places, by hand."""

import numpy as np
import pandas as pd
import pytest

from rtm_core.errors import ConfigError
from rtm_core.results.conjunctive import conjunctive_table, dominant_threshold, top_places


def _dummies():
    return pd.DataFrame({"bar_dis_200": [1, 1, 0, 0, 1, 0], "shop_kde_400": [1, 0, 0, 1, 1, 0]})


def test_conjunctive_counts_add_up():
    d = _dummies()
    expected = np.array([3.0, 2.0, 0.5, 1.0, 3.0, 0.5])
    y_train, y_test = np.array([2, 1, 0, 1, 4, 0]), np.array([3, 0, 1, 0, 2, 0])
    table = conjunctive_table(d, expected, y_train, y_test, labels={"bar_dis_200": "bar"})
    assert table["units"].sum() == 6
    assert table["expected"].sum() == pytest.approx(expected.sum())
    assert table["observed_train"].sum() == y_train.sum()
    assert table["observed_test"].sum() == y_test.sum()
    top = table.iloc[0]
    assert top["profile"] == "bar + shop_kde_400" and top["units"] == 2
    assert top["expected_rate"] == pytest.approx(3.0)
    assert top["bar_dis_200"] == 1 and top["n_factors"] == 2
    assert table.iloc[-1]["profile"] == "(none)"
    assert (np.diff(table["expected_rate"]) <= 0).all()


def test_conjunctive_without_selected_variables():
    table = conjunctive_table(pd.DataFrame(index=range(3)), [1.0, 1.0, 1.0], [0, 1, 2], [1, 1, 1])
    assert table["profile"].tolist() == ["(none)"] and table["units"].tolist() == [3]


@pytest.mark.parametrize(("n_units", "big", "threshold"), [(20, 5, 5), (1000, 10, 10)])
def test_dominant_flag_rule(n_units, big, threshold):
    assert dominant_threshold(n_units) == threshold
    flag = np.zeros(n_units, dtype=int)
    flag[:big] = 1  # profile "a" holds exactly the threshold
    other = np.zeros(n_units, dtype=int)
    other[big : 2 * big - 1] = 1  # profile "b" holds one unit fewer
    d = pd.DataFrame({"a": flag, "b": other})
    zeros = np.zeros(n_units)
    table = conjunctive_table(d, np.ones(n_units), zeros, zeros).set_index("profile")
    assert table.loc["a", "dominant"]
    assert not table.loc["b", "dominant"]


def test_conjunctive_rejects_non_binary():
    with pytest.raises(ConfigError, match="other than 0 and 1"):
        conjunctive_table(pd.DataFrame({"a": [0, 2]}), [1, 1], [0, 0], [0, 0])


def test_top_places():
    d = _dummies()
    out = top_places(
        list("abcdef"),
        [1.0, 5.0, 2.0, 5.0, 3.0, 1.0],
        d,
        k=3,
        labels={"bar_dis_200": "bar within 200 m"},
    )
    assert out["unit_id"].tolist() == ["b", "d", "e"]  # tie b/d keeps input order
    assert out["rank"].tolist() == [1, 2, 3]
    assert out["factors"].tolist() == [
        "bar within 200 m",
        "shop_kde_400",
        "bar within 200 m, shop_kde_400",
    ]
    assert out["n_factors"].tolist() == [1, 1, 2]
    with pytest.raises(ConfigError, match="positive integer"):
        top_places(list("abcdef"), np.ones(6), d, k=0)


def test_top_places_carry_place_lat_lon_and_ties():
    d = _dummies()
    lonlat = np.column_stack([np.arange(6) - 87.0, np.arange(6) + 41.0])
    places = ["Loop", "Austin", "", "Loop", "Uptown", "Austin"]
    out = top_places(
        list("abcdef"), [1.0, 5.0, 3.0, 5.0, 3.0, 1.0], d, k=3, places=places, lonlat=lonlat
    )
    assert out["place"].tolist() == ["Austin", "Loop", ""]
    assert out["lon"].tolist() == [-86.0, -84.0, -85.0] and out["lat"].tolist() == [
        42.0,
        44.0,
        43.0,
    ]
    assert out["tied"].tolist() == [False, False, True]  # c ties with e, left out
    assert not top_places(list("abcdef"), np.arange(6.0), d, k=6)["tied"].any()
    bare = top_places(list("abcdef"), np.arange(6.0), d, k=2)
    assert bare["place"].tolist() == ["", ""] and bare["lat"].isna().all()
    with pytest.raises(ConfigError, match=r"top_places \[places\]: has 2 values for 6 scores"):
        top_places(list("abcdef"), np.ones(6), d, places=["a", "b"])
