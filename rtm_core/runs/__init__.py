"""Run folders: how a run is staged, written, listed, opened and re-run, and the pipeline and
background jobs that produce them.

``from rtm_core.runs import load_run`` keeps working: the folder helpers live in
:mod:`rtm_core.runs.folder`.
"""

from rtm_core.reexport import lazy_reexport

__all__ = [
    "BACKTESTS_DIR",
    "INCIDENTS_FILE",
    "REQUIRED_FILES",
    "RunFiles",
    "RunInfo",
    "STAGING_PREFIX",
    "delete_run",
    "environment",
    "file_hash",
    "holds_failed_run",
    "list_runs",
    "load_run",
    "new_run_name",
    "staged_run",
    "write_failed_run",
]

#: the public names of :mod:`rtm_core.runs.folder`, re-exported lazily (:mod:`rtm_core.reexport`)
__getattr__ = lazy_reexport(__name__, "rtm_core.runs.folder", __all__)
