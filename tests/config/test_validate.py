"""One set of validators: each validator alone, then the same mistake through every door.

The doors are the TOML parser (``parse_config``), the ``rtm`` overrides (``--seeds`` ...),
the app's data set and settings builders (``rtm_app.dataset``) and the estimators
(``DeepRTM``, ``ClassicalRTM``). The same mistake must give the same error class everywhere,
and the same problem and fix wherever no older test pins a door's own wording (the TOML's and
``rtm``'s "must be > 0", the estimators' "must be a positive integer" are both pinned).
"""

from __future__ import annotations

import copy
from datetime import date, datetime

import numpy as np
import pandas as pd
import pytest

from rtm_app.dataset import DataSet, parse_bandwidths, with_factor_settings
from rtm_app.history import history_settings
from rtm_core.cli import _with_overrides, build_parser
from rtm_core.config import (
    FeaturesConfig,
    ModelConfig,
    UnitsConfig,
    checks,
    demo_config,
    parse_config,
    validate,
)
from rtm_core.errors import ConfigError, InputError
from rtm_core.models.classical import ClassicalRTM
from rtm_core.models.design import Design
from rtm_core.models.dl import DeepRTM

# ------------------------------------------------------------------------ the validators


def _problem(call) -> tuple[str, str, str, str]:
    """``(source, field, problem, fix)`` of the ConfigError ``call()`` raises."""
    with pytest.raises(ConfigError) as caught:
        call()
    error = caught.value
    assert "\n" not in str(error) and ". Fix: " in str(error)
    return error.source, error.field, error.problem, error.fix


def test_integer_takes_integers_of_any_kind_and_never_a_bool():
    assert validate.integer(3, "s", "f", minimum=1) == 3
    value = validate.integer(np.int64(4), "s", "f", minimum=1)
    assert value == 4 and type(value) is int
    for bad, shown in [(True, "True"), (False, "False"), (2.5, "2.5"), (2.0, "2.0"), ("3", "'3'")]:
        problem = _problem(lambda bad=bad: validate.integer(bad, "s", "f", minimum=1))[2]
        assert problem == f"must be a positive integer, got {shown}"


@pytest.mark.parametrize(
    ("bounds", "value", "problem"),
    [
        ({"minimum": 1}, 0, "must be a positive integer, got 0"),
        ({"minimum": 0}, -3, "must be a non-negative integer, got -3"),
        ({"minimum": 2}, 1, "must be an integer >= 2, got 1"),
        ({"minimum": 1, "maximum": 50}, 51, "must be an integer from 1 to 50, got 51"),
        ({"maximum": 5}, 6, "must be an integer <= 5, got 6"),
        ({"minimum": 1, "expected": "> 0"}, 0, "must be > 0, got 0"),
        ({"minimum": 1, "expected": "> 0"}, 2.5, "must be an integer, got float 2.5"),
        ({"minimum": 1, "expected": "> 0"}, True, "must be an integer, got True"),
        ({"minimum": 0, "kind": "a positive integer"}, -1, "must be a positive integer, got -1"),
    ],
)
def test_integer_names_the_range_it_wants(bounds, value, problem):
    assert _problem(lambda: validate.integer(value, "s", "f", **bounds))[2] == problem


def test_integer_bounds_are_inclusive():
    assert validate.integer(1, "s", "f", minimum=1, maximum=50) == 1
    assert validate.integer(50, "s", "f", minimum=1, maximum=50) == 50


@pytest.mark.parametrize(
    ("bounds", "value", "problem"),
    [
        ({"low": 0, "low_open": True}, 0.0, "must be a positive number, got 0.0"),
        ({"low": 0, "low_open": True}, True, "must be a positive number, got True"),
        ({"low": 0}, -1, "must be a non-negative number, got -1.0"),
        ({"low": 0, "high": 1}, 2, "must be a number in [0, 1], got 2.0"),
        ({}, float("nan"), "must be a finite number, got nan"),
        ({}, float("inf"), "must be a finite number, got inf"),
        ({}, "2", "must be a finite number, got '2'"),
        ({"low": 0, "low_open": True, "expected": "> 0"}, -2.0, "must be > 0, got -2.0"),
        ({"low": 0, "low_open": True, "expected": "> 0"}, "1", "must be a number, got str '1'"),
    ],
)
def test_number_refuses_bools_nan_and_values_out_of_range(bounds, value, problem):
    assert _problem(lambda: validate.number(value, "s", "f", **bounds))[2] == problem


def test_number_returns_a_float_and_keeps_closed_bounds():
    value = validate.number(np.float32(0.5), "s", "f", low=0, high=1)
    assert value == 0.5 and type(value) is float
    assert validate.number(0, "s", "f", low=0, high=1) == 0.0
    assert validate.number(1, "s", "f", low=0, high=1) == 1.0


def test_positive_keeps_the_toml_wording():
    assert validate.positive(150, "c.toml", "units.cell_size") == 150.0
    assert validate.positive(3, "c.toml", "model.seeds", whole=True) == 3
    assert _problem(lambda: validate.positive(0, "c.toml", "model.seeds", whole=True)) == (
        "c.toml",
        "model.seeds",
        "must be > 0, got 0",
        "set a positive `seeds`",
    )
    problem = _problem(lambda: validate.positive(True, "c.toml", "units.cell_size"))[2]
    assert problem == "must be a number, got True"


def test_fraction_is_a_share_in_zero_one():
    assert validate.fraction(1, "s", "f") == 1.0
    assert validate.fraction(0.05, "s", "f") == 0.05
    for bad in (0, -0.1, 1.5, True):
        assert _problem(lambda bad=bad: validate.fraction(bad, "s", "f"))[2].startswith(
            "must be a number in (0, 1], got"
        )


def test_flag_takes_true_or_false_only():
    assert validate.flag(True, "s", "f") is True
    assert validate.flag(np.bool_(False), "s", "f") is False
    for bad in (1, 0, "yes", None):
        assert _problem(lambda bad=bad: validate.flag(bad, "s", "f"))[2] == (
            f"must be True or False, got {bad!r}"
        )


def test_choice_and_subset():
    assert validate.choice("cpu", ("auto", "cpu"), "s", "f") == "cpu"
    assert _problem(lambda: validate.choice("tpu", ("auto", "cpu"), "s", "device")) == (
        "s",
        "device",
        "unknown value 'tpu'",
        "use one of 'auto', 'cpu'",
    )
    assert _problem(lambda: validate.choice(1, ("a",), "s", "f", noun="loss"))[2] == (
        "unknown loss 1"
    )
    assert validate.subset(["dl"], ("dl", "classical"), "s", "f", "fix") == ("dl",)
    assert _problem(lambda: validate.subset([], ("dl",), "s", "f", "pick one"))[2:] == (
        "none chosen",
        "pick one",
    )
    assert _problem(lambda: validate.subset(["dl", "x"], ("dl",), "s", "f", "fix"))[2] == (
        "unknown ['x']"
    )


def test_repeats_lists_each_repeated_value_once():
    assert validate.repeats([100, 200, 100, 100, 300, 200]) == [100, 200]
    assert validate.repeats([1, 2, 3]) == []


@pytest.mark.parametrize(
    ("values", "problem", "fix"),
    [
        ([], "is empty", "list at least one distance in metres"),
        ([100, True], "True is not a number", "use metres, e.g. 200"),
        (["200"], "'200' is not a number", "use metres, e.g. 200"),
        ([float("nan")], "nan is not a number", "use metres, e.g. 200"),
        ([0, 100], "must be > 0 metres, got 0", "use positive distances"),
        ([100.5], "must be whole metres, got 100.5", "round to an integer"),
        ([100, 100], "repeats a value in [100, 100]", "list each distance once"),
        ([164, 26247], "26247 m is over 20 km (feet by mistake?)", "give bandwidths in metres"),
        ("100", "must be a list, got str '100'", "e.g. [100, 200]"),
    ],
)
def test_bandwidths_refuse_each_mistake(values, problem, fix):
    found = _problem(lambda: validate.bandwidths(values, "bars"))
    assert found[:3] == ("bars", "bandwidths", problem) and found[3].startswith(fix)


def test_bandwidths_are_sorted_whole_metres():
    assert validate.bandwidths([300, 100.0, np.int64(50)], "bars") == (50, 100, 300)
    assert validate.bandwidths([20_000], "bars") == (20_000,)


def test_iso_date():
    assert validate.iso_date("2021-03-04", "s", "f") == date(2021, 3, 4)
    assert validate.iso_date("2021-03-04T10:00:00-06:00", "s", "f") == date(2021, 3, 4)
    assert validate.iso_date(date(2021, 3, 4), "s", "f") == date(2021, 3, 4)
    assert validate.iso_date(datetime(2021, 3, 4, 10), "s", "f") == date(2021, 3, 4)
    for bad in ("2021-13-01", "last spring", 20210304, None):
        assert _problem(lambda bad=bad: validate.iso_date(bad, "s", "f"))[2] == (
            f"must be a date like 2021-01-01, got {bad!r}"
        )


def test_section_checks():
    assert checks.check_model(ModelConfig(), "s") == ModelConfig()
    units = checks.check_units(UnitsConfig(cell_size=150), "s")
    assert units.cell_size == 150.0 and type(units.cell_size) is float
    assert checks.check_features(FeaturesConfig(threshold=2), "s").threshold == 2.0
    assert _problem(lambda: checks.check_units(UnitsConfig(keep="all"), "s"))[1:3] == (
        "units.keep",
        "unknown value 'all'",
    )
    features = FeaturesConfig(kernel="box")
    assert _problem(lambda: checks.check_features(features, "s"))[1] == "features.kernel"
    model = ModelConfig(cancel_gate=1)
    assert _problem(lambda: checks.check_model(model, "s", "model."))[1:3] == (
        "model.cancel_gate",
        "must be True or False, got 1",
    )


# --------------------------------------------------------------------- through every door

BASE = {
    "units": {"boundary": "b.gpkg"},
    "crimes": {"train_file": "a.csv", "test_file": "b.csv", "x": "x", "y": "y"},
    "generators": [{"name": "bars", "file": "bars.csv"}],
}


def _toml(section: str, **values):
    """The TOML door: BASE with ``[section]`` values changed."""
    data = copy.deepcopy(BASE)
    data.setdefault(section, {}).update(values)
    return lambda: parse_config(data, file="c.toml")


def _cli(*flags: str):
    """The ``rtm`` door: overrides applied to the demo config."""
    args = build_parser().parse_args(["run", "--demo", "--out", "x", *flags])
    return lambda: _with_overrides(demo_config(), args)


def _app_model(**fields):
    """The app's door for model settings (Train and Backtest forms)."""
    return lambda: DataSet.demo().run_config(ModelConfig(**fields))


def _app_factors(**changes):
    """The app's door for risk factor settings (the Risk factors form)."""
    settings = {"units": {}, "kernel": "quartic", "threshold": 2.0, "generators": {}} | changes
    return lambda: with_factor_settings(DataSet.demo(), **settings)


@pytest.fixture(scope="module")
def fit_data():
    rng = np.random.default_rng(0)
    X = rng.integers(0, 2, size=(60, 3)).astype(np.uint8)
    design = Design(X=X, names=("a_dis_100", "a_dis_200", "b_kde_100"), sets=("a", "a", "b"))
    return design, rng.poisson(1.0, 60).astype(float)


def _dl(fit_data, **params):
    return lambda: DeepRTM(burn_in_steps=5, prune_steps=5, **params).fit(*fit_data)


def _classical(fit_data, **params):
    return lambda: ClassicalRTM(**params).fit(*fit_data)


def test_a_bool_is_never_taken_as_an_integer(fit_data):
    doors = [
        _toml("model", seeds=True),
        _toml("model", random_state=True),
        _toml("model", cv_folds=True),
        _toml("history", lags=True),
        _toml("features", chunk_size=True),
        _toml("units", max_cells=True),
        _app_model(seeds=True),
        _app_model(random_state=False),
        _app_model(cv_folds=True),
        _app_factors(threshold=True),
        _app_factors(units={"cell_size": True}),
        lambda: history_settings(DataSet.demo(), True, "150", "log1p"),
        _dl(fit_data, n_seeds=True),
        _dl(fit_data, random_state=True),
        _dl(fit_data, learning_rate=True),
        _classical(fit_data, cv_folds=True),
        _classical(fit_data, max_variables=True),
        _classical(fit_data, random_state=True),
        lambda: validate.positive(True, "rtm", "--seeds", whole=True),
    ]
    for door in doors:
        assert "True" in _problem(door)[2] or "False" in _problem(door)[2]


def _same(*doors):
    """Every door raises ConfigError with the same problem and fix; returns them."""
    found = {_problem(door)[2:] for door in doors}
    assert len(found) == 1, found
    return found.pop()


def test_repeated_bandwidths_are_refused_alike_in_the_toml_and_the_app():
    generators = copy.deepcopy(BASE["generators"])
    generators[0]["bandwidths"] = [100, 100]
    toml = copy.deepcopy(BASE) | {"generators": generators}
    got = _same(
        lambda: parse_config(toml, file="c.toml"),
        _app_factors(generators={"liquor_retail": (("distance",), (100, 100))}),
        lambda: parse_bandwidths("100, 100", "liquor_retail", repeats="refuse"),
    )
    assert got == ("repeats a value in [100, 100]", "list each distance once")
    history = _same(
        _toml("history", bandwidths=[150, 150]),
        lambda: history_settings(DataSet.demo(), 0, "150 150", "log1p"),
    )
    assert history == ("repeats a value in [150, 150]", "list each distance once")


def test_bandwidth_mistakes_read_alike_in_the_toml_and_the_app():
    for values, typed in [([0, 100], "0 100"), ([26247], "26247"), ([100.5], "100.5")]:
        generators = [BASE["generators"][0] | {"bandwidths": values}]
        toml = copy.deepcopy(BASE) | {"generators": generators}
        _same(
            lambda toml=toml: parse_config(toml, file="c.toml"),
            lambda typed=typed: parse_bandwidths(typed, "bars", repeats="refuse"),
            lambda typed=typed: parse_bandwidths(typed, "bars"),
        )


def test_model_settings_read_alike_in_the_toml_the_cli_and_the_app(fit_data):
    assert _same(_toml("model", seeds=0), _app_model(seeds=0)) == (
        "must be > 0, got 0",
        "set a positive `seeds`",
    )
    assert _problem(_cli("--seeds", "0"))[2:] == ("must be > 0, got 0", "set a positive `--seeds`")
    _same(_toml("model", burn_in_steps=-5), _app_model(burn_in_steps=-5))
    _same(_toml("model", kinds=["dl", "xgboost"]), _app_model(kinds=("dl", "xgboost")))
    _same(_toml("model", device="tpu"), _app_model(device="tpu"))
    assert _same(
        _toml("model", cv_folds=1), _app_model(cv_folds=1), _classical(fit_data, cv_folds=1)
    ) == ("must be an integer >= 2, got 1", "use 5 or 10 folds")
    assert _same(
        _toml("model", random_state=-3),
        _app_model(random_state=-3),
        _dl(fit_data, random_state=-3),
        _classical(fit_data, random_state=-3),
    ) == ("must be a non-negative integer, got -3", "use e.g. 0")
    # the estimators keep their pinned wording; the class is the same
    assert _problem(_dl(fit_data, n_seeds=0))[2] == "must be a positive integer, got 0"


def test_cli_overrides_name_the_flag():
    assert _problem(_cli("--prune-steps", "-1")) == (
        "rtm",
        "--prune-steps",
        "must be > 0, got -1",
        "set a positive `--prune-steps`",
    )
    assert _problem(_cli("--kinds", "dl,forest"))[1:3] == ("--kinds", "unknown ['forest']")
    changed = _cli("--seeds", "3", "--kinds", "dl", "--device", "cpu")()
    assert (changed.model.seeds, changed.model.kinds, changed.model.device) == (3, ("dl",), "cpu")


def test_unit_and_feature_settings_read_alike_in_the_toml_and_the_app():
    assert _same(_toml("units", cell_size=0), _app_factors(units={"cell_size": 0})) == (
        "must be > 0, got 0.0",
        "set a positive `cell_size`",
    )
    _same(_toml("units", keep="all"), _app_factors(units={"keep": "all"}))
    _same(_toml("features", kernel="box"), _app_factors(kernel="box"))
    _same(_toml("features", threshold=float("nan")), _app_factors(threshold=float("nan")))
    no_measures = copy.deepcopy(BASE) | {"generators": [BASE["generators"][0] | {"measures": []}]}
    toml = _problem(lambda: parse_config(no_measures, file="c.toml"))
    app = _problem(_app_factors(generators={"graffiti": ((), (100,))}))
    assert toml[2] == app[2] == "none chosen"  # each fix names the measures as its door does
    assert (toml[3], app[3]) == ("use distance and/or kde", "choose distance and/or density")


def test_bad_counts_are_the_same_class_in_both_models(fit_data):
    design, y = fit_data
    for model in (DeepRTM(burn_in_steps=5, prune_steps=5), ClassicalRTM()):
        for bad in (y[:-1], -y - 1, np.where(np.arange(len(y)) == 0, np.nan, y)):
            with pytest.raises(ConfigError, match=r"\.fit \[y\]: .*Fix: pass"):
                model.fit(design, bad)


def test_a_malformed_design_is_an_input_error():
    X = np.zeros((4, 2))
    for build, field in [
        (lambda: Design(X=np.zeros(4), names=(), sets=()), "X"),
        (lambda: Design(X=X, names=("a",), sets=("s", "s")), "names"),
        (lambda: Design(X=X, names=("a", "b"), sets=("s",)), "sets"),
        (
            lambda: Design(X=X, names=("a", "b"), sets=("s", "s"), covariates=np.zeros((3, 1))),
            "covariates",
        ),
        (
            lambda: Design(X=X, names=("a", "b"), sets=("s", "s"), covariates=np.zeros((4, 1))),
            "covariate_names",
        ),
    ]:
        with pytest.raises(InputError) as caught:
            build()
        assert isinstance(caught.value, ValueError) and not isinstance(caught.value, ConfigError)
        assert caught.value.source == "Design" and caught.value.field == field
        assert ". Fix: " in str(caught.value)


def test_the_risk_factors_form_refuses_repeated_bandwidths_as_the_toml_does():
    from rtm_app.factor_rows import generator_settings  # the form's own path (rtm_app)

    rows = pd.DataFrame(
        {"layer": ["bars"], "distance": [True], "density": [False], "bandwidths": ["100 200 100"]}
    )
    assert _problem(lambda: generator_settings(rows)) == (
        "bars",
        "bandwidths",
        "repeats a value in [100, 200, 100]",
        "list each distance once",
    )
    rows["bandwidths"] = ["200, 100"]
    assert generator_settings(rows) == {"bars": (("distance",), (100, 200))}
