"""Calendar periods and time units: one definition for every module.

A *period* is a calendar bucket (hour, day, ISO week, calendar month, calendar
year); a *time unit* is the unit in which durations are reported. Hours, days
and weeks convert into each other exactly, and so do months and years; crmcore
never converts between the two families (it has no 30-day months).
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

from ._typing import DatetimeArray, IntArray
from ._validation import as_ndarray, check_choice, describe_violations
from .errors import InputError, InputTypeError

Period = Literal["h", "D", "W", "M", "Y"]
#: The calendar periods crmcore understands: hour, day, ISO week (Monday
#: first), calendar month, calendar year.
PERIODS: tuple[str, ...] = ("h", "D", "W", "M", "Y")
_FIXED_HOURS = {"h": 1, "D": 24, "W": 168}
_CALENDAR_MONTHS = {"M": 1, "Y": 12}
_NS = "datetime64[ns]"
_UNIT_DTYPES = {
    "h": "datetime64[h]",
    "D": "datetime64[D]",
    "M": "datetime64[M]",
    "Y": "datetime64[Y]",
}


def period_index(times: DatetimeArray | np.datetime64, period: str) -> Any:
    """Index of the calendar period holding each time (UTC).

    Parameters
    ----------
    times : datetime64 array or scalar
        Times in UTC.
    period : {"h", "D", "W", "M", "Y"}
        Hour, day, ISO week (Monday first), calendar month or calendar year.

    Returns
    -------
    int64 array or scalar
        Periods since the one holding 1970-01-01 (negative before it).

    Raises
    ------
    InputError
        On an unknown period or a missing time (NaT).
    InputTypeError
        When ``times`` are not datetime64 values.

    Examples
    --------
    >>> import numpy as np
    >>> t = np.array(["1970-01-04", "1970-01-05", "1970-02-01"], dtype="datetime64[ns]")
    >>> period_index(t, "W").tolist(), period_index(t, "M").tolist()
    ([0, 1, 4], [0, 0, 1])
    >>> period_index(t, "month")
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: period must be one of 'h', 'D', 'W', 'M', 'Y'; got 'month'
    """
    check_choice(period, "period", PERIODS)
    arr = as_ndarray(times, "times")
    if arr.dtype.kind != "M":
        raise InputTypeError(f"times must hold numpy datetime64 values, got dtype {arr.dtype}")
    missing = np.isnat(arr)
    if missing.any():
        if arr.ndim == 0:
            raise InputError("times must be a point in time, got NaT")
        flat = arr.reshape(-1)
        raise InputError(
            "times must not hold missing times (NaT); "
            + describe_violations(missing.reshape(-1), ("times", flat))
        )
    if period == "W":
        days = arr.astype("datetime64[D]").view(np.int64)
        return (days + 3) // 7
    return arr.astype(_UNIT_DTYPES[period]).view(np.int64)  # a view: no second copy


def period_start(index: IntArray, period: str) -> DatetimeArray:
    """Start (UTC, nanoseconds) of each period index; the inverse of :func:`period_index`."""
    check_choice(period, "period", PERIODS)
    if period == "W":
        # period_index counts Monday-starting weeks; day 4 (1970-01-05) is a Monday.
        return (np.asarray(index) * 7 - 3).astype("datetime64[D]").astype(_NS)
    return np.asarray(index).astype(_UNIT_DTYPES[period]).astype(_NS)


def unit_factor(period: str, time_unit: str) -> float:
    """Length of one ``period`` expressed in ``time_unit``.

    Raises
    ------
    InputError
        When the two belong to different families (hours/days/weeks against
        months/years), which have no exact ratio.
    """
    if period in _FIXED_HOURS and time_unit in _FIXED_HOURS:
        return _FIXED_HOURS[period] / _FIXED_HOURS[time_unit]
    if period in _CALENDAR_MONTHS and time_unit in _CALENDAR_MONTHS:
        return _CALENDAR_MONTHS[period] / _CALENDAR_MONTHS[time_unit]
    raise InputError(
        f"time_unit {time_unit!r} does not divide period {period!r} exactly: hours, days and "
        "weeks mix with each other, months and years with each other (crmcore has no 30-day "
        "months); choose e.g. period='M' with time_unit='M'"
    )
