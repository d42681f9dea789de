"""The whole RTM pipeline, headless: data → risk factors → models → evaluation → run folder.

Used by ``rtm run`` and by the app's background jobs, so both write the same run folders.

Periods and crime history. The models are fitted once, on the training period. With
``[history]`` the history factors join the fixed covariates
(:func:`rtm_core.factors.designs.period_designs`); the training design uses the lag windows
before the training period, and the *same fitted models* are applied to the design with the
windows before the test period (the out-of-sample score) and before the forecast period (the
period after the test period: the test period, then earlier). The forecast is therefore
"applied with shifted history", not refitted on the latest period. ``units.gpkg`` gets
``forecast_<model>`` (expected counts of the forecast period) beside ``risk_<model>`` (the
environment's relative risk, which does not change between periods), and ``manifest.json`` the
forecast period and the history windows. Baselines with history:
``prior_counts_lags`` and ``history_only``; the forest gets the history factors too.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rtm_core.config import MODEL_KINDS, RunConfig
from rtm_core.errors import Cancelled, RTMError, check_cancel
from rtm_core.factors.designs import PeriodDesigns, build_features, period_designs
from rtm_core.factors.features import RiskFactors
from rtm_core.factors.history import HistoryTables
from rtm_core.models.baselines import ForestBaseline, score_baselines
from rtm_core.models.classical import ClassicalRTM
from rtm_core.models.design import Design
from rtm_core.models.dl import DeepRTM
from rtm_core.models.dl_seeds import DASK_SEED_BATCH
from rtm_core.record.access import normalise_email
from rtm_core.record.folder import staged_run, write_failed_run
from rtm_core.record.manifest import Manifest
from rtm_core.results.bootstrap import N_RESAMPLES, compare_maps, scored_crimes
from rtm_core.results.calibration import calibration_table, highest_count
from rtm_core.results.evaluate import evaluate_models, relative_risk_score
from rtm_core.runs.outputs import assemble_run, write_run
from rtm_core.runs.rerun import write_rerunnable_config
from rtm_core.study.crime_history import forecast_record
from rtm_core.study.load import Study, check_outcome_varies, load_study

__all__ = ["Progress", "FittedModel", "run_pipeline", "fit_models", "PHASES"]

# share of the progress bar each phase takes
PHASES = {
    "data": (0.0, 0.05),
    "features": (0.05, 0.12),
    "baselines": (0.12, 0.17),
    "dl": (0.17, 0.7),
    "classical": (0.7, 0.92),
    "evaluate": (0.92, 1.0),
}
KDE_BASELINE_BANDWIDTH = 300.0
#: baselines whose risk is an expected count (their calibration goes to calibration.csv)
EXPECTED_COUNT_BASELINES = ("forest", "history_only")


@dataclass(frozen=True)
class Progress:
    """One progress report of a pipeline run.

    Attributes
    ----------
    phase : str
        "data", "features", "baselines", "dl", "classical", "evaluate" or "done".
    fraction : float
        Overall progress in [0, 1].
    message : str
        What is happening, for people.
    step, total : int
        Step within the phase (e.g. Adam steps), when known.
    loss : float or None
        Current training loss, when training.
    """

    phase: str
    fraction: float
    message: str
    step: int = 0
    total: int = 0
    loss: float | None = None


@dataclass(frozen=True)
class FittedModel:
    """A fitted RTM model with what the run folder needs from it."""

    name: str
    estimator: object
    expected: np.ndarray
    score: np.ndarray
    selected: dict
    seconds: float


def _reporter(progress: Callable[[Progress], None] | None):
    def report(phase, within=0.0, message="", step=0, total=0, loss=None):
        if progress is None:
            return
        lo, hi = PHASES.get(phase, (1.0, 1.0))
        progress(
            Progress(
                phase,
                lo + (hi - lo) * float(min(max(within, 0.0), 1.0)),
                message,
                step,
                total,
                loss,
            )
        )

    return report


def fit_models(
    design: Design, y: np.ndarray, config: RunConfig, *, progress=None, cancel=None, client=None
) -> dict[str, FittedModel]:
    """Fit the configured RTM models (deep-learning and/or classical) on one design.

    Parameters
    ----------
    design : Design
    y : ndarray
        Training-period counts.
    config : RunConfig
    progress : callable, optional
        Receives :class:`Progress`.
    cancel : object with ``is_set()``, optional
    client : dask.distributed.Client, optional
        Train the deep-learning seed batches as Dask tasks on it.

    Returns
    -------
    dict
        Model name → :class:`FittedModel`.
    """
    report = _reporter(progress)
    fitted = {}
    for kind in config.model.kinds:
        check_cancel(cancel)
        start = time.perf_counter()
        if kind == "dl":
            estimator = _fit_dl(design, y, config.model, report, cancel, client)
        else:
            estimator = _fit_classical(design, y, config.model, report, cancel)
        expected = estimator.predict(design)
        score = relative_risk_score(estimator.linear_predictor(design, part="sets"))
        fitted[kind] = FittedModel(
            kind, estimator, expected, score, dict(estimator.selected_), time.perf_counter() - start
        )
    return fitted


def _fit_dl(design: Design, y: np.ndarray, mcfg, report, cancel, client) -> DeepRTM:
    total = mcfg.burn_in_steps + mcfg.prune_steps

    def dl_progress(phase, step, n_steps, loss):
        done = step + (mcfg.burn_in_steps if phase == "prune" else 0)
        report("dl", done / total, f"deep-learning RTM: {phase}", done, total, loss)

    return DeepRTM(
        loss=mcfg.loss,
        burn_in_steps=mcfg.burn_in_steps,
        prune_steps=mcfg.prune_steps,
        learning_rate=mcfg.learning_rate,
        cancel_gate=mcfg.cancel_gate,
        n_seeds=mcfg.seeds,
        random_state=mcfg.random_state,
        device=mcfg.device,
        seed_batch=mcfg.seed_batch,
    ).fit(design, y, progress=dl_progress, cancel=cancel, client=client)


def _fit_classical(design: Design, y: np.ndarray, mcfg, report, cancel) -> ClassicalRTM:
    def classical_progress(phase, step, n_steps, loss):
        fraction = step / max(n_steps, 1)
        report("classical", fraction, f"classical RTM: {phase}", step, n_steps, loss)

    return ClassicalRTM(cv_folds=mcfg.cv_folds, random_state=mcfg.random_state).fit(
        design, y, progress=classical_progress, cancel=cancel
    )


def _device_name(fitted: dict[str, FittedModel]) -> str:
    model = fitted.get("dl")
    return getattr(model.estimator, "device_", "cpu") if model else "cpu"


def run_pipeline(
    config: RunConfig,
    out_dir: str | Path,
    *,
    progress: Callable[[Progress], None] | None = None,
    cancel=None,
    label: str = "",
    max_cells: int | None = None,
    client=None,
    owner: str | None = None,
) -> Path:
    """Run the whole pipeline and write a complete run folder atomically.

    Parameters
    ----------
    config : RunConfig
    out_dir : path
        The run folder to create (must not exist or be empty).
    progress : callable, optional
        Receives :class:`Progress` reports.
    cancel : object with ``is_set()``, optional
        When set, the run stops within about a second and writes nothing.
    label : str
        The analyst's name for the run.
    max_cells : int, optional
        Largest grid built; default ``config.units.max_cells``.
    client : dask.distributed.Client, optional
        Builds the risk factors on Dask when given.
    owner : str, optional
        The e-mail of the user making the run (the manifest's ``owner``; see
        :mod:`rtm_core.record.access`). None: a run without an owner.

    Returns
    -------
    Path
        The run folder.

    Raises
    ------
    RTMError
        Bad data or config (the message names file, field and fix); a failed-run manifest is
        left in ``out_dir``. :class:`Cancelled` leaves nothing. Any other exception (a bug)
        also leaves a failed-run manifest, then propagates.
    """
    out_dir = Path(out_dir)
    report = _reporter(progress)
    config = _with_seed_batch(config, client)
    owner = normalise_email(owner) or None
    draft = _Draft(
        Manifest.begin(config, label=label, name=out_dir.name, created=time.time(), owner=owner)
    )
    try:
        with staged_run(out_dir) as staging:
            _run_into(staging, config, draft, progress, cancel, max_cells, client)
    except Cancelled:
        raise
    except RTMError as exc:
        write_failed_run(out_dir, draft.manifest, str(exc))  # no-op when out_dir exists
        raise
    except Exception as exc:  # a bug: still leave a run that says it failed, and why
        first = (str(exc).strip().splitlines() or [""])[0][:300]
        error = f"internal error ({type(exc).__name__}: {first})"
        write_failed_run(out_dir, draft.manifest, error)
        raise
    report("done", 1.0, f"run written to {out_dir}")
    return out_dir


def _with_seed_batch(config: RunConfig, client) -> RunConfig:
    """On Dask, write down the seed batches the DL model will train (so a re-run in process
    trains the same batches and reproduces the coefficients exactly)."""
    if client is None or config.model.seed_batch is not None or "dl" not in config.model.kinds:
        return config
    model = dataclasses.replace(config.model, seed_batch=DASK_SEED_BATCH)
    return dataclasses.replace(config, model=model)


@dataclass
class _Draft:
    """The manifest so far: a run that fails records what was known when it failed."""

    manifest: Manifest

    def add(self, **values) -> None:
        self.manifest = self.manifest.updated(**values)


def _run_into(
    staging: Path, config: RunConfig, draft: _Draft, progress, cancel, max_cells, client=None
) -> None:
    """The stages of a run, each timed, into the staging folder."""
    report = _reporter(progress)
    timings: dict = {"fit": {}}
    t0 = time.perf_counter()
    study = _read_study(staging, config, draft, report, cancel, max_cells)
    t1 = time.perf_counter()
    timings["data"] = t1 - t0
    factors, designs = _build_designs(study, config, report, cancel, client)
    timings["features"] = time.perf_counter() - t1
    # the baselines first: the forest is the last user of the continuous measures, which are
    # then freed (0.5 GB at 1M units) before the models fit
    check_cancel(cancel)
    report("baselines", 0.0, "baselines: prior counts, KDE, gradient-boosted trees")
    baselines, timings["baselines"] = _baselines(study, factors, config, designs.history)
    factors = factors.dummies_only()
    fitted = fit_models(
        designs.train, study.y_train, config, progress=progress, cancel=cancel, client=client
    )
    timings["fit"] = {name: model.seconds for name, model in fitted.items()}
    check_cancel(cancel)
    report("evaluate", 0.0, "evaluation")
    t2 = time.perf_counter()
    scores = _score(study, config, designs, fitted, baselines)
    check_cancel(cancel)
    report("evaluate", 0.5, "writing the run folder")
    timings["evaluate"] = time.perf_counter() - t2
    timings["total"] = time.perf_counter() - t0
    draft.add(
        status="complete",
        device=_device_name(fitted),
        timings=timings,
        **_study_record(study, config, designs, fitted),
    )
    run = assemble_run(
        staging,
        draft.manifest,
        study,
        factors,
        designs.train,
        fitted,
        scores.risks,
        scores.metrics,
        scores.curves,
        scores.forecasts,
        comparison=scores.comparison,
        calibration=scores.calibration,
        tests=scores.tests,
    )
    write_run(run)
    check_cancel(cancel)  # the last moment: a cancel now still leaves nothing behind


def _read_study(staging: Path, config: RunConfig, draft: _Draft, report, cancel, max_cells):
    """The study, checked, with its inputs kept in the staging folder and recorded."""
    report("data", 0.0, "reading layers")
    study = load_study(
        config, progress=lambda m: report("data", 0.5, m), cancel=cancel, max_cells=max_cells
    )
    crimes_cfg = config.crimes
    check_outcome_varies(study, (crimes_cfg.source or crimes_cfg.train_source).label)
    kept = write_rerunnable_config(config, staging)  # hashes every input once
    draft.add(
        inputs={k.name: k.sha256 for k in kept},
        inputs_kept=tuple(dataclasses.asdict(k) for k in kept),
        crs=study.crs.to_string(),
        reads=tuple(dataclasses.asdict(r) for r in study.reads),
        counts=tuple(dataclasses.asdict(c) for c in study.counts),
    )
    return study


def _build_designs(
    study: Study, config: RunConfig, report, cancel, client
) -> tuple[RiskFactors, PeriodDesigns]:
    """Risk factors, then the training, test and forecast designs (with crime history)."""
    report("features", 0.0, "building risk factors")
    factors = build_features(
        study,
        config.features,
        cancel=cancel,
        client=client,
        progress=lambda name, done, total: report(
            "features", done / max(total, 1), f"risk factors: {name}"
        ),
    )
    return factors, period_designs(study, factors, config)


@dataclass(frozen=True)
class _Baselines:
    """Baseline risks of the training period and, where they differ, of the test period."""

    risks: dict
    tests: dict


@dataclass(frozen=True)
class _Scores:
    """What the run folder needs from the evaluation."""

    risks: dict
    metrics: dict
    curves: object
    forecasts: dict
    tests: dict  # test-period rankings where they differ from the training ones
    comparison: object  # comparison.csv
    calibration: object  # calibration.csv


def _score(
    study: Study,
    config: RunConfig,
    designs: PeriodDesigns,
    fitted: dict[str, FittedModel],
    baselines: _Baselines,
) -> _Scores:
    """Accuracy of every model and baseline in and out of sample, the forecasts, the
    comparison of each model with each baseline (``comparison.csv``: a paired bootstrap over
    the test crimes, seeded by ``[model] random_state``) and the calibration tables.

    Out of sample, the fitted models are applied to the history before the test period (and
    before the forecast period for the forecast); without history that design is the
    training one.
    """
    models_first = [k for k in MODEL_KINDS if k in fitted]
    risks = {name: fitted[name].expected for name in models_first} | baselines.risks
    expected = {name: model.expected for name, model in fitted.items()}
    shifted = designs.history is not None
    expected_test = {
        n: m.estimator.predict(designs.test) if shifted else m.expected for n, m in fitted.items()
    }
    forecast = {
        n: m.estimator.predict(designs.forecast) if shifted else m.expected
        for n, m in fitted.items()
    }
    evaluation = evaluate_models(
        risks,
        study.y_train,
        study.y_test,
        _area(study, config),
        expected=expected,
        risks_test={n: expected_test[n] for n in models_first} | baselines.tests,
        expected_test=expected_test,
    )
    forecasts = {f"forecast_{n}": forecast[n] for n in models_first}
    tests = {n: expected_test[n] for n in models_first if shifted} | baselines.tests
    rankings = {name: tests.get(name, risk) for name, risk in risks.items()}
    crimes = scored_crimes(rankings, study.y_test, _area(study, config))
    comparison = compare_maps(
        [crimes], models_first, n_resamples=N_RESAMPLES, random_state=config.model.random_state
    )
    calibration = calibration_table(
        {n: {"train": expected[n], "test": expected_test[n]} for n in models_first}
        | {
            n: {"train": baselines.risks[n], "test": baselines.tests.get(n, baselines.risks[n])}
            for n in EXPECTED_COUNT_BASELINES
            if n in baselines.risks
        },
        {"train": study.y_train, "test": study.y_test},
    )
    return _Scores(
        risks, evaluation.metrics, evaluation.curves, forecasts, tests, comparison, calibration
    )


def _study_record(
    study: Study, config: RunConfig, designs: PeriodDesigns, fitted: dict[str, FittedModel]
) -> dict:
    """The manifest's account of the study: units, crimes, selection, forecast, history."""
    grid = study.units.grid
    return {
        "n_units": len(study.units),
        "unit_kind": study.units.kind,
        "measure": "count" if config.evaluation.area == "count" else study.units.measure_name,
        "crimes": {"train": int(study.y_train.sum()), "test": int(study.y_test.sum())},
        "selected": {k: m.selected for k, m in fitted.items()},
        "model_fits": {k: _fit_record(m.estimator) for k, m in fitted.items()},
        "forecast": forecast_record(study.history, designs.history is not None)
        | {"highest_count": _highest_count(study, designs)},
        "history": designs.record(config),
        "grid": dataclasses.asdict(grid) if grid is not None else None,
    }


def _fit_record(estimator) -> dict:
    """The manifest's ``models`` entry of a fitted model: family, dispersion, calibration."""
    dispersion = getattr(estimator, "dispersion_", None)
    return {
        "family": str(getattr(estimator, "family_", "poisson")),
        "dispersion": None if dispersion is None else float(dispersion),
        "calibration": str(getattr(estimator, "calibration_", "")),
    }


def _highest_count(study: Study, designs: PeriodDesigns) -> int:
    """The highest count any unit had in the training or test period or a history window."""
    history = designs.history
    windows = list(history.counts.values()) if history is not None else []
    return highest_count(study.y_train, study.y_test, *windows)


def _area(study: Study, config: RunConfig) -> np.ndarray | None:
    """What accuracy's "share of area" is taken over: unit measures, or None (unit count)."""
    return None if config.evaluation.area == "count" else study.units.measure


def _baselines(
    study: Study, factors: RiskFactors, config: RunConfig, tables: HistoryTables | None = None
) -> tuple[_Baselines, float]:
    """Baseline risks of the training period and, where they differ, of the test period."""
    start = time.perf_counter()
    risks, tests = score_baselines(
        study.units.points,
        study.crimes_train,
        study.y_train,
        factors.table[factors.continuous_names],
        tables,
        kde_bandwidth=KDE_BASELINE_BANDWIDTH,
        random_state=config.model.random_state,
        forest_class=ForestBaseline,  # looked up here, so tests can swap in a quick forest
    )
    return _Baselines(risks, tests), time.perf_counter() - start
