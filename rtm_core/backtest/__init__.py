"""Rolling-origin backtests: every origin a full study, run in process, in a process pool or as
Dask tasks, and the table and HTML report they leave.

``from rtm_core.backtest import run_backtest`` keeps working: the origins live in
:mod:`rtm_core.backtest.rolling`.
"""

import importlib

__all__ = [
    "MANIFEST_FILE",
    "MAX_ORIGINS",
    "ORIGINS_DIR",
    "Origin",
    "check_data_reaches_back",
    "origin_configs",
    "run_backtest",
]


def __getattr__(name: str):
    """Re-export the public names of :mod:`rtm_core.backtest.rolling` lazily.

    Lazily, so that importing a sibling module (which the rolling module itself imports) does
    not run the whole rolling module first and close an import cycle.
    """
    if name in __all__:
        return getattr(importlib.import_module("rtm_core.backtest.rolling"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
