"""Shared hypothesis strategies for crmcore's tests."""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import strategies as st

BASE = np.datetime64("2024-01-01T00:00:00", "ns")
HOUR_NS = 3_600 * 10**9


@st.composite
def purchase_logs(
    draw: st.DrawFn, *, max_rows: int = 40, max_customers: int = 6, max_hours: int = 24 * 60
) -> dict[str, Any]:
    """A small purchase log: integer ids, hourly times within ~2 months, amounts, kinds."""
    n = draw(st.integers(min_value=1, max_value=max_rows))
    ids = draw(st.lists(st.integers(0, max_customers - 1), min_size=n, max_size=n))
    hours = draw(st.lists(st.integers(0, max_hours), min_size=n, max_size=n))
    amounts = draw(
        st.lists(
            st.floats(0, 1000, allow_nan=False, allow_infinity=False).map(lambda x: round(x, 2)),
            min_size=n,
            max_size=n,
        )
    )
    kinds = draw(
        st.lists(
            st.sampled_from(["purchase", "purchase", "purchase", "complaint"]),
            min_size=n,
            max_size=n,
        )
    )
    times = BASE + np.asarray(hours, dtype=np.int64) * np.timedelta64(HOUR_NS, "ns")
    return {
        "ids": np.asarray(ids, dtype=np.int64),
        "times": times,
        "amounts": np.asarray(amounts, dtype=np.float64),
        "kinds": np.asarray(kinds),
    }
