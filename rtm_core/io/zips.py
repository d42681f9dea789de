"""Zips: refuse traversal, bombs, missing .shx and several layers; find a zipped CSV."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from rtm_core.config import LayerSource
from rtm_core.errors import InputError

MAX_ZIP_MEMBERS = 200  # files in one zip
MAX_ZIP_UNPACKED = 2_000_000_000  # bytes a zip may unpack to (declared sizes)
MB = 1024 * 1024


def _members(source: LayerSource) -> tuple[list[zipfile.ZipInfo], int]:
    """The zip's members less macOS resource files, after the traversal and bomb checks."""
    try:
        handle = zipfile.ZipFile(
            io.BytesIO(source.data) if source.data is not None else source.path
        )
    except zipfile.BadZipFile:
        raise InputError(
            source.label, None, "is not a valid zip file", "re-create the zip"
        ) from None
    with handle:
        infos = handle.infolist()
    if len(infos) > MAX_ZIP_MEMBERS:
        raise InputError(
            source.label,
            None,
            f"holds {len(infos):,} files (limit {MAX_ZIP_MEMBERS})",
            "zip only the layer's files (.shp, .shx, .dbf, .prj)",
        )
    unpacked = sum(i.file_size for i in infos)
    if unpacked > MAX_ZIP_UNPACKED:
        raise InputError(
            source.label,
            None,
            f"unpacks to {megabytes(unpacked)} MB (limit {megabytes(MAX_ZIP_UNPACKED)} MB)",
            "zip only the layer's files, or filter the layer first",
        )
    for info in infos:
        name = info.filename
        posix = name.replace("\\", "/")
        if posix.startswith("/") or ".." in posix.split("/") or ":" in name:
            raise InputError(
                source.label,
                None,
                f"member {name!r} escapes the folder",
                "re-create the zip with plain names",
            )
    # macOS "Compress" adds __MACOSX/ and ._name resource files: not layers
    n_members = len(infos)
    infos = [
        i
        for i in infos
        if "__MACOSX" not in Path(i.filename).parts and not Path(i.filename).name.startswith("._")
    ]
    return infos, n_members


def csv_member_name(source: LayerSource) -> str | None:
    """The member name of the one CSV of a zip that holds a CSV and no GIS layer, else None.

    Reads only the zip's listing (nothing is decompressed), so it is cheap enough to tell a
    zipped table from a zipped shapefile.

    Raises
    ------
    InputError
        Several CSVs and no layer named to choose one.
    """
    try:
        infos, _ = _members(source)
    except (InputError, OSError):
        return None
    suffixes = {Path(i.filename).suffix.lower() for i in infos}
    if suffixes & {".shp", ".gpkg", ".geojson", ".json"}:
        return None
    tables = [i for i in infos if Path(i.filename).suffix.lower() in {".csv", ".tsv"}]
    if not tables:
        return None
    if source.layer is not None:
        tables = [i for i in tables if Path(i.filename).name == source.layer] or tables
    if len(tables) > 1:
        names = ", ".join(Path(i.filename).name for i in tables)
        raise InputError(
            source.label, "layer", f"holds several CSV files ({names})", "zip one CSV per layer"
        )
    return tables[0].filename


def csv_member(source: LayerSource) -> tuple[str, bytes] | None:
    """The one CSV of a zip that holds a CSV and no GIS layer: (file name, bytes); else None.

    The only place a zipped CSV is decompressed (see :func:`csv_member_name`).

    Raises
    ------
    InputError
        Unsafe zip (see :func:`check_zip`), or several CSVs and no layer named to choose one.
    """
    member = csv_member_name(source)
    if member is None:
        return None
    with zipfile.ZipFile(
        io.BytesIO(source.data) if source.data is not None else source.path
    ) as handle:
        return Path(member).name, handle.read(member)


def check_zip(source: LayerSource) -> bytes | None:
    """Refuse zips whose names escape the folder, bombs, and zips with no/two shapefiles.

    Returns the zip re-packed with its shapefile at the root when the shapefile sits in a
    folder inside the zip ("compress folder"), which GDAL does not look into; else None.
    """
    infos, n_members = _members(source)
    stems = {}
    for info in infos:
        path = Path(info.filename)
        stems.setdefault(path.with_suffix("").as_posix(), set()).add(path.suffix.lower())
    shapes = {s: exts for s, exts in stems.items() if ".shp" in exts}
    others = [i for i in infos if Path(i.filename).suffix.lower() in {".gpkg", ".geojson", ".json"}]
    if not shapes and not others:
        raise InputError(
            source.label, None, "holds no shapefile (.shp)", "zip the .shp, .shx, .dbf and .prj"
        )
    if len(shapes) > 1 and source.layer is None:
        names = ", ".join(Path(s).name for s in sorted(shapes))
        raise InputError(
            source.label, "layer", f"holds several layers ({names})", "choose one layer"
        )
    for stem, exts in shapes.items():
        if ".shx" not in exts:
            raise InputError(
                source.label,
                None,
                f"{Path(stem).name}.shx is missing from the zip",
                "add the .shx file",
            )
    folders = {Path(stem).parent.as_posix() for stem in shapes}
    if len(folders) != 1 or others or (folders == {"."} and len(infos) == n_members):
        return None
    folder = folders.pop()
    prefix = "" if folder == "." else folder + "/"
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(source.data) if source.data is not None else source.path) as zin,
        zipfile.ZipFile(out, "w") as zout,
    ):
        for info in infos:
            if info.filename.startswith(prefix) and not info.is_dir():
                zout.writestr(info.filename[len(prefix) :], zin.read(info))
    return out.getvalue()


def megabytes(size: int) -> str:
    """Bytes as megabytes for messages: "3,338", "1.5", "0.01"."""
    value = size / MB
    return f"{value:,.0f}" if value >= 100 else f"{value:.3g}"
