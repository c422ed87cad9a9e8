"""Load OpenCV lazily, with the Windows camera setting in place before the first import."""

from __future__ import annotations

import importlib
import os
import sys
from types import ModuleType

#: Without this, Media Foundation can take 5-20 s to open a webcam on Windows.
MSMF_HW_TRANSFORMS = "OPENCV_VIDEOIO_MSMF_ENABLE_HW_TRANSFORMS"


def prepare_environment() -> None:
    """Set OpenCV's environment switches; must run before ``cv2`` is first imported."""
    if sys.platform == "win32":
        os.environ.setdefault(MSMF_HW_TRANSFORMS, "0")


def load_cv2() -> ModuleType:
    """Import and return ``cv2`` (raises ImportError when OpenCV is not installed)."""
    prepare_environment()
    return importlib.import_module("cv2")
