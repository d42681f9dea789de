"""rtm_core: Risk Terrain Modeling — risk factors, deep-learning and classical RTM, evaluation."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("rtm-core")
except PackageNotFoundError:  # running from a source tree without install
    __version__ = "0.1.0"

__all__ = ["__version__"]
