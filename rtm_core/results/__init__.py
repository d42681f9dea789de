"""What a fitted run says, stage 4: evaluation (PAI, hit rates), conjunctive overlap, seed
stability, verdicts beside the baselines with their bootstrap intervals, calibration, how to
read a model (reliable factors, what its map is, how sure we are), two runs compared, the
planner's brief, the report and the planners' exports.

Reads run folders through :mod:`rtm_core.record`; never imports :mod:`rtm_core.runs` (which
writes them) or the app.
"""
