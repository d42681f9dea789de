"""Rolling-origin backtests: every origin a full study, run in process, in a process pool or as
Dask tasks, and the table and HTML report they leave.

``from rtm_core.backtest import run_backtest`` keeps working: the origins live in
:mod:`rtm_core.backtest.rolling`.
"""

from rtm_core.reexport import lazy_reexport

__all__ = [
    "MANIFEST_FILE",
    "MAX_ORIGINS",
    "ORIGINS_DIR",
    "Origin",
    "check_data_reaches_back",
    "origin_configs",
    "run_backtest",
]

#: the public names of :mod:`rtm_core.backtest.rolling`, re-exported lazily (see reexport.py)
__getattr__ = lazy_reexport(__name__, "rtm_core.backtest.rolling", __all__)
