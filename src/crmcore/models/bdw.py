"""The beta-discrete-Weibull (BdW) model of contract renewals (Fader et al. 2018).

The shifted-beta-geometric model (:mod:`crmcore.models.sbg`) lets churn
probabilities differ across customers but keeps each customer's churn
probability fixed over time. The BdW model adds duration dependence: given
her churn parameter theta ~ Beta(alpha, beta), a customer is still active
after t renewal decisions with probability ``(1 - theta)^(t^c)`` (a discrete
Weibull), so her own churn probability falls over time when c < 1 and rises
when c > 1; c = 1 is the sBG model. Across the cohort the share still active
at the start of period t is ``S(t) = B(alpha, beta + t^c) / B(alpha, beta)``.
With c > 1 the cohort's retention rate can fall before it rises (the
churn-prone customers leave as everyone's churn propensity grows).

A cohort is summarised, as for the sBG model, by ``alive``: the customers
still active at the start of each period, ``alive[0]`` being the cohort size;
several cohorts (of any lengths) can be fitted together.

Examples
--------
>>> from crmcore.models import bdw
>>> f = bdw.fit([1000, 869, 743, 653, 593, 551, 517, 491])  # Fader & Hardie (2007), high end
>>> round(f.params.c, 2)
1.72
>>> bdw.survival(f.params, [8, 12]).round(3).tolist()
[0.468, 0.404]
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, overload

import attrs
import numpy as np
from scipy import special as sc

from crmcore import _validation as v
from crmcore._typing import ArrayLike, FloatArray, SeedLike
from crmcore.errors import ConvergenceError, InputError
from crmcore.models import _draws
from crmcore.models import _inputs as inp
from crmcore.models._draws import ParameterDraws
from crmcore.models._inputs import positive_param
from crmcore.models._mle import fit_fields, maximize_likelihood

__all__ = [
    "BdwFit",
    "BdwParams",
    "discounted_expected_residual_lifetime",
    "expected_lifetime",
    "fit",
    "implied_retention_rate",
    "log_likelihood",
    "log_likelihood_per_customer",
    "survival",
]

_NAMES = ("alpha", "beta", "c")


@attrs.frozen(kw_only=True)
class BdwParams:
    """Parameters of the beta-discrete-Weibull model.

    Attributes
    ----------
    alpha, beta : float
        Beta distribution of the churn parameter theta across customers (as
        in :class:`crmcore.models.sbg.SbgParams`); the share of a new cohort
        that churns in the first period is alpha / (alpha + beta).
    c : float
        Duration dependence: each customer's churn probability falls with
        tenure when c < 1, stays constant when c = 1 (the sBG model) and
        rises when c > 1.

    Raises
    ------
    InputError
        When a parameter is not positive and finite.

    Examples
    --------
    >>> BdwParams(alpha=0.704, beta=1.182, c=1.0).c
    1.0
    >>> BdwParams(alpha=0.704, beta=1.182, c=0.0)
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: c must be > 0.0, got 0.0
    """

    alpha: float = positive_param()
    beta: float = positive_param()
    c: float = positive_param()

    def as_array(self) -> FloatArray:
        """Return ``[alpha, beta, c]``."""
        return np.array([self.alpha, self.beta, self.c])


@attrs.frozen(kw_only=True, eq=False)
class BdwFit:
    """A fitted BdW model, built by :func:`fit`.

    Attributes
    ----------
    params : BdwParams
        Maximum-likelihood estimates.
    standard_errors : BdwParams
        Asymptotic standard errors (inverse observed information).
    covariance : ndarray, shape (3, 3)
        Asymptotic covariance of (alpha, beta, c).
    log_likelihood : float
        Total log-likelihood of the cohort(s) at the estimates.
    n_customers : float
        Customers in the cohort(s) (the sum of the ``alive[0]`` values).
    converged : bool
        False when the fit came with a ConvergenceWarning because the data
        barely identify the parameters (see :func:`fit`); a failed search
        raises instead.
    n_iterations : int
        Optimiser iterations.

    Examples
    --------
    >>> f = fit([1000, 631, 468, 382, 326, 289, 262, 241])
    >>> f.n_customers, round(f.params.c, 2)
    (1000.0, 1.28)
    """

    params: BdwParams
    standard_errors: BdwParams
    covariance: FloatArray
    log_likelihood: float
    n_customers: float
    converged: bool
    n_iterations: int

    def survival(self, t: ArrayLike) -> Any:
        """Return :func:`survival` at the fitted parameters."""
        return survival(self.params, t)

    def implied_retention_rate(self, t: ArrayLike) -> Any:
        """Return :func:`implied_retention_rate` at the fitted parameters."""
        return implied_retention_rate(self.params, t)

    def expected_lifetime(self) -> float:
        """Return :func:`expected_lifetime` at the fitted parameters."""
        return expected_lifetime(self.params)

    def discounted_expected_residual_lifetime(
        self, n_renewals: ArrayLike, *, discount_rate: float
    ) -> Any:
        """Return :func:`discounted_expected_residual_lifetime` at the fitted parameters."""
        return discounted_expected_residual_lifetime(
            self.params, n_renewals, discount_rate=discount_rate
        )

    def log_likelihood_per_customer(self, alive: ArrayLike) -> FloatArray:
        """Return :func:`log_likelihood_per_customer` at the fitted parameters."""
        return log_likelihood_per_customer(self.params, alive)

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

        n = ``n_customers``, the customers of the cohort(s): each customer is one
        independent observation of the likelihood (the period she churned in, or still
        active at the end) (Schwarz 1978: n counts the independent observations).
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
        >>> f = fit([1000, 631, 468, 382, 326, 289, 262, 241])
        >>> draws = f.sample_params(500, rng=0)
        >>> draws.values.shape[0], draws.names
        (500, ('alpha', 'beta', 'c'))
        >>> f.sample_params(0, rng=0)
        Traceback (most recent call last):
        ...
        crmcore.errors.InputError: n_draws must be >= 1, got 0
        """
        return _draws.sample_params(self.params, self.covariance, n_draws, rng)


# --------------------------------------------------------------------------- public API


def fit(alive: ArrayLike | Sequence[ArrayLike], *, initial: BdwParams | None = None) -> BdwFit:
    """Fit the BdW model to the survivor counts of one cohort or several by maximum likelihood.

    Parameters
    ----------
    alive : array-like, or a sequence of them
        One cohort: customers still active at the start of periods 0, 1,
        ..., n, ``alive[0]`` being the cohort size (non-negative,
        non-increasing, counts may be fractional). Several cohorts: a
        sequence of such series, of any lengths (or a 2-D array, one cohort
        per row); they share the parameters and their log-likelihoods add up.
    initial : BdwParams, optional
        Starting point; by default alpha = beta = c = 1 (the sBG model with
        uniformly distributed churn probabilities).

    Returns
    -------
    BdwFit

    Raises
    ------
    InputError
        When a cohort is not a non-increasing series of non-negative numbers
        with a positive first value, or when the longest cohort covers fewer
        than three periods.
    InputTypeError
        When ``initial`` is not BdwParams.
    ConvergenceError
        When the optimiser fails or the parameters are not identified (nobody
        churns, or everybody churns in the first period).

    Warns
    -----
    ConvergenceWarning
        When the data barely identify the parameters, typically because
        alpha and beta grow together: every customer then has the same churn
        propensity (a plain discrete Weibull). The fit is returned with
        ``converged=False``.

    Notes
    -----
    The log-likelihood (see :func:`log_likelihood`) counts, in each cohort,
    ``alive[t-1] - alive[t]`` customers who churned in period t and
    ``alive[n]`` still active. The search runs on log-parameters with the
    analytic gradient. Compare the fit with the sBG model's (nested at
    c = 1) with :func:`crmcore.models.selection.likelihood_ratio_test`.

    References
    ----------
    Fader, P. S., Hardie, B. G. S., Liu, Y., Davin, J., & Steenburgh, T.
    (2018). "How to project customer retention" revisited: The role of
    duration dependence. Journal of Interactive Marketing, 43, 1-16.

    Examples
    --------
    >>> f = fit([1000, 869, 743, 653, 593, 551, 517, 491])
    >>> round(f.params.alpha, 3), round(f.params.beta, 3), round(f.params.c, 3)
    (0.214, 1.427, 1.724)
    >>> fit([[1000, 869, 743, 653], [800, 690, 610]]).n_customers
    1800.0
    >>> fit([1000, 631, 700, 600])
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: alive must not increase from one period to the next; ...
    """
    cohorts = _cohorts(alive)
    if initial is not None:
        inp.check_params(initial, BdwParams, "initial")
    data = _Data.of(cohorts)
    if data.n_periods < 3:
        raise InputError(
            "alive must cover at least three periods (four counts) in its longest cohort to fit "
            "the BdW model: its three parameters need the churn of three periods; got "
            f"{data.n_periods} period(s)"
        )
    if not np.any(data.churned > 0):
        raise ConvergenceError(
            "BdW: nobody churned in the observed periods, so the churn probabilities are not "
            "identified (the likelihood grows as they approach 0); observe more periods or a "
            "larger cohort"
        )
    if data.exposed_after_first == 0:
        raise ConvergenceError(
            "BdW: every cohort churned completely in the first period, so nothing shows how "
            "churn probabilities vary across customers or over time; the model does not apply "
            "to these data"
        )
    start = initial.as_array() if initial is not None else np.ones(3)
    res = maximize_likelihood(
        lambda theta: _log_likelihood_and_gradient(theta, data),
        start,
        names=_NAMES,
        model="BdW",
        n_customers=data.n_customers,
        hint=(
            "Try initial= closer to the expected values (e.g. the sBG estimates with c=1), or "
            "check that alive holds the survivors of each cohort at the start of each period"
        ),
        limit_hint=(
            "the data are consistent with every customer having the same churn propensity "
            "(alpha and beta growing together, a plain discrete Weibull), or c is not "
            "identified by so few periods: compare with the sBG model (sbg.fit) and "
            "crmcore.models.selection.likelihood_ratio_test, or observe more periods"
        ),
    )
    return BdwFit(**fit_fields(res, BdwParams), n_customers=data.n_customers)


def log_likelihood(params: BdwParams, alive: ArrayLike | Sequence[ArrayLike]) -> float:
    """Total BdW log-likelihood of the survivor counts of one cohort or several.

    Parameters
    ----------
    params : BdwParams
    alive : array-like, or a sequence of them
        Customers still active at the start of periods 0 .. n, per cohort
        (see :func:`fit`).

    Returns
    -------
    float
        ``Σ_cohorts [Σ_{t=1}^{n} (alive[t-1] - alive[t]) ln P(T = t) + alive[n] ln S(n)]``.

    Raises
    ------
    InputError
        On an invalid ``alive`` series.

    Notes
    -----
    Fader et al. (2018): a customer is still active at the start of period t
    (she renewed t times) with probability
    ``S(t) = B(α, β + t^c) / B(α, β)`` and churns in period t with
    probability ``P(T = t) = S(t-1) - S(t)``. Both are computed in log space:
    ``ln S(t) = G(β) - G(β + t^c)`` with ``G(y) = lnΓ(y+α) - lnΓ(y)`` (by
    Stirling's series for large y, with ``ln(β + t^c)`` formed from
    ``c ln t`` so that nothing overflows), and
    ``ln P(T = t) = ln S(t-1) + ln(1 - exp(ln S(t) - ln S(t-1)))``. At c = 1
    these are the sBG model's (Fader & Hardie 2007, equations 2 and 3).

    Examples
    --------
    >>> p = BdwParams(alpha=0.668, beta=3.806, c=1.0)
    >>> round(log_likelihood(p, [1000, 869, 743, 653, 593, 551, 517, 491]), 2)
    -1611.16
    >>> log_likelihood(p, [0, 0])
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: alive[0], the cohort size, must be positive; got 0.0
    """
    inp.check_params(params, BdwParams)
    data = _Data.of(_cohorts(alive))
    value, _ = _log_likelihood_and_gradient(params.as_array(), data, gradient=False)
    return value


def log_likelihood_per_customer(
    params: BdwParams, alive: ArrayLike | Sequence[ArrayLike]
) -> FloatArray:
    """Return the log-likelihood of one customer of each outcome the cohort data distinguish.

    Parameters
    ----------
    params : BdwParams
    alive : array-like, or a sequence of them
        Survivor counts for periods 0 .. n of one cohort or several (see
        :func:`fit`); only their lengths matter here, and they are validated.

    Returns
    -------
    ndarray
        For each cohort in turn (n + 1 entries for a cohort of n periods):
        ``ln P(T = t)`` for t = 1 .. n, the log-likelihood of a customer who
        churned in period t, then ``ln S(n)``, that of a customer still
        active. The total log-likelihood is their sum weighted by
        ``alive[t-1] - alive[t]`` and ``alive[n]``.

    Raises
    ------
    InputError
        On an invalid ``alive`` series.

    Examples
    --------
    >>> p = BdwParams(alpha=1.0, beta=1.0, c=1.0)
    >>> log_likelihood_per_customer(p, [10, 5, 3]).round(4).tolist()
    [-0.6931, -1.7918, -1.0986]
    """
    inp.check_params(params, BdwParams)
    cohorts = _cohorts(alive)
    n_max = max(cohort.size for cohort in cohorts) - 1
    log_s = _log_survival_at(params.as_array(), np.arange(n_max + 1, dtype=np.float64))
    log_p = _log_churn(log_s)
    parts = [np.concatenate([log_p[: k.size - 1], log_s[k.size - 1 : k.size]]) for k in cohorts]
    return np.concatenate(parts)


@overload
def survival(params: BdwParams, t: int) -> float: ...
@overload
def survival(params: BdwParams, t: ArrayLike) -> FloatArray: ...
def survival(params: BdwParams, t: ArrayLike) -> Any:
    """Return the share S(t) of a new cohort still active at the start of period t.

    Parameters
    ----------
    params : BdwParams
    t : int or array-like of int
        Periods (>= 0); S(0) = 1.

    Returns
    -------
    float or ndarray
        Same shape as ``t``.

    Raises
    ------
    InputError
        On negative or fractional ``t``.

    Notes
    -----
    ``S(t) = B(α, β + t^c) / B(α, β)`` (Fader et al. 2018), computed as a
    difference of log-gamma ratios (see :func:`log_likelihood`); it decays
    like ``t^(-cα)`` for large t.

    Examples
    --------
    >>> survival(BdwParams(alpha=0.704, beta=1.182, c=1.0), [0, 1, 7]).round(4).tolist()
    [1.0, 0.6267, 0.2391]
    >>> survival(BdwParams(alpha=0.704, beta=1.182, c=1.0), -1)
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: t must be non-negative; 1 of 1 values breaks this ...
    """
    inp.check_params(params, BdwParams)
    tt, scalar = _periods(t, "t", low=0)
    out = np.exp(_log_survival_at(params.as_array(), tt.reshape(-1)))
    return float(out[0]) if scalar else out.reshape(tt.shape)


@overload
def implied_retention_rate(params: BdwParams, t: int) -> float: ...
@overload
def implied_retention_rate(params: BdwParams, t: ArrayLike) -> FloatArray: ...
def implied_retention_rate(params: BdwParams, t: ArrayLike) -> Any:
    """Return the model-implied retention rate r(t) = S(t) / S(t-1) of a cohort in period t.

    The observed share of customers retained between two dates is
    :func:`crmcore.metrics.retention_rate`.

    Parameters
    ----------
    params : BdwParams
    t : int or array-like of int
        Periods (>= 1).

    Returns
    -------
    float or ndarray
        Same shape as ``t``. Non-decreasing in t when c <= 1 (every
        customer's churn probability falls or stays, and the churn-prone
        leave first); when c > 1 it may fall before it rises, and falls
        throughout when the customers are nearly alike.

    Raises
    ------
    InputError
        On ``t`` below 1 or fractional.

    Notes
    -----
    ``r(t) = B(α, β + t^c) / B(α, β + (t-1)^c)`` (Fader et al. 2018), the
    exponential of a difference of log-survivals.

    Examples
    --------
    >>> p = BdwParams(alpha=0.704, beta=1.182, c=1.0)
    >>> implied_retention_rate(p, [1, 2, 7]).round(4).tolist()
    [0.6267, 0.7561, 0.9107]
    >>> implied_retention_rate(p, 0)
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: t must be at least 1; 1 of 1 values breaks this ...
    """
    inp.check_params(params, BdwParams)
    tt, scalar = _periods(t, "t", low=1)
    flat = tt.reshape(-1)
    theta = params.as_array()
    with np.errstate(all="ignore"):
        diff = _log_survival_at(theta, flat) - _log_survival_at(theta, flat - 1.0)
    out = np.exp(np.minimum(diff, 0.0))
    return float(out[0]) if scalar else out.reshape(tt.shape)


def expected_lifetime(params: BdwParams) -> float:
    """Return the expected number of periods E[T] a new customer stays, the first included.

    Parameters
    ----------
    params : BdwParams

    Returns
    -------
    float
        ``Σ_{t>=0} S(t)``, finite when c α > 1 and ``inf`` otherwise: S(t)
        falls like ``t^(-cα)``, so the customers with churn parameters near 0
        make the mean diverge although every customer churns eventually (as
        for the sBG model with α <= 1).

    Raises
    ------
    InputTypeError
        When ``params`` is not BdwParams.

    Notes
    -----
    ``E[T] = 1 + DERL(d = 0, 0 renewals)``; the sum is computed as described
    in :func:`discounted_expected_residual_lifetime`. At c = 1 it equals
    the sBG value ``(α + β - 1) / (α - 1)``.

    Examples
    --------
    >>> round(expected_lifetime(BdwParams(alpha=3.8, beta=15.2, c=1.0)), 4)
    6.4286
    >>> expected_lifetime(BdwParams(alpha=0.9, beta=2.0, c=1.1))
    inf
    >>> expected_lifetime((3.8, 15.2, 1.0))
    Traceback (most recent call last):
    ...
    crmcore.errors.InputTypeError: params must be BdwParams, got tuple
    """
    inp.check_params(params, BdwParams)
    theta = params.as_array()
    if params.alpha * params.c <= 1.0:
        return math.inf
    return 1.0 + float(_residual_sums(theta, np.zeros(1), 0.0)[0])


@overload
def discounted_expected_residual_lifetime(
    params: BdwParams, n_renewals: int, *, discount_rate: float
) -> float: ...
@overload
def discounted_expected_residual_lifetime(
    params: BdwParams, n_renewals: ArrayLike, *, discount_rate: float
) -> FloatArray: ...
def discounted_expected_residual_lifetime(
    params: BdwParams, n_renewals: ArrayLike, *, discount_rate: float
) -> Any:
    """Return the discounted expected residual lifetime (DERL) of an active customer.

    The expected number of further renewals of a customer who has renewed
    ``n_renewals`` times and is about to decide on the next renewal, the
    k-th next renewal discounted by ``(1 + discount_rate)^-(k-1)`` (the next
    one counts in full), as for :func:`crmcore.models.sbg.discounted_expected_residual_lifetime`.
    Multiplied by the payment per period it is the customer's residual
    lifetime value.

    Parameters
    ----------
    params : BdwParams
    n_renewals : int or array-like of int
        Renewals made so far (>= 0).
    discount_rate : float
        Per-period discount rate d (>= 0).

    Returns
    -------
    float or ndarray
        Same shape as ``n_renewals``; ``inf`` when d = 0 and c α <= 1.

    Raises
    ------
    InputError
        On negative or fractional ``n_renewals`` or a negative discount rate.

    Notes
    -----
    Fader & Hardie (2010) define
    ``DERL = Σ_{k>=1} S(n+k) / S(n) (1+d)^-(k-1)`` for a customer with n
    renewals, which for the sBG model has a hypergeometric closed form; for
    the BdW model the sum is computed directly: its first 1000 terms one by
    one, the rest by the Euler-Maclaurin (midpoint) formula, whose integral
    runs over log-tenure by Gauss-Legendre panels up to where the discount
    factor falls below e^-50 (d > 0), or to where ``S`` has reached its
    power-law tail ``∝ t^(-cα)``, integrated in closed form (d = 0).

    References
    ----------
    Fader, P. S., & Hardie, B. G. S. (2010). Customer-base valuation in a
    contractual setting: The perils of ignoring heterogeneity. Marketing
    Science, 29(1), 85-93.

    Examples
    --------
    >>> p = BdwParams(alpha=0.668, beta=3.806, c=1.0)  # the sBG model
    >>> discounted_expected_residual_lifetime(p, [0, 7], discount_rate=0.1).round(3).tolist()
    [5.415, 7.53]
    >>> discounted_expected_residual_lifetime(p, 2, discount_rate=-0.1)
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: discount_rate must be >= 0.0, got -0.1
    """
    inp.check_params(params, BdwParams)
    nr, scalar = _periods(n_renewals, "n_renewals", low=0)
    d = v.check_float(discount_rate, "discount_rate", low=0.0)
    flat = nr.reshape(-1)
    if d == 0.0 and params.alpha * params.c <= 1.0:
        out = np.full(flat.shape, math.inf)
    else:
        values, index = np.unique(flat, return_inverse=True)
        out = _residual_sums(params.as_array(), values, math.log1p(d))[index.reshape(-1)]
    out = np.asarray(out, dtype=np.float64)
    return float(out[0]) if scalar else out.reshape(nr.shape)


# --------------------------------------------------------------------------- data


@attrs.frozen(kw_only=True, eq=False)
class _Data:
    """Cohorts reduced to what the likelihood needs (any order of cohorts gives the same)."""

    churned: FloatArray  # churned[t-1]: customers who churned in period t, t = 1..n_periods
    censored: FloatArray  # censored[n]: customers still active at the end of an n-period cohort
    n_customers: float
    exposed_after_first: float

    @property
    def n_periods(self) -> int:
        return int(self.churned.size)

    @classmethod
    def of(cls, cohorts: list[FloatArray]) -> _Data:
        n_max = max(k.size for k in cohorts) - 1
        churned = np.zeros(n_max)
        censored = np.zeros(n_max + 1)
        exposed = 0.0
        for k in cohorts:
            n = k.size - 1
            churned[:n] += k[:-1] - k[1:]
            censored[n] += k[-1]
            exposed += float(k[1]) if n >= 1 else 0.0
        total = float(sum(float(k[0]) for k in cohorts))
        return cls(
            churned=churned, censored=censored, n_customers=total, exposed_after_first=exposed
        )


def _cohorts(alive: object) -> list[FloatArray]:
    """Return the validated cohorts of ``alive``: one series, a sequence of them, or a 2-D array."""
    if isinstance(alive, np.ndarray) and alive.ndim == 2:
        return [_alive(row, f"alive[{i}]") for i, row in enumerate(alive)]
    if isinstance(alive, list | tuple) and any(
        isinstance(e, list | tuple | np.ndarray) for e in alive
    ):
        flat = [not isinstance(e, list | tuple | np.ndarray) for e in alive]
        if any(flat):
            first = flat.index(True)
            raise InputError(
                "alive must be one cohort (a sequence of numbers) or several (a sequence of "
                f"sequences), not a mix; {sum(flat)} of {len(alive)} entries are single values "
                f"(first at index {first}: {alive[first]!r})"
            )
        return [_alive(e, f"alive[{i}]") for i, e in enumerate(alive)]
    return [_alive(alive, "alive")]


def _alive(alive: Any, name: str) -> FloatArray:
    counts = v.as_float_array(alive, name, nonnegative=True)
    if counts.size < 2:
        raise InputError(
            f"{name} must hold the cohort size and at least one later count; "
            f"got {counts.size} value"
        )
    if counts[0] <= 0:
        raise InputError(f"{name}[0], the cohort size, must be positive; got {float(counts[0])!r}")
    rise = np.zeros(counts.size, dtype=np.bool_)
    rise[1:] = counts[1:] > counts[:-1]
    if rise.any():
        raise InputError(
            f"{name} must not increase from one period to the next; "
            + v.describe_violations(rise, (name, counts))
        )
    return counts


def _periods(t: ArrayLike, name: str, *, low: int) -> tuple[FloatArray, bool]:
    flat, scalar = inp.whole_counts(t, name, low=low)
    return flat.astype(np.float64).reshape(() if scalar else flat.shape), scalar


# --------------------------------------------------------------------------- numerics

_STIRLING_FROM = 100.0


def _h(y: FloatArray, a: float) -> FloatArray:
    """``lnΓ(y + a) - lnΓ(y) - a ln y`` for y >= 100 (y may be infinite), by Stirling's series.

    ``(y + a - 1/2) log1p(a/y) - a + Σ_k B_2k/(2k(2k-1)) [(y+a)^(1-2k) - y^(1-2k)]``
    (three terms); where y is so large that a/y < 1e-8 and y > 1e15 its
    leading term ``a(a-1)/(2y)``, which is 0 at y = inf.
    """
    with np.errstate(all="ignore"):
        inv, inv_a = 1.0 / y, 1.0 / (y + a)
        full = (
            (y + a - 0.5) * np.log1p(a * inv)
            - a
            + (inv_a - inv) / 12.0
            - (inv_a**3 - inv**3) / 360.0
            + (inv_a**5 - inv**5) / 1260.0
        )
        far = (y > 1e15) & (a * inv < 1e-8)
        out = np.where(far, a * (a - 1.0) * 0.5 * inv, full)
    return np.asarray(out, dtype=np.float64)


def _g_small(y: FloatArray, a: float) -> FloatArray:
    """``lnΓ(y + a) - lnΓ(y)`` for 0 < y < 100, by recurrence up to Stirling's series.

    ``G(y) = G(y + K) - Σ_{j<K} log1p(a / (y + j))`` with y + K >= 100:
    accurate to the last digits also when a is small, where the difference of
    two log-gamma values would lose the digits of G itself.
    """
    k = np.ceil(_STIRLING_FROM - y)
    z = y + k
    j = np.arange(int(_STIRLING_FROM) + 1, dtype=np.float64)
    terms = np.where(j[None, :] < k[:, None], np.log1p(a / (y[:, None] + j[None, :])), 0.0)
    return np.asarray(a * np.log(z) + _h(z, a) - terms.sum(axis=1), dtype=np.float64)


def _log_survival_at(theta: FloatArray, t: FloatArray) -> FloatArray:
    """Compute ln S(t) at t >= 0 (t may be fractional); see :func:`_log_survival_log_t`."""
    with np.errstate(divide="ignore"):
        return _log_survival_log_t(theta, np.log(t))


def _log_survival_log_t(theta: FloatArray, lt: FloatArray) -> FloatArray:
    """Compute ln S(t) = G(β) - G(β + t^c) from lt = ln t (-inf for t = 0), never overflowing.

    ``G(y) = lnΓ(y+α) - lnΓ(y)``; ``ln y = logaddexp(ln β, c ln t)``. With
    β >= 100 both G values use Stirling's series and the difference is
    ``-(α ln(y/β) + h(y) - h(β))``, ``ln(y/β) = log1p(t^c/β)``, which keeps
    full precision for S near 1.
    """
    alpha, beta, c = (float(q) for q in theta)
    with np.errstate(all="ignore"):
        lx = c * lt  # -inf at t = 0
        log_beta = math.log(beta)
        rel = np.logaddexp(0.0, lx - log_beta)  # ln(y / β) >= 0
        ly = log_beta + rel
        y = np.exp(ly)  # may be inf
        if beta >= _STIRLING_FROM:
            out = -(alpha * rel + _h(y, alpha) - _h(np.array([beta]), alpha))
        else:
            g_beta = float(_g_small(np.array([beta]), alpha)[0])
            small = y < _STIRLING_FROM
            g = alpha * ly + _h(np.where(small, _STIRLING_FROM, y), alpha)
            if small.any():
                g[small] = _g_small(y[small], alpha)
            out = g_beta - g
    return np.asarray(np.minimum(out, 0.0), dtype=np.float64)


def _log_churn(log_s: FloatArray) -> FloatArray:
    """Return ln P(T = t) = ln S(t-1) + ln(1 - S(t)/S(t-1)), t = 1 .. n, from ln S(0 .. n)."""
    with np.errstate(all="ignore"):
        drop = np.maximum(log_s[:-1] - log_s[1:], 0.0)
        return np.asarray(log_s[:-1] + np.log(-np.expm1(-drop)), dtype=np.float64)


def _dpsi(y: FloatArray, a: float) -> FloatArray:
    """``ψ(y + a) - ψ(y)`` for y > 0 (y may be infinite), by the asymptotic series for y >= 100."""
    with np.errstate(all="ignore"):
        small = y < _STIRLING_FROM
        ys = np.where(small, y, 1.0)
        direct = sc.digamma(ys + a) - sc.digamma(ys)
        inv, inv_a = 1.0 / y, 1.0 / (y + a)
        series = (
            np.log1p(a * inv)
            - 0.5 * (inv_a - inv)
            - (inv_a**2 - inv**2) / 12.0
            + (inv_a**4 - inv**4) / 120.0
            - (inv_a**6 - inv**6) / 252.0
        )
        return np.asarray(np.where(small, direct, series), dtype=np.float64)


def _log_likelihood_and_gradient(
    theta: FloatArray, data: _Data, *, gradient: bool = True
) -> tuple[float, FloatArray]:
    """Total log-likelihood and its gradient in (α, β, c).

    With x = t^c: ``d ln S/dα = ψ(α+β) - ψ(α+β+x)``,
    ``d ln S/dβ = [ψ(β+α) - ψ(β)] - [ψ(β+x+α) - ψ(β+x)]``,
    ``d ln S/dc = -[ψ(β+x+α) - ψ(β+x)] x ln t``; and with
    ``q = S(t)/S(t-1)``, ``d ln P(T=t) = d ln S(t-1) + q/(1-q) [d ln S(t-1) - d ln S(t)]``.
    """
    alpha, beta, c = (float(q) for q in theta)
    n = data.n_periods
    t = np.arange(n + 1, dtype=np.float64)
    log_s = _log_survival_at(theta, t)
    log_p = _log_churn(log_s)
    with np.errstate(all="ignore"):
        value = float(data.churned @ log_p + data.censored @ log_s)
        if not gradient:
            return value, np.zeros(3)
        lt = np.log(t)
        x = np.exp(c * lt)  # 0 at t = 0
        d_beta_x = _dpsi(beta + x, alpha)
        ds = np.empty((3, n + 1))
        ds[0] = -(sc.digamma(alpha + beta + x) - sc.digamma(alpha + beta))
        ds[1] = _dpsi(np.array([beta]), alpha)[0] - d_beta_x
        ds[2] = np.where(t > 0, -d_beta_x * x * np.where(t > 0, lt, 0.0), 0.0)
        drop = np.maximum(log_s[:-1] - log_s[1:], 0.0)
        odds = 1.0 / np.expm1(drop)  # q / (1 - q)
        dp = ds[:, :-1] + odds * (ds[:, :-1] - ds[:, 1:])
        grad = dp @ data.churned + ds @ data.censored
    return value, np.asarray(grad, dtype=np.float64)


_GL_NODES, _GL_WEIGHTS = np.polynomial.legendre.leggauss(20)
_DIRECT_TERMS = 1000
_PANEL_WIDTH = 0.5  # in log-tenure
_CHUNK = 4096  # panels evaluated at once


def _residual_sums(theta: FloatArray, renewals: FloatArray, lam: float) -> FloatArray:
    """``Σ_{k>=1} S(m+k)/S(m) e^(-(k-1) lam)`` for each m in ``renewals`` (lam = ln(1+d)).

    For lam = 0 the caller has checked c α > 1 (else the sum diverges).
    """
    alpha, beta, c = (float(q) for q in theta)
    out = np.empty(renewals.size)
    k = np.arange(1, _DIRECT_TERMS + 1, dtype=np.float64)
    for i, m in enumerate(renewals.tolist()):
        log_sm = float(_log_survival_at(theta, np.array([m]))[0])
        log_terms = _log_survival_at(theta, m + k) - log_sm - (k - 1.0) * lam
        total = float(np.exp(log_terms).sum())
        if _DIRECT_TERMS * lam > 60.0:
            out[i] = total
            continue
        # Euler-Maclaurin (midpoint): Σ_{k>K} f(k) = ∫_{K+1/2}^∞ f + f'(K+1/2)/24 + ...
        s0 = _DIRECT_TERMS + 0.5
        t0 = m + s0
        log_f0 = float(_log_survival_at(theta, np.array([t0]))[0]) - log_sm - (s0 - 1.0) * lam
        x0 = t0**c if c * math.log(t0) < 700 else math.inf
        slope = -float(_dpsi(np.array([beta + x0]), alpha)[0]) * (
            c * x0 / t0 if math.isfinite(x0) else c * alpha / t0
        )
        total += math.exp(log_f0) * (slope - lam) / 24.0
        u0 = math.log(t0)
        if lam > 0.0:
            u_end = math.log(m + 1.0 + 60.0 / lam)
            closed_tail = 0.0
        else:
            # beyond u_end, β + t^c = t^c (1 + O(1e-17)) and h is negligible:
            # S(t) = e^{G(β)} t^(-cα)
            big = max(alpha * beta, alpha * alpha, beta, 1.0)
            u_end = max(u0, (40.0 + math.log(big)) / c)
            g_beta = float(sc.gammaln(beta + alpha) - sc.gammaln(beta))
            closed_tail = math.exp(g_beta - log_sm + (1.0 - c * alpha) * u_end) / (c * alpha - 1.0)
        total += closed_tail + _panel_integral(theta, m, lam, log_sm, u0=u0, u_end=u_end)
        out[i] = total
    return out


def _panel_integral(
    theta: FloatArray, m: float, lam: float, log_sm: float, *, u0: float, u_end: float
) -> float:
    """``∫ S(e^u)/S(m) e^(-(e^u - m - 1) lam) e^u du`` over [u0, u_end] by Gauss-Legendre panels."""
    if u_end <= u0:
        return 0.0
    n_panels = max(1, math.ceil((u_end - u0) / _PANEL_WIDTH))
    edges = np.linspace(u0, u_end, n_panels + 1)
    total = 0.0
    for start in range(0, n_panels, _CHUNK):
        lo = edges[:-1][start : start + _CHUNK][:, None]
        hi = edges[1:][start : start + _CHUNK][:, None]
        half = 0.5 * (hi - lo)
        u = (lo + hi) * 0.5 + half * _GL_NODES[None, :]
        with np.errstate(all="ignore"):
            log_g = _log_survival_log_t(theta, u.reshape(-1)).reshape(u.shape) - log_sm + u
            if lam > 0.0:  # then u_end is finite and e^u does not overflow
                log_g = log_g - (np.exp(u) - m - 1.0) * lam
            total += float((half * _GL_WEIGHTS[None, :] * np.exp(log_g)).sum())
    return total
