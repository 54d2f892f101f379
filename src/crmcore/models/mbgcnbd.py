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
from crmcore.models import _units
from crmcore.models._inputs import positive_param
from crmcore.models.bgcnbd import (
    _alive,
    _alive_at,
    _buy,
    _check_k,
    _count,
    _ErlangFit,
    _expected,
    _fit,
    _loglik_each,
    _new_expected,
    _new_pmf,
    _residual,
    _total_log_likelihood,
    _with_fit_methods,
)
from crmcore.models.mbgnbd import MbgNbdParams
from crmcore.summary import CustomerSummary

__all__ = [
    "MbgCnbdFit",
    "MbgCnbdParams",
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


@_with_fit_methods
@attrs.frozen(kw_only=True, eq=False)
class MbgCnbdFit(_ErlangFit):
    """A fitted MBG/CNBD-k model, built by :func:`fit`.

    The attributes and methods of :class:`crmcore.models.bgcnbd.BgCnbdFit`,
    for this model: its methods are the functions of this module of the same
    names at the fitted parameters.

    Attributes
    ----------
    params : MbgCnbdParams
        Maximum-likelihood estimates, with the k used (given or chosen).
    standard_errors : MbgNbdParams
        Asymptotic standard errors of r, alpha, a, b given k.
    covariance, log_likelihood, n_customers, converged, n_iterations, time_unit, log_likelihood_by_k
        As for :class:`~crmcore.models.bgcnbd.BgCnbdFit`.

    Examples
    --------
    >>> f = fit([0, 1, 1, 2, 2, 3, 5, 7], [0, 2, 30, 10, 35, 20, 36, 38], [39] * 8, k=1,
    ...         weights=[600, 80, 60, 40, 50, 30, 25, 15])
    >>> f.k, f.n_customers, f.log_likelihood_by_k is None
    (1, 900.0, True)
    >>> round(f.conditional_probability_alive(52.0, 0, 0.0, 39.0), 4)
    0.0586
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


# --------------------------------------------------------------------------- public API
# Every function is that of crmcore.models.bgcnbd of the same name with s = 1 (dropout
# possible right after the first purchase); the Notes there give the formulas.


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
    frequency, recency, T, litt, k, weights, time_unit
        As for :func:`crmcore.models.bgcnbd.fit`.
    initial : MbgNbdParams, optional
        Starting point of (r, alpha, a, b) for the given k (with k searched:
        for k = 1).

    Returns
    -------
    MbgCnbdFit

    Raises
    ------
    InputError, InputTypeError, ConvergenceError
        As :func:`crmcore.models.bgcnbd.fit` (``initial`` must be a
        MbgNbdParams).

    Warns
    -----
    ConvergenceWarning
        When the data barely identify a parameter at the chosen k.

    See Also
    --------
    crmcore.models.bgcnbd.fit, crmcore.models.mbgnbd.fit

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
    frequency, recency, T, litt, weights
        As for :func:`crmcore.models.bgcnbd.log_likelihood`.

    Returns
    -------
    float
        ``sum(weights * log L_i)``, L_i the likelihood of
        :func:`crmcore.models.bgcnbd.log_likelihood` with s = 1.

    Raises
    ------
    InputError, InputTypeError
        As :func:`crmcore.models.bgcnbd.log_likelihood`.

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
    frequency, recency, T, litt
        As for :func:`crmcore.models.bgcnbd.log_likelihood_per_customer`.

    Returns
    -------
    float or ndarray
        log L_i, see :func:`log_likelihood`.

    Raises
    ------
    InputError, InputTypeError
        As :func:`crmcore.models.bgcnbd.log_likelihood_per_customer`.

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
    return _loglik_each(params, frequency, recency, T, litt=litt)


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
        Same shape as ``t``; the series of
        :func:`crmcore.models.bgcnbd.expected_purchases` with s = 1.

    Raises
    ------
    InputError
        When ``t`` is negative or not finite.

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
    return _new_expected(params, t)


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
    t, frequency, recency, T
        As for :func:`crmcore.models.bgcnbd.conditional_expected_purchases`.

    Returns
    -------
    float or ndarray
        One value per customer, >= 0 and non-decreasing in ``t``; the series
        of :func:`crmcore.models.bgcnbd.conditional_expected_purchases` with
        s = 1.

    Raises
    ------
    InputError, InputTypeError
        As :func:`crmcore.models.bgcnbd.conditional_expected_purchases`.

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
    return _expected(params, t, frequency, recency, T)


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
    t, frequency, recency, T
        As for :func:`crmcore.models.bgcnbd.conditional_purchase_probability`.

    Returns
    -------
    float or ndarray
        One value per customer in [0, P(alive)], 0 at ``t = 0`` and
        non-decreasing in ``t``; the sum of
        :func:`crmcore.models.bgcnbd.conditional_purchase_probability` with
        s = 1.

    Raises
    ------
    InputError, InputTypeError
        As :func:`crmcore.models.bgcnbd.conditional_purchase_probability`.

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
    return _buy(params, t, frequency, recency, T)


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
        purchase (they may have dropped out right after the first); the
        formula of :func:`crmcore.models.bgcnbd.probability_alive` with s = 1.

    Raises
    ------
    InputError, InputTypeError
        As :func:`crmcore.models.bgcnbd.probability_alive`.

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
    return _alive(params, frequency, recency, T)


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
        A float when both are scalars; the formula of
        :func:`crmcore.models.bgcnbd.purchase_probability` with s = 1.

    Raises
    ------
    InputError
        On negative or fractional ``n`` or negative ``t``.

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
    return _new_pmf(params, n, t)


def conditional_probability_alive(
    params: MbgCnbdParams,
    t: ArrayLike,
    frequency: ArrayLike | CustomerSummary,
    recency: ArrayLike | None = None,
    T: ArrayLike | None = None,
) -> Any:
    """Probability that each customer is still active at T + t, given the history.

    Parameters
    ----------
    params : MbgCnbdParams
    t, frequency, recency, T
        As for :func:`crmcore.models.bgcnbd.conditional_probability_alive`.

    Returns
    -------
    float or ndarray
        Values in [0, P(alive)], non-increasing in ``t``; the series of
        :func:`crmcore.models.bgcnbd.conditional_probability_alive` with s = 1
        (for k = 1 the MBG/NBD result).

    Raises
    ------
    InputError, InputTypeError
        As :func:`crmcore.models.bgcnbd.conditional_probability_alive`.

    References
    ----------
    Platzer, M., & Reutterer, T. (2016). Ticking away the moments: Timing
    regularity helps to better predict customer activity. Marketing Science,
    35(5), 779-799.

    Examples
    --------
    >>> p = MbgCnbdParams(r=1.0, alpha=4.0, a=0.8, b=2.5, k=2)
    >>> conditional_probability_alive(p, [0.0, 52.0], [2, 0], [30.0, 0.0], [38.0, 38.0])
    array([0.79244473, 0.31064087])
    >>> conditional_probability_alive(p, -1.0, 2, 30.0, 38.0)
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: t must be >= 0.0, got -1.0
    """
    inp.check_params(params, MbgCnbdParams)
    return _alive_at(params, t, frequency, recency, T)


def conditional_purchase_count_probability(  # noqa: PLR0917 (the family's order)
    params: MbgCnbdParams,
    n: ArrayLike,
    t: ArrayLike,
    frequency: ArrayLike | CustomerSummary,
    recency: ArrayLike | None = None,
    T: ArrayLike | None = None,
) -> Any:
    """Probability that each customer makes exactly n purchases in (T, T + t], given the history.

    Parameters
    ----------
    params : MbgCnbdParams
    n, t, frequency, recency, T
        As for :func:`crmcore.models.bgcnbd.conditional_purchase_count_probability`.

    Returns
    -------
    float or ndarray
        Values in [0, 1]; summed over n = 0, 1, ... they give 1 and their mean
        is :func:`conditional_expected_purchases`. The formula of
        :func:`crmcore.models.bgcnbd.conditional_purchase_count_probability`
        with s = 1 (for k = 1 the MBG/NBD result).

    Raises
    ------
    InputError, InputTypeError
        As :func:`crmcore.models.bgcnbd.conditional_purchase_count_probability`.

    References
    ----------
    Platzer, M., & Reutterer, T. (2016). Ticking away the moments: Timing
    regularity helps to better predict customer activity. Marketing Science,
    35(5), 779-799.

    Examples
    --------
    >>> p = MbgCnbdParams(r=1.0, alpha=4.0, a=0.8, b=2.5, k=2)
    >>> conditional_purchase_count_probability(p, [0, 1, 2], 39.0, 2, 30.0, 38.0).round(4)
    array([0.2669, 0.242 , 0.2129])
    >>> conditional_purchase_count_probability(p, -1, 39.0, 2, 30.0, 38.0)
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: n must be non-negative; ...
    """
    inp.check_params(params, MbgCnbdParams)
    return _count(params, n, t, frequency, recency=recency, T=T)


def discounted_expected_residual_purchases(
    params: MbgCnbdParams,
    frequency: ArrayLike | CustomerSummary,
    recency: ArrayLike | None = None,
    T: ArrayLike | None = None,
    *,
    discount_rate: float,
) -> Any:
    """Return the discounted expected residual purchases (DERT) of each customer.

    Parameters
    ----------
    params : MbgCnbdParams
    frequency, recency, T, discount_rate
        As for :func:`crmcore.models.bgcnbd.discounted_expected_residual_purchases`.

    Returns
    -------
    float or ndarray
        Values >= 0, decreasing in ``discount_rate``; the integral of
        :func:`crmcore.models.bgcnbd.discounted_expected_residual_purchases`
        with s = 1 (for k = 1 the MBG/NBD result). A customer just acquired
        (x = t_x = T = 0) may have dropped out at once.

    Raises
    ------
    InputError, InputTypeError
        As :func:`crmcore.models.bgcnbd.discounted_expected_residual_purchases`.

    References
    ----------
    Platzer, M., & Reutterer, T. (2016). Ticking away the moments: Timing
    regularity helps to better predict customer activity. Marketing Science,
    35(5), 779-799.

    Examples
    --------
    >>> p = MbgCnbdParams(r=1.0, alpha=4.0, a=0.8, b=2.5, k=2)
    >>> discounted_expected_residual_purchases(p, [2, 0], [30.0, 0.0], [38.0, 38.0],
    ...                                        discount_rate=0.01).round(3).tolist()
    [3.217, 0.466]
    >>> discounted_expected_residual_purchases(p, 2, 30.0, 38.0, discount_rate=-1.0)
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: discount_rate must be > 0.0, got -1.0
    """
    inp.check_params(params, MbgCnbdParams)
    return _residual(params, frequency, recency, T, discount_rate=discount_rate)
