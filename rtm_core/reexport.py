"""Lazy re-exports: a package keeps the public names of one of its modules importable from the
package itself (``from rtm_core.study import load_study``) without importing that module first.

Lazily, so that importing a sibling module (which the re-exported module itself imports) does
not run the whole re-exported module first and close an import cycle.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Collection

__all__ = ["lazy_reexport"]


def lazy_reexport(package: str, module: str, names: Collection[str]) -> Callable[[str], object]:
    """A module-level ``__getattr__`` that fetches ``names`` from ``module`` on first use.

    Parameters
    ----------
    package : str
        The package's ``__name__``, for the error of an unknown name.
    module : str
        The module whose names are re-exported (imported on the first such lookup).
    names : collection of str
        The names re-exported (usually the package's ``__all__``).

    Returns
    -------
    callable
        To assign to the package's ``__getattr__``.
    """

    def __getattr__(name: str):
        if name in names:
            return getattr(importlib.import_module(module), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return __getattr__
