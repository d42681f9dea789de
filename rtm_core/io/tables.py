"""Tables as analysts export them: CSV (plain, ``.csv.gz``, one CSV in a ``.zip``), ``;``
CSVs with decimal commas, Excel ``.xlsx`` sheets, and dates with UTC offsets.

:func:`read_table` gives the plain table (no geometry yet) with notes on what was converted;
:func:`parse_dates` reads a date column the way the periods use it.
"""

from __future__ import annotations

import csv
import io
import re
import zlib
from pathlib import Path

import numpy as np
import pandas as pd

from rtm_core.config import LayerSource
from rtm_core.errors import InputError
from rtm_core.io.zips import MAX_ZIP_UNPACKED, csv_member, csv_member_name, megabytes

__all__ = [
    "read_table",
    "parse_dates",
    "day_first",
    "date_note",
    "offset_note",
    "table_kind",
    "TABLE_SUFFIXES",
]

TABLE_SUFFIXES = (".csv", ".txt", ".tsv")
EXCEL_SUFFIXES = (".xlsx", ".xlsm")
# first bytes of files that are often renamed to .csv by mistake
_NOT_TEXT = (
    (b"PK\x03\x04", "a zip archive (an Excel .xlsx workbook or a zipped layer?)"),
    (b"\xd0\xcf\x11\xe0", "an old Excel .xls workbook"),
    (b"SQLite format 3\x00", "a GeoPackage/SQLite database"),
    (b"%PDF", "a PDF document"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
)
# "12,5", "-87,6543", "1.234,5" (thousands dots) or a plain integer "12"
_DECIMAL_COMMA = re.compile(r"^[+-]?(?:\d{1,3}(?:\.\d{3})+|\d+)(?:,\d+)?$")
# what Python's \s matches, spelled out: pandas runs a pattern with \s in Python's re, one row
# at a time, but this class in pyarrow's RE2, over the whole column at once (10x faster)
_SPACE = "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
# a date written with numbers only, day and month in either order: "06/12/2026", "6.12.26"
_NUMERIC_DATE = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](?:\d{4}|\d{2})(?!\d)")
# a time followed by a UTC offset: "…10:00:00-06:00", "…10:00Z", "…10:00:00.5 +0100"
_TZ_SUFFIX = re.compile(
    r"^(.*\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)([" + _SPACE + r"]*(?:Z|UTC|[+-]\d{2}(?::?\d{2})?))$"
)


def _name(source: LayerSource) -> str:
    name = source.name or (source.path.name if source.path is not None else "")
    return name.lower()


def table_kind(source: LayerSource) -> str | None:
    """ "csv", "csv.gz", "zip-csv", "excel" or None (not a table file) from the file name.

    A ``.zip`` is a table only when it holds one CSV and no shapefile (checked from the zip's
    listing; nothing is decompressed).
    """
    name = _name(source)
    if name.endswith(tuple(s + ".gz" for s in TABLE_SUFFIXES)):
        return "csv.gz"
    if name.endswith(TABLE_SUFFIXES):
        return "csv"
    if name.endswith(EXCEL_SUFFIXES):
        return "excel"
    if name.endswith(".zip") and csv_member_name(source) is not None:
        return "zip-csv"
    return None


def read_table(source: LayerSource) -> tuple[pd.DataFrame, list[str]]:
    """Read a table file (CSV, ``.csv.gz``, a zip holding one CSV, or an Excel sheet).

    Parameters
    ----------
    source : LayerSource
        Path or upload bytes; ``layer`` names the Excel sheet (default: the first).

    Returns
    -------
    table : DataFrame
        Columns as in the file; decimal-comma numbers of ``;`` CSVs already converted.
    notes : list of str
        What was done on the way (e.g. "read from a gzipped CSV").

    Raises
    ------
    InputError
        Unreadable, binary or non-UTF-8/Windows-1252 file, missing sheet, duplicate columns.
    """
    label = source.label
    kind = table_kind(source) or "csv"
    raw = source.data if source.data is not None else _read_bytes(source)
    notes: list[str] = []
    if kind == "excel":
        table = _read_excel(raw, source)
        notes.append(f"read from the Excel sheet {table.attrs.pop('sheet')!r}")
    else:
        if kind == "csv.gz":
            raw = _gunzip(raw, label)
            notes.append("read from a gzipped CSV")
        elif kind == "zip-csv":
            member, raw = csv_member(source)
            notes.append(f"read {member} from the zip")
        table, converted = _read_text_table(raw, label)
        if converted:
            notes.append(
                f"semicolon-separated with decimal commas ({', '.join(converted)} converted)"
            )
    columns = [str(c) for c in table.columns]
    dupes = sorted({c for c in columns if columns.count(c) > 1} | _mangled_duplicates(columns))
    if dupes:
        raise InputError(label, dupes[0], "column name appears twice", "rename one of the columns")
    return table, notes


def parse_dates(series: pd.Series) -> pd.Series:
    """Dates and datetimes as naive local wall time; unreadable values become NaT.

    ISO datetimes with UTC offsets (``2021-03-04T10:00:00-06:00``, also mixed offsets across
    daylight saving time) keep their wall time and drop the offset, so a crime at 10:00 local
    time stays on its local date. UTC times (``2021-03-04T16:00:00Z``) keep their UTC clock
    time: nothing says which time zone the city is in, so they are not converted (the note
    of :func:`offset_note` says so). Timezone-aware datetime columns are made naive the same
    way.

    Parameters
    ----------
    series : Series
        Strings, datetimes or a datetime column.

    Returns
    -------
    Series of datetime64
    """
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        return series.dt.tz_localize(None)
    if pd.api.types.is_datetime64_any_dtype(series):
        return series
    if pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
        return pd.Series(pd.NaT, index=series.index, dtype="datetime64[ns]")
    text = series.astype("string").str.strip()
    numeric = _numeric_rows(text) if _date_order(text) == "day" else None
    sample = text.dropna().iloc[:: max(1, text.notna().sum() // 1000)]
    if not sample.str.fullmatch(_TZ_SUFFIX).any():  # the regex pass costs: skip it if we can
        try:
            when = _to_datetime(text, numeric)
        except (ValueError, TypeError):  # offsets in rows the sample missed
            when = None
        if when is not None and not isinstance(when.dtype, pd.DatetimeTZDtype):
            return when
    text = text.str.replace(_TZ_SUFFIX, r"\1", regex=True)
    return _to_datetime(text, numeric)


def _numeric_rows(text: pd.Series) -> np.ndarray:
    return text.str.match(_NUMERIC_DATE).fillna(False).to_numpy(dtype=bool)


def _date_order(text: pd.Series) -> str:
    """The order of a text column's all-number dates: "" (none in its first 1,000 values),
    "day" (a first number above 12, no second one), "month" (a second number above 12, no
    first one), "both" or "undecided" (no number above 12)."""
    if not _numeric_rows(text.dropna().head(1000)).any():  # ISO dates: no need to look on
        return ""
    fields = text.str.extract(_NUMERIC_DATE)
    big_first = bool((pd.to_numeric(fields[0], errors="coerce") > 12).any())
    big_second = bool((pd.to_numeric(fields[1], errors="coerce") > 12).any())
    if big_first:
        return "both" if big_second else "day"
    return "month" if big_second else "undecided"


def _to_datetime(text: pd.Series, day_first_rows: np.ndarray | None) -> pd.Series:
    """``pd.to_datetime`` of every row, the rows of ``day_first_rows`` read day first.

    ``dayfirst`` is given to those rows only: pandas would read an ISO ``2026-12-06`` as
    June 12 with it.
    """
    if day_first_rows is None or not day_first_rows.any():
        return pd.to_datetime(text, errors="coerce", format="mixed")
    if day_first_rows[text.notna().to_numpy()].all():
        return pd.to_datetime(text, errors="coerce", format="mixed", dayfirst=True)
    when = pd.to_datetime(text.where(~day_first_rows), errors="coerce", format="mixed")
    if isinstance(when.dtype, pd.DatetimeTZDtype):
        return when  # offsets: the caller strips them and reads again
    first = pd.to_datetime(text[day_first_rows], errors="coerce", format="mixed", dayfirst=True)
    when = when.astype(first.dtype) if when.isna().all() else when
    when[day_first_rows] = first.to_numpy()
    return when


def day_first(series: pd.Series) -> bool:
    """Whether a column's all-number dates (``13/01/2025``, ``6.12.26``) are day first.

    Read one by one, such dates would be month first where that is possible and day first
    elsewhere, so a day-first column would have every day up to 12 swapped with its month.
    The column is read as a whole instead: day first when some date's first number is above
    12 and no date's second number is; month first otherwise (said by :func:`date_note` when
    nothing in the column tells).

    Parameters
    ----------
    series : Series
        The date column as text (other types are never day first).

    Returns
    -------
    bool
    """
    if not (pd.api.types.is_string_dtype(series) or pd.api.types.is_object_dtype(series)):
        return False
    return _date_order(series.astype("string").str.strip()) == "day"


def date_note(series: pd.Series) -> str:
    """What the reading of a date column should tell the analyst ("" when nothing).

    UTC offsets (:func:`offset_note`) and the order of all-number dates: "read day first"
    when :func:`day_first` found it, and a warning when no date in the column tells the order
    (every number up to 12: read month first).

    Parameters
    ----------
    series : Series
        The date column as read.

    Returns
    -------
    str
    """
    notes = [offset_note(series)]
    if pd.api.types.is_string_dtype(series) or pd.api.types.is_object_dtype(series):
        text = series.astype("string").str.strip()
        order = _date_order(text)
        if order in ("day", "undecided"):
            example = _NUMERIC_DATE.match(text[_numeric_rows(text)].iloc[0]).group(0)
        if order == "day":
            notes.append(f"dates like {example} read day first (day/month/year)")
        elif order == "both":
            notes.append(
                "dates are written in both orders (day first and month first): each is read "
                "as it can be, so days up to 12 may be swapped with their month; write them "
                "as YYYY-MM-DD"
            )
        elif order == "undecided":
            notes.append(
                f"dates like {example} read month first (month/day/year): no date in the "
                "column has a day above 12 to tell; if they are day first, write them as "
                "YYYY-MM-DD"
            )
    return "; ".join(n for n in notes if n)


_UTC = re.compile(r"^(?:Z|UTC|[+-]00:?00)$")
#: what happens to UTC times (kept as they are, not moved to the city's clock)
UTC_KEPT = (
    "the UTC clock time is kept, not converted to local time, so a crime near midnight "
    "may count on the neighbouring day"
)


def offset_note(series: pd.Series) -> str:
    """A note when dates carry UTC offsets, saying what :func:`parse_dates` does, else "".

    A local offset (``-06:00``) is dropped and the local wall time used; a UTC time (``Z``,
    ``UTC``, ``+00:00``) keeps its UTC clock time (it is not converted: the data does not
    say the city's time zone).
    """
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        if str(series.dt.tz) in ("UTC", "UTC+00:00", "tzutc()"):
            return f"dates in UTC: {UTC_KEPT}"
        return f"dates in time zone {series.dt.tz}; their local time is used"
    if pd.api.types.is_numeric_dtype(series) or pd.api.types.is_datetime64_any_dtype(series):
        return ""
    text = series.astype("string").str.strip()
    offset = text.str.fullmatch(_TZ_SUFFIX).fillna(False).to_numpy(dtype=bool)  # vectorised
    if not offset.any():
        return ""
    suffixes = text[offset].str.extract(_TZ_SUFFIX)[1].str.strip()
    utc = suffixes.str.fullmatch(_UTC).fillna(False).to_numpy(dtype=bool)
    notes = []
    if (~utc).any():
        notes.append(
            f"{int((~utc).sum()):,} dates carry a UTC offset (e.g. {suffixes[~utc].iloc[0]}); "
            "their local time is used"
        )
    if utc.any():
        notes.append(
            f"{int(utc.sum()):,} dates are in UTC (e.g. {suffixes[utc].iloc[0]}): {UTC_KEPT}"
        )
    return "; ".join(notes)


def _read_text_table(raw: bytes, label: str) -> tuple[pd.DataFrame, list[str]]:
    for magic, kind in _NOT_TEXT:
        if raw.startswith(magic):
            raise InputError(
                label,
                "file",
                f"is {kind}, not CSV text (renamed?)",
                "export the data as CSV (UTF-8), or upload the file under its real extension",
            )
    text = _decode(raw, label)
    semicolon = _delimiter(text) == ";"
    try:
        if semicolon:
            table = pd.read_csv(io.StringIO(text), sep=";", dtype=str, keep_default_na=True)
        else:
            table = pd.read_csv(io.StringIO(text), sep=None, engine="python")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError, csv.Error) as exc:
        raise InputError(
            label, None, f"is not a readable CSV ({exc})", "save it as comma-separated UTF-8"
        ) from None
    if not semicolon:
        return table, []
    return _decimal_commas(table)


def _delimiter(text: str) -> str | None:
    sample = "\n".join(text.splitlines()[:50])
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        return None


def _decimal_commas(table: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Numbers of a ``;`` CSV: "12,5" → 12.5 (thousands dots dropped); other text kept."""
    converted = []
    out = {}
    for col in table.columns:
        text = table[col].astype("string").str.strip()
        filled = text[text.notna() & (text != "")]
        if len(filled) and filled.str.fullmatch(_DECIMAL_COMMA).all():
            plain = text.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
            out[col] = pd.to_numeric(plain.replace("", pd.NA), errors="coerce")
            if filled.str.contains(",", regex=False).any():
                converted.append(str(col))
        else:
            out[col] = table[col]
    return pd.DataFrame(out, index=table.index), converted


def _read_excel(raw: bytes, source: LayerSource) -> pd.DataFrame:
    label = source.label
    try:
        book = pd.ExcelFile(io.BytesIO(raw), engine="openpyxl")
    except Exception as exc:  # openpyxl raises zipfile/KeyError/InvalidFileException
        raise InputError(
            label,
            "file",
            f"is not a readable Excel workbook ({type(exc).__name__})",
            "save it again as .xlsx, or export the sheet as CSV",
        ) from None
    with book:
        sheets = [str(s) for s in book.sheet_names]
        sheet = source.layer if source.layer is not None else sheets[0]
        if sheet not in sheets:
            raise InputError(
                label,
                "layer",
                f"no sheet named {sheet!r} (sheets: {', '.join(sheets)})",
                "pick one of those sheets",
            )
        table = pd.read_excel(book, sheet_name=sheet)
    table.columns = [str(c) for c in table.columns]
    table.attrs["sheet"] = sheet
    return table


def _gunzip(raw: bytes, label: str) -> bytes:
    """Decompress, refusing bombs (more than the zip limit unpacked)."""
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(raw, MAX_ZIP_UNPACKED + 1)
    except zlib.error:
        raise InputError(
            label, "file", "is not a valid gzip file", "re-create it with gzip, or unzip it"
        ) from None
    if len(out) > MAX_ZIP_UNPACKED:
        raise InputError(
            label,
            "file",
            f"unpacks to over {megabytes(MAX_ZIP_UNPACKED)} MB",
            "filter the table first, or split it",
        )
    return out


def _mangled_duplicates(columns: list) -> set[str]:
    """pandas renames a repeated header 'a' to 'a.1': report those as duplicates."""
    names = set(map(str, columns))
    out = set()
    for col in names:
        base, dot, tail = col.rpartition(".")
        if dot and tail.isdigit() and base in names:
            out.add(base)
    return out


def _decode(raw: bytes, label: str) -> str:
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):  # Excel's "Unicode text" is UTF-16
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError:
            pass
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" not in text:  # NUL bytes: binary data that happens to decode
            return text
        break
    raise InputError(label, None, "is not UTF-8 or Windows-1252 text", "save the CSV as UTF-8")


def _read_bytes(source: LayerSource) -> bytes:
    try:
        return Path(source.path).read_bytes()
    except FileNotFoundError:
        raise InputError(source.label, "file", "file not found", "check the path") from None
    except OSError as exc:
        raise InputError(
            source.label, "file", f"cannot be read ({exc.strerror})", "check permissions"
        ) from None
