"""The Risk factors page's logic: its generator table, its settings, its prevalence table.

The page shows one editable row per generator layer (one set); :func:`apply_factor_settings`
turns the edited rows and the other controls into a new :class:`~rtm_app.dataset.DataSet`.
Which dummies enter the models is decided by
:attr:`rtm_core.factors.features.RiskFactors.in_model` (the one owner of that rule).
No streamlit here.
"""

from __future__ import annotations

import pandas as pd

from rtm_app.dataset import DataSet, parse_bandwidths, with_factor_settings
from rtm_app.history import history_settings, unavailable_reason
from rtm_core.factors.features import RiskFactors

__all__ = [
    "KEEP",
    "KERNELS",
    "MEASURES",
    "generator_rows",
    "generator_settings",
    "numeric_covariates",
    "apply_factor_settings",
    "prevalence_table",
    "map_choices",
]

KEEP = {"centre": "centre inside the boundary", "intersect": "touching the boundary"}
KERNELS = {"quartic": "Quartic (biweight)", "gaussian": "Gaussian (truncated)"}
#: editor column -> measure of a generator layer
MEASURES = {"distance": "distance", "density": "kde"}
#: prevalence range of the factor the map shows first (common, but not everywhere)
_FIRST_SHOWN = (0.05, 0.5)


def generator_rows(data: DataSet) -> pd.DataFrame:
    """One editor row per generator layer: ``layer, distance, density, bandwidths``.

    ``distance`` and ``density`` say whether the layer makes distance or density dummies;
    ``bandwidths`` are its bandwidths in metres as text ("100 200 400").
    """
    generators = data.generators
    return pd.DataFrame(
        {
            "layer": [g.name for g in generators],
            **{
                column: [measure in g.measures for g in generators]
                for column, measure in MEASURES.items()
            },
            "bandwidths": [" ".join(map(str, g.bandwidths)) for g in generators],
        }
    )


def generator_settings(rows: pd.DataFrame) -> dict[str, tuple[tuple[str, ...], tuple[int, ...]]]:
    """The edited rows as set name -> (measures, bandwidths).

    Raises
    ------
    ConfigError
        A bandwidth that is not a whole number of metres in range, or one typed twice (as the
        TOML refuses it); the message names the layer.
    """
    return {
        str(row["layer"]): (
            tuple(measure for column, measure in MEASURES.items() if bool(row[column])),
            parse_bandwidths(str(row["bandwidths"]), str(row["layer"]), repeats="refuse"),
        )
        for _, row in rows.iterrows()
    }


def numeric_covariates(frame: pd.DataFrame, id_column: str | None) -> list[str]:
    """Numeric columns of a units layer that can be fixed covariates (not its id).

    Parameters
    ----------
    frame : DataFrame
        The units layer as read.
    id_column : str or None
        The unit id column (left out).

    Returns
    -------
    list of str
    """
    return [c for c in frame.select_dtypes("number").columns if c != id_column]


def apply_factor_settings(
    data: DataSet,
    *,
    units: dict,
    kernel: str,
    threshold: float,
    rows: pd.DataFrame,
    history: tuple[int, str, str],
) -> DataSet:
    """The data set with everything the Risk factors form holds, checked.

    Parameters
    ----------
    data : DataSet
        The current data set.
    units : dict
        Fields of :class:`~rtm_core.config.UnitsConfig` to change (grid: cell_size, keep;
        units layer: fixed, snap_distance).
    kernel : {"quartic", "gaussian"}
    threshold : float
        z-score above which a density dummy is 1.
    rows : DataFrame
        The edited generator rows (see :func:`generator_rows`).
    history : (int, str, str)
        The History control: lags, distances as typed, transform. Lags count as 0 when the
        data set cannot have history.

    Returns
    -------
    DataSet

    Raises
    ------
    InputError
        Bad bandwidths, a layer without measure or bandwidth, or bad history settings.
    """
    lags, distances, transform = history
    lags = 0 if unavailable_reason(data) else int(lags)
    return with_factor_settings(
        data,
        units=units,
        kernel=kernel,
        threshold=threshold,
        generators=generator_settings(rows),
        history=history_settings(data, lags, distances, transform),
    )


def prevalence_table(factors: RiskFactors) -> pd.DataFrame:
    """The dummies with their prevalence and whether they enter the models.

    Returns
    -------
    DataFrame
        ``name, label, prevalence, in model`` (one row per dummy, in set order).
    """
    table = factors.variables[["name", "label", "prevalence"]].copy()
    table["in model"] = factors.in_model.to_numpy()
    return table


def map_choices(table: pd.DataFrame) -> tuple[list[str], int]:
    """The factors the map offers and which one it shows first.

    Parameters
    ----------
    table : DataFrame
        :func:`prevalence_table`'s result.

    Returns
    -------
    names : list of str
        The dummies in the models (every dummy when none is).
    index : int
        Position in ``names`` of the first dummy present in 5 %–50 % of the units (0 when
        there is none among ``names``).
    """
    names = table.loc[table["in model"], "name"].tolist() or table["name"].tolist()
    common = table.loc[table["prevalence"].between(*_FIRST_SHOWN), "name"].tolist()
    return names, names.index(common[0]) if common and common[0] in names else 0
