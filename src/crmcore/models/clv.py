"""Customer lifetime value from a purchase model and a spend model, and model checks.

:func:`customer_lifetime_value` combines a fitted purchase model (BG/NBD,
MBG/NBD, Pareto/NBD, ... : anything with ``conditional_expected_purchases``)
and a fitted Gamma-Gamma spend model into the discounted expected margin of
each customer over a horizon. :func:`holdout_comparison`, :func:`tracking`
and :func:`frequency_histogram` give the numbers behind the usual diagnostic
plots of a purchase model (as in Fader, Hardie & Lee 2005).

Examples
--------
>>> import numpy as np
>>> from crmcore import CustomerSummary
>>> from crmcore.models import bgnbd, gamma_gamma, clv
>>> purchases = bgnbd.BgNbdFit(
...     params=bgnbd.BgNbdParams(r=0.243, alpha=4.414, a=0.793, b=2.426),
...     standard_errors=bgnbd.BgNbdParams(r=0.013, alpha=0.378, a=0.186, b=0.705),
...     covariance=np.eye(4), log_likelihood=-9582.4, n_customers=2357.0,
...     converged=True, n_iterations=20)
>>> spend = gamma_gamma.GammaGammaFit(
...     params=gamma_gamma.GammaGammaParams(p=6.25, q=3.74, v=15.44),
...     standard_errors=gamma_gamma.GammaGammaParams(p=1.19, q=0.29, v=4.16),
...     covariance=np.eye(3), log_likelihood=-4055.9, n_customers=946.0,
...     converged=True, n_iterations=15)
>>> s = CustomerSummary.from_arrays([2, 0], [30.43, 0.0], [38.86, 38.86],
...                                 monetary_value=[22.35, 0.0], time_unit="W")
>>> v = clv.customer_lifetime_value(purchases, spend, s, horizon=52, step=4,
...                                 discount_rate=0.002)
>>> v.clv.round(2).tolist()
[36.5, 8.42]
"""

from __future__ import annotations

import itertools
import math
from typing import Any, Literal, NamedTuple, Protocol, runtime_checkable

import attrs
import numpy as np
from scipy import stats

from crmcore import _validation as v
from crmcore._periods import period_start, unit_factor
from crmcore._typing import ArrayLike, BoolArray, DatetimeArray, FloatArray, IntArray
from crmcore._validation import readonly as _ro
from crmcore.errors import InputError, InputTypeError
from crmcore.models import _covariates as _cov
from crmcore.models import _units
from crmcore.models._covariates import (
    BgNbdCovariateFit,
    Covariates,
    MbgNbdCovariateFit,
    ParetoNbdCovariateFit,
)
from crmcore.models._inputs import check_time
from crmcore.models._predict import CustomerPrediction, predict
from crmcore.summary import PERIODS, CustomerSummary, period_index
from crmcore.table import PURCHASE_CODE, InteractionTable

__all__ = [
    "MAX_FREQUENCY",
    "MAX_STEPS",
    "CumulativePurchaseFit",
    "CustomerLifetimeValue",
    "CustomerPrediction",
    "FrequencyHistogram",
    "HoldoutAccuracy",
    "HoldoutComparison",
    "PurchaseFit",
    "ResidualLifetimeValue",
    "ResidualPurchaseFit",
    "SpendFit",
    "Tracking",
    "customer_lifetime_value",
    "frequency_histogram",
    "holdout_accuracy",
    "holdout_comparison",
    "new_customer_value",
    "predict",
    "residual_lifetime_value",
    "tracking",
]

Discounting = Literal["discrete", "continuous"]


@runtime_checkable
class PurchaseFit(Protocol):
    """What the functions here need from a fitted purchase model in continuous time.

    :class:`~crmcore.models.bgnbd.BgNbdFit`,
    :class:`~crmcore.models.mbgnbd.MbgNbdFit` and
    :class:`~crmcore.models.pareto_nbd.ParetoNbdFit` have it; a model of
    discrete purchase opportunities (BG/BB) does not.
    """

    @property
    def params(self) -> Any:
        """The model's parameters (an attrs class)."""

    def conditional_expected_purchases(
        self,
        t: float,
        frequency: ArrayLike | CustomerSummary,
        recency: ArrayLike | None = None,
        T: ArrayLike | None = None,
    ) -> FloatArray:
        """Return the expected purchases in (T, T + t]."""

    def conditional_expected_purchases_at(
        self,
        t: ArrayLike,
        frequency: ArrayLike | CustomerSummary,
        recency: ArrayLike | None = None,
        T: ArrayLike | None = None,
    ) -> FloatArray:
        """Return the matrix (customers, len(t)) of expected purchases in (T, T + t_k]."""

    def expected_purchases(self, t: ArrayLike) -> Any:
        """Return the expected repeat purchases of a new customer in (0, t]."""

    def purchase_probability(self, n: ArrayLike, t: ArrayLike) -> Any:
        """P(X(t) = n)."""


@runtime_checkable
class CumulativePurchaseFit(Protocol):
    """What :func:`customer_lifetime_value` needs from a fitted purchase model."""

    def conditional_expected_purchases_at(
        self,
        t: ArrayLike,
        frequency: ArrayLike | CustomerSummary,
        recency: ArrayLike | None = None,
        T: ArrayLike | None = None,
    ) -> FloatArray:
        """Return the matrix (customers, len(t)) of expected purchases in (T, T + t_k]."""


@runtime_checkable
class SpendFit(Protocol):
    """What :func:`customer_lifetime_value` needs from a fitted spend model."""

    def conditional_expected_spend(
        self, frequency: ArrayLike | CustomerSummary, monetary_value: ArrayLike | None = None
    ) -> FloatArray:
        """Return the expected spend per transaction."""


#: Largest ``max_frequency`` of :func:`holdout_comparison` and
#: :func:`frequency_histogram` (one group per frequency up to it).
MAX_FREQUENCY = 1_000

#: Most steps :func:`customer_lifetime_value` accepts (``horizon / step``); the
#: forecast is a (customers x steps) matrix.
MAX_STEPS = 10_000


def _check_fit(fit: object, name: str, protocol: type, needs: str) -> None:
    if not isinstance(fit, protocol):
        raise InputTypeError(
            f"{name} must be a fitted model with {needs}, got {type(fit).__name__}"
        )


# --------------------------------------------------------------------------- results


@attrs.frozen(kw_only=True, eq=False)
class CustomerLifetimeValue:
    """Expected discounted margin of each customer over a horizon.

    Attributes
    ----------
    customer_ids : ndarray
        As in the summary.
    clv : ndarray
        margin x expected spend x discounted expected purchases; 0 for rows
        of the summary without purchase (the models describe buyers).
    expected_purchases : ndarray
        Undiscounted expected purchases over the horizon.
    expected_spend : ndarray
        Expected spend per transaction (0 for rows without purchase).
    step_ends : ndarray
        End of each step, in ``time_unit`` after the end of observation.
    discount_factors : ndarray
        Factor applied to the purchases of each step.
    horizon, step, discount_rate : float
        As passed, in ``time_unit`` (the rate per one time unit).
    discounting : {"discrete", "continuous"}
    margin : float
    time_unit : str
        The summary's time unit.
    """

    customer_ids: np.ndarray[Any, Any]
    clv: FloatArray
    expected_purchases: FloatArray
    expected_spend: FloatArray
    step_ends: FloatArray
    discount_factors: FloatArray
    horizon: float
    step: float
    discount_rate: float
    discounting: str
    margin: float
    time_unit: str

    def columns(self) -> dict[str, np.ndarray[Any, Any]]:
        """Return the per-customer arrays by name, customer ids first, ready for a data frame.

        The same contract as :meth:`crmcore.CustomerSummary.columns`:
        equal-length 1-d read-only arrays, one row per customer of the
        summary (``pandas.DataFrame(value.columns())``). The per-step arrays
        come out through :meth:`step_columns`; the scalars stay attributes.

        Returns
        -------
        dict of str to ndarray
            ``customer_ids``, ``clv``, ``expected_purchases`` and
            ``expected_spend``.

        Examples
        --------
        >>> import numpy as np
        >>> from crmcore import CustomerSummary
        >>> from crmcore.models import bgnbd, gamma_gamma
        >>> P = bgnbd.BgNbdParams(r=0.243, alpha=4.414, a=0.793, b=2.426)
        >>> G = gamma_gamma.GammaGammaParams(p=6.25, q=3.74, v=15.44)
        >>> purchases = bgnbd.BgNbdFit(params=P, standard_errors=P, covariance=np.eye(4),
        ...     log_likelihood=0.0, n_customers=2.0, converged=True, n_iterations=1)
        >>> spend = gamma_gamma.GammaGammaFit(params=G, standard_errors=G, covariance=np.eye(3),
        ...     log_likelihood=0.0, n_customers=2.0, converged=True, n_iterations=1)
        >>> s = CustomerSummary.from_arrays([2, 0], [30.43, 0.0], [38.86, 38.86],
        ...     monetary_value=[22.35, 0.0], customer_ids=["ann", "bob"], time_unit="W")
        >>> value = customer_lifetime_value(purchases, spend, s, horizon=52, step=4,
        ...                                 discount_rate=0.002)
        >>> cols = value.columns()
        >>> list(cols)
        ['customer_ids', 'clv', 'expected_purchases', 'expected_spend']
        >>> cols["customer_ids"].tolist(), cols["clv"].round(2).tolist()
        (['ann', 'bob'], [36.5, 8.42])
        """
        return v.result_columns(self, "customer_ids", "clv", "expected_purchases", "expected_spend")

    def step_columns(self) -> dict[str, np.ndarray[Any, Any]]:
        """Return the per-step arrays by name, one row per step of the horizon.

        Returns
        -------
        dict of str to ndarray
            ``step_ends`` (in ``time_unit`` after the end of observation) and
            ``discount_factors``.

        Examples
        --------
        >>> import numpy as np
        >>> from crmcore import CustomerSummary
        >>> from crmcore.models import bgnbd, gamma_gamma
        >>> P = bgnbd.BgNbdParams(r=0.243, alpha=4.414, a=0.793, b=2.426)
        >>> G = gamma_gamma.GammaGammaParams(p=6.25, q=3.74, v=15.44)
        >>> purchases = bgnbd.BgNbdFit(params=P, standard_errors=P, covariance=np.eye(4),
        ...     log_likelihood=0.0, n_customers=1.0, converged=True, n_iterations=1)
        >>> spend = gamma_gamma.GammaGammaFit(params=G, standard_errors=G, covariance=np.eye(3),
        ...     log_likelihood=0.0, n_customers=1.0, converged=True, n_iterations=1)
        >>> s = CustomerSummary.from_arrays([2], [30.0], [38.0], monetary_value=[22.0])
        >>> value = customer_lifetime_value(purchases, spend, s, horizon=10, step=4,
        ...                                 discount_rate=0.1, discounting="continuous")
        >>> steps = value.step_columns()
        >>> steps["step_ends"].tolist(), steps["discount_factors"].round(4).tolist()
        ([4.0, 8.0, 10.0], [0.6703, 0.4493, 0.3679])
        """
        return v.result_columns(self, "step_ends", "discount_factors")


@attrs.frozen(kw_only=True, eq=False)
class HoldoutComparison:
    """Actual vs expected holdout purchases by calibration frequency.

    Attributes
    ----------
    frequency : ndarray of int
        Calibration frequency of each group: 0, 1, ..., ``max_frequency``,
        the last group holding every customer with at least that many.
    n_customers : ndarray of int
        Customers per group.
    actual : ndarray
        Mean holdout purchases per customer of each group.
    expected : ndarray
        Mean conditional expectation of each group.
    actual_total, expected_total : float
        Holdout purchases of all customers.
    duration_holdout : float
        Length of the holdout period (in the summary's time unit).
    """

    frequency: IntArray
    n_customers: IntArray
    actual: FloatArray
    expected: FloatArray
    actual_total: float
    expected_total: float
    duration_holdout: float


@attrs.frozen(kw_only=True, eq=False)
class Tracking:
    """Repeat purchases per period in calendar time, actual vs expected.

    Attributes
    ----------
    period_start : ndarray of datetime64[ns]
        Start of each reporting period (one ``time_unit`` long).
    actual_incremental, expected_incremental : ndarray
        Repeat purchase occasions in each period.
    actual_cumulative, expected_cumulative : ndarray
        Running totals.
    n_customers : int
        Customers with a first purchase by the end of observation.
    time_unit, period : str
    """

    period_start: DatetimeArray
    actual_incremental: FloatArray
    expected_incremental: FloatArray
    actual_cumulative: FloatArray
    expected_cumulative: FloatArray
    n_customers: int
    time_unit: str
    period: str


@attrs.frozen(kw_only=True, eq=False)
class FrequencyHistogram:
    """Customers by number of repeat purchases, actual vs expected, with a chi-square test.

    Attributes
    ----------
    frequency : ndarray of int
        0, 1, ..., ``max_frequency`` (the last bin holds that many or more).
    actual, expected : ndarray
        Customers per bin.
    chi_square : float
        sum((actual - expected)^2 / expected).
    degrees_of_freedom : int
        Bins - 1 - the model's number of parameters.
    p_value : float
        Upper tail probability of the chi-square distribution; 1.0 when no
        degree of freedom is left.
    """

    frequency: IntArray
    actual: FloatArray
    expected: FloatArray
    chi_square: float
    degrees_of_freedom: int
    p_value: float


# --------------------------------------------------------------------------- CLV


def customer_lifetime_value(
    purchase_fit: CumulativePurchaseFit,
    spend_fit: SpendFit,
    summary: CustomerSummary,
    *,
    horizon: float,
    step: float,
    discount_rate: float | None = None,
    margin: float = 1.0,
    discounting: Discounting = "discrete",
    annual_discount_rate: float | None = None,
) -> CustomerLifetimeValue:
    """Return each customer's expected discounted margin over a horizon.

    Parameters
    ----------
    purchase_fit : BgNbdFit, MbgNbdFit, ParetoNbdFit or another fitted purchase model
        Anything with ``conditional_expected_purchases_at(t, frequency,
        recency, T)`` (see :class:`CumulativePurchaseFit`).
    spend_fit : GammaGammaFit or another fitted spend model
        Anything with ``conditional_expected_spend(frequency, monetary_value)``.
    summary : CustomerSummary
        The customers' histories. When the purchase fit records a time unit
        (``fit.time_unit``) and the summary is in another one, recency, T and
        the step ends are converted into the fit's unit (hours, days and
        weeks among themselves, months and years among themselves; other
        pairs raise InputError naming both units). A fit of unknown unit
        (``time_unit=None``) is taken to be in the summary's unit.
    horizon : float
        Length of the forecast (> 0), in the summary's time unit.
    step : float
        Length of one step (0 < step <= horizon); the last step is shorter
        when ``horizon`` is not a multiple of ``step``.
    discount_rate : float, optional
        Discount rate per one time unit of the summary (>= 0), e.g. 0.002 per
        week. Give exactly one of ``discount_rate`` and ``annual_discount_rate``.
    margin : float
        Share of spend that is margin, in [0, 1] (default 1: value = spend).
    discounting : {"discrete", "continuous"}
        Factor at the end ``t_k`` of step k: ``(1 + discount_rate)^(-t_k)``
        (the same as ``(1 + d)^(-k)`` with the rate ``d`` per step) or
        ``exp(-discount_rate * t_k)``.
    annual_discount_rate : float, optional
        Discount rate per year (>= 0), converted to the summary's time unit
        u as ``(1 + d_year)^(u/year) - 1`` for discrete discounting and
        ``d_year * u/year`` for continuous discounting (the same factors at
        every time), with a year of 12 months or 365.25 days. The result's
        ``discount_rate`` holds the converted rate.

    Returns
    -------
    CustomerLifetimeValue

    Raises
    ------
    InputError
        On a non-positive horizon or step, a step longer than the horizon,
        more than :data:`MAX_STEPS` (10,000) steps, a negative rate, both or
        neither of ``discount_rate`` and ``annual_discount_rate``, a margin
        outside [0, 1], or a summary in a time unit that does not convert
        into the purchase fit's.
    InputTypeError
        When ``purchase_fit`` or ``spend_fit`` is not a fitted model of the
        kind described above (e.g. None, parameters instead of a fit, or a
        BG/BB fit), or ``summary`` is not a CustomerSummary.

    Notes
    -----
    ``CLV_i = margin * E[spend_i] * sum_k [E_i(t_k) - E_i(t_(k-1))] * factor_k``
    with ``E_i(t)`` the expected purchases of customer i in (T, T + t]. As
    usual in this literature (Fader, Hardie & Lee 2005, "RFM and CLV"), spend
    is taken as independent of the purchase process, and purchases of a step
    are discounted at the step's end.

    References
    ----------
    Fader, P. S., Hardie, B. G. S., & Lee, K. L. (2005). RFM and CLV: Using
    iso-value curves for customer base analysis. Journal of Marketing
    Research, 42(4), 415-430.

    Examples
    --------
    See the module docstring; parameters where a fit is expected:

    >>> from crmcore.models import bgnbd
    >>> p = bgnbd.BgNbdParams(r=0.243, alpha=4.414, a=0.793, b=2.426)
    >>> customer_lifetime_value(p, None, None, horizon=52, step=4, discount_rate=0.01)
    Traceback (most recent call last):
    ...
    crmcore.errors.InputTypeError: purchase_fit must be a fitted model with ...
    """
    _check_fit(
        purchase_fit, "purchase_fit", CumulativePurchaseFit, "conditional_expected_purchases_at"
    )
    _check_fit(spend_fit, "spend_fit", SpendFit, "conditional_expected_spend")
    h = v.check_float(horizon, "horizon", low=0.0, low_open=True)
    st = v.check_float(step, "step", low=0.0, low_open=True)
    if st > h:
        raise InputError(f"step must not exceed horizon; got step={st}, horizon={h}")
    if h / st > MAX_STEPS * (1 + 1e-9):
        raise InputError(
            f"horizon / step must be at most {MAX_STEPS} (MAX_STEPS); got horizon={h}, "
            f"step={st}, {h / st:.6g} steps; choose a longer step"
        )
    if (discount_rate is None) == (annual_discount_rate is None):
        raise InputError(
            "give exactly one of discount_rate (per time unit of the summary) and "
            f"annual_discount_rate (per year); got discount_rate={discount_rate!r}, "
            f"annual_discount_rate={annual_discount_rate!r}"
        )
    m = v.check_float(margin, "margin", low=0.0, high=1.0)
    v.check_choice(discounting, "discounting", ("discrete", "continuous"))
    if not isinstance(summary, CustomerSummary):
        raise InputTypeError(f"summary must be a CustomerSummary, got {type(summary).__name__}")
    if annual_discount_rate is not None:
        yearly = v.check_float(annual_discount_rate, "annual_discount_rate", low=0.0)
        rate = _units.per_unit_rate(yearly, summary.time_unit, discounting)
    else:
        rate = v.check_float(discount_rate, "discount_rate", low=0.0)
    factor = _units.data_factor(getattr(purchase_fit, "time_unit", None), summary.time_unit)
    n_steps = max(1, math.ceil(h / st - 1e-9))
    ends = np.minimum(np.arange(1, n_steps + 1) * st, h)
    log_factor = np.log1p(rate) if discounting == "discrete" else rate
    factors = np.exp(-ends * log_factor)
    buyers = np.asarray(summary.has_purchase)
    x = summary.frequency[buyers].astype(np.float64)
    tx = np.asarray(summary.recency[buyers], dtype=np.float64) * factor
    big_t = np.asarray(summary.T[buyers], dtype=np.float64) * factor
    cumulative = np.asarray(
        purchase_fit.conditional_expected_purchases_at(ends * factor, x, tx, big_t),
        dtype=np.float64,
    )
    increments = cumulative.copy()  # per-step purchases; np.diff(prepend=0) without its copies
    increments[:, 1:] -= cumulative[:, :-1]
    spend = np.asarray(
        spend_fit.conditional_expected_spend(x, summary.monetary_value[buyers]), dtype=np.float64
    )
    n = len(summary)
    value = np.zeros(n)
    total = np.zeros(n)
    spend_all = np.zeros(n)
    value[buyers] = m * spend * (increments @ factors)
    total[buyers] = cumulative[:, -1]
    spend_all[buyers] = spend
    return CustomerLifetimeValue(
        customer_ids=summary.customer_ids,
        clv=_ro(value),
        expected_purchases=_ro(total),
        expected_spend=_ro(spend_all),
        step_ends=_ro(ends),
        discount_factors=_ro(factors),
        horizon=h,
        step=st,
        discount_rate=rate,
        discounting=discounting,
        margin=m,
        time_unit=summary.time_unit,
    )


# --------------------------------------------------------------------------- model checks


def holdout_comparison(
    fit: PurchaseFit,
    calibration: CustomerSummary,
    frequency_holdout: ArrayLike | None = None,
    *,
    duration_holdout: float | None = None,
    max_frequency: int = 7,
) -> HoldoutComparison:
    """Compare actual and expected holdout purchases by calibration frequency.

    Parameters
    ----------
    fit : BgNbdFit, MbgNbdFit, ParetoNbdFit or another fitted purchase model
        See :class:`PurchaseFit`; its ``conditional_expected_purchases`` is used.
    calibration : CustomerSummary
        Calibration-period histories, e.g. from
        ``summarize(table, observation_end=..., calibration_end=...)``.
    frequency_holdout : array-like of int, optional
        Purchases of each summary row in the holdout period; default the
        summary's ``frequency_holdout``.
    duration_holdout : float, optional
        Length of the holdout period; default the summary's
        ``duration_holdout``.
    max_frequency : int
        The last group collects calibration frequencies >= this (default 7,
        as in Fader, Hardie & Lee 2005); at most :data:`MAX_FREQUENCY`.

    Returns
    -------
    HoldoutComparison
        Only customers with a calibration purchase (``has_purchase``) count.

    Raises
    ------
    InputError
        When the holdout counts or duration are invalid, no customer bought in
        the calibration period, or ``max_frequency`` is below 1 or above
        :data:`MAX_FREQUENCY`.
    InputTypeError
        When ``fit`` is not a fitted continuous-time purchase model (see
        :class:`PurchaseFit`), ``calibration`` not a CustomerSummary, or the
        holdout counts or duration are missing from both the arguments and
        the summary.

    Notes
    -----
    The expected value of a group is the mean of ``E[Y(duration_holdout) | x, t_x,
    T]`` over its customers, the conditional expectation of the model.

    Examples
    --------
    >>> from crmcore import CustomerSummary
    >>> from crmcore.models import bgnbd
    >>> f = bgnbd.fit([0, 1, 1, 2, 2, 3, 5, 7], [0, 2, 30, 10, 35, 20, 36, 38], [39] * 8,
    ...               weights=[600, 80, 60, 40, 50, 30, 25, 15])
    >>> s = CustomerSummary.from_arrays([0, 1, 2, 7], [0.0, 30.0, 35.0, 38.0], [39.0] * 4)
    >>> hc = holdout_comparison(f, s, [0, 1, 0, 6], duration_holdout=39.0, max_frequency=2)
    >>> hc.frequency.tolist(), hc.actual.tolist()
    ([0, 1, 2], [0.0, 1.0, 3.0])
    >>> holdout_comparison(f, s)
    Traceback (most recent call last):
    ...
    crmcore.errors.InputTypeError: frequency_holdout is required: the summary has no holdout ...
    """
    _check_fit(fit, "fit", PurchaseFit, "the methods of PurchaseFit (a continuous-time model)")
    if not isinstance(calibration, CustomerSummary):
        raise InputTypeError(
            f"calibration must be a CustomerSummary, got {type(calibration).__name__}"
        )
    k_max = v.check_int(max_frequency, "max_frequency", low=1, high=MAX_FREQUENCY)
    if frequency_holdout is None:
        if calibration.frequency_holdout is None:
            raise InputTypeError(
                "frequency_holdout is required: the summary has no holdout period (summarize "
                "with calibration_end=..., or pass frequency_holdout and duration_holdout)"
            )
        y = np.asarray(calibration.frequency_holdout, dtype=np.float64)
    else:
        y = v.as_int_array(
            frequency_holdout, "frequency_holdout", allow_empty=True, nonnegative=True
        ).astype(np.float64)
        v.check_same_length(("calibration", calibration.frequency), ("frequency_holdout", y))
    if duration_holdout is None:
        if calibration.duration_holdout is None:
            raise InputTypeError("duration_holdout is required: the summary has no holdout period")
        dur = float(calibration.duration_holdout)
    else:
        dur = check_time(duration_holdout, "duration_holdout")
    buyers = np.asarray(calibration.has_purchase)
    if not buyers.any():
        raise InputError("calibration must hold at least one customer with a purchase")
    x = calibration.frequency[buyers].astype(np.float64)
    factor = _units.data_factor(getattr(fit, "time_unit", None), calibration.time_unit)
    expected = np.asarray(
        fit.conditional_expected_purchases(
            dur * factor, x, calibration.recency[buyers] * factor, calibration.T[buyers] * factor
        ),
        dtype=np.float64,
    )
    actual = y[buyers]
    group = np.minimum(x, k_max).astype(np.int64)
    counts = np.bincount(group, minlength=k_max + 1)
    sum_a = np.bincount(group, weights=actual, minlength=k_max + 1)
    sum_e = np.bincount(group, weights=expected, minlength=k_max + 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_a = np.where(counts > 0, sum_a / np.maximum(counts, 1), 0.0)
        mean_e = np.where(counts > 0, sum_e / np.maximum(counts, 1), 0.0)
    return HoldoutComparison(
        frequency=_ro(np.arange(k_max + 1, dtype=np.int64)),
        n_customers=_ro(counts.astype(np.int64)),
        actual=_ro(mean_a),
        expected=_ro(mean_e),
        actual_total=float(actual.sum()),
        expected_total=float(expected.sum()),
        duration_holdout=dur,
    )


def frequency_histogram(
    fit: PurchaseFit,
    summary: CustomerSummary,
    *,
    max_frequency: int = 7,
) -> FrequencyHistogram:
    """Compare the calibration frequency histogram with the model's.

    Parameters
    ----------
    fit : BgNbdFit, MbgNbdFit, ParetoNbdFit or another fitted purchase model
        See :class:`PurchaseFit`; its ``purchase_probability(n, t)`` and
        ``params`` are used.
    summary : CustomerSummary
        The histories the model was fitted to (buyers are used).
    max_frequency : int
        The last bin collects frequencies >= this (default 7); at most
        :data:`MAX_FREQUENCY`.

    Returns
    -------
    FrequencyHistogram

    Raises
    ------
    InputError
        When no customer bought, when a bin has expected count 0, or when
        ``max_frequency`` is below 1 or above :data:`MAX_FREQUENCY`.
    InputTypeError
        When ``fit`` is not a fitted continuous-time purchase model (see
        :class:`PurchaseFit`) or ``summary`` not a CustomerSummary.

    Notes
    -----
    The expected count of bin n is ``sum_i P(X(T_i) = n)`` over customers,
    each with her own T; the last bin takes the rest. The chi-square
    statistic has bins - 1 - (number of parameters) degrees of freedom
    (Fader, Hardie & Lee 2007, "Creating a fit histogram for the BG/NBD
    model"); with none left the p-value is reported as 1.

    Examples
    --------
    >>> from crmcore import CustomerSummary
    >>> from crmcore.models import bgnbd
    >>> f = bgnbd.fit([0, 1, 1, 2, 2, 3, 5, 7], [0, 2, 30, 10, 35, 20, 36, 38], [39] * 8,
    ...               weights=[600, 80, 60, 40, 50, 30, 25, 15])
    >>> s = CustomerSummary.from_arrays([0] * 6 + [1, 3], [0.0] * 6 + [2.0, 20.0], [39.0] * 8)
    >>> h = frequency_histogram(f, s, max_frequency=2)
    >>> h.actual.tolist(), h.degrees_of_freedom
    ([6.0, 1.0, 1.0], 0)
    >>> frequency_histogram(f, s, max_frequency=0)
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: max_frequency must be >= 1, got 0
    """
    _check_fit(fit, "fit", PurchaseFit, "the methods of PurchaseFit (a continuous-time model)")
    if not isinstance(summary, CustomerSummary):
        raise InputTypeError(f"summary must be a CustomerSummary, got {type(summary).__name__}")
    k_max = v.check_int(max_frequency, "max_frequency", low=1, high=MAX_FREQUENCY)
    buyers = np.asarray(summary.has_purchase)
    if not buyers.any():
        raise InputError("summary must hold at least one customer with a purchase")
    x = summary.frequency[buyers]
    t_values, t_count = np.unique(np.asarray(summary.T[buyers]), return_counts=True)
    t_values = t_values * _units.data_factor(getattr(fit, "time_unit", None), summary.time_unit)
    n = np.arange(k_max)
    expected_head = np.array(
        [
            float(
                np.asarray(fit.purchase_probability(int(k), t_values), dtype=np.float64) @ t_count
            )
            for k in n
        ]
    )
    expected = np.append(expected_head, max(float(x.size) - float(expected_head.sum()), 0.0))
    actual = np.bincount(np.minimum(x, k_max), minlength=k_max + 1).astype(np.float64)
    if np.any(expected <= 0):
        i = int(np.flatnonzero(expected <= 0)[0])
        raise InputError(
            f"expected count of frequency bin {i} is 0, so there is no chi-square statistic; "
            "lower max_frequency"
        )
    chi2 = float(np.sum((actual - expected) ** 2 / expected))
    n_params = len(attrs.fields(type(fit.params)))
    dof = max(k_max + 1 - 1 - n_params, 0)
    p_value = float(stats.chi2.sf(chi2, dof)) if dof > 0 else 1.0
    return FrequencyHistogram(
        frequency=_ro(np.arange(k_max + 1, dtype=np.int64)),
        actual=_ro(actual),
        expected=_ro(expected),
        chi_square=chi2,
        degrees_of_freedom=dof,
        p_value=p_value,
    )


def tracking(
    fit: PurchaseFit | BgNbdCovariateFit | MbgNbdCovariateFit | ParetoNbdCovariateFit,
    table: InteractionTable,
    *,
    observation_end: object,
    period: str = "D",
    time_unit: str = "W",
    purchase_covariates: Covariates | None = None,
    dropout_covariates: Covariates | None = None,
) -> Tracking:
    """Track repeat purchases per time unit in calendar time, actual vs expected.

    Parameters
    ----------
    fit : BgNbdFit, MbgNbdFit, ParetoNbdFit, one of their covariate fits, or another model
        A continuous-time model (see :class:`PurchaseFit`; its
        ``expected_purchases(t)`` is used), fitted with the same ``period``,
        or a BG/NBD, MBG/NBD or Pareto/NBD fit with time-invariant covariates
        (then each customer's expectation is the model's at the customer's
        own parameters, see ``purchase_covariates``).
        When the fit records a time unit (``fit.time_unit``) the model's
        times are converted into it (hours, days and weeks among themselves,
        months and years among themselves; other pairs raise InputError);
        a fit of unknown unit is taken to be in ``time_unit``. Models of
        discrete purchase opportunities (BG/BB) count opportunities, not
        calendar time, and are refused.
    table : InteractionTable
        The interaction log; purchases up to ``observation_end`` count.
    observation_end : datetime, date, numpy.datetime64 or ISO string
        Last moment of the tracking (its period is included).
    period : {"h", "D", "W", "M", "Y"}
        Purchases in the same period are one occasion, as in
        :func:`crmcore.summarize`.
    time_unit : {"h", "D", "W", "M", "Y"}
        Length of one reporting period (calendar periods, ISO weeks for "W").
    purchase_covariates, dropout_covariates : array-like or mapping, optional
        For a covariate fit: the customers' covariates, one row per customer
        of the table in the order of ``table.customer_ids`` (the order of
        :func:`crmcore.summarize`), the columns of the fit (by name for a
        mapping); required when the fit has them, refused otherwise. Rows of
        customers without a purchase by ``observation_end`` are not used.

    Returns
    -------
    Tracking
        One row per reporting period from the one holding the first purchase
        of the log to the one holding ``observation_end``.

    Raises
    ------
    InputError
        On invalid period or unit, when the log has no purchase by
        ``observation_end``, or when a covariate matrix is missing, misshaped,
        not the fit's, or given to a fit without covariates.
    InputTypeError
        When ``fit`` is not a fitted continuous-time purchase model or
        ``table`` not an InteractionTable.

    Notes
    -----
    With s_i the start of customer i's first period (in ``time_unit``, the
    convention of :func:`crmcore.summarize`) and e_j the position of the last
    period of reporting period j, the expected cumulative repeat purchases are
    ``sum_i E[X(max(0, e_j - s_i))]`` with ``E[X(t)]`` the model's expectation
    for a new customer (the tracking plot of Fader, Hardie & Lee 2005). The actual series
    counts repeat occasions (every occasion but each customer's first).

    With covariates the sum runs over the customers, each at her own
    parameters (``α_i = α exp(-γ_p·z_i)`` and so on, see
    :mod:`crmcore.models.bgnbd`'s ``fit``): the customers are grouped by
    cohort and distinct covariate rows (Pareto/NBD: dropout rows only, its
    purchase effect ``exp(γ_p·z_i)`` multiplies the expectation and is summed
    per group) and the expectation is evaluated once per group and reporting
    period, vectorised, in blocks of about a million cells. The cost grows
    with the number of groups times periods: with a continuous covariate
    every customer is a group.

    Examples
    --------
    >>> import numpy as np
    >>> from crmcore import InteractionTable
    >>> from crmcore.models import bgnbd
    >>> times = np.array(["2024-01-01", "2024-01-10", "2024-01-03", "2024-01-20"],
    ...                  dtype="datetime64[ns]")
    >>> table = InteractionTable.from_arrays(["a", "a", "b", "b"], times)
    >>> f = bgnbd.fit([0, 1, 1, 2, 2, 3, 5, 7], [0, 2, 30, 10, 35, 20, 36, 38], [39] * 8,
    ...               weights=[600, 80, 60, 40, 50, 30, 25, 15])
    >>> tr = tracking(f, table, observation_end="2024-01-21")
    >>> tr.actual_incremental.tolist()
    [0.0, 1.0, 1.0]
    >>> tracking(f, table, observation_end="2023-01-01")
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: table has no purchase by observation_end 2023-01-01...

    A covariate fit takes one covariate row per customer of the table:

    >>> from crmcore.simulate import bgnbd_histories
    >>> z = np.random.default_rng(0).normal(size=(2000, 1))
    >>> h = bgnbd_histories(0.25, 4.0, 0.8, 2.5, T=52.0, rng=1,
    ...                     purchase_covariates=z, purchase_coefficients=[0.5])
    >>> fz = bgnbd.fit(h.frequency, h.recency, h.T, purchase_covariates={"z": z[:, 0]})
    >>> tz = tracking(fz, table, observation_end="2024-01-21",
    ...               purchase_covariates={"z": [0.0, 1.0]})
    >>> bool(np.all(np.diff(tz.expected_cumulative) >= 0))
    True
    >>> tracking(fz, table, observation_end="2024-01-21")
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: purchase_covariates is missing: the fit has 1 purchase ...
    """
    if not isinstance(fit, _COVARIATE_FITS):
        _check_fit(fit, "fit", PurchaseFit, "the methods of PurchaseFit (a continuous-time model)")
    if not isinstance(table, InteractionTable):
        raise InputTypeError(f"table must be an InteractionTable, got {type(table).__name__}")
    v.check_choice(period, "period", PERIODS)
    v.check_choice(time_unit, "time_unit", PERIODS)
    unit_factor(period, time_unit)  # the reporting unit must hold whole periods
    model = _tracking_model(
        fit, table, observation_end, period, time_unit, (purchase_covariates, dropout_covariates)
    )
    design = model.design
    expected_cum = model.series([fit])[0]
    actual = design.actual
    actual_cum = np.cumsum(actual)
    return Tracking(
        period_start=_ro(design.unit_starts),
        actual_incremental=_ro(actual),
        expected_incremental=_ro(np.diff(expected_cum, prepend=0.0)),
        actual_cumulative=_ro(actual_cum),
        expected_cumulative=_ro(expected_cum),
        n_customers=design.n_customers,
        time_unit=time_unit,
        period=period,
    )


# --------------------------------------------------------------------------- helpers


def _period_start(index: int, period: str) -> np.datetime64:
    return np.datetime64(period_start(np.array([index]), period)[0], "ns")


class _TrackingDesign(NamedTuple):
    unit_starts: DatetimeArray  # start of each reporting period
    actual: FloatArray  # actual repeat occasions per reporting period
    lag_values: FloatArray  # distinct ages of the cohorts at the periods' ends, fit's unit
    lag_code: IntArray  # (periods, cohorts) index into lag_values
    cohort_n: FloatArray  # customers per cohort (first purchase period)
    started: BoolArray  # (periods, cohorts): the cohort has started by the period's end
    n_customers: int
    buyer_codes: IntArray  # customers with a purchase by observation_end (table codes)
    buyer_cohort: IntArray  # their cohort (index into the cohorts' columns)

    def expected_cumulative(self, e_lag: FloatArray) -> FloatArray:
        """Return the expected cumulative repeat purchases per period from E[X(lag_values)]."""
        e = np.where(self.started, e_lag[self.lag_code], 0.0)
        return np.asarray(e @ self.cohort_n, dtype=np.float64)


def _tracking_design(
    fit: Any, table: InteractionTable, observation_end: object, period: str, time_unit: str
) -> _TrackingDesign:
    """Cohorts and ages behind :func:`tracking` (validated arguments), model-free.

    The expected cumulative repeat purchases are
    :func:`expected_cumulative` of ``fit.expected_purchases(lag_values)``.
    """
    fit_unit = getattr(fit, "time_unit", None)
    factor = unit_factor(period, time_unit) * _units.data_factor(fit_unit, time_unit)
    end_ts = v.as_timestamp(observation_end, "observation_end")
    end_p = int(period_index(end_ts, period))
    purchase = table.kinds == PURCHASE_CODE
    p_idx = period_index(table.times[purchase], period)
    codes = table.customer_codes[purchase]
    keep = p_idx <= end_p
    p_idx, codes = p_idx[keep], codes[keep]
    if p_idx.size == 0:
        raise InputError(f"table has no purchase by observation_end {end_ts}")
    # distinct occasions (customer, period); the first of each customer is not a repeat
    key_span = int(p_idx.max() - p_idx.min() + 1)
    key = codes.astype(np.int64) * key_span + (p_idx - p_idx.min())
    occ = np.unique(key)
    occ_c = occ // key_span
    occ_p = occ % key_span + int(p_idx.min())
    first = np.ones(occ.size, dtype=np.bool_)
    first[1:] = occ_c[1:] != occ_c[:-1]
    first_p = occ_p[first]
    repeat_p = occ_p[~first]
    # reporting periods (calendar units of time_unit) and the position of their last period
    start_u = int(period_index(_period_start(int(first_p.min()), period), time_unit))
    end_u = int(period_index(end_ts, time_unit))
    units = np.arange(start_u, end_u + 1)
    unit_starts = period_start(units, time_unit)
    next_starts = period_start(units + 1, time_unit)
    last_p = period_index(next_starts, period) - 1  # last period inside each unit
    last_p = np.minimum(last_p, end_p)
    # actual repeat occasions per reporting period
    rep_unit = period_index(period_start(repeat_p, period), time_unit) - start_u
    actual = np.bincount(rep_unit, minlength=units.size).astype(np.float64)[: units.size]
    # expected: cohorts by first period
    cohort_p, buyer_cohort, cohort_n = np.unique(first_p, return_inverse=True, return_counts=True)
    lags = last_p[:, None] - cohort_p[None, :]  # in periods
    lag_values, lag_code = np.unique(np.maximum(lags, 0), return_inverse=True)
    return _TrackingDesign(
        unit_starts=unit_starts,
        actual=actual,
        lag_values=lag_values * factor,
        lag_code=lag_code.reshape(lags.shape),
        cohort_n=cohort_n.astype(np.float64),
        started=lags >= 0,
        n_customers=int(first_p.size),
        buyer_codes=occ_c[first],
        buyer_cohort=buyer_cohort.reshape(-1),
    )


_COVARIATE_FITS = (_cov.BgNbdCovariateFit, _cov.MbgNbdCovariateFit, _cov.ParetoNbdCovariateFit)
#: Cells (customer groups x reporting periods) the covariate tracking evaluates at once.
_TRACKING_CELLS = 1_000_000


class _PlainTracking:
    """The expected cumulative series of a fit without covariates, at several parameter sets."""

    def __init__(self, design: _TrackingDesign) -> None:
        self.design = design

    def series(self, fits: list[Any], columns: slice = slice(None)) -> FloatArray:
        """Return (fits, periods[columns]) expected cumulative repeat purchases."""
        d = self.design
        rows = []
        for f in fits:
            e_lag = np.asarray(f.expected_purchases(d.lag_values), dtype=np.float64)
            rows.append(d.expected_cumulative(e_lag)[columns])
        return np.asarray(np.stack(rows), dtype=np.float64)


class _CovariateTracking:
    """The expected cumulative series of a covariate fit, customers at their own parameters.

    The buyers are grouped by (cohort, covariate rows): the Pareto/NBD
    expectation is ``exp(γ_p·z_i)`` times that of a customer with the same
    dropout row and no purchase effect, so its groups hold dropout rows only
    and weigh ``sum exp(γ_p·z_i)``; the BG/NBD and MBG/NBD groups hold both
    rows and weigh their size. The cells (group, period) whose cohort has a
    positive age are evaluated in blocks of at most ``_TRACKING_CELLS``; each
    block's cells are laid out once for all parameter sets.
    """

    def __init__(self, fit: Any, design: _TrackingDesign, zp: FloatArray, zd: FloatArray) -> None:
        self.design = design
        self.pareto = isinstance(fit, _cov.ParetoNbdCovariateFit)
        self.kp, self.kd = zp.shape[1], zd.shape[1]
        cohort = design.buyer_cohort.astype(np.float64)[:, None]
        key = np.hstack([cohort, zd] if self.pareto else [cohort, zp, zd])
        rows, group_of, count = np.unique(key, axis=0, return_inverse=True, return_counts=True)
        self.group_of = group_of.reshape(-1)
        self.count = count.astype(np.float64)
        self.zp = zp  # per buyer (Pareto/NBD weights)
        self.zp_g = rows[:, 1 : 1 + self.kp] if not self.pareto else np.zeros((rows.shape[0], 0))
        self.zd_g = rows[:, rows.shape[1] - self.kd :] if self.kd else np.zeros((rows.shape[0], 0))
        self.cohort_g = rows[:, 0].astype(np.int64)  # groups sorted by cohort
        ages = design.lag_values[design.lag_code]  # (periods, cohorts)
        positive = design.started & (ages > 0)  # a suffix of the periods per cohort
        n_periods = positive.shape[0]
        first = n_periods - positive.sum(axis=0)
        self.first_g = first[self.cohort_g]
        self.cells_g = n_periods - self.first_g
        ends = np.cumsum(self.cells_g)
        bounds = [0]
        while bounds[-1] < self.cohort_g.size:
            start = int(ends[bounds[-1] - 1]) if bounds[-1] else 0
            stop = int(np.searchsorted(ends, start + _TRACKING_CELLS, side="right"))
            bounds.append(max(stop, bounds[-1] + 1))
        self.bounds = bounds
        self.ages = ages
        self.n_periods = n_periods

    def _cells(self, g0: int, g1: int) -> tuple[IntArray, IntArray, FloatArray]:
        """Cells of groups g0..g1-1: local group, period, age (in the fit's unit)."""
        lengths = self.cells_g[g0:g1]
        local = np.repeat(np.arange(g1 - g0), lengths)
        offsets = np.cumsum(lengths) - lengths
        period = self.first_g[g0:g1][local] + (np.arange(local.size) - offsets[local])
        return local, period, self.ages[period, self.cohort_g[g0:g1][local]]

    def series(self, fits: list[Any], columns: slice = slice(None)) -> FloatArray:
        """Return (fits, periods[columns]) expected cumulative repeat purchases."""
        width = np.arange(self.n_periods)[columns].size
        out = np.zeros((len(fits), width))
        us = [_cov._u_of(f) for f in fits]
        kp = self.kp
        n_groups = self.cohort_g.size
        effects: list[tuple[FloatArray, FloatArray, FloatArray]] = []
        for u in us:
            eta_d = _cov._dot_rows(self.zd_g, u[4 + kp :])
            if self.pareto:
                with np.errstate(over="ignore"):
                    lift = np.exp(_cov._dot_rows(self.zp, u[4 : 4 + kp]))
                weight = np.bincount(self.group_of, weights=lift, minlength=n_groups)
                effects.append((np.zeros(n_groups), eta_d, weight.astype(np.float64)))
            else:
                effects.append((_cov._dot_rows(self.zp_g, u[4 : 4 + kp]), eta_d, self.count))
        for g0, g1 in itertools.pairwise(self.bounds):
            local, period, age = self._cells(g0, g1)
            for i, (f, u) in enumerate(zip(fits, us, strict=True)):
                e_p, e_d, w_g = effects[i]
                e = _cov.new_customer_expectation(f, u, e_p[g0:g1], e_d[g0:g1], local, age)
                total = np.bincount(period, weights=w_g[g0:g1][local] * e, minlength=self.n_periods)
                out[i] += total[columns]
        return out


def _tracking_model(  # noqa: PLR0917 - private, the arguments of tracking
    fit: Any,
    table: InteractionTable,
    observation_end: object,
    period: str,
    time_unit: str,
    covariates: tuple[object, object],
) -> _PlainTracking | _CovariateTracking:
    """Return the design of :func:`tracking` and its expected series (validated arguments)."""
    n = table.n_customers
    names: tuple[tuple[str, ...], tuple[str, ...]] = (
        (fit.purchase_names, fit.dropout_names) if isinstance(fit, _COVARIATE_FITS) else ((), ())
    )
    mats = []
    for value, name, expected in zip(
        covariates, ("purchase_covariates", "dropout_covariates"), names, strict=True
    ):
        try:
            mats.append(_cov._matrix_for(value, name, n, expected))
        except InputError as err:  # the rows are the table's customers, not histories
            raise InputError(
                str(err).replace(
                    "as the histories in frequency or the summary", "the customers of the table"
                )
            ) from None
    design = _tracking_design(fit, table, observation_end, period, time_unit)
    if not isinstance(fit, _COVARIATE_FITS):
        return _PlainTracking(design)
    coefs = (fit.purchase_coefficients, fit.dropout_coefficients)
    picked = []
    for mat, coef, name in zip(
        mats, coefs, ("purchase_covariates", "dropout_covariates"), strict=True
    ):
        if mat is None:
            picked.append(np.zeros((design.buyer_codes.size, 0)))
            continue
        _cov._check_effect(mat, coef, name)
        picked.append(np.ascontiguousarray(mat[design.buyer_codes]))
    return _CovariateTracking(fit, design, picked[0], picked[1])


# --------------------------------------------------------------------------- holdout accuracy


@attrs.frozen(kw_only=True, eq=False)
class HoldoutAccuracy:
    """Per-customer accuracy of a purchase model on a holdout period, and its calibration.

    Built by :func:`holdout_accuracy`; the scalars summarise the customers,
    the arrays are one row per bin of predicted expected purchases (deciles
    by default), lowest predictions first.

    Attributes
    ----------
    n_customers : int
        Customers compared (those with a calibration purchase).
    mae, rmse : float
        Mean absolute and root mean squared error of the expected holdout
        purchases against the actual ones.
    bias : float
        Mean of expected minus actual (positive: the model over-forecasts).
    brier : float
        Mean squared error of P(at least one purchase) against the 0/1 outcome.
    log_loss : float
        Mean negative log-likelihood of the 0/1 outcome under that probability
        (probabilities clipped to [1e-15, 1 - 1e-15]).
    bin : ndarray of int
        1, 2, ..., ``n_bins``.
    bin_customers : ndarray of int
        Customers per bin (sizes differ by at most one).
    expected, actual : ndarray
        Mean expected and actual holdout purchases per bin.
    probability, share_buying : ndarray
        Mean P(at least one purchase) and the share of customers with at least
        one holdout purchase per bin.
    duration_holdout : float
        Length of the holdout period (in the summary's time unit).
    """

    n_customers: int
    mae: float
    rmse: float
    bias: float
    brier: float
    log_loss: float
    bin: IntArray
    bin_customers: IntArray
    expected: FloatArray
    actual: FloatArray
    probability: FloatArray
    share_buying: FloatArray
    duration_holdout: float

    def columns(self) -> dict[str, np.ndarray[Any, Any]]:
        """Return the calibration table (one row per bin) by name, ready for a data frame.

        Returns
        -------
        dict of str to ndarray
            ``bin``, ``bin_customers``, ``expected``, ``actual``,
            ``probability`` and ``share_buying``.

        Examples
        --------
        >>> from crmcore import CustomerSummary
        >>> from crmcore.models import bgnbd
        >>> f = bgnbd.fit([0, 1, 1, 2, 2, 3, 5, 7], [0, 2, 30, 10, 35, 20, 36, 38], [39] * 8,
        ...               weights=[600, 80, 60, 40, 50, 30, 25, 15])
        >>> s = CustomerSummary.from_arrays([0, 1, 2, 7], [0.0, 30.0, 35.0, 38.0], [39.0] * 4)
        >>> acc = holdout_accuracy(f, s, [0, 1, 0, 6], duration_holdout=39.0, n_bins=2)
        >>> acc.columns()["actual"].tolist()
        [0.5, 3.0]
        """
        return v.result_columns(
            self, "bin", "bin_customers", "expected", "actual", "probability", "share_buying"
        )


def holdout_accuracy(
    fit: PurchaseFit,
    calibration: CustomerSummary,
    frequency_holdout: ArrayLike | None = None,
    *,
    duration_holdout: float | None = None,
    n_bins: int = 10,
) -> HoldoutAccuracy:
    """Score a purchase model's per-customer forecasts on a holdout period.

    Where :func:`holdout_comparison` averages by calibration frequency, this
    scores each customer: the error of the conditional expected purchases,
    the Brier score and log loss of the probability of at least one purchase,
    and a calibration table by bins of predicted expected purchases.

    Parameters
    ----------
    fit : BgNbdFit, MbgNbdFit, ParetoNbdFit or another fitted purchase model
        See :class:`PurchaseFit`; also needs
        ``conditional_purchase_probability(t, frequency, recency, T)``.
    calibration : CustomerSummary
        Calibration-period histories (see :func:`holdout_comparison`).
    frequency_holdout : array-like of int, optional
        Holdout purchases per summary row; default the summary's.
    duration_holdout : float, optional
        Length of the holdout period; default the summary's.
    n_bins : int
        Number of calibration bins (2 to 1000, default 10: deciles), at most
        the number of customers compared.

    Returns
    -------
    HoldoutAccuracy

    Raises
    ------
    InputError
        On invalid holdout counts or duration, no customer with a calibration
        purchase, or ``n_bins`` out of range.
    InputTypeError
        As :func:`holdout_comparison`.

    Notes
    -----
    With e_i the expected and y_i the actual holdout purchases and p_i the
    probability of at least one, over the n customers:
    ``MAE = mean(abs(e_i - y_i))``, ``RMSE = sqrt(mean((e_i - y_i)^2))``,
    ``bias = mean(e_i - y_i)``, ``Brier = mean((p_i - 1{y_i > 0})^2)`` (Brier
    1950), ``log loss = -mean(1{y_i > 0} log p_i + 1{y_i = 0} log(1 - p_i))``.
    Bins: customers ranked
    by e_i (ties in summary order) and cut into ``n_bins`` groups of sizes
    differing by at most one; a well-calibrated model has ``expected`` close to
    ``actual`` and ``probability`` close to ``share_buying`` in every bin.

    References
    ----------
    Brier, G. W. (1950). Verification of forecasts expressed in terms of
    probability. Monthly Weather Review, 78(1), 1-3.

    Examples
    --------
    >>> from crmcore import CustomerSummary
    >>> from crmcore.models import bgnbd
    >>> f = bgnbd.fit([0, 1, 1, 2, 2, 3, 5, 7], [0, 2, 30, 10, 35, 20, 36, 38], [39] * 8,
    ...               weights=[600, 80, 60, 40, 50, 30, 25, 15])
    >>> s = CustomerSummary.from_arrays([0, 1, 2, 7], [0.0, 30.0, 35.0, 38.0], [39.0] * 4)
    >>> acc = holdout_accuracy(f, s, [0, 1, 0, 6], duration_holdout=39.0, n_bins=2)
    >>> acc.n_customers, acc.bin_customers.tolist()
    (4, [2, 2])
    >>> holdout_accuracy(f, s, [0, 1, 0, 6], duration_holdout=39.0, n_bins=5)
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: n_bins must be at most the 4 customers compared, got 5
    """
    _check_fit(fit, "fit", PurchaseFit, "the methods of PurchaseFit (a continuous-time model)")
    if not isinstance(calibration, CustomerSummary):
        raise InputTypeError(
            f"calibration must be a CustomerSummary, got {type(calibration).__name__}"
        )
    probability = getattr(fit, "conditional_purchase_probability", None)
    if not callable(probability):
        raise InputTypeError(
            f"fit must have conditional_purchase_probability, got {type(fit).__name__}"
        )
    bins = v.check_int(n_bins, "n_bins", low=2, high=MAX_FREQUENCY)
    if frequency_holdout is None:
        if calibration.frequency_holdout is None:
            raise InputTypeError(
                "frequency_holdout is required: the summary has no holdout period (summarize "
                "with calibration_end=..., or pass frequency_holdout and duration_holdout)"
            )
        y_all = np.asarray(calibration.frequency_holdout, dtype=np.float64)
    else:
        y_all = v.as_int_array(
            frequency_holdout, "frequency_holdout", allow_empty=True, nonnegative=True
        ).astype(np.float64)
        v.check_same_length(("calibration", calibration.frequency), ("frequency_holdout", y_all))
    if duration_holdout is None:
        if calibration.duration_holdout is None:
            raise InputTypeError("duration_holdout is required: the summary has no holdout period")
        dur = float(calibration.duration_holdout)
    else:
        dur = check_time(duration_holdout, "duration_holdout")
    buyers = np.asarray(calibration.has_purchase)
    n = int(buyers.sum())
    if n == 0:
        raise InputError("calibration must hold at least one customer with a purchase")
    if bins > n:
        raise InputError(f"n_bins must be at most the {n} customers compared, got {bins}")
    factor = _units.data_factor(getattr(fit, "time_unit", None), calibration.time_unit)
    hist = (
        calibration.frequency[buyers].astype(np.float64),
        np.asarray(calibration.recency[buyers], dtype=np.float64) * factor,
        np.asarray(calibration.T[buyers], dtype=np.float64) * factor,
    )
    e = np.asarray(fit.conditional_expected_purchases(dur * factor, *hist), dtype=np.float64)
    p = np.asarray(probability(dur * factor, *hist), dtype=np.float64)
    y = y_all[buyers]
    bought = (y > 0).astype(np.float64)
    err = e - y
    q = np.clip(p, 1e-15, 1.0 - 1e-15)
    log_loss = -float(np.mean(bought * np.log(q) + (1.0 - bought) * np.log1p(-q)))
    rank = np.empty(n, dtype=np.int64)
    rank[np.argsort(e, kind="stable")] = np.arange(n)
    group = rank * bins // n
    counts = np.bincount(group, minlength=bins)

    def mean_by_bin(values: FloatArray) -> FloatArray:
        return np.asarray(np.bincount(group, weights=values, minlength=bins) / counts)

    return HoldoutAccuracy(
        n_customers=n,
        mae=float(np.mean(np.abs(err))),
        rmse=float(np.sqrt(np.mean(err**2))),
        bias=float(np.mean(err)),
        brier=float(np.mean((p - bought) ** 2)),
        log_loss=log_loss,
        bin=_ro(np.arange(1, bins + 1, dtype=np.int64)),
        bin_customers=_ro(counts.astype(np.int64)),
        expected=_ro(mean_by_bin(e)),
        actual=_ro(mean_by_bin(y)),
        probability=_ro(mean_by_bin(p)),
        share_buying=_ro(mean_by_bin(bought)),
        duration_holdout=dur,
    )


# --------------------------------------------------------------------------- value through DERT


@runtime_checkable
class ResidualPurchaseFit(Protocol):
    """What :func:`residual_lifetime_value` needs from a fitted purchase model."""

    def conditional_expected_purchases_at(
        self,
        t: ArrayLike,
        frequency: ArrayLike | CustomerSummary,
        recency: ArrayLike | None = None,
        T: ArrayLike | None = None,
    ) -> FloatArray:
        """Return the matrix (customers, len(t)) of expected purchases in (T, T + t_k]."""

    def discounted_expected_residual_purchases(
        self,
        frequency: ArrayLike | CustomerSummary,
        recency: ArrayLike | None = None,
        T: ArrayLike | None = None,
        *,
        discount_rate: float,
    ) -> Any:
        """Return the discounted expected residual purchases (DERT)."""


@attrs.frozen(kw_only=True, eq=False)
class ResidualLifetimeValue:
    """Discounted expected margin of each customer's whole future, through DERT.

    Attributes
    ----------
    customer_ids : ndarray
        As in the summary.
    value : ndarray
        margin x expected spend x DERT; 0 for rows of the summary without
        purchase (the models describe buyers).
    discounted_expected_residual_purchases : ndarray
        The DERT of each customer (0 for rows without purchase).
    expected_spend : ndarray
        Expected spend per transaction (0 for rows without purchase).
    discount_rate : float
        Continuous discount rate per one ``time_unit``.
    margin : float
    time_unit : str
        The summary's time unit.
    """

    customer_ids: np.ndarray[Any, Any]
    value: FloatArray
    discounted_expected_residual_purchases: FloatArray
    expected_spend: FloatArray
    discount_rate: float
    margin: float
    time_unit: str

    def columns(self) -> dict[str, np.ndarray[Any, Any]]:
        """Return the per-customer arrays by name, customer ids first, ready for a data frame.

        The same contract as :meth:`crmcore.CustomerSummary.columns`:
        equal-length 1-d read-only arrays, one row per customer of the
        summary.

        Returns
        -------
        dict of str to ndarray
            ``customer_ids``, ``value``, ``discounted_expected_residual_purchases``
            and ``expected_spend``.
        """
        return v.result_columns(
            self,
            "customer_ids",
            "value",
            "discounted_expected_residual_purchases",
            "expected_spend",
        )


def _continuous_rate(
    discount_rate: float | None, annual_discount_rate: float | None, time_unit: str | None
) -> float:
    """Return the continuous rate per time unit from exactly one of the two arguments (> 0)."""
    if (discount_rate is None) == (annual_discount_rate is None):
        raise InputError(
            "give exactly one of discount_rate (per time unit) and annual_discount_rate "
            f"(per year); got discount_rate={discount_rate!r}, "
            f"annual_discount_rate={annual_discount_rate!r}"
        )
    if annual_discount_rate is not None:
        yearly = v.check_float(annual_discount_rate, "annual_discount_rate", low=0.0, low_open=True)
        if time_unit is None:
            raise InputError(
                "annual_discount_rate needs a known time unit; the purchase fit has "
                "time_unit=None: give discount_rate per its time unit instead"
            )
        return _units.per_unit_rate(yearly, time_unit, "continuous")
    return v.check_float(discount_rate, "discount_rate", low=0.0, low_open=True)


def residual_lifetime_value(
    purchase_fit: ResidualPurchaseFit,
    spend_fit: SpendFit,
    summary: CustomerSummary,
    *,
    discount_rate: float | None = None,
    annual_discount_rate: float | None = None,
    margin: float = 1.0,
) -> ResidualLifetimeValue:
    """Return each customer's discounted expected margin over the whole future (no horizon).

    Parameters
    ----------
    purchase_fit : BgNbdFit, MbgNbdFit, ParetoNbdFit, BgCnbdFit or MbgCnbdFit
        A fitted continuous-time purchase model (see
        :class:`ResidualPurchaseFit`); its DERT gives the discounted purchases.
    spend_fit : GammaGammaFit or another fitted spend model
        Anything with ``conditional_expected_spend(frequency, monetary_value)``.
    summary : CustomerSummary
        The customers' histories, converted into the purchase fit's time unit
        as in :func:`customer_lifetime_value`.
    discount_rate : float, optional
        Continuous discount rate per time unit of the summary (> 0): a
        purchase at time t after T counts ``exp(-discount_rate t)``. Give
        exactly one of ``discount_rate`` and ``annual_discount_rate``.
    annual_discount_rate : float, optional
        Continuous rate per year (> 0), converted to the summary's time unit
        (``d_year * unit/year``).
    margin : float
        Share of spend that is margin, in [0, 1].

    Returns
    -------
    ResidualLifetimeValue

    Raises
    ------
    InputError
        On a rate that is not positive, both or neither rates, a margin
        outside [0, 1], or a summary in a time unit that does not convert.
    InputTypeError
        When ``purchase_fit`` has no DERT (e.g. parameters, or a BG/BB fit,
        whose DERT is in opportunities: see
        :func:`crmcore.models.bgbb.discounted_expected_residual_purchases`),
        ``spend_fit`` is not a spend model or ``summary`` not a CustomerSummary.

    See Also
    --------
    customer_lifetime_value : the same over a finite horizon, step by step.
    new_customer_value : the value of a customer not yet acquired.

    Notes
    -----
    ``value_i = margin * E[spend_i] * DERT_i(δ)``, Fader, Hardie & Lee (2005,
    "RFM and CLV"), spend being independent of the purchase process. With
    continuous discounting :func:`customer_lifetime_value` tends to it as
    the horizon grows and the step shrinks.

    References
    ----------
    Fader, P. S., Hardie, B. G. S., & Lee, K. L. (2005). RFM and CLV: Using
    iso-value curves for customer base analysis. Journal of Marketing
    Research, 42(4), 415-430.

    Examples
    --------
    >>> from crmcore import CustomerSummary
    >>> from crmcore.models import bgnbd, gamma_gamma
    >>> purchases = bgnbd.BgNbdFit(
    ...     params=bgnbd.BgNbdParams(r=0.243, alpha=4.414, a=0.793, b=2.426),
    ...     standard_errors=bgnbd.BgNbdParams(r=0.013, alpha=0.378, a=0.186, b=0.705),
    ...     covariance=np.eye(4), log_likelihood=-9582.4, n_customers=2357.0,
    ...     converged=True, n_iterations=20, time_unit="W")
    >>> spend = gamma_gamma.GammaGammaFit(
    ...     params=gamma_gamma.GammaGammaParams(p=6.25, q=3.74, v=15.44),
    ...     standard_errors=gamma_gamma.GammaGammaParams(p=1.19, q=0.29, v=4.16),
    ...     covariance=np.eye(3), log_likelihood=-4055.9, n_customers=946.0,
    ...     converged=True, n_iterations=15)
    >>> s = CustomerSummary.from_arrays([2, 0], [30.43, 0.0], [38.86, 38.86],
    ...                                 monetary_value=[22.35, 0.0], time_unit="W")
    >>> residual_lifetime_value(purchases, spend, s, discount_rate=0.002).value.round(2).tolist()
    [149.81, 43.39]
    >>> residual_lifetime_value(purchases, spend, s, discount_rate=0.0)
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: discount_rate must be > 0.0, got 0.0
    """
    _check_fit(
        purchase_fit,
        "purchase_fit",
        ResidualPurchaseFit,
        "discounted_expected_residual_purchases (a continuous-time purchase model)",
    )
    _check_fit(spend_fit, "spend_fit", SpendFit, "conditional_expected_spend")
    m = v.check_float(margin, "margin", low=0.0, high=1.0)
    if not isinstance(summary, CustomerSummary):
        raise InputTypeError(f"summary must be a CustomerSummary, got {type(summary).__name__}")
    rate = _continuous_rate(discount_rate, annual_discount_rate, summary.time_unit)
    factor = _units.data_factor(getattr(purchase_fit, "time_unit", None), summary.time_unit)
    buyers = np.asarray(summary.has_purchase)
    x = summary.frequency[buyers].astype(np.float64)
    tx = np.asarray(summary.recency[buyers], dtype=np.float64) * factor
    big_t = np.asarray(summary.T[buyers], dtype=np.float64) * factor
    dert = np.asarray(
        purchase_fit.discounted_expected_residual_purchases(
            x, tx, big_t, discount_rate=rate / factor
        ),
        dtype=np.float64,
    )
    spend = np.asarray(
        spend_fit.conditional_expected_spend(x, summary.monetary_value[buyers]), dtype=np.float64
    )
    n = len(summary)
    value, dert_all, spend_all = np.zeros(n), np.zeros(n), np.zeros(n)
    value[buyers] = m * spend * dert
    dert_all[buyers] = dert
    spend_all[buyers] = spend
    return ResidualLifetimeValue(
        customer_ids=summary.customer_ids,
        value=_ro(value),
        discounted_expected_residual_purchases=_ro(dert_all),
        expected_spend=_ro(spend_all),
        discount_rate=rate,
        margin=m,
        time_unit=summary.time_unit,
    )


def new_customer_value(
    purchase_fit: ResidualPurchaseFit,
    *,
    expected_spend: float,
    discount_rate: float | None = None,
    annual_discount_rate: float | None = None,
    margin: float = 1.0,
) -> float:
    """Return the expected discounted margin of the repeat purchases of a customer acquired now.

    Parameters
    ----------
    purchase_fit : BgNbdFit, MbgNbdFit, ParetoNbdFit, BgCnbdFit or MbgCnbdFit
        A fitted continuous-time purchase model.
    expected_spend : float
        Expected spend per purchase of a new customer (>= 0), e.g. the mean of
        the spend model's population distribution (for Gamma-Gamma
        ``p v / (q - 1)``).
    discount_rate : float, optional
        Continuous discount rate per time unit of the fit (> 0).
    annual_discount_rate : float, optional
        Continuous rate per year (> 0); needs ``purchase_fit.time_unit``.
    margin : float
        Share of spend that is margin, in [0, 1].

    Returns
    -------
    float
        ``margin * expected_spend * DERT(0, 0, 0)``: the purchases after the
        first, discounted to the first purchase. Add ``margin *
        expected_spend`` for the first purchase itself.

    Raises
    ------
    InputError
        On a rate that is not positive, both or neither rates, a negative
        spend or a margin outside [0, 1].
    InputTypeError
        When ``purchase_fit`` is not a continuous-time purchase model.

    See Also
    --------
    residual_lifetime_value

    Notes
    -----
    A customer just acquired has x = t_x = T = 0 and is alive, so her DERT
    is the model's unconditional one; its undiscounted counterpart over a
    horizon t is the fit's ``expected_purchases(t)``.

    Examples
    --------
    >>> from crmcore.models import pareto_nbd
    >>> f = pareto_nbd.ParetoNbdFit(
    ...     params=pareto_nbd.ParetoNbdParams(r=0.55, alpha=10.58, s=0.61, beta=11.67),
    ...     standard_errors=pareto_nbd.ParetoNbdParams(r=0.05, alpha=0.8, s=0.2, beta=6.0),
    ...     covariance=np.eye(4), log_likelihood=-9595.0, n_customers=2357.0,
    ...     converged=True, n_iterations=30, time_unit="W")
    >>> round(new_customer_value(f, expected_spend=35.0, annual_discount_rate=0.15), 2)
    132.09
    >>> new_customer_value(f, expected_spend=-1.0, discount_rate=0.01)
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: expected_spend must be >= 0.0, got -1.0
    """
    _check_fit(
        purchase_fit,
        "purchase_fit",
        ResidualPurchaseFit,
        "discounted_expected_residual_purchases (a continuous-time purchase model)",
    )
    spend = v.check_float(expected_spend, "expected_spend", low=0.0)
    m = v.check_float(margin, "margin", low=0.0, high=1.0)
    rate = _continuous_rate(
        discount_rate, annual_discount_rate, getattr(purchase_fit, "time_unit", None)
    )
    dert = float(
        purchase_fit.discounted_expected_residual_purchases(0, 0.0, 0.0, discount_rate=rate)
    )
    return m * spend * dert
