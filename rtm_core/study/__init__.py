"""The study: units of analysis, crime periods and their history, the layers read and checked.

``from rtm_core.study import load_study, Study`` keeps working: the study loader lives in
:mod:`rtm_core.study.load`; units, periods, geometry repair, data checks and column guesses
are its sibling modules.
"""

from rtm_core.reexport import lazy_reexport

__all__ = [
    "PILED_CRIMES",
    "Study",
    "build_features",
    "check_outcome_varies",
    "features_frame",
    "load_study",
    "split_periods",
]

#: the public names of :mod:`rtm_core.study.load`, re-exported lazily (:mod:`rtm_core.reexport`)
__getattr__ = lazy_reexport(__name__, "rtm_core.study.load", __all__)
