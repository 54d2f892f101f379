"""The BG/BB model of discrete-time repeat buying (Fader, Hardie & Shang 2010).

Customers have one transaction opportunity per period (a yearly appeal of a
charity, a monthly event). While alive, a customer transacts at each
opportunity with probability p; at the start of each opportunity she dies
(for good) with probability theta. Across customers p ~ Beta(alpha, beta) and
theta ~ Beta(gamma, delta). The data per customer are ``frequency`` (x, the
opportunities with a transaction), ``recency`` (t_x, the last of them; 0 when
x = 0) and ``n_periods`` (n, the opportunities observed after the first
transaction), as produced by :func:`crmcore.summarize_discrete`.

The continuous-time models (BG/NBD, MBG/NBD, Pareto/NBD) count time where
this model counts opportunities; their arguments map as follows:

===========================  ==================  ============================
Quantity                     BG/NBD and family   BG/BB
===========================  ==================  ============================
repeat transactions          ``frequency`` (x)   ``frequency`` (x)
time of the last one         ``recency`` (t_x)   ``recency`` (t_x, an index)
length of observation        ``T``               ``n_periods`` (n)
forecast horizon             ``t``               ``n_future`` (n*)
count of a new customer      ``n`` (at ``t``)    ``k`` (in ``n_periods``)
===========================  ==================  ============================

So ``conditional_purchase_probability(params, t, x, t_x, T)`` of BG/NBD reads
``conditional_purchase_probability(params, n_future, x, t_x, n_periods)``
here, and ``purchase_probability(params, n, t)`` reads
``purchase_probability(params, k, n_periods)``.

Examples
--------
>>> from crmcore.models import bgbb
>>> params = bgbb.BgBbParams(alpha=1.204, beta=0.750, gamma=0.657, delta=2.783)
>>> round(bgbb.expected_purchases(params, 6), 3)
2.22
>>> bgbb.probability_alive(params, [6, 3, 0], [6, 3, 0], 6).round(3).tolist()
[0.93, 0.095, 0.108]
"""

from __future__ import annotations

import math
from typing import Any, cast, overload

import attrs
import numpy as np
from scipy import special as sc

from crmcore import _validation as v
from crmcore._typing import ArrayLike, FloatArray, IntArray, SeedLike
from crmcore.errors import InputError
from crmcore.models import _draws, _predict
from crmcore.models import _inputs as inp
from crmcore.models._draws import ParameterDraws
from crmcore.models._inputs import positive_param
from crmcore.models._mle import MleResult, fit_fields, maximize_likelihood
from crmcore.models._predict import CustomerPrediction
from crmcore.summary import CompressedHistories, DiscreteSummary, compress

__all__ = [
    "MAX_HORIZON",
    "MAX_PERIODS",
    "MIN_DISCOUNT_RATE",
    "BgBbFit",
    "BgBbParams",
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

_NAMES = ("alpha", "beta", "gamma", "delta")

#: Largest number of observed opportunities ``n_periods`` accepted by the functions
#: that evaluate the likelihood (fit, log_likelihood, probability_alive,
#: conditional_expected_purchases) and by purchase_probability: their sums have one
#: term per opportunity. 100,000 covers daily opportunities over 270 years.
MAX_PERIODS = 100_000

#: Largest horizon accepted by expected_purchases (``n_periods``) and
#: conditional_expected_purchases (``n_future``): their closed forms cost the same for
#: any horizon, and counts up to 1e15 are exact in floating point.
MAX_HORIZON = 10**15


@attrs.frozen(kw_only=True)
class BgBbParams:
    """Parameters of the BG/BB model.

    Attributes
    ----------
    alpha, beta : float
        Beta distribution of the transaction probability p.
    gamma, delta : float
        Beta distribution of the dropout probability theta.

    Raises
    ------
    InputError
        When a parameter is not positive and finite.

    Examples
    --------
    >>> BgBbParams(alpha=1.204, beta=0.750, gamma=0.657, delta=2.783).gamma
    0.657
    >>> BgBbParams(alpha=1.204, beta=0.750, gamma=-1.0, delta=2.783)
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: gamma must be > 0.0, got -1.0
    """

    alpha: float = positive_param()
    beta: float = positive_param()
    gamma: float = positive_param()
    delta: float = positive_param()

    def as_array(self) -> FloatArray:
        """Return ``[alpha, beta, gamma, delta]``."""
        return np.array([self.alpha, self.beta, self.gamma, self.delta])


@attrs.frozen(kw_only=True, eq=False)
class BgBbFit:
    """A fitted BG/BB model, built by :func:`fit`.

    Attributes
    ----------
    params : BgBbParams
        Maximum-likelihood estimates.
    standard_errors : BgBbParams
        Asymptotic standard errors (inverse observed information).
    covariance : ndarray, shape (4, 4)
        Asymptotic covariance of (alpha, beta, gamma, delta).
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

    Examples
    --------
    >>> f = fit([0, 1, 2, 3, 4, 5, 6], [0, 1, 4, 6, 5, 6, 6], 6,
    ...         weights=[350, 150, 120, 100, 90, 100, 120])
    >>> f.converged, f.n_customers
    (True, 1030.0)
    """

    params: BgBbParams
    standard_errors: BgBbParams
    covariance: FloatArray
    log_likelihood: float
    n_customers: float
    converged: bool
    n_iterations: int

    def expected_purchases(self, n_periods: ArrayLike) -> Any:
        """Return :func:`expected_purchases` at the fitted parameters."""
        return expected_purchases(self.params, n_periods)

    def conditional_expected_purchases(
        self,
        n_future: ArrayLike,
        frequency: ArrayLike | DiscreteSummary,
        recency: ArrayLike | None = None,
        n_periods: ArrayLike | None = None,
    ) -> Any:
        """Return :func:`conditional_expected_purchases` at the fitted parameters."""
        return conditional_expected_purchases(self.params, n_future, frequency, recency, n_periods)

    def conditional_purchase_probability(
        self,
        n_future: ArrayLike,
        frequency: ArrayLike | DiscreteSummary,
        recency: ArrayLike | None = None,
        n_periods: ArrayLike | None = None,
    ) -> Any:
        """Return :func:`conditional_purchase_probability` at the fitted parameters."""
        return conditional_purchase_probability(
            self.params, n_future, frequency, recency, n_periods
        )

    def probability_alive(
        self,
        frequency: ArrayLike | DiscreteSummary,
        recency: ArrayLike | None = None,
        n_periods: ArrayLike | None = None,
    ) -> Any:
        """Return :func:`probability_alive` at the fitted parameters."""
        return probability_alive(self.params, frequency, recency, n_periods)

    def predict(self, summary: DiscreteSummary, n_future: int) -> CustomerPrediction:
        """Return every per-customer forecast over ``n_future`` opportunities at once.

        P(alive at n+1), expected transactions and P(at least one
        transaction) in the next ``n_future`` opportunities, as one
        :class:`~crmcore.models.clv.CustomerPrediction` (see
        :func:`crmcore.models.clv.predict`; no spend or CLV for BG/BB).
        """
        return _predict.run(self, summary, n_future, t_name="n_future")

    def purchase_probability(self, k: ArrayLike, n_periods: ArrayLike) -> Any:
        """Return :func:`purchase_probability` at the fitted parameters."""
        return purchase_probability(self.params, k, n_periods)

    def log_likelihood_per_customer(
        self,
        frequency: ArrayLike | DiscreteSummary,
        recency: ArrayLike | None = None,
        n_periods: ArrayLike | None = None,
    ) -> Any:
        """Return :func:`log_likelihood_per_customer` at the fitted parameters."""
        return log_likelihood_per_customer(self.params, frequency, recency, n_periods)

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
        >>> f = fit([0, 1, 2, 3, 4, 5, 6], [0, 1, 4, 6, 5, 6, 6], 6,
        ...         weights=[350, 150, 120, 100, 90, 100, 120])
        >>> draws = f.sample_params(500, rng=0)
        >>> draws.values.shape[0], draws.names
        (500, ('alpha', 'beta', 'gamma', 'delta'))
        >>> f.sample_params(0, rng=0)
        Traceback (most recent call last):
        ...
        crmcore.errors.InputError: n_draws must be >= 1, got 0
        """
        return _draws.sample_params(self.params, self.covariance, n_draws, rng)

    # P(alive) later, P(Y = k) and DERT (the module functions of the same names)

    def conditional_probability_alive(
        self,
        n_future: ArrayLike,
        frequency: ArrayLike | DiscreteSummary,
        recency: ArrayLike | None = None,
        n_periods: ArrayLike | None = None,
    ) -> Any:
        """Return :func:`conditional_probability_alive` at the fitted parameters."""
        return conditional_probability_alive(self.params, n_future, frequency, recency, n_periods)

    def conditional_purchase_count_probability(
        self,
        k: ArrayLike,
        n_future: ArrayLike,
        frequency: ArrayLike | DiscreteSummary,
        recency: ArrayLike | None = None,
        n_periods: ArrayLike | None = None,
    ) -> Any:
        """Return :func:`conditional_purchase_count_probability` at the fitted parameters."""
        return conditional_purchase_count_probability(
            self.params, k, n_future, frequency, recency, n_periods
        )

    def discounted_expected_residual_purchases(
        self,
        frequency: ArrayLike | DiscreteSummary,
        recency: ArrayLike | None = None,
        n_periods: ArrayLike | None = None,
        *,
        discount_rate: float,
    ) -> Any:
        """Return :func:`discounted_expected_residual_purchases` at the fitted parameters."""
        return discounted_expected_residual_purchases(
            self.params, frequency, recency, n_periods, discount_rate=discount_rate
        )


# --------------------------------------------------------------------------- public API


def fit(
    frequency: ArrayLike | DiscreteSummary,
    recency: ArrayLike | None = None,
    n_periods: ArrayLike | None = None,
    *,
    weights: ArrayLike | None = None,
    initial: BgBbParams | None = None,
) -> BgBbFit:
    """Fit the BG/BB model by maximum likelihood.

    Parameters
    ----------
    frequency : array-like or DiscreteSummary
        x per customer: opportunities with a transaction; or the output of
        :func:`crmcore.summarize_discrete` (then ``recency`` and
        ``n_periods`` are left out).
    recency : array-like
        t_x per customer: the last opportunity with a transaction (0 if x = 0).
    n_periods : int or array-like
        n: the opportunities observed, one number for a cohort or one per
        customer.
    weights : array-like, optional
        Non-negative number of customers each row stands for (default 1).
    initial : BgBbParams, optional
        Starting point; by default alpha = beta = gamma = delta = 1.

    Returns
    -------
    BgBbFit

    Raises
    ------
    InputError
        On invalid histories (x > t_x, t_x > n, t_x > 0 with x = 0, ...),
        negative weights or no customer.
    InputTypeError
        When ``frequency`` is a DiscreteSummary and ``recency`` or ``n_periods`` is
        given too, when arrays are given without ``recency`` and ``n_periods``,
        or on non-numeric input.
    ConvergenceError
        When the optimiser fails or a parameter is not identified by the data.

    Warns
    -----
    ConvergenceWarning
        When the data barely identify a parameter (a standard error above 10
        times its estimate, or nearly collinear parameters); the fit is then
        returned with ``converged=False``.

    Notes
    -----
    A cohort has at most (n+1)(n+2)/2 distinct histories, so identical
    customers are merged into weighted rows first and a fit takes
    milliseconds whatever the number of customers. The search runs on
    log-parameters with the analytic gradient of :func:`log_likelihood`.

    References
    ----------
    Fader, P. S., Hardie, B. G. S., & Shang, J. (2010). Customer-base analysis
    in a discrete-time noncontractual setting. Marketing Science, 29(6),
    1086-1108.

    Examples
    --------
    >>> f = fit([0, 1, 2, 3, 4, 5, 6], [0, 1, 4, 6, 5, 6, 6], 6,
    ...         weights=[350, 150, 120, 100, 90, 100, 120])
    >>> round(f.params.alpha, 3), round(f.params.gamma, 3), round(f.log_likelihood, 2)
    (2.969, 0.207, -3057.29)
    >>> fit([2], [1], 6)
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: recency must be at least frequency; 1 of 1 customers breaks this ...
    """
    x, tx, n, w, _ = _histories(frequency, recency, n_periods, weights)
    data = compress(x, tx, n, w)
    if len(data) == 0:
        raise InputError(
            "frequency must describe at least one customer (with positive weight); got none"
        )
    if initial is not None:
        inp.check_params(initial, BgBbParams, "initial")
    start = initial.as_array() if initial is not None else np.ones(4)
    res = _fit_compressed(data, start)
    return BgBbFit(
        **fit_fields(res, BgBbParams),
        n_customers=data.n_customers,
    )


def log_likelihood(
    params: BgBbParams,
    frequency: ArrayLike | DiscreteSummary,
    recency: ArrayLike | None = None,
    n_periods: ArrayLike | None = None,
    *,
    weights: ArrayLike | None = None,
) -> float:
    """Total BG/BB log-likelihood of the customers' histories.

    Parameters
    ----------
    params : BgBbParams
    frequency, recency, n_periods : array-like, or a DiscreteSummary as ``frequency``
        The histories (x, t_x, n).
    weights : array-like, optional
        Non-negative weight per row (default 1).

    Returns
    -------
    float
        ``sum(weights * log L_i)``.

    Raises
    ------
    InputError
        On invalid histories or weights, weights that are all 0, or
        ``n_periods`` above :data:`MAX_PERIODS`.
    InputTypeError
        When ``frequency`` is a DiscreteSummary and ``recency`` or ``n_periods`` is
        given too, when arrays are given without ``recency`` and ``n_periods``,
        or on non-numeric input.

    Notes
    -----
    Equation (5) of Fader, Hardie & Shang (2010):

    ``L = B(α+x, β+n-x)/B(α,β) B(γ, δ+n)/B(γ,δ)
    + Σ_{i=0}^{n-t_x-1} B(α+x, β+t_x-x+i)/B(α,β) B(γ+1, δ+t_x+i)/B(γ,δ)``:
    alive through opportunity n, or dead at opportunity t_x+i+1. Evaluated
    with log-beta functions and cumulative log-sum-exp over the terms, which
    depend on the customer only through x and the first index t_x, so they
    are computed once per distinct (x, n).

    Examples
    --------
    >>> p = BgBbParams(alpha=1.204, beta=0.750, gamma=0.657, delta=2.783)
    >>> round(log_likelihood(p, [0, 6, 3], [0, 6, 5], 6), 4)
    -8.9654
    >>> log_likelihood(p, [1], [7], 6)
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: recency must not exceed n_periods; 1 of 1 customers breaks this ...
    """
    inp.check_params(params, BgBbParams)
    x, tx, n, w, _ = _histories(frequency, recency, n_periods, weights)
    data = compress(x, tx, n, w)
    if len(data) == 0:
        if x.size == 0:
            return 0.0  # no customers: an empty sum
        raise InputError(
            f"weights must not all be 0: the {x.size} customers would add nothing to the "
            "log-likelihood; pass positive weights (or leave the customers out)"
        )
    value, _ = _Objective(data)(params.as_array())
    return float(value)


def log_likelihood_per_customer(
    params: BgBbParams,
    frequency: ArrayLike | DiscreteSummary,
    recency: ArrayLike | None = None,
    n_periods: ArrayLike | None = None,
) -> Any:
    """BG/BB log-likelihood of each customer's history.

    Parameters
    ----------
    params : BgBbParams
    frequency, recency, n_periods : array-like, or a DiscreteSummary as ``frequency``
        Single numbers are one customer: the result is then a float.

    Returns
    -------
    float or ndarray
        log L_i, see :func:`log_likelihood`.

    Raises
    ------
    InputError
        On invalid histories, or ``n_periods`` above :data:`MAX_PERIODS`
        (the likelihood has one term per opportunity).
    InputTypeError
        When ``frequency`` is a DiscreteSummary and ``recency`` or ``n_periods`` is
        given too, when arrays are given without ``recency`` and ``n_periods``,
        or on non-numeric input.

    Examples
    --------
    >>> p = BgBbParams(alpha=1.204, beta=0.750, gamma=0.657, delta=2.783)
    >>> log_likelihood_per_customer(p, [0, 6, 3], [0, 6, 5], 6).round(4).tolist()
    [-1.1673, -2.1822, -5.6159]
    >>> log_likelihood_per_customer(p, [0], [2], 6)
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: recency must be 0 where frequency is 0 (no repeat purchase); ...
    """
    inp.check_params(params, BgBbParams)
    x, tx, n, _, single = _histories(frequency, recency, n_periods, None)
    if x.size == 0:
        return np.zeros(0)
    log_l, _ = _row_likelihood(params.as_array(), x, tx, n)
    return inp.finish(log_l, single)


@overload
def expected_purchases(params: BgBbParams, n_periods: int) -> float: ...
@overload
def expected_purchases(params: BgBbParams, n_periods: ArrayLike) -> FloatArray: ...
def expected_purchases(params: BgBbParams, n_periods: ArrayLike) -> Any:
    """Return the expected transactions E[X(n)] of a new customer in n opportunities.

    Parameters
    ----------
    params : BgBbParams
    n_periods : int or array-like of int
        Number of opportunities n (>= 0) after the first transaction.

    Returns
    -------
    float or ndarray
        Same shape as ``n_periods``.

    Raises
    ------
    InputError
        On negative or fractional ``n_periods``, or ``n_periods`` above
        :data:`MAX_HORIZON` (1e15).

    Notes
    -----
    Equation (7) of Fader, Hardie & Shang (2010):
    ``E[X(n)] = α/(α+β) δ/(γ-1) [1 - Γ(γ+δ) Γ(1+δ+n) / (Γ(γ+δ+n) Γ(1+δ))]``,
    i.e. ``α/(α+β) Σ_{t=1..n} B(γ, δ+t)/B(γ, δ)``. The bracket over γ - 1
    is evaluated as ``g exprel(-(γ-1) g)`` with
    ``g = Σ_{k<n} log1p((γ-1)/(1+δ+k)) / (γ-1)``, so it is exact at γ = 1
    (``δ (ψ(1+δ+n) - ψ(1+δ))``) and keeps full precision near it. Up to
    n = 1e6 ``g`` is a cumulative sum; beyond, Stirling's series for the
    log-gamma differences, written as exact divided differences in γ - 1, so
    the cost does not grow with n and the result stays accurate (about 1e-12
    relative) and non-decreasing up to :data:`MAX_HORIZON`.

    Examples
    --------
    >>> p = BgBbParams(alpha=1.204, beta=0.750, gamma=0.657, delta=2.783)
    >>> expected_purchases(p, [0, 1, 5]).round(4).tolist()
    [0.0, 0.4985, 1.9377]
    >>> expected_purchases(p, 2.5)
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: n_periods must hold whole numbers; 1 of 1 values breaks this ...
    """
    inp.check_params(params, BgBbParams)
    n, scalar = _counts(n_periods, "n_periods", high=MAX_HORIZON)
    alpha, beta = params.alpha, params.beta
    flat = n.reshape(-1)
    out = np.zeros(flat.shape)
    pos = flat > 0
    with np.errstate(all="ignore"):
        if pos.any():
            log_sum = _log_renewal_sum(params.as_array(), np.zeros(int(pos.sum())), flat[pos])
            out[pos] = alpha / (alpha + beta) * np.exp(log_sum)
    return float(out[0]) if scalar else out.reshape(n.shape)


def conditional_expected_purchases(
    params: BgBbParams,
    n_future: ArrayLike,
    frequency: ArrayLike | DiscreteSummary,
    recency: ArrayLike | None = None,
    n_periods: ArrayLike | None = None,
) -> Any:
    """Return the expected transactions in opportunities n+1 .. n+n_future per customer.

    Parameters
    ----------
    params : BgBbParams
    n_future : int or array-like of int
        Number of future opportunities (>= 0): one number for every customer,
        or one value per customer.
    frequency, recency, n_periods : array-like, or a DiscreteSummary as ``frequency``
        Single numbers are one customer: the result is then a float.

    Returns
    -------
    float or ndarray
        One value per customer, >= 0 and non-decreasing in ``n_future``.

    Raises
    ------
    InputError
        On invalid histories, ``n_periods`` above :data:`MAX_PERIODS`, or
        ``n_future`` negative or above :data:`MAX_HORIZON` (the cost does not
        grow with ``n_future``).
    InputTypeError
        When ``frequency`` is a DiscreteSummary and ``recency`` or ``n_periods`` is
        given too, when arrays are given without ``recency`` and ``n_periods``,
        or on non-numeric input.

    Notes
    -----
    Equation (13) of Fader, Hardie & Shang (2010):
    ``E[X(n, n+n*) | x, t_x, n] = 1/L B(α+x+1, β+n-x)/B(α,β)
    Σ_{t=1..n*} B(γ, δ+n+t)/B(γ,δ)``, whose sum telescopes to
    ``δ/(γ-1) Γ(γ+δ)/Γ(1+δ) [Γ(1+δ+n)/Γ(γ+δ+n) - Γ(1+δ+n+n*)/Γ(γ+δ+n+n*)]``;
    evaluated in log space as in :func:`expected_purchases`.

    Examples
    --------
    >>> p = BgBbParams(alpha=1.204, beta=0.750, gamma=0.657, delta=2.783)
    >>> conditional_expected_purchases(p, 5, [6, 3, 0], [6, 3, 0], 6).round(4).tolist()
    [3.7521, 0.2235, 0.0728]
    >>> conditional_expected_purchases(p, -1, [6], [6], 6)
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: n_future must be non-negative; 1 of 1 values breaks this ...
    """
    inp.check_params(params, BgBbParams)
    x, tx, n, _, single = _histories(frequency, recency, n_periods, None)
    n_star = inp.horizon(_counts(n_future, "n_future", high=MAX_HORIZON)[0], x.size, "n_future")
    if x.size == 0:
        return np.zeros(0)
    theta = params.as_array()
    log_l, _ = _row_likelihood(theta, x, tx, n)
    with np.errstate(all="ignore"):
        # B(α+x+1, β+n-x)/B(α,β) = B(α+x, β+n-x)/B(α,β) (α+x)/(α+β+n)
        log_p = (
            _log_alive_through(theta, x, n, 0)
            - _gamma_ratios(theta, int(n.max()) + 1)[n.astype(np.int64)]
            + np.log(params.alpha + x)
            - np.log(params.alpha + params.beta + n)
        )
        log_sum = _log_renewal_sum(theta, n, n_star)
        out = np.where(n_star > 0, np.exp(log_p + log_sum - log_l), 0.0)
    return inp.finish(np.asarray(out, dtype=np.float64), single)


def conditional_purchase_probability(
    params: BgBbParams,
    n_future: ArrayLike,
    frequency: ArrayLike | DiscreteSummary,
    recency: ArrayLike | None = None,
    n_periods: ArrayLike | None = None,
) -> Any:
    """Probability of at least one transaction in opportunities n+1 .. n+n_future per customer.

    Parameters
    ----------
    params : BgBbParams
    n_future : int or array-like of int
        Number of future opportunities (0 to :data:`MAX_PERIODS`): one number
        for every customer, or one value per customer.
    frequency, recency, n_periods : array-like, or a DiscreteSummary as ``frequency``
        Single numbers are one customer: the result is then a float.

    Returns
    -------
    float or ndarray
        Values in [0, P(alive at n+1)]; 0 for ``n_future = 0``.

    Raises
    ------
    InputError
        On invalid histories, ``n_periods`` above :data:`MAX_PERIODS`, or
        ``n_future`` negative or above :data:`MAX_PERIODS` (the sum has one
        term per future opportunity).
    InputTypeError
        When ``frequency`` is a DiscreteSummary and ``recency`` or ``n_periods`` is
        given too, when arrays are given without ``recency`` and ``n_periods``,
        or on non-numeric input.

    Notes
    -----
    The first transaction after n is at opportunity n+j when the customer
    survives j more opportunity starts, (1-θ)^j, skips j-1 of them,
    (1-p)^(j-1), and transacts, p. Averaged over the posterior of (p, θ)
    given the history (likelihood L, equation (5) of Fader, Hardie & Shang
    2010):
    ``P = 1/L Σ_{j=1..n*} B(α+x+1, β+n-x+j-1)/B(α,β) B(γ, δ+n+j)/B(γ,δ)``,
    summed in log space. It is not ``P(alive at n+1) (1 - E[(1-p)^n*])``,
    which forgets that a customer alive at n+1 can die before buying; the
    two agree for ``n_future = 1``. The sum has no shorter closed form (it
    is a terminating 3F2 series); it equals ``1 - L(x, t_x, n+n*)/L(x, t_x, n)``.

    Examples
    --------
    >>> p = BgBbParams(alpha=1.204, beta=0.750, gamma=0.657, delta=2.783)
    >>> conditional_purchase_probability(p, 5, [6, 3, 0], [6, 3, 0], 6).round(4).tolist()
    [0.9232, 0.0855, 0.0478]
    >>> conditional_purchase_probability(p, -1, [6], [6], 6)
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: n_future must be non-negative; 1 of 1 values breaks this ...
    """
    inp.check_params(params, BgBbParams)
    x, tx, n, _, single = _histories(frequency, recency, n_periods, None)
    n_star = inp.horizon(_counts(n_future, "n_future", high=MAX_PERIODS)[0], x.size, "n_future")
    if x.size == 0:
        return np.zeros(0)
    theta = params.as_array()
    log_l, _ = _row_likelihood(theta, x, tx, n)
    log_sum = _log_first_purchase_sum(theta, x, n, n_star)
    with np.errstate(all="ignore"):
        out = np.where(n_star > 0, np.exp(log_sum - log_l), 0.0)
    return inp.finish(np.asarray(np.clip(out, 0.0, 1.0), dtype=np.float64), single)


def probability_alive(
    params: BgBbParams,
    frequency: ArrayLike | DiscreteSummary,
    recency: ArrayLike | None = None,
    n_periods: ArrayLike | None = None,
) -> Any:
    """Probability that each customer is alive at opportunity n+1.

    Parameters
    ----------
    params : BgBbParams
    frequency, recency, n_periods : array-like, or a DiscreteSummary as ``frequency``
        Single numbers are one customer: the result is then a float.

    Returns
    -------
    float or ndarray
        Values in [0, 1].

    Raises
    ------
    InputError
        On invalid histories, or ``n_periods`` above :data:`MAX_PERIODS`
        (the likelihood has one term per opportunity).
    InputTypeError
        When ``frequency`` is a DiscreteSummary and ``recency`` or ``n_periods`` is
        given too, when arrays are given without ``recency`` and ``n_periods``,
        or on non-numeric input.

    Notes
    -----
    Equation (11) of Fader, Hardie & Shang (2010):
    ``P(alive at n+1) = B(α+x, β+n-x)/B(α,β) B(γ, δ+n+1)/B(γ,δ) / L``,
    the first term of the likelihood (alive through n) times the chance of
    surviving the start of opportunity n+1.

    Examples
    --------
    >>> p = BgBbParams(alpha=1.204, beta=0.750, gamma=0.657, delta=2.783)
    >>> probability_alive(p, [6, 3, 3], [6, 3, 6], 6).round(4).tolist()
    [0.9304, 0.095, 0.9304]
    >>> probability_alive(p, [1, 2], [1, 2], [6, 6, 6])
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: n_periods must have the same length as frequency; got 3 and 2
    """
    inp.check_params(params, BgBbParams)
    x, tx, n, _, single = _histories(frequency, recency, n_periods, None)
    if x.size == 0:
        return np.zeros(0)
    theta = params.as_array()
    log_l, _ = _row_likelihood(theta, x, tx, n)
    with np.errstate(all="ignore"):
        out = np.exp(_log_alive_through(theta, x, n, 1) - log_l)
    return inp.finish(np.asarray(np.clip(out, 0.0, 1.0), dtype=np.float64), single)


@overload
def purchase_probability(params: BgBbParams, k: int, n_periods: int) -> float: ...
@overload
def purchase_probability(params: BgBbParams, k: ArrayLike, n_periods: ArrayLike) -> FloatArray: ...
def purchase_probability(params: BgBbParams, k: ArrayLike, n_periods: ArrayLike) -> Any:
    """Probability P(X(n) = k) that a new customer transacts at k of the next n opportunities.

    Parameters
    ----------
    params : BgBbParams
    k : int or array-like of int
        Number of transactions (>= 0).
    n_periods : int or array-like of int
        Number of opportunities n (>= 0); broadcast against ``k``.

    Returns
    -------
    float or ndarray
        A float when both are scalars; 0 where k > n.

    Raises
    ------
    InputError
        On negative or fractional counts, or ``n_periods`` above
        :data:`MAX_PERIODS` (the sum has one term per opportunity; ``k`` may
        be any size).

    Notes
    -----
    Equation (6) of Fader, Hardie & Shang (2010):
    ``P(X(n) = k) = C(n,k) B(α+k, β+n-k)/B(α,β) B(γ, δ+n)/B(γ,δ)
    + Σ_{i=k}^{n-1} C(i,k) B(α+k, β+i-k)/B(α,β) B(γ+1, δ+i)/B(γ,δ)``,
    summed in log space.

    Examples
    --------
    >>> p = BgBbParams(alpha=1.204, beta=0.750, gamma=0.657, delta=2.783)
    >>> purchase_probability(p, [0, 3, 6], 6).round(4).tolist()
    [0.3112, 0.1003, 0.1128]
    >>> purchase_probability(p, -1, 6)
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: k must be non-negative; 1 of 1 values breaks this ...
    """
    inp.check_params(params, BgBbParams)
    kk, k_scalar = _counts(k, "k")
    nn, n_scalar = _counts(n_periods, "n_periods", high=MAX_PERIODS)
    try:
        kb, nb = np.broadcast_arrays(kk, nn)
    except ValueError as exc:
        raise InputError(
            f"k and n_periods must broadcast together; got shapes {kk.shape} and {nn.shape}"
        ) from exc
    out = _pmf(params.as_array(), kb.reshape(-1), nb.reshape(-1)).reshape(kb.shape)
    return float(out.reshape(-1)[0]) if k_scalar and n_scalar else out


# --------------------------------------------------------------------------- input helpers


def _histories(
    frequency: ArrayLike | DiscreteSummary,
    recency: ArrayLike | None,
    n_periods: ArrayLike | None,
    weights: ArrayLike | None,
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray | None, bool]:
    """Validate (x, t_x, n[, weights]); return float arrays of one length and single-ness.

    Single numbers for ``frequency``, ``recency`` and ``n_periods`` are one
    customer (see :func:`crmcore.models._inputs.finish`).
    """
    single = False
    s = inp.summary_or_arrays(
        frequency, recency, n_periods, summary_type=DiscreteSummary, third_name="n_periods"
    )
    if s is not None:
        x_i: IntArray = np.asarray(s.frequency, dtype=np.int64)
        tx_i: IntArray = np.asarray(s.recency, dtype=np.int64)
        n_i: IntArray = np.full(x_i.size, s.n_periods, dtype=np.int64)
    else:  # summary_or_arrays checked that all three are arrays
        f_in, r_in = cast(tuple[ArrayLike, ...], (frequency, recency))
        if inp.is_single(n_periods):
            (f_in, r_in), single = inp.single_customer(f_in, r_in)
        n_periods = cast(ArrayLike, n_periods)
        x_i = v.as_int_array(f_in, "frequency", allow_empty=True, nonnegative=True)
        tx_i = v.as_int_array(r_in, "recency", allow_empty=True, nonnegative=True)
        v.check_same_length(("frequency", x_i), ("recency", tx_i))
        if np.ndim(inp.as_any_array(n_periods, "n_periods")) == 0 and not isinstance(
            n_periods, str
        ):
            n_value = v.check_int(
                n_periods.item() if isinstance(n_periods, np.generic) else n_periods,
                "n_periods",
                low=0,
            )
            _check_at_most(np.array([n_value], dtype=object), "n_periods", MAX_PERIODS)
            n_i = np.full(x_i.size, n_value, dtype=np.int64)
        else:
            n_i = v.as_int_array(n_periods, "n_periods", allow_empty=True, nonnegative=True)
            v.check_same_length(("frequency", x_i), ("n_periods", n_i))
        _check_at_most(n_i, "n_periods", MAX_PERIODS)
    rules = (
        (tx_i < x_i, "recency must be at least frequency", ("frequency", x_i)),
        (tx_i > n_i, "recency must not exceed n_periods", ("n_periods", n_i)),
        ((x_i == 0) & (tx_i > 0), _ZERO_RULE, ("frequency", x_i)),
        ((x_i > 0) & (tx_i == 0), "recency must be positive where frequency is positive", None),
    )
    for bad, rule, other in rules:
        if bad.any():
            cols = [("recency", tx_i)] if other is None else [other, ("recency", tx_i)]
            detail = v.describe_violations(bad, *cols).replace("values", "customers")
            raise InputError(f"{rule}; {detail}")
    w = None
    if weights is not None:
        w = v.as_float_array(weights, "weights", allow_empty=True, nonnegative=True)
        v.check_same_length(("frequency", x_i), ("weights", w))
    return x_i.astype(np.float64), tx_i.astype(np.float64), n_i.astype(np.float64), w, single


_ZERO_RULE = "recency must be 0 where frequency is 0 (no repeat purchase)"


def _counts(values: ArrayLike, name: str, *, high: int | None = None) -> tuple[FloatArray, bool]:
    """Validate whole counts >= 0 (at most ``high``) of any shape; return floats and scalar-ness."""
    out, scalar = inp.whole_counts(values, name)
    if high is not None:
        _check_at_most(out, name, high)
    f = out.astype(np.float64)
    return (f.reshape(()), True) if scalar else (f, False)


def _check_at_most(values: IntArray, name: str, high: int) -> None:
    bad = values.reshape(-1) > high
    if bad.any():
        why = (
            "the likelihood sums one term per opportunity; aggregate opportunities into "
            "longer periods"
            if high == MAX_PERIODS
            else "counts beyond it are not exact in floating point"
        )
        flat = values.reshape(-1)
        first = int(np.flatnonzero(bad)[0])
        raise InputError(
            f"{name} must be at most {high} ({why}); {int(bad.sum())} of {bad.size} values "
            f"break this (first at index {first}: {name}={_short(flat[first])})"
        )


def _short(value: object) -> str:
    """Format a count for a message: 1e+08, or the leading digits of an integer beyond floats."""
    try:
        return f"{float(value):.4g}"  # type: ignore[arg-type]
    except OverflowError:
        digits = str(value)
        return f"{digits[:4]}... ({len(digits)} digits)"


# --------------------------------------------------------------------------- fitting


def _fit_compressed(data: CompressedHistories, start: FloatArray) -> MleResult:
    return maximize_likelihood(
        _Objective(data),
        start,
        names=_NAMES,
        model="BG/BB",
        n_customers=data.n_customers,
        hint=(
            "Try initial= closer to the expected values (e.g. a fit to a sample), or check "
            "that frequency, recency and n_periods count transaction opportunities"
        ),
        limit_hint=(
            "the data may be consistent with a limiting model: gamma and delta growing "
            "together means everybody drops out at the same rate, or nobody seems to drop "
            "out at all; alpha and beta growing together means every customer transacts with "
            "the same probability; a simpler model may suit these data, or observe more "
            "opportunities"
        ),
    )


class _Objective:
    """Total log-likelihood and gradient on distinct (x, t_x, n) rows (``T`` holds n)."""

    def __init__(self, data: CompressedHistories) -> None:
        self.x = np.asarray(data.frequency)
        self.tx = np.asarray(data.recency)
        self.n = np.asarray(data.T)
        self.w = np.asarray(data.weights)

    def __call__(self, theta: FloatArray) -> tuple[float, FloatArray]:
        log_l, grad = _row_likelihood(theta, self.x, self.tx, self.n, self.w)
        assert grad is not None
        return float(self.w @ log_l), grad


# --------------------------------------------------------------------------- numerics


def _row_likelihood(
    theta: FloatArray,
    x: FloatArray,
    tx: FloatArray,
    n: FloatArray,
    w: FloatArray | None = None,
) -> tuple[FloatArray, FloatArray | None]:
    """Compute log L per row; with weights also the gradient of sum(w log L).

    Rows are grouped by (x, n). For a group, the terms of the sum,
    ``f_j = B(α+x, β+j-x)/B(α,β) B(γ+1, δ+j)/B(γ,δ)`` for j = x .. n-1, are
    laid out on a grid and summed from the top (a row with recency t_x needs
    j >= t_x). The gradient of the weighted total is ``Σ_j f_j d_j C_j`` with
    ``C_j`` the forward cumulative sum of ``w_i / L_i`` over the rows with
    t_x <= j (all in log space), so it costs one pass over the grid, not one
    per row.
    """
    n_max = float(n.max())
    key = x * (n_max + 1.0) + n
    keys, group = np.unique(key, return_inverse=True)
    gx = np.floor(keys / (n_max + 1.0))
    gn = keys - gx * (n_max + 1.0)
    width = int(n_max) + 1
    per_chunk = max(1, 2_000_000 // width)
    order = np.argsort(group, kind="stable")
    bounds = np.searchsorted(group[order], np.arange(0, keys.size + per_chunk, per_chunk))
    log_l = np.empty(x.size)
    grad = np.zeros(4) if w is not None else None
    with np.errstate(all="ignore"):
        gamma_terms = _gamma_ratios(theta, width + 1)
        for c, g0 in enumerate(range(0, keys.size, per_chunk)):
            g1 = min(g0 + per_chunk, keys.size)
            rows = order[bounds[c] : bounds[c + 1]]
            log_l[rows] = _group_chunk(
                theta,
                (gx[g0:g1], gn[g0:g1], gamma_terms),
                (tx[rows], group[rows] - g0, None if w is None else w[rows]),
                width,
                grad,
            )
        if grad is not None and w is not None:
            alpha, beta, gamma, delta = (float(q) for q in theta)
            total_w = float(w.sum())
            psi_ab = sc.digamma(alpha + beta)
            psi_gd = sc.digamma(gamma + delta)
            grad -= total_w * np.array(
                [
                    sc.digamma(alpha) - psi_ab,
                    sc.digamma(beta) - psi_ab,
                    sc.digamma(gamma) - psi_gd,
                    sc.digamma(delta) - psi_gd,
                ]
            )
    return log_l, grad


def _log_first_purchase_sum(
    theta: FloatArray, x: FloatArray, n: FloatArray, n_star: FloatArray
) -> FloatArray:
    """``log Σ_{j=1..n*} B(α+x+1, β+n-x+j-1)/B(α,β) B(γ, δ+n+j)/B(γ,δ)`` per row.

    Rows are grouped by (x, n); each group's terms for j = 1 .. max n* are
    accumulated once (``logaddexp``), in chunks of groups that keep the grid
    near two million cells. -inf where n* = 0.
    """
    alpha, beta = float(theta[0]), float(theta[1])
    out = np.full(x.size, -np.inf)
    live = n_star > 0
    if not live.any():
        return out
    x, n, n_star = x[live], n[live], n_star[live]
    n_max = float(n.max())
    key = x * (n_max + 1.0) + n
    keys, group = np.unique(key, return_inverse=True)
    gx = np.floor(keys / (n_max + 1.0))
    gn = keys - gx * (n_max + 1.0)
    w = int(n_star.max())
    width = int(n_max) + w + 1
    log_surv = _gamma_ratios(theta, width + 1)  # log B(γ, δ+m)/B(γ,δ), m = 0 .. width
    j = np.arange(1, w + 1, dtype=np.float64)[None, :]
    per_chunk = max(1, 2_000_000 // width)
    result = np.empty(x.size)
    with np.errstate(all="ignore"):
        for g0 in range(0, keys.size, per_chunk):
            g1 = min(g0 + per_chunk, keys.size)
            cx, cn = gx[g0:g1, None], gn[g0:g1, None]
            a_rat = _alpha_ratios(theta, gx[g0:g1], width)  # log B(α+x, β+m)/B(α,β)
            m = cn - cx + j - 1.0
            log_pa = np.take_along_axis(a_rat, m.astype(np.int64), axis=1) + np.log(
                (alpha + cx) / (alpha + beta + cx + m)
            )
            log_terms = log_pa + log_surv[(cn + j).astype(np.int64)]
            cum = np.logaddexp.accumulate(log_terms, axis=1)
            rows = (group >= g0) & (group < g1)
            result[rows] = cum[group[rows] - g0, n_star[rows].astype(np.int64) - 1]
    out[live] = result
    return out


def _gamma_ratios(theta: FloatArray, length: int) -> FloatArray:
    """``log B(γ, δ+j)/B(γ, δ) = Σ_{m<j} log((δ+m)/(γ+δ+m))`` for j = 0 .. length-1.

    Cumulative sums of log1p terms keep full relative precision where the
    difference of log-beta functions would cancel (γ small, δ large).
    """
    gamma, delta = float(theta[2]), float(theta[3])
    m = np.arange(length - 1, dtype=np.float64)
    return np.concatenate(([0.0], np.cumsum(-np.log1p(gamma / (delta + m)))))


def _alpha_ratios(theta: FloatArray, xs: FloatArray, width: int) -> FloatArray:
    """``log B(α+x, β+m)/B(α, β)`` for each x in ``xs`` (rows) and m = 0 .. width (columns).

    ``= Σ_{i<x} log((α+i)/(α+β+i)) + Σ_{i<m} log((β+i)/(α+β+x+i))``, by
    cumulative sums of log1p terms (see :func:`_gamma_ratios`).
    """
    alpha, beta = float(theta[0]), float(theta[1])
    x_max = int(xs.max()) if xs.size else 0
    i = np.arange(x_max, dtype=np.float64)
    base = np.concatenate(([0.0], np.cumsum(-np.log1p(beta / (alpha + i)))))
    m = np.arange(width, dtype=np.float64)[None, :]
    steps = -np.log1p((alpha + xs[:, None]) / (beta + m))
    cum = np.concatenate([np.zeros((xs.size, 1)), np.cumsum(steps, axis=1)], axis=1)
    return np.asarray(base[xs.astype(np.int64)][:, None] + cum, dtype=np.float64)


def _group_chunk(
    theta: FloatArray,
    groups: tuple[FloatArray, FloatArray, FloatArray],
    rows: tuple[FloatArray, IntArray, FloatArray | None],
    width: int,
    grad: FloatArray | None,
) -> FloatArray:
    """Compute log L for the rows of some (x, n) groups and add their gradient share."""
    alpha, beta, gamma, delta = (float(q) for q in theta)
    gx, gn, log_surv = groups
    tx, g, w = rows
    j = np.arange(width, dtype=np.float64)[None, :]
    xg = gx[:, None]
    xi = gx.astype(np.int64)
    valid = (j >= xg) & (j <= gn[:, None] - 1.0)
    a_rat = _alpha_ratios(theta, gx, width)  # index m = j - x
    shift = np.clip(j - xg, 0, width).astype(np.int64)
    log_p = np.take_along_axis(a_rat, shift, axis=1)  # log B(α+x, β+j-x)/B(α,β)
    log_die = log_surv[:width] + np.log(gamma) - np.log(gamma + delta + j[0])  # B(γ+1, δ+j)/B(γ,δ)
    lf = np.where(valid, log_p + log_die[None, :], -np.inf)
    tail = np.logaddexp.accumulate(lf[:, ::-1], axis=1)[:, ::-1]  # Σ_{j' >= j} f_j'
    gni = gn.astype(np.int64)
    log_a = a_rat[np.arange(gx.size), gni - xi] + log_surv[gni]
    txi = tx.astype(np.int64)
    log_l = np.logaddexp(log_a[g], tail[g, txi])
    if grad is None or w is None:
        return np.asarray(log_l, dtype=np.float64)
    grid = np.full(lf.shape, -np.inf)
    np.logaddexp.at(grid, (g, txi), np.log(w) - log_l)
    log_c = np.logaddexp.accumulate(grid, axis=1)  # Σ_{t_x <= j} w / L
    share = np.where(valid, np.exp(lf + log_c), 0.0)
    share_a = np.exp(log_a + log_c[:, -1])
    jj = np.where(valid, j, xg)
    psi_abj = sc.digamma(alpha + beta + jj)
    psi_gdj = sc.digamma(gamma + delta + 1.0 + jj)
    psi_abn = sc.digamma(alpha + beta + gn)
    psi_gdn = sc.digamma(gamma + delta + gn)
    psi_ax = sc.digamma(alpha + gx)
    grad[0] += float(np.sum(share * (psi_ax[:, None] - psi_abj)))
    grad[0] += float(share_a @ (psi_ax - psi_abn))
    grad[1] += float(np.sum(share * (sc.digamma(beta + jj - xg) - psi_abj)))
    grad[1] += float(share_a @ (sc.digamma(beta + gn - gx) - psi_abn))
    grad[2] += float(np.sum(share * (sc.digamma(gamma + 1.0) - psi_gdj)))
    grad[2] += float(share_a @ (sc.digamma(gamma) - psi_gdn))
    grad[3] += float(np.sum(share * (sc.digamma(delta + jj) - psi_gdj)))
    grad[3] += float(share_a @ (sc.digamma(delta + gn) - psi_gdn))
    return np.asarray(log_l, dtype=np.float64)


def _log_renewal_sum(theta: FloatArray, start: FloatArray, count: FloatArray) -> Any:
    """``log Σ_{t=1..count} B(γ, δ+start+t)/B(γ, δ)`` elementwise (count >= 1).

    With δ' = δ + start the sum is ``B(γ,δ')/B(γ,δ) δ' [1 - R]/(γ-1)``,
    ``R = Γ(γ+δ')Γ(1+δ'+N)/(Γ(γ+δ'+N)Γ(1+δ'))`` (the telescoped form of
    Fader, Hardie & Shang 2010, N = count). Writing ``ln R = -(γ-1) g``,
    ``[1 - R]/(γ-1) = g exprel(-(γ-1) g)`` with
    ``g = Σ_{k<N} log1p((γ-1)/(1+δ'+k)) / (γ-1)``, which
    :func:`_log_gamma_slope_sum` evaluates at a cost independent of N, exactly
    at γ = 1 and without cancellation for small γ or large δ.
    """
    gamma, delta = float(theta[2]), float(theta[3])
    eps = gamma - 1.0
    g = np.empty(np.shape(start))
    end = start + count
    table = end <= _TABLE_LIMIT
    if table.any():
        # Shared table of cumulative terms: exact to rounding for any eps, delta.
        top = int(np.max(end[table]))
        i = np.arange(top, dtype=np.float64)
        cum = np.concatenate(
            ([0.0], np.cumsum(_slope_terms(1.0 + delta + i, gamma + delta + i, eps)))
        )
        g[table] = cum[end[table].astype(np.int64)] - cum[start[table].astype(np.int64)]
    if not table.all():
        far = ~table
        g[far] = _log_gamma_slope_sum(
            1.0 + delta + start[far], gamma + delta + start[far], count[far], eps
        )
    log_surv = _gamma_ratios(theta, int(np.max(start)) + 1 if start.size else 1)
    return (
        log_surv[start.astype(np.int64)]
        + np.log(delta + start)
        + np.log(g)
        + np.log(sc.exprel(-eps * g))
    )


_TABLE_LIMIT = 1_000_000  # sums ending beyond this many periods use Stirling's series
_STIRLING_FROM = 100.0  # Stirling's series with three corrections is exact to 1e-17 beyond


def _log_gamma_slope_sum(a: FloatArray, b: FloatArray, count: FloatArray, eps: float) -> Any:
    """``g = Σ_{k<count} [ln(b+k) - ln(a+k)] / eps`` with ``b = a + eps``, elementwise.

    ``eps`` may be 0 (then ``g = Σ 1/(a+k)``); ``b`` is passed separately so
    that ``ln(b+k)`` keeps its precision when ``b`` is tiny. The terms with
    ``a + k < 100`` (at most 99) are summed directly; the rest is
    ``[D(a+m+N') - D(a+m)]/eps`` with ``D(y) = lnΓ(y+eps) - lnΓ(y)`` from
    Stirling's series, written as exact divided differences in ``eps``:
    ``D(y)/eps = ln y + (L(u) - 1) + (eps - 1/2) L(u)/y + c(y)``,
    ``u = eps/y``, ``L(u) = log1p(u)/u`` and ``c`` the divided differences of
    the correction terms ``1/(12y) - 1/(360y³) + 1/(1260y⁵)``. The difference
    of the ``ln y`` terms is taken as ``log1p(N'/y)``, so nothing cancels for
    short or long sums alike; the cost does not depend on ``count``.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    count = np.asarray(count, dtype=np.float64)
    head = np.clip(np.ceil(_STIRLING_FROM - a), 0.0, count)
    k = np.arange(int(_STIRLING_FROM), dtype=np.float64)[None, :]
    den = a[:, None] + k
    num = b[:, None] + k
    terms = _slope_terms(den, num, eps)
    direct = np.sum(np.where(k < head[:, None], terms, 0.0), axis=1)
    y0 = a + head
    rest = count - head
    y1 = y0 + rest
    with np.errstate(all="ignore"):
        tail = np.log1p(rest / y0) + _stirling_slope(y1, eps) - _stirling_slope(y0, eps)
    return direct + np.where(rest > 0, tail, 0.0)


def _slope_terms(den: FloatArray, num: FloatArray, eps: float) -> FloatArray:
    """``[ln(num) - ln(den)]/eps`` with ``num = den + eps`` (``1/den`` at eps = 0)."""
    u = eps / den
    near = np.abs(u) <= 0.5
    with np.errstate(all="ignore"):
        small_terms = _log1p_ratio(np.where(near, u, 0.0)) / den
        far_terms = (np.log(num) - np.log(den)) / (eps if eps != 0.0 else 1.0)
    return np.asarray(np.where(near, small_terms, far_terms), dtype=np.float64)


def _log1p_ratio(u: FloatArray) -> FloatArray:
    """``log1p(u)/u`` (1 at u = 0), for |u| <= 1/2."""
    with np.errstate(all="ignore"):
        out = np.where(u == 0.0, 1.0, np.log1p(u) / np.where(u == 0.0, 1.0, u))
    return np.asarray(out, dtype=np.float64)


def _log1p_ratio_minus_one(u: FloatArray) -> FloatArray:
    """``log1p(u)/u - 1`` with full relative precision (u > -1)."""
    series = u * (-0.5 + u * (1.0 / 3.0 - u * (0.25 - u * (0.2 - u / 6.0))))
    with np.errstate(all="ignore"):
        direct = np.log1p(u) / np.where(u == 0.0, 1.0, u) - 1.0
    return np.asarray(np.where(np.abs(u) < 1e-3, series, direct), dtype=np.float64)


def _stirling_slope(y: FloatArray, eps: float) -> FloatArray:
    """``[lnΓ(y+eps) - lnΓ(y)]/eps - ln y`` for y >= 100, y + eps >= 99 (see above)."""
    u = eps / y
    lm1 = _log1p_ratio_minus_one(u)
    a, b = y, y + eps
    ia, ib = 1.0 / a, 1.0 / b
    p1 = ia * ib
    p3 = (ia * ia + ia * ib + ib * ib) * p1
    p5 = (ia**4 + ia**3 * ib + ia**2 * ib**2 + ia * ib**3 + ib**4) * p1
    corr = -p1 / 12.0 + p3 / 360.0 - p5 / 1260.0
    return np.asarray(lm1 + (eps - 0.5) * (lm1 + 1.0) / y + corr, dtype=np.float64)


def _log_alive_through(theta: FloatArray, x: FloatArray, n: FloatArray, extra: int) -> Any:
    """``log B(α+x, β+n-x)/B(α,β) + log B(γ, δ+n+extra)/B(γ,δ)`` per row."""
    ux, inv = np.unique(x, return_inverse=True)
    width = int(n.max()) + 1
    a_rat = _alpha_ratios(theta, ux, width)
    log_surv = _gamma_ratios(theta, width + extra)
    return a_rat[inv, (n - x).astype(np.int64)] + log_surv[n.astype(np.int64) + extra]


def _pmf(theta: FloatArray, k: FloatArray, n: FloatArray) -> FloatArray:
    """P(X(n) = k), elementwise; the terms are log-beta ratios on a grid of i."""
    out = np.zeros(k.shape)
    if k.size == 0:
        return out
    possible = k <= n  # P(X(n) = k) = 0 beyond; k itself may be any size
    if not possible.all():
        out[possible] = _pmf(theta, k[possible], n[possible])
        return out
    width = int(n.max()) + 1
    log_surv = _gamma_ratios(theta, width + 1)
    gamma, delta = float(theta[2]), float(theta[3])
    i = np.arange(width, dtype=np.float64)[None, :]
    log_die = log_surv[:width] + np.log(gamma) - np.log(gamma + delta + i[0])
    step = max(1, 2_000_000 // width)
    with np.errstate(all="ignore"):
        for s0 in range(0, k.size, step):
            kk = k[s0 : s0 + step]
            nn = n[s0 : s0 + step]
            a_rat = _alpha_ratios(theta, kk, width)  # column m: B(α+k, β+m)/B(α,β)
            shift = np.clip(i - kk[:, None], 0, width).astype(np.int64)
            valid = (i >= kk[:, None]) & (i <= nn[:, None] - 1.0)
            terms = np.where(
                valid,
                _log_choose(i, kk[:, None])
                + np.take_along_axis(a_rat, shift, axis=1)
                + log_die[None, :],
                -np.inf,
            )
            ni = nn.astype(np.int64)
            first_m = np.clip(nn - kk, 0, width).astype(np.int64)
            first = _log_choose(nn, kk) + a_rat[np.arange(kk.size), first_m] + log_surv[ni]
            top = np.max(terms, axis=1)
            top = np.where(np.isfinite(top), top, 0.0)
            log_sum = top + np.log(np.sum(np.exp(terms - top[:, None]), axis=1))
            both = np.exp(np.logaddexp(first, log_sum))
            out[s0 : s0 + step] = np.where(kk <= nn, both, 0.0)
    return np.asarray(np.clip(out, 0.0, 1.0), dtype=np.float64)


def _log_choose(n: Any, k: Any) -> Any:
    return sc.gammaln(n + 1.0) - sc.gammaln(k + 1.0) - sc.gammaln(np.maximum(n - k, 0.0) + 1.0)


# ------------------------------------------------------------- P(alive) later, P(Y = k), DERT
#
# Given the history and being alive through opportunity n, p ~ Beta(α+x, β+n-x)
# and θ ~ Beta(γ, δ+n) independently (the first term of the likelihood), and
# the future is that of a new customer with those parameters.

#: Smallest ``discount_rate`` of :func:`discounted_expected_residual_purchases`:
#: its sum has about 37 / discount_rate terms per distinct ``n_periods``.
MIN_DISCOUNT_RATE = 1e-4


def conditional_probability_alive(
    params: BgBbParams,
    n_future: ArrayLike,
    frequency: ArrayLike | DiscreteSummary,
    recency: ArrayLike | None = None,
    n_periods: ArrayLike | None = None,
) -> Any:
    """Probability that each customer is alive at opportunity n + n_future + 1, given the history.

    Parameters
    ----------
    params : BgBbParams
    n_future : int or array-like of int
        Opportunities after the next one (0 to :data:`MAX_HORIZON`): one number
        for every customer, or one value per customer. ``n_future = 0`` gives
        :func:`probability_alive` (alive at n+1).
    frequency, recency, n_periods : array-like, or a DiscreteSummary as ``frequency``
        Single numbers are one customer: the result is then a float.

    Returns
    -------
    float or ndarray
        Values in [0, P(alive at n+1)], non-increasing in ``n_future``.

    Raises
    ------
    InputError
        On invalid histories, ``n_periods`` above :data:`MAX_PERIODS`, or
        ``n_future`` negative or above :data:`MAX_HORIZON`.
    InputTypeError
        When ``frequency`` is a DiscreteSummary and ``recency`` or ``n_periods`` is
        given too, when arrays are given without ``recency`` and ``n_periods``,
        or on non-numeric input.

    Notes
    -----
    Equation (11) of Fader, Hardie & Shang (2010) with the survival of
    n_future more opportunity starts: ``P(alive at n+m+1) = B(α+x, β+n-x)/B(α,β)
    B(γ, δ+n+m+1)/B(γ,δ) / L``.

    Examples
    --------
    >>> p = BgBbParams(alpha=1.204, beta=0.750, gamma=0.657, delta=2.783)
    >>> conditional_probability_alive(p, [0, 5], [6, 6], [6, 6], 6).round(4).tolist()
    [0.9304, 0.7066]
    >>> conditional_probability_alive(p, -1, 6, 6, 6)
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: n_future must be non-negative; ...
    """
    inp.check_params(params, BgBbParams)
    x, tx, n, _, single = _histories(frequency, recency, n_periods, None)
    m = inp.horizon(_counts(n_future, "n_future", high=MAX_HORIZON)[0], x.size, "n_future")
    if x.size == 0:
        return np.zeros(0)
    theta = params.as_array()
    log_l, _ = _row_likelihood(theta, x, tx, n)
    gamma, delta = params.gamma, params.delta
    with np.errstate(all="ignore"):
        log_surv = sc.betaln(gamma, delta + n + 1.0 + m) - sc.betaln(gamma, delta + n)
        out = np.exp(np.minimum(_log_alive_through(theta, x, n, 0) - log_l, 0.0) + log_surv)
    return inp.finish(np.asarray(np.clip(out, 0.0, 1.0), dtype=np.float64), single)


def conditional_purchase_count_probability(  # noqa: PLR0917 (the family's order)
    params: BgBbParams,
    k: ArrayLike,
    n_future: ArrayLike,
    frequency: ArrayLike | DiscreteSummary,
    recency: ArrayLike | None = None,
    n_periods: ArrayLike | None = None,
) -> Any:
    """Probability of exactly k transactions in opportunities n+1 .. n+n_future, per customer.

    Parameters
    ----------
    params : BgBbParams
    k : int or array-like of int
        Number of transactions (>= 0): one number, or one value per customer;
        for one customer given as plain numbers, any 1-d array of counts.
    n_future : int or array-like of int
        Number of future opportunities (0 to :data:`MAX_PERIODS`): one number,
        or one value per customer.
    frequency, recency, n_periods : array-like, or a DiscreteSummary as ``frequency``
        Single numbers are one customer: the result is then a float.

    Returns
    -------
    float or ndarray
        Values in [0, 1], 0 where k > n_future; summed over k they give 1 and
        their mean is :func:`conditional_expected_purchases`.

    Raises
    ------
    InputError
        On invalid histories, ``n_periods`` above :data:`MAX_PERIODS`, a
        negative or fractional ``k``, or ``n_future`` negative or above
        :data:`MAX_PERIODS` (the sum has one term per future opportunity).
    InputTypeError
        When ``frequency`` is a DiscreteSummary and ``recency`` or ``n_periods`` is
        given too, when arrays are given without ``recency`` and ``n_periods``,
        or on non-numeric input.

    Notes
    -----
    The conditional distribution of Fader, Hardie & Shang (2010): with
    ``P_n`` the probability of being alive through n (the first term of the
    likelihood over L), ``P(X(n, n+n*) = k | x, t_x, n) = P_n P_new(k; n*,
    α+x, β+n-x, γ, δ+n) + 1{k=0} (1 - P_n)``, ``P_new`` the count of a new
    customer (equation (6) there, see :func:`purchase_probability`), summed
    in log space.

    Examples
    --------
    >>> p = BgBbParams(alpha=1.204, beta=0.750, gamma=0.657, delta=2.783)
    >>> conditional_purchase_count_probability(p, [0, 1, 5], 5, 6, 6, 6).round(4).tolist()
    [0.0768, 0.0668, 0.496]
    >>> conditional_purchase_count_probability(p, 1, -1, 6, 6, 6)
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: n_future must be non-negative; ...
    """
    inp.check_params(params, BgBbParams)
    x, tx, n, _, single = _histories(frequency, recency, n_periods, None)
    if single and not inp.is_single(k):  # one customer, several counts: her distribution
        size = int(np.size(inp.as_any_array(k, "k")))
        x, tx, n, single = np.repeat(x, size), np.repeat(tx, size), np.repeat(n, size), False
    kk = inp.counts_per_customer(k, x.size, "k")
    n_star = inp.horizon(_counts(n_future, "n_future", high=MAX_PERIODS)[0], x.size, "n_future")
    if x.size == 0:
        return np.zeros(0)
    theta = params.as_array()
    alpha, beta, gamma, delta = (float(q) for q in theta)
    log_l, _ = _row_likelihood(theta, x, tx, n)
    with np.errstate(all="ignore"):
        log_through = np.minimum(_log_alive_through(theta, x, n, 0) - log_l, 0.0)
        # P_new depends on (x, n, k, n*) only: once per distinct combination
        (xk, nk, kk_, mk), inv = inp.distinct_rows(x, n, kk, n_star)
        post = (alpha + xk, beta + nk - xk, gamma, delta + nk)
        log_new = _log_pmf_rows(post, kk_, mk)[inv]
        out = np.exp(log_through + log_new) + np.where(kk == 0, -np.expm1(log_through), 0.0)
    return inp.finish(np.asarray(np.clip(out, 0.0, 1.0), dtype=np.float64), single)


def discounted_expected_residual_purchases(
    params: BgBbParams,
    frequency: ArrayLike | DiscreteSummary,
    recency: ArrayLike | None = None,
    n_periods: ArrayLike | None = None,
    *,
    discount_rate: float,
) -> Any:
    """Return the discounted expected residual transactions (DERT) of each customer.

    The expected transactions at opportunities n+1, n+2, ..., the one at
    n+j discounted by ``(1 + discount_rate)^-j``.

    Parameters
    ----------
    params : BgBbParams
    frequency, recency, n_periods : array-like, or a DiscreteSummary as ``frequency``
        Single numbers are one customer: the result is then a float.
        x = t_x = n = 0 gives the DERT of a customer just acquired.
    discount_rate : float
        Discount rate per opportunity, at least :data:`MIN_DISCOUNT_RATE`
        (1e-4) and finite.

    Returns
    -------
    float or ndarray
        Values >= 0, decreasing in ``discount_rate``.

    Raises
    ------
    InputError
        On invalid histories, ``n_periods`` above :data:`MAX_PERIODS`, or a
        ``discount_rate`` below 1e-4 or not finite.
    InputTypeError
        When ``frequency`` is a DiscreteSummary and ``recency`` or ``n_periods`` is
        given too, when arrays are given without ``recency`` and ``n_periods``,
        or on non-numeric input.

    Notes
    -----
    The DERT of Fader, Hardie & Shang (2010):
    ``DERT(d) = B(α+x+1, β+n-x)/B(α,β) B(γ, δ+n+1)/(B(γ,δ)(1+d))
    2F1(1, δ+n+1; γ+δ+n+1; 1/(1+d)) / L``. The hypergeometric series is
    ``Σ_{j>=1} (1+d)^-j B(γ, δ+n+j)/B(γ, δ+n)`` times ``(1+d) (γ+δ+n)/(δ+n)``;
    its terms are positive, and it is summed directly in log space (scipy's
    ``hyp2f1`` returns NaN for small d and large n), once per distinct n,
    until the remainder is below 1e-16 of the sum: about ``37/d`` terms,
    hence the lower bound on d.

    Examples
    --------
    >>> p = BgBbParams(alpha=1.204, beta=0.750, gamma=0.657, delta=2.783)
    >>> discounted_expected_residual_purchases(p, [6, 3, 0], [6, 3, 0], 6,
    ...                                        discount_rate=0.1).round(4).tolist()
    [5.9087, 0.352, 0.1146]
    >>> discounted_expected_residual_purchases(p, 6, 6, 6, discount_rate=0.0)
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: discount_rate must be >= 0.0001, got 0.0
    """
    inp.check_params(params, BgBbParams)
    d = v.check_float(discount_rate, "discount_rate", low=MIN_DISCOUNT_RATE)
    x, tx, n, _, single = _histories(frequency, recency, n_periods, None)
    if x.size == 0:
        return np.zeros(0)
    theta = params.as_array()
    alpha, beta, gamma, delta = (float(q) for q in theta)
    log_l, _ = _row_likelihood(theta, x, tx, n)
    n_values, inverse = np.unique(n, return_inverse=True)
    log_sum = _log_discounted_survival(gamma, delta + n_values, d)[inverse.reshape(-1)]
    with np.errstate(all="ignore"):
        log_through = np.minimum(_log_alive_through(theta, x, n, 0) - log_l, 0.0)
        out = np.exp(log_through + np.log(alpha + x) - np.log(alpha + beta + n) + log_sum)
    return inp.finish(np.asarray(out, dtype=np.float64), single)


def _log_discounted_survival(gamma: float, delta1: FloatArray, d: float) -> FloatArray:
    """Return log Σ_{j>=1} (1+d)^-j B(γ, δ1+j)/B(γ, δ1), one value per δ1."""
    log_q = -math.log1p(d)
    # the ratios decrease in j, so the remainder after J terms is below
    # q^J/(1-q) times the first ratio's share: J with q^(J-1) (1+d)/d < 1e-16
    n_terms = math.ceil((37.0 + math.log((1.0 + d) / d)) / -log_q) + 1
    out = np.empty(delta1.size)
    step = max(1, 4_000_000 // n_terms)
    j = np.arange(n_terms, dtype=np.float64)
    for s0 in range(0, delta1.size, step):
        d1 = delta1[s0 : s0 + step, None]
        # log B(γ, δ1+j+1)/B(γ, δ1) = Σ_{i<=j} log((δ1+i)/(γ+δ1+i))
        logs = np.cumsum(-np.log1p(gamma / (d1 + j)), axis=1) + (j + 1.0) * log_q
        top = logs.max(axis=1, keepdims=True)
        out[s0 : s0 + step] = top[:, 0] + np.log(np.exp(logs - top).sum(axis=1))
    return out


def _log_pmf_rows(
    post: tuple[FloatArray, FloatArray, float, FloatArray], k: FloatArray, m: FloatArray
) -> FloatArray:
    """Return log P(X(m) = k) of a new BG/BB customer, parameters (α, β, γ, δ) per row."""
    a1, b1, gamma, d1 = post
    out = np.full(k.shape, -np.inf)
    ok = k <= m
    if not ok.any():
        return out
    idx = np.flatnonzero(ok)
    width = int(m[idx].max()) if idx.size else 0
    step = max(1, 2_000_000 // max(width, 1))
    i = np.arange(max(width, 1), dtype=np.float64)[None, :]
    with np.errstate(all="ignore"):
        for s0 in range(0, idx.size, step):
            sel = idx[s0 : s0 + step]
            a, b, dd = a1[sel, None], b1[sel, None], d1[sel, None]
            kk, mm = k[sel, None], m[sel, None]
            base = sc.betaln(a, b) + sc.betaln(gamma, dd)
            first = (
                _log_choose(mm, kk)
                + sc.betaln(a + kk, b + mm - kk)
                + sc.betaln(gamma, dd + mm)
                - base
            )[:, 0]
            valid = (i >= kk) & (i <= mm - 1.0)
            terms = np.where(
                valid,
                _log_choose(i, kk)
                + sc.betaln(a + kk, b + np.maximum(i - kk, 0.0))
                + sc.betaln(gamma + 1.0, dd + i)
                - base,
                -np.inf,
            )
            top = np.max(terms, axis=1)
            top = np.where(np.isfinite(top), top, 0.0)
            log_sum = top + np.log(np.sum(np.exp(terms - top[:, None]), axis=1))
            out[sel] = np.logaddexp(first, log_sum)
    return out
