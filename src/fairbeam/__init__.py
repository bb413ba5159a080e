"""fairbeam: the data management platform of a research facility."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("fairbeam")
except PackageNotFoundError:  # running from a source tree without an install
    __version__ = "0.0.0"
