"""Timing helper shared by the benchmark scripts (run as scripts, so imported by file name)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def best_of(call: Callable[[], Any], repeat: int) -> tuple[Any, float]:
    """Call ``call`` ``repeat`` times; return its last result and the best wall time in seconds.

    The best of a few calls is the figure least disturbed by other work on a shared machine.
    """
    best = float("inf")
    out = None
    for _ in range(repeat):
        start = time.perf_counter()
        out = call()
        best = min(best, time.perf_counter() - start)
    return out, best
