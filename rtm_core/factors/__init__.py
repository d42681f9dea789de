"""Risk factors, stage 2: from a study to what the models see.

Owns the distance and kernel-density dummies per unit (:mod:`~rtm_core.factors.features`,
with :mod:`~rtm_core.factors.measures` and :mod:`~rtm_core.factors.neighbours`; the same chunks
as Dask tasks in :mod:`~rtm_core.factors.distributed`), the crime-history factors
(:mod:`~rtm_core.factors.history`), and the design of each target period
(:mod:`~rtm_core.factors.designs`: training, test and forecast).
"""
