"""The MBG/CNBD-k model of repeat buying (Platzer & Reutterer 2016).

The BG/CNBD-k model (:mod:`crmcore.models.bgcnbd`: Erlang-k times between
purchases, beta-geometric dropout) with the dropout of the MBG/NBD model
(Batislam, Denizel & Filiztekin 2007): a customer may also drop out right
after her first purchase, with the same probability p as after every repeat
purchase, so customers without repeat purchase may be inactive. With k = 1 it
is the MBG/NBD model (:mod:`crmcore.models.mbgnbd`). The formulas are those
of :mod:`crmcore.models.bgcnbd` with s = 1.

Examples
--------
>>> from crmcore.models import mbgcnbd
>>> params = mbgcnbd.MbgCnbdParams(r=1.0, alpha=4.0, a=0.8, b=2.5, k=2)
>>> mbgcnbd.probability_alive(params, [2, 0], [30.0, 0.0], [38.0, 38.0]).round(3).tolist()
[0.792, 0.362]
"""

from __future__ import annotations

from typing import Any, overload

import attrs
import numpy as np

from crmcore._typing import ArrayLike, FloatArray
from crmcore.models import _inputs as inp
from crmcore.models import _predict, _units
from crmcore.models._inputs import positive_param
from crmcore.models._predict import CustomerPrediction
from crmcore.models.bgcnbd import (
    _alive_from_log_odds,
    _check_k,
    _conditional_expectation,
    _expected_at,
    _fit,
    _histories_litt,
    _log_odds_dead,
    _loglik_rows,
    _pmf,
    _purchase_probability_each,
    _total_log_likelihood,
    _unconditional,
)
from crmcore.models.mbgnbd import MbgNbdParams
from crmcore.summary import CustomerSummary

__all__ = [
    "MbgCnbdFit",
    "MbgCnbdParams",
    "conditional_expected_purchases",
    "conditional_purchase_probability",
    "expected_purchases",
    "fit",
    "log_likelihood",
    "log_likelihood_per_customer",
    "probability_alive",
    "purchase_probability",
]

_MBG = 1  # shift: dropout is possible right after the first purchase


@attrs.frozen(kw_only=True)
class MbgCnbdParams:
    """Parameters of the MBG/CNBD-k model.

    Attributes
    ----------
    r, alpha : float
        Shape and rate of the gamma distribution of the Erlang rates lambda;
        alpha is in the time unit of the data. A customer's mean time between
        purchases is k / lambda.
    a, b : float
        Parameters of the beta distribution of the dropout probability p.
    k : int
        Regularity of the times between purchases, 1 to :data:`crmcore.models.bgcnbd.MAX_K` (30);
        1 is the MBG/NBD model.

    Raises
    ------
    InputError
        When a parameter is not positive and finite, or k is out of range.
    InputTypeError
        When k is not an integer.

    Examples
    --------
    >>> MbgCnbdParams(r=1.0, alpha=4.0, a=0.8, b=2.5, k=3).k
    3
    >>> MbgCnbdParams(r=1.0, alpha=4.0, a=0.8, b=2.5, k=0)
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


@attrs.frozen(kw_only=True, eq=False)
class MbgCnbdFit:
    """A fitted MBG/CNBD-k model, built by :func:`fit`.

    Attributes
    ----------
    params : MbgCnbdParams
        Maximum-likelihood estimates, with the k used (given or chosen).
    standard_errors : MbgNbdParams
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
    """

    params: MbgCnbdParams
    standard_errors: MbgNbdParams
    covariance: FloatArray
    log_likelihood: float
    n_customers: float
    converged: bool
    n_iterations: int
    time_unit: str | None = _units.unit_field()
    log_likelihood_by_k: FloatArray | None = None

    @property
    def k(self) -> int:
        """The regularity k of the fit (``params.k``)."""
        return self.params.k

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

    def purchase_probability(self, n: ArrayLike, t: ArrayLike) -> Any:
        """Return :func:`purchase_probability` at the fitted parameters."""
        return purchase_probability(self.params, n, t)

    def log_likelihood_per_customer(
        self,
        frequency: ArrayLike | CustomerSummary,
        recency: ArrayLike | None = None,
        T: ArrayLike | None = None,
        *,
        litt: ArrayLike | None = None,
    ) -> Any:
        """Return :func:`log_likelihood_per_customer` at the fitted parameters."""
        return log_likelihood_per_customer(
            self.params, _units.in_fit_unit(self.time_unit, frequency)[0], recency, T, litt=litt
        )


# --------------------------------------------------------------------------- public API


def fit(
    frequency: ArrayLike | CustomerSummary,
    recency: ArrayLike | None = None,
    T: ArrayLike | None = None,
    *,
    litt: ArrayLike | None = None,
    k: int | None = None,
    weights: ArrayLike | None = None,
    initial: MbgNbdParams | None = None,
    time_unit: str | None = None,
) -> MbgCnbdFit:
    """Fit the MBG/CNBD-k model by maximum likelihood, for a given k or the best k in 1..12.

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
    initial : MbgNbdParams, optional
        Starting point of (r, alpha, a, b) for the given k (with k searched:
        for k = 1); by default r = 1, alpha = mean T / ((mean x + 1) k),
        a = 1, b = 3.
    time_unit : {"h", "D", "W", "M", "Y"}, optional
        Time unit of the arrays (see :func:`crmcore.models.bgnbd.fit`).

    Returns
    -------
    MbgCnbdFit

    Raises
    ------
    InputError
        On invalid histories, a ``litt`` that does not fit them (see
        :meth:`crmcore.CustomerSummary.from_arrays`), a missing ``litt``
        when k is not 1, k out of range, negative weights or no customer.
    InputTypeError
        On the wrong combination of summary and arrays, non-numeric input, or
        an ``initial`` that is not a MbgNbdParams.
    ConvergenceError
        When the optimiser fails (at the given k, or at every k searched).

    Warns
    -----
    ConvergenceWarning
        When the data barely identify a parameter at the chosen k; the fit
        is then returned with ``converged=False``.

    See Also
    --------
    crmcore.models.bgcnbd.fit, crmcore.models.mbgnbd.fit

    Notes
    -----
    The timing term of the likelihood, ``(k-1) litt - x log((k-1)!)``, does
    not depend on (r, alpha, a, b): the search for a given k runs on the
    distinct (x, t_x, T) histories (:func:`crmcore.compress`) with the
    analytic gradient, and the term is added afterwards. It does depend on
    k, which is why the choice of k needs ``litt``. The search over k starts
    each k from the estimates at k - 1 (alpha scaled by (k-1)/k, which keeps
    the mean time between purchases).

    References
    ----------
    Platzer, M., & Reutterer, T. (2016). Ticking away the moments: Timing
    regularity helps to better predict customer activity. Marketing Science,
    35(5), 779-799.

    Examples
    --------
    >>> from crmcore.simulate import mbgcnbd_histories
    >>> h = mbgcnbd_histories(2.0, 8.0, 0.8, 2.5, 3, T=52.0, n_customers=3000, rng=4)
    >>> f = fit(h.frequency, h.recency, h.T, litt=h.litt)
    >>> f.k, int(np.argmax(f.log_likelihood_by_k)) + 1
    (3, 3)
    >>> fit([1], [2.0], [4.0], k=2)
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: litt is required for k > 1 ...
    """
    result: MbgCnbdFit = _fit(
        frequency,
        recency,
        T,
        litt=litt,
        k=k,
        weights=weights,
        initial=initial,
        time_unit=time_unit,
        shift=_MBG,
        model="MBG/CNBD-k",
    )
    return result


def log_likelihood(
    params: MbgCnbdParams,
    frequency: ArrayLike | CustomerSummary,
    recency: ArrayLike | None = None,
    T: ArrayLike | None = None,
    *,
    litt: ArrayLike | None = None,
    weights: ArrayLike | None = None,
) -> float:
    """Total MBG/CNBD-k log-likelihood of the customers' histories.

    Parameters
    ----------
    params : MbgCnbdParams
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
    Platzer & Reutterer (2016): with R = r + k x, s = 0 (MBG/CNBD-k) or 1
    (MMBG/CNBD-k) and the gap since the last purchase u = T - t_x,

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
    >>> p = MbgCnbdParams(r=1.0, alpha=4.0, a=0.8, b=2.5, k=2)
    >>> round(log_likelihood(p, [0, 3], [0.0, 30.0], [40.0, 40.0], litt=[0.0, 6.0]), 4)
    -13.0448
    >>> log_likelihood(p, [0, 3], [0.0, 30.0], [40.0, 40.0])
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: litt is required for k > 1 ...
    """
    inp.check_params(params, MbgCnbdParams)
    return _total_log_likelihood(
        params, frequency, recency, T, litt=litt, weights=weights, shift=_MBG
    )


def log_likelihood_per_customer(
    params: MbgCnbdParams,
    frequency: ArrayLike | CustomerSummary,
    recency: ArrayLike | None = None,
    T: ArrayLike | None = None,
    *,
    litt: ArrayLike | None = None,
) -> Any:
    """MBG/CNBD-k log-likelihood of each customer's history.

    Parameters
    ----------
    params : MbgCnbdParams
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
    >>> p = MbgCnbdParams(r=1.0, alpha=4.0, a=0.8, b=2.5, k=2)
    >>> log_likelihood_per_customer(p, [0, 3], [0.0, 30.0], [40.0, 40.0],
    ...                             litt=[0.0, 6.0]).round(6).tolist()
    [-0.983755, -12.061075]
    >>> log_likelihood_per_customer(p, 3, 30.0, 40.0, litt=9.0)
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: litt must not exceed frequency * log(recency / frequency) ...
    """
    inp.check_params(params, MbgCnbdParams)
    h, lt = _histories_litt(frequency, recency, T, litt, params.k, every_row=True)
    out = _loglik_rows(params.as_array(), params.k, h.x, h.tx, h.T, litt=lt, shift=_MBG)
    return inp.finish(out, h.single)


@overload
def expected_purchases(params: MbgCnbdParams, t: float) -> float: ...
@overload
def expected_purchases(params: MbgCnbdParams, t: ArrayLike) -> FloatArray: ...
def expected_purchases(params: MbgCnbdParams, t: ArrayLike) -> Any:
    """Return the expected repeat purchases E[X(t)] of a new customer in (0, t].

    Parameters
    ----------
    params : MbgCnbdParams
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
    >>> p = MbgCnbdParams(r=1.0, alpha=4.0, a=0.8, b=2.5, k=2)
    >>> expected_purchases(p, [0.0, 39.0]).round(4).tolist()
    [0.0, 2.1841]
    >>> expected_purchases(p, -1.0)
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: t must be >= 0.0, got -1.0
    """
    inp.check_params(params, MbgCnbdParams)
    tt, scalar = inp.times(t, "t")
    out = _unconditional(params.as_array(), params.k, tt, _MBG)
    return float(out[0]) if scalar else out


def conditional_expected_purchases(
    params: MbgCnbdParams,
    t: ArrayLike,
    frequency: ArrayLike | CustomerSummary,
    recency: ArrayLike | None = None,
    T: ArrayLike | None = None,
) -> Any:
    """Return the expected purchases in (T, T + t] given each customer's history.

    Parameters
    ----------
    params : MbgCnbdParams
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
    >>> p = MbgCnbdParams(r=1.0, alpha=4.0, a=0.8, b=2.5, k=2)
    >>> conditional_expected_purchases(p, 39.0, [2, 2], [30.0, 36.0], [38.0, 38.0]).round(4)
    array([1.7408, 1.6698])
    >>> conditional_expected_purchases(p, -1.0, [2], [30.0], [38.0])
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: t must be >= 0.0, got -1.0
    """
    inp.check_params(params, MbgCnbdParams)
    h = inp.histories(frequency, recency, T)
    tt = inp.horizon(t, h.x.size)
    out = _conditional_expectation(params.as_array(), params.k, tt, (h.x, h.tx, h.T), _MBG)
    return inp.finish(out, h.single)


def conditional_purchase_probability(
    params: MbgCnbdParams,
    t: ArrayLike,
    frequency: ArrayLike | CustomerSummary,
    recency: ArrayLike | None = None,
    T: ArrayLike | None = None,
) -> Any:
    """Probability that each customer makes at least one purchase in (T, T + t].

    Parameters
    ----------
    params : MbgCnbdParams
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
    >>> p = MbgCnbdParams(r=1.0, alpha=4.0, a=0.8, b=2.5, k=2)
    >>> conditional_purchase_probability(p, 39.0, [2, 2], [30.0, 36.0], [38.0, 38.0]).round(4)
    array([0.7331, 0.7548])
    >>> conditional_purchase_probability(p, 39.0, [2], [30.0], [38.0, 38.0])
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: T must have the same length as frequency; got 2 and 1
    """
    inp.check_params(params, MbgCnbdParams)
    h = inp.histories(frequency, recency, T)
    tt = inp.horizon(t, h.x.size)
    out = _purchase_probability_each(params.as_array(), params.k, tt, (h.x, h.tx, h.T), _MBG)
    return inp.finish(out, h.single)


def probability_alive(
    params: MbgCnbdParams,
    frequency: ArrayLike | CustomerSummary,
    recency: ArrayLike | None = None,
    T: ArrayLike | None = None,
) -> Any:
    """Probability that each customer is still active at T.

    Parameters
    ----------
    params : MbgCnbdParams
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
    >>> p = MbgCnbdParams(r=1.0, alpha=4.0, a=0.8, b=2.5, k=2)
    >>> round(probability_alive(p, 2, 30.0, 38.0), 4)
    0.7924
    >>> probability_alive(p, [-1], [0.0], [3.0])
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: frequency must be non-negative; ...
    """
    inp.check_params(params, MbgCnbdParams)
    h = inp.histories(frequency, recency, T)
    d = _log_odds_dead(params.as_array(), params.k, h.x, h.tx, h.T, shift=_MBG)
    return inp.finish(_alive_from_log_odds(d), h.single)


@overload
def purchase_probability(params: MbgCnbdParams, n: int, t: float) -> float: ...
@overload
def purchase_probability(params: MbgCnbdParams, n: ArrayLike, t: ArrayLike) -> FloatArray: ...
def purchase_probability(params: MbgCnbdParams, n: ArrayLike, t: ArrayLike) -> Any:
    """Probability P(X(t) = n) that a new customer makes n repeat purchases in (0, t].

    Parameters
    ----------
    params : MbgCnbdParams
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
    >>> p = MbgCnbdParams(r=1.0, alpha=4.0, a=0.8, b=2.5, k=2)
    >>> purchase_probability(p, [0, 1, 2], 39.0).round(4).tolist()
    [0.3768, 0.2059, 0.1258]
    >>> purchase_probability(p, 1.5, 39.0)
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: n must hold whole numbers; 1 of 1 values breaks this ...
    """
    inp.check_params(params, MbgCnbdParams)
    nn, tt, scalar = inp.counts_and_times(n, t)
    out = _pmf(params.as_array(), params.k, nn, tt, _MBG)
    return float(out[0]) if scalar else out
