"""RTM models, stage 3: the deep-learning and classical RTM, the baselines, and what they share.

Owns the model matrix (:mod:`~rtm_core.models.design`), the estimators' shared prediction,
fitted checks and coefficient tables (:mod:`~rtm_core.models.base`), the deep-learning RTM
(:mod:`~rtm_core.models.dl` and its ``dl_*`` engine modules), the classical RTM
(:mod:`~rtm_core.models.classical`, :mod:`~rtm_core.models.lasso_cv`), the baselines
(:mod:`~rtm_core.models.baselines`) and the one registry of model and baseline names
(:mod:`~rtm_core.models.registry`). Imports :mod:`rtm_core.config` only of the stages.
"""
