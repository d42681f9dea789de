"""From a study to its risk factors and to the model design of each target period.

One place turns the study and its ``[history]`` into what the models see:
:func:`build_features` builds the risk factors at the unit points (in process or on Dask);
:func:`period_designs` joins the units' own covariates and, with crime history, the history
factors of each target period (:mod:`rtm_core.factors.history`) to those risk factors, giving
the training design the models are fitted on and the same design with the history of the test
period (the out-of-sample score) and of the forecast period. Without history the three are
one design.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import geopandas as gpd
import pandas as pd

from rtm_core.config import FeaturesConfig, RunConfig
from rtm_core.factors.distributed import risk_factors
from rtm_core.factors.features import RiskFactors
from rtm_core.factors.history import HistoryTables, build_history
from rtm_core.models.design import Design
from rtm_core.study.load import Study

__all__ = ["PeriodDesigns", "build_features", "features_frame", "period_designs"]


def build_features(
    study: Study, cfg: FeaturesConfig, *, progress=None, cancel=None, client=None
) -> RiskFactors:
    """Risk factors of the study's generator layers at the unit points.

    With a Dask ``client`` (:func:`rtm_core.cluster.dask_client`) the chunks run as Dask tasks
    (:mod:`rtm_core.factors.distributed`); the result is the same.

    Parameters
    ----------
    study : Study
    cfg : FeaturesConfig
        Kernel, dummy threshold (z-score) and chunk size.
    progress : callable, optional
        Called as in :func:`rtm_core.factors.distributed.risk_factors`.
    cancel : object with ``is_set()``, optional
    client : dask.distributed.Client, optional
        None builds in process.

    Returns
    -------
    RiskFactors
        One row per unit, in unit order.
    """
    return risk_factors(
        study.units.points,
        study.generators,
        client,
        kernel=cfg.kernel,
        threshold=cfg.threshold,
        chunk_size=cfg.chunk_size,
        progress=progress,
        cancel=cancel,
    )


def features_frame(study: Study, factors: RiskFactors) -> gpd.GeoDataFrame:
    """One row per unit: ``unit_id``, ``y_train``, ``y_test``, fixed covariates, continuous
    measures and dummies, with unit geometry (what ``rtm features`` writes).

    Parameters
    ----------
    study : Study
    factors : RiskFactors
        From :func:`build_features` for the same study.

    Returns
    -------
    GeoDataFrame
        Columns in that order, the units' geometry, in the working CRS.
    """
    base = study.units.frame.drop(columns=["row", "col"], errors="ignore")
    out = pd.concat(
        [
            base[["unit_id"]].reset_index(drop=True),
            pd.DataFrame({"y_train": study.y_train, "y_test": study.y_test}),
            study.covariates.reset_index(drop=True),
            factors.table.reset_index(drop=True),
        ],
        axis=1,
    )
    return gpd.GeoDataFrame(out, geometry=base.geometry.values, crs=study.crs)


@dataclass(frozen=True)
class PeriodDesigns:
    """The model design of each target period of a study.

    Attributes
    ----------
    train : Design
        Risk factors and covariates with the history before the training period: the
        models are fitted on it.
    test, forecast : Design
        The same risk factors with the history before the test period and before the
        forecast period (the same object as ``train`` without history).
    history : HistoryTables or None
        The history factors, in-unit lag counts and windows of every target; None without
        crime history.
    """

    train: Design
    test: Design
    forecast: Design
    history: HistoryTables | None = None

    def record(self, config: RunConfig) -> dict | None:
        """The manifest's ``history``: the setting, the model's history columns and windows.

        Parameters
        ----------
        config : RunConfig
            The run's configuration (its ``[history]`` section).

        Returns
        -------
        dict or None
            ``lags, bandwidths, transform, columns, windows``; None without history.
        """
        if self.history is None:
            return None
        return {
            "lags": config.history.lags,
            "bandwidths": list(config.history.bandwidths),
            "transform": config.history.transform,
            "columns": self.history.columns,
            "windows": self.history.windows,
        }


def period_designs(study: Study, factors: RiskFactors, config: RunConfig) -> PeriodDesigns:
    """The training, test and forecast designs of a study.

    Parameters
    ----------
    study : Study
        Its units' covariates and, with ``[history]``, its crime history (which keeps the
        number of lags).
    factors : RiskFactors
        From :func:`build_features` for the same study.
    config : RunConfig
        ``[history]`` (bandwidths, transform), the snap distance and the chunk size.

    Returns
    -------
    PeriodDesigns
        Without history (not configured, or no crime history read) one design three times.
    """
    covariates = study.covariates.reset_index(drop=True)
    if not config.history.enabled or study.history is None:
        design = factors.design(covariates)
        return PeriodDesigns(design, design, design)
    tables = build_history(
        study.units,
        study.history,
        config.history,
        snap_distance=config.units.snap_distance,
        chunk_size=config.features.chunk_size,
    )
    with_history = {
        target: pd.concat([covariates, frame[tables.columns]], axis=1)
        for target, frame in tables.factors.items()
    }
    train = factors.design(with_history["train"])
    # the test and forecast designs share the training design's dummies (one copy of X)
    shifted = {
        target: dataclasses.replace(train, covariates=with_history[target].to_numpy(dtype=float))
        for target in ("test", "forecast")
    }
    return PeriodDesigns(train, shifted["test"], shifted["forecast"], tables)
