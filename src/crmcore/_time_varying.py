"""Covariates that change over calendar periods: the long-table layout (no scipy).

:class:`TimeVaryingCovariates` is the input of the Pareto/NBD model with
time-varying covariates (:func:`crmcore.models.pareto_nbd.fit_time_varying`),
which re-exports it; it lives here so that the simulators can build it too.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs
import numpy as np

from crmcore import _validation as v
from crmcore._periods import PERIODS, period_index, period_start
from crmcore._typing import ArrayLike, DatetimeArray, FloatArray
from crmcore.errors import InputError, InputTypeError

__all__ = ["TimeVaryingCovariates"]

_RESERVED = ("customer_ids", "period_starts")


def _as_names(value: Any) -> tuple[str, ...]:
    return tuple(value)


def _show(value: Any) -> str:
    """Return the repr of an id as the user wrote it (no numpy scalar repr)."""
    return repr(value.item() if isinstance(value, np.generic) else value)


def _ids_array(value: ArrayLike, name: str) -> np.ndarray[Any, Any]:
    arr = v.as_ndarray(value, name)
    if arr.ndim != 1:
        raise InputError(f"{name} must be 1-dimensional, got shape {arr.shape}")
    if arr.dtype.kind == "f":
        bad = ~np.isfinite(arr)
        if bad.any():
            raise InputError(
                f"{name} must not hold missing ids (NaN); "
                + v.describe_violations(bad, (name, arr))
            )
    elif arr.dtype.kind == "O":
        bad = np.fromiter(
            (x is None or (isinstance(x, float) and np.isnan(x)) for x in arr),
            dtype=np.bool_,
            count=arr.size,
        )
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise InputError(
                f"{name} must not hold missing ids (None or NaN); {int(bad.sum())} of "
                f"{arr.size} rows break this (first at row {i})"
            )
    elif arr.dtype.kind not in "biuUS":
        raise InputTypeError(f"{name} must hold ids (integers or strings), got dtype {arr.dtype}")
    return arr


def _column(value: ArrayLike, label: str, n: int) -> FloatArray:
    arr = v.as_ndarray(value, label)
    if arr.ndim != 1:
        raise InputError(f"{label} must be 1-dimensional, got shape {arr.shape}")
    if arr.dtype.kind not in "biuf":
        raise InputTypeError(
            f"{label} must be numeric (bool, int or float), got dtype {arr.dtype}; encode "
            "categories as 0/1 indicator columns"
        )
    if arr.size != n:
        raise InputError(
            f"{label} must have one value per row of customer_ids ({n}), got {arr.size}"
        )
    out = np.asarray(arr, dtype=np.float64)
    bad = ~np.isfinite(out)
    if bad.any():
        raise InputError(
            f"{label} must be finite (no NaN or infinity); "
            + v.describe_violations(bad, (label, out))
            + "; fill or drop those rows"
        )
    return out


@attrs.frozen(eq=False, field_transformer=v.copy_array_fields)
class TimeVaryingCovariates:
    """Covariates that change over calendar periods, one row per (customer, period).

    Build it with :meth:`from_long` from a long table: one row per customer
    and period, the period's start and the covariates' values. Rows are kept
    sorted by customer, then period; every customer's periods are
    consecutive (no gaps). A value holds for the whole period, from its start
    (included) to the next period's start (excluded).

    Attributes
    ----------
    customer_ids : ndarray
        Customer of each row (sorted).
    period_starts : ndarray of datetime64[ns]
        Start of each row's period (UTC), on the grid of ``period``.
    values : ndarray of float, shape (rows, covariates)
        The covariates' values.
    names : tuple of str
        The covariates' names (columns of ``values``).
    period : {"h", "D", "W", "M", "Y"}
        The period grid: hours, days, ISO weeks (Monday first), calendar
        months or years.

    See Also
    --------
    crmcore.models.pareto_nbd.fit_time_varying : Fit with them.

    Examples
    --------
    >>> cov = TimeVaryingCovariates.from_long(
    ...     ["b", "a", "a"], ["2024-01-01", "2024-01-08", "2024-01-01"],
    ...     {"promo": [1, 0, 1]}, period="W")
    >>> cov.customer_ids.tolist(), cov.values[:, 0].tolist(), len(cov)
    (['a', 'a', 'b'], [1.0, 0.0, 1.0], 3)
    """

    customer_ids: np.ndarray[Any, Any]
    period_starts: DatetimeArray
    values: FloatArray
    names: tuple[str, ...] = attrs.field(converter=_as_names)
    period: str

    def __attrs_post_init__(self) -> None:
        v.check_choice(self.period, "period", PERIODS)
        ids = _ids_array(self.customer_ids, "customer_ids")
        starts = v.as_datetime_array(self.period_starts, "period_starts")
        values = v.as_float_array(self.values, "values", ndim=2, allow_empty=True)
        for name in self.names:
            if not isinstance(name, str):
                raise InputTypeError(f"names must be strings, got {name!r}")
        n = ids.shape[0]
        if starts.shape != (n,) or values.shape != (n, len(self.names)):
            raise InputError(
                "customer_ids, period_starts and values must have one row each per "
                f"(customer, period), values one column per name; got shapes {ids.shape}, "
                f"{starts.shape}, {values.shape} for {len(self.names)} names"
            )
        if n:
            idx = period_index(starts, self.period)
            off = period_start(idx, self.period) != starts
            if off.any():
                raise InputError(
                    f"period_starts must be starts of {_GRID[self.period]}; "
                    + v.describe_violations(off, ("period_starts", starts))
                )
            try:
                order_ok = bool(np.all(ids[1:] >= ids[:-1]))
            except TypeError:
                order_ok = False
            same = ids[1:] == ids[:-1]
            if not order_ok or not np.all(~same | (np.diff(idx) == 1)):
                raise InputError(
                    "customer_ids and period_starts must be sorted by customer, with consecutive "
                    "periods for each; build the covariates with TimeVaryingCovariates.from_long"
                )
        object.__setattr__(self, "customer_ids", v.readonly(np.array(ids)))
        object.__setattr__(self, "period_starts", v.readonly(np.array(starts)))
        object.__setattr__(self, "values", v.readonly(np.array(values, dtype=np.float64)))

    def __len__(self) -> int:
        return int(self.customer_ids.shape[0])

    def columns(self) -> dict[str, np.ndarray[Any, Any]]:
        """Return the long table as columns: ``customer_ids``, ``period_starts``, one per name.

        Examples
        --------
        >>> c = TimeVaryingCovariates.from_long([1], ["2024-01"], {"z": [2.0]}, period="M")
        >>> list(c.columns())
        ['customer_ids', 'period_starts', 'z']
        """
        out: dict[str, np.ndarray[Any, Any]] = {
            "customer_ids": self.customer_ids,
            "period_starts": self.period_starts,
        }
        for j, name in enumerate(self.names):
            out[name] = v.readonly(self.values[:, j].copy())
        return out

    @classmethod
    def from_long(
        cls,
        customer_ids: ArrayLike,
        period_starts: ArrayLike,
        covariates: Mapping[str, ArrayLike],
        *,
        period: str = "W",
    ) -> TimeVaryingCovariates:
        """Build the covariates from a long table (customer, period start, values).

        Parameters
        ----------
        customer_ids : array-like
            Customer of each row: the ids of the InteractionTable and
            CustomerSummary the covariates go with.
        period_starts : array-like of datetimes
            Start of each row's period: anything crmcore reads as a time
            (datetime64, datetime, date, ISO string; aware times are
            converted to UTC). Must lie on the grid of ``period``: midnight
            of a Monday for weeks, the first of the month for months, ...
        covariates : mapping str -> array-like
            Covariate name -> one numeric value per row. The names are how
            the fit refers to covariates and how it names its coefficients.
        period : {"h", "D", "W", "M", "Y"}, default "W"
            The period grid.

        Returns
        -------
        TimeVaryingCovariates
            Rows sorted by customer, then period.

        Raises
        ------
        InputError
            On rows of unequal length, an empty mapping, a missing id or
            time, a value that is not finite, a period start off the grid, two
            rows of one customer for the same period, or a gap in a customer's
            periods (each names the first offending row).
        InputTypeError
            On a non-numeric covariate column, a name that is not a str, or
            ids that are neither integers nor strings.

        Notes
        -----
        Each customer needs one row for every period from the one holding
        its first purchase to the one holding the end of observation
        (checked by the fit); predictions over a horizon need the rows of
        the periods after it too. Rows of customers the fit does not use are
        ignored.

        Examples
        --------
        >>> cov = TimeVaryingCovariates.from_long(
        ...     [1, 1], ["2024-01-01", "2024-01-08"], {"promo": [0, 1]}, period="W")
        >>> cov.period_starts.astype("datetime64[D]").tolist()
        [datetime.date(2024, 1, 1), datetime.date(2024, 1, 8)]
        >>> TimeVaryingCovariates.from_long(
        ...     [1, 1], ["2024-01-01", "2024-01-15"], {"promo": [0, 1]}, period="W")
        Traceback (most recent call last):
        ...
        crmcore.errors.InputError: period_starts must hold consecutive periods for each ...
        """
        v.check_choice(period, "period", PERIODS)
        ids = _ids_array(customer_ids, "customer_ids")
        n = ids.size
        starts = v.as_datetime_array(period_starts, "period_starts")
        if starts.size != n:
            raise InputError(
                f"period_starts must have one value per row of customer_ids ({n}), got "
                f"{starts.size}"
            )
        if not isinstance(covariates, Mapping):
            raise InputTypeError(
                "covariates must be a mapping of covariate names to columns, e.g. "
                f"{{'promo': [...]}}; got {type(covariates).__name__}"
            )
        if len(covariates) == 0:
            raise InputError("covariates must name at least one covariate; got an empty mapping")
        names: list[str] = []
        cols: list[FloatArray] = []
        for key, col in covariates.items():
            if not isinstance(key, str):
                raise InputTypeError(f"covariates must map names (str) to columns; got key {key!r}")
            if key in _RESERVED:
                raise InputError(
                    f"covariates must not use the name {key!r} (a column of the table)"
                )
            names.append(key)
            cols.append(_column(col, f"covariates[{key!r}]", n))
        idx = period_index(starts, period)
        off = period_start(idx, period) != starts
        if off.any():
            raise InputError(
                f"period_starts must be starts of {_GRID[period]} (period={period!r}); "
                + v.describe_violations(off, ("period_starts", starts))
                + "; use the start of the period each row describes"
            )
        try:
            uniq, codes = np.unique(ids, return_inverse=True)
        except TypeError:
            raise InputTypeError(
                "customer_ids must all be of one kind (all integers or all strings)"
            ) from None
        codes = codes.reshape(-1)
        order = np.lexsort((idx, codes))
        cs, ks = codes[order], idx[order]
        same = np.zeros(n, dtype=np.bool_)
        same[1:] = cs[1:] == cs[:-1]
        dup = same & (np.r_[1, np.diff(ks)] == 0)
        if dup.any():
            j = int(order[np.flatnonzero(dup)[0]])
            raise InputError(
                "customer_ids and period_starts must name each (customer, period) once; "
                f"{int(dup.sum())} rows repeat one (first at row {j}: customer "
                f"{_show(ids[j])}, period {starts[j]}); merge or drop the duplicates"
            )
        gap = same & (np.r_[1, np.diff(ks)] > 1)
        if gap.any():
            p = int(np.flatnonzero(gap)[0])
            j = int(order[p])
            missing = period_start(np.asarray([ks[p - 1] + 1]), period)[0]
            raise InputError(
                "period_starts must hold consecutive periods for each customer; "
                f"{int(gap.sum())} rows follow a gap (first at row {j}: customer {_show(ids[j])}, "
                f"period {starts[j]}, the period starting {missing} is missing); add rows for "
                "the missing periods"
            )
        values = np.stack(cols, axis=1)[order] if n else np.zeros((0, len(names)))
        return cls(
            v.readonly(np.asarray(uniq)[cs].copy()),
            v.readonly(starts[order]),
            v.readonly(np.ascontiguousarray(values)),
            tuple(names),
            period,
        )


_GRID = {
    "h": "hours",
    "D": "days (midnight UTC)",
    "W": "ISO weeks (Monday midnight UTC)",
    "M": "calendar months",
    "Y": "calendar years",
}
