"""Intervals around predictions from the uncertainty of the fitted parameters.

A fit's estimates are uncertain; every prediction made from them inherits
that uncertainty. This module turns the asymptotic normal of the estimates
(on the log scale the optimiser uses, see ``sample_params`` of every fit
result) into intervals around each customer's prediction and around totals:

- :func:`prediction_interval`: P(alive), conditional expected purchases and
  the probability of at least one purchase (BG/NBD, MBG/NBD, Pareto/NBD,
  BG/BB), and expected spend per transaction (Gamma-Gamma), per customer and
  summed over customers;
- :func:`clv_interval`: customer lifetime value from a purchase and a spend
  fit (:func:`crmcore.models.clv.customer_lifetime_value`);
- :func:`tracking_interval`: the expected repeat purchases per period of
  :func:`crmcore.models.clv.tracking`;
- :func:`purchase_count_interval`: a predictive interval of each customer's
  future purchase count (the chance variation of the count given the
  history, optionally mixed over parameter draws), to check against holdout
  counts with :func:`interval_coverage`;
- :func:`parametric_bootstrap`: parameter sets from refits on data simulated
  from a BG/NBD or Pareto/NBD fit, a slower check of the normal approximation.

Why functions and not an ``interval=`` argument: one entry point per kind of
prediction keeps every existing prediction's return type fixed (a float or an
array), puts the arguments that only intervals need (``level``, ``n_draws``,
``rng``, ``method``) in one place, and gives one result type
(:class:`PredictionInterval`) with the same ``columns()`` for every model.

Two methods:

``method="draws"`` (default)
    Draws ``n_draws`` parameter sets, evaluates the prediction at each (on the
    distinct histories only, in chunks of bounded memory) and reports the
    ``(1 - level)/2`` and ``(1 + level)/2`` quantiles per customer and of the
    total over customers (percentile intervals).
``method="delta"``
    The delta method: the gradient of the prediction in the log-parameters by
    central differences (``2 k`` evaluations instead of ``n_draws``), a normal
    interval on the logit scale for probabilities and on the log scale for
    positive quantities, mapped back. Accurate when the prediction is nearly
    linear in the log-parameters over their uncertainty: always for totals
    over many customers and for expected purchases and spend of well-fitted
    models; less so for P(alive) of customers whose P(alive) sits near 0 or
    1, where the draws are better.

Examples
--------
>>> from crmcore import CustomerSummary
>>> from crmcore.models import bgnbd, uncertainty
>>> f = bgnbd.fit([0, 1, 1, 2, 2, 3, 5, 7], [0, 2, 30, 10, 35, 20, 36, 38], [39] * 8,
...               weights=[600, 80, 60, 40, 50, 30, 25, 15])
>>> s = CustomerSummary.from_arrays([2, 7], [30.0, 38.0], [39.0, 39.0])
>>> pi = uncertainty.prediction_interval(f, "expected_purchases", s, t=39.0, rng=0)
>>> bool((pi.lower <= pi.point).all() and (pi.point <= pi.upper).all())
True
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, Literal

import attrs
import numpy as np
from scipy import special as sc

from crmcore import _validation as v
from crmcore._typing import ArrayLike, BoolArray, DatetimeArray, FloatArray, IntArray, SeedLike
from crmcore.errors import InputError, InputTypeError
from crmcore.models import _covariates as _cov
from crmcore.models import (
    _draws,
    _units,
    bgbb,
    bgcnbd,
    bgnbd,
    clv,
    gamma_gamma,
    ggomnbd,
    mbgcnbd,
    mbgnbd,
    pareto_nbd,
)
from crmcore.models import _spend_covariates as _spc
from crmcore.models._covariates import Covariates
from crmcore.models._draws import ParameterDraws
from crmcore.summary import CustomerSummary, DiscreteSummary
from crmcore.table import InteractionTable

__all__ = [
    "QUANTITIES",
    "IntervalCoverage",
    "ParameterDraws",
    "PredictionInterval",
    "TrackingInterval",
    "clv_interval",
    "interval_coverage",
    "parametric_bootstrap",
    "prediction_interval",
    "purchase_count_interval",
    "tracking_interval",
]

#: The per-customer predictions :func:`prediction_interval` knows.
QUANTITIES = ("probability_alive", "expected_purchases", "purchase_probability", "expected_spend")

Quantity = Literal[
    "probability_alive", "expected_purchases", "purchase_probability", "expected_spend"
]
Method = Literal["draws", "delta"]

#: Largest number of draws x distinct histories evaluated at once (memory bound:
#: 8 bytes each, about 32 MB).
_CHUNK_CELLS = 4_000_000
_ALL = slice(None)
_DELTA_STEP = 1e-4  # central-difference step in the log-parameters
#: Count intervals: the PMF is cumulated until the mass left is below this (for the moments).
_COUNT_TAIL = 1e-9
#: Count intervals: largest expected count and largest count the PMF is cumulated to.
_MAX_EXPECTED_COUNT = 1_000.0
_MAX_COUNT = 2_000
_PROBABILITIES = ("probability_alive", "purchase_probability")
_CONTINUOUS = (bgnbd.BgNbdFit, mbgnbd.MbgNbdFit, pareto_nbd.ParetoNbdFit)
_PURCHASE_COVARIATE = (
    _cov.BgNbdCovariateFit,
    _cov.MbgNbdCovariateFit,
    _cov.ParetoNbdCovariateFit,
)
_SPEND = (gamma_gamma.GammaGammaFit, _spc.GammaGammaCovariateFit)
#: Continuous-time fits with a conditional PMF that only purchase_count_interval takes.
_COUNT_ONLY = (ggomnbd.GGompertzNbdFit, bgcnbd.BgCnbdFit, mbgcnbd.MbgCnbdFit)
#: One covariate argument's name and its number of columns.
_Spec = tuple[tuple[str, int], ...]


@attrs.frozen(kw_only=True, eq=False)
class PredictionInterval:
    """A prediction per customer with an interval, and the total over customers.

    Attributes
    ----------
    customer_ids : ndarray
        As in the summary.
    point : ndarray
        The prediction at the fitted parameters.
    lower, upper : ndarray
        Interval bounds at ``level``. From draws (percentile intervals) the
        point lies between them except where the prediction is not monotone in
        the parameters along their uncertainty (rare; then the interval is
        still the draws' central range).
    total_point, total_lower, total_upper : float
        The sum over customers and its interval (the quantiles of the sum per
        draw, not the sums of the bounds).
    quantity : str
        Which prediction (one of :data:`QUANTITIES`, ``"clv"``, or
        ``"purchase_count"`` for :func:`purchase_count_interval`).
    level : float
    method : {"draws", "delta", "pmf"}
        ``"pmf"``: a count interval at the fitted parameters.
    n_draws : int
        Parameter sets used (0 for the delta method and ``"pmf"``).
    """

    customer_ids: np.ndarray[Any, Any]
    point: FloatArray
    lower: FloatArray
    upper: FloatArray
    total_point: float
    total_lower: float
    total_upper: float
    quantity: str
    level: float
    method: str
    n_draws: int

    def columns(self) -> dict[str, np.ndarray[Any, Any]]:
        """Return the per-customer arrays by name, customer ids first, ready for a data frame.

        Returns
        -------
        dict of str to ndarray
            ``customer_ids``, ``point``, ``lower`` and ``upper``.

        Examples
        --------
        >>> from crmcore import CustomerSummary
        >>> from crmcore.models import bgnbd
        >>> f = bgnbd.fit([0, 1, 1, 2, 2, 3, 5, 7], [0, 2, 30, 10, 35, 20, 36, 38], [39] * 8,
        ...               weights=[600, 80, 60, 40, 50, 30, 25, 15])
        >>> s = CustomerSummary.from_arrays([2], [30.0], [39.0], customer_ids=["ann"])
        >>> list(prediction_interval(f, "probability_alive", s, rng=0).columns())
        ['customer_ids', 'point', 'lower', 'upper']
        """
        return v.result_columns(self, "customer_ids", "point", "lower", "upper")


@attrs.frozen(kw_only=True, eq=False)
class TrackingInterval:
    """Expected repeat purchases per reporting period with intervals.

    Attributes
    ----------
    period_start : ndarray of datetime64[ns]
        As in :class:`crmcore.models.clv.Tracking`.
    expected_cumulative, cumulative_lower, cumulative_upper : ndarray
        The expected cumulative repeat purchases and their interval.
    expected_incremental, incremental_lower, incremental_upper : ndarray
        The same per period.
    actual_cumulative : ndarray
        The observed cumulative repeat purchases.
    level : float
    method : str
    n_draws : int
    """

    period_start: DatetimeArray
    expected_cumulative: FloatArray
    cumulative_lower: FloatArray
    cumulative_upper: FloatArray
    expected_incremental: FloatArray
    incremental_lower: FloatArray
    incremental_upper: FloatArray
    actual_cumulative: FloatArray
    level: float
    method: str
    n_draws: int

    def columns(self) -> dict[str, np.ndarray[Any, Any]]:
        """Return the per-period arrays by name, ready for a data frame.

        Returns
        -------
        dict of str to ndarray
            ``period_start`` then the expected, bounds and actual series.
        """
        return v.result_columns(
            self,
            "period_start",
            "expected_cumulative",
            "cumulative_lower",
            "cumulative_upper",
            "expected_incremental",
            "incremental_lower",
            "incremental_upper",
            "actual_cumulative",
        )


# --------------------------------------------------------------------------- public API


def prediction_interval(
    fit: Any,
    quantity: Quantity,
    summary: CustomerSummary | DiscreteSummary,
    *,
    t: float | None = None,
    level: float = 0.9,
    n_draws: int = 200,
    rng: SeedLike = 0,
    method: Method = "draws",
    purchase_covariates: Covariates | None = None,
    dropout_covariates: Covariates | None = None,
    spend_covariates: Covariates | None = None,
) -> PredictionInterval:
    """Return a per-customer prediction with an interval from the parameters' uncertainty.

    Parameters
    ----------
    fit : BgNbdFit, MbgNbdFit, ParetoNbdFit, BgBbFit, GammaGammaFit or a covariate fit
        A fit result (with ``params``, ``covariance`` and ``sample_params``);
        a covariate fit (BG/NBD, MBG/NBD, Pareto/NBD or Gamma-Gamma with
        covariates) is drawn on its optimiser's scale (logs of the base
        parameters, coefficients as they are).
    quantity : {"probability_alive", "expected_purchases", "purchase_probability", \
"expected_spend"}
        ``expected_purchases`` is the conditional expectation over the next
        ``t``, ``purchase_probability`` the probability of at least one
        purchase in it; ``expected_spend`` (Gamma-Gamma only) the expected
        spend per transaction.
    summary : CustomerSummary or DiscreteSummary
        The customers (a DiscreteSummary for BG/BB). For the continuous-time
        models its recency, T and ``t`` are converted into the fit's time
        unit as by the fit's methods.
    t : float, optional
        Forecast horizon in the summary's time unit (> 0; for BG/BB the
        number of future opportunities): required for the expected purchases
        and the purchase probability, not allowed otherwise.
    level : float
        Coverage of the interval, in (0, 1) (default 0.9).
    n_draws : int
        Parameter sets for ``method="draws"`` (2 to 100,000; default 200).
    rng : int or numpy.random.Generator
        Seed or generator of the draws (default 0: reproducible).
    method : {"draws", "delta"}
        Percentile intervals of the draws, or the delta method (see the module
        notes for where it is accurate).
    purchase_covariates, dropout_covariates : array-like or mapping, optional
        The customers' covariates (one row per summary row), required by a
        purchase covariate fit that has them, refused otherwise.
    spend_covariates : array-like or mapping, optional
        The same for a Gamma-Gamma covariate fit.

    Returns
    -------
    PredictionInterval

    Raises
    ------
    InputError
        On a ``level`` outside (0, 1), ``n_draws`` out of range, a missing
        or superfluous ``t``, a covariance that is not a valid covariance,
        or a covariate matrix that is missing, misshaped or not the fit's.
    InputTypeError
        When the fit cannot make the quantity, or the summary is of the wrong
        kind.

    Notes
    -----
    Draws: ``theta_d = exp(u_d)``, ``u_d ~ N(log theta_hat, C)`` with C the
    covariance of the log-parameters; the prediction is evaluated once per
    distinct history and draw, in chunks of at most four million cells, so
    memory does not grow with the number of customers. The total of draw d
    is the sum of the customers' predictions at theta_d, so its interval
    reflects that all customers share the same parameter error.

    Examples
    --------
    >>> from crmcore import CustomerSummary
    >>> from crmcore.models import bgnbd
    >>> f = bgnbd.fit([0, 1, 1, 2, 2, 3, 5, 7], [0, 2, 30, 10, 35, 20, 36, 38], [39] * 8,
    ...               weights=[600, 80, 60, 40, 50, 30, 25, 15])
    >>> s = CustomerSummary.from_arrays([2, 7], [30.0, 38.0], [39.0, 39.0])
    >>> pi = prediction_interval(f, "probability_alive", s, level=0.8, rng=1)
    >>> pi.point.round(3).tolist()
    [0.713, 0.902]

    A covariate fit takes the customers' covariates (here two new customers
    who differ in the purchase covariate z):

    >>> import numpy as np
    >>> from crmcore.simulate import bgnbd_histories
    >>> z = np.random.default_rng(0).normal(size=(2000, 1))
    >>> h = bgnbd_histories(0.25, 4.0, 0.8, 2.5, T=52.0, rng=1,
    ...                     purchase_covariates=z, purchase_coefficients=[0.5])
    >>> fz = bgnbd.fit(h.frequency, h.recency, h.T, purchase_covariates={"z": z[:, 0]})
    >>> new = CustomerSummary.from_arrays([0, 0], [0.0, 0.0], [1.0, 1.0])
    >>> pz = prediction_interval(fz, "expected_purchases", new, t=10.0,
    ...                          purchase_covariates={"z": [-1.0, 1.0]}, n_draws=100)
    >>> bool(pz.point[0] < pz.point[1] and (pz.lower <= pz.upper).all())
    True
    >>> prediction_interval(fz, "expected_purchases", new, t=10.0)
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: purchase_covariates is missing: the fit has 1 purchase ...
    >>> prediction_interval(f, "probability_alive", s, level=1.5)
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: level must be < 1.0, got 1.5
    """
    lvl, n, m = _check_common(level, n_draws, method)
    q = v.check_choice(quantity, "quantity", QUANTITIES)
    cols, horizon = _history_columns(fit, q, summary, t)
    extra, spec = _covariate_columns(
        fit,
        cols[0].size,
        purchase_covariates=purchase_covariates,
        dropout_covariates=dropout_covariates,
        spend_covariates=spend_covariates,
    )
    rows, inverse, counts = _distinct_rows(cols + extra)

    evaluate = _evaluator(fit, q, horizon, rows, n, spec)

    point, lower, upper, totals = _interval(
        fit, evaluate, counts, level=lvl, n_draws=n, rng=rng, method=m, quantity=q
    )
    return PredictionInterval(
        customer_ids=summary.customer_ids,
        point=v.readonly(point[inverse]),
        lower=v.readonly(lower[inverse]),
        upper=v.readonly(upper[inverse]),
        total_point=totals[0],
        total_lower=totals[1],
        total_upper=totals[2],
        quantity=q,
        level=lvl,
        method=m,
        n_draws=n if m == "draws" else 0,
    )


def clv_interval(
    purchase_fit: Any,
    spend_fit: Any,
    summary: CustomerSummary,
    *,
    horizon: float,
    step: float,
    discount_rate: float | None = None,
    margin: float = 1.0,
    discounting: clv.Discounting = "discrete",
    annual_discount_rate: float | None = None,
    level: float = 0.9,
    n_draws: int = 200,
    rng: SeedLike = 0,
    method: Method = "draws",
    purchase_covariates: Covariates | None = None,
    dropout_covariates: Covariates | None = None,
    spend_covariates: Covariates | None = None,
) -> PredictionInterval:
    """Return each customer's lifetime value with an interval from both fits' uncertainty.

    Parameters
    ----------
    purchase_fit : BgNbdFit, MbgNbdFit or ParetoNbdFit, or one of their covariate fits
    spend_fit : GammaGammaFit or GammaGammaCovariateFit
    summary : CustomerSummary
        With ``monetary_value``.
    horizon, step, discount_rate, margin, discounting, annual_discount_rate
        As in :func:`crmcore.models.clv.customer_lifetime_value`.
    level, n_draws, rng, method
        As in :func:`prediction_interval`.
    purchase_covariates, dropout_covariates, spend_covariates : array-like or mapping, optional
        The customers' covariates (one row per summary row) for covariate
        fits, as in :func:`prediction_interval`.

    Returns
    -------
    PredictionInterval
        ``quantity="clv"``; the point equals
        ``customer_lifetime_value(...).clv``.

    Raises
    ------
    InputError, InputTypeError
        As :func:`crmcore.models.clv.customer_lifetime_value` and
        :func:`prediction_interval`.

    Notes
    -----
    The purchase and spend parameters are drawn independently: the Gamma-Gamma
    model assumes spend independent of the purchase process, so the joint
    likelihood is the product of the two and its information matrix is block
    diagonal. Draw d evaluates the CLV formula with both models at draw d.

    Examples
    --------
    >>> from crmcore import CustomerSummary
    >>> from crmcore.models import bgnbd, gamma_gamma
    >>> f = bgnbd.fit([0, 1, 1, 2, 2, 3, 5, 7], [0, 2, 30, 10, 35, 20, 36, 38], [39] * 8,
    ...               weights=[600, 80, 60, 40, 50, 30, 25, 15])
    >>> g = gamma_gamma.fit([1, 2, 2, 3, 5, 8], [12.0, 30.0, 25.0, 18.5, 40.0, 22.0],
    ...                     weights=[40, 25, 20, 12, 8, 5])
    >>> s = CustomerSummary.from_arrays([2, 5], [30.0, 38.0], [39.0, 39.0],
    ...                                 monetary_value=[20.0, 15.0])
    >>> pi = clv_interval(f, g, s, horizon=52, step=4, discount_rate=0.002, n_draws=50)
    >>> bool((pi.lower <= pi.upper).all())
    True
    >>> clv_interval(f, f, s, horizon=52, step=4, discount_rate=0.002)
    Traceback (most recent call last):
    ...
    crmcore.errors.InputTypeError: spend_fit must be a GammaGammaFit or GammaGammaCovariateFit, ...
    """
    if not isinstance(purchase_fit, (*_CONTINUOUS, *_PURCHASE_COVARIATE)):
        raise InputTypeError(
            "purchase_fit must be a BgNbdFit, MbgNbdFit or ParetoNbdFit (or one of their "
            f"covariate fits), got {type(purchase_fit).__name__}"
        )
    if not isinstance(spend_fit, _SPEND):
        raise InputTypeError(
            "spend_fit must be a GammaGammaFit or GammaGammaCovariateFit, got "
            f"{type(spend_fit).__name__}"
        )
    lvl, n, m = _check_common(level, n_draws, method)
    if not isinstance(summary, CustomerSummary):
        raise InputTypeError(f"summary must be a CustomerSummary, got {type(summary).__name__}")
    buyers = np.asarray(summary.has_purchase)
    extra_p, spec_p = _covariate_columns(
        purchase_fit,
        len(summary),
        purchase_covariates=purchase_covariates,
        dropout_covariates=dropout_covariates,
    )
    extra_s, spec_s = _covariate_columns(spend_fit, len(summary), spend_covariates=spend_covariates)
    extra_p = tuple(c[buyers] for c in extra_p)
    extra_s = tuple(c[buyers] for c in extra_s)
    base = clv.customer_lifetime_value(
        _Bound(purchase_fit, _covariate_kwargs(extra_p, spec_p)),
        _Bound(spend_fit, _covariate_kwargs(extra_s, spec_s)),
        summary,
        horizon=horizon,
        step=step,
        discount_rate=discount_rate,
        margin=margin,
        discounting=discounting,
        annual_discount_rate=annual_discount_rate,
    )
    factor = _units.data_factor(purchase_fit.time_unit, summary.time_unit)
    cols = (
        summary.frequency[buyers].astype(np.float64),
        np.asarray(summary.recency[buyers], dtype=np.float64) * factor,
        np.asarray(summary.T[buyers], dtype=np.float64) * factor,
        np.asarray(summary.monetary_value, dtype=np.float64)[buyers],
    )
    rows, inverse, counts = _distinct_rows(cols + extra_p + extra_s)
    ends = np.asarray(base.step_ends) * factor
    weights = np.asarray(base.discount_factors) * base.margin
    joint = _JointFit(purchase_fit, spend_fit)
    k_p = len(extra_p)

    def evaluate(f: Any, sl: slice) -> FloatArray:
        fp, fs = f.parts()
        x, tx, big_t, mv = (c[sl] for c in rows[:4])
        kw_p = _covariate_kwargs(tuple(c[sl] for c in rows[4 : 4 + k_p]), spec_p)
        kw_s = _covariate_kwargs(tuple(c[sl] for c in rows[4 + k_p :]), spec_s)
        cum = _cumulative(fp, ends, (x, tx, big_t), kw_p)
        inc = cum.copy()
        inc[:, 1:] -= cum[:, :-1]
        spend = np.asarray(fs.conditional_expected_spend(x, mv, **kw_s), dtype=np.float64)
        return np.asarray(spend * (inc @ weights), dtype=np.float64)

    point, lower, upper, totals = _interval(
        joint, evaluate, counts, level=lvl, n_draws=n, rng=rng, method=m, quantity="clv"
    )
    size = len(summary)
    out = []
    for arr in (point, lower, upper):
        full = np.zeros(size)
        full[buyers] = arr[inverse]
        out.append(v.readonly(full))
    return PredictionInterval(
        customer_ids=summary.customer_ids,
        point=out[0],
        lower=out[1],
        upper=out[2],
        total_point=totals[0],
        total_lower=totals[1],
        total_upper=totals[2],
        quantity="clv",
        level=lvl,
        method=m,
        n_draws=n if m == "draws" else 0,
    )


def tracking_interval(
    fit: Any,
    table: InteractionTable,
    *,
    observation_end: object,
    period: str = "D",
    time_unit: str = "W",
    level: float = 0.9,
    n_draws: int = 200,
    rng: SeedLike = 0,
    method: Method = "draws",
    purchase_covariates: Covariates | None = None,
    dropout_covariates: Covariates | None = None,
) -> TrackingInterval:
    """Return the expected repeat purchases per period of :func:`.clv.tracking` with intervals.

    Parameters
    ----------
    fit : BgNbdFit, MbgNbdFit or ParetoNbdFit, or one of their covariate fits
        A covariate fit is drawn on its optimiser's scale, coefficients
        included, as in :func:`prediction_interval`.
    table, observation_end, period, time_unit
        As in :func:`crmcore.models.clv.tracking`.
    level, n_draws, rng, method
        As in :func:`prediction_interval`.
    purchase_covariates, dropout_covariates : array-like or mapping, optional
        For a covariate fit, the customers' covariates: one row per customer
        of the table (order of ``table.customer_ids``), as in
        :func:`crmcore.models.clv.tracking`.

    Returns
    -------
    TrackingInterval
        The expected series equal those of :func:`~crmcore.models.clv.tracking`.

    Raises
    ------
    InputError, InputTypeError
        As :func:`crmcore.models.clv.tracking` and :func:`prediction_interval`.

    Notes
    -----
    The interval covers the *expected* aggregate, the uncertainty of the
    parameters; the actual series also varies by chance around it (Poisson-like
    noise of the order of the square root of the count per period).

    Each draw's cumulative series is computed once; the incremental series
    are its differences, so both intervals come from the same draws. With
    covariates a draw costs one evaluation of the expectation per group of
    customers (cohort and distinct covariate rows) and reporting period,
    vectorised (see :func:`crmcore.models.clv.tracking`); a continuous
    covariate makes every customer a group, and the BG/NBD and MBG/NBD
    expectation (a hypergeometric function, about a microsecond per cell)
    then dominates: 100,000 customers with continuous covariates over 52
    weekly periods take about 4 s of CPU per draw (14 minutes for 200
    draws), against about 34 s for all 200 draws of a Pareto/NBD fit.
    Categorical covariates, or Pareto/NBD purchase covariates (which factor
    out of the expectation), cost little.

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
    >>> tr = tracking_interval(f, table, observation_end="2024-01-21", n_draws=50)
    >>> bool(np.all(tr.cumulative_lower <= tr.cumulative_upper))
    True
    >>> tracking_interval(f, table, observation_end="2024-01-21", n_draws=1)
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: n_draws must be >= 2, got 1
    """
    if not isinstance(fit, (*_CONTINUOUS, *_PURCHASE_COVARIATE)):
        raise InputTypeError(
            "fit must be a BgNbdFit, MbgNbdFit or ParetoNbdFit (or one of their covariate "
            f"fits), got {type(fit).__name__}"
        )
    lvl, n, m = _check_common(level, n_draws, method)
    covariates = (purchase_covariates, dropout_covariates)
    base = clv.tracking(
        fit,
        table,
        observation_end=observation_end,
        period=period,
        time_unit=time_unit,
        purchase_covariates=purchase_covariates,
        dropout_covariates=dropout_covariates,
    )
    model = clv._tracking_model(fit, table, observation_end, period, time_unit, covariates)
    n_units = base.period_start.size
    seed = int(v.as_generator(rng).integers(2**62))  # as before: one seed for both series
    c_point = np.array(base.expected_cumulative, dtype=np.float64)
    point = np.diff(c_point, prepend=0.0)
    if m == "delta":

        def evaluate(f: Any, sl: slice) -> FloatArray:
            cum = model.series([f])[0]
            return np.concatenate([np.diff(cum, prepend=0.0), cum])[sl]

        both = np.concatenate([point, c_point])
        _, lo, hi, _ = _delta(
            fit, evaluate, both, np.ones(2 * n_units), level=lvl, quantity="tracking"
        )
        lower, upper = lo[:n_units], hi[:n_units]
        c_lower, c_upper = lo[n_units:], hi[n_units:]
    else:
        lower, upper, c_lower, c_upper = _tracking_draws(model, fit, n_units, lvl, n, seed)
    return TrackingInterval(
        period_start=base.period_start,
        expected_cumulative=v.readonly(c_point),
        cumulative_lower=v.readonly(c_lower),
        cumulative_upper=v.readonly(c_upper),
        expected_incremental=v.readonly(point),
        incremental_lower=v.readonly(lower),
        incremental_upper=v.readonly(upper),
        actual_cumulative=base.actual_cumulative,
        level=lvl,
        method=m,
        n_draws=n if m == "draws" else 0,
    )


def purchase_count_interval(
    fit: Any,
    summary: CustomerSummary | DiscreteSummary,
    *,
    t: float,
    level: float = 0.9,
    n_draws: int | None = None,
    rng: SeedLike = 0,
) -> PredictionInterval:
    """Return a predictive interval of each customer's number of purchases in (T, T + t].

    Unlike :func:`prediction_interval`, which brackets the *expected* count
    (parameter uncertainty only), this interval brackets the count itself:
    the chance variation of the customer's purchases given her history, from
    the conditional probability of n purchases
    (``fit.conditional_purchase_count_probability``), and optionally the
    parameters' uncertainty integrated over draws. Check it against holdout
    counts with :func:`interval_coverage`.

    Parameters
    ----------
    fit : BgNbdFit, MbgNbdFit, ParetoNbdFit, BgBbFit, GGompertzNbdFit, BgCnbdFit or MbgCnbdFit
        Any fit with ``conditional_purchase_count_probability``. The draws
        of a BG/CNBD-k fit keep its k (the covariance is that of r, alpha,
        a, b given k); a GGompertz/NBD fit at the Pareto/NBD limit
        (``at_boundary``) has no finite covariance, so it takes no draws.
    summary : CustomerSummary or DiscreteSummary
        The customers (a DiscreteSummary for BG/BB), converted into the fit's
        time unit as by :func:`prediction_interval`.
    t : float
        Forecast horizon (>= 0) in the summary's time unit; for BG/BB the
        number of future opportunities (a whole number).
    level : float
        Coverage of the interval, in (0, 1) (default 0.9).
    n_draws : int, optional
        Without it (default) the distribution at the fitted parameters; with
        it (2 to 100,000) the average of the distributions at ``n_draws``
        parameter sets drawn as in :func:`prediction_interval` (the posterior
        predictive distribution under the normal approximation).
    rng : int or numpy.random.Generator
        Seed or generator of the draws (used with ``n_draws``).

    Returns
    -------
    PredictionInterval
        ``quantity="purchase_count"``; ``point`` the expected count (the
        conditional expected purchases, averaged over the draws), ``lower``
        and ``upper`` whole numbers: the ``(1 - level)/2`` and
        ``(1 + level)/2`` quantiles of the count (the smallest n whose
        cumulative probability reaches them), so that each customer's count
        falls in ``[lower, upper]`` with probability at least ``level``.
        The total's interval is a normal approximation of the sum of the
        customers' counts (independent given the parameters; with draws the
        parameter error they share is added). ``method`` is ``"pmf"``
        without draws, ``"draws"`` with them.

    Raises
    ------
    InputError
        On a ``level`` outside (0, 1), ``n_draws`` out of range, a negative
        ``t``, expected counts above 1,000 or an upper quantile above
        2,000 (the distribution is cumulated count by count), or draws from a
        covariance that is not finite.
    InputTypeError
        On another kind of fit or summary.

    Notes
    -----
    The PMF is evaluated for n = 0, 1, 2, ... on all distinct histories at
    once, and a history leaves the loop once its cumulative probability
    exceeds ``1 - 1e-9`` or the count twice its upper quantile plus 20 (the
    variance of the total needs the tail; the quantiles are set on the way),
    so the loop runs over counts, never over customers. With draws
    each step averages the PMF of every draw. The GGompertz/NBD PMF is a
    quadrature per distinct history and count (its cost dominates: about a
    second per count and 100,000 distinct histories, times the draws); the
    BG/CNBD-k one a finite sum. Discreteness makes the coverage
    of a single customer's interval at least ``level``, often more (a
    customer likely to buy nothing has ``[0, 0]`` with probability P(0)).

    Examples
    --------
    >>> from crmcore import CustomerSummary
    >>> from crmcore.models import bgnbd
    >>> f = bgnbd.fit([0, 1, 1, 2, 2, 3, 5, 7], [0, 2, 30, 10, 35, 20, 36, 38], [39] * 8,
    ...               weights=[600, 80, 60, 40, 50, 30, 25, 15])
    >>> s = CustomerSummary.from_arrays([0, 2, 7], [0.0, 30.0, 38.0], [39.0] * 3)
    >>> ci = purchase_count_interval(f, s, t=39.0, level=0.8)
    >>> ci.lower.tolist(), ci.upper.tolist()
    ([0.0, 0.0, 0.0], [1.0, 3.0, 9.0])

    The GGompertz/NBD and BG/CNBD-k fits take the same arguments:

    >>> import numpy as np
    >>> from crmcore.models import ggomnbd
    >>> p = ggomnbd.GGompertzNbdParams(r=0.553, alpha=10.578, b=0.0002, s=0.603, beta=0.0026)
    >>> g = ggomnbd.GGompertzNbdFit(params=p, standard_errors=p,
    ...     covariance=np.diag((0.05 * p.as_array()) ** 2), log_likelihood=-9595.0,
    ...     n_customers=2357.0, converged=True, n_iterations=30)
    >>> gi = purchase_count_interval(g, s, t=39.0, level=0.8, n_draws=20, rng=0)
    >>> gi.lower.tolist(), gi.upper.tolist()
    ([0.0, 0.0, 1.0], [0.0, 4.0, 10.0])
    >>> purchase_count_interval(f, s, t=-1.0)
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: t must be >= 0.0, got -1.0
    """
    if not isinstance(fit, (*_CONTINUOUS, bgbb.BgBbFit, *_COUNT_ONLY)):
        raise InputTypeError(
            "fit must be a BgNbdFit, MbgNbdFit, ParetoNbdFit, BgBbFit, GGompertzNbdFit, BgCnbdFit "
            f"or MbgCnbdFit, got {type(fit).__name__}"
        )
    lvl = v.check_float(level, "level", low=0.0, high=1.0, low_open=True, high_open=True)
    nd = None if n_draws is None else v.check_int(n_draws, "n_draws", low=2, high=100_000)
    cols, horizon = _history_columns(fit, "expected_purchases", summary, t, _COUNT_ONLY)
    assert horizon is not None  # required for expected purchases
    rows, inverse, counts = _distinct_rows(cols)
    fits = [fit] if nd is None else _draw_fits(fit, nd, rng)
    point, shared_var = _evaluate_draws(fits, horizon, rows, counts)
    if point.size and float(point.max()) > _MAX_EXPECTED_COUNT:
        i = int(np.argmax(point))
        raise InputError(
            f"t is too long for a count interval: a customer expects {float(point[i]):.4g} "
            f"purchases (at most {_MAX_EXPECTED_COUNT:g}); use prediction_interval for "
            "expected purchases"
        )
    lower, upper, second = _count_quantiles(fits, fit, horizon, rows, lvl)
    var = np.maximum(second - point**2, 0.0)
    total = float(point @ counts) if point.size else 0.0
    total_var = float(var @ counts) + shared_var
    z = float(sc.ndtri((1.0 + lvl) / 2.0))
    half = z * math.sqrt(max(total_var, 0.0))
    return PredictionInterval(
        customer_ids=summary.customer_ids,
        point=v.readonly(point[inverse]),
        lower=v.readonly(lower[inverse]),
        upper=v.readonly(upper[inverse]),
        total_point=total,
        total_lower=max(total - half, 0.0),
        total_upper=total + half,
        quantity="purchase_count",
        level=lvl,
        method="pmf" if nd is None else "draws",
        n_draws=0 if nd is None else nd,
    )


def parametric_bootstrap(
    fit: Any,
    summary: CustomerSummary,
    n_boot: int,
    *,
    rng: SeedLike,
) -> ParameterDraws:
    """Draw parameter sets by refitting on data simulated from a fit (parametric bootstrap).

    Each replicate simulates one history per buyer of ``summary`` with her
    own T from the fitted model (:mod:`crmcore.simulate`) and refits; the
    refits' estimates are the draws. Slower than ``fit.sample_params``
    (``n_boot`` fits) but free of the normal approximation: use it to check
    that approximation on small data sets.

    Parameters
    ----------
    fit : BgNbdFit or ParetoNbdFit
    summary : CustomerSummary
        The data the fit was made on (its buyers' T are reused).
    n_boot : int
        Replicates (2 to 10,000).
    rng : int or numpy.random.Generator

    Returns
    -------
    ParameterDraws
        ``log_covariance`` is the covariance of the log-estimates of the refits.

    Raises
    ------
    InputError
        On ``n_boot`` out of range or a summary without buyers.
    InputTypeError
        On another kind of fit or summary.

    Notes
    -----
    A replicate whose refit does not converge (a ConvergenceError, or a
    ConvergenceWarning) is redrawn, up to ``n_boot`` extra times; that
    selection slightly narrows the spread on data that barely identify the
    model.

    Examples
    --------
    >>> from crmcore import CustomerSummary
    >>> from crmcore.models import bgnbd
    >>> f = bgnbd.fit([0, 1, 1, 2, 2, 3, 5, 7], [0, 2, 30, 10, 35, 20, 36, 38], [39] * 8,
    ...               weights=[600, 80, 60, 40, 50, 30, 25, 15])
    >>> parametric_bootstrap(f, CustomerSummary.from_arrays([1], [2.0], [39.0]), 1, rng=0)
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: n_boot must be >= 2, got 1
    """
    import warnings

    from crmcore import simulate
    from crmcore.errors import ConvergenceError, ConvergenceWarning

    if isinstance(fit, bgnbd.BgNbdFit):
        simulator: Callable[..., Any] = simulate.bgnbd_histories
        refit: Callable[..., Any] = bgnbd.fit
    elif isinstance(fit, pareto_nbd.ParetoNbdFit):
        simulator, refit = simulate.pareto_nbd_histories, pareto_nbd.fit
    else:
        raise InputTypeError(f"fit must be a BgNbdFit or ParetoNbdFit, got {type(fit).__name__}")
    if not isinstance(summary, CustomerSummary):
        raise InputTypeError(f"summary must be a CustomerSummary, got {type(summary).__name__}")
    n = v.check_int(n_boot, "n_boot", low=2, high=10_000)
    gen = v.as_generator(rng)
    buyers = np.asarray(summary.has_purchase)
    if not buyers.any():
        raise InputError("summary must hold at least one customer with a purchase")
    factor = _units.data_factor(fit.time_unit, summary.time_unit)
    big_t = np.asarray(summary.T[buyers], dtype=np.float64) * factor
    theta = fit.params.as_array()
    out: list[FloatArray] = []
    tries = 0
    while len(out) < n and tries < 2 * n:
        tries += 1
        sim = simulator(*theta, T=big_t, rng=gen)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", ConvergenceWarning)
                res = refit(sim.frequency, sim.recency, sim.T, initial=fit.params)
        except (ConvergenceError, ConvergenceWarning):
            continue
        out.append(res.params.as_array())
    if len(out) < 2:
        raise InputError(  # pragma: no cover - needs data that never refit
            "the bootstrap refits did not converge; the data are too few for the model"
        )
    values = np.array(out)
    logs = np.log(values)
    names = tuple(a.name for a in attrs.fields(type(fit.params)))
    return ParameterDraws(
        names=names,
        values=v.readonly(values),
        estimates=v.readonly(theta.copy()),
        log_covariance=v.readonly(np.atleast_2d(np.cov(logs.T))),
        params_type=type(fit.params),
    )


@attrs.frozen(kw_only=True, eq=False)
class IntervalCoverage:
    """How often intervals held the actual values, from :func:`interval_coverage`.

    Attributes
    ----------
    level : float
        The intervals' nominal coverage.
    n_customers : int
    coverage : float
        Share of customers with lower <= actual <= upper.
    below, above : float
        Shares below the lower and above the upper bound.
    standard_error : float
        ``sqrt(level (1 - level) / n_customers)``: the Monte Carlo standard
        error of ``coverage`` if the intervals were exact and independent.
    total_covered : bool
        Whether the sum of the actual values lies in the total's interval.
    """

    level: float
    n_customers: int
    coverage: float
    below: float
    above: float
    standard_error: float
    total_covered: bool


def interval_coverage(interval: PredictionInterval, actual: ArrayLike) -> IntervalCoverage:
    """Check intervals against actual values, e.g. holdout purchases.

    Parameters
    ----------
    interval : PredictionInterval
        Intervals for the customers of the holdout summary (e.g. from
        :func:`purchase_count_interval`, checked against the holdout counts).
    actual : array-like
        The realised values, one per customer of ``interval``.

    Returns
    -------
    IntervalCoverage

    Raises
    ------
    InputError
        When ``actual`` is not finite or its length differs.

    Notes
    -----
    The intervals of :func:`prediction_interval` describe the uncertainty of
    the *expected* value, not the chance variation of a customer's count
    around it: per customer they are much narrower than a predictive interval
    of future purchases, so their coverage of actual counts is low by design.
    Compare them with values that share the model's expectation (e.g. the
    expectation at known parameters in a simulation), or check the predictive
    intervals of counts of :func:`purchase_count_interval` against the holdout
    counts: their coverage should be at least ``level`` (counts are discrete,
    so often more). The total over many customers averages the chance
    variation away, so ``total_covered`` is a meaningful holdout check.

    Examples
    --------
    >>> from crmcore import CustomerSummary
    >>> from crmcore.models import bgnbd
    >>> f = bgnbd.fit([0, 1, 1, 2, 2, 3, 5, 7], [0, 2, 30, 10, 35, 20, 36, 38], [39] * 8,
    ...               weights=[600, 80, 60, 40, 50, 30, 25, 15])
    >>> s = CustomerSummary.from_arrays([2, 7], [30.0, 38.0], [39.0, 39.0])
    >>> pi = prediction_interval(f, "expected_purchases", s, t=39.0, rng=0)
    >>> interval_coverage(pi, [1, 6]).n_customers
    2
    >>> interval_coverage(pi, [1])
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: actual must have the same length as interval; got 1 and 2
    """
    if not isinstance(interval, PredictionInterval):
        raise InputTypeError(
            f"interval must be a PredictionInterval, got {type(interval).__name__}"
        )
    y = v.as_float_array(actual, "actual", allow_empty=True)
    if y.size != interval.point.size:
        raise InputError(
            f"actual must have the same length as interval; got {y.size} and {interval.point.size}"
        )
    n = y.size
    if n == 0:
        raise InputError("actual must hold at least one value")
    below = float(np.mean(y < interval.lower))
    above = float(np.mean(y > interval.upper))
    total = float(y.sum())
    return IntervalCoverage(
        level=interval.level,
        n_customers=n,
        coverage=1.0 - below - above,
        below=below,
        above=above,
        standard_error=math.sqrt(interval.level * (1.0 - interval.level) / n),
        total_covered=bool(interval.total_lower <= total <= interval.total_upper),
    )


# --------------------------------------------------------------------------- helpers


def _check_common(level: object, n_draws: object, method: object) -> tuple[float, int, str]:
    lvl = v.check_float(level, "level", low=0.0, high=1.0, low_open=True, high_open=True)
    n = v.check_int(n_draws, "n_draws", low=2, high=100_000)
    m = v.check_choice(method, "method", ("draws", "delta"))
    return lvl, n, m


def _history_columns(
    fit: Any, quantity: str, summary: object, t: object, extra: tuple[type, ...] = ()
) -> tuple[tuple[FloatArray, ...], float | None]:
    """Return the histories as float columns in the fit's units, and the horizon.

    ``extra``: more continuous-time fit classes the caller takes.
    """
    needs_t = quantity in ("expected_purchases", "purchase_probability")
    if isinstance(fit, _SPEND):
        if quantity != "expected_spend":
            raise InputTypeError(
                f"a {type(fit).__name__} predicts expected_spend only, not quantity={quantity!r}"
            )
        if not isinstance(summary, CustomerSummary):
            raise InputTypeError(f"summary must be a CustomerSummary, got {type(summary).__name__}")
        if summary.monetary_value is None:
            raise InputError("summary must carry monetary_value for expected_spend")
        _no_t(t)
        x = summary.frequency.astype(np.float64)
        return (x, np.asarray(summary.monetary_value, dtype=np.float64)), None
    if quantity == "expected_spend":
        raise InputTypeError(
            f"quantity='expected_spend' needs a GammaGammaFit, got {type(fit).__name__}"
        )
    if isinstance(fit, bgbb.BgBbFit):
        if not isinstance(summary, DiscreteSummary):
            raise InputTypeError(
                f"summary must be a DiscreteSummary for a BgBbFit, got {type(summary).__name__}"
            )
        x = summary.frequency.astype(np.float64)
        cols = (x, summary.recency.astype(np.float64), np.full(x.size, float(summary.n_periods)))
        if needs_t:
            return cols, float(v.check_int(_required_t(t), "t", low=0))
        _no_t(t)
        return cols, None
    if isinstance(fit, (*_CONTINUOUS, *_PURCHASE_COVARIATE, *extra)):
        if not isinstance(summary, CustomerSummary):
            raise InputTypeError(f"summary must be a CustomerSummary, got {type(summary).__name__}")
        factor = _units.data_factor(getattr(fit, "time_unit", None), summary.time_unit)
        cols = (
            summary.frequency.astype(np.float64),
            np.asarray(summary.recency, dtype=np.float64) * factor,
            np.asarray(summary.T, dtype=np.float64) * factor,
        )
        if needs_t:
            return cols, v.check_float(_required_t(t), "t", low=0.0) * factor
        _no_t(t)
        return cols, None
    raise InputTypeError(
        "fit must be a BgNbdFit, MbgNbdFit, ParetoNbdFit, BgBbFit or GammaGammaFit (or one of "
        f"their covariate fits), got {type(fit).__name__}"
    )


def _covariate_columns(
    fit: Any,
    n: int,
    *,
    purchase_covariates: object = None,
    dropout_covariates: object = None,
    spend_covariates: object = None,
) -> tuple[tuple[FloatArray, ...], _Spec]:
    """Validate the covariates a fit needs (and refuse the others); their columns and spec.

    The columns are 1-d (one per covariate) so that they join the histories in
    :func:`_distinct_rows`; the spec names the argument of each block.
    """
    given = {
        "purchase_covariates": purchase_covariates,
        "dropout_covariates": dropout_covariates,
        "spend_covariates": spend_covariates,
    }
    if isinstance(fit, _PURCHASE_COVARIATE):
        wanted = {
            "purchase_covariates": fit.purchase_names,
            "dropout_covariates": fit.dropout_names,
        }
    elif isinstance(fit, _spc.GammaGammaCovariateFit):
        wanted = {"spend_covariates": fit.spend_names}
    else:
        wanted = {}
    cols: list[FloatArray] = []
    spec: list[tuple[str, int]] = []
    for name, value in given.items():
        mat = _cov._matrix_for(value, name, n, wanted.get(name, ()))
        if mat is None:
            continue
        cols.extend(np.ascontiguousarray(mat[:, j]) for j in range(mat.shape[1]))
        spec.append((name, mat.shape[1]))
    return tuple(cols), tuple(spec)


def _cumulative(
    fit: Any, ends: FloatArray, hist: tuple[FloatArray, ...], kw: dict[str, FloatArray]
) -> FloatArray:
    """Return the expected purchases in (T, T + e] per customer (row) and step end e (column).

    The covariate fits have no ``conditional_expected_purchases_at``: one call
    per step end (a loop over at most ``clv.MAX_STEPS`` steps, not customers).
    """
    if not isinstance(fit, _PURCHASE_COVARIATE):
        return np.asarray(fit.conditional_expected_purchases_at(ends, *hist), dtype=np.float64)
    out = np.empty((hist[0].size, ends.size))
    for j, e in enumerate(ends):
        out[:, j] = fit.conditional_expected_purchases(float(e), *hist, **kw)
    return out


class _Bound:
    """A fit bound to its customers' covariates, as :mod:`crmcore.models.clv` calls it."""

    def __init__(self, fit: Any, kw: dict[str, FloatArray]) -> None:
        self.fit, self.kw = fit, kw
        self.time_unit = getattr(fit, "time_unit", None)

    def conditional_expected_purchases_at(
        self, t: ArrayLike, frequency: Any, recency: Any = None, T: Any = None
    ) -> FloatArray:
        return _cumulative(
            self.fit, np.asarray(t, dtype=np.float64), (frequency, recency, T), self.kw
        )

    def conditional_expected_spend(self, frequency: Any, monetary_value: Any = None) -> FloatArray:
        return np.asarray(
            self.fit.conditional_expected_spend(frequency, monetary_value, **self.kw),
            dtype=np.float64,
        )


def _covariate_kwargs(cols: tuple[FloatArray, ...], spec: _Spec) -> dict[str, FloatArray]:
    """Rebuild the covariate matrices of a slice of rows from their columns."""
    out = {}
    start = 0
    for name, k in spec:
        out[name] = np.stack(cols[start : start + k], axis=1)
        start += k
    return out


def _required_t(t: object) -> object:
    if t is None:
        raise InputTypeError("t is required for expected_purchases and purchase_probability")
    return t


def _no_t(t: object) -> None:
    if t is not None:
        raise InputTypeError(
            "t must be left out for probability_alive and expected_spend (they have no horizon)"
        )


def _distinct_rows(
    cols: tuple[FloatArray, ...],
) -> tuple[tuple[FloatArray, ...], IntArray, FloatArray]:
    """Distinct rows of equal-length columns, each row's index into them, and counts."""
    n = cols[0].size
    if n == 0:
        return cols, np.zeros(0, dtype=np.int64), np.zeros(0)
    order = np.lexsort(cols[::-1])
    new = np.zeros(n, dtype=np.bool_)
    new[0] = True
    for c in cols:
        s = c[order]
        new[1:] |= s[1:] != s[:-1]
    code = np.cumsum(new) - 1
    inverse = np.empty(n, dtype=np.int64)
    inverse[order] = code
    firsts = order[new]
    counts = np.bincount(code, minlength=firsts.size).astype(np.float64)
    return tuple(c[firsts] for c in cols), inverse, counts


def _evaluator(  # noqa: PLR0917 - private
    fit: Any,
    quantity: str,
    t: float | None,
    rows: tuple[FloatArray, ...],
    n_draws: int,
    spec: _Spec = (),
) -> Callable[[Any, slice], FloatArray]:
    """Return ``evaluate(fit_at_draw, rows_slice)`` for :func:`prediction_interval`.

    In the continuous-time models the expected purchases and the purchase
    probability are P(alive | x, t_x, T) times the same prediction given alive
    at T, which depends on (x, T) only: being alive at T, the likelihood of the
    history is that of x purchases in (0, T] without dropout, whatever t_x.
    That second factor (a hypergeometric or a quadrature) is computed once per
    distinct (x, T) and draw, and cached while the cache stays small; only the
    cheap P(alive) runs over every distinct history.
    """
    direct = _direct(quantity, t, rows, spec, fit)
    if spec or not (
        isinstance(fit, _CONTINUOUS) and quantity in ("expected_purchases", "purchase_probability")
    ):
        return direct
    x, _, big_t = rows
    pairs, pair_of_row, _ = _distinct_rows((x, big_t))
    if pairs[0].size * (n_draws + 1) > _CHUNK_CELLS or pairs[0].size * 2 > x.size:
        return direct
    px, pt = pairs
    ptx = np.where(px > 0, pt, 0.0)  # a history ending in a purchase at T (or none)
    cache: dict[bytes, FloatArray] = {}

    def given_alive(f: Any) -> FloatArray:
        key = np.asarray(f.params.as_array(), dtype=np.float64).tobytes()
        if key not in cache:
            alive = np.asarray(f.probability_alive(px, ptx, pt), dtype=np.float64)
            value = _evaluate(f, quantity, t, (px, ptx, pt))
            # P(alive) grows with t_x, so where it underflows at t_x = T the
            # prediction is 0 for every t_x
            with np.errstate(all="ignore"):
                cache[key] = np.where(alive > 0, value / alive, 0.0)
        return cache[key]

    def evaluate(f: Any, sl: slice) -> FloatArray:
        if f is fit:  # the estimate: the public method validates the histories once
            alive = np.asarray(f.probability_alive(x[sl], rows[1][sl], big_t[sl]), dtype=np.float64)
        else:
            alive = _alive(f, x[sl], rows[1][sl], big_t[sl])
        alive *= given_alive(f)[pair_of_row[sl]]
        return alive

    return evaluate


def _alive(f: Any, x: FloatArray, tx: FloatArray, big_t: FloatArray) -> FloatArray:
    """P(alive) of validated histories in the fit's unit, by the models' own kernels.

    The histories were validated once (the point estimate goes through the
    fit's public method), so the draws skip the validation and copies of
    every call; the kernels are those of the public functions, so the values
    are the same to the bit.
    """
    theta = f.params.as_array()
    if isinstance(f, bgnbd.BgNbdFit):
        return bgnbd._probability_alive(theta, x, tx, big_t, bgnbd._BG)
    if isinstance(f, mbgnbd.MbgNbdFit):
        return bgnbd._probability_alive(theta, x, tx, big_t, mbgnbd._MBG)
    if isinstance(f, pareto_nbd.ParetoNbdFit) and x.size:
        return pareto_nbd._probability_alive(theta, x, tx, big_t)
    return np.asarray(f.probability_alive(x, tx, big_t), dtype=np.float64)


def _direct(
    quantity: str,
    t: float | None,
    rows: tuple[FloatArray, ...],
    spec: _Spec = (),
    fit: Any = None,
) -> Callable[[Any, slice], FloatArray]:
    """Return ``evaluate(fit_at_draw, rows_slice)`` calling the fits' methods.

    The fit at its estimate (``fit``) goes through the public method, which
    validates the histories; the draws then use the kernels (:func:`_alive`).
    """
    n_hist = len(rows) - sum(k for _, k in spec)
    fit_at_estimate = [fit]

    def evaluate(f: Any, sl: slice) -> FloatArray:
        cols = tuple(c[sl] for c in rows)
        if quantity == "probability_alive" and not spec and f is not fit_at_estimate[0]:
            return _alive(f, *cols)
        kw = _covariate_kwargs(cols[n_hist:], spec)
        return _evaluate(f, quantity, t, cols[:n_hist], kw)

    return evaluate


def _evaluate(
    fit: Any,
    quantity: str,
    t: float | None,
    rows: tuple[FloatArray, ...],
    kw: dict[str, FloatArray] | None = None,
) -> FloatArray:
    kw = kw or {}
    if quantity == "probability_alive":
        out = fit.probability_alive(*rows, **kw)
    elif quantity == "expected_purchases":
        out = fit.conditional_expected_purchases(t, *rows, **kw)
    elif quantity == "purchase_probability":
        out = fit.conditional_purchase_probability(t, *rows, **kw)
    else:
        out = fit.conditional_expected_spend(*rows, **kw)
    return np.asarray(out, dtype=np.float64)


class _JointFit:
    """Two independent fits seen as one parameter vector (block-diagonal covariance)."""

    def __init__(self, first: Any, second: Any) -> None:
        self.first, self.second = first, second
        self.k1 = _mean_cov(first)[0].size

    def parts(self) -> tuple[Any, Any]:
        return self.first, self.second


class _AtParams:
    """A joint fit evaluated at another vector on the optimiser's scale."""

    def __init__(self, joint: _JointFit, u: FloatArray) -> None:
        self.joint, self.u = joint, u

    def parts(self) -> tuple[Any, Any]:
        k1 = self.joint.k1
        return _at_u(self.joint.first, self.u[:k1]), _at_u(self.joint.second, self.u[k1:])


def _is_covariate(fit: Any) -> bool:
    return isinstance(fit, (*_PURCHASE_COVARIATE, _spc.GammaGammaCovariateFit))


def _coefficients(fit: Any) -> FloatArray:
    if isinstance(fit, _spc.GammaGammaCovariateFit):
        return np.asarray(fit.spend_coefficients, dtype=np.float64)
    return np.concatenate([fit.purchase_coefficients, fit.dropout_coefficients])


def _mean_cov(fit: Any) -> tuple[FloatArray, FloatArray]:
    """Return the estimates and their covariance on the optimiser's scale.

    Plain fits: log-parameters (their natural-scale covariance mapped back,
    see :mod:`crmcore.models._draws`); covariate fits: logs of the base
    parameters, then the coefficients as they are (their covariance as held).
    """
    if isinstance(fit, _JointFit):
        m1, c1 = _mean_cov(fit.first)
        m2, c2 = _mean_cov(fit.second)
        k1, k2 = m1.size, m2.size
        cov = np.zeros((k1 + k2, k1 + k2))
        cov[:k1, :k1], cov[k1:, k1:] = c1, c2
        return np.concatenate([m1, m2]), cov
    if not _is_covariate(fit):
        return _draws.log_covariance(fit.params, fit.covariance)
    mean = np.concatenate([np.log(fit.params.as_array()), _coefficients(fit)])
    cov = np.asarray(fit.covariance, dtype=np.float64)
    if cov.shape != (mean.size, mean.size) or not np.all(np.isfinite(cov)):
        raise InputError(
            f"covariance must be a finite ({mean.size}, {mean.size}) matrix for the parameters "
            f"{', '.join(fit.covariance_names)}, got shape {cov.shape}"
        )
    return mean, 0.5 * (cov + cov.T)


def _log_mask(fit: Any) -> BoolArray:
    """Which entries of the optimiser's vector are logs of positive parameters."""
    if isinstance(fit, _JointFit):
        return np.concatenate([_log_mask(fit.first), _log_mask(fit.second)])
    k0 = fit.params.as_array().size
    k = k0 + (_coefficients(fit).size if _is_covariate(fit) else 0)
    return np.asarray(np.arange(k) < k0, dtype=np.bool_)


def _at_u(fit: Any, u: FloatArray) -> Any:
    """Return the fit with its parameters replaced by ``u`` (the optimiser's scale)."""
    if isinstance(fit, _JointFit):
        return _AtParams(fit, u)
    # the estimated parameters are the first fields (BG/CNBD-k keeps its k as it is)
    k0 = fit.params.as_array().size
    names = [a.name for a in attrs.fields(type(fit.params))][:k0]
    params = attrs.evolve(
        fit.params, **{n: float(math.exp(x)) for n, x in zip(names, u[:k0], strict=True)}
    )
    if not _is_covariate(fit):
        return attrs.evolve(fit, params=params)
    coef = np.asarray(u[k0:], dtype=np.float64)
    if isinstance(fit, _spc.GammaGammaCovariateFit):
        return attrs.evolve(fit, params=params, spend_coefficients=coef)
    kp = fit.purchase_coefficients.size
    return attrs.evolve(
        fit, params=params, purchase_coefficients=coef[:kp], dropout_coefficients=coef[kp:]
    )


def _u_draws(fit: Any, n: int, rng: SeedLike) -> FloatArray:
    """Draws (n, k) on the optimiser's scale of a fit or of a joint fit (fits in order)."""
    gen = v.as_generator(rng)
    if isinstance(fit, _JointFit):
        a = _u_draws(fit.first, n, gen)
        b = _u_draws(fit.second, n, gen)
        return np.concatenate([a, b], axis=1)
    mean, cov_u = _mean_cov(fit)
    root = _draws.matrix_root(cov_u)
    return np.asarray(mean + gen.standard_normal((n, mean.size)) @ root, dtype=np.float64)


def _draw_fits(fit: Any, n: int, rng: SeedLike) -> list[Any]:
    """Return the fit at ``n`` drawn parameter sets; InputError when a draw overflows."""
    u = _u_draws(fit, n, rng)
    logs = _log_mask(fit)
    with np.errstate(over="ignore"):
        big = ~np.isfinite(np.exp(np.where(logs, u, 0.0))) | ~np.isfinite(u)
    if big.any():
        raise InputError(
            "the covariance is too wide to draw finite parameters on the log scale; the fit "
            "does not identify its parameters (see its converged flag)"
        )
    return [_at_u(fit, row) for row in u]


def _interval(
    fit: Any,
    evaluate: Callable[[Any, slice], FloatArray],
    counts: FloatArray,
    *,
    level: float,
    n_draws: int,
    rng: SeedLike,
    method: str,
    quantity: str,
) -> tuple[FloatArray, FloatArray, FloatArray, tuple[float, float, float]]:
    """Point, lower, upper per distinct row, and (total, lower, upper) of the weighted sum."""
    point = evaluate(fit, _ALL)
    total = float(point @ counts) if point.size else 0.0
    if method == "delta":
        return _delta(fit, evaluate, point, counts, level=level, quantity=quantity)
    fits = _draw_fits(fit, n_draws, rng)
    probs = np.array([(1.0 - level) / 2.0, (1.0 + level) / 2.0])
    size = point.size
    lower = np.empty(size)
    upper = np.empty(size)
    totals = np.zeros(n_draws)
    chunk = max(1, _CHUNK_CELLS // n_draws)
    values = np.empty((n_draws, min(chunk, max(size, 1))))
    for start in range(0, size, chunk):
        stop = min(start + chunk, size)
        sl = slice(start, stop)
        block = values[:, : stop - start]
        for d, f in enumerate(fits):
            block[d] = evaluate(f, sl)
        if not np.all(np.isfinite(block)):
            raise InputError(  # pragma: no cover - the models are finite at positive params
                f"the {quantity} is not finite at some drawn parameters"
            )
        totals += block @ counts[start:stop]  # before the partition reorders the columns
        lower[start:stop], upper[start:stop] = _column_quantiles(block, probs)
    t_lo, t_hi = np.quantile(totals, probs)
    return point, lower, upper, (total, float(t_lo), float(t_hi))


def _delta(
    fit: Any,
    evaluate: Callable[[Any, slice], FloatArray],
    point: FloatArray,
    counts: FloatArray,
    *,
    level: float,
    quantity: str,
) -> tuple[FloatArray, FloatArray, FloatArray, tuple[float, float, float]]:
    """Delta-method intervals: gradient in the log-parameters by central differences."""
    mean, cov = _mean_cov(fit)
    k = mean.size
    jac = np.empty((point.size, k))
    for j in range(k):
        step = np.zeros(k)
        step[j] = _DELTA_STEP
        up = evaluate(_at_u(fit, mean + step), _ALL)
        down = evaluate(_at_u(fit, mean - step), _ALL)
        jac[:, j] = (up - down) / (2 * _DELTA_STEP)
    var = np.einsum("ij,jk,ik->i", jac, cov, jac)
    se = np.sqrt(np.maximum(var, 0.0))
    z = float(sc.ndtri((1.0 + level) / 2.0))
    prob = quantity in _PROBABILITIES
    lower, upper = _transformed(point, se, z, prob)
    g_total = counts @ jac
    total = float(point @ counts) if point.size else 0.0
    se_total = math.sqrt(max(float(g_total @ cov @ g_total), 0.0))
    t_lo, t_hi = _transformed(np.array([total]), np.array([se_total]), z, False)
    return point, lower, upper, (total, float(t_lo[0]), float(t_hi[0]))


def _transformed(
    point: FloatArray, se: FloatArray, z: float, probability: bool
) -> tuple[FloatArray, FloatArray]:
    """Return the normal interval on the logit (probabilities) or log scale, mapped back.

    Where the point sits on the edge of the scale (0, or 1 for probabilities)
    the interval is the plain normal one clipped to the range.
    """
    with np.errstate(all="ignore"):
        if probability:
            inside = (point > 0) & (point < 1)
            centre = sc.logit(point)
            half = z * se / (point * (1.0 - point))
            lo, hi = sc.expit(centre - half), sc.expit(centre + half)
            plain_lo = np.clip(point - z * se, 0.0, 1.0)
            plain_hi = np.clip(point + z * se, 0.0, 1.0)
        else:
            inside = point > 0
            centre = np.log(point)
            half = z * se / point
            lo, hi = np.exp(centre - half), np.exp(centre + half)
            plain_lo = np.maximum(point - z * se, 0.0)
            plain_hi = point + z * se
        ok = inside & np.isfinite(lo) & np.isfinite(hi)
        lower = np.where(ok, lo, plain_lo)
        upper = np.where(ok, hi, plain_hi)
    zero = se == 0
    lower = np.where(zero, point, np.minimum(lower, point))
    upper = np.where(zero, point, np.maximum(upper, point))
    return np.asarray(lower, dtype=np.float64), np.asarray(upper, dtype=np.float64)


def _tracking_draws(  # noqa: PLR0917 - private
    model: Any, fit: Any, n_units: int, level: float, n_draws: int, seed: int
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Percentile bounds of the incremental and cumulative series over parameter draws.

    The series of every draw is computed for a block of reporting periods at a
    time (one block unless draws x periods exceeds four million cells).
    """
    fits = _draw_fits(fit, n_draws, seed)
    probs = np.array([(1.0 - level) / 2.0, (1.0 + level) / 2.0])
    out = [np.empty(n_units) for _ in range(4)]
    width = max(1, _CHUNK_CELLS // n_draws)
    for start in range(0, n_units, width):
        stop = min(start + width, n_units)
        first = max(start - 1, 0)  # the period before, for the differences
        cum = model.series(fits, slice(first, stop))
        if not np.all(np.isfinite(cum)):
            raise InputError(  # pragma: no cover - the models are finite at positive params
                "the tracking series is not finite at some drawn parameters"
            )
        inc = np.diff(cum, axis=1, prepend=0.0) if start == 0 else np.diff(cum, axis=1)
        cum = cum[:, start - first :]
        out[0][start:stop], out[1][start:stop] = _column_quantiles(inc, probs)
        out[2][start:stop], out[3][start:stop] = _column_quantiles(cum, probs)
    return out[0], out[1], out[2], out[3]


def _evaluate_draws(
    fits: list[Any], horizon: float, rows: tuple[FloatArray, ...], counts: FloatArray
) -> tuple[FloatArray, float]:
    """Return the expected counts over the draws, and the variance the draws add to the total.

    The variance of the total of counts is ``E_d[sum var_i | d] + Var_d(sum E_i | d)``;
    the per-customer mixture variances hold ``sum Var_d(E_i | d)`` in place of the second
    term, so the correction returned is ``Var_d(sum E_i | d) - sum_i Var_d(E_i | d)``.
    """
    m = rows[0].size
    mean = np.zeros(m)
    square = np.zeros(m)
    totals = np.empty(len(fits))
    for d, f in enumerate(fits):
        e = _evaluate(f, "expected_purchases", _count_horizon(f, horizon), rows)
        mean += e
        square += e * e
        totals[d] = float(e @ counts)
    k = len(fits)
    mean /= k
    if k == 1:
        return mean, 0.0
    per_row = np.maximum(square / k - mean**2, 0.0)
    shared = float(np.var(totals)) - float(per_row @ counts)
    return mean, shared


def _count_horizon(fit: Any, horizon: float) -> Any:
    return int(horizon) if isinstance(fit, bgbb.BgBbFit) else horizon


def _count_quantiles(
    fits: list[Any], fit: Any, horizon: float, rows: tuple[FloatArray, ...], level: float
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Quantiles of the count (mixture over ``fits``) and its second moment, per row.

    Cumulates the PMF over n = 0, 1, ... for the rows whose mass is not yet
    exhausted (a loop over counts, vectorised over customers).
    """
    m = rows[0].size
    q_lo, q_hi = (1.0 - level) / 2.0, (1.0 + level) / 2.0
    cum = np.zeros(m)
    second = np.zeros(m)
    lower = np.full(m, -1.0)
    upper = np.full(m, -1.0)
    active = np.arange(m)
    h = _count_horizon(fit, horizon)
    n = 0
    while active.size:
        if n > _MAX_COUNT:
            unset = int(np.sum(upper[active] < 0))
            if unset:
                raise InputError(
                    f"t is too long for a count interval: the upper quantile of {unset} "
                    f"customers' counts lies beyond {_MAX_COUNT} purchases; shorten t"
                )
            break  # the quantiles are set; the moments lose a tail beyond the cap
        sub = tuple(c[active] for c in rows)
        p = np.zeros(active.size)
        for f in fits:
            p += np.asarray(f.conditional_purchase_count_probability(n, h, *sub), dtype=np.float64)
        p /= len(fits)
        c = cum[active] + p
        cum[active] = c
        second[active] += float(n * n) * p
        # the quantile of a cumulative sum that reaches q only up to rounding counts as reached
        lo_row = lower[active]
        lower[active] = np.where((lo_row < 0) & (c >= q_lo - 1e-12), n, lo_row)
        hi_row = upper[active]
        upper[active] = np.where((hi_row < 0) & (c >= q_hi - 1e-12), n, hi_row)
        # the moments need the tail: up to 1e-9 of mass, or twice the upper quantile
        hi_row = upper[active]
        done = (c >= 1.0 - _COUNT_TAIL) | ((hi_row >= 0) & (n >= 2 * hi_row + 20))
        if done.any():
            ended = active[done]
            lower[ended] = np.where(lower[ended] < 0, n, lower[ended])
            upper[ended] = np.where(upper[ended] < 0, n, upper[ended])
            active = active[~done]
        n += 1
    return lower, upper, second


def _column_quantiles(block: FloatArray, probs: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Return the ``probs`` quantiles of every column of ``block`` (reordered in place).

    The linear interpolation of :func:`numpy.quantile` (its default): at
    virtual index ``h = p (n - 1)``, ``v[floor h] + (h - floor h)(v[floor h + 1] - v[floor h])``
    of the sorted column. Only the four order statistics needed are placed,
    by one partition of the block (no copy, no sort).
    """
    n = block.shape[0]
    virtual = probs * (n - 1)
    below = np.floor(virtual).astype(np.intp)
    above = np.minimum(below + 1, n - 1)
    frac = virtual - below
    block.partition(np.unique(np.concatenate([below, above])), axis=0)
    out = []
    for j in range(probs.size):
        lo, hi = block[below[j]], block[above[j]]
        out.append(lo + frac[j] * (hi - lo))
    return out[0], out[1]
