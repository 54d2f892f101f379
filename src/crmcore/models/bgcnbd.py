"""The BG/CNBD-k model of repeat buying (Platzer & Reutterer 2016).

The BG/NBD model (:mod:`crmcore.models.bgnbd`) with regular purchase timing:
while active, the times between a customer's purchases are Erlang-k with rate
lambda (the sum of k exponential times; k = 1 gives the BG/NBD model), so
larger k means more regular buying. After every repeat purchase she drops out
for good with probability p. Across customers lambda ~ Gamma(shape r, rate
alpha) and p ~ Beta(a, b). The data per customer are ``frequency`` (x),
``recency`` (t_x), ``T`` and, for the likelihood when k > 1, ``litt``: the
sum of the logs of the times between consecutive purchases
(:attr:`crmcore.CustomerSummary.litt`). The predictions need no ``litt``.

The computations shared with the MBG/CNBD-k model
(:mod:`crmcore.models.mbgcnbd`), which differs by a possible dropout right
after the first purchase, live here as private helpers taking that
difference as a ``shift``.

Examples
--------
>>> from crmcore.models import bgcnbd
>>> params = bgcnbd.BgCnbdParams(r=1.0, alpha=4.0, a=0.8, b=2.5, k=2)
>>> bgcnbd.probability_alive(params, [2, 2], [30.0, 36.0], [38.0, 38.0]).round(3).tolist()
[0.748, 0.809]
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple, TypeVar, overload

import attrs
import numpy as np
import scipy.optimize
from scipy import special as sc

from crmcore import _validation as v
from crmcore._typing import ArrayLike, FloatArray
from crmcore.errors import ConvergenceError, InputError
from crmcore.models import _inputs as inp
from crmcore.models import _predict, _units
from crmcore.models._inputs import positive_param
from crmcore.models._mle import (
    LOG_BOUND,
    MleResult,
    Objective,
    distinct_values,
    maximize_likelihood,
)
from crmcore.models._predict import CustomerPrediction
from crmcore.models.bgnbd import (
    BgNbdParams,
    _conditional_expectation_each,
    _dot,
    _unconditional_expectation,
)
from crmcore.models.bgnbd import _conditional_pmf as _bgnbd_conditional_pmf
from crmcore.models.bgnbd import _dert as _bgnbd_dert
from crmcore.models.bgnbd import _discount_rate as _bgnbd_discount_rate
from crmcore.models.bgnbd import _log_alive_later as _bgnbd_log_alive_later
from crmcore.summary import CompressedHistories, CustomerSummary, _check_litt

__all__ = [
    "MAX_K",
    "BgCnbdFit",
    "BgCnbdParams",
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

#: Largest regularity k the Erlang-k models accept.
MAX_K = 30
#: The k tried by :func:`fit` when k is not given (as in Platzer & Reutterer 2016).
SEARCH_K = tuple(range(1, 13))
_NAMES = ("r", "alpha", "a", "b")
_BG = 0  # shift of the BG/CNBD-k model (no dropout at time 0)


def _check_k(instance: object, attribute: Any, value: Any) -> None:
    v.check_int(value, "k", low=1, high=MAX_K)


@attrs.frozen(kw_only=True)
class BgCnbdParams:
    """Parameters of the BG/CNBD-k model.

    Attributes
    ----------
    r, alpha : float
        Shape and rate of the gamma distribution of the Erlang rates lambda;
        alpha is in the time unit of the data. A customer's mean time between
        purchases is k / lambda.
    a, b : float
        Parameters of the beta distribution of the dropout probability p.
    k : int
        Regularity of the times between purchases, 1 to :data:`MAX_K` (30);
        1 is the BG/NBD model.

    Raises
    ------
    InputError
        When a parameter is not positive and finite, or k is out of range.
    InputTypeError
        When k is not an integer.

    Examples
    --------
    >>> BgCnbdParams(r=1.0, alpha=4.0, a=0.8, b=2.5, k=3).k
    3
    >>> BgCnbdParams(r=1.0, alpha=4.0, a=0.8, b=2.5, k=0)
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: k must be >= 1, got 0
    """

    r: float = positive_param()
    alpha: float = positive_param()
    a: float = positive_param()
    b: float = positive_param()
    k: int = attrs.field(validator=_check_k)

    def as_array(self) -> FloatArray:
        """Return ``[r, alpha, a, b]`` (k apart: it is not estimated by the optimiser)."""
        return np.array([self.r, self.alpha, self.a, self.b])


class _ErlangFit:
    """Methods shared by :class:`BgCnbdFit` and the MBG/CNBD-k fit (private).

    Each method evaluates the module function of the same name at the fitted
    parameters; the model (BG/CNBD-k or MBG/CNBD-k) follows from the type of
    ``params``. With a :class:`~crmcore.CustomerSummary` in another time unit
    than the fit's, its times and the horizon ``t`` are converted first.
    :func:`_with_fit_methods` copies the methods into each fit class, whose
    own namespace then lists them like any fit's.
    """

    __slots__ = ()
    params: Any
    time_unit: str | None

    @property
    def k(self) -> int:
        """The regularity k of the fit (``params.k``)."""
        return int(self.params.k)

    def expected_purchases(self, t: ArrayLike) -> Any:
        """Return ``expected_purchases`` at the fitted parameters."""
        return _new_expected(self.params, t)

    def purchase_probability(self, n: ArrayLike, t: ArrayLike) -> Any:
        """Return ``purchase_probability`` at the fitted parameters."""
        return _new_pmf(self.params, n, t)

    def conditional_expected_purchases(
        self,
        t: ArrayLike,
        frequency: ArrayLike | CustomerSummary,
        recency: ArrayLike | None = None,
        T: ArrayLike | None = None,
    ) -> Any:
        """Return ``conditional_expected_purchases`` at the fitted parameters."""
        return _expected(self.params, *_units.convert(self.time_unit, t, frequency), recency, T)

    def conditional_expected_purchases_at(
        self,
        t: ArrayLike,
        frequency: ArrayLike | CustomerSummary,
        recency: ArrayLike | None = None,
        T: ArrayLike | None = None,
    ) -> Any:
        """Return ``conditional_expected_purchases`` at several horizons at once.

        Parameters
        ----------
        t : array-like
            Forecast horizons (>= 0), one-dimensional.
        frequency, recency, T : array-like, or a CustomerSummary as ``frequency``

        Returns
        -------
        ndarray, shape (customers, len(t))
            Column j holds the expected purchases in (T, T + t[j]].
        """
        return _expected_at(self.params, *_units.convert(self.time_unit, t, frequency), recency, T)

    def conditional_purchase_probability(
        self,
        t: ArrayLike,
        frequency: ArrayLike | CustomerSummary,
        recency: ArrayLike | None = None,
        T: ArrayLike | None = None,
    ) -> Any:
        """Return ``conditional_purchase_probability`` at the fitted parameters."""
        return _buy(self.params, *_units.convert(self.time_unit, t, frequency), recency, T)

    def probability_alive(
        self,
        frequency: ArrayLike | CustomerSummary,
        recency: ArrayLike | None = None,
        T: ArrayLike | None = None,
    ) -> Any:
        """Return ``probability_alive`` at the fitted parameters."""
        return _alive(self.params, _units.in_fit_unit(self.time_unit, frequency)[0], recency, T)

    def conditional_probability_alive(
        self,
        t: ArrayLike,
        frequency: ArrayLike | CustomerSummary,
        recency: ArrayLike | None = None,
        T: ArrayLike | None = None,
    ) -> Any:
        """Return ``conditional_probability_alive`` at the fitted parameters."""
        return _alive_at(self.params, *_units.convert(self.time_unit, t, frequency), recency, T)

    def conditional_purchase_count_probability(
        self,
        n: ArrayLike,
        t: ArrayLike,
        frequency: ArrayLike | CustomerSummary,
        recency: ArrayLike | None = None,
        T: ArrayLike | None = None,
    ) -> Any:
        """Return ``conditional_purchase_count_probability`` at the fitted parameters."""
        tt, f = _units.convert(self.time_unit, t, frequency)
        return _count(self.params, n, tt, f, recency=recency, T=T)

    def discounted_expected_residual_purchases(
        self,
        frequency: ArrayLike | CustomerSummary,
        recency: ArrayLike | None = None,
        T: ArrayLike | None = None,
        *,
        discount_rate: float,
    ) -> Any:
        """Return ``discounted_expected_residual_purchases`` at the fitted parameters.

        With a summary in another time unit than the fit's, ``discount_rate``
        is per time unit of the summary and converted with it.
        """
        converted, factor = _units.in_fit_unit(self.time_unit, frequency)
        rate = _bgnbd_discount_rate(discount_rate) / factor
        return _residual(self.params, converted, recency, T, discount_rate=rate)

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
        """Return every per-customer forecast over ``t`` at once (see :func:`.clv.predict`)."""
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

    def log_likelihood_per_customer(
        self,
        frequency: ArrayLike | CustomerSummary,
        recency: ArrayLike | None = None,
        T: ArrayLike | None = None,
        *,
        litt: ArrayLike | None = None,
    ) -> Any:
        """Return ``log_likelihood_per_customer`` at the fitted parameters."""
        return _loglik_each(
            self.params, _units.in_fit_unit(self.time_unit, frequency)[0], recency, T, litt=litt
        )


_C = TypeVar("_C", bound=type)


def _with_fit_methods(cls: _C) -> _C:
    """Copy the methods of :class:`_ErlangFit` into ``cls``'s own namespace."""
    for name, member in vars(_ErlangFit).items():
        if not name.startswith("_") and name not in vars(cls):
            setattr(cls, name, member)
    return cls


@_with_fit_methods
@attrs.frozen(kw_only=True, eq=False)
class BgCnbdFit(_ErlangFit):
    """A fitted BG/CNBD-k model, built by :func:`fit`.

    Its methods (``probability_alive``, ``conditional_expected_purchases``,
    ``conditional_expected_purchases_at``, ``conditional_purchase_probability``,
    ``conditional_probability_alive``, ``conditional_purchase_count_probability``,
    ``discounted_expected_residual_purchases``, ``expected_purchases``,
    ``purchase_probability``, ``log_likelihood_per_customer``, ``predict``) are
    the module functions of the same names at the fitted parameters; given a
    :class:`~crmcore.CustomerSummary` in another time unit than the fit's, they
    convert its times, the horizon ``t`` and ``discount_rate`` first.

    Attributes
    ----------
    params : BgCnbdParams
        Maximum-likelihood estimates, with the k used (given or chosen).
    standard_errors : BgNbdParams
        Asymptotic standard errors of r, alpha, a, b given k.
    covariance : ndarray, shape (4, 4)
        Asymptotic covariance of (r, alpha, a, b) given k.
    log_likelihood : float
        Total log-likelihood at the estimates, weights applied, with the
        timing term ``(k-1) litt - x log((k-1)!)`` (0 for k = 1).
    n_customers : float
        Customers the fit used (the sum of the weights).
    converged : bool
        False when the fit came with a ConvergenceWarning (see :func:`fit`).
    n_iterations : int
        Optimiser iterations of the fit at the chosen k.
    time_unit : {"h", "D", "W", "M", "Y"} or None
        Time unit of the data the fit was made on (see
        :class:`~crmcore.models.bgnbd.BgNbdFit`).
    log_likelihood_by_k : ndarray or None
        When k was chosen by :func:`fit`: the maximised log-likelihood for
        k = 1, 2, ... 12 (entry k - 1; ``-inf`` where the fit at that k
        failed). None when k was given.

    Examples
    --------
    >>> f = fit([0, 1, 1, 2, 2, 3, 5, 7], [0, 2, 30, 10, 35, 20, 36, 38], [39] * 8, k=1,
    ...         weights=[600, 80, 60, 40, 50, 30, 25, 15])
    >>> f.k, f.n_customers, f.log_likelihood_by_k is None
    (1, 900.0, True)
    >>> round(f.conditional_probability_alive(52.0, 2, 30.0, 39.0), 4)
    0.5284
    """

    params: BgCnbdParams
    standard_errors: BgNbdParams
    covariance: FloatArray
    log_likelihood: float
    n_customers: float
    converged: bool
    n_iterations: int
    time_unit: str | None = _units.unit_field()
    log_likelihood_by_k: FloatArray | None = None


# --------------------------------------------------------------------------- public API


def fit(
    frequency: ArrayLike | CustomerSummary,
    recency: ArrayLike | None = None,
    T: ArrayLike | None = None,
    *,
    litt: ArrayLike | None = None,
    k: int | None = None,
    weights: ArrayLike | None = None,
    initial: BgNbdParams | None = None,
    time_unit: str | None = None,
) -> BgCnbdFit:
    """Fit the BG/CNBD-k model by maximum likelihood, for a given k or the best k in 1..12.

    Parameters
    ----------
    frequency : array-like or CustomerSummary
        Repeat purchases x per customer, or a summary (then ``recency``,
        ``T`` and ``litt`` are left out and the customers with
        ``has_purchase`` are used).
    recency, T : array-like
        t_x and T per customer, in one time unit.
    litt : array-like, optional
        Sum of the logs of the times between purchases per customer, in the
        unit of ``recency`` (see :attr:`crmcore.CustomerSummary.litt`).
        Needed unless k = 1.
    k : int, optional
        The regularity, 1 to 30. By default the fit is made for every k in
        1..12 and the k with the largest likelihood is kept (the profile is
        ``log_likelihood_by_k``).
    weights : array-like, optional
        Non-negative number of customers each row stands for (default 1).
    initial : BgNbdParams, optional
        Starting point of (r, alpha, a, b) for the given k (with k searched:
        for k = 1); by default r = 1, alpha = mean T / ((mean x + 1) k),
        a = 1, b = 3.
    time_unit : {"h", "D", "W", "M", "Y"}, optional
        Time unit of the arrays (see :func:`crmcore.models.bgnbd.fit`).

    Returns
    -------
    BgCnbdFit

    Raises
    ------
    InputError
        On invalid histories or a ``discount_rate`` that is not positive and
        finite.
    InputTypeError
        On the wrong combination of summary and arrays, or non-numeric input.

    Notes
    -----
    Given the history and alive at T (J, λ and p as in
    :func:`conditional_probability_alive`), the m-th purchase after T is the
    (k m - J)-th Poisson event after T, discounted on average by
    ``E[exp(-δ τ)] = q^(k m - J)``, ``q = λ/(λ+δ)``, and the customer is
    active for it with probability ``B(a, b'+m-1)/B(a, b')``. Summed over m,

    ``DERT = P(alive) sum_J w_J E_λ[q^(k-J) F(q^k)]``,
    ``F(v) = sum_{m>=0} B(a, b'+m)/B(a, b') v^m = 2F1(1, b'; a+b'; v)``,

    λ | J ~ Gamma(R + J, α + T). Only P(alive) and w_J depend on t_x, so the
    expectation is computed once per distinct (x, T) and J: a trapezoid rule
    in log λ (exact to rounding for this integrand, analytic in a strip and
    negligible at both ends), with F from its power series for v <= 1/2 and
    otherwise from ``E_p[1/(1 - v + v p)]``, p ~ Beta(a, b'), integrated in
    three parts (series in incomplete beta functions near p = 0 and 1,
    Gauss-Legendre rules in logit p between). The tests find it within 1e-10
    of the integral ``δ ∫ exp(-δ t) E[Y(t) | x, t_x, T] dt`` of
    :func:`conditional_expected_purchases` by adaptive quadrature. The
    derivation follows the model of Platzer & Reutterer (2016), who give no
    DERT for k > 1; for k = 1 it is the BG/NBD result
    (:func:`crmcore.models.bgnbd.discounted_expected_residual_purchases`),
    which is used then. As δ -> 0 it tends to the expected purchases over the
    whole future, ``P(alive) (a+b+x+s-1)/(a-1)``, finite only for a > 1.

    References
    ----------
    Platzer, M., & Reutterer, T. (2016). Ticking away the moments: Timing
    regularity helps to better predict customer activity. Marketing Science,
    35(5), 779-799.

    Examples
    --------
    >>> from crmcore.simulate import bgcnbd_histories
    >>> h = bgcnbd_histories(2.0, 8.0, 0.8, 2.5, 3, T=52.0, n_customers=3000, rng=4)
    >>> f = fit(h.frequency, h.recency, h.T, litt=h.litt)
    >>> f.k, int(np.argmax(f.log_likelihood_by_k)) + 1
    (3, 3)
    >>> fit([1], [2.0], [4.0], k=2)
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: litt is required for k > 1 ...
    """
    result: BgCnbdFit = _fit(
        frequency,
        recency,
        T,
        litt=litt,
        k=k,
        weights=weights,
        initial=initial,
        time_unit=time_unit,
        shift=_BG,
        model="BG/CNBD-k",
    )
    return result


def log_likelihood(
    params: BgCnbdParams,
    frequency: ArrayLike | CustomerSummary,
    recency: ArrayLike | None = None,
    T: ArrayLike | None = None,
    *,
    litt: ArrayLike | None = None,
    weights: ArrayLike | None = None,
) -> float:
    """Total BG/CNBD-k log-likelihood of the customers' histories.

    Parameters
    ----------
    params : BgCnbdParams
    frequency, recency, T : array-like, or a CustomerSummary as ``frequency``
        The histories; with a summary the customers with ``has_purchase``
        count and its ``litt`` is used.
    litt : array-like, optional
        Sum of the log times between purchases; needed unless ``params.k`` is 1.
    weights : array-like, optional
        Non-negative weight per row (default 1).

    Returns
    -------
    float
        ``sum(weights * log L_i)``.

    Raises
    ------
    InputError
        On invalid histories, weights or ``litt``, or a missing ``litt``
        when k > 1.
    InputTypeError
        On the wrong combination of summary and arrays, or non-numeric input.

    Notes
    -----
    Platzer & Reutterer (2016): with R = r + k x, s = 0 (BG/CNBD-k) or 1
    (MBG/CNBD-k) and the gap since the last purchase u = T - t_x,

    ``L = exp((k-1) litt) / ((k-1)!)^x * Γ(R) α^r / Γ(r)
    * [B(a, b+x+s)/B(a, b) * sum_{j<k} (R)_j u^j / (j! (α+T)^(R+j))
    + 1{x+s>0} B(a+1, b+x+s-1)/B(a, b) / (α+t_x)^R]``

    ((R)_j the rising factorial): the product of x Erlang-k densities, then
    either no purchase in (t_x, T] while alive (fewer than k of the
    underlying Poisson events, the sum over j) or dropout right after the
    last purchase. With k = 1 this is the BG/NBD (s = 0) or MBG/NBD (s = 1)
    likelihood. Evaluated in log space: the sum over j as a log-sum-exp of
    its terms, the mixture with ``logaddexp``.

    References
    ----------
    Platzer, M., & Reutterer, T. (2016). Ticking away the moments: Timing
    regularity helps to better predict customer activity. Marketing Science,
    35(5), 779-799.

    Examples
    --------
    >>> p = BgCnbdParams(r=1.0, alpha=4.0, a=0.8, b=2.5, k=2)
    >>> round(log_likelihood(p, [0, 3], [0.0, 30.0], [40.0, 40.0], litt=[0.0, 6.0]), 4)
    -13.6215
    >>> log_likelihood(p, [0, 3], [0.0, 30.0], [40.0, 40.0])
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: litt is required for k > 1 ...
    """
    inp.check_params(params, BgCnbdParams)
    return _total_log_likelihood(
        params, frequency, recency, T, litt=litt, weights=weights, shift=_BG
    )


def log_likelihood_per_customer(
    params: BgCnbdParams,
    frequency: ArrayLike | CustomerSummary,
    recency: ArrayLike | None = None,
    T: ArrayLike | None = None,
    *,
    litt: ArrayLike | None = None,
) -> Any:
    """BG/CNBD-k log-likelihood of each customer's history.

    Parameters
    ----------
    params : BgCnbdParams
    frequency, recency, T : array-like, or a CustomerSummary as ``frequency``
        With a summary, one value per summary row (rows without purchase
        have x = t_x = T = 0). Single numbers are one customer: the result
        is then a float.
    litt : array-like or float, optional
        Needed unless ``params.k`` is 1 (with a summary, its ``litt``).

    Returns
    -------
    float or ndarray
        log L_i, see :func:`log_likelihood`.

    Raises
    ------
    InputError
        On invalid histories or ``litt``, or a missing ``litt`` when k > 1.
    InputTypeError
        On the wrong combination of summary and arrays, or non-numeric input.

    Examples
    --------
    >>> p = BgCnbdParams(r=1.0, alpha=4.0, a=0.8, b=2.5, k=2)
    >>> log_likelihood_per_customer(p, [0, 3], [0.0, 30.0], [40.0, 40.0],
    ...                             litt=[0.0, 6.0]).round(6).tolist()
    [-1.751268, -11.870273]
    >>> log_likelihood_per_customer(p, 3, 30.0, 40.0, litt=9.0)
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: litt must not exceed frequency * log(recency / frequency) ...
    """
    inp.check_params(params, BgCnbdParams)
    return _loglik_each(params, frequency, recency, T, litt=litt)


@overload
def expected_purchases(params: BgCnbdParams, t: float) -> float: ...
@overload
def expected_purchases(params: BgCnbdParams, t: ArrayLike) -> FloatArray: ...
def expected_purchases(params: BgCnbdParams, t: ArrayLike) -> Any:
    """Return the expected repeat purchases E[X(t)] of a new customer in (0, t].

    Parameters
    ----------
    params : BgCnbdParams
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
    The n-th repeat purchase is the (k n)-th event of a Poisson process with
    rate λ, so it falls in (0, t] with probability ``P(N >= k n)``, N
    negative binomial (r, t/(α+t)) after mixing over λ, i.e. the regularised
    incomplete beta ``I_{t/(α+t)}(k n, r)``; the customer is still active
    for it with probability ``E[(1-p)^(n-1+s)] = B(a, b+n-1+s)/B(a, b)``.
    Hence the series

    ``E[X(t)] = sum_{n>=1} B(a, b+n-1+s)/B(a, b) I_{t/(α+t)}(k n, r)``,

    summed until the remaining terms, bounded by a geometric series past the
    mode of N, fall below 1e-16 of the sum (see
    :func:`conditional_expected_purchases` for the cost). For k = 1 the
    closed form of the BG/NBD model (:func:`crmcore.models.bgnbd.expected_purchases`).

    Examples
    --------
    >>> p = BgCnbdParams(r=1.0, alpha=4.0, a=0.8, b=2.5, k=2)
    >>> expected_purchases(p, [0.0, 39.0]).round(4).tolist()
    [0.0, 2.6193]
    >>> expected_purchases(p, -1.0)
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: t must be >= 0.0, got -1.0
    """
    inp.check_params(params, BgCnbdParams)
    return _new_expected(params, t)


def conditional_expected_purchases(
    params: BgCnbdParams,
    t: ArrayLike,
    frequency: ArrayLike | CustomerSummary,
    recency: ArrayLike | None = None,
    T: ArrayLike | None = None,
) -> Any:
    """Return the expected purchases in (T, T + t] given each customer's history.

    Parameters
    ----------
    params : BgCnbdParams
    t : float or array-like
        Length of the forecast period (>= 0): one number for every customer,
        or one value per customer.
    frequency, recency, T : array-like, or a CustomerSummary as ``frequency``
        Histories (x, t_x, T); ``litt`` is not needed. With a summary every
        row is used; rows without purchase (x = t_x = T = 0) get the value of
        a customer who just made a first purchase. Single numbers are one
        customer: the result is then a float.

    Returns
    -------
    float or ndarray
        One value per customer, >= 0 and non-decreasing in ``t``.

    Raises
    ------
    InputError
        On invalid histories or a negative ``t``.
    InputTypeError
        On the wrong combination of summary and arrays, or non-numeric input.

    Notes
    -----
    Platzer & Reutterer (2016) give no closed form for k > 1 (BTYDplus uses
    a scaled BG/NBD approximation); this is the exact value as a series.
    Given the history and being alive at T, the number J < k of Poisson
    events since the last purchase has posterior weights proportional to
    ``(R)_J u^J / (J! (α+T)^J)`` (the terms of the likelihood's sum), λ given
    J is Gamma(R + J, α + T) and p is Beta(a, b + x + s). The m-th purchase
    after T is event number k m - J after T and needs m - 1 more survivals, so

    ``E[Y(t) | x, t_x, T] = P(alive) * sum_J w_J sum_{m>=1}
    B(a, b'+m-1)/B(a, b') I_{t/(α+T+t)}(k m - J, R + J)``, b' = b + x + s.

    The inner series is summed with the incomplete beta function for its
    first term and the negative binomial probabilities for the decrements,
    until a geometric bound on the rest falls below 1e-16 of the sum. It
    costs about ``(R + J) t / ((α+T) k)`` terms (the expected number of
    purchases if the customer never dropped out) plus a few dozen per
    customer, so it is fast for ordinary horizons and slows down only for
    horizons far beyond the history of a very frequent buyer. For k = 1 the
    closed form of the BG/NBD model.

    Examples
    --------
    >>> p = BgCnbdParams(r=1.0, alpha=4.0, a=0.8, b=2.5, k=2)
    >>> conditional_expected_purchases(p, 39.0, [2, 2], [30.0, 36.0], [38.0, 38.0]).round(4)
    array([1.6033, 1.5633])
    >>> conditional_expected_purchases(p, -1.0, [2], [30.0], [38.0])
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: t must be >= 0.0, got -1.0
    """
    inp.check_params(params, BgCnbdParams)
    return _expected(params, t, frequency, recency, T)


def conditional_purchase_probability(
    params: BgCnbdParams,
    t: ArrayLike,
    frequency: ArrayLike | CustomerSummary,
    recency: ArrayLike | None = None,
    T: ArrayLike | None = None,
) -> Any:
    """Probability that each customer makes at least one purchase in (T, T + t].

    Parameters
    ----------
    params : BgCnbdParams
    t : float or array-like
        Length of the forecast period (>= 0): one number for every customer,
        or one value per customer.
    frequency, recency, T : array-like, or a CustomerSummary as ``frequency``
        Histories (x, t_x, T). Single numbers are one customer.

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
        On the wrong combination of summary and arrays, or non-numeric input.

    Notes
    -----
    A customer alive at T drops out only right after a purchase, so her next
    purchase comes for sure once k - J more Poisson events have happened (J
    the events since her last purchase, see
    :func:`conditional_expected_purchases`):

    ``P(Y(t) > 0) = P(alive) * sum_J w_J I_{t/(α+T+t)}(k - J, R + J)``,

    a finite sum; for k = 1 the BG/NBD expression
    ``P(alive) (1 - ((α+T)/(α+T+t))^(r+x))``.

    Examples
    --------
    >>> p = BgCnbdParams(r=1.0, alpha=4.0, a=0.8, b=2.5, k=2)
    >>> conditional_purchase_probability(p, 39.0, [2, 2], [30.0, 36.0], [38.0, 38.0]).round(4)
    array([0.6921, 0.7228])
    >>> conditional_purchase_probability(p, 39.0, [2], [30.0], [38.0, 38.0])
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: T must have the same length as frequency; got 2 and 1
    """
    inp.check_params(params, BgCnbdParams)
    return _buy(params, t, frequency, recency, T)


def probability_alive(
    params: BgCnbdParams,
    frequency: ArrayLike | CustomerSummary,
    recency: ArrayLike | None = None,
    T: ArrayLike | None = None,
) -> Any:
    """Probability that each customer is still active at T.

    Parameters
    ----------
    params : BgCnbdParams
    frequency, recency, T : array-like, or a CustomerSummary as ``frequency``
        Single numbers are one customer: the result is then a float.

    Returns
    -------
    float or ndarray
        Values in [0, 1]; 1 for customers without repeat purchase.

    Raises
    ------
    InputError
        On invalid histories.
    InputTypeError
        On the wrong combination of summary and arrays, or non-numeric input.

    Notes
    -----
    The ratio of the two terms of the likelihood (see :func:`log_likelihood`):

    ``P(alive) = 1 / (1 + 1{x+s>0} a/(b+x+s-1) ((α+T)/(α+t_x))^R
    / sum_{j<k} (R)_j y^j / j!)``, ``y = (T - t_x)/(α+T)``,

    computed as a logistic function of the log-odds. Unlike the BG/NBD
    model, P(alive) need not fall monotonically with the time since the last
    purchase: with regular buying a short gap is also unlikely for an active
    customer.

    References
    ----------
    Platzer, M., & Reutterer, T. (2016). Ticking away the moments: Timing
    regularity helps to better predict customer activity. Marketing Science,
    35(5), 779-799.

    Examples
    --------
    >>> p = BgCnbdParams(r=1.0, alpha=4.0, a=0.8, b=2.5, k=2)
    >>> round(probability_alive(p, 2, 30.0, 38.0), 4)
    0.7481
    >>> probability_alive(p, [-1], [0.0], [3.0])
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: frequency must be non-negative; ...
    """
    inp.check_params(params, BgCnbdParams)
    return _alive(params, frequency, recency, T)


@overload
def purchase_probability(params: BgCnbdParams, n: int, t: float) -> float: ...
@overload
def purchase_probability(params: BgCnbdParams, n: ArrayLike, t: ArrayLike) -> FloatArray: ...
def purchase_probability(params: BgCnbdParams, n: ArrayLike, t: ArrayLike) -> Any:
    """Probability P(X(t) = n) that a new customer makes n repeat purchases in (0, t].

    Parameters
    ----------
    params : BgCnbdParams
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
    With M = floor(N / k) the purchases of a customer who never drops out (N
    the negative binomial count of Poisson events, as in
    :func:`expected_purchases`) and D the purchases up to the fatal one,
    X = min(M, D), so

    ``P(X(t)=n) = B(a, b+n+s)/B(a, b) P(M = n)
    + 1{n+s>0} B(a+1, b+n+s-1)/B(a, b) P(M >= n)``,

    with ``P(M >= n) = I_{t/(α+t)}(k n, r)`` and ``P(M = n)`` the sum of the k
    negative binomial probabilities of k n, ..., k n + k - 1 events.

    Examples
    --------
    >>> p = BgCnbdParams(r=1.0, alpha=4.0, a=0.8, b=2.5, k=2)
    >>> purchase_probability(p, [0, 1, 2], 39.0).round(4).tolist()
    [0.1774, 0.31, 0.1694]
    >>> purchase_probability(p, 1.5, 39.0)
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: n must hold whole numbers; 1 of 1 values breaks this ...
    """
    inp.check_params(params, BgCnbdParams)
    return _new_pmf(params, n, t)


def conditional_probability_alive(
    params: BgCnbdParams,
    t: ArrayLike,
    frequency: ArrayLike | CustomerSummary,
    recency: ArrayLike | None = None,
    T: ArrayLike | None = None,
) -> Any:
    """Probability that each customer is still active at T + t, given the history.

    Parameters
    ----------
    params : BgCnbdParams
    t : float or array-like
        Time after T (>= 0): one number for every customer, or one value per
        customer. ``t = 0`` gives :func:`probability_alive`.
    frequency, recency, T : array-like, or a CustomerSummary as ``frequency``
        Histories (x, t_x, T); ``litt`` is not needed. Single numbers are one
        customer (a float back).

    Returns
    -------
    float or ndarray
        Values in [0, P(alive)], non-increasing in ``t``.

    Raises
    ------
    InputError
        On invalid histories, a negative ``t``, or a horizon whose series
        would need more than 100,000 terms (see
        :func:`conditional_expected_purchases`).
    InputTypeError
        On the wrong combination of summary and arrays, or non-numeric input.

    See Also
    --------
    probability_alive, conditional_purchase_count_probability

    Notes
    -----
    Alive at T, a customer drops out only right after a purchase, each time
    with probability p. With J, λ and p distributed as given the history (see
    :func:`conditional_expected_purchases`: J < k Poisson events since the
    last purchase with weights w_J, λ | J ~ Gamma(R + J, α + T),
    p ~ Beta(a, b'), b' = b + x + s), the purchases of a customer who never
    drops out in (T, T+t] number ``M = floor((N + J)/k)``, N negative
    binomial (R + J, z = t/(α+T+t)); she survives m of them with probability
    ``E[(1-p)^m] = B(a, b'+m)/B(a, b')``. Hence

    ``P(alive at T+t | x, t_x, T) = P(alive) * sum_J w_J
    [I_{1-z}(R+J, k-J) + sum_{m>=1} B(a, b'+m)/B(a, b') P_J(M = m)]``,

    ``P_J(M = m)`` the sum of the k negative binomial probabilities of
    k m - J, ..., k m - J + k - 1 events (the first term is ``P_J(M = 0)``).
    The series of positive terms runs with that of
    :func:`conditional_expected_purchases`, and at least until its own rest
    is below 1e-17 of it. This follows from the model of Platzer & Reutterer
    (2016), who give no closed form; for k = 1 it is the BG/NBD result
    (:func:`crmcore.models.bgnbd.conditional_probability_alive`), which is
    used then.

    References
    ----------
    Platzer, M., & Reutterer, T. (2016). Ticking away the moments: Timing
    regularity helps to better predict customer activity. Marketing Science,
    35(5), 779-799.

    Examples
    --------
    >>> p = BgCnbdParams(r=1.0, alpha=4.0, a=0.8, b=2.5, k=2)
    >>> conditional_probability_alive(p, [0.0, 52.0], [2, 2], [30.0, 30.0], [38.0, 38.0])
    array([0.74808232, 0.49653061])
    >>> conditional_probability_alive(p, -1.0, 2, 30.0, 38.0)
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: t must be >= 0.0, got -1.0
    """
    inp.check_params(params, BgCnbdParams)
    return _alive_at(params, t, frequency, recency, T)


def conditional_purchase_count_probability(  # noqa: PLR0917 (the family's order)
    params: BgCnbdParams,
    n: ArrayLike,
    t: ArrayLike,
    frequency: ArrayLike | CustomerSummary,
    recency: ArrayLike | None = None,
    T: ArrayLike | None = None,
) -> Any:
    """Probability that each customer makes exactly n purchases in (T, T + t], given the history.

    Parameters
    ----------
    params : BgCnbdParams
    n : int or array-like of int
        Number of purchases (>= 0): one number for every customer, or one
        value per customer; for one customer given as plain numbers, any
        1-d array of counts (her distribution over them).
    t : float or array-like
        Length of the forecast period (>= 0): one number, or one per customer.
    frequency, recency, T : array-like, or a CustomerSummary as ``frequency``
        Histories (x, t_x, T); single numbers are one customer (a float back).

    Returns
    -------
    float or ndarray
        Values in [0, 1]; summed over n = 0, 1, ... they give 1 and their mean
        is :func:`conditional_expected_purchases`.

    Raises
    ------
    InputError
        On invalid histories, a negative or fractional ``n`` or a negative
        ``t``.
    InputTypeError
        On the wrong combination of summary and arrays, or non-numeric input.

    See Also
    --------
    purchase_probability, conditional_purchase_probability

    Notes
    -----
    With J, p, M and z as in :func:`conditional_probability_alive`, a
    customer alive at T makes n purchases when M = n and she survives them,
    or M >= n and she drops out right after the n-th (the argument of
    :func:`purchase_probability`, from T on):

    ``P(Y(t) = n | x, t_x, T) = P(alive) * sum_J w_J [B(a, b'+n)/B(a, b')
    P_J(M = n) + 1{n>0} B(a+1, b'+n-1)/B(a, b') I_z(k n - J, R + J)]
    + 1{n=0} (1 - P(alive))``,

    ``P_J(M = n)`` summed in log space from its k negative binomial terms (no
    difference of incomplete beta functions). This follows from the model of
    Platzer & Reutterer (2016), who give no closed form; for k = 1 it is the
    BG/NBD result (:func:`crmcore.models.bgnbd.conditional_purchase_count_probability`),
    which is used then.

    References
    ----------
    Platzer, M., & Reutterer, T. (2016). Ticking away the moments: Timing
    regularity helps to better predict customer activity. Marketing Science,
    35(5), 779-799.

    Examples
    --------
    >>> p = BgCnbdParams(r=1.0, alpha=4.0, a=0.8, b=2.5, k=2)
    >>> conditional_purchase_count_probability(p, [0, 1, 2], 39.0, 2, 30.0, 38.0).round(4)
    array([0.3079, 0.2412, 0.2005])
    >>> conditional_purchase_count_probability(p, 0.5, 39.0, 2, 30.0, 38.0)
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: n must hold whole numbers; ...
    """
    inp.check_params(params, BgCnbdParams)
    return _count(params, n, t, frequency, recency=recency, T=T)


def discounted_expected_residual_purchases(
    params: BgCnbdParams,
    frequency: ArrayLike | CustomerSummary,
    recency: ArrayLike | None = None,
    T: ArrayLike | None = None,
    *,
    discount_rate: float,
) -> Any:
    """Return the discounted expected residual purchases (DERT) of each customer.

    The expected purchases after T, each discounted continuously to T by
    ``exp(-discount_rate * (time after T))``; times the expected margin per
    purchase it is the residual lifetime value (see
    :func:`crmcore.models.clv.residual_lifetime_value`).

    Parameters
    ----------
    params : BgCnbdParams
    frequency, recency, T : array-like, or a CustomerSummary as ``frequency``
        Histories (x, t_x, T); single numbers are one customer (a float back).
        A customer just acquired (x = t_x = T = 0) gives the DERT of a new
        customer.
    discount_rate : float
        Continuous discount rate per time unit of alpha (> 0).

    Returns
    -------
    float or ndarray
        Values >= 0, decreasing in ``discount_rate``.

    Raises
    ------
    InputError
        On invalid histories, a ``discount_rate`` that is not positive and
        finite, or one so small for a frequent buyer that the expected
        purchases over ``60 / discount_rate`` need more than 100,000 terms of
        their series.
    InputTypeError
        On the wrong combination of summary and arrays, or non-numeric input.

    Notes
    -----
    Integrating by parts, ``DERT = δ ∫_0^∞ exp(-δ t) E[Y(t) | x, t_x, T] dt``
    with the expected purchases of :func:`conditional_expected_purchases`,
    ``P(alive) sum_J w_J V_J(t)``. Only P(alive) and the weights w_J depend
    on t_x, so ``D_J = δ ∫ exp(-δ t) V_J(t) dt`` is computed once per
    distinct (x, T) and J, in u = t/(α+T), by Gauss-Legendre rules (20
    nodes) on the pieces ``[0, h], [h, 4h], ...`` up to ``u = 60/c``,
    ``c = δ(α+T)``, ``h = min(1/(R+J+1), 1/c)/4``: V_J is analytic but for
    a branch point at u = -1. The tests find it within 1e-10 of an adaptive
    quadrature of the same integral. Platzer & Reutterer (2016) give no DERT
    for k > 1; for k = 1 the BG/NBD result
    (:func:`crmcore.models.bgnbd.discounted_expected_residual_purchases`) is
    used. The cost grows with the purchases a customer would make over
    ``60 / δ`` if she never dropped out: a small rate for very frequent
    buyers is refused (see Raises).

    References
    ----------
    Platzer, M., & Reutterer, T. (2016). Ticking away the moments: Timing
    regularity helps to better predict customer activity. Marketing Science,
    35(5), 779-799.

    Fader, P. S., Hardie, B. G. S., & Lee, K. L. (2005). RFM and CLV: Using
    iso-value curves for customer base analysis. Journal of Marketing
    Research, 42(4), 415-430.

    Examples
    --------
    >>> p = BgCnbdParams(r=1.0, alpha=4.0, a=0.8, b=2.5, k=2)
    >>> discounted_expected_residual_purchases(p, [2, 0], [30.0, 0.0], [38.0, 38.0],
    ...                                        discount_rate=0.01).round(3).tolist()
    [2.871, 1.204]
    >>> discounted_expected_residual_purchases(p, 2, 30.0, 38.0, discount_rate=0.0)
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: discount_rate must be > 0.0, got 0.0
    """
    inp.check_params(params, BgCnbdParams)
    return _residual(params, frequency, recency, T, discount_rate=discount_rate)


# --------------------------------------------------------------------------- shared by both modules
# The public functions of this module and of crmcore.models.mbgcnbd check the type of
# ``params`` and call these; the fits' methods call them directly. The model's shift s
# follows from the type of ``params``.


def _shift_of(params: Any) -> int:
    return _BG if isinstance(params, BgCnbdParams) else 1


def _new_expected(params: Any, t: ArrayLike) -> Any:
    tt, scalar = inp.times(t, "t")
    out = _unconditional(params.as_array(), params.k, tt, _shift_of(params))
    return float(out[0]) if scalar else out


def _new_pmf(params: Any, n: ArrayLike, t: ArrayLike) -> Any:
    nn, tt, scalar = inp.counts_and_times(n, t)
    out = _pmf(params.as_array(), params.k, nn, tt, _shift_of(params))
    return float(out[0]) if scalar else out


def _per_customer(func: Any, params: Any, t: ArrayLike, histories: inp.Histories) -> Any:
    """``func(theta, k, t, (x, t_x, T), shift)`` for a horizon given per customer or once."""
    tt = inp.horizon(t, histories.x.size)
    h = (histories.x, histories.tx, histories.T)
    out = func(params.as_array(), params.k, tt, h, _shift_of(params))
    return inp.finish(out, histories.single)


def _expected(params: Any, t: ArrayLike, frequency: Any, recency: Any, T: Any) -> Any:
    h = inp.histories(frequency, recency, T)
    return _per_customer(_conditional_expectation, params, t, h)


def _buy(params: Any, t: ArrayLike, frequency: Any, recency: Any, T: Any) -> Any:
    h = inp.histories(frequency, recency, T)
    return _per_customer(_purchase_probability_each, params, t, h)


def _alive_at(params: Any, t: ArrayLike, frequency: Any, recency: Any, T: Any) -> Any:
    h = inp.histories(frequency, recency, T)
    return _per_customer(_alive_later, params, t, h)


def _alive(params: Any, frequency: Any, recency: Any, T: Any) -> Any:
    h = inp.histories(frequency, recency, T)
    d = _log_odds_dead(params.as_array(), params.k, h.x, h.tx, h.T, shift=_shift_of(params))
    return inp.finish(_alive_from_log_odds(d), h.single)


def _count(params: Any, n: ArrayLike, t: ArrayLike, frequency: Any, *, recency: Any, T: Any) -> Any:
    h = inp.spread_single(inp.histories(frequency, recency, T), n)
    nn = inp.counts_per_customer(n, h.x.size)
    tt = inp.horizon(t, h.x.size)
    theta, hist = params.as_array(), (h.x, h.tx, h.T)
    out = _count_pmf(theta, params.k, nn, tt, hist, shift=_shift_of(params))
    return inp.finish(out, h.single)


def _residual(params: Any, frequency: Any, recency: Any, T: Any, *, discount_rate: Any) -> Any:
    rate = _bgnbd_discount_rate(discount_rate)
    h = inp.histories(frequency, recency, T)
    theta, hist = params.as_array(), (h.x, h.tx, h.T)
    out = _dert_k(theta, params.k, rate, hist, _shift_of(params))
    return inp.finish(out, h.single)


def _loglik_each(params: Any, frequency: Any, recency: Any, T: Any, *, litt: Any) -> Any:
    h, lt = _histories_litt(frequency, recency, T, litt, params.k, every_row=True)
    theta = params.as_array()
    out = _loglik_rows(theta, params.k, h.x, h.tx, h.T, litt=lt, shift=_shift_of(params))
    return inp.finish(out, h.single)


# --------------------------------------------------------------------------- input helpers


def _histories_litt(
    frequency: ArrayLike | CustomerSummary,
    recency: ArrayLike | None,
    T: ArrayLike | None,
    litt: ArrayLike | None,
    k: int,
    *,
    every_row: bool,
) -> tuple[inp.Histories, FloatArray]:
    """Return validated histories and litt (zeros when k = 1 and litt is not given)."""
    h = inp.histories(frequency, recency, T)
    lt = _litt_of(frequency, litt, k, h.x, h.tx, single=h.single)
    if isinstance(frequency, CustomerSummary) and not every_row:
        rows = frequency.has_purchase
        return inp.Histories(h.x[rows], h.tx[rows], h.T[rows], False), lt[rows]
    return h, lt


def _litt_of(
    frequency: object,
    litt: ArrayLike | None,
    k: int,
    x: FloatArray,
    tx: FloatArray,
    *,
    single: bool = False,
) -> FloatArray:
    if isinstance(frequency, CustomerSummary):
        if litt is not None:
            raise InputError("litt must be left out when frequency is a CustomerSummary")
        source: Any = frequency.litt
        where = "the summary has none (summarize computes it)"
    else:
        source = litt
        where = "pass litt=, the sum of the log times between purchases"
    if source is None:
        if k == 1:
            return np.zeros(x.size)
        raise InputError(
            f"litt is required for k > 1 (the likelihood depends on the timing of the "
            f"purchases), got k={k}; {where}"
        )
    if single and inp.is_single(source):
        source = np.array([source])
    return _check_litt(x, tx, source)


class _FitData(NamedTuple):
    data: CompressedHistories
    timing: tuple[float, float]  # sum of w * litt and of w * x


def _fit_data(
    frequency: ArrayLike | CustomerSummary,
    recency: ArrayLike | None,
    T: ArrayLike | None,
    litt: ArrayLike | None,
    *,
    weights: ArrayLike | None,
    need_litt: bool,
) -> _FitData:
    data = inp.prepare_fit_data(frequency, recency, T, weights)
    h = inp.histories(frequency, recency, T)
    if isinstance(frequency, CustomerSummary):
        rows = frequency.has_purchase
        x = h.x[rows]
    else:
        x = h.x
    if (
        need_litt
        or litt is not None
        or (isinstance(frequency, CustomerSummary) and frequency.litt is not None)
    ):
        lt = _litt_of(frequency, litt, 2 if need_litt else 1, h.x, h.tx)
        if isinstance(frequency, CustomerSummary):
            lt = lt[frequency.has_purchase]
    else:
        lt = np.zeros(x.size)
    if weights is None:
        w = np.ones(x.size)
    else:
        w = v.as_float_array(weights, "weights", allow_empty=True, nonnegative=True)
        if isinstance(frequency, CustomerSummary):
            w = w[frequency.has_purchase]
    return _FitData(data, (_dot(w, lt), _dot(w, x)))


def _timing_constant(timing: tuple[float, float], k: int) -> float:
    """Sum of w ((k-1) litt - x log((k-1)!)), the part of log L that is free of the parameters."""
    if k == 1:
        return 0.0
    return (k - 1) * timing[0] - timing[1] * math.lgamma(k)


def _total_log_likelihood(
    params: Any,
    frequency: ArrayLike | CustomerSummary,
    recency: ArrayLike | None,
    T: ArrayLike | None,
    *,
    litt: ArrayLike | None,
    weights: ArrayLike | None,
    shift: int,
) -> float:
    k = params.k
    fd = _fit_data(frequency, recency, T, litt, weights=weights, need_litt=k > 1)
    value, _ = _objective(fd.data, k, shift)(params.as_array())
    return float(value) + _timing_constant(fd.timing, k)


def _fit(
    frequency: ArrayLike | CustomerSummary,
    recency: ArrayLike | None,
    T: ArrayLike | None,
    *,
    litt: ArrayLike | None,
    k: int | None,
    weights: ArrayLike | None,
    initial: Any,
    time_unit: str | None,
    shift: int,
    model: str,
) -> Any:
    from crmcore.models import mbgnbd

    params_type = BgCnbdParams if shift == _BG else _mbg_params_type()
    fit_type: Any = BgCnbdFit if shift == _BG else _mbg_fit_type()
    se_type: Any = BgNbdParams if shift == _BG else mbgnbd.MbgNbdParams
    unit = _units.fit_unit(frequency, time_unit)
    kk = None if k is None else v.check_int(k, "k", low=1, high=MAX_K)
    if initial is not None:
        inp.check_params(initial, se_type, "initial")
    fd = _fit_data(frequency, recency, T, litt, weights=weights, need_litt=kk != 1)
    data = fd.data
    base = initial.as_array() if initial is not None else _default_start(data)
    if kk is not None:
        start = base * np.array([1.0, 1.0 / kk, 1.0, 1.0]) if initial is None else base
        res = _fit_at(data, kk, start, shift, model)
        profile = None
    else:
        res, kk, profile = _search_k(data, fd.timing, base, shift, model)
    ll = float(res.log_likelihood) + _timing_constant(fd.timing, kk)
    est = dict(zip(_NAMES, res.estimates.tolist(), strict=True))
    se = dict(zip(_NAMES, res.standard_errors.tolist(), strict=True))
    return fit_type(
        params=params_type(**est, k=kk),
        standard_errors=se_type(**se),
        covariance=v.readonly(np.array(res.covariance, dtype=np.float64)),
        log_likelihood=ll,
        n_customers=data.n_customers,
        converged=bool(res.converged),
        n_iterations=int(res.n_iterations),
        time_unit=unit,
        log_likelihood_by_k=None if profile is None else v.readonly(profile),
    )


def _mbg_params_type() -> Any:
    from crmcore.models import mbgcnbd

    return mbgcnbd.MbgCnbdParams


def _mbg_fit_type() -> Any:
    from crmcore.models import mbgcnbd

    return mbgcnbd.MbgCnbdFit


def _default_start(data: CompressedHistories) -> FloatArray:
    """Start (r, alpha, a, b) = (1, mean T / (mean x + 1), 1, 3) as in BG/NBD; alpha for k = 1."""
    w = data.weights
    mean_t = float(np.average(data.T, weights=w))
    mean_x = float(np.average(data.frequency, weights=w))
    return np.array([1.0, max(mean_t, 1e-6) / (mean_x + 1.0), 1.0, 3.0])


def _fit_at(data: CompressedHistories, k: int, start: FloatArray, shift: int, model: str) -> Any:
    return maximize_likelihood(
        _objective(data, k, shift),
        start,
        names=_NAMES,
        model=f"{model} (k={k})",
        n_customers=data.n_customers,
    )


def _profile_fit(
    data: CompressedHistories, k: int, start: FloatArray, shift: int
) -> tuple[float, FloatArray, float] | None:
    """Maximum of the log-likelihood (without timing term) at k, where, and the gradient there.

    A bare L-BFGS-B in log-parameters.

    The search over k needs only the maximum at each k, to a precision far
    below the differences between k (tolerances 1e-11 on the mean
    log-likelihood, 1e-6 on its gradient in log-parameters); the standard
    errors, checks and full precision of :func:`maximize_likelihood` are spent
    on the chosen k alone.
    None when the search fails (a non-finite likelihood). The gradient
    returned is the largest per customer in log-parameters.
    """
    objective = _objective(data, k, shift)
    scale = data.n_customers

    def in_log(u: FloatArray) -> tuple[float, FloatArray]:
        theta = np.exp(u)
        value, grad = objective(theta)
        if not np.isfinite(value) or not np.all(np.isfinite(grad)):
            return 1e100, np.zeros(4)
        return -value / scale, -grad * theta / scale

    u0 = np.clip(np.log(start), -LOG_BOUND + 1, LOG_BOUND - 1)
    with np.errstate(all="ignore"):
        res = scipy.optimize.minimize(
            in_log,
            u0,
            jac=True,
            method="L-BFGS-B",
            bounds=[(-LOG_BOUND, LOG_BOUND)] * 4,
            options={"maxiter": 1000, "ftol": 1e-11, "gtol": 1e-6, "maxcor": 10},
        )
    if not np.isfinite(res.fun) or res.fun >= 1e100:
        return None
    grad_max = float(np.max(np.abs(np.asarray(res.jac, dtype=np.float64))))
    return -float(res.fun) * scale, np.exp(np.asarray(res.x, dtype=np.float64)), grad_max


def _search_k(
    data: CompressedHistories,
    timing: tuple[float, float],
    base: FloatArray,
    shift: int,
    model: str,
) -> tuple[MleResult, int, FloatArray]:
    """Maximise at every k of :data:`SEARCH_K`, each from the previous estimates; refit the best.

    The chosen k is refitted with :func:`maximize_likelihood` (standard
    errors, identification checks) from its estimates; should that fail, the
    next best k is taken.
    """
    profile = np.full(len(SEARCH_K), -np.inf)
    found: dict[int, FloatArray] = {}
    start = base
    for i, k in enumerate(SEARCH_K):
        # From the previous k's estimates when they lie inside (1e-3, 1e3) x the default
        # start, else from the default start: estimates run off towards a limit (a -> 0,
        # b -> inf: no dropout) lead the next search to a poorer local maximum.
        default = base * np.array([1.0, 1.0 / k, 1.0, 1.0])
        inside = k > 1 and bool(np.all(np.abs(np.log(start / default)) < math.log(1e3)))
        out = _profile_fit(data, k, start if inside else default, shift)
        if out is None or out[2] > 1e-5:
            other = _profile_fit(data, k, default, shift) if inside else None
            if other is not None and (out is None or other[0] > out[0]):
                out = other
        if out is None:
            continue
        value, est, _ = out
        profile[i] = value + _timing_constant(timing, k)
        found[k] = est
        start = est * np.array([1.0, k / (k + 1.0), 1.0, 1.0])
    for i in np.argsort(-profile, kind="stable"):
        k = SEARCH_K[int(i)]
        if k not in found:
            break
        try:
            res = _fit_at(data, k, found[k], shift, model)
        except ConvergenceError:
            profile[i] = -np.inf
            continue
        profile[i] = float(res.log_likelihood) + _timing_constant(timing, k)
        return res, k, profile
    raise ConvergenceError(
        f"{model}: the fit failed for every k in 1..{SEARCH_K[-1]}; try the k = 1 model "
        "(BG/NBD or MBG/NBD) or check the data"
    )


def _expected_at(
    params: Any,
    t: ArrayLike,
    frequency: ArrayLike | CustomerSummary,
    recency: ArrayLike | None,
    T: ArrayLike | None,
) -> Any:
    """Return the matrix of the fits' ``conditional_expected_purchases_at``."""
    tt, _ = inp.times(t, "t")
    if tt.ndim != 1:
        raise InputError(f"t must be 1-dimensional, got shape {tt.shape}")
    h = inp.histories(frequency, recency, T)
    shift = _shift_of(params)
    theta = params.as_array()
    out = np.empty((h.x.size, tt.size))
    for j, horizon in enumerate(tt):
        each = np.full(h.x.size, horizon)
        out[:, j] = _conditional_expectation(theta, params.k, each, (h.x, h.tx, h.T), shift)
    return inp.finish(out, h.single)


# --------------------------------------------------------------------------- shared numerics
# ``shift`` s = 0 gives the BG/CNBD-k model, 1 the MBG/CNBD-k model. With
# R = r + k x, u = T - t_x and y = u / (α + T), the likelihood is
#   exp((k-1) litt) / ((k-1)!)^x Γ(R) α^r / (Γ(r) (α+T)^R)
#   * [B(a, b+x+s)/B(a,b) S(R, y) + 1{x+s>0} B(a+1, b+x+s-1)/B(a,b) ((α+T)/(α+t_x))^R],
#   S(R, y) = sum_{j<k} (R)_j y^j / j!  (the "phase" sum).

_BIG = 1e9  # R y beyond which the phase sum is computed in log space (overflow guard)


def _phase_sum(
    big_r: FloatArray, y: FloatArray, k: int, *, grad: bool, linear: bool = False
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Return log S(R, y), and with ``grad`` the means of H_j = sum_{i<j} 1/(R+i) and of j.

    The terms t_j = (R)_j y^j / j! are built by the recurrence
    t_j = t_{j-1} (R + j - 1) y / j from t_0 = 1; rows with R y > 1e9, whose
    terms could overflow for large k, are redone in log space. With
    ``linear`` S itself is returned (``inf`` where it overflows), saving a log.
    """
    n = big_r.size
    total = np.ones(n)
    mean_h = np.zeros(n)
    mean_j = np.zeros(n)
    if k == 1:
        return (total if linear else total * 0.0), mean_h, mean_j
    with np.errstate(all="ignore"):
        term = np.ones(n)
        h = np.zeros(n)
        rj = big_r.copy()  # R + j - 1
        for j in range(1, k):
            term *= rj * y
            term *= 1.0 / j
            total += term
            if grad:
                h += 1.0 / rj
                mean_h += term * h
                mean_j += j * term
            rj += 1.0
        big = big_r * y > _BIG
        log_total = total if linear else np.log(total)
        if grad:
            mean_h /= total
            mean_j /= total
        if big.any():
            i = np.flatnonzero(big)
            lt, mh, mj = _phase_sum_log(big_r[i], y[i], k)
            log_total[i] = np.exp(lt) if linear else lt
            mean_h[i] = mh
            mean_j[i] = mj
    return log_total, mean_h, mean_j


def _row_sum(m: FloatArray) -> FloatArray:
    """Sum of the rows of a (k, n) matrix, added in order.

    ``m.sum(axis=0)`` sums a single column pairwise and several columns row
    by row, so one customer's value could differ in the last digit from its
    column in a batch; adding the rows one by one gives every column the
    same order.
    """
    out = m[0].copy()
    for row in m[1:]:
        out += row
    return np.asarray(out, dtype=np.float64)


def _phase_log_terms(big_r: FloatArray, y: FloatArray, k: int) -> FloatArray:
    """Matrix (k, n) of log t_j, -inf where y = 0 and j > 0."""
    out = np.zeros((k, big_r.size))
    with np.errstate(divide="ignore", invalid="ignore"):
        log_y = np.log(y)
        for j in range(1, k):
            out[j] = out[j - 1] + np.log(big_r + (j - 1)) - math.log(j) + log_y
    out[1:, y <= 0] = -np.inf
    return out


def _phase_sum_log(
    big_r: FloatArray, y: FloatArray, k: int
) -> tuple[FloatArray, FloatArray, FloatArray]:
    lt = _phase_log_terms(big_r, y, k)
    top = lt.max(axis=0)
    with np.errstate(invalid="ignore"):
        wts = np.exp(lt - top)
    s = _row_sum(wts)
    hs = np.zeros_like(lt)
    for j in range(1, k):
        hs[j] = hs[j - 1] + 1.0 / (big_r + (j - 1))
    js = np.arange(k, dtype=np.float64)[:, None]
    return top + np.log(s), _row_sum(wts * hs) / s, _row_sum(wts * js) / s


def _dead_log_weight(
    theta: FloatArray, k: int, x: FloatArray, tx: FloatArray, big_t: FloatArray, *, shift: int
) -> FloatArray:
    """Log of the dropout term relative to the alive term's (α+T)^-R factor; -inf if impossible."""
    r, alpha, a, b = (float(q) for q in theta)
    with np.errstate(all="ignore"):
        out = (
            np.log(a)
            - np.log(np.maximum(b + x + (shift - 1), 1e-300))
            + (r + k * x) * np.log1p((big_t - tx) / (alpha + tx))
        )
    return np.where(x + shift > 0, out, -np.inf)


def _log_odds_dead(
    theta: FloatArray, k: int, x: FloatArray, tx: FloatArray, big_t: FloatArray, *, shift: int
) -> FloatArray:
    """log(P(dead)/P(alive)); -inf where dropout is impossible (x + shift = 0)."""
    r, alpha = float(theta[0]), float(theta[1])
    big_r = r + k * x
    with np.errstate(all="ignore"):
        y = (big_t - tx) / (alpha + big_t)
    log_s, _, _ = _phase_sum(big_r, y, k, grad=False)
    return _dead_log_weight(theta, k, x, tx, big_t, shift=shift) - log_s


def _alive_from_log_odds(d: FloatArray) -> FloatArray:
    """1 / (1 + e^d), the stable logistic."""
    with np.errstate(all="ignore"):
        e = np.exp(-np.abs(d))
        return np.asarray(np.where(d > 0, e, 1.0) / (1.0 + e), dtype=np.float64)


def _loglik_rows(
    theta: FloatArray,
    k: int,
    x: FloatArray,
    tx: FloatArray,
    big_t: FloatArray,
    *,
    litt: FloatArray,
    shift: int,
) -> FloatArray:
    r, alpha, a, b = (float(q) for q in theta)
    big_r = r + k * x
    with np.errstate(all="ignore"):
        y = (big_t - tx) / (alpha + big_t)
        log_s, _, _ = _phase_sum(big_r, y, k, grad=False)
        mix = np.logaddexp(log_s, _dead_log_weight(theta, k, x, tx, big_t, shift=shift))
        out = (
            sc.betaln(a, b + x + shift)
            - sc.betaln(a, b)
            + sc.gammaln(big_r)
            - sc.gammaln(r)
            + r * np.log(alpha)
            - big_r * np.log(alpha + big_t)
            + mix
        )
        if k > 1:
            out = out + (k - 1) * litt - x * math.lgamma(k)
    return np.asarray(out, dtype=np.float64)


def _log_shifted(values: FloatArray) -> Any:
    """Return ``f(alpha) = log(alpha + values)``, through the distinct values when few."""
    if values.size < 1024:
        return lambda alpha: np.log(alpha + values)
    distinct, inverse = np.unique(values, return_inverse=True)
    if distinct.size * 4 > values.size:
        return lambda alpha: np.log(alpha + values)
    inverse = inverse.reshape(-1)
    return lambda alpha: np.log(alpha + distinct)[inverse]


def _objective(data: CompressedHistories, k: int, shift: int) -> Objective:
    """Total log-likelihood without the timing term, and its gradient, on compressed data.

    Terms that depend only on x are computed once per distinct x; rows that
    cannot have dropped out (x + s = 0) have a single term and are handled
    apart; the rest works on whole columns with few temporaries.
    """
    x = data.frequency
    w = data.weights
    xu, idx = distinct_values(x)
    w_x = np.bincount(idx, weights=w, minlength=xu.size)
    sum_w = float(w.sum())
    one = (x + shift) <= 0  # only the alive term
    two = ~one
    t1, w1 = data.T[one], w[one]
    t2, tx2, w2, idx2 = data.T[two], data.recency[two], w[two], idx[two]
    kx2 = k * x[two]
    gap2 = t2 - tx2
    has_dead_x = (xu + shift) > 0
    # logs of α + T and α + t_x through their distinct values when these repeat (whole
    # periods in summaries of real logs): a log costs 20 times a product
    log_t = _log_shifted(t2)
    log_tx = _log_shifted(tx2)

    def objective(theta: FloatArray) -> tuple[float, FloatArray]:
        r, alpha, a, b = (float(q) for q in theta)
        with np.errstate(all="ignore"):
            # --- per distinct x
            bxs = b + xu + shift
            bm1 = np.where(has_dead_x, bxs - 1.0, 1.0)
            log_c = math.log(a) - np.log(bm1)
            psi_ab = sc.digamma(a + bxs)
            total = float(w_x @ (sc.betaln(a, bxs) + sc.gammaln(r + k * xu))) - sum_w * (
                float(sc.betaln(a, b)) + math.lgamma(r) - r * math.log(alpha)
            )
            d_r = float(w_x @ sc.digamma(r + k * xu)) - sum_w * (
                float(sc.digamma(r)) - math.log(alpha)
            )
            d_alpha = sum_w * r / alpha
            d_a = float(w_x @ (sc.digamma(a) - psi_ab)) - sum_w * float(
                sc.digamma(a) - sc.digamma(a + b)
            )
            d_b = float(w_x @ (sc.digamma(bxs) - psi_ab)) - sum_w * float(
                sc.digamma(b) - sc.digamma(a + b)
            )
            # --- rows with the alive term only (R = r, y = T/(α+T))
            if t1.size:
                lt1 = np.log(alpha + t1)
                inv1 = np.exp(-lt1)
                log_s1, mh1, mj1 = _phase_sum(np.full(t1.size, r), t1 * inv1, k, grad=True)
                total += _dot(w1, log_s1 - r * lt1)
                d_r += _dot(w1, mh1 - lt1)
                d_alpha -= _dot(w1, (r + mj1) * inv1)
            # --- rows with both terms
            lt = log_t(alpha)
            ltx = log_tx(alpha)
            inv_t = 1.0 / (alpha + t2)
            big_r = kx2 + r
            y = gap2 * inv_t
            alive_s, mean_h, mean_j = _phase_sum(big_r, y, k, grad=True, linear=True)
            diff = lt - ltx  # >= 0
            log_dead = big_r * diff
            log_dead += log_c[idx2]
            # log(S + D) and the weight D / (S + D) of the dropout term with one exp and one
            # log; where S or D overflows, as log S + softplus(log D - log S)
            dead = np.exp(log_dead)
            both = alive_s + dead
            mix = np.log(both)
            om = dead / both
            off = np.flatnonzero(~np.isfinite(both))
            if off.size:
                log_s, _, _ = _phase_sum(big_r[off], y[off], k, grad=False)
                d = log_dead[off] - log_s
                e = np.exp(-np.abs(d))
                om[off] = np.where(d > 0, 1.0, e) / (1.0 + e)
                mix[off] = log_s + np.log1p(e) + np.maximum(d, 0.0)
            mix -= big_r * lt
            total += _dot(w2, mix)
            one_m = 1.0 - om
            g = om * diff
            g += one_m * mean_h
            g -= lt
            d_r += _dot(w2, g)
            # d/dα of -R log(α+T) + log(alive + dead)
            inv_tx = 1.0 / (alpha + tx2)
            g = om * (inv_t - inv_tx)
            g -= inv_t
            g *= big_r
            g -= one_m * mean_j * inv_t
            d_alpha += _dot(w2, g)
            w_om_x = np.bincount(idx2, weights=w2 * om, minlength=xu.size)
            d_a += float(w_om_x.sum()) / a
            d_b -= float(w_om_x @ np.where(has_dead_x, 1.0 / bm1, 0.0))
        return float(total), np.array([d_r, d_alpha, d_a, d_b])

    return objective


# --------------------------------------------------------------------------- predictions

_CHUNK = 1 << 17  # customer rows per block of the (customers x k) series
_MAX_TERMS = 100_000  # steps of the series before giving up (a horizon beyond reason)


def _posterior_phases(
    theta: FloatArray, k: int, x: FloatArray, tx: FloatArray, big_t: FloatArray
) -> FloatArray:
    """Matrix (k, n) of the posterior weights of J = 0..k-1 events since the last purchase."""
    r, alpha = float(theta[0]), float(theta[1])
    with np.errstate(all="ignore"):
        y = (big_t - tx) / (alpha + big_t)
        lt = _phase_log_terms(r + k * x, y, k)
        lt -= lt.max(axis=0)
        wts = np.exp(lt)
    return np.asarray(wts / _row_sum(wts), dtype=np.float64)


def _renewal_series(
    big_r: FloatArray,
    z: FloatArray,
    first: FloatArray,
    k: int,
    *,
    a: float,
    bp: FloatArray,
    survival: FloatArray | None = None,
) -> FloatArray:
    """sum_{m>=1} B(a, b'+m-1)/B(a, b') P(NB(R, z) >= first + (m-1) k), elementwise.

    With ``survival`` (an output array) also
    ``sum_{m>=1} B(a, b'+m)/B(a, b') P(first + (m-1) k <= NB < first + m k)``,
    the chance of surviving the purchases of the period less that of making
    none (see :func:`_alive_later`), summed to the same stopping rule and
    further until its own rest is below 1e-17 of it.

    P(NB >= n) is the regularised incomplete beta I_z(n, R) for the first
    term; each step subtracts the k negative binomial probabilities of
    n, ..., n+k-1 (carried from one to the next by their ratio
    z (i+R)/(i+1), from log-gamma functions where they underflowed). A row
    stops when the rest of its series, bounded by a geometric series of ratio
    q^k (q = z max(1, (n+R)/(n+1)) < 1 past the mode of the count), is below
    1e-16 of its sum. More than 100,000 terms (the expected number of
    purchases of a customer who never dropped out, over k, beyond that) raise
    a ConvergenceError rather than run on.
    """
    n_rows = big_r.size
    out = np.zeros(n_rows)
    if n_rows == 0:
        return out
    with np.errstate(all="ignore"):
        # terms to expect: the mean count R z/(1-z) and some standard deviations, over k,
        # plus the geometric tail (about 40/(1-z) events)
        need = (big_r * z + 8.0 * np.sqrt(big_r * z + 1.0) + 40.0) / ((1.0 - z) * k)
    worst = float(np.max(need))
    if not worst <= _MAX_TERMS:
        at = int(np.argmax(np.where(np.isnan(need), np.inf, need)))
        raise InputError(
            f"t is too long for these histories: the expected purchases need about {worst:.3g} "
            f"terms of their series (more than {_MAX_TERMS}), first where the horizon is "
            f"{z[at] / max(1.0 - z[at], 1e-300):.3g} times alpha + T and the frequency implies "
            f"{big_r[at]:.3g} purchase events so far; shorten t"
        )
    with np.errstate(all="ignore"):
        act = np.arange(n_rows)
        rr, zz, bb = big_r.copy(), z.copy(), bp.copy()
        n = first.astype(np.float64).copy()
        tail = sc.betainc(n, rr, zz)
        log1mz, logz = np.log1p(-zz), np.log(zz)
        lg_r = sc.gammaln(rr)
        rho = np.ones(n_rows)
        s = np.zeros(n_rows)
        s2 = np.zeros(n_rows)
        p = np.exp(sc.gammaln(rr + n) - lg_r - sc.gammaln(n + 1.0) + rr * log1mz + n * logz)
        m = 1
        while act.size:
            s += rho * tail
            # Past the mode, P(NB = i+1)/P(NB = i) = z (i+R)/(i+1) <= q < 1 for every later i,
            # so the tail shrinks by q^k per term at least and the rest of the series is
            # below last q^k / (1 - q^k); the bound is evaluated on the rows whose last term
            # is already small.
            last = rho * tail
            done = (tail <= 0.0) | (last <= 1e-16 * s)
            if survival is not None:
                done &= (tail <= 0.0) | (last <= 1e-17 * s2)
            cand = np.flatnonzero(done & (tail > 0.0))
            if cand.size:
                q = zz[cand] * np.maximum(1.0, (n[cand] + rr[cand]) / (n[cand] + 1.0))
                qk = q**k
                rest = np.where(qk < 1.0, last[cand] * qk / (1.0 - qk), np.inf)
                done[cand] = rest <= 1e-16 * s[cand]
            # Rows stay until a good share is done; a done row's sum is frozen (rho = 0), so
            # that each row's value does not depend on the other rows of the call.
            rho[done] = 0.0
            if np.count_nonzero(done) * 8 >= act.size:
                out[act[done]] = s[done]
                if survival is not None:
                    survival[act[done]] = s2[done]
                keep = ~done
                act, rr, zz, bb, n, tail, log1mz, logz, lg_r, rho, s, s2, p = (
                    q[keep] for q in (act, rr, zz, bb, n, tail, log1mz, logz, lg_r, rho, s, s2, p)
                )
                if not act.size:
                    break
            # P(NB = n) carried by its ratio; recomputed from log-gamma functions where it is
            # tiny (far below the mode it underflows, and a subnormal number carries too
            # few digits on), and every 64 terms against the drift of the products
            lost = (p < 1e-200) & (tail > 0.0) if m % 64 else tail > 0.0
            if lost.any():
                i = np.flatnonzero(lost)
                p[i] = np.exp(
                    sc.gammaln(rr[i] + n[i])
                    - lg_r[i]
                    - sc.gammaln(n[i] + 1.0)
                    + rr[i] * log1mz[i]
                    + n[i] * logz[i]
                )
                # past the mode the tail is at most P(NB = n) / (1 - q): this bound replaces
                # the rounding residue the subtractions leave where the tail is exhausted
                q = zz[i] * np.maximum(1.0, (n[i] + rr[i]) / (n[i] + 1.0))
                tail[i] = np.where(q < 1.0, np.minimum(tail[i], p[i] / (1.0 - q)), tail[i])
            drop = p.copy()
            for i_ in range(1, k + 1):
                p *= zz * (n + (i_ - 1) + rr) / (n + i_)
                if i_ < k:
                    drop += p
            tail = np.maximum(tail - drop, 0.0)
            n += k
            rho *= (bb + (m - 1)) / (a + bb + (m - 1))
            if survival is not None:
                s2 += rho * drop  # survived m purchases: B(a, b'+m)/B(a, b') P(M = m)
            m += 1
            if m > _MAX_TERMS:
                raise ConvergenceError(
                    f"the expected purchases need more than {_MAX_TERMS} terms for "
                    f"{act.size} customers (a horizon t far beyond their history at a high "
                    "purchase rate); shorten t"
                )
    return out


def _on_distinct(
    func: Any, t: FloatArray, histories: tuple[FloatArray, FloatArray, FloatArray]
) -> FloatArray | None:
    """Evaluate ``func(t, histories)`` once per distinct (x, t_x, T, t) and spread it back.

    Summaries of real logs (whole days, few distinct horizons) repeat histories
    a lot; every row's value depends on that row alone, so this changes no
    digit. None when there are few rows or few repeats (then evaluate directly).
    """
    x, tx, big_t = histories
    if x.size < 4096:
        return None
    cols = (x, tx, big_t, np.asarray(t, dtype=np.float64))
    order = np.lexsort(cols[::-1])
    new = np.zeros(x.size, dtype=np.bool_)
    new[0] = True
    for c in cols:
        cs = c[order]
        new[1:] |= cs[1:] != cs[:-1]
    firsts = order[new]
    if firsts.size * 4 > 3 * x.size:
        return None
    inverse = np.empty(x.size, dtype=np.int64)
    inverse[order] = np.cumsum(new) - 1
    vals = func(cols[3][firsts], (x[firsts], tx[firsts], big_t[firsts]))
    return np.asarray(vals[inverse], dtype=np.float64)


def _conditional_expectation(
    theta: FloatArray,
    k: int,
    t: FloatArray,
    histories: tuple[FloatArray, FloatArray, FloatArray],
    shift: int,
    *,
    distinct: bool = True,
) -> FloatArray:
    x, tx, big_t = histories
    if k == 1:
        return np.asarray(_conditional_expectation_each(theta, t, histories, shift))
    if distinct:
        out_d = _on_distinct(
            lambda tt, hh: _conditional_expectation(theta, k, tt, hh, shift, distinct=False),
            t,
            histories,
        )
        if out_d is not None:
            return out_d
    r, alpha, a, b = (float(q) for q in theta)
    alive = _alive_from_log_odds(_log_odds_dead(theta, k, x, tx, big_t, shift=shift))
    out = np.zeros(x.size)
    step = max(1, _CHUNK // k)
    for start in range(0, x.size, step):
        sl = slice(start, start + step)
        xs, txs, ts, hs = x[sl], tx[sl], big_t[sl], t[sl]
        wts = _posterior_phases(theta, k, xs, txs, ts)  # (k, n)
        z = hs / (alpha + ts + hs)
        # A phase J adds w_J V_J, V_J the series, which grows with J and is at least its
        # first term I_z(k-J, R+J). So the last phase's series bounds every phase's, and
        # a phase is left out only when w_J V_{k-1} is below 1e-18 of sum_J w_J I_z(k-J, R+J),
        # a lower bound of the sum. (A small weight alone says nothing: for a tiny t the
        # last phase, one event short of a purchase, can carry the whole sum.) The bound
        # is summed for every row, also where the last phase has no weight.
        js = np.arange(k, dtype=np.float64)[:, None]
        with np.errstate(all="ignore"):
            firsts = sc.betainc(k - js, r + k * xs[None, :] + js, z[None, :])
        floor = _row_sum(wts * firsts)
        vals = np.zeros((k, xs.size))
        top = np.flatnonzero(z > 0)
        vals[k - 1, top] = _renewal_series(
            r + k * xs[top] + (k - 1),
            z[top],
            np.ones(top.size),
            k,
            a=a,
            bp=b + xs[top] + shift,
        )
        use = (wts[: k - 1] * vals[k - 1] >= 1e-18 * floor) & (wts[: k - 1] > 0.0)
        jj, ii = np.nonzero(use & (z > 0)[None, :])
        vals[jj, ii] = _renewal_series(
            r + k * xs[ii] + jj,
            z[ii],
            (k - jj).astype(np.float64),
            k,
            a=a,
            bp=b + xs[ii] + shift,
        )
        out[sl] = _row_sum(wts * vals)
    return np.asarray(alive * out, dtype=np.float64)


def _purchase_probability_each(
    theta: FloatArray,
    k: int,
    t: FloatArray,
    histories: tuple[FloatArray, FloatArray, FloatArray],
    shift: int,
    *,
    distinct: bool = True,
) -> FloatArray:
    x, tx, big_t = histories
    if distinct and k > 1:
        out_d = _on_distinct(
            lambda tt, hh: _purchase_probability_each(theta, k, tt, hh, shift, distinct=False),
            t,
            histories,
        )
        if out_d is not None:
            return out_d
    r, alpha = float(theta[0]), float(theta[1])
    d = _log_odds_dead(theta, k, x, tx, big_t, shift=shift)
    alive = _alive_from_log_odds(d)
    out = np.zeros(x.size)
    step = max(1, _CHUNK // k)
    with np.errstate(all="ignore"):
        for start in range(0, x.size, step):
            sl = slice(start, start + step)
            xs, txs, ts, hs = x[sl], tx[sl], big_t[sl], t[sl]
            wts = _posterior_phases(theta, k, xs, txs, ts)
            z = hs / (alpha + ts + hs)
            js = np.arange(k, dtype=np.float64)[:, None]
            first = sc.betainc(k - js, r + k * xs[None, :] + js, z[None, :])
            out[sl] = _row_sum(wts * first)
    return np.asarray(np.minimum(alive * out, alive), dtype=np.float64)


def _unconditional(theta: FloatArray, k: int, t: FloatArray, shift: int) -> FloatArray:
    if k == 1:
        return np.asarray(_unconditional_expectation(theta, t, shift))
    r, alpha, a, b = (float(q) for q in theta)
    factor = float(np.exp(sc.betaln(a, b + shift) - sc.betaln(a, b)))
    flat, inverse = np.unique(t.reshape(-1), return_inverse=True)
    z = flat / (alpha + flat)
    vals = _renewal_series(
        np.full(flat.shape, r),
        z,
        np.full(flat.shape, float(k)),
        k,
        a=a,
        bp=np.full(flat.shape, b + shift),
    )
    return np.asarray(factor * vals[inverse.reshape(-1)], dtype=np.float64).reshape(t.shape)


def _pmf(theta: FloatArray, k: int, n: FloatArray, t: FloatArray, shift: int) -> FloatArray:
    r, alpha, a, b = (float(q) for q in theta)
    with np.errstate(all="ignore"):
        z = t / (alpha + t)
        log1mz = np.log1p(-z)
        logz = np.where(t > 0, np.log(z), -np.inf)
        kn = k * n
        # P(M = n): the negative binomial probabilities of kn, ..., kn + k - 1 events
        p_m = np.zeros(n.shape)
        for i in range(k):
            e = kn + i
            log_nb = (
                sc.gammaln(r + e)
                - sc.gammaln(r)
                - sc.gammaln(e + 1.0)
                + r * log1mz
                + np.where(e > 0, e * logz, 0.0)
            )
            p_m += np.exp(log_nb)
        tail = np.where(n > 0, sc.betainc(np.maximum(kn, 1.0), r, z), 1.0)  # P(M >= n)
        bn = b + n + shift
        first = np.exp(sc.betaln(a, bn) - sc.betaln(a, b)) * p_m
        second = np.where(
            (n + shift) > 0,
            np.exp(sc.betaln(a + 1.0, np.maximum(bn - 1.0, 1e-300)) - sc.betaln(a, b)) * tail,
            0.0,
        )
    return np.asarray(np.clip(first + second, 0.0, 1.0), dtype=np.float64)


# ------------------------------------------------------------- later P(alive), P(Y = n), DERT
# Given the history and alive at T, J (the Poisson events since the last purchase, 0..k-1)
# has the weights of :func:`_posterior_phases`, λ | J ~ Gamma(R + J, α + T) and
# p ~ Beta(a, b') with b' = b + x + s. The purchases M of (T, T+t] of a customer who never
# drops out are M = floor((N + J) / k), N ~ NB(R + J, z = t/(α+T+t)) the events after T;
# she survives m purchases with probability B(a, b'+m)/B(a, b').


def _alive_later(
    theta: FloatArray,
    k: int,
    t: FloatArray,
    histories: tuple[FloatArray, FloatArray, FloatArray],
    shift: int,
    *,
    closed_form: bool = True,
    distinct: bool = True,
) -> FloatArray:
    """P(alive at T + t | history), elementwise (see conditional_probability_alive).

    For k = 1 the BG/NBD closed form unless ``closed_form`` is False (then the
    series, for the tests). Large calls evaluate each distinct (x, t_x, T, t)
    once, as :func:`_conditional_expectation`.
    """
    x, tx, big_t = histories
    alive = _alive_from_log_odds(_log_odds_dead(theta, k, x, tx, big_t, shift=shift))
    if k == 1 and closed_form:  # at most this module's P(alive), which may round otherwise
        return np.minimum(np.exp(_bgnbd_log_alive_later(theta, t, histories, shift)), alive)
    if distinct:
        out_d = _on_distinct(
            lambda tt, hh: _alive_later(
                theta, k, tt, hh, shift, closed_form=closed_form, distinct=False
            ),
            t,
            histories,
        )
        if out_d is not None:
            return out_d
    r, alpha, a, b = (float(q) for q in theta)
    out = np.zeros(x.size)
    step = max(1, _CHUNK // k)
    for start in range(0, x.size, step):
        sl = slice(start, start + step)
        xs, txs, ts, hs = x[sl], tx[sl], big_t[sl], t[sl]
        wts = _posterior_phases(theta, k, xs, txs, ts)  # (k, n)
        z = hs / (alpha + ts + hs)
        stay = np.ones((k, xs.size))
        jj, ii = np.nonzero((wts > 0.0) & (z > 0)[None, :])
        if jj.size:
            big_r = r + k * xs[ii] + jj
            first = (k - jj).astype(np.float64)
            later = np.zeros(jj.size)
            _renewal_series(big_r, z[ii], first, k, a=a, bp=b + xs[ii] + shift, survival=later)
            with np.errstate(all="ignore"):
                none = sc.betaincc(first, big_r, z[ii])  # P(M = 0) = P(N < k - J)
            stay[jj, ii] = np.minimum(none + later, 1.0)
        out[sl] = _row_sum(wts * stay)
    return np.asarray(np.clip(alive * out, 0.0, alive), dtype=np.float64)


def _count_pmf_alive(
    theta: FloatArray,
    k: int,
    n: FloatArray,
    t: FloatArray,
    histories: tuple[FloatArray, FloatArray, FloatArray],
    *,
    shift: int,
) -> FloatArray:
    """P(Y(t) = n | history, alive at T), elementwise."""
    x, tx, big_t = histories
    r, alpha, a, b = (float(q) for q in theta)
    bp = b + x + shift
    wts = _posterior_phases(theta, k, x, tx, big_t)
    with np.errstate(all="ignore"):
        z = t / (alpha + big_t + t)
        logz = np.where(z > 0, np.log(z), -np.inf)
        log1mz = np.log1p(-z)
        base = sc.betaln(a, bp)
        keep = np.exp(sc.betaln(a, bp + n) - base)  # survive the n purchases
        last = np.exp(sc.betaln(a + 1.0, np.maximum(bp + n - 1.0, 1e-300)) - base)
        out = np.zeros(x.size)
        for j in range(k):
            big_r = r + k * x + j
            lo = np.maximum(k * n - j, 0.0)
            hi = k * n - j + (k - 1)  # P(M = n) = P(lo <= N <= hi)
            e = lo.copy()
            log_p = sc.gammaln(big_r + e) - sc.gammaln(big_r) - sc.gammaln(e + 1.0)
            log_p += big_r * log1mz + np.where(e > 0, e * logz, 0.0)
            terms = [log_p]
            for _ in range(k - 1):
                log_p = log_p + logz + np.log(big_r + e) - np.log(e + 1.0)
                e = e + 1.0
                terms.append(np.where(e <= hi, log_p, -np.inf))
            stack = np.array(terms)
            top = np.max(stack, axis=0)
            top = np.where(np.isfinite(top), top, 0.0)
            p_m = np.exp(top) * _row_sum(np.exp(stack - top))
            p_ge = np.where(n > 0, sc.betainc(np.maximum(k * n - j, 1.0), big_r, z), 1.0)
            each = keep * p_m + np.where(n > 0, last * p_ge, 0.0)
            out += wts[j] * each
    return np.asarray(np.clip(out, 0.0, 1.0), dtype=np.float64)


def _count_pmf(
    theta: FloatArray,
    k: int,
    n: FloatArray,
    t: FloatArray,
    histories: tuple[FloatArray, FloatArray, FloatArray],
    *,
    shift: int,
    closed_form: bool = True,
) -> FloatArray:
    """P(Y(t) = n | history), elementwise (see conditional_purchase_count_probability).

    For k = 1 the BG/NBD closed form unless ``closed_form`` is False.
    """
    x, tx, big_t = histories
    if k == 1 and closed_form:
        return np.asarray(_bgnbd_conditional_pmf(theta, n, t, histories, shift))
    d = _log_odds_dead(theta, k, x, tx, big_t, shift=shift)
    alive = _alive_from_log_odds(d)
    dead = _alive_from_log_odds(-d)  # 1 - P(alive) without cancellation
    out = np.zeros(x.size)
    step = max(1, _CHUNK // k)
    for start in range(0, x.size, step):
        sl = slice(start, start + step)
        hs = (x[sl], tx[sl], big_t[sl])
        out[sl] = alive[sl] * _count_pmf_alive(theta, k, n[sl], t[sl], hs, shift=shift)
    out += np.where(n == 0, dead, 0.0)
    return np.asarray(np.clip(out, 0.0, 1.0), dtype=np.float64)


def _dert_k(
    theta: FloatArray,
    k: int,
    rate: float,
    histories: tuple[FloatArray, FloatArray, FloatArray],
    shift: int,
    *,
    closed_form: bool = True,
) -> FloatArray:
    """DERT per customer: P(alive) sum_J w_J D_J, D_J once per distinct (x, T) and J.

    For k = 1 the BG/NBD result unless ``closed_form`` is False.
    """
    x, tx, big_t = histories
    if k == 1 and closed_form:
        return np.asarray(_bgnbd_dert(theta, rate, histories, shift))
    if x.size == 0:
        return np.zeros(0)
    r, alpha, a, b = (float(q) for q in theta)
    alive = _alive_from_log_odds(_log_odds_dead(theta, k, x, tx, big_t, shift=shift))
    (xk, tk), inverse = inp.distinct_rows(x, big_t)
    jj = np.tile(np.arange(k, dtype=np.float64), xk.size)
    pair = np.repeat(np.arange(xk.size), k)
    d_j = _discounted_phases(
        r + k * xk[pair] + jj,
        b + xk[pair] + shift,
        rate * (alpha + tk[pair]),
        k - jj,
        k=k,
        a=a,
    ).reshape(-1, k)
    wts = _posterior_phases(theta, k, x, tx, big_t)  # (k, n)
    return np.asarray(alive * _row_sum(wts * d_j[inverse].T), dtype=np.float64)


_TINY = float(np.finfo(np.float64).tiny)
_NODES_PER_BLOCK = 1 << 13  # quadrature nodes in s evaluated at once (each with ~200 in p)


def _discounted_phases(
    big_r: FloatArray, bp: FloatArray, c: FloatArray, n_pow: FloatArray, *, k: int, a: float
) -> FloatArray:
    """D = E[q^n_pow F(1 - q^k)], q = s/(s+c), s ~ Gamma(R, 1), elementwise.

    The discounted purchases of a customer alive at T in phase J (n_pow = k - J,
    R = R + J, c = δ(α+T)): with rate λ = s/(α+T) the m-th purchase comes at
    the (k m - J)-th event, whose discount ``E[exp(-δ τ)] = q^(k m - J)``, and
    she is active for it with probability ``B(a, b'+m-1)/B(a, b')``; the sum over
    m is ``q^(k-J) F(q^k)``, F of :func:`_survival_sum`. The expectation over s
    is a trapezoid rule in y = log s, exact to rounding for an integrand analytic
    in a strip and negligible at both ends (the nearest singularities lie at
    Im y >= pi/2; the step resolves the peak of the gamma density, of width
    1/sqrt(R) in y); the ends are where the gamma density, or for y < log c
    the factor q^n_pow, has fallen below e^-50 of its top.
    """
    with np.errstate(all="ignore"):
        h = np.minimum(0.25, 0.5 / np.sqrt(big_r))
        log_r = np.log(big_r)
        # nodes at y = log R + d; the ends in d
        shape = big_r + n_pow
        lo_pow = np.minimum(
            np.log(shape) - _log_reach(50.0 / shape, left=True), np.log(c) - 50.0 / shape - 1.0
        )
        d_lo = np.maximum(-_log_reach(50.0 / big_r, left=True), lo_pow - log_r)
        d_hi = np.log1p(2.0 / big_r) + _log_reach(60.0 / (big_r + 2.0), left=False)
        # log of the gamma density of y at its mode, R log R - R - log Γ(R), by Stirling's
        # series for large R (the difference of three numbers near R log R loses digits)
        big = big_r > 10.0
        rr = np.where(big, big_r, 20.0)
        stirling = 0.5 * (np.log(rr) - math.log(2.0 * math.pi)) - (
            1.0 / (12.0 * rr)
            - 1.0 / (360.0 * rr**3)
            + 1.0 / (1260.0 * rr**5)
            - 1.0 / (1680.0 * rr**7)
        )
        top = np.where(big, stirling, big_r * log_r - big_r - sc.gammaln(big_r))
    n = np.ceil((d_hi - d_lo) / h).astype(np.int64) + 1
    row = np.repeat(np.arange(big_r.size), n)
    step = np.arange(row.size) - (np.cumsum(n) - n)[row]
    terms = np.empty(row.size)
    for start in range(0, row.size, _NODES_PER_BLOCK):
        sl = slice(start, start + _NODES_PER_BLOCK)
        i = row[sl]
        with np.errstate(all="ignore"):
            d = d_lo[i] + step[sl] * h[i]
            log_q = -np.log1p(c[i] / big_r[i] * np.exp(-d))
            eps = np.maximum(-np.expm1(k * log_q), _TINY)  # 0 only for a rate near 1e-308
            log_dens = big_r[i] * (d - np.expm1(d)) + top[i]
            vals = np.exp(log_dens + n_pow[i] * log_q) * _survival_sum(eps, a, bp[i])
        terms[sl] = h[i] * vals
    # one sum over all nodes: a row's digits do not depend on where the blocks fall
    return np.asarray(np.bincount(row, weights=terms, minlength=big_r.size), dtype=np.float64)


def _log_reach(level: FloatArray, *, left: bool) -> FloatArray:
    """Distance d in y = log s past which a gamma(R) density in y has fallen by e^-(R level).

    On the left the log-density falls by R (d + e^-d - 1), on the right by
    R (e^d - 1 - d); the returned d is an upper bound of the root, for small
    and large ``level`` alike.
    """
    if left:  # d + e^-d - 1 >= d^2/2 - d^3/6 (d <= 1), and >= d - 1
        near = 1.2 * np.sqrt(2.0 * level)
        return np.asarray(np.where(near <= 1.0, near, level + 1.0))
    return np.asarray(1.2 * np.maximum(np.sqrt(2.0 * level), np.log1p(2.0 * level)))


_F_TERMS = 64  # power series of F for v <= 1/2: 2^-64 is below the rounding


def _survival_sum(eps: FloatArray, a: float, bp: FloatArray) -> FloatArray:
    """F(v) = sum_{m>=0} B(a, b'+m)/B(a, b') v^m = E_p[1 / (1 - (1-p) v)], v = 1 - eps.

    p ~ Beta(a, b'); ``eps`` in (0, 1] is given rather than v, whose rounding
    near 1 would lose F's digits (F grows like eps^(a-1) for a < 1). The
    hypergeometric 2F1(1, b'; a+b'; v); scipy's hyp2f1 overflows or loses
    digits near v = 1, so: the power series for v <= 1/2, else the integral
    over p in three parts, see :func:`_survival_sum_far`.
    """
    v = 1.0 - eps
    out = np.empty(eps.size)
    i = np.flatnonzero(v <= 0.5)
    if i.size:
        term = np.ones(i.size)
        total = np.ones(i.size)
        vi, bi = v[i], bp[i]
        for m in range(1, _F_TERMS):
            term *= vi * (bi + (m - 1)) / (a + bi + (m - 1))
            total += term
        out[i] = total
    i = np.flatnonzero(v > 0.5)
    if i.size:
        out[i] = _survival_sum_far(eps[i], a, bp[i])
    return out


_GL_X, _GL_W = np.polynomial.legendre.leggauss(20)


def _survival_sum_far(eps: FloatArray, a: float, bp: FloatArray) -> FloatArray:
    """F for v > 1/2 as ``E_p[1 / (eps + v p)]``, p ~ Beta(a, b').

    Below p_lo = eps/(100 v) the integrand is the series
    ``sum_i (-v p/eps)^i / eps`` (ratio <= 0.01, nine terms), integrated term by
    term against the beta density: incomplete beta functions
    ``B(a+i, b')/B(a, b') I_{p_lo}(a+i, b')``. Above 0.99 it is
    ``sum_i (v (1-p))^i``, likewise ``B(a, b'+i)/B(a, b') I_{0.01}(b'+i, a)``.
    Between, Gauss-Legendre rules of 20 nodes on equal pieces in y = logit p,
    where the integrand is analytic in the strip |Im y| < pi (its poles: p = 0,
    1 and -eps/v); the pieces are at most 4 wide, narrower for large a and b'
    (the density's peak is 1/sqrt(min(a, b')) wide). Relative error about
    1e-12 against mpmath's 2F1.
    """
    with np.errstate(all="ignore"):
        v = 1.0 - eps
        base = sc.betaln(a, bp)
        p_lo = 0.01 * eps / v
        p_hi = 0.99
        log_ratio = np.log(v) - np.log(eps)
        left = np.zeros(eps.size)
        right = np.zeros(eps.size)
        for i in range(9):
            log_t = (
                sc.betaln(a + i, bp) - base + i * log_ratio + np.log(sc.betainc(a + i, bp, p_lo))
            )
            left += (-1.0) ** i * np.exp(log_t)
            log_t = sc.betaln(a, bp + i) - base + i * np.log(v)
            right += np.exp(log_t) * sc.betainc(bp + i, a, 1.0 - p_hi)
        left /= eps
        y0 = np.log(p_lo) - np.log1p(-p_lo)
        y1 = math.log(p_hi) - math.log1p(-p_hi)
        width = np.minimum(4.0, 8.0 / np.sqrt(np.minimum(a, bp) + 1.0))
        n_pieces = np.ceil((y1 - y0) / width).astype(np.int64)
        row = np.repeat(np.arange(eps.size), n_pieces)
        piece = np.arange(row.size) - (np.cumsum(n_pieces) - n_pieces)[row]
        size = ((y1 - y0) / n_pieces)[row][:, None]
        nodes = (y0[row] + piece * size[:, 0])[:, None] + size * (_GL_X + 1.0) / 2.0
        log_p = -np.logaddexp(0.0, -nodes)
        log_1mp = -np.logaddexp(0.0, nodes)
        dens = np.exp(a * log_p + bp[row][:, None] * log_1mp - base[row][:, None])
        vals = dens / (eps[row][:, None] + v[row][:, None] * np.exp(log_p))
        middle = np.bincount(
            row, weights=(size / 2.0 * _GL_W * vals).sum(axis=1), minlength=eps.size
        )
    return np.asarray(left + middle + right, dtype=np.float64)
