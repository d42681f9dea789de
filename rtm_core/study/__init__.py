"""The study: units of analysis, crime periods and their history, the layers read and checked.

``from rtm_core.study import load_study, Study`` keeps working: the study loader lives in
:mod:`rtm_core.study.load`; units, periods, geometry repair, data checks and column guesses
are its sibling modules.
"""

import importlib

__all__ = [
    "PILED_CRIMES",
    "Study",
    "build_features",
    "check_outcome_varies",
    "features_frame",
    "load_study",
    "split_periods",
]


def __getattr__(name: str):
    """Re-export the public names of :mod:`rtm_core.study.load` lazily.

    Lazily, so that importing a sibling module (which the load module itself imports) does
    not run the whole load module first and close an import cycle.
    """
    if name in __all__:
        return getattr(importlib.import_module("rtm_core.study.load"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
