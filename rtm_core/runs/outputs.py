"""The files of a run folder written from a finished run: units.gpkg, coefficients.csv,
metrics.json, curves.csv, stability.csv, conjunctive.csv, top_places.csv, variables.csv.

Split out of :mod:`rtm_core.runs.pipeline`, which computes; this module only writes.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from rtm_core.results.conjunctive import conjunctive_table, top_places
from rtm_core.models.design import set_terms
from rtm_core.factors.features import RiskFactors
from rtm_core.io import write_gpkg
from rtm_core.results.stability import selection_table, top_share_by_unit
from rtm_core.study.load import Study

__all__ = ["write_outputs", "json_default", "incidents_frame"]


def _coefficients(fitted: dict) -> pd.DataFrame:
    frames = []
    for name, model in fitted.items():
        table = model.estimator.coefficients_.copy()
        table.insert(0, "model", name)
        frames.append(table)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _selected_dummies(factors: RiskFactors, selected: dict) -> pd.DataFrame:
    names = [v for v in selected.values() if v]
    return factors.table[names].astype(int)


def _factors_present(dummies: pd.DataFrame, labels: dict[str, str]) -> np.ndarray:
    """Per unit, the readable list of selected factors present ("" where none)."""
    out = np.full(len(dummies), "", dtype=object)
    for name in dummies.columns:
        present = dummies[name].to_numpy() == 1
        label = labels.get(name, name)
        out[present] = [f"{a}; {label}" if a else label for a in out[present]]
    return out


def incidents_frame(study: Study) -> pd.DataFrame:
    """Crime points of both periods (working CRS), for a report that shows incidents."""
    parts = [
        pd.DataFrame({"x": xy[:, 0], "y": xy[:, 1], "period": period})
        for xy, period in ((study.crimes_train, "train"), (study.crimes_test, "test"))
    ]
    return pd.concat(parts, ignore_index=True)


def json_default(value):
    """JSON for numpy scalars and arrays (``json.dumps(..., default=json_default)``)."""
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)


def write_outputs(
    staging, study, factors, design, fitted, risks, metrics, curves, config, extra=None
) -> None:
    """Write the run's tables into its staging folder.

    Parameters
    ----------
    staging : Path
        The run's staging folder.
    study : Study
    factors : RiskFactors
    design : Design
        The training design (stability of the DL seeds is read from it).
    fitted : dict of str -> FittedModel
    risks : dict of str -> ndarray
        Risk per unit of every model and baseline (baselines become ``risk_<name>``).
    metrics : dict
        Content of ``metrics.json``.
    curves : DataFrame
        Content of ``curves.csv``.
    config : RunConfig
    extra : dict of str -> ndarray, optional
        More ``units.gpkg`` columns (``forecast_<model>``).
    """
    units = study.units.frame[["unit_id", "geometry"]].copy()
    units["y_train"] = study.y_train
    units["y_test"] = study.y_test
    labels = factors.labels()
    for name, model in fitted.items():
        units[f"risk_{name}"] = model.score
        units[f"expected_{name}"] = model.expected
        units[f"factors_{name}"] = _factors_present(
            _selected_dummies(factors, model.selected), labels
        )
    for name, value in (extra or {}).items():  # forecast_<model>: expected counts
        units[name] = value
    for name in [n for n in risks if n not in fitted]:  # baselines
        units[f"risk_{name}"] = risks[name]
    stability = pd.DataFrame()
    dl = fitted.get("dl")
    if dl is not None:
        est = dl.estimator
        stability = selection_table(est.seed_selected_, est.seed_coef_, design.names, design.sets)
        seed_eta = np.stack([set_terms(design.X, coef) for coef in est.seed_coef_])
        units["top5_share_dl"] = top_share_by_unit(seed_eta, share=0.05)
    if study.units.grid is not None:
        units["row"] = study.units.frame["row"].to_numpy()
        units["col"] = study.units.frame["col"].to_numpy()
    write_gpkg(units, staging / "units.gpkg", layer="units")
    _coefficients(fitted).to_csv(staging / "coefficients.csv", index=False)
    (staging / "metrics.json").write_text(json.dumps(metrics, indent=2, default=json_default))
    curves.to_csv(staging / "curves.csv", index=False)
    stability.to_csv(staging / "stability.csv", index=False)
    conj, places = [], []
    for name, model in fitted.items():
        dummies = _selected_dummies(factors, model.selected)
        table = conjunctive_table(
            dummies, model.expected, study.y_train, study.y_test, labels=labels
        )
        table.insert(0, "model", name)
        conj.append(table)
        top = top_places(study.units.unit_ids, model.score, dummies, k=25, labels=labels)
        top.insert(0, "model", name)
        places.append(top)
    (pd.concat(conj, ignore_index=True) if conj else pd.DataFrame()).to_csv(
        staging / "conjunctive.csv", index=False
    )
    (pd.concat(places, ignore_index=True) if places else pd.DataFrame()).to_csv(
        staging / "top_places.csv", index=False
    )
    factors.variables.to_csv(staging / "variables.csv", index=False)
