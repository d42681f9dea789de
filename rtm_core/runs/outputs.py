"""Writing a run folder: the finished run gathered in memory (:func:`assemble_run`), then
every result file and the report written from it (:func:`write_run`, the one writer).

Split out of :mod:`rtm_core.runs.pipeline`, which computes. ``config.toml`` and ``inputs/``
are kept earlier, when the inputs are read (:mod:`rtm_core.runs.rerun`); a failed run's
manifest is written by :func:`rtm_core.record.folder.write_failed_run`.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

from rtm_core.factors.features import RiskFactors
from rtm_core.io import write_gpkg
from rtm_core.models.design import set_terms
from rtm_core.models.rows import collapse, row_keys
from rtm_core.record.folder import (
    CALIBRATION_FILE,
    COEFFICIENTS_FILE,
    COMPARISON_FILE,
    CONJUNCTIVE_FILE,
    CURVES_FILE,
    INCIDENTS_FILE,
    MANIFEST_FILE,
    METRICS_FILE,
    PLACES_FILE,
    PLACES_LAYER,
    STABILITY_FILE,
    TOP_PLACES_FILE,
    UNITS_FILE,
    UNITS_LAYER,
    VARIABLES_FILE,
)
from rtm_core.record.manifest import Manifest, RunFiles, presence_column
from rtm_core.results.comparison import test_risk_column
from rtm_core.results.conjunctive import conjunctive_table, top_places
from rtm_core.results.reading import reliable
from rtm_core.results.report import write_report
from rtm_core.results.stability import selection_table, top_share_by_unit
from rtm_core.study.load import Study
from rtm_core.study.units import lonlat

__all__ = ["assemble_run", "write_run", "json_default", "incidents_frame", "places_frame"]

#: named areas are kept simplified to this many metres (map outlines and labels only)
PLACES_TOLERANCE = 5.0


def _coefficients(fitted: dict) -> pd.DataFrame:
    """coefficients.csv: every model's table, with ``reliable`` (the 95 % IRR interval
    excludes 1), ``family`` and ``dispersion`` (the model's count distribution) and
    ``calibration`` (how its expected counts are calibrated in the large)."""
    frames = []
    for name, model in fitted.items():
        table = model.estimator.coefficients_.copy()
        table.insert(0, "model", name)
        table["reliable"] = reliable(table)
        table["family"] = str(getattr(model.estimator, "family_", "poisson"))
        table["dispersion"] = getattr(model.estimator, "dispersion_", None)
        table["calibration"] = str(getattr(model.estimator, "calibration_", ""))
        frames.append(table)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _selected_dummies(factors: RiskFactors, selected: dict) -> pd.DataFrame:
    names = [v for v in selected.values() if v]
    return factors.table[names].astype(int)


def _factors_present(dummies: pd.DataFrame, labels: dict[str, str]) -> np.ndarray:
    """Per unit, the readable list of selected factors present ("" where none).

    One string per distinct combination of the selected dummies, shared by every unit with
    that combination (1M units hold a few dozen strings, not a million).
    """
    if dummies.shape[1] == 0:
        return np.full(len(dummies), "", dtype=object)
    present = dummies.to_numpy() == 1
    # packed row keys (rows.py): 0.2 s at 1M units, where np.unique(axis=0) took 3 s
    first, inverse, _ = collapse(row_keys(present))
    names = [labels.get(name, name) for name in dummies.columns]
    text = np.empty(len(first), dtype=object)
    text[:] = [
        "; ".join(n for n, on in zip(names, row, strict=True) if on) for row in present[first]
    ]
    return text[inverse]


def incidents_frame(study: Study) -> pd.DataFrame:
    """Crime points of both periods (working CRS), for a report that shows incidents."""
    parts = [
        pd.DataFrame({"x": xy[:, 0], "y": xy[:, 1], "period": period})
        for xy, period in ((study.crimes_train, "train"), (study.crimes_test, "test"))
    ]
    return pd.concat(parts, ignore_index=True)


def places_frame(study: Study):
    """The study's named areas for the run folder (``place`` and polygons simplified to
    :data:`PLACES_TOLERANCE` metres, working CRS), or None without place names."""
    if study.places is None:
        return None
    frame = study.places.frame.copy()
    frame["geometry"] = frame.geometry.simplify(PLACES_TOLERANCE, preserve_topology=True)
    return frame.reset_index(drop=True)


def json_default(value):
    """JSON for numpy scalars and arrays (``json.dumps(..., default=json_default)``)."""
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)


def _units(
    study, factors, design, fitted, risks, extra, tests=None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The units table of ``units.gpkg`` and the DL seeds' stability table."""
    units = study.units.frame[["unit_id", "geometry"]].copy()
    units["y_train"] = study.y_train
    units["y_test"] = study.y_test
    if study.places is not None:  # the name of the area each unit lies in ("" where none)
        units["place"] = study.places.units
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
    for name, value in (tests or {}).items():  # test-period rankings where they differ
        units[test_risk_column(name)] = value
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
    selected = dict.fromkeys(v for m in fitted.values() for v in m.selected.values() if v)
    for name in selected:  # where each selected factor is present, 0/1
        units[presence_column(name)] = factors.table[name].to_numpy().astype(np.int8)
    return units, stability


def assemble_run(
    staging,
    manifest: Manifest,
    study,
    factors,
    design,
    fitted,
    risks,
    metrics,
    curves,
    extra=None,
    *,
    comparison: pd.DataFrame | None = None,
    calibration: pd.DataFrame | None = None,
    tests: dict | None = None,
) -> RunFiles:
    """The finished run in memory, as :func:`write_run` writes it and the report reads it.

    Parameters
    ----------
    staging : Path
        The run's staging folder.
    manifest : Manifest
        The complete run's manifest.
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
    extra : dict of str -> ndarray, optional
        More ``units.gpkg`` columns (``forecast_<model>``).
    comparison, calibration : DataFrame, optional
        Contents of ``comparison.csv`` and ``calibration.csv``.
    tests : dict of str -> ndarray, optional
        Test-period rankings where they differ from the training ones (crime history):
        ``test_risk_<name>`` columns of ``units.gpkg``.

    Returns
    -------
    RunFiles
        With ``incidents`` when the config keeps them (``[report] include_incidents``).
    """
    units, stability = _units(study, factors, design, fitted, risks, extra, tests)
    labels = factors.labels()
    names = study.places.units if study.places is not None else None
    where = lonlat(study.units.points, study.crs)
    conj, places = [], []
    for name, model in fitted.items():
        dummies = _selected_dummies(factors, model.selected)
        table = conjunctive_table(
            dummies, model.expected, study.y_train, study.y_test, labels=labels
        )
        table.insert(0, "model", name)
        conj.append(table)
        top = top_places(
            study.units.unit_ids,
            model.score,
            dummies,
            k=25,
            labels=labels,
            places=names,
            lonlat=where,
        )
        top.insert(0, "model", name)
        places.append(top)
    keeps = bool(manifest.config.get("report", {}).get("include_incidents"))
    return RunFiles(
        path=Path(staging),
        manifest=json.loads(json.dumps(manifest.to_json(), default=json_default)),
        coefficients=_coefficients(fitted),
        metrics=metrics,
        units=units,
        curves=curves,
        conjunctive=pd.concat(conj, ignore_index=True) if conj else pd.DataFrame(),
        stability=stability,
        top_places=pd.concat(places, ignore_index=True) if places else pd.DataFrame(),
        variables=factors.variables,
        incidents=incidents_frame(study) if keeps else None,
        places=places_frame(study),
        comparison=comparison,
        calibration=calibration,
    )


def _json(value) -> str:
    return json.dumps(value, indent=2, default=json_default)


def write_run(run: RunFiles) -> Path:
    """Write every file of a finished run into ``run.path`` (its staging folder).

    ``units.gpkg`` (7 s at a million units) and ``places.gpkg``, one after the other (GDAL
    takes one thread at a time: :mod:`rtm_core.io.gdal`), are written on a second thread
    (GDAL works without the GIL) while the tables, the manifest (status "complete") and
    ``report.html`` (rendered from ``run`` itself, not read back) are written here. The
    order inside the folder does not matter to readers: it is a staging folder, renamed into a
    run only once everything is written (:func:`rtm_core.record.folder.staged_run`).

    Parameters
    ----------
    run : RunFiles
        From :func:`assemble_run`.

    Returns
    -------
    Path
        ``run.path``.
    """
    folder = Path(run.path)
    with ThreadPoolExecutor(1) as pool:
        geopackages = [pool.submit(write_gpkg, run.units, folder / UNITS_FILE, layer=UNITS_LAYER)]
        if run.places is not None:
            geopackages.append(
                pool.submit(write_gpkg, run.places, folder / PLACES_FILE, layer=PLACES_LAYER)
            )
        run.coefficients.to_csv(folder / COEFFICIENTS_FILE, index=False)
        (folder / METRICS_FILE).write_text(_json(run.metrics))
        run.curves.to_csv(folder / CURVES_FILE, index=False)
        run.stability.to_csv(folder / STABILITY_FILE, index=False)
        run.conjunctive.to_csv(folder / CONJUNCTIVE_FILE, index=False)
        run.top_places.to_csv(folder / TOP_PLACES_FILE, index=False)
        run.variables.to_csv(folder / VARIABLES_FILE, index=False)
        for table, name in ((run.comparison, COMPARISON_FILE), (run.calibration, CALIBRATION_FILE)):
            if table is not None:
                table.to_csv(folder / name, index=False)
        if run.incidents is not None:  # the analyst opted in: crime points for the report
            run.incidents.to_csv(folder / INCIDENTS_FILE, index=False)
        (folder / MANIFEST_FILE).write_text(_json(run.manifest))

        write_report(run)
        for written in geopackages:
            written.result()  # re-raises a GeoPackage's error
    return folder
