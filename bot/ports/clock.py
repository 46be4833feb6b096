"""`Clock`: how the core reads the time, so tests and replays can set it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

Clock = Callable[[], datetime]  # returns an aware UTC datetime
