"""HTML pieces of the report: the style (screen and print), tables, images, the brief's page
and the appendix about the run.

Print: the brief fills the first page (A4 or Letter, 12 mm margins: its map is at most
115 mm high), every analyst's section starts on a new page only where it would not fit,
tables repeat their header on each page and never split a row, images never split. Every text
that comes from user files or run folders is escaped here.
"""

from __future__ import annotations

import html
import time
from pathlib import Path

import numpy as np
import pandas as pd

from rtm_core.models.registry import display_name
from rtm_core.results.brief import Brief, model_heading, rank_labels

__all__ = ["CSS", "esc", "table", "image", "brief_section", "appendix_section"]

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;
max-width:1100px;color:#1d2330;line-height:1.45;padding:0 1rem}
h1{margin-bottom:.2rem}
h2{border-bottom:2px solid #e3e6ee;padding-bottom:.2rem;margin-top:2rem}
table{border-collapse:collapse;font-size:.88rem;margin:.5rem 0}
th,td{border:1px solid #d8dce6;padding:.25rem .5rem;text-align:right}
th{background:#f3f5f9}td.t,th.t{text-align:left}
.muted{color:#5b6475}.grid{display:flex;gap:1rem;flex-wrap:wrap}img{max-width:100%}
.beats{color:#1b7a3a;font-weight:600}.below{color:#b42318;font-weight:600}
.mixed{color:#8a5a00;font-weight:600}
.verdict{border-left:4px solid #d8dce6;padding:.2rem .8rem;margin:.6rem 0}
.brief .lead{font-size:1.08rem;max-width:52rem}
.kicker{margin:0;color:#b42318;font-weight:700;letter-spacing:.06em;text-transform:uppercase;
font-size:.8rem}
.brief .sure{display:inline-block;border:1px solid #d8dce6;border-radius:4px;padding:0 .4rem;
font-weight:600}
.brief figure{margin:.6rem 0}.brief figcaption{font-size:.8rem;color:#5b6475}
.brief img.map{max-height:560px}
table.facts th{text-align:left;width:14rem}table.facts td{text-align:left}
@page{margin:12mm}
@media print{
body{max-width:none;margin:0;padding:0;font-size:9.5pt;line-height:1.35}
h1{font-size:16pt;margin:0}h2{font-size:12.5pt;margin-top:1rem;break-after:avoid}
h3{font-size:10.5pt;break-after:avoid}
.brief{break-after:page}.brief .lead{font-size:10.5pt}
.brief img.map{max-height:115mm;max-width:100%;width:auto}
.brief table{font-size:8pt}
table{font-size:7.5pt;width:100%;page-break-inside:auto}
th,td{padding:1px 3px;overflow-wrap:break-word}
thead{display:table-header-group}tr,img,figure,.verdict{break-inside:avoid}
.grid{display:block}.grid>div{display:inline-block;width:49%;vertical-align:top}
.grid img{max-height:95mm}
img{max-height:180mm}
.appendix{break-before:page}
}
"""


def esc(text) -> str:
    """HTML-escaped text of any value."""
    return html.escape(str(text))


def _cell(value, digits: int) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, float | np.floating):
        return f"{value:.{digits}f}"
    return esc(value)


def table(frame: pd.DataFrame | None, digits: int = 3, *, decimals: dict | None = None) -> str:
    """A DataFrame as an escaped HTML table ("None." when empty).

    Text columns are aligned left, numbers right; ``_`` in column names reads as a space
    (long headers wrap on paper instead of widening the table).

    Parameters
    ----------
    frame : DataFrame or None
    digits : int
        Decimals of floats.
    decimals : dict, optional
        Column -> decimals where they differ (lat/lon in degrees).

    Returns
    -------
    str
    """
    if frame is None or frame.empty:
        return "<p class='muted'>None.</p>"
    places = [(decimals or {}).get(c, digits) for c in frame.columns]
    text = [
        not pd.api.types.is_numeric_dtype(frame[c]) or pd.api.types.is_bool_dtype(frame[c])
        for c in frame.columns
    ]
    klass = [" class='t'" if t else "" for t in text]
    head = "".join(
        f"<th{k}>{esc(str(c).replace('_', ' '))}</th>"
        for c, k in zip(frame.columns, klass, strict=True)
    )
    rows = "".join(
        "<tr>"
        + "".join(f"<td{k}>{_cell(v, d)}</td>" for v, k, d in zip(row, klass, places, strict=True))
        + "</tr>"
        for row in frame.itertuples(index=False, name=None)
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"


def image(png: str, alt: str, css: str = "") -> str:
    """An inline PNG (base64) as an ``<img>``.

    Parameters
    ----------
    png : str
        Base64 PNG.
    alt : str
        The image's text (escaped here).
    css : str
        Its class ("map" for the brief's map).

    Returns
    -------
    str
    """
    klass = f" class='{css}'" if css else ""
    return f"<img{klass} alt='{esc(alt)}' src='data:image/png;base64,{png}'>"


def _places_table(brief: Brief, digits: int) -> pd.DataFrame:
    places = brief.places
    return pd.DataFrame(
        {
            "#": rank_labels(places),
            "place": places["place"].replace("", "–"),
            "lat": places["lat"].map(lambda v: f"{v:.5f}"),
            "lon": places["lon"].map(lambda v: f"{v:.5f}"),
            brief.value_name: places["value"].map(lambda v: f"{v:.{digits}f}"),
            "risk factors present": places["factors present"],
        }
    )


def brief_section(brief: Brief, map_png: str, *, title: str, created: str, names: str) -> str:
    """The brief: a paragraph, the map with its legend, the top places, what else to know.

    Parameters
    ----------
    brief : Brief
    map_png : str
        The map (base64 PNG, :func:`rtm_core.results.report_maps.score_map`).
    title : str
        The run's label (escaped here).
    created : str
        When the run was made.
    names : str
        Where the area names come from ("" when the run has none).

    Returns
    -------
    str
    """
    digits = 3 if brief.value_name == "expected crimes" else 2
    source = f" Area names: {esc(names)}." if names else ""
    parts = [
        "<section class='brief'>",
        "<p class='kicker'>Risk brief</p>",
        f"<h1>Risk Terrain Model: {esc(title)}</h1>",
        f"<p class='muted'>{esc(created)} · {esc(model_heading(brief))}</p>",
        f"<p class='lead'>{esc(brief.where)} {esc(brief.drivers)} "
        f"<span class='sure'>{esc(brief.sure)}</span></p>",
        "<figure>",
        image(map_png, f"brief map {brief.model}", "map"),
        f"<figcaption>{esc(brief.title)}: {esc(brief.value_name)} per unit "
        f"({esc(display_name(brief.model))}). North is up; the numbers are the places "
        f"listed below.{source}</figcaption>",
        "</figure>",
        "<h2>Top places: where to look first</h2>",
        table(_places_table(brief, digits)),
    ]
    parts += [f"<p class='muted'>{esc(note)}</p>" for note in brief.notes]
    if brief.places.empty:
        parts.append("<p class='muted'>No places are listed for this model.</p>")
    parts.append("</section>")
    return "\n".join(parts)


def _seconds(value) -> str:
    try:
        return f"{float(value):.1f} s"
    except (TypeError, ValueError):
        return "?"


def appendix_rows(run) -> list[tuple[str, str]]:
    """The run's metadata as (item, value) rows: when, what, where, how long, which
    versions; never the raw manifest."""
    m = run.record
    try:
        created = time.strftime("%Y-%m-%d %H:%M", time.localtime(m.created))
    except (TypeError, ValueError, OverflowError, OSError):
        created = "?"
    crimes = m.crimes or {}
    config = m.config or {}
    crimes_cfg = config.get("crimes") if isinstance(config.get("crimes"), dict) else {}
    timings = m.timings or {}
    fit = timings.get("fit") if isinstance(timings.get("fit"), dict) else {}
    rows = [
        ("Run", f"{m.label or m.name} (folder {m.name or Path(run.path).name})"),
        ("Created", created),
        ("Units", f"{len(run.units) if m.n_units is None else m.n_units:,} {m.unit_kind or ''}"),
        ("Cell size", f"{m.cell_size:g} m" if m.cell_size else "–"),
        ("Working CRS", m.crs or "?"),
        (
            "Crimes",
            f"{crimes.get('train', '?')} in the training period, "
            f"{crimes.get('test', '?')} in the test period",
        ),
    ]
    for key, name in (("train", "Training period"), ("test", "Test period")):
        period = crimes_cfg.get(key) if isinstance(crimes_cfg, dict) else None
        if isinstance(period, list | tuple) and len(period) == 2:
            rows.append((name, f"{period[0]} – {period[1]}"))
    rows += [
        ("Models", ", ".join(display_name(k) for k in m.models) or "none"),
        ("Seeds (deep-learning RTM)", f"{len(m.seeds)} (random state {m.seed_root})"),
        ("Device", m.device or "?"),
        (
            "Run time",
            f"{_seconds(timings.get('total'))} (risk factors "
            f"{_seconds(timings.get('features'))}; "
            + "; ".join(f"{display_name(k)} {_seconds(v)}" for k, v in fit.items())
            + ")",
        ),
        (
            "Versions",
            ", ".join(
                f"{k} {v}"
                for k, v in (m.versions or {}).items()
                if k in ("rtm_core", "python", "numpy", "pandas", "torch")
            ),
        ),
        (
            "Inputs",
            "; ".join(
                f"{name} (sha256 {str(digest)[:12]})" for name, digest in (m.inputs or {}).items()
            )
            or "–",
        ),
    ]
    return rows


def appendix_section(run) -> str:
    """The appendix: a short table about the run (never raw JSON)."""
    rows = "".join(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in appendix_rows(run))
    return (
        "<section class='appendix'><h2>Appendix: about this run</h2>"
        f"<table class='facts'><tbody>{rows}</tbody></table></section>"
    )
