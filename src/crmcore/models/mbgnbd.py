"""The MBG/NBD model of repeat buying (Batislam, Denizel & Filiztekin 2007).

The BG/NBD model (:mod:`crmcore.models.bgnbd`) with one change: a customer
may also drop out right after the first purchase, with the same probability p
as after every repeat purchase. While active she buys at the points of a
Poisson process with rate lambda; lambda ~ Gamma(shape r, rate alpha) and
p ~ Beta(a, b) across customers. So a customer without repeat purchase may be
inactive, which the BG/NBD model rules out. Data: ``frequency`` (x),
``recency`` (t_x) and ``T``, measured from the first purchase.

Examples
--------
>>> from crmcore.models import mbgnbd
>>> params = mbgnbd.MbgNbdParams(r=0.25, alpha=4.0, a=0.8, b=2.5)
>>> mbgnbd.probability_alive(params, [2, 0], [30.43, 0.0], [38.86, 38.86]).round(3).tolist()
[0.775, 0.633]
"""

from __future__ import annotations

from typing import Any, overload

import attrs
import numpy as np

from crmcore._typing import ArrayLike, FloatArray, SeedLike
from crmcore.models import _covariates, _draws, _predict, _units
from crmcore.models import _inputs as inp
from crmcore.models._covariates import Covariates, MbgNbdCovariateFit
from crmcore.models._draws import ParameterDraws
from crmcore.models._inputs import positive_param
from crmcore.models._mle import fit_fields
from crmcore.models._predict import CustomerPrediction
from crmcore.models.bgnbd import (
    _alive_read,
    _conditional_expectation_each,
    _conditional_expectation_one,
    _conditional_pmf,
    _conditional_purchase_probability,
    _conditional_purchase_probability_one,
    _dert,
    _discount_rate,
    _expected_at,
    _fit_from_start,
    _log_alive_later,
    _loglik_rows,
    _objective,
    _pmf,
    _probability_alive,
    _probability_alive_one,
    _unconditional_expectation,
)
from crmcore.summary import CustomerSummary

__all__ = [
    "MbgNbdCovariateFit",
    "MbgNbdFit",
    "MbgNbdParams",
    "conditional_expected_purchases",
    "conditional_probability_alive",
    "conditional_purchase_count_probability",
    "conditional_purchase_probability",
    "discounted_expected_residual_purchases",
    "expected_purchases",
    "fit",
    "log_likelihood",
    "log_likelihood_per_customer",
    "probability_alive",
    "purchase_probability",
]

_NAMES = ("r", "alpha", "a", "b")
_MBG = 1  # shift: dropout is possible right after the first purchase


@attrs.frozen(kw_only=True)
class MbgNbdParams:
    """Parameters of the MBG/NBD model.

    Attributes
    ----------
    r, alpha : float
        Shape and rate of the gamma distribution of purchase rates; alpha is
        in the time unit of the data (changing weeks to days multiplies it
        by 7 and leaves the other parameters unchanged).
    a, b : float
        Parameters of the beta distribution of the dropout probability p.

    Raises
    ------
    InputError
        When a parameter is not positive and finite.

    Examples
    --------
    >>> MbgNbdParams(r=0.525, alpha=6.183, a=0.891, b=1.614).alpha
    6.183
    >>> MbgNbdParams(r=0.243, alpha=-1.0, a=0.793, b=2.426)
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: alpha must be > 0.0, got -1.0
    """

    r: float = positive_param()
    alpha: float = positive_param()
    a: float = positive_param()
    b: float = positive_param()

    def as_array(self) -> FloatArray:
        """Return ``[r, alpha, a, b]``."""
        return np.array([self.r, self.alpha, self.a, self.b])


@attrs.frozen(kw_only=True, eq=False)
class MbgNbdFit:
    """A fitted MBG/NBD model, built by :func:`fit`.

    Attributes
    ----------
    params : MbgNbdParams
        Maximum-likelihood estimates.
    standard_errors : MbgNbdParams
        Asymptotic standard errors (inverse observed information).
    covariance : ndarray, shape (4, 4)
        Asymptotic covariance of (r, alpha, a, b).
    log_likelihood : float
        Total log-likelihood at the estimates, weights applied.
    n_customers : float
        Customers the fit used (the sum of the weights).
    converged : bool
        False when the fit came with a ConvergenceWarning because the data
        barely identify some parameter (see :func:`fit`); a failed search
        raises instead.
    n_iterations : int
        Optimiser iterations.
    time_unit : {"h", "D", "W", "M", "Y"} or None
        Time unit of the data the fit was made on (None: unknown, e.g. a fit
        on arrays without ``time_unit=``). The rate parameters are in this
        unit; the methods given a :class:`~crmcore.CustomerSummary` in another
        unit convert its recency, T and the horizon ``t`` (in the summary's
        unit) into this one first, and refuse units that do not convert
        (days against months). Arrays are taken to be in this unit.

    Examples
    --------
    >>> f = fit([0, 1, 1, 2, 2, 3, 5, 7], [0, 2, 30, 10, 35, 20, 36, 38], [39] * 8,
    ...         weights=[600, 80, 60, 40, 50, 30, 25, 15])
    >>> f.converged, f.n_customers
    (True, 900.0)
    """

    params: MbgNbdParams
    standard_errors: MbgNbdParams
    covariance: FloatArray
    log_likelihood: float
    n_customers: float
    converged: bool
    n_iterations: int
    time_unit: str | None = _units.unit_field()

    def expected_purchases(self, t: ArrayLike) -> Any:
        """Return :func:`expected_purchases` at the fitted parameters."""
        return expected_purchases(self.params, t)

    def conditional_expected_purchases(
        self,
        t: ArrayLike,
        frequency: ArrayLike | CustomerSummary,
        recency: ArrayLike | None = None,
        T: ArrayLike | None = None,
    ) -> Any:
        """Return :func:`conditional_expected_purchases` at the fitted parameters."""
        return conditional_expected_purchases(
            self.params, *_units.convert(self.time_unit, t, frequency), recency, T
        )

    def conditional_expected_purchases_at(
        self,
        t: ArrayLike,
        frequency: ArrayLike | CustomerSummary,
        recency: ArrayLike | None = None,
        T: ArrayLike | None = None,
    ) -> Any:
        """Return :func:`conditional_expected_purchases` at several horizons at once.

        Parameters
        ----------
        t : array-like
            Forecast horizons (>= 0), one-dimensional.
        frequency, recency, T : array-like, or a CustomerSummary as ``frequency``

        Returns
        -------
        ndarray, shape (customers, len(t))
            Column k holds the expected purchases in (T, T + t[k]].
        """
        return _expected_at(
            self.params, *_units.convert(self.time_unit, t, frequency), recency, T, shift=_MBG
        )

    def conditional_purchase_probability(
        self,
        t: ArrayLike,
        frequency: ArrayLike | CustomerSummary,
        recency: ArrayLike | None = None,
        T: ArrayLike | None = None,
    ) -> Any:
        """Return :func:`conditional_purchase_probability` at the fitted parameters."""
        return conditional_purchase_probability(
            self.params, *_units.convert(self.time_unit, t, frequency), recency, T
        )

    def probability_alive(
        self,
        frequency: ArrayLike | CustomerSummary,
        recency: ArrayLike | None = None,
        T: ArrayLike | None = None,
    ) -> Any:
        """Return :func:`probability_alive` at the fitted parameters."""
        return probability_alive(
            self.params, _units.in_fit_unit(self.time_unit, frequency)[0], recency, T
        )

    def predict(
        self,
        summary: CustomerSummary,
        t: float,
        *,
        spend_fit: Any = None,
        discount_rate: float | None = None,
        annual_discount_rate: float | None = None,
        discounting: str = "discrete",
        margin: float = 1.0,
        step: float | None = None,
        spend_covariates: Any = None,
    ) -> CustomerPrediction:
        """Return every per-customer forecast over ``t`` at once (see :func:`.clv.predict`).

        P(alive), expected purchases, P(at least one purchase) and, with
        ``spend_fit``, expected spend (and CLV with a discount rate), as one
        :class:`~crmcore.models.clv.CustomerPrediction` whose ``columns()``
        make a data frame.
        ``spend_covariates`` (one row per summary row) go with a Gamma-Gamma
        covariate fit as ``spend_fit``.
        """
        return _predict.predict(
            self,
            summary,
            t,
            spend_fit=spend_fit,
            discount_rate=discount_rate,
            annual_discount_rate=annual_discount_rate,
            discounting=discounting,
            margin=margin,
            step=step,
            spend_covariates=spend_covariates,
        )

    def purchase_probability(self, n: ArrayLike, t: ArrayLike) -> Any:
        """Return :func:`purchase_probability` at the fitted parameters."""
        return purchase_probability(self.params, n, t)

    def log_likelihood_per_customer(
        self,
        frequency: ArrayLike | CustomerSummary,
        recency: ArrayLike | None = None,
        T: ArrayLike | None = None,
    ) -> Any:
        """Return :func:`log_likelihood_per_customer` at the fitted parameters."""
        return log_likelihood_per_customer(
            self.params, _units.in_fit_unit(self.time_unit, frequency)[0], recency, T
        )

    # information criteria; crmcore.models.selection.likelihood_ratio_test compares nested fits

    def aic(self) -> float:
        """Return Akaike's information criterion ``-2 log_likelihood + 2 k``.

        k is the number of parameters (``params.as_array().size``). Lower is
        better among models fitted to the same data.
        """
        k = self.params.as_array().size
        return float(2.0 * k - 2.0 * self.log_likelihood)

    def bic(self) -> float:
        """Return the Bayesian information criterion ``-2 log_likelihood + k ln n``.

        n = ``n_customers``, the customers the fit used (the sum of the weights), each
        customer's history being one independent observation of the likelihood (Schwarz
        1978: n counts the independent observations).
        """
        k = self.params.as_array().size
        return float(k * np.log(self.n_customers) - 2.0 * self.log_likelihood)

    # parameter uncertainty; crmcore.models.uncertainty turns the draws into intervals

    def sample_params(self, n_draws: int, *, rng: SeedLike) -> ParameterDraws:
        """Draw parameter sets from the asymptotic normal of the estimates.

        The draws are ``exp(u)`` with ``u ~ N(log(estimates), C)``, where C
        is the covariance of the log-parameters the optimiser searched
        (``covariance / outer(estimates, estimates)``: the fit's natural-scale
        covariance came from C by the delta method, so this recovers C).

        Parameters
        ----------
        n_draws : int
            Number of parameter sets (1 to 1,000,000).
        rng : int or numpy.random.Generator
            Seed or generator; the same seed gives the same draws.

        Returns
        -------
        ParameterDraws
            One row per draw; ``columns()`` gives one array per parameter.

        Raises
        ------
        InputError
            On ``n_draws`` out of range, a negative seed, or a covariance
            that is not finite, symmetric positive semi-definite.

        Examples
        --------
        >>> f = fit([0, 1, 1, 2, 2, 3, 5, 7], [0, 2, 30, 10, 35, 20, 36, 38], [39] * 8,
        ...         weights=[600, 80, 60, 40, 50, 30, 25, 15])
        >>> draws = f.sample_params(500, rng=0)
        >>> draws.values.shape[0], draws.names
        (500, ('r', 'alpha', 'a', 'b'))
        >>> f.sample_params(0, rng=0)
        Traceback (most recent call last):
        ...
        crmcore.errors.InputError: n_draws must be >= 1, got 0
        """
        return _draws.sample_params(self.params, self.covariance, n_draws, rng)

    # P(alive) later, P(Y = n) and DERT (the module functions of the same names)

    def conditional_probability_alive(
        self,
        t: ArrayLike,
        frequency: ArrayLike | CustomerSummary,
        recency: ArrayLike | None = None,
        T: ArrayLike | None = None,
    ) -> Any:
        """Return :func:`conditional_probability_alive` at the fitted parameters."""
        return conditional_probability_alive(
            self.params, *_units.convert(self.time_unit, t, frequency), recency, T
        )

    def conditional_purchase_count_probability(
        self,
        n: ArrayLike,
        t: ArrayLike,
        frequency: ArrayLike | CustomerSummary,
        recency: ArrayLike | None = None,
        T: ArrayLike | None = None,
    ) -> Any:
        """Return :func:`conditional_purchase_count_probability` at the fitted parameters."""
        return conditional_purchase_count_probability(
            self.params, n, *_units.convert(self.time_unit, t, frequency), recency, T
        )

    def discounted_expected_residual_purchases(
        self,
        frequency: ArrayLike | CustomerSummary,
        recency: ArrayLike | None = None,
        T: ArrayLike | None = None,
        *,
        discount_rate: float,
    ) -> Any:
        """Return :func:`discounted_expected_residual_purchases` at the fitted parameters.

        With a summary in another time unit than the fit's, ``discount_rate``
        is per time unit of the summary and converted with it.
        """
        converted, factor = _units.in_fit_unit(self.time_unit, frequency)
        return discounted_expected_residual_purchases(
            self.params,
            converted,
            recency,
            T,
            discount_rate=_discount_rate(discount_rate) / factor,
        )


# --------------------------------------------------------------------------- public API


@overload
def fit(
    frequency: ArrayLike | CustomerSummary,
    recency: ArrayLike | None = None,
    T: ArrayLike | None = None,
    *,
    weights: ArrayLike | None = None,
    initial: MbgNbdParams | None = None,
    time_unit: str | None = None,
    purchase_covariates: None = None,
    dropout_covariates: None = None,
) -> MbgNbdFit: ...
@overload
def fit(
    frequency: ArrayLike | CustomerSummary,
    recency: ArrayLike | None = None,
    T: ArrayLike | None = None,
    *,
    weights: ArrayLike | None = None,
    initial: MbgNbdParams | None = None,
    time_unit: str | None = None,
    purchase_covariates: Covariates,
    dropout_covariates: Covariates | None = None,
) -> MbgNbdCovariateFit: ...
@overload
def fit(
    frequency: ArrayLike | CustomerSummary,
    recency: ArrayLike | None = None,
    T: ArrayLike | None = None,
    *,
    weights: ArrayLike | None = None,
    initial: MbgNbdParams | None = None,
    time_unit: str | None = None,
    purchase_covariates: None = None,
    dropout_covariates: Covariates,
) -> MbgNbdCovariateFit: ...
def fit(
    frequency: ArrayLike | CustomerSummary,
    recency: ArrayLike | None = None,
    T: ArrayLike | None = None,
    *,
    weights: ArrayLike | None = None,
    initial: MbgNbdParams | None = None,
    time_unit: str | None = None,
    purchase_covariates: Covariates | None = None,
    dropout_covariates: Covariates | None = None,
) -> MbgNbdFit | MbgNbdCovariateFit:
    """Fit the MBG/NBD model by maximum likelihood.

    Parameters
    ----------
    frequency : array-like or CustomerSummary
        Repeat purchases x per customer, or a summary (then ``recency`` and
        ``T`` are left out and the customers with ``has_purchase`` are used).
    recency, T : array-like
        t_x and T per customer, in one time unit (see :func:`crmcore.summarize`).
    weights : array-like, optional
        Non-negative number of customers each row stands for (default 1).
    initial : MbgNbdParams, optional
        Starting point; by default r = 1, alpha = mean T / (mean x + 1),
        a = 1, b = 3, and on more than 40,000 distinct histories the
        estimates of a fit to a systematic sample of 20,000 of them, from
        which Newton steps with that fit's Hessian find the maximum on all.

    time_unit : {"h", "D", "W", "M", "Y"}, optional
        Time unit of ``recency`` and ``T`` when they are arrays (default:
        unknown, recorded as None, and predictions on summaries are not
        converted); with a summary its ``time_unit`` is used (an argument that
        differs from it is an InputError). Recorded as ``fit.time_unit``.
    purchase_covariates, dropout_covariates : array-like or mapping, optional
        Time-invariant covariates: a (customers, k) array (names ``z0``,
        ``z1``, ...) or a mapping name -> column, one row per customer (per
        summary row with a summary). With either, the fit is a
        :class:`MbgNbdCovariateFit` (see the explanation page on covariates
        for the parameterisation, that of CLVTools).

    Returns
    -------
    MbgNbdFit or MbgNbdCovariateFit
        The latter when covariates are given.

    Raises
    ------
    InputError
        On invalid histories (see :func:`crmcore.compress`), negative weights
        or no customer.
    InputTypeError
        When ``frequency`` is a CustomerSummary and ``recency`` or ``T`` is
        given too, when arrays are given without ``recency`` and ``T``,
        on non-numeric input, or when ``initial`` is not a MbgNbdParams.
    ConvergenceError
        When the optimiser fails or a parameter is not identified by the
        data; the message says what to try.

    Warns
    -----
    ConvergenceWarning
        When the data barely identify a parameter (a standard error above 10
        times its estimate, or nearly collinear parameters); the fit is then
        returned with ``converged=False``.

    See Also
    --------
    crmcore.models.bgnbd.fit

    Notes
    -----
    Identical histories are merged into weighted rows
    (:func:`crmcore.compress`) and terms that depend only on x are computed
    once per distinct x, so a fit costs time in proportion to the distinct
    histories. The search runs on log-parameters with the analytic gradient
    (see :func:`log_likelihood` for the likelihood).

    References
    ----------
    Batislam, E. P., Denizel, M., & Filiztekin, A. (2007). Empirical
    validation and comparison of models for customer base analysis.
    International Journal of Research in Marketing, 24(3), 201-209.

    Examples
    --------
    Eight distinct histories standing for 900 customers:

    >>> f = fit([0, 1, 1, 2, 2, 3, 5, 7], [0, 2, 30, 10, 35, 20, 36, 38], [39] * 8,
    ...         weights=[600, 80, 60, 40, 50, 30, 25, 15])
    >>> round(f.params.r, 3), round(f.params.alpha, 2), round(f.standard_errors.r, 3)
    (2.278, 30.17, 0.854)
    >>> round(f.log_likelihood, 2)
    -2959.61
    >>> fit([1], [5.0], [4.0])
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: recency must not exceed T; 1 of 1 customers breaks this ...
    """
    if purchase_covariates is not None or dropout_covariates is not None:
        return _covariates.fit_mbgnbd(
            frequency,
            recency,
            T,
            weights=weights,
            initial=initial,
            time_unit=time_unit,
            purchase_covariates=purchase_covariates,
            dropout_covariates=dropout_covariates,
        )
    unit = _units.fit_unit(frequency, time_unit)
    data = inp.prepare_fit_data(frequency, recency, T, weights)
    if initial is not None:
        inp.check_params(initial, MbgNbdParams, "initial")
    res = _fit_from_start(data, initial, _MBG, "MBG/NBD")
    return MbgNbdFit(
        **fit_fields(res, MbgNbdParams),
        n_customers=data.n_customers,
        time_unit=unit,
    )


def log_likelihood(
    params: MbgNbdParams,
    frequency: ArrayLike | CustomerSummary,
    recency: ArrayLike | None = None,
    T: ArrayLike | None = None,
    *,
    weights: ArrayLike | None = None,
) -> float:
    """Total MBG/NBD log-likelihood of the customers' histories.

    Parameters
    ----------
    params : MbgNbdParams
    frequency, recency, T : array-like, or a CustomerSummary as ``frequency``
        The histories (x, t_x, T); with a summary the customers with
        ``has_purchase`` count.
    weights : array-like, optional
        Non-negative weight per row (default 1).

    Returns
    -------
    float
        ``sum(weights * log L_i)``.

    Raises
    ------
    InputError
        On invalid histories or weights.
    InputTypeError
        When ``frequency`` is a CustomerSummary and ``recency`` or ``T`` is
        given too, when arrays are given without ``recency`` and ``T``,
        or on non-numeric input.

    Notes
    -----
    Batislam, Denizel & Filiztekin (2007):

    ``L = B(a, b+x+1)/B(a, b) * Γ(r+x) α^r / (Γ(r) (α+T)^(r+x))
    + B(a+1, b+x)/B(a, b) * Γ(r+x) α^r / (Γ(r) (α+t_x)^(r+x))``
    (the second term, dropout after the last purchase, exists also for x = 0),

    evaluated in log space (log-gamma, log-beta and ``logaddexp``), so that it
    stays finite for thousands of purchases.

    References
    ----------
    Batislam, E. P., Denizel, M., & Filiztekin, A. (2007). Empirical
    validation and comparison of models for customer base analysis.
    International Journal of Research in Marketing, 24(3), 201-209.

    Examples
    --------
    >>> p = MbgNbdParams(r=0.25, alpha=4.0, a=0.8, b=2.5)
    >>> round(log_likelihood(p, [0, 200], [0.0, 38.0], [40.0, 40.0]), 4)
    100.369
    >>> log_likelihood(p, [0], [1.0], [40.0])
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: recency must be 0 where frequency is 0 (no repeat purchase); ...
    """
    inp.check_params(params, MbgNbdParams)
    data = inp.prepare_fit_data(frequency, recency, T, weights)
    value, _ = _objective(data, _MBG)(params.as_array())
    return float(value)


def log_likelihood_per_customer(
    params: MbgNbdParams,
    frequency: ArrayLike | CustomerSummary,
    recency: ArrayLike | None = None,
    T: ArrayLike | None = None,
) -> Any:
    """MBG/NBD log-likelihood of each customer's history.

    Parameters
    ----------
    params : MbgNbdParams
    frequency, recency, T : array-like, or a CustomerSummary as ``frequency``
        With a summary, one value per summary row; rows without purchase
        have x = t_x = T = 0 and log-likelihood 0.
        Single numbers are one customer: the result is then a float.

    Returns
    -------
    float or ndarray
        log L_i, see :func:`log_likelihood`.

    Raises
    ------
    InputError
        On invalid histories.
    InputTypeError
        When ``frequency`` is a CustomerSummary and ``recency`` or ``T`` is
        given too, when arrays are given without ``recency`` and ``T``,
        or on non-numeric input.

    Examples
    --------
    >>> p = MbgNbdParams(r=0.25, alpha=4.0, a=0.8, b=2.5)
    >>> log_likelihood_per_customer(p, [0, 200], [0.0, 38.0], [40.0, 40.0]).round(6).tolist()
    [-0.417928, 100.78691]
    >>> log_likelihood_per_customer(p, [1], [2.0], [1.0])
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: recency must not exceed T; ...
    """
    inp.check_params(params, MbgNbdParams)
    h = inp.histories(frequency, recency, T)
    return inp.finish(_loglik_rows(params.as_array(), h.x, h.tx, h.T, _MBG), h.single)


@overload
def expected_purchases(params: MbgNbdParams, t: float) -> float: ...
@overload
def expected_purchases(params: MbgNbdParams, t: ArrayLike) -> FloatArray: ...
def expected_purchases(params: MbgNbdParams, t: ArrayLike) -> Any:
    """Return the expected repeat purchases E[X(t)] of a new customer in (0, t].

    Parameters
    ----------
    params : MbgNbdParams
    t : float or array-like
        Time since the first purchase (>= 0), in the unit of alpha.

    Returns
    -------
    float or ndarray
        Same shape as ``t``.

    Raises
    ------
    InputError
        When ``t`` is negative or not finite.

    Notes
    -----
    Batislam, Denizel & Filiztekin (2007):
    ``E[X(t)] = b/(a-1) * [1 - (α/(α+t))^r 2F1(r, b+1; a+b; t/(α+t))]``,
    equivalently ``b/(a+b) E_p[(1 - (1 + p t/α)^(-r)) / p]`` with
    p ~ Beta(a, b+1),
    which is how it is evaluated: finite for every a > 0 (also a <= 1, where
    the expected number of purchases over an unlimited time is infinite) and
    at a = 1. The hypergeometric function is used in its Euler-transformed
    form, with a power series for short times and a quadrature in logit(p)
    where the library function fails.

    Examples
    --------
    >>> p = MbgNbdParams(r=0.525, alpha=6.183, a=0.891, b=1.614)
    >>> expected_purchases(p, [0.0, 39.0, 78.0]).round(4).tolist()
    [0.0, 1.183, 1.8048]
    >>> expected_purchases(p, -1.0)
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: t must be >= 0.0, got -1.0
    """
    inp.check_params(params, MbgNbdParams)
    tt, scalar = inp.times(t, "t")
    out = _unconditional_expectation(params.as_array(), tt, _MBG)
    return float(out[0]) if scalar else out


def conditional_expected_purchases(
    params: MbgNbdParams,
    t: ArrayLike,
    frequency: ArrayLike | CustomerSummary,
    recency: ArrayLike | None = None,
    T: ArrayLike | None = None,
) -> Any:
    """Return the expected purchases in (T, T + t] given each customer's history.

    Parameters
    ----------
    params : MbgNbdParams
    t : float or array-like
        Length of the forecast period (>= 0): one number for every customer,
        or one value per customer.
    frequency, recency, T : array-like, or a CustomerSummary as ``frequency``
        Histories (x, t_x, T). With a summary every row is used; rows without
        purchase (x = t_x = T = 0) get the value of a customer who just made
        a first purchase.
        Single numbers are one customer: the result is then a float.

    Returns
    -------
    float or ndarray
        One value per customer, >= 0 and non-decreasing in ``t``.

    Raises
    ------
    InputError
        On invalid histories or a negative ``t``.
    InputTypeError
        When ``frequency`` is a CustomerSummary and ``recency`` or ``T`` is
        given too, when arrays are given without ``recency`` and ``T``,
        or on non-numeric input.

    Notes
    -----
    Batislam, Denizel & Filiztekin (2007):
    ``E[Y(t) | x, t_x, T] = P(alive) * (a+b+x)/(a-1)
    * [1 - ((α+T)/(α+T+t))^(r+x) 2F1(r+x, b+x+1; a+b+x; t/(α+T+t))]``,
    the bracketed factor evaluated as the posterior mean
    ``E[(1 - (1 + p t/(α+T))^(-(r+x))) / p]``, p ~ Beta(a, b+x+1) (see
    :func:`expected_purchases`).

    Examples
    --------
    >>> p = MbgNbdParams(r=0.525, alpha=6.183, a=0.891, b=1.614)
    >>> conditional_expected_purchases(p, 39.0, [2, 0], [30.43, 0.0], [38.86, 38.86]).round(4)
    array([1.263, 0.154])
    >>> conditional_expected_purchases(p, 39.0, [2], [30.43], [38.86, 38.86])
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: T must have the same length as frequency; got 2 and 1
    """
    inp.check_params(params, MbgNbdParams)
    one = inp.one_customer(frequency, recency, T)
    if one is not None and (t1 := inp.one_time(t)) is not None:  # the scalar fast path
        return _conditional_expectation_one(params, t1, one, _MBG)
    h = inp.histories(frequency, recency, T)
    tt = inp.horizon(t, h.x.size)
    out = _conditional_expectation_each(params.as_array(), tt, (h.x, h.tx, h.T), _MBG)
    return inp.finish(out, h.single)


def conditional_purchase_probability(
    params: MbgNbdParams,
    t: ArrayLike,
    frequency: ArrayLike | CustomerSummary,
    recency: ArrayLike | None = None,
    T: ArrayLike | None = None,
) -> Any:
    """Probability that each customer makes at least one purchase in (T, T + t].

    Parameters
    ----------
    params : MbgNbdParams
    t : float or array-like
        Length of the forecast period (>= 0): one number for every customer,
        or one value per customer.
    frequency, recency, T : array-like, or a CustomerSummary as ``frequency``
        Histories (x, t_x, T). With a summary every row is used; rows without
        purchase (x = t_x = T = 0) get the value of a customer who just made
        a first purchase.
        Single numbers are one customer: the result is then a float.

    Returns
    -------
    float or ndarray
        One value per customer in [0, P(alive)], 0 at ``t = 0`` and
        non-decreasing in ``t``.

    Raises
    ------
    InputError
        On invalid histories or a negative ``t``.
    InputTypeError
        When ``frequency`` is a CustomerSummary and ``recency`` or ``T`` is
        given too, when arrays are given without ``recency`` and ``T``,
        or on non-numeric input.

    See Also
    --------
    probability_alive, conditional_expected_purchases

    Notes
    -----
    In the MBG/NBD model a customer drops out, with probability p, right
    after a purchase (the first one included), never between purchases. So a
    customer alive at T makes her next purchase, at rate λ, before any
    chance to drop out: it falls in (T, T + t] with probability
    ``1 - exp(-λ t)``. Given the history and being alive at T, λ follows the
    posterior Gamma(r + x, α + T) (the likelihood of being alive at T is
    ``λ^x exp(-λ T) (1-p)^(x+1)``), so, as in the BG/NBD model,

    ``P(Y(t) > 0 | x, t_x, T) = P(alive | x, t_x, T)
    * (1 - ((α+T)/(α+T+t))^(r+x))``,

    with the MBG/NBD ``P(alive)`` (see :func:`probability_alive`), in log
    space and with ``expm1``/``log1p`` for short ``t``.

    References
    ----------
    Batislam, E. P., Denizel, M., & Filiztekin, A. (2007). Empirical
    validation and comparison of models for customer base analysis.
    International Journal of Research in Marketing, 24(3), 201-209.

    Examples
    --------
    >>> p = MbgNbdParams(r=0.525, alpha=6.183, a=0.891, b=1.614)
    >>> conditional_purchase_probability(p, 39.0, [2, 0], [30.43, 0.0], [38.86, 38.86]).round(4)
    array([0.56  , 0.1088])
    >>> conditional_purchase_probability(p, 39.0, [2], [30.43], [38.86, 38.86])
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: T must have the same length as frequency; got 2 and 1
    """
    inp.check_params(params, MbgNbdParams)
    one = inp.one_customer(frequency, recency, T)
    if one is not None and (t1 := inp.one_time(t)) is not None:  # the scalar fast path
        return _conditional_purchase_probability_one(params, t1, one, _MBG)
    read = _alive_read(params.as_array(), frequency, recency, T, _MBG, t=t)
    if read is not None:  # valid arrays, checked as they are read
        return read
    h = inp.histories(frequency, recency, T)
    tt = inp.horizon(t, h.x.size)
    out = _conditional_purchase_probability(params.as_array(), tt, (h.x, h.tx, h.T), _MBG)
    return inp.finish(out, h.single)


def probability_alive(
    params: MbgNbdParams,
    frequency: ArrayLike | CustomerSummary,
    recency: ArrayLike | None = None,
    T: ArrayLike | None = None,
) -> Any:
    """Probability that each customer is still active at T.

    Parameters
    ----------
    params : MbgNbdParams
    frequency, recency, T : array-like, or a CustomerSummary as ``frequency``
        Single numbers are one customer: the result is then a float.

    Returns
    -------
    float or ndarray
        Values in [0, 1], below 1 also for customers without repeat
        purchase (they may have dropped out right after the first).

    Raises
    ------
    InputError
        On invalid histories.
    InputTypeError
        When ``frequency`` is a CustomerSummary and ``recency`` or ``T`` is
        given too, when arrays are given without ``recency`` and ``T``,
        or on non-numeric input.

    Notes
    -----
    Batislam, Denizel & Filiztekin (2007):
    ``P(alive) = 1 / (1 + a/(b+x) ((α+T)/(α+t_x))^(r+x))``, for x = 0 too,
    computed as a logistic function of the log-odds.

    References
    ----------
    Batislam, E. P., Denizel, M., & Filiztekin, A. (2007). Empirical
    validation and comparison of models for customer base analysis.
    International Journal of Research in Marketing, 24(3), 201-209.

    Examples
    --------
    >>> p = MbgNbdParams(r=0.525, alpha=6.183, a=0.891, b=1.614)
    >>> probability_alive(p, [1, 1], [1.0, 30.0], [38.0, 38.0]).round(4).tolist()
    [0.1552, 0.6839]
    >>> probability_alive(p, [-1], [0.0], [3.0])
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: frequency must be non-negative; ...
    """
    inp.check_params(params, MbgNbdParams)
    one = inp.one_customer(frequency, recency, T)
    if one is not None:  # the scalar fast path
        return _probability_alive_one(params, one, _MBG)
    read = _alive_read(params.as_array(), frequency, recency, T, _MBG)
    if read is not None:  # valid arrays, checked as they are read
        return read
    h = inp.histories(frequency, recency, T)
    return inp.finish(_probability_alive(params.as_array(), h.x, h.tx, h.T, _MBG), h.single)


@overload
def purchase_probability(params: MbgNbdParams, n: int, t: float) -> float: ...
@overload
def purchase_probability(params: MbgNbdParams, n: ArrayLike, t: ArrayLike) -> FloatArray: ...
def purchase_probability(params: MbgNbdParams, n: ArrayLike, t: ArrayLike) -> Any:
    """Probability P(X(t) = n) that a new customer makes n repeat purchases in (0, t].

    Parameters
    ----------
    params : MbgNbdParams
    n : int or array-like of int
        Number of repeat purchases (>= 0).
    t : float or array-like
        Length of the period (>= 0); broadcast against ``n``.

    Returns
    -------
    float or ndarray
        A float when both are scalars.

    Raises
    ------
    InputError
        On negative or fractional ``n`` or negative ``t``.

    Notes
    -----
    The BG/NBD expression of Fader, Hardie & Lee (2005) with the extra
    dropout chance: ``P(X(t)=n) = B(a, b+n+1)/B(a, b) NB(n; r, α/(α+t))
    + B(a+1, b+n)/B(a, b) P(NB >= n)`` (P(NB >= 0) = 1),
    where NB is the negative binomial count of a customer who never drops out
    and ``P(NB >= n) = I_{t/(α+t)}(n, r)`` (regularised incomplete beta), i.e.
    the finite sum of the paper in closed form.

    Examples
    --------
    >>> p = MbgNbdParams(r=0.525, alpha=6.183, a=0.891, b=1.614)
    >>> purchase_probability(p, [0, 1, 2], 39.0).round(4).tolist()
    [0.5825, 0.1828, 0.0869]
    >>> purchase_probability(p, 1.5, 39.0)
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: n must hold whole numbers; 1 of 1 values breaks this ...
    """
    inp.check_params(params, MbgNbdParams)
    nn, tt, scalar = inp.counts_and_times(n, t)
    out = _pmf(params.as_array(), nn, tt, _MBG)
    return float(out[0]) if scalar else out


# ------------------------------------------------------------- P(alive) later, P(Y = n), DERT
# As in crmcore.models.bgnbd, with the dropout possible right after the first
# purchase: alive at T, p ~ Beta(a, b+x+1).


def conditional_probability_alive(
    params: MbgNbdParams,
    t: ArrayLike,
    frequency: ArrayLike | CustomerSummary,
    recency: ArrayLike | None = None,
    T: ArrayLike | None = None,
) -> Any:
    """Probability that each customer is still active at T + t, given the history.

    Parameters
    ----------
    params : MbgNbdParams
    t : float or array-like
        Time after T (>= 0): one number for every customer, or one value per
        customer. ``t = 0`` gives :func:`probability_alive`.
    frequency, recency, T : array-like, or a CustomerSummary as ``frequency``
        Histories (x, t_x, T); single numbers are one customer (a float back).

    Returns
    -------
    float or ndarray
        Values in [0, P(alive)], non-increasing in ``t``.

    Raises
    ------
    InputError
        On invalid histories or a negative ``t``.
    InputTypeError
        When ``frequency`` is a CustomerSummary and ``recency`` or ``T`` is
        given too, when arrays are given without ``recency`` and ``T``,
        or on non-numeric input.

    Notes
    -----
    As :func:`crmcore.models.bgnbd.conditional_probability_alive` with the
    posterior p ~ Beta(a, b+x+1): ``P(alive at T+t) = P(alive)
    2F1(r+x, a; a+b+x+1; -t/(α+T))``.

    References
    ----------
    Batislam, E. P., Denizel, M., & Filiztekin, A. (2007). Empirical
    validation and comparison of models for customer base analysis.
    International Journal of Research in Marketing, 24(3), 201-209.

    Examples
    --------
    >>> p = MbgNbdParams(r=0.25, alpha=4.0, a=0.8, b=2.5)
    >>> conditional_probability_alive(p, [0.0, 52.0], [2, 0], [30.43, 0.0], [38.86, 38.86])
    array([0.77459593, 0.60428678])
    >>> conditional_probability_alive(p, -1.0, 2, 30.43, 38.86)
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: t must be >= 0.0, got -1.0
    """
    inp.check_params(params, MbgNbdParams)
    h = inp.histories(frequency, recency, T)
    tt = inp.horizon(t, h.x.size)
    out = np.exp(_log_alive_later(params.as_array(), tt, (h.x, h.tx, h.T), _MBG))
    return inp.finish(np.asarray(out, dtype=np.float64), h.single)


def conditional_purchase_count_probability(  # noqa: PLR0917 (the family's order)
    params: MbgNbdParams,
    n: ArrayLike,
    t: ArrayLike,
    frequency: ArrayLike | CustomerSummary,
    recency: ArrayLike | None = None,
    T: ArrayLike | None = None,
) -> Any:
    """Probability that each customer makes exactly n purchases in (T, T + t], given the history.

    Parameters
    ----------
    params : MbgNbdParams
    n : int or array-like of int
        Number of purchases (>= 0): one number, or one value per customer;
        for one customer given as plain numbers, any 1-d array of counts.
    t : float or array-like
        Length of the forecast period (>= 0): one number, or one per customer.
    frequency, recency, T : array-like, or a CustomerSummary as ``frequency``
        Histories (x, t_x, T); single numbers are one customer (a float back).

    Returns
    -------
    float or ndarray
        Values in [0, 1]; summed over n they give 1, and their mean is
        :func:`conditional_expected_purchases`.

    Raises
    ------
    InputError
        On invalid histories, a negative or fractional ``n`` or a negative
        ``t``.
    InputTypeError
        When ``frequency`` is a CustomerSummary and ``recency`` or ``T`` is
        given too, when arrays are given without ``recency`` and ``T``,
        or on non-numeric input.

    Notes
    -----
    ``P(Y(t) = n | x, t_x, T) = P(alive) P_new(n; r+x, α+T, a, b+x+1, t)
    + 1{n=0} (1 - P(alive))``, with ``P_new`` the count of a new BG/NBD
    customer (equation (8) of Fader, Hardie & Lee 2005): alive at T, the
    customer cannot drop out before her next purchase. See
    :func:`crmcore.models.bgnbd.conditional_purchase_count_probability`.

    Examples
    --------
    >>> p = MbgNbdParams(r=0.25, alpha=4.0, a=0.8, b=2.5)
    >>> round(conditional_purchase_count_probability(p, 0, 39.0, 0, 0.0, 38.86), 4)
    0.9054
    >>> conditional_purchase_count_probability(p, 0.5, 39.0, 0, 0.0, 38.86)
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: n must hold whole numbers; ...
    """
    inp.check_params(params, MbgNbdParams)
    h = inp.spread_single(inp.histories(frequency, recency, T), n)
    nn = inp.counts_per_customer(n, h.x.size)
    tt = inp.horizon(t, h.x.size)
    out = _conditional_pmf(params.as_array(), nn, tt, (h.x, h.tx, h.T), _MBG)
    return inp.finish(out, h.single)


def discounted_expected_residual_purchases(
    params: MbgNbdParams,
    frequency: ArrayLike | CustomerSummary,
    recency: ArrayLike | None = None,
    T: ArrayLike | None = None,
    *,
    discount_rate: float,
) -> Any:
    """Return the discounted expected residual purchases (DERT) of each customer.

    Parameters
    ----------
    params : MbgNbdParams
    frequency, recency, T : array-like, or a CustomerSummary as ``frequency``
        Histories (x, t_x, T); single numbers are one customer (a float back).
        x = t_x = T = 0 gives the DERT of a customer just acquired.
    discount_rate : float
        Continuous discount rate per time unit of alpha (> 0).

    Returns
    -------
    float or ndarray
        Values >= 0, decreasing in ``discount_rate``.

    Raises
    ------
    InputError
        On invalid histories or a ``discount_rate`` that is not positive and
        finite.
    InputTypeError
        When ``frequency`` is a CustomerSummary and ``recency`` or ``T`` is
        given too, when arrays are given without ``recency`` and ``T``,
        or on non-numeric input.

    Notes
    -----
    ``DERT = δ ∫_0^∞ exp(-δ t) E[Y(t) | x, t_x, T] dt``, computed by the
    piecewise Gauss-Legendre rule of
    :func:`crmcore.models.bgnbd.discounted_expected_residual_purchases`
    (relative error below 1e-10 in the tests against mpmath). As δ -> 0 it
    tends to ``P(alive) (a+b+x)/(a-1)`` for a > 1.

    Examples
    --------
    >>> p = MbgNbdParams(r=0.25, alpha=4.0, a=0.8, b=2.5)
    >>> round(discounted_expected_residual_purchases(p, 2, 30.43, 38.86, discount_rate=0.002), 3)
    7.128
    >>> discounted_expected_residual_purchases(p, 2, 30.43, 38.86, discount_rate=-1.0)
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: discount_rate must be > 0.0, got -1.0
    """
    inp.check_params(params, MbgNbdParams)
    rate = _discount_rate(discount_rate)
    h = inp.histories(frequency, recency, T)
    out = _dert(params.as_array(), rate, (h.x, h.tx, h.T), _MBG)
    return inp.finish(out, h.single)
