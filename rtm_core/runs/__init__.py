"""Running a study: the pipeline that turns a config into a run folder, and its jobs.

Owns execution: :mod:`~rtm_core.runs.pipeline` (data → risk factors → baselines → models →
evaluation, headless: ``rtm run`` and the app), :mod:`~rtm_core.runs.outputs` (the one writer
of a run folder's files), :mod:`~rtm_core.runs.jobs` (the app's background job registry) and
:mod:`~rtm_core.runs.rerun` (the config and inputs kept so a run re-runs anywhere). What a run
folder *is* lives below, in :mod:`rtm_core.record`.
"""
