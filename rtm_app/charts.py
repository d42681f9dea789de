"""Altair chart builders for the Results, Stability and Runs pages."""

from __future__ import annotations

import textwrap

import altair as alt
import numpy as np
import pandas as pd

from rtm_core.config import MODEL_KINDS
from rtm_core.models.registry import display_name

#: one fixed colour per model and baseline (Okabe-Ito)
MODEL_COLORS = {
    "dl": "#0072B2",
    "classical": "#D55E00",
    "prior_counts": "#009E73",
    "kde": "#CC79A7",
    "forest": "#E69F00",
    "prior_counts_lags": "#56B4E9",
    "history_only": "#7F7F7F",
}
#: height of one factor row of the IRR chart, per model drawn, and per extra label line
ROW_PER_MODEL, ROW_PAD, LINE_HEIGHT = 18, 16, 14
#: room for the legend above and the axis with its title below: Streamlit fits the whole
#: chart, not only its plot, into the height given, so the plot would be squeezed without it
CHART_FRAME = 140
LABEL_WIDTH = 34  # characters per line of a wrapped factor label
SHORT_NAMES = {"dl": "DL", "classical": "classical"}
PERIOD_NAMES = {"train": "In sample (period t)", "test": "Out of sample (period t+1)"}
METRIC_NAMES = {"pai": "PAI", "hit_rate": "Hit rate", "pei": "PEI", "pei_star": "PEI*"}


def model_name(key: str) -> str:
    """Readable name of a model or baseline key."""
    return display_name(key)


def score_column_name(column: str) -> str:
    """Readable name of a units column: ``risk_<model>`` or ``forecast_<model>``."""
    if column.startswith("forecast_"):
        return f"Forecast: {display_name(column.removeprefix('forecast_'))} (expected crimes)"
    return display_name(column.removeprefix("risk_"))


def model_colors(keys) -> alt.Scale:
    """A colour scale giving each model (by readable name) its fixed colour."""
    keys = [k for k in dict.fromkeys(keys)]
    return alt.Scale(
        domain=[model_name(k) for k in keys],
        range=[MODEL_COLORS.get(k, "#555555") for k in keys],
    )


def model_lines(rows: pd.DataFrame) -> dict:
    """Colour and dashes of a line chart with one line per model: each model its fixed colour,
    RTM models solid and baselines dashed, the legend below (the Results page's accuracy
    curves and the Backtest page's PAI by origin share it).

    Adds the ``Model`` (readable name) and ``kind`` ("model" or "baseline") columns the
    encodings use to ``rows``, in place.

    Parameters
    ----------
    rows : DataFrame
        One row per point, with the model or baseline key in ``model``.

    Returns
    -------
    dict
        ``color`` and ``strokeDash`` encodings, to pass to ``Chart.encode(**...)``.
    """
    rows["Model"] = rows["model"].map(model_name)
    rows["kind"] = rows["model"].map(lambda m: "model" if m in MODEL_KINDS else "baseline")
    return {
        "color": alt.Color(
            "Model:N",
            scale=model_colors(rows["model"]),
            legend=alt.Legend(orient="bottom", columns=3, labelLimit=320),
        ),
        "strokeDash": alt.StrokeDash(
            "kind:N",
            scale=alt.Scale(domain=["model", "baseline"], range=[[1, 0], [5, 3]]),
            legend=None,
        ),
    }


def log_domain(values, pad: float = 0.08, include_one: bool = True) -> list[float]:
    """A log-scale axis domain that holds every value with room on both sides.

    Parameters
    ----------
    values : array-like
        Positive values to show (IRRs and their interval ends; others are ignored).
    pad : float
        Room on each side, as a share of the span in log units (at least a factor 1.05), so
        a whisker's end and the dot on it are drawn inside the plot, not on its edge.
    include_one : bool
        Keep IRR 1 (no effect, the dashed line) on the axis.

    Returns
    -------
    list of float
        ``[low, high]`` with ``low < min(values)`` and ``high > max(values)``; ``[0.5, 2]``
        when no value is positive and finite.
    """
    logs = np.log([v for v in np.asarray(values, dtype=float).ravel() if np.isfinite(v) and v > 0])
    if include_one:
        logs = np.append(logs, 0.0)
    if logs.size == 0:
        return [0.5, 2.0]
    low, high = float(logs.min()), float(logs.max())
    room = max(pad * (high - low), float(np.log(1.05)))
    return [float(np.exp(low - room)), float(np.exp(high + room))]


def wrap_label(text: str, width: int = LABEL_WIDTH) -> str:
    """A factor label wrapped on word boundaries into lines of about ``width`` characters
    (joined with newlines; the chart's axis splits them into lines)."""
    return "\n".join(textwrap.wrap(str(text), width=width, break_long_words=True)) or str(text)


def irr_forest(
    coefficients: pd.DataFrame, labels: dict | None = None, *, given: str = ""
) -> alt.Chart | None:
    """IRR with its interval for each selected set variable, one colour per model (log x).

    Parameters
    ----------
    coefficients : DataFrame
        ``coefficients.csv`` of a run.
    labels : dict, optional
        Variable name -> readable label ("liquor_retail within 400 m"); labels are wrapped
        over lines and the chart is as tall as its rows need (one band per factor, one row
        per model inside it), so 2 factors and 15 read alike.
    given : str
        Added to the axis title, e.g. " given crime history".
    """
    if coefficients.empty or "irr" not in coefficients.columns:
        return None
    rows = coefficients[coefficients["set"].fillna("").astype(str) != ""].copy()
    rows = rows[rows["irr"].notna() & (rows["coef"].fillna(0) > 0)]
    if rows.empty:
        return None
    rows["Model"] = rows["model"].map(model_name)
    rows["factor"] = [wrap_label((labels or {}).get(v, v)) for v in rows["variable"]]
    for column in ("irr_low", "irr_high"):
        if column not in rows.columns:
            rows[column] = rows["irr"]
        rows[column] = rows[column].fillna(rows["irr"])
    order = rows.sort_values("irr", ascending=False)["factor"].drop_duplicates().tolist()
    n_models = rows["Model"].nunique()
    lines = max(label.count("\n") + 1 for label in order)
    row = max(ROW_PER_MODEL * n_models + ROW_PAD, LINE_HEIGHT * lines + ROW_PAD)
    axis = alt.Axis(
        labelLimit=400, labelExpr="split(datum.label, '\\n')", labelFontSize=12, labelPadding=6
    )
    base = alt.Chart(rows).encode(
        y=alt.Y("factor:N", sort=order, title=None, axis=axis),
        yOffset=alt.YOffset("Model:N"),
        color=alt.Color(
            "Model:N", scale=model_colors(rows["model"]), legend=alt.Legend(orient="top")
        ),
        tooltip=[
            "Model",
            alt.Tooltip("variable", title="variable"),
            alt.Tooltip("irr:Q", format=".2f", title="IRR"),
            alt.Tooltip("irr_low:Q", format=".2f", title="low"),
            alt.Tooltip("irr_high:Q", format=".2f", title="high"),
        ],
    )
    domain = log_domain(rows[["irr", "irr_low", "irr_high"]].to_numpy())
    scale = alt.Scale(type="log", zero=False, nice=False, domain=domain)
    interval = base.mark_rule(strokeWidth=2).encode(
        x=alt.X("irr_low:Q", scale=scale, title=f"Incident rate ratio{given} (log scale)"),
        x2="irr_high:Q",
    )
    points = base.mark_point(filled=True, size=60).encode(x=alt.X("irr:Q", scale=scale))
    one = alt.Chart(pd.DataFrame({"x": [1.0]})).mark_rule(strokeDash=[4, 3], color="#888")
    height = row * len(order) + CHART_FRAME
    return (one.encode(x="x:Q") + interval + points).properties(height=height)


def accuracy_curves(curves: pd.DataFrame, metric: str = "pai", max_share: float = 0.3):
    """A metric against the share of area flagged, in and out of sample, models vs baselines."""
    if curves.empty or metric not in curves.columns:
        return None
    rows = curves[(curves["share"] > 0) & (curves["share"] <= max_share)].copy()
    rows = rows[rows[metric].notna()]
    if rows.empty:
        return None
    lines = model_lines(rows)
    rows["Period"] = rows["period"].map(PERIOD_NAMES).fillna(rows["period"])
    rows["Area flagged (%)"] = rows["share"] * 100
    title = METRIC_NAMES.get(metric, metric)
    return (
        alt.Chart(rows)
        .mark_line(strokeWidth=2)
        .encode(
            x=alt.X("Area flagged (%):Q"),
            y=alt.Y(f"{metric}:Q", title=title),
            **lines,
            tooltip=[
                "Model",
                "Period",
                alt.Tooltip("Area flagged (%):Q", format=".1f"),
                alt.Tooltip(f"{metric}:Q", format=".2f", title=title),
            ],
        )
        .properties(height=280, width=430)
        .facet(column=alt.Column("Period:N", title=None, sort=list(PERIOD_NAMES.values())))
    )


def selection_bars(stability: pd.DataFrame) -> alt.Chart | None:
    """Share of seeds selecting each variable (or none), one panel row per set."""
    if stability.empty or "share" not in stability.columns:
        return None
    rows = stability[stability["share"] > 0].copy()
    rows["variable"] = rows["variable"].fillna("none").astype(str)
    return (
        alt.Chart(rows)
        .mark_bar()
        .encode(
            x=alt.X("share:Q", title="Share of seeds", scale=alt.Scale(domain=[0, 1])),
            y=alt.Y("variable:N", title=None, sort="-x", axis=alt.Axis(labelLimit=320)),
            color=alt.Color("set:N", legend=None, scale=alt.Scale(scheme="tableau10")),
            row=alt.Row("set:N", title=None, header=alt.Header(labelAngle=0, labelAlign="left")),
            tooltip=["set", "variable", "n_seeds", alt.Tooltip("share:Q", format=".0%")],
        )
        .resolve_scale(y="independent")
        .properties(width=420)
    )


def irr_spread(stability: pd.DataFrame) -> alt.Chart | None:
    """Median IRR across the seeds that selected each variable, with 95 % and full range."""
    needed = {"irr_median", "irr_min", "irr_max"}
    if stability.empty or not needed <= set(stability.columns):
        return None
    rows = stability[stability["irr_median"].notna() & (stability["variable"] != "none")].copy()
    if rows.empty:
        return None
    for low, high in (("irr_p2_5", "irr_min"), ("irr_p97_5", "irr_max")):
        if low not in rows.columns:
            rows[low] = rows[high]
    ends = rows[["irr_min", "irr_max", "irr_median", "irr_p2_5", "irr_p97_5"]].to_numpy()
    scale = alt.Scale(type="log", zero=False, nice=False, domain=log_domain(ends))
    order = rows.sort_values("irr_median", ascending=False)["variable"].tolist()
    base = alt.Chart(rows).encode(
        y=alt.Y("variable:N", title=None, sort=order, axis=alt.Axis(labelLimit=320)),
        color=alt.Color(
            "set:N",
            scale=alt.Scale(scheme="tableau10"),
            legend=alt.Legend(orient="bottom", columns=3),
        ),
        tooltip=[
            "set",
            "variable",
            "n_seeds",
            alt.Tooltip("irr_median:Q", format=".2f"),
            alt.Tooltip("irr_min:Q", format=".2f"),
            alt.Tooltip("irr_max:Q", format=".2f"),
        ],
    )
    full = base.mark_rule(opacity=0.4).encode(
        x=alt.X("irr_min:Q", scale=scale, title="IRR across seeds (log scale)"), x2="irr_max:Q"
    )
    middle = base.mark_rule(strokeWidth=3).encode(x="irr_p2_5:Q", x2="irr_p97_5:Q")
    point = base.mark_point(filled=True, size=50, color="black").encode(x="irr_median:Q")
    return (full + middle + point).properties(height=alt.Step(24))


def calibration_chart(table: pd.DataFrame, model: str) -> alt.Chart | None:
    """Crimes expected (bars) and observed (dots) by decile of predicted risk, in and out of
    sample side by side, for one model (``calibration.csv``).

    Parameters
    ----------
    table : DataFrame
        ``calibration.csv`` of a run.
    model : str
        Model (or baseline) key.

    Returns
    -------
    alt.Chart or None
        None without decile rows for the model.
    """
    rows = table[(table["model"] == model) & table["group"].str.startswith("decile")].copy()
    if rows.empty:
        return None
    rows["decile"] = rows["group"].str.removeprefix("decile ").astype(int)
    rows["Period"] = rows["period"].map(PERIOD_NAMES)
    base = alt.Chart(rows).encode(
        x=alt.X("decile:O", title="Decile of predicted risk (10 = riskiest)"),
        tooltip=[
            "Period",
            alt.Tooltip("decile:O", title="Decile"),
            alt.Tooltip("units:Q", format=",", title="Units"),
            alt.Tooltip("expected:Q", format=",.1f", title="Expected"),
            alt.Tooltip("observed:Q", format=",.0f", title="Observed"),
        ],
    )
    bars = base.mark_bar(color="#c9d6ea").encode(y=alt.Y("expected:Q", title="Crimes"))
    dots = base.mark_circle(size=70, color="#b42318").encode(y="observed:Q")
    return (
        (bars + dots)
        .properties(height=220, width=300)
        .facet(column=alt.Column("Period:N", title=None, sort=list(PERIOD_NAMES.values())))
    )
