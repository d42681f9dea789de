"""What a backtest says: ``backtest.csv``, its summary, ``backtest.html``, and finding backtests.

``backtest.csv`` has one row per origin, model (or baseline), measure and area:
``origin, model, measure, area, value`` (``origin`` the test period's first day, ISO;
``measure`` ``pai|pei|hit_rate``; ``area`` the strings ``"0.01"``, ``"0.05"``, ``"0.10"``;
out-of-sample values, i.e. on each origin's test period). ``backtest.html`` is
self-contained (a PNG chart as a data URI, no scripts, no web fonts), like the run report.
"""

from __future__ import annotations

import html
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from rtm_core.config import MODEL_KINDS
from rtm_core.errors import InputError
from rtm_core.models.registry import display_name
from rtm_core.results.report import CSS, _png

__all__ = [
    "COLUMNS",
    "MEASURES",
    "AREAS",
    "RTM_MODELS",
    "HOTSPOT_BASELINES",
    "collect_metrics",
    "summary_table",
    "verdict",
    "render_html",
    "write_html",
    "BacktestInfo",
    "BacktestFiles",
    "list_backtests",
    "load_backtest",
]

COLUMNS = ["origin", "model", "measure", "area", "value"]
MEASURES = ("pai", "pei", "hit_rate")
AREAS = ("0.01", "0.05", "0.10")
RTM_MODELS = MODEL_KINDS
#: the baselines a planner already has: last period's counts, their sum over the history
#: windows, and a KDE of last period's crimes
HOTSPOT_BASELINES = ("prior_counts", "prior_counts_lags", "kde")
#: readable name of a model or baseline key: the run's names (one map for runs and backtests)


def collect_metrics(metrics_by_origin: dict[str, dict]) -> pd.DataFrame:
    """The long table of out-of-sample accuracy over origins.

    Parameters
    ----------
    metrics_by_origin : dict
        Origin (ISO date) → the run's ``metrics.json`` content.

    Returns
    -------
    DataFrame
        Columns :data:`COLUMNS`, sorted by origin (oldest first), then models in the
        run's order; ``area`` as strings; ``value`` NaN where a measure is undefined.
    """
    rows = []
    for origin in sorted(metrics_by_origin):
        for model, periods in metrics_by_origin[origin].items():
            test = periods.get("test", {}) if isinstance(periods, dict) else {}
            for measure in MEASURES:
                values = test.get(measure, {})
                for area in AREAS:
                    value = values.get(area)
                    rows.append((origin, model, measure, area, np.nan if value is None else value))
    table = pd.DataFrame(rows, columns=COLUMNS)
    table["value"] = table["value"].astype(float)
    return table


def read_csv(path: str | Path) -> pd.DataFrame:
    """Read ``backtest.csv`` keeping ``origin`` and ``area`` as strings."""
    return pd.read_csv(path, dtype={"origin": str, "model": str, "measure": str, "area": str})


def summary_table(table: pd.DataFrame, measure: str = "pai") -> pd.DataFrame:
    """Mean and range (min–max) over origins per model, at 1 / 5 / 10 %.

    Parameters
    ----------
    table : DataFrame
        ``backtest.csv``.
    measure : {"pai", "pei", "hit_rate"}

    Returns
    -------
    DataFrame
        One row per model (in the table's order): ``model``, then ``mean <area>``,
        ``min <area>``, ``max <area>`` for each area, and ``origins`` (how many had a value).
    """
    part = table[table["measure"] == measure]
    order = list(dict.fromkeys(part["model"]))
    rows = []
    for model in order:
        values = part[part["model"] == model]
        row: dict = {"model": model}
        for area in AREAS:
            v = values.loc[values["area"] == area, "value"].dropna()
            row[f"mean {area}"] = v.mean() if len(v) else np.nan
            row[f"min {area}"] = v.min() if len(v) else np.nan
            row[f"max {area}"] = v.max() if len(v) else np.nan
        row["origins"] = int(values.loc[values["area"] == "0.05", "value"].notna().sum())
        rows.append(row)
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class Verdict:
    """What the backtest says about PAI at 5 % on average over origins.

    Attributes
    ----------
    best_model : str or None
        The model or baseline with the highest mean.
    best_rtm, best_baseline : str or None
        The better RTM and the best hot-spot baseline by mean.
    rtm_mean, baseline_mean : float
    sentence : str
        One sentence for people.
    """

    best_model: str | None
    best_rtm: str | None
    best_baseline: str | None
    rtm_mean: float
    baseline_mean: float
    sentence: str

    @property
    def rtm_wins(self) -> bool:
        """Whether the better RTM's mean reaches the best hot-spot baseline's mean."""
        return bool(self.best_rtm and self.best_baseline and self.rtm_mean >= self.baseline_mean)


def _best(means: pd.Series, keys) -> tuple[str | None, float]:
    present = means.reindex([k for k in keys if k in means.index]).dropna()
    if present.empty:
        return None, float("nan")
    return str(present.idxmax()), float(present.max())


def verdict(table: pd.DataFrame, area: str = "0.05") -> Verdict:
    """Compare the better RTM with the best hot-spot baseline (mean PAI over origins).

    Parameters
    ----------
    table : DataFrame
        ``backtest.csv``.
    area : str
        The read-out compared ("0.01", "0.05" or "0.10").

    Returns
    -------
    Verdict
        The best model, the better RTM, the best hot-spot baseline, their means, and the
        sentence (with what the environment adds to crime history alone, when it was run).
    """
    summary = summary_table(table, "pai")
    means = summary.set_index("model")[f"mean {area}"] if not summary.empty else pd.Series()
    best_model, _ = _best(means, list(means.index))
    best_rtm, rtm_mean = _best(means, RTM_MODELS)
    best_base, base_mean = _best(means, HOTSPOT_BASELINES)
    share = f"{float(area) * 100:g} %"
    if best_rtm is None or best_base is None:
        sentence = "The backtest has no RTM model or no hot-spot baseline to compare."
    else:
        verb = "beats" if rtm_mean > base_mean else ("matches" if rtm_mean == base_mean else "")
        a = f"{display_name(best_rtm)} (mean PAI at {share} {rtm_mean:.2f})"
        b = f"{display_name(best_base)} ({base_mean:.2f})"
        if verb:
            sentence = (
                f"On average over the origins, the {a} {verb} the best hot-spot baseline, {b}."
            )
        else:
            sentence = (
                f"On average over the origins, the {a} does not beat the best hot-spot "
                f"baseline, {b}."
            )
    history_mean = float(means.get("history_only", np.nan))
    if best_rtm is not None and np.isfinite(history_mean):
        gain = rtm_mean - history_mean
        sentence += (
            f" Against crime history alone (a Poisson GLM on the history windows, mean PAI"
            f" {history_mean:.2f}) the environment adds {gain:+.2f}."
        )
    return Verdict(best_model, best_rtm, best_base, rtm_mean, base_mean, sentence)


def pai_by_origin(table: pd.DataFrame, area: str = "0.05") -> pd.DataFrame:
    """PAI at one area per origin (rows) and model (columns), models in the table's order.

    Parameters
    ----------
    table : DataFrame
        ``backtest.csv``.
    area : str
        The read-out ("0.01", "0.05" or "0.10").

    Returns
    -------
    DataFrame
        Indexed by origin (oldest first), one column per model key.
    """
    part = table[(table["measure"] == "pai") & (table["area"] == area)]
    wide = part.pivot_table(index="origin", columns="model", values="value", aggfunc="first")
    return wide[[m for m in dict.fromkeys(part["model"]) if m in wide.columns]].sort_index()


def _chart(table: pd.DataFrame) -> str:
    wide = pai_by_origin(table)
    fig, ax = plt.subplots(figsize=(9, 4.2))
    for model in wide.columns:
        rtm = model in RTM_MODELS
        ax.plot(
            wide.index,
            wide[model],
            marker="o",
            linewidth=2.4 if rtm else 1.4,
            linestyle="-" if rtm else "--",
            label=display_name(model),
        )
    ax.set_xlabel("Origin (first day of the test period)")
    ax.set_ylabel("PAI at 5 % of the area (out of sample)")
    ax.grid(alpha=0.3)
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False, fontsize=8)
    return _png(fig)


def _summary_html(table: pd.DataFrame) -> str:
    summary = summary_table(table, "pai")
    if summary.empty:
        return "<p class='muted'>None.</p>"
    shown = pd.DataFrame({"model": summary["model"].map(display_name)})
    for area in AREAS:
        pct = f"{float(area) * 100:g} %"
        shown[f"PAI {pct}: mean"] = summary[f"mean {area}"].map(_fmt)
        shown[f"PAI {pct}: range"] = [
            f"{_fmt(lo)} – {_fmt(hi)}"
            for lo, hi in zip(summary[f"min {area}"], summary[f"max {area}"], strict=True)
        ]
    shown["origins"] = summary["origins"]
    return shown.to_html(index=False, escape=True, border=0)


def _fmt(value) -> str:
    return "" if value is None or not np.isfinite(value) else f"{value:.2f}"


def render_html(table: pd.DataFrame, manifest: dict) -> str:
    """The self-contained HTML of a backtest (chart, mean and range table, verdict).

    Parameters
    ----------
    table : DataFrame
        ``backtest.csv``.
    manifest : dict
        ``backtest.json`` (label, origins with their periods and times, engine, timings).

    Returns
    -------
    str
    """
    result = verdict(table)
    origins = manifest.get("origins", [])
    esc = html.escape
    rows = "".join(
        f"<tr><td>{esc(str(o['origin']))}</td><td>{esc(' – '.join(o['train']))}</td>"
        f"<td>{esc(' – '.join(o['test']))}</td><td>{o.get('seconds', 0):.0f} s</td></tr>"
        for o in origins
    )
    title = esc(str(manifest.get("label") or manifest.get("name") or "Backtest"))
    best = (
        f"<p>Best mean PAI at 5 %: <b>{esc(display_name(result.best_model))}</b>.</p>"
        if result.best_model
        else ""
    )
    wide = pai_by_origin(table).rename(columns=display_name).reset_index()
    wide.columns.name = None
    per_origin = wide.to_html(index=False, border=0, float_format=lambda v: f"{v:.2f}", na_rep="")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Backtest: {title}</title>
<style>{CSS}</style></head><body>
<h1>Rolling backtest: {title}</h1>
<p class="muted">{len(origins)} origins · written {time.strftime("%Y-%m-%d %H:%M")} ·
{esc(str(manifest.get("engine", "")))} · {manifest.get("timings", {}).get("total", 0):.0f} s</p>
<p><b>{esc(result.sentence)}</b></p>
{best}
<h2>PAI at 5 % of the area, by origin</h2>
<img alt="PAI at 5 % by origin" src="data:image/png;base64,{_chart(table)}">
{per_origin}
<h2>Mean and range over the origins (PAI, out of sample)</h2>
{_summary_html(table)}
<p class="muted">Hot-spot baselines: {", ".join(esc(display_name(m)) for m in HOTSPOT_BASELINES)}
(those the run computed). Each origin is a complete run folder under
<code>origins/</code>; all measures are in <code>backtest.csv</code>.</p>
<h2>Origins</h2>
<table><tr><th>origin</th><th>training period</th><th>test period</th><th>time</th></tr>
{rows}</table>
</body></html>
"""


def write_html(folder: str | Path, table: pd.DataFrame, manifest: dict) -> Path:
    """Write ``backtest.html`` into ``folder``.

    Parameters
    ----------
    folder : path
        The backtest folder.
    table : DataFrame
        ``backtest.csv``.
    manifest : dict
        ``backtest.json``.

    Returns
    -------
    Path
        The file written.
    """
    path = Path(folder) / "backtest.html"
    path.write_text(render_html(table, manifest), encoding="utf-8")
    return path


@dataclass(frozen=True)
class BacktestInfo:
    """One backtest folder as listed in the app.

    Attributes
    ----------
    path : Path
    name : str
    status : {"complete", "damaged"}
    created : float
    label : str
    origins : tuple of str
    problem : str
    manifest : dict
        ``backtest.json`` as read (empty when damaged): its ``owner`` and ``shared_with``
        decide who sees the backtest and its origin runs.
    """

    path: Path
    name: str
    status: str
    created: float
    label: str
    origins: tuple[str, ...]
    problem: str
    manifest: dict = field(default_factory=dict)


def _open(path: Path) -> tuple[BacktestInfo, dict | None]:
    """A backtest folder's listing entry and its parsed ``backtest.json`` (None if damaged)."""
    created = path.stat().st_mtime
    try:
        manifest = json.loads((path / "backtest.json").read_text(encoding="utf-8"))
        if not isinstance(manifest, dict):
            raise ValueError("not an object")
        origins = tuple(str(o["origin"]) for o in manifest.get("origins", []))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return BacktestInfo(path, path.name, "damaged", created, path.name, (), f"{exc}"), None
    problem = "" if (path / "backtest.csv").is_file() else "missing backtest.csv"
    info = BacktestInfo(
        path,
        path.name,
        "damaged" if problem else "complete",
        float(manifest.get("created", created)),
        str(manifest.get("label") or path.name),
        origins,
        problem,
        manifest,
    )
    return info, manifest


def list_backtests(parent: str | Path) -> list[BacktestInfo]:
    """Every backtest folder under ``parent``, newest first (staging folders skipped)."""
    parent = Path(parent)
    if not parent.is_dir():
        return []
    found = [_open(p)[0] for p in parent.iterdir() if p.is_dir() and not p.name.startswith(".")]
    return sorted(found, key=lambda b: b.created, reverse=True)


@dataclass(frozen=True)
class BacktestFiles:
    """A complete backtest folder: its table, manifest and origin run folders."""

    path: Path
    manifest: dict
    table: pd.DataFrame

    def origin_dir(self, origin: str) -> Path:
        """The run folder of one origin."""
        return self.path / "origins" / origin


def load_backtest(path: str | Path) -> BacktestFiles:
    """Load a complete backtest folder.

    Raises
    ------
    InputError
        The folder is not a complete backtest.
    """
    path = Path(path)
    info, manifest = _open(path) if path.is_dir() else (None, None)
    if info is None or info.status != "complete":
        problem = info.problem if info else "not a folder"
        raise InputError(
            str(path), None, f"is not a complete backtest ({problem})", "choose another or re-run"
        )
    try:
        table = read_csv(path / "backtest.csv")
    except (OSError, ValueError) as exc:
        raise InputError(
            str(path), "backtest.csv", f"unreadable ({exc})", "re-run the backtest"
        ) from None
    return BacktestFiles(path, manifest, table)
