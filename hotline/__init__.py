"""The application shell: composition root, HTTP app, CLI, pages."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("hotline")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"
