"""What a fitted run says: evaluation (PAI, hit rates), conjunctive overlap, seed stability,
verdicts beside the baselines, the report and the planners' exports."""
