"""Every call of the package into GDAL, one thread at a time.

GDAL is safe to call from several threads on separate files, but not together with the
Python bindings around it: pyogrio (0.13 here, with GDAL 3.12) releases the GIL around many
GDAL calls and takes it back in callbacks made from inside GDAL (its handler for GDAL's
warnings is ``with gil``), possibly while GDAL holds one of its global mutexes. A second
thread that holds the GIL and waits for that mutex then stops the whole process: every
thread, the web server's too (rasterio issue #3611 traces one such lock-order inversion with
GDAL 3.11 and later). The app runs training jobs and pages on threads of one
process, and a job writes ``units.gpkg`` on a second thread while the rest of its run folder
is written, so the package never enters GDAL from two threads at once: every read, write and
layer listing goes through this module, under :data:`GDAL_LOCK`.

A thread waiting for the lock releases the GIL, so the thread inside GDAL can always take it
back. The cost is that two GeoPackage writes (two jobs, or a job and an upload) run one after
the other; the tables and the report of a run are still written beside ``units.gpkg``.
"""

from __future__ import annotations

import threading

import geopandas as gpd
import numpy as np
import pyogrio

#: held by the thread that is inside GDAL (re-entrant: a write may list layers first)
GDAL_LOCK = threading.RLock()


def read_vector(source, **options) -> gpd.GeoDataFrame:
    """Read a vector file or file-like object with pyogrio (``geopandas.read_file``).

    Parameters
    ----------
    source : path, str or file-like
        What GDAL opens.
    **options
        Passed on to :func:`geopandas.read_file` (``layer``, ``use_arrow`` ...).

    Returns
    -------
    GeoDataFrame
    """
    with GDAL_LOCK:
        return gpd.read_file(source, engine="pyogrio", **options)


def write_vector(frame: gpd.GeoDataFrame, target, **options) -> None:
    """Write a GeoDataFrame with pyogrio (``GeoDataFrame.to_file``).

    Parameters
    ----------
    frame : GeoDataFrame
    target : path, str or file-like
        Where GDAL writes.
    **options
        Passed on to :meth:`geopandas.GeoDataFrame.to_file` (``driver``, ``layer``,
        ``use_arrow`` ...).
    """
    with GDAL_LOCK:
        frame.to_file(target, engine="pyogrio", **options)


def vector_layers(source) -> list[str]:
    """The names of the layers in a vector file (one for most formats).

    Parameters
    ----------
    source : path, str or file-like

    Returns
    -------
    list of str
    """
    with GDAL_LOCK:
        return [str(name) for name, _ in pyogrio.list_layers(source)]


def geotiff_bytes(image: np.ndarray, profile: dict, description: str) -> bytes:
    """A one-band GeoTIFF file, written in memory with rasterio.

    Parameters
    ----------
    image : ndarray
        The band, rows from the top edge down.
    profile : dict
        rasterio's creation options (``driver``, ``crs``, ``transform``, ``dtype`` ...).
    description : str
        The band's description (what its values are).

    Returns
    -------
    bytes
    """
    import rasterio  # only the GeoTIFF export needs it (about a second to import)

    with GDAL_LOCK, rasterio.MemoryFile() as memfile:
        with memfile.open(**profile) as dataset:
            dataset.write(image, 1)
            dataset.set_band_description(1, description)
        return memfile.read()
