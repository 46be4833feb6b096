"""Every test runs with its own per-user data directory: nothing reaches the real one.

`LTXBOT_DATA_DIR` is set for tests that build Settings without a data dir, and XDG_DATA_HOME
(where platformdirs puts the per-user directory on Linux) for subprocesses that drop every
LTXBOT_ variable, so a forgotten data dir lands in a temporary directory, never in ~/.local.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

_HOME = tempfile.TemporaryDirectory(prefix="ltxbot-tests-")


def pytest_configure(config: pytest.Config) -> None:
    home = Path(_HOME.name)
    os.environ["XDG_DATA_HOME"] = str(home / "xdg-data")
    os.environ["LTXBOT_DATA_DIR"] = str(home / "data")


def pytest_unconfigure(config: pytest.Config) -> None:
    _HOME.cleanup()
