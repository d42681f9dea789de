"""Turn a real run folder into one with crime history and a forecast, as the pipeline writes
them with ``[history]`` set: ``forecast_<model>`` columns in ``units.gpkg``,
``manifest["forecast"]`` and ``manifest["history"]``, ``hist{j}_unit`` / ``hist{j}_{bw}m``
rows in ``coefficients.csv`` (fixed covariates) and metrics of the history baselines.

Used by the Results page and report tests until (and beside) runs made with history.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

FORECAST = {
    "start": "2019-01-01",
    "end": "2019-12-31",
    "method": "Models refitted on 2018 with 2016-2017 as history, applied to 2019.",
}
HISTORY = {"lags": 2, "bandwidths": [150, 300], "transform": "log1p"}


def add_forecast(run_dir: Path, out: Path | None = None, *, seed: int = 0) -> Path:
    """Copy ``run_dir`` to ``out`` (or edit it in place) and add history and a forecast."""
    if out is not None:
        shutil.copytree(run_dir, out)
        run_dir = out
    run_dir = Path(run_dir)
    units = gpd.read_file(run_dir / "units.gpkg", layer="units", engine="pyogrio")
    rng = np.random.default_rng(seed)
    models = [c.removeprefix("risk_") for c in units.columns if c in ("risk_dl", "risk_classical")]
    for model in models:
        # the forecast: this model's risk times last period's crimes, so it differs visibly
        units[f"forecast_{model}"] = (
            units[f"risk_{model}"]
            * (1.0 + units["y_test"])
            * np.exp(rng.normal(0, 0.05, len(units)))
        )
    units.to_file(run_dir / "units.gpkg", layer="units", driver="GPKG", engine="pyogrio")

    manifest = json.loads((run_dir / "manifest.json").read_text())
    manifest["forecast"] = dict(FORECAST)
    manifest["history"] = dict(HISTORY)
    (run_dir / "manifest.json").write_text(json.dumps(manifest, indent=2))

    coef = pd.read_csv(run_dir / "coefficients.csv")
    rows = []
    for model in models:
        for j in (1, 2):
            for k, variable in enumerate((f"hist{j}_unit", f"hist{j}_150m", f"hist{j}_300m")):
                value = 0.3 / j - 0.05 * k
                rows.append(
                    {
                        "model": model,
                        "variable": variable,
                        "set": np.nan,
                        "coef": value,
                        "irr": np.exp(value),
                        "irr_low": np.exp(value - 0.05),
                        "irr_high": np.exp(value + 0.05),
                    }
                )
    pd.concat([coef, pd.DataFrame(rows)], ignore_index=True).to_csv(
        run_dir / "coefficients.csv", index=False
    )

    metrics = json.loads((run_dir / "metrics.json").read_text())
    prior = metrics["prior_counts"]
    metrics["prior_counts_lags"] = _scaled(prior, 1.1)
    metrics["history_only"] = _scaled(prior, 0.9)
    (run_dir / "metrics.json").write_text(json.dumps(metrics, indent=2))
    return run_dir


def _scaled(entry: dict, factor: float) -> dict:
    return {
        period: {
            measure: {k: None if v is None else v * factor for k, v in values.items()}
            for measure, values in measures.items()
        }
        for period, measures in entry.items()
    }


def history_run(folder: Path, *, kinds=("dl",), steps: int = 30) -> Path:
    """A real run with crime history and a forecast: a synthetic city with four yearly
    periods (``[history] lags = 2``), quick models."""
    from rtm_core.config import load_config
    from rtm_core.runs.pipeline import run_pipeline
    from rtm_core.synth import make_city, write_city

    config = load_config(write_city(make_city(7, size=3_000.0, periods=4), folder / "city"))
    model = config.model.__class__(
        kinds=tuple(kinds), seeds=2, burn_in_steps=steps, prune_steps=steps
    )
    return run_pipeline(config.replace(model=model), folder / "run-history", label="history")
