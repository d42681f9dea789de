"""A small real run as a department would make it: crime history and a forecast (a synthetic
city with four yearly periods), both RTM models, an owner, and the incidents kept for the
report (the analyst opted in), so planner-safety is tested against the worst case."""

from __future__ import annotations

from pathlib import Path

OWNER = "alice@pd.example"


def department_run(folder: Path, *, owner: str | None = OWNER, name: str = "run-alice") -> Path:
    """Write the run into ``folder / name`` (about 5 s) and return its path."""
    from rtm_core.config import ReportConfig, load_config
    from rtm_core.runs.pipeline import run_pipeline
    from rtm_core.synth import make_city, write_city

    config = load_config(write_city(make_city(7, size=3_000.0, periods=4), folder / "city"))
    model = config.model.__class__(
        kinds=("dl", "classical"), seeds=2, burn_in_steps=30, prune_steps=30
    )
    config = config.replace(model=model, report=ReportConfig(include_incidents=True))
    return run_pipeline(config, folder / name, label="Burglary 2023", owner=owner)
