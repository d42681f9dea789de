"""Tables the pages show, shaped from a run's files (pandas only, no streamlit)."""

from __future__ import annotations

import pandas as pd

from rtm_app.charts import model_name
from rtm_core.record.manifest import AREA_KEYS, READOUT_TEXT, Manifest, Metrics
from rtm_core.results.reading import coefficient_reading
from rtm_core.results.summary import split_history
from rtm_core.results.summary import verdict_table as _verdict_table

#: read-out key of metrics.json -> column heading
READOUT_KEYS = READOUT_TEXT
CONJUNCTIVE_COLUMNS = [
    "units",
    "expected",
    "observed_train",
    "observed_test",
    "expected_rate",
    "dominant",
    "n_factors",
    "profile",
]


def irr_table(coefficients: pd.DataFrame, *, history: bool = False) -> pd.DataFrame:
    """IRR (RRV) with 95 % interval, p-value, selection share and reading ("no reliable
    effect" where the interval includes 1), one row per model term.

    The crime-history rows (``hist{j}_...``) are left out, or only they are kept with
    ``history=True`` (their own table, "Crime history (fixed covariates)").
    """
    if coefficients.empty:
        return pd.DataFrame()
    frame = split_history(coefficients)[1 if history else 0].copy()
    if frame.empty:
        return pd.DataFrame()
    frame["set"] = frame["set"].fillna("").astype(str).replace("", "(fixed)")
    out = pd.DataFrame(
        {
            "model": frame["model"].map(model_name),
            "variable": frame["variable"],
            "set": frame["set"],
            "IRR": frame["irr"],
            "95 % low": frame.get("irr_low"),
            "95 % high": frame.get("irr_high"),
            "p-value": frame.get("p_value"),
            "selected share": frame.get("selected_share"),
        }
    )
    out = out.dropna(axis=1, how="all")
    if {"irr_low", "irr_high"} <= set(frame.columns):  # read beside the interval it reads
        at = list(out.columns).index("95 % high") + 1 if "95 % high" in out else len(out.columns)
        out.insert(at, "reading", coefficient_reading(frame)["reading"].to_numpy())
    return out


def readouts(metrics, metric: str = "pai") -> pd.DataFrame:
    """One metric at 1 %, 5 %, 10 % of the area and at the z > 2 rule, per model and period.

    Parameters
    ----------
    metrics : Metrics or dict
        The run's ``metrics.json``.
    metric : str
        "pai", "hit_rate", "pei", ...

    Returns
    -------
    DataFrame
    """
    metrics = Metrics.from_json(metrics)
    rows = []
    for model in metrics.names:
        for period, label in (("train", "in sample (t)"), ("test", "out of sample (t+1)")):
            values = metrics.readout(model, period, metric)
            row = {"model": model_name(model), "period": label}
            row |= {name: values[key] for key, name in READOUT_KEYS.items()}
            rows.append(row)
    return pd.DataFrame(rows)


def verdict_table(verdicts) -> pd.DataFrame:
    """Each model beside the best baseline at 1, 5 and 10 % of the area (out of sample); the
    report's table (:func:`rtm_core.results.summary.verdict_table`)."""
    return _verdict_table(verdicts)


def conjunctive(table: pd.DataFrame, model: str) -> pd.DataFrame:
    """The conjunctive table of one model, with the columns people read."""
    if table.empty:
        return table
    rows = table[table["model"] == model] if "model" in table.columns else table
    return rows[[c for c in CONJUNCTIVE_COLUMNS if c in rows.columns]].reset_index(drop=True)


def top_places(table: pd.DataFrame, model: str, n: int) -> pd.DataFrame:
    """The ``n`` riskiest units of one model."""
    if table.empty:
        return table
    rows = table[table["model"] == model] if "model" in table.columns else table
    rows = rows.drop(columns=["model"], errors="ignore").head(n).reset_index(drop=True)
    first = [c for c in ("rank", "unit_id", "score", "n_factors") if c in rows.columns]
    return rows[first + [c for c in rows.columns if c not in first]]


def compare_selected(manifest_a, manifest_b, names=("A", "B")) -> pd.DataFrame:
    """Selected variable per model and set in two runs side by side.

    Parameters
    ----------
    manifest_a, manifest_b : Manifest or dict
        The two runs' manifests.
    names : tuple of str
        Column names of the two runs.

    Returns
    -------
    DataFrame
    """
    rows = []
    sel_a, sel_b = (
        (m.selected if isinstance(m, Manifest) else Manifest.from_json(m).selected) or {}
        for m in (manifest_a, manifest_b)
    )
    for model in dict.fromkeys([*sel_a, *sel_b]):
        sets = dict.fromkeys([*sel_a.get(model, {}), *sel_b.get(model, {})])
        for set_name in sets:
            a = sel_a.get(model, {}).get(set_name) or "-"
            b = sel_b.get(model, {}).get(set_name) or "-"
            rows.append(
                {
                    "model": model_name(model),
                    "set": set_name,
                    names[0]: a,
                    names[1]: b,
                    "same": a == b,
                }
            )
    return pd.DataFrame(rows)


def compare_irr(coef_a: pd.DataFrame, coef_b: pd.DataFrame, names=("A", "B")) -> pd.DataFrame:
    """IRR of every term in either run, and the change from A to B."""
    keep = ["model", "variable", "irr"]
    if coef_a.empty or coef_b.empty:
        return pd.DataFrame()
    merged = coef_a[keep].merge(
        coef_b[keep], on=["model", "variable"], how="outer", suffixes=(" A", " B")
    )
    merged = merged.rename(columns={"irr A": f"IRR {names[0]}", "irr B": f"IRR {names[1]}"})
    merged["change"] = merged[f"IRR {names[1]}"] - merged[f"IRR {names[0]}"]
    merged["model"] = merged["model"].map(model_name)
    return merged.sort_values(["model", "variable"]).reset_index(drop=True)


def compare_pai(metrics_a, metrics_b, names=("A", "B")) -> pd.DataFrame:
    """Out-of-sample PAI at 1, 5 and 10 % of the area for each model in two runs.

    Parameters
    ----------
    metrics_a, metrics_b : Metrics or dict
        The two runs' ``metrics.json``.
    names : tuple of str
        Names of the two runs.

    Returns
    -------
    DataFrame
    """
    both = (Metrics.from_json(metrics_a), Metrics.from_json(metrics_b))
    rows = []
    for model in dict.fromkeys([*both[0].names, *both[1].names]):
        for name, metrics in zip(names, both, strict=True):
            values = metrics.readout(model, "test", "pai")
            row = {"model": model_name(model), "run": name}
            row |= {READOUT_KEYS[k]: values[k] for k in AREA_KEYS}
            rows.append(row)
    return pd.DataFrame(rows)
