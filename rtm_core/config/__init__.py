"""Run configuration: frozen dataclasses read from TOML (the `rtm` config contract).

See DESIGN.md "Public contract". Paths in a config file are relative to the file's folder.
Every problem is a :class:`~rtm_core.errors.ConfigError` naming the file, the key and the fix.
Modules: :mod:`~rtm_core.config.settings` (the dataclasses and their defaults, the demo),
:mod:`~rtm_core.config.validate` (the validators every door uses: TOML, ``rtm`` overrides,
the app, the estimators), :mod:`~rtm_core.config.checks` (whole sections) and
:mod:`~rtm_core.config.parsing` (TOML).
"""

from rtm_core.config import checks, validate
from rtm_core.config.parsing import load_config, parse_config
from rtm_core.config.settings import (
    DEFAULT_BANDWIDTHS,
    DEMO_PATH,
    DEVICES,
    KERNELS,
    LARGE_GRID_CELLS,
    LOSSES,
    MAX_GRID_CELLS,
    MEASURES,
    MODEL_KINDS,
    BacktestConfig,
    CrimesConfig,
    EvaluationConfig,
    FeaturesConfig,
    GeneratorConfig,
    HistoryConfig,
    InputsConfig,
    LayerSource,
    ModelConfig,
    PlacesConfig,
    ReportConfig,
    RunConfig,
    UnitsConfig,
    demo_config,
)

__all__ = [
    "DEFAULT_BANDWIDTHS",
    "LayerSource",
    "UnitsConfig",
    "CrimesConfig",
    "GeneratorConfig",
    "FeaturesConfig",
    "ModelConfig",
    "ReportConfig",
    "EvaluationConfig",
    "RunConfig",
    "HistoryConfig",
    "BacktestConfig",
    "InputsConfig",
    "PlacesConfig",
    "load_config",
    "parse_config",
    "demo_config",
    "DEMO_PATH",
    "MAX_GRID_CELLS",
    "LARGE_GRID_CELLS",
    "MODEL_KINDS",
    "DEVICES",
    "LOSSES",
    "KERNELS",
    "MEASURES",
    "validate",
    "checks",
]
