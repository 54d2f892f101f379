"""Time units of the fits of the continuous-time models (private).

A fit of BG/NBD, MBG/NBD or Pareto/NBD records the time unit of the data it
was fitted on (``time_unit``: ``"h"``, ``"D"``, ``"W"``, ``"M"``, ``"Y"``, or
None when unknown). Its rate-scale parameters (alpha, and beta, s of
Pareto/NBD) are in that unit, so a prediction on a summary in another unit
converts the *data* (recency, T and the horizon t) into the fit's unit before
evaluating the model: hours, days and weeks among themselves, months and
years among themselves (:func:`crmcore._periods.unit_factor`); across the two
families there is no exact ratio and an InputError names both units.
"""

from __future__ import annotations

from typing import Any

import attrs
import numpy as np

from crmcore import _validation as v
from crmcore._periods import PERIODS, unit_factor
from crmcore.errors import InputError
from crmcore.models import _inputs as inp
from crmcore.summary import CustomerSummary

__all__ = [
    "DAYS_PER_YEAR",
    "check_unit",
    "convert",
    "data_factor",
    "fit_unit",
    "in_fit_unit",
    "per_unit_rate",
    "scale_times",
    "unit_field",
]

#: Days in a year for rates per year in hours, days or weeks (the mean
#: Gregorian year rounded to the Julian 365.25); months and years are exact.
DAYS_PER_YEAR = 365.25
_UNIT_DAYS = {"h": 1.0 / 24.0, "D": 1.0, "W": 7.0}
_UNIT_MONTHS = {"M": 1.0, "Y": 12.0}


def check_unit(value: object, name: str = "time_unit") -> str | None:
    """Return ``value`` (None or one of the periods) or raise InputError/InputTypeError."""
    if value is None:
        return None
    v.check_choice(value, name, PERIODS)
    return str(value)


def _validate_field(instance: object, attribute: Any, value: object) -> None:
    check_unit(value, attribute.name)


def unit_field() -> Any:
    """Declare the ``time_unit`` field of a fit (None = unknown)."""
    return attrs.field(default=None, validator=_validate_field)


def fit_unit(frequency: object, time_unit: object) -> str | None:
    """Return the time unit a fit records: the summary's, else the ``time_unit`` argument.

    Examples
    --------
    >>> s = CustomerSummary.from_arrays([1], [2.0], [5.0], time_unit="W")
    >>> fit_unit(s, None), fit_unit([1], "D"), fit_unit([1], None)
    ('W', 'D', None)
    >>> fit_unit(s, "D")
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: time_unit must be left out or equal the summary's time unit 'W'; ...
    """
    unit = check_unit(time_unit)
    if isinstance(frequency, CustomerSummary):
        if unit is not None and unit != frequency.time_unit:
            raise InputError(
                f"time_unit must be left out or equal the summary's time unit "
                f"{frequency.time_unit!r}; got {unit!r}"
            )
        return frequency.time_unit
    return unit


def data_factor(fit_time_unit: str | None, data_time_unit: str | None) -> float:
    """Length of one time unit of the data in the fit's time unit (1 when either is unknown).

    Examples
    --------
    >>> data_factor("W", "D"), data_factor("Y", "M"), data_factor(None, "D")
    (0.14285714285714285, 0.08333333333333333, 1.0)
    >>> data_factor("W", "M")
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: the data are in time unit 'M' but the fit was made in time unit ...
    """
    if fit_time_unit is None or data_time_unit is None or fit_time_unit == data_time_unit:
        return 1.0
    try:
        return unit_factor(data_time_unit, fit_time_unit)
    except InputError:
        raise InputError(
            f"the data are in time unit {data_time_unit!r} but the fit was made in time unit "
            f"{fit_time_unit!r}; hours, days and weeks convert into each other, months and "
            "years into each other, not across (crmcore has no 30-day months): summarize the "
            f"log with time_unit={fit_time_unit!r}"
        ) from None


def scale_times(t: object, factor: float, name: str = "t") -> Any:
    """Return validated times ``t`` multiplied by ``factor`` (a float for a scalar)."""
    if factor == 1.0:
        return t
    arr, scalar = inp.times(t, name)  # type: ignore[arg-type]
    out = arr * factor
    return float(out[0]) if scalar else out


def in_fit_unit(fit_time_unit: str | None, frequency: Any) -> tuple[Any, float]:
    """Return ``frequency`` (a summary converted into the fit's unit) and the factor applied.

    Anything but a CustomerSummary is returned unchanged with factor 1 (arrays
    are taken to be in the fit's unit).
    """
    if not isinstance(frequency, CustomerSummary):
        return frequency, 1.0
    factor = data_factor(fit_time_unit, frequency.time_unit)
    if factor == 1.0:
        return frequency, 1.0
    assert fit_time_unit is not None  # factor 1 otherwise
    converted = attrs.evolve(
        frequency,
        recency=v.readonly(frequency.recency * factor),
        T=v.readonly(frequency.T * factor),
        time_since_last=v.readonly(frequency.time_since_last * factor),
        time_unit=fit_time_unit,
        # every gap scales by factor: the sum of x log-gaps moves by x log(factor)
        litt=None
        if frequency.litt is None
        else v.readonly(frequency.litt + frequency.frequency * np.log(factor)),
    )
    return converted, factor


def per_unit_rate(annual_rate: float, time_unit: str, discounting: str) -> float:
    """Convert a discount rate per year into the rate per one ``time_unit``.

    ``(1 + d_year)^(u/year) - 1`` for discrete discounting and
    ``d_year * u/year`` for continuous discounting, with u/year the length
    of one unit in years (a year is 12 months, or :data:`DAYS_PER_YEAR` days).

    Examples
    --------
    >>> round(per_unit_rate(0.1, "M", "discrete"), 6), per_unit_rate(0.12, "M", "continuous")
    (0.007974, 0.01)
    """
    if time_unit in _UNIT_MONTHS:
        years = _UNIT_MONTHS[time_unit] / 12.0
    else:
        years = _UNIT_DAYS[time_unit] / DAYS_PER_YEAR
    if discounting == "continuous":
        return annual_rate * years
    return float(np.expm1(years * np.log1p(annual_rate)))


def convert(fit_time_unit: str | None, t: object, frequency: Any) -> tuple[Any, Any]:
    """Return the horizon ``t`` and ``frequency`` (a summary) in the fit's time unit."""
    converted, factor = in_fit_unit(fit_time_unit, frequency)
    return scale_times(t, factor), converted
