"""Helpers shared by the tests that run the example scripts."""

from __future__ import annotations

import importlib
import importlib.util
import os
from pathlib import Path
from types import ModuleType

import pytest


def require(module: str, extra: str) -> ModuleType:
    """Import an optional package: skip without it, except in CI, where it must be there.

    CI installs every extra, so a missing package there is an error, never a skip.
    """
    if os.environ.get("CI"):
        return importlib.import_module(module)
    return pytest.importorskip(module, reason=f"needs the extra crmcore[{extra}]")


def load_script(path: Path, name: str) -> ModuleType:
    """Import a script that is not on sys.path (an example) as a module called ``name``."""
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
