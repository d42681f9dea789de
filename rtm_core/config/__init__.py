"""Run configuration: frozen dataclasses read from TOML (the `rtm` config contract).

See DESIGN.md "Public contract". Paths in a config file are relative to the file's folder.
Every problem is a :class:`~rtm_core.errors.ConfigError` naming the file, the key and the fix.
Modules: :mod:`~rtm_core.config.settings` (the dataclasses, the demo) and
:mod:`~rtm_core.config.parsing` (TOML).
"""

from rtm_core.config.parsing import load_config, parse_config
from rtm_core.config.settings import (
    DEFAULT_BANDWIDTHS,
    DEMO_PATH,
    LARGE_GRID_CELLS,
    MAX_GRID_CELLS,
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
    "load_config",
    "parse_config",
    "demo_config",
    "DEMO_PATH",
    "MAX_GRID_CELLS",
    "LARGE_GRID_CELLS",
    "MODEL_KINDS",
]
