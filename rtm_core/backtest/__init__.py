"""Rolling-origin backtests: every origin a full study, run in process, in a process pool or as
Dask tasks, and the table and HTML report they leave.

Owns the origins (:mod:`~rtm_core.backtest.rolling`), the engines that run them
(:mod:`~rtm_core.backtest.engines`), ``backtest.csv`` (:mod:`~rtm_core.backtest.table`), the
comparison over the origins (:mod:`~rtm_core.backtest.verdict`) and ``backtest.html``
(:mod:`~rtm_core.backtest.report`). The top of the package graph beside :mod:`rtm_core.cli`.
"""
