"""MyKey point terminal: the application's composition root (CLI, version)."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("mykey-terminal")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0"
