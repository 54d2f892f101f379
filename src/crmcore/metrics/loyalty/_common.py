"""Type aliases and helpers shared by the loyalty modules."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, TypeAlias

import numpy as np

from crmcore import _validation as v
from crmcore._periods import unit_factor
from crmcore.errors import InputError
from crmcore.summary import CustomerSummary, period_index

TimeUnit: TypeAlias = Literal["h", "D", "W", "M", "Y"]
#: Segment rules: segment name -> {dimension ("r", "f", "m") -> (lowest, highest) score}.
SegmentRules: TypeAlias = Mapping[str, Mapping[str, tuple[int, int]]]
ObjectArray: TypeAlias = np.ndarray[Any, np.dtype[np.object_]]
StrArray: TypeAlias = np.ndarray[Any, np.dtype[np.str_]]


#: One year in each time unit: 8760 hours, 365 days, 52 weeks, 12 months.
_YEAR = {"h": 8760.0, "D": 365.0, "W": 52.0, "M": 12.0, "Y": 1.0}


def _observation_end_shift(summary: CustomerSummary, observation_end: object) -> float:
    """Time from the end of the summary's data to ``observation_end``, in its time unit."""
    if observation_end is None:
        return 0.0
    end = (
        summary.calibration_end if summary.calibration_end is not None else summary.observation_end
    )
    if end is None or not summary.period:
        raise InputError(
            "observation_end needs a summary built by summarize() (this one has no dates, "
            "e.g. from CustomerSummary.from_arrays); leave observation_end=None to classify "
            "at the end of its data"
        )
    ts = v.as_timestamp(observation_end, "observation_end")
    gap = int(period_index(ts, summary.period)) - int(period_index(end, summary.period))
    if gap < 0:
        raise InputError(
            "observation_end must not fall in a period before the end of the summary's data "
            f"({end}); got {ts}: the summary counts purchases made after observation_end"
        )
    return gap * unit_factor(summary.period, summary.time_unit)
