"""What a backtest says: ``backtest.html``, and finding and loading backtests.

The table (``backtest.csv``) is :mod:`rtm_core.backtest.table`'s, the verdict
(``comparison.csv`` and its sentences) :mod:`rtm_core.backtest.verdict`'s; both are
re-exported here. ``backtest.html`` is self-contained (a PNG chart as a data URI, no scripts,
no web fonts), like the run report.
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

from rtm_core.backtest.table import (
    AREAS,
    COLUMNS,
    MEASURES,
    RTM_MODELS,
    collect_metrics,
    pai_by_origin,
    read_csv,
    summary_table,
)
from rtm_core.backtest.verdict import Verdict, backtest_comparison, origin_characters, verdict
from rtm_core.errors import InputError
from rtm_core.models.registry import display_name
from rtm_core.record.folder import (
    BACKTEST_MANIFEST_FILE,
    BACKTEST_REPORT_FILE,
    BACKTEST_TABLE_FILE,
    COMPARISON_FILE,
    ORIGINS_DIR,
)
from rtm_core.results.report import CSS, _png
from rtm_core.results.summary import verdict_table

__all__ = [
    "COLUMNS",
    "MEASURES",
    "AREAS",
    "RTM_MODELS",
    "backtest_comparison",
    "collect_metrics",
    "origin_characters",
    "pai_by_origin",
    "read_csv",
    "summary_table",
    "verdict",
    "render_html",
    "write_html",
    "BacktestInfo",
    "BacktestFiles",
    "list_backtests",
    "load_backtest",
]


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


def render_html(
    table: pd.DataFrame,
    manifest: dict,
    comparison: pd.DataFrame | None = None,
    characters: dict | None = None,
) -> str:
    """The self-contained HTML of a backtest (chart, mean and range table, verdict).

    Parameters
    ----------
    table : DataFrame
        ``backtest.csv``.
    manifest : dict
        ``backtest.json`` (label, origins with their periods and times, engine, timings).
    comparison : DataFrame, optional
        The backtest's ``comparison.csv`` (None: written before it).
    characters : dict, optional
        As in :func:`verdict`.

    Returns
    -------
    str
    """
    result = verdict(table, comparison, characters)
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
{_verdict_html(result)}
<h2>PAI at 5 % of the area, by origin</h2>
<img alt="PAI at 5 % by origin" src="data:image/png;base64,{_chart(table)}">
{per_origin}
<h2>Mean and range over the origins (PAI, out of sample)</h2>
{_summary_html(table)}
<p class="muted">The best baseline at each share of the area is the one with the highest mean
PAI among every baseline the backtest scored, as on the Results page. A model <b>beats</b> it
only when the 90 % interval of the mean difference (a bootstrap across the origins' test
crimes) lies above 0, is <b>below</b> it only when the interval lies under 0, and is
<b>level</b> otherwise. Each origin is a complete run folder under <code>origins/</code>; all
measures are in <code>backtest.csv</code>, the comparison in <code>comparison.csv</code>.</p>
<h2>Origins</h2>
<table><tr><th>origin</th><th>training period</th><th>test period</th><th>time</th></tr>
{rows}</table>
</body></html>
"""


def _verdict_html(result: Verdict) -> str:
    if not result.verdicts:
        return ""
    shown = verdict_table(result.verdicts).rename(
        columns={"model PAI": "model mean PAI", "baseline PAI": "baseline mean PAI"}
    )
    return shown.to_html(
        index=False, escape=True, border=0, float_format=lambda v: f"{v:.2f}", na_rep=""
    )


def write_html(
    folder: str | Path,
    table: pd.DataFrame,
    manifest: dict,
    comparison: pd.DataFrame | None = None,
    characters: dict | None = None,
) -> Path:
    """Write ``backtest.html`` into ``folder``.

    Parameters
    ----------
    folder : path
        The backtest folder.
    table : DataFrame
        ``backtest.csv``.
    manifest : dict
        ``backtest.json``.
    comparison, characters : optional
        As in :func:`render_html`.

    Returns
    -------
    Path
        The file written.
    """
    path = Path(folder) / BACKTEST_REPORT_FILE
    path.write_text(render_html(table, manifest, comparison, characters), encoding="utf-8")
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
        manifest = json.loads((path / BACKTEST_MANIFEST_FILE).read_text(encoding="utf-8"))
        if not isinstance(manifest, dict):
            raise ValueError("not an object")
        origins = tuple(str(o["origin"]) for o in manifest.get("origins", []))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return BacktestInfo(path, path.name, "damaged", created, path.name, (), f"{exc}"), None
    problem = "" if (path / BACKTEST_TABLE_FILE).is_file() else f"missing {BACKTEST_TABLE_FILE}"
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
    """A complete backtest folder: its table, manifest, comparison (None for a backtest
    written before ``comparison.csv``), the models that kept no risk factor at any origin
    (:func:`origin_characters`) and the origin run folders."""

    path: Path
    manifest: dict
    table: pd.DataFrame
    comparison: pd.DataFrame | None = None
    characters: dict | None = None

    def origin_dir(self, origin: str) -> Path:
        """The run folder of one origin."""
        return self.path / ORIGINS_DIR / origin


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
        table = read_csv(path / BACKTEST_TABLE_FILE)
    except (OSError, ValueError) as exc:
        raise InputError(
            str(path), BACKTEST_TABLE_FILE, f"unreadable ({exc})", "re-run the backtest"
        ) from None
    comparison = None
    if (path / COMPARISON_FILE).is_file():
        comparison = pd.read_csv(path / COMPARISON_FILE, dtype={"area": str})
    dirs = [path / str(o.get("folder", "")) for o in manifest.get("origins", [])]
    characters = origin_characters([d for d in dirs if d.is_dir()])
    return BacktestFiles(path, manifest, table, comparison, characters)
