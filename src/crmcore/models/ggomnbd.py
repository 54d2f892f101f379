"""The GGompertz/NBD model of repeat buying (Bemmaor & Glady 2012).

While alive, a customer buys at the points of a Poisson process with rate
lambda ~ Gamma(shape r, rate alpha). Her lifetime after the first purchase
is Gompertz, ``P(alive at τ | η) = exp(-η (e^(bτ) - 1))``, with a scale b
shared by all customers and η ~ Gamma(shape s, rate beta), so that across
customers the survival is ``S(τ) = (β / (β + e^(bτ) - 1))^s``. b > 0 lets the
risk of dropping out grow (or, with β < 1, shrink) with age; as b -> 0 with
β/b fixed, S tends to the Pareto II survival of the Pareto/NBD model with
``beta = β/b`` (:mod:`crmcore.models.pareto_nbd`). The data per customer are
``frequency`` (x), ``recency`` (t_x) and ``T``, all measured from the first
purchase; alpha and b are in the time unit of T (per unit of time for b),
r, s and beta are unit-free.

The likelihood and every forecast are integrals over the death time that
have no closed form; they are evaluated in log space by Gauss-Legendre rules
on pieces sized by the local scales of the integrand (see
:func:`log_likelihood`), vectorised over the distinct histories.

Examples
--------
>>> from crmcore.models import ggomnbd
>>> params = ggomnbd.GGompertzNbdParams(r=0.553, alpha=10.578, b=0.0002, s=0.603, beta=0.0026)
>>> round(ggomnbd.expected_purchases(params, 39.0), 3)
1.256
>>> ggomnbd.probability_alive(params, [2, 0], [30.43, 0.0], [38.86, 38.86]).round(3).tolist()
[0.873, 0.316]
"""

from __future__ import annotations

import itertools
import warnings
from typing import Any, overload

import attrs
import numpy as np
from scipy import special as sc

from crmcore import _validation as v
from crmcore._typing import ArrayLike, FloatArray, IntArray
from crmcore.errors import ConvergenceError, ConvergenceWarning, InputError
from crmcore.models import _ggomnbd_num as num
from crmcore.models import _inputs as inp
from crmcore.models import _predict, _units, pareto_nbd
from crmcore.models._inputs import positive_param
from crmcore.models._mle import MleResult, fit_fields, log_curvature, maximize_likelihood
from crmcore.models._predict import CustomerPrediction
from crmcore.summary import CompressedHistories, CustomerSummary

__all__ = [
    "GGompertzNbdFit",
    "GGompertzNbdParams",
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

_NAMES = ("r", "alpha", "b", "s", "beta")


@attrs.frozen(kw_only=True)
class GGompertzNbdParams:
    """Parameters of the GGompertz/NBD model.

    Attributes
    ----------
    r, alpha : float
        Shape and rate of the gamma distribution of purchase rates; alpha is
        in the time unit of the data.
    b : float
        Scale of the Gompertz lifetime, per unit of time (weeks to days
        divides it by 7).
    s, beta : float
        Shape and rate of the gamma distribution of the Gompertz η (both
        unit-free).

    Raises
    ------
    InputError
        When a parameter is not positive and finite.

    Examples
    --------
    >>> GGompertzNbdParams(r=0.553, alpha=10.578, b=0.0002, s=0.603, beta=0.0026).b
    0.0002
    >>> GGompertzNbdParams(r=0.55, alpha=10.58, b=0.0, s=0.6, beta=0.0026)
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: b must be > 0.0, got 0.0
    """

    r: float = positive_param()
    alpha: float = positive_param()
    b: float = positive_param()
    s: float = positive_param()
    beta: float = positive_param()

    def as_array(self) -> FloatArray:
        """Return ``[r, alpha, b, s, beta]``."""
        return np.array([self.r, self.alpha, self.b, self.s, self.beta])


@attrs.frozen(kw_only=True, eq=False)
class GGompertzNbdFit:
    """A fitted GGompertz/NBD model, built by :func:`fit`.

    Attributes
    ----------
    params : GGompertzNbdParams
        Maximum-likelihood estimates.
    standard_errors : GGompertzNbdParams
        Asymptotic standard errors (inverse observed information).
    covariance : ndarray, shape (5, 5)
        Asymptotic covariance of (r, alpha, b, s, beta).
    log_likelihood : float
        Total log-likelihood at the estimates, weights applied.
    n_customers : float
        Customers the fit used (the sum of the weights).
    converged : bool
        False when the fit came with a ConvergenceWarning because the data
        barely identify some parameter (see :func:`fit`); a failed search
        raises instead. A fit at the Pareto/NBD limit (``at_boundary``) has
        the ``converged`` of that Pareto/NBD fit.
    n_iterations : int
        Optimiser iterations.
    time_unit : {"h", "D", "W", "M", "Y"} or None
        Time unit of the data the fit was made on (None: unknown). alpha and
        b are in this unit; the methods given a
        :class:`~crmcore.CustomerSummary` in another unit convert its recency,
        T, the horizon ``t`` and a ``discount_rate`` into this one first.
    at_boundary : bool
        True when the likelihood is largest in the Pareto/NBD limit b -> 0
        (see :func:`fit`): ``params`` then hold the Pareto/NBD estimates of
        r, alpha and s, b so small that b T = 1e-9 for the longest T, and
        ``beta = b * beta_P`` with the Pareto/NBD beta_P, so that every
        prediction is the Pareto/NBD one; the standard errors of b and beta,
        and their rows and columns of ``covariance``, are NaN (b is 0 at the
        limit, beta with it), those of r, alpha and s are the Pareto/NBD ones.

    Examples
    --------
    >>> p = GGompertzNbdParams(r=0.553, alpha=10.578, b=0.0002, s=0.603, beta=0.0026)
    >>> f = GGompertzNbdFit(params=p, standard_errors=p, covariance=np.eye(5),
    ...     log_likelihood=-9595.0, n_customers=2357.0, converged=True, n_iterations=30)
    >>> round(f.probability_alive(2, 30.43, 38.86), 3)
    0.873
    """

    params: GGompertzNbdParams
    standard_errors: GGompertzNbdParams
    covariance: FloatArray
    log_likelihood: float
    n_customers: float
    converged: bool
    n_iterations: int
    time_unit: str | None = _units.unit_field()
    at_boundary: bool = False

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
            Forecast horizons (>= 0), one-dimensional, in the time unit of the
            data (of a summary, when ``frequency`` is one).
        frequency, recency, T : array-like, or a CustomerSummary as ``frequency``

        Returns
        -------
        ndarray, shape (customers, len(t))
            Column k holds the expected purchases in (T, T + t[k]]; P(alive)
            is computed once for all horizons. This is what
            :func:`crmcore.models.clv.residual_lifetime_value` and
            :func:`crmcore.models.clv.customer_lifetime_value` need.

        Raises
        ------
        InputError
            On invalid histories, or ``t`` negative or not one-dimensional.
        """
        tt, _ = inp.times(t, "t")
        if tt.ndim != 1:
            raise InputError(f"t must be 1-dimensional, got shape {tt.shape}")
        frequency, factor = _units.in_fit_unit(self.time_unit, frequency)
        h = inp.histories(frequency, recency, T)
        out = _conditional_at(self.params.as_array(), tt * factor, h.x, h.tx, h.T)
        return inp.finish(out, h.single)

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

    def discounted_expected_residual_purchases(
        self,
        frequency: ArrayLike | CustomerSummary,
        recency: ArrayLike | None = None,
        T: ArrayLike | None = None,
        *,
        discount_rate: float,
    ) -> Any:
        """Return :func:`discounted_expected_residual_purchases` at the fitted parameters.

        ``discount_rate`` is per unit of time of the data (of a summary, when
        ``frequency`` is one).
        """
        delta = v.check_float(discount_rate, "discount_rate", low=0.0, low_open=True)
        converted, factor = _units.in_fit_unit(self.time_unit, frequency)
        return discounted_expected_residual_purchases(
            self.params, converted, recency, T, discount_rate=delta / factor
        )

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


# --------------------------------------------------------------------------- public API


def fit(
    frequency: ArrayLike | CustomerSummary,
    recency: ArrayLike | None = None,
    T: ArrayLike | None = None,
    *,
    weights: ArrayLike | None = None,
    initial: GGompertzNbdParams | None = None,
    time_unit: str | None = None,
) -> GGompertzNbdFit:
    """Fit the GGompertz/NBD model by maximum likelihood.

    Parameters
    ----------
    frequency : array-like or CustomerSummary
        Repeat purchases x per customer, or a summary (then ``recency`` and
        ``T`` are left out and the customers with ``has_purchase`` are used).
    recency, T : array-like
        t_x and T per customer, in one time unit (see :func:`crmcore.summarize`).
    weights : array-like, optional
        Non-negative number of customers each row stands for (default 1).
    initial : GGompertzNbdParams, optional
        Starting point. By default r = s = beta = 1, alpha = mean T /
        (mean x + 1) and b = 1 / mean T, or, with many distinct histories,
        the fit to a systematic sample of them from there.
    time_unit : {"h", "D", "W", "M", "Y"}, optional
        Time unit of ``recency`` and ``T`` when they are arrays; with a
        summary its ``time_unit`` is used. Recorded as ``fit.time_unit``.

    Returns
    -------
    GGompertzNbdFit

    Raises
    ------
    InputError
        On invalid histories (see :func:`crmcore.compress`), negative weights
        or no customer.
    InputTypeError
        When ``frequency`` is a CustomerSummary and ``recency`` or ``T`` is
        given too, when arrays are given without ``recency`` and ``T``,
        on non-numeric input, or when ``initial`` is not a GGompertzNbdParams.
    ConvergenceError
        When the optimiser fails or a parameter is not identified by the
        data; the message says what to try.

    Warns
    -----
    ConvergenceWarning
        When the data barely identify a parameter (a standard error above 10
        times its estimate, or nearly collinear parameters), which is common:
        b and beta are hard to tell apart from the Pareto/NBD limit (b -> 0)
        on short observation windows. The fit is returned with
        ``converged=False``. Also when the likelihood is largest in that
        limit (the search runs to b -> 0, the Pareto/NBD fit of the data
        reaches at least its log-likelihood, and the log-likelihood falls as
        b grows from 0): the fit is then that limit, with
        ``at_boundary=True`` (see :class:`GGompertzNbdFit`).

    See Also
    --------
    crmcore.models.pareto_nbd.fit : the limit b -> 0.

    Notes
    -----
    Identical histories are merged into weighted rows
    (:func:`crmcore.compress`); the integral over the death time is computed
    with the analytic gradient (the integral of the derivative of the
    integrand, on the same nodes). When many histories share their times
    (rounded to whole days) it is computed once per frequency on each segment
    between consecutive distinct t_x and T values, and each history sums its
    segments (differences of partial sums, or a direct evaluation where those
    would cancel); otherwise once per distinct history. The search runs on
    log-parameters. With 100,000 distinct histories or more a fit to a
    systematic sample of 50,000 to 100,000 of them provides the starting point
    and its Hessian, and Newton steps on all histories with that Hessian,
    corrected by BFGS updates, replace the quasi-Newton search (the full
    search when they fail). The terms in T are computed once per distinct T,
    and the gradient of the death integrals is summed per breakpoint of the
    grid rather than per history.

    References
    ----------
    Bemmaor, A. C., & Glady, N. (2012). Modeling purchasing behavior with
    sudden "death": A flexible customer lifetime model. Management Science,
    58(5), 1012-1021.

    Examples
    --------
    3,000 customers drawn from the model (r, alpha, b, s, beta) =
    (0.8, 8, 0.1, 0.5, 2), observed for 52 weeks:

    >>> rng = np.random.default_rng(1)
    >>> lam, eta = rng.gamma(0.8, 1 / 8.0, 3000), rng.gamma(0.5, 1 / 2.0, 3000)
    >>> end = np.minimum(np.log1p(rng.exponential(size=3000) / eta) / 0.1, 52.0)
    >>> x = rng.poisson(lam * end)
    >>> tx = end * rng.beta(np.maximum(x, 1), 1.0) * (x > 0)
    >>> f = fit(x, tx, np.full(3000, 52.0), time_unit="W")
    >>> f.converged, f.params.as_array().round(2).tolist()
    (True, [0.77, 8.04, 0.27, 0.17, 3.04])
    >>> fit([1], [5.0], [4.0])
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: recency must not exceed T; 1 of 1 customers breaks this ...
    """
    unit = _units.fit_unit(frequency, time_unit)
    data = inp.prepare_fit_data(frequency, recency, T, weights)
    if initial is not None:
        inp.check_params(initial, GGompertzNbdParams, "initial")
    error: ConvergenceError | None = None
    res: MleResult | None = None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        try:
            res = _search(data, None if initial is None else initial.as_array())
        except ConvergenceError as exc:
            error = exc
    if error is not None or (res is not None and res.estimates[2] * data.T.max() < _LIMIT_BT):
        limit = _pareto_limit(data, res, unit)
        if limit is not None:
            return limit
    for w in caught:  # the search's own warnings, now that its result stands
        warnings.warn(w.message, w.category, stacklevel=2)
    if error is not None or res is None:
        raise error if error is not None else AssertionError  # pragma: no cover
    return GGompertzNbdFit(
        **fit_fields(res, GGompertzNbdParams),
        n_customers=data.n_customers,
        time_unit=unit,
    )


def _search(data: CompressedHistories, initial: FloatArray | None) -> MleResult:
    """Run the maximum-likelihood search of :func:`fit` (from a sample fit on many rows)."""
    if initial is not None:
        return _fit_compressed(data, initial)
    if len(data) < 2 * _SAMPLE_ROWS:  # a sample would be every row
        return _fit_compressed(data, _default_initial(data))
    sample = _systematic_sample(data, _SAMPLE_ROWS)
    try:
        with warnings.catch_warnings():  # only the fit to all rows speaks
            warnings.simplefilter("ignore", ConvergenceWarning)
            first = _fit_compressed(sample, _default_initial(sample))
    except ConvergenceError:  # the sample may be too thin; the full data decide
        return _fit_compressed(data, _default_initial(data))
    try:  # Newton steps from the sample's estimates with its Hessian
        return _fit_compressed(data, first.estimates, log_curvature(first, data.n_customers))
    except ConvergenceError:
        return _fit_compressed(data, first.estimates)


def _unchecked_params(values: FloatArray) -> GGompertzNbdParams:
    """Return the standard errors of a fit at the Pareto/NBD limit (b and beta: NaN)."""
    out = object.__new__(GGompertzNbdParams)
    for name, value in zip(_NAMES, values.tolist(), strict=True):
        object.__setattr__(out, name, float(value))
    return out


_LIMIT_BT = 1e-3  # b T below this (T the longest) counts as the Pareto/NBD limit b -> 0
_LIMIT_B = 1e-9  # b T of a fit returned at that limit
_LIMIT_PROBE = 1e-2  # b T at which the limit is checked to be a maximum


def _pareto_limit(
    data: CompressedHistories, res: MleResult | None, unit: str | None
) -> GGompertzNbdFit | None:
    """Return the fit at the Pareto/NBD limit b -> 0 when the likelihood is largest there.

    The search ran to b -> 0 (or failed there): the Pareto/NBD fit of the same
    data, with β = b β_P for a b so small (b T = 1e-9) that every prediction is
    that of the Pareto/NBD, is the maximum when its log-likelihood is at least
    that of the search and the log-likelihood falls when b grows from there
    (checked at b T = 0.01 with the other parameters fixed: the profile
    likelihood then falls too). Returns None otherwise.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            limit = pareto_nbd.fit(data.frequency, data.recency, data.T, weights=data.weights)
    except ConvergenceError:
        return None
    r, alpha, s, beta_p = (float(q) for q in limit.params.as_array())
    t_max = float(data.T.max())
    objective = _Objective(data)
    b = _LIMIT_B / t_max
    theta = np.array([r, alpha, b, s, b * beta_p])
    value, _ = objective(theta)
    b_probe = _LIMIT_PROBE / t_max
    probe, _ = objective(np.array([r, alpha, b_probe, s, b_probe * beta_p]))
    noise = 1e-9 * abs(value)
    if not (np.isfinite(value) and probe <= value + noise):
        return None
    if res is not None and res.log_likelihood > value + noise + 1e-6:
        return None
    # r, alpha and s keep their Pareto/NBD covariance; b (0 at the limit) and beta have none
    keep = [0, 1, 3]
    cov = np.full((5, 5), np.nan)
    cov[np.ix_(keep, keep)] = np.asarray(limit.covariance, dtype=np.float64)[:3, :3]
    se = np.sqrt(np.diag(cov))
    warnings.warn(
        "GGompertz/NBD: the log-likelihood is largest in the Pareto/NBD limit b -> 0 "
        f"(log-likelihood {value:.6f}; it falls as b grows): the fit returned is that limit, "
        f"with at_boundary=True, b = {b:.3g} (b T = {_LIMIT_B:g}) and beta = b * "
        f"{beta_p:.6g}, the Pareto/NBD beta; b and beta have no standard errors (NaN). "
        "crmcore.models.pareto_nbd.fit gives the same fit as a Pareto/NBD",
        ConvergenceWarning,
        stacklevel=3,
    )
    names = dict(zip(_NAMES, theta.tolist(), strict=True))
    return GGompertzNbdFit(
        params=GGompertzNbdParams(**names),
        standard_errors=_unchecked_params(se),
        covariance=v.readonly(cov),
        log_likelihood=float(value),
        n_customers=data.n_customers,
        converged=bool(limit.converged),
        n_iterations=int(limit.n_iterations) + (0 if res is None else int(res.n_iterations)),
        time_unit=unit,
        at_boundary=True,
    )


def log_likelihood(
    params: GGompertzNbdParams,
    frequency: ArrayLike | CustomerSummary,
    recency: ArrayLike | None = None,
    T: ArrayLike | None = None,
    *,
    weights: ArrayLike | None = None,
) -> float:
    """Total GGompertz/NBD log-likelihood of the customers' histories.

    Parameters
    ----------
    params : GGompertzNbdParams
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
    Integrating the Poisson rate over its gamma distribution, a customer
    alive at T contributes ``Γ(r+x)/Γ(r) α^r (α+T)^-(r+x) S(T)`` and one who
    dropped out at τ in (t_x, T] the same with τ for T, weighted by the
    death density ``f(τ) = -S'(τ)``:

    ``L = Γ(r+x) α^r / Γ(r) [ (α+T)^-(r+x) S(T)
    + ∫_{t_x}^T (α+τ)^-(r+x) f(τ) dτ ]``,

    ``S(τ) = (β/(β+e^(bτ)-1))^s``,
    ``f(τ) = s b β^s e^(bτ) (β+e^(bτ)-1)^-(s+1)`` (Bemmaor & Glady 2012,
    eq. 6). ``log(β + e^(bτ) - 1)`` is computed with ``expm1`` (exact for
    small bτ, where the model approaches the Pareto/NBD) and as
    ``bτ + log1p((β-1) e^(-bτ))`` for large bτ. The integral is summed by
    16-point Gauss-Legendre rules on consecutive pieces of (t_x, T], each no
    longer than twice the distance to the nearest singularity of a factor
    (``-α`` for the power, ``log(1-β)/b`` or ``(log(β-1) ± iπ)/b`` for the
    Gompertz terms) and than three e-folds of any factor, so that every
    piece converges fast whatever the parameters; the march stops early once
    a bound on the rest (both factors decreasing) falls below 1e-17 of the
    sum. Everything is in log space: frequencies in the tens of thousands
    and parameters from 1e-4 to 1e4 give finite values (checked against
    mpmath).

    References
    ----------
    Bemmaor, A. C., & Glady, N. (2012). Modeling purchasing behavior with
    sudden "death": A flexible customer lifetime model. Management Science,
    58(5), 1012-1021.

    Examples
    --------
    >>> p = GGompertzNbdParams(r=0.553, alpha=10.578, b=0.0002, s=0.603, beta=0.0026)
    >>> round(log_likelihood(p, [0, 2], [0.0, 30.43], [38.86, 38.86]), 4)
    -10.0443
    >>> log_likelihood(p, [0], [1.0], [40.0])
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: recency must be 0 where frequency is 0 (no repeat purchase); ...
    """
    inp.check_params(params, GGompertzNbdParams)
    data = inp.prepare_fit_data(frequency, recency, T, weights)
    value, _ = _Objective(data)(params.as_array())
    return float(value)


def log_likelihood_per_customer(
    params: GGompertzNbdParams,
    frequency: ArrayLike | CustomerSummary,
    recency: ArrayLike | None = None,
    T: ArrayLike | None = None,
) -> Any:
    """GGompertz/NBD log-likelihood of each customer's history.

    Parameters
    ----------
    params : GGompertzNbdParams
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
    >>> p = GGompertzNbdParams(r=0.553, alpha=10.578, b=0.0002, s=0.603, beta=0.0026)
    >>> log_likelihood_per_customer(p, [0, 2], [0.0, 30.43], [38.86, 38.86]).round(4).tolist()
    [-0.5381, -9.5062]
    >>> log_likelihood_per_customer(p, [1], [2.0], [1.0])
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: recency must not exceed T; ...
    """
    inp.check_params(params, GGompertzNbdParams)
    h = inp.histories(frequency, recency, T)
    if h.x.size == 0:
        return np.zeros(0)
    ll, _, _ = _row_terms(params.as_array(), h.x, h.tx, h.T)
    return inp.finish(ll, h.single)


@overload
def expected_purchases(params: GGompertzNbdParams, t: float) -> float: ...
@overload
def expected_purchases(params: GGompertzNbdParams, t: ArrayLike) -> FloatArray: ...
def expected_purchases(params: GGompertzNbdParams, t: ArrayLike) -> Any:
    """Return the expected repeat purchases E[X(t)] of a new customer in (0, t].

    Parameters
    ----------
    params : GGompertzNbdParams
    t : float or array-like
        Time since the first purchase (>= 0), in the unit of alpha and 1/b.

    Returns
    -------
    float or ndarray
        Same shape as ``t``; 0 at t = 0, increasing, concave.

    Raises
    ------
    InputError
        When ``t`` is negative or not finite.

    Notes
    -----
    A customer alive at u buys at the mean rate r/α:
    ``E[X(t)] = r/α ∫_0^t S(u) du``, integrated as in :func:`log_likelihood`.

    Examples
    --------
    >>> p = GGompertzNbdParams(r=0.553, alpha=10.578, b=0.0002, s=0.603, beta=0.0026)
    >>> expected_purchases(p, [0.0, 39.0, 78.0]).round(4).tolist()
    [0.0, 1.2555, 1.9919]
    >>> expected_purchases(p, -1.0)
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: t must be >= 0.0, got -1.0
    """
    inp.check_params(params, GGompertzNbdParams)
    tt, scalar = inp.times(t, "t")
    theta = params.as_array()
    flat = tt.reshape(-1)
    zero = np.zeros(flat.size)
    log_k = _log_survival_integral(theta, flat, start=zero, shift=zero, power=zero, delta=0.0)
    with np.errstate(under="ignore"):
        out = (theta[0] / theta[1] * np.exp(log_k)).reshape(tt.shape)
    return float(out.reshape(-1)[0]) if scalar else np.asarray(out, dtype=np.float64)


def conditional_expected_purchases(
    params: GGompertzNbdParams,
    t: ArrayLike,
    frequency: ArrayLike | CustomerSummary,
    recency: ArrayLike | None = None,
    T: ArrayLike | None = None,
) -> Any:
    """Return the expected purchases in (T, T + t] given each customer's history.

    Parameters
    ----------
    params : GGompertzNbdParams
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
    Given the history and alive at T, λ ~ Gamma(r+x, α+T) and, the survival
    to T having multiplied the prior of η by ``exp(-η (e^(bT) - 1))``,
    η ~ Gamma(s, β + e^(bT) - 1), independently. So the customer is still
    alive at T + u with probability ``S(T+u)/S(T)``, and

    ``E[Y(t) | x, t_x, T] = P(alive) (r+x)/(α+T)
    ∫_0^t ((β + e^(bT) - 1)/(β + e^(b(T+u)) - 1))^s du``.

    This is the corrected expression of Adler (2022); the one first
    published (Bemmaor & Glady 2012, eq. 8) did not condition the remaining
    lifetime on survival to T and overstated the forecast.

    References
    ----------
    Adler, J. (2022). Comment on "Modeling purchasing behavior with sudden
    'death': A flexible customer lifetime model". Management Science.
    https://doi.org/10.1287/mnsc.2022.4422

    Examples
    --------
    >>> p = GGompertzNbdParams(r=0.553, alpha=10.578, b=0.0002, s=0.603, beta=0.0026)
    >>> conditional_expected_purchases(p, 39.0, [2, 0], [30.43, 0.0], [38.86, 38.86]).round(4)
    array([1.4663, 0.1152])
    >>> conditional_expected_purchases(p, 39.0, [2], [30.43], [38.86, 38.86])
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: T must have the same length as frequency; got 2 and 1
    """
    inp.check_params(params, GGompertzNbdParams)
    h = inp.histories(frequency, recency, T)
    tt = inp.horizon(t, h.x.size)
    out = _conditional(params.as_array(), tt, h.x, h.tx, h.T, kind="mean", delta=0.0)
    return inp.finish(out, h.single)


def conditional_purchase_probability(
    params: GGompertzNbdParams,
    t: ArrayLike,
    frequency: ArrayLike | CustomerSummary,
    recency: ArrayLike | None = None,
    T: ArrayLike | None = None,
) -> Any:
    """Probability that each customer makes at least one purchase in (T, T + t].

    Parameters
    ----------
    params : GGompertzNbdParams
    t : float or array-like
        Length of the forecast period (>= 0): one number for every customer,
        or one value per customer.
    frequency, recency, T : array-like, or a CustomerSummary as ``frequency``
        Histories (x, t_x, T), as in :func:`conditional_expected_purchases`.
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

    Notes
    -----
    Alive at T, the next purchase comes after an Exponential(λ) time and
    must come before death:

    ``P(Y(t) > 0 | x, t_x, T) = P(alive) ∫_0^t (r+x)/(α+T)
    (1 + u/(α+T))^-(r+x+1) S(T+u)/S(T) du``.

    Examples
    --------
    >>> p = GGompertzNbdParams(r=0.553, alpha=10.578, b=0.0002, s=0.603, beta=0.0026)
    >>> conditional_purchase_probability(p, 39.0, [2, 0], [30.43, 0.0], [38.86, 38.86]).round(4)
    array([0.5959, 0.0745])
    >>> conditional_purchase_probability(p, -1.0, [2], [30.43], [38.86])
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: t must be >= 0.0, got -1.0
    """
    inp.check_params(params, GGompertzNbdParams)
    h = inp.histories(frequency, recency, T)
    tt = inp.horizon(t, h.x.size)
    out = _conditional(params.as_array(), tt, h.x, h.tx, h.T, kind="buy", delta=0.0)
    return inp.finish(out, h.single)


def discounted_expected_residual_purchases(
    params: GGompertzNbdParams,
    frequency: ArrayLike | CustomerSummary,
    recency: ArrayLike | None = None,
    T: ArrayLike | None = None,
    *,
    discount_rate: float,
) -> Any:
    """Discounted expected residual transactions (DERT) of each customer after T.

    Parameters
    ----------
    params : GGompertzNbdParams
    frequency, recency, T : array-like, or a CustomerSummary as ``frequency``
        Histories (x, t_x, T), as in :func:`conditional_expected_purchases`.
        Single numbers are one customer: the result is then a float.
    discount_rate : float
        Continuous discount rate δ > 0 per unit of time of the data (a
        yearly rate d is ``log(1 + d)`` per year).

    Returns
    -------
    float or ndarray
        ``∫_0^∞ e^(-δu) dE[Y(u) | history]``, one value per customer; times
        the margin per transaction, the customer's residual value.

    Raises
    ------
    InputError
        On invalid histories or a discount rate that is not positive.
    InputTypeError
        When ``frequency`` is a CustomerSummary and ``recency`` or ``T`` is
        given too, when arrays are given without ``recency`` and ``T``,
        or on non-numeric input.

    Notes
    -----
    ``DERT = P(alive) (r+x)/(α+T) ∫_0^∞ e^(-δu) S(T+u)/S(T) du``, the
    integrand decaying at least like ``e^(-δu)``; integrated numerically as
    in :func:`log_likelihood` up to the point where the rest is below 1e-17
    of the sum.

    References
    ----------
    Fader, P. S., Hardie, B. G. S., & Lee, K. L. (2005). RFM and CLV: Using
    iso-value curves for customer base analysis. Journal of Marketing
    Research, 42(4), 415-430 (DERT for the Pareto/NBD).

    Examples
    --------
    >>> p = GGompertzNbdParams(r=0.553, alpha=10.578, b=0.0002, s=0.603, beta=0.0026)
    >>> discounted_expected_residual_purchases(p, [2, 0], [30.43, 0.0], [38.86, 38.86],
    ...                                           discount_rate=0.0029).round(3)
    array([6.24, 0.49])
    >>> discounted_expected_residual_purchases(p, 2, 30.43, 38.86, discount_rate=0.0)
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: discount_rate must be > 0.0, got 0.0
    """
    inp.check_params(params, GGompertzNbdParams)
    delta = v.check_float(discount_rate, "discount_rate", low=0.0, low_open=True)
    h = inp.histories(frequency, recency, T)
    tt = np.full(h.x.size, np.inf)
    out = _conditional(params.as_array(), tt, h.x, h.tx, h.T, kind="mean", delta=delta)
    return inp.finish(out, h.single)


def conditional_probability_alive(
    params: GGompertzNbdParams,
    t: ArrayLike,
    frequency: ArrayLike | CustomerSummary,
    recency: ArrayLike | None = None,
    T: ArrayLike | None = None,
) -> Any:
    """Probability that each customer is still active at T + t, given the history.

    Parameters
    ----------
    params : GGompertzNbdParams
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
    Given the history and alive at T, the purchases carry no information on
    the customer's η (they depend on λ only), so η's gamma(s, β) prior is
    updated by survival to T alone: the posterior is gamma(s, β + e^(bT) - 1)
    (Bemmaor & Glady 2012, section 2). Averaging the Gompertz survival
    ``exp(-η (e^(b(T+t)) - e^(bT)))`` over it gives

    ``P(alive at T+t | x, t_x, T) = P(alive at T) ((β + e^(bT) - 1) / (β + e^(b(T+t)) - 1))^s``,

    computed as ``exp(log P(alive) + s (G(T) - G(T+t)))`` with
    ``G(τ) = log(β + e^(bτ) - 1)``.

    References
    ----------
    Bemmaor, A. C., & Glady, N. (2012). Modeling purchasing behavior with
    sudden "death": a flexible customer lifetime model. Management Science,
    58(5), 1012-1021.

    Examples
    --------
    >>> p = GGompertzNbdParams(r=0.553, alpha=10.578, b=0.0002, s=0.603, beta=0.0026)
    >>> x, tx, T = [2, 2], [30.43, 30.43], [38.86, 38.86]
    >>> alive = conditional_probability_alive(p, [0.0, 52.0], x, tx, T)
    >>> alive.round(4)
    array([0.8727, 0.5723])
    >>> conditional_probability_alive(p, -1.0, 2, 30.43, 38.86)
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: t must be >= 0.0, got -1.0
    """
    inp.check_params(params, GGompertzNbdParams)
    h = inp.histories(frequency, recency, T)
    tt = inp.horizon(t, h.x.size)
    if h.x.size == 0:
        return np.zeros(0)
    theta = params.as_array()
    b, s, beta = float(theta[2]), float(theta[3]), float(theta[4])
    with np.errstate(over="ignore"):
        later = num.g_log(b, beta, h.T + tt)
    drop = s * (num.g_log(b, beta, h.T) - later)
    with np.errstate(under="ignore"):
        out = np.exp(_log_alive(theta, h.x, h.tx, h.T) + np.minimum(drop, 0.0))
    return inp.finish(out, h.single)


def probability_alive(
    params: GGompertzNbdParams,
    frequency: ArrayLike | CustomerSummary,
    recency: ArrayLike | None = None,
    T: ArrayLike | None = None,
) -> Any:
    """Probability that each customer is still active at T.

    Parameters
    ----------
    params : GGompertzNbdParams
    frequency, recency, T : array-like, or a CustomerSummary as ``frequency``
        Single numbers are one customer: the result is then a float.

    Returns
    -------
    float or ndarray
        Values in [0, 1]; 1 where t_x = T (the customer bought at T).

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
    The share of the first term (alive at T) in the bracket of the
    likelihood (see :func:`log_likelihood`), computed in log space.

    Examples
    --------
    >>> p = GGompertzNbdParams(r=0.553, alpha=10.578, b=0.0002, s=0.603, beta=0.0026)
    >>> probability_alive(p, [1, 1, 1], [1.0, 30.0, 38.0], [38.0, 38.0, 38.0]).round(4).tolist()
    [0.1701, 0.8882, 1.0]
    >>> probability_alive(p, [-1], [0.0], [3.0])
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: frequency must be non-negative; ...
    """
    inp.check_params(params, GGompertzNbdParams)
    h = inp.histories(frequency, recency, T)
    if h.x.size == 0:
        return np.zeros(0)
    return inp.finish(np.exp(_log_alive(params.as_array(), h.x, h.tx, h.T)), h.single)


def conditional_purchase_count_probability(  # noqa: PLR0917 (the family's order)
    params: GGompertzNbdParams,
    n: ArrayLike,
    t: ArrayLike,
    frequency: ArrayLike | CustomerSummary,
    recency: ArrayLike | None = None,
    T: ArrayLike | None = None,
) -> Any:
    """Probability that each customer makes exactly n purchases in (T, T + t], given the history.

    Parameters
    ----------
    params : GGompertzNbdParams
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
        :func:`conditional_expected_purchases`; at n = 0 it is one minus
        :func:`conditional_purchase_probability`.

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
    Given the history and alive at T, λ ~ Gamma(r+x, α+T) and η ~ Gamma(s,
    β + e^(bT) - 1), independently (the purchases carry no information on η;
    Bemmaor & Glady 2012, section 2). The lifetime left after T survives u
    with probability ``exp(-η e^(bT) (e^(bu) - 1))``: a Gompertz lifetime of
    scale b with ``η' = η e^(bT) ~ Gamma(s, (β + e^(bT) - 1) e^(-bT))``. So a
    customer alive at T is a new customer with parameters

    ``r' = r + x, α' = α + T, b, s, β' = (β + e^(bT) - 1) e^(-bT) = 1 + (β - 1) e^(-bT)``,

    one who has dropped out buys nothing, and

    ``P(Y(t) = n | x, t_x, T) = P(alive) P_new(n, t; r', α', b, s, β')
    + 1{n=0} (1 - P(alive))``,

    with ``P_new`` the :func:`purchase_probability` of that new customer, its
    death integral by the model's piecewise quadrature, once per distinct
    (x, T, n, t). β' is computed as ``(β + expm1(bT)) e^(-bT)`` (no
    cancellation for small bT and β) and, for bT > 700, as
    ``1 + (β - 1) e^(-bT)``, which is then 1.

    References
    ----------
    Bemmaor, A. C., & Glady, N. (2012). Modeling purchasing behavior with
    sudden "death": a flexible customer lifetime model. Management Science,
    58(5), 1012-1021.

    Examples
    --------
    >>> p = GGompertzNbdParams(r=0.553, alpha=10.578, b=0.0002, s=0.603, beta=0.0026)
    >>> conditional_purchase_count_probability(p, [0, 1, 2], 39.0, 2, 30.43, 38.86).round(4)
    array([0.4041, 0.2203, 0.1528])
    >>> conditional_purchase_count_probability(p, -1, 39.0, 2, 30.43, 38.86)
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: n must be non-negative; ...
    """
    inp.check_params(params, GGompertzNbdParams)
    h = inp.spread_single(inp.histories(frequency, recency, T), n)
    nn = inp.counts_per_customer(n, h.x.size)
    tt = inp.horizon(t, h.x.size)
    if h.x.size == 0:
        return np.zeros(0)
    theta = params.as_array()
    log_alive = _log_alive(theta, h.x, h.tx, h.T)
    r, alpha, b, s, beta = (float(q) for q in theta)
    # P_new depends on (x, T, n, t) only: once per distinct combination
    (xk, tk, nk, hk), inverse = inp.distinct_rows(h.x, h.T, nn, tt)
    bt = b * tk
    with np.errstate(over="ignore", under="ignore"):
        near = np.minimum(bt, 700.0)
        beta_new = np.where(
            bt < 700.0, (beta + np.expm1(near)) * np.exp(-near), 1.0 + (beta - 1.0) * np.exp(-bt)
        )
    p_new = _pmf_rows((r + xk, alpha + tk, b, s, beta_new), nk, hk)[inverse]
    with np.errstate(under="ignore"):
        alive = np.exp(log_alive)
        out = alive * p_new + np.where(nn == 0, -np.expm1(log_alive), 0.0)
    return inp.finish(np.asarray(np.clip(out, 0.0, 1.0), dtype=np.float64), h.single)


@overload
def purchase_probability(params: GGompertzNbdParams, n: int, t: float) -> float: ...
@overload
def purchase_probability(params: GGompertzNbdParams, n: ArrayLike, t: ArrayLike) -> FloatArray: ...
def purchase_probability(params: GGompertzNbdParams, n: ArrayLike, t: ArrayLike) -> Any:
    """Probability P(X(t) = n) that a new customer makes n repeat purchases in (0, t].

    Parameters
    ----------
    params : GGompertzNbdParams
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
    Alive at t (probability S(t)) the count is negative binomial; dead at
    τ < t, it is the negative binomial count of (0, τ]:

    ``P(X(t)=n) = NB(n; r, α/(α+t)) S(t) + ∫_0^t NB(n; r, α/(α+τ)) f(τ) dτ``,

    ``NB(n; r, q) = Γ(r+n)/(Γ(r) n!) q^r (1-q)^n``. The integrand
    ``τ^n (α+τ)^-(r+n) f(τ)`` peaks inside (0, t) for large n; the
    quadrature marches from the largest of its values on a logarithmic grid
    towards both ends (see :func:`log_likelihood`).

    Examples
    --------
    >>> p = GGompertzNbdParams(r=0.553, alpha=10.578, b=0.0002, s=0.603, beta=0.0026)
    >>> purchase_probability(p, [0, 1, 2], 39.0).round(4).tolist()
    [0.5836, 0.1675, 0.0845]
    >>> purchase_probability(p, 1.5, 39.0)
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: n must hold whole numbers; 1 of 1 values breaks this ...
    """
    inp.check_params(params, GGompertzNbdParams)
    nn, tt, scalar = inp.counts_and_times(n, t)
    shape = nn.shape
    out = _pmf(params.as_array(), nn.reshape(-1), tt.reshape(-1)).reshape(shape)
    return float(out.reshape(-1)[0]) if scalar else out


# --------------------------------------------------------------------------- fitting

_SAMPLE_ROWS = 50_000  # the sample that gives the start, on twice as many distinct histories


def _default_initial(data: CompressedHistories) -> FloatArray:
    """Start: r = s = beta = 1, alpha = mean T / (mean x + 1), b = 1 / mean T.

    A start near the Pareto/NBD limit (small b) tends to slide along the
    ridge of large s and beta; b T of order 1 does not.
    """
    w = data.weights
    mean_t = max(float(np.average(data.T, weights=w)), 1e-6)
    mean_x = float(np.average(data.frequency, weights=w))
    return np.array([1.0, mean_t / (mean_x + 1.0), 1.0 / mean_t, 1.0, 1.0])


def _systematic_sample(data: CompressedHistories, size: int) -> CompressedHistories:
    """Every k-th distinct history (sorted by x; by (x, t_x, T) if rows merged), weights up."""
    step = max(1, len(data) // size)
    w = data.weights[::step]
    scale = data.n_customers / float(w.sum())
    return CompressedHistories(
        frequency=data.frequency[::step],
        recency=data.recency[::step],
        T=data.T[::step],
        weights=w * scale,
    )


def _fit_compressed(
    data: CompressedHistories, start: FloatArray, curvature: FloatArray | None = None
) -> MleResult:
    return maximize_likelihood(
        _Objective(data),
        start,
        curvature=curvature,
        names=_NAMES,
        model="GGompertz/NBD",
        n_customers=data.n_customers,
        limit_hint=(
            "b running to 0 means the data look like the Pareto/NBD limit (try "
            "crmcore.models.pareto_nbd); otherwise try a longer observation window"
        ),
    )


class _Objective:
    """Total log-likelihood and its gradient on compressed histories.

    The terms in T are computed once per distinct T and those in x once per
    distinct x; the gradient of the death integrals is summed through the
    breakpoint grid (:meth:`_GridIntegral.weighted_gradient`) when it is used.
    """

    def __init__(self, data: CompressedHistories) -> None:
        self.x, self.tx, self.t, self.w = data.frequency, data.recency, data.T, data.weights
        self.live = np.flatnonzero(self.tx < self.t)
        live = self.live
        grid = _Grid(self.x[live], self.tx[live], self.t[live])
        self.grid: _Grid | bool = grid if grid.pays else False
        self.t_vals, t_idx = np.unique(self.t, return_inverse=True)
        self.t_idx = t_idx.reshape(-1)
        self.x_vals, x_idx = np.unique(self.x, return_inverse=True)
        self.w_x = np.bincount(x_idx.reshape(-1), self.w, self.x_vals.size)
        self.w_sum = float(self.w.sum())

    def __call__(self, theta: FloatArray) -> tuple[float, FloatArray]:
        theta = np.asarray(theta, dtype=np.float64)
        r, alpha, b, s, beta = (float(q) for q in theta)
        x, w, live, t_idx, t_vals = self.x, self.w, self.live, self.t_idx, self.t_vals
        g_tab = num.g_log(b, beta, t_vals)
        with np.errstate(divide="ignore"):
            la_tab = np.log(alpha + t_vals)
        log_a1 = -(r + x) * la_tab[t_idx] - s * g_tab[t_idx]
        log_i = np.full(x.size, -np.inf)
        values: _GridIntegral | None = None
        g_i = None
        if live.size:
            xl, lo, hi = x[live], self.tx[live], self.t[live]
            if isinstance(self.grid, _Grid):
                values = _GridIntegral(theta, self.grid, xl, lo, hi, want_grad=True)
                log_i[live] = values.log
            else:
                log_i[live], g_i = _log_death_integral(theta, xl, lo, hi, True)
        log_d = np.log(s) + np.log(b) + log_i
        with np.errstate(invalid="ignore"):
            log_rest = np.logaddexp(log_a1, log_d)
        base = -sc.gammaln(r) + r * np.log(alpha) + s * np.log(beta)
        total = float(self.w_x @ sc.gammaln(r + self.x_vals)) + self.w_sum * base + w @ log_rest
        with np.errstate(under="ignore"):
            v_a = w * np.exp(log_a1 - log_rest)
            v_d = w * np.exp(log_d - log_rest)
        n_t = t_vals.size
        a_t = np.bincount(t_idx, v_a, n_t)
        ax_t = np.bincount(t_idx, v_a * x, n_t)
        q_t = np.exp(np.minimum(b * t_vals - g_tab, 700.0))
        grad = -np.array(
            [
                la_tab @ a_t,
                (r * a_t + ax_t) @ (1.0 / (alpha + t_vals)),
                s * ((t_vals * q_t) @ a_t),
                g_tab @ a_t,
                s * (np.exp(-g_tab) @ a_t),
            ]
        )
        if live.size:
            c = v_d[live]
            if values is not None:
                grad += values.weighted_gradient(c)
            elif g_i is not None:
                grad += np.nan_to_num(g_i) @ c
        grad += np.array([0.0, 0.0, 1.0 / b, 1.0 / s, 0.0]) * float(v_d.sum())
        sw = self.w_sum
        grad[0] += float(self.w_x @ sc.digamma(r + self.x_vals)) - sw * sc.digamma(r)
        grad[0] += sw * np.log(alpha)
        grad[1] += sw * r / alpha
        grad[3] += sw * np.log(beta)
        grad[4] += sw * s / beta
        return float(total), grad


# --------------------------------------------------------------------------- numerics


def _row_terms(
    theta: FloatArray,
    x: FloatArray,
    tx: FloatArray,
    big_t: FloatArray,
    *,
    w: FloatArray | None = None,
    grad: FloatArray | None = None,
    grid: _Grid | bool | None = None,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Per-row log L, log of the alive term and log of the bracket; adds the gradient to ``grad``.

    ``log L = log Γ(r+x) - log Γ(r) + r log α + s log β + log(A1 + s b I)`` with
    ``A1 = (α+T)^-(r+x) e^(-s G(T))``, ``G(τ) = log(β + e^(bτ) - 1)`` and
    ``I = ∫_{t_x}^T e^(bτ - (s+1) G(τ)) (α+τ)^-(r+x) dτ``; ``grid`` is passed on to
    :func:`_log_death_integral_rows` (built on the rows with t_x < T).
    """
    r, alpha, b, s, beta = (float(q) for q in theta)
    want = grad is not None
    g_t = num.g_log(b, beta, big_t)
    with np.errstate(divide="ignore"):
        la_t = np.log(alpha + big_t)
    log_a1 = -(r + x) * la_t - s * g_t
    log_i = np.full(x.size, -np.inf)
    g_i = np.zeros((5, x.size)) if want else None
    live = np.flatnonzero(tx < big_t)
    if live.size:
        li, gi = _log_death_integral_rows(theta, x[live], tx[live], big_t[live], want, grid=grid)
        log_i[live] = li
        if g_i is not None and gi is not None:
            g_i[:, live] = gi
    log_sb = np.log(s) + np.log(b)
    log_d = log_sb + log_i
    with np.errstate(invalid="ignore"):
        log_rest = np.logaddexp(log_a1, log_d)
    ll = _by_value(sc.gammaln, r, x) - sc.gammaln(r) + r * np.log(alpha) + s * np.log(beta)
    ll += log_rest
    if grad is not None and g_i is not None:
        ww = np.ones(x.size) if w is None else w
        with np.errstate(under="ignore"):
            share_a = np.exp(log_a1 - log_rest)
            share_d = np.exp(log_d - log_rest)
        q_t = np.exp(np.minimum(b * big_t - g_t, 700.0))
        d_a1 = np.stack(
            [-la_t, -(r + x) / (alpha + big_t), -s * big_t * q_t, -g_t, -s * np.exp(-g_t)]
        )
        d_d = g_i + np.array([0.0, 0.0, 1.0 / b, 1.0 / s, 0.0])[:, None]
        g = d_a1 @ (ww * share_a) + d_d @ (ww * share_d)
        sw = float(ww.sum())
        g[0] += float(ww @ _by_value(sc.digamma, r, x)) - sw * sc.digamma(r) + sw * np.log(alpha)
        g[1] += sw * r / alpha
        g[3] += sw * np.log(beta)
        g[4] += sw * s / beta
        grad += g
    return np.asarray(ll, dtype=np.float64), log_a1, log_rest


def _by_value(func: Any, r: float, x: FloatArray) -> FloatArray:
    """``func(r + x)``, evaluated once per distinct x when x is long and sorted (fit data)."""
    if x.size < 4096 or not bool(np.all(x[1:] >= x[:-1])):
        return np.asarray(func(r + x), dtype=np.float64)
    first = np.flatnonzero(np.r_[True, x[1:] != x[:-1]])
    counts = np.diff(np.r_[first, x.size])
    return np.asarray(np.repeat(func(r + x[first]), counts), dtype=np.float64)


def _log_alive(theta: FloatArray, x: FloatArray, tx: FloatArray, big_t: FloatArray) -> FloatArray:
    """Return log P(alive at T) = log A1 - log(A1 + s b I), in (-inf, 0]."""
    _, log_a1, log_rest = _row_terms(theta, x, tx, big_t)
    return np.asarray(np.minimum(log_a1 - log_rest, 0.0), dtype=np.float64)


_GRID_SHARE = 0.5  # the breakpoint grid is used when it has at most this many segments per row
_GRID_MIN_ROWS = 256  # ... and on at least this many rows
_GRID_CANCEL = (
    1.0 / 16.0
)  # rows whose difference of partial sums is below this share march directly


class _Grid:
    """The distinct (x, τ) breakpoints of rows (x, lo, hi) and the segments between them.

    It depends on the data only, so a fit builds it once for all evaluations.
    """

    def __init__(self, x: FloatArray, lo: FloatArray, hi: FloatArray) -> None:
        n = x.size
        xs = np.concatenate([x, x])
        ts = np.concatenate([lo, hi])
        order = np.lexsort((ts, xs))
        xo, to = xs[order], ts[order]
        new = np.ones(2 * n, dtype=bool)
        new[1:] = (xo[1:] != xo[:-1]) | (to[1:] != to[:-1])
        point = np.cumsum(new) - 1  # index of the distinct (x, τ) of each sorted entry
        self.px, self.pt = xo[new], to[new]
        m = self.px.size
        self.m = m
        self.seg = np.flatnonzero(self.px[:-1] == self.px[1:])  # from point k to point k + 1
        where = np.empty(2 * n, dtype=np.int64)
        where[order] = point
        self.i_lo, self.i_hi = where[:n], where[n:]
        self.bounds = np.r_[np.flatnonzero(np.r_[True, self.px[1:] != self.px[:-1]]), m]
        self.pays = n >= _GRID_MIN_ROWS and self.seg.size <= _GRID_SHARE * n
        # the distinct intervals (τ_k, τ_k+1) of the segments, shared by the frequencies
        ends = np.stack([self.pt[self.seg], self.pt[self.seg + 1]])
        pairs, iv = np.unique(ends, axis=1, return_inverse=True)
        self.iv_lo, self.iv_hi, self.iv = pairs[0], pairs[1], iv.reshape(-1)


def _log_death_integral_rows(
    theta: FloatArray,
    x: FloatArray,
    lo: FloatArray,
    hi: FloatArray,
    want_grad: bool,
    *,
    grid: _Grid | bool | None = None,
) -> tuple[FloatArray, FloatArray | None]:
    """:func:`_log_death_integral` per row (lo < hi), through the breakpoint grid when it pays.

    The integrand depends on the row only through x, so for every distinct
    frequency the integral is computed once on each segment between its
    consecutive distinct breakpoints (the rows' t_x and T), and a row's
    integral is a difference of partial sums of those segments, taken from
    the left or from the right, whichever involves the smaller partial sum.
    Rows where that difference still cancels (it is below ``_GRID_CANCEL``
    of the partial sum: their interval is short, so a direct march is cheap)
    are integrated directly. ``grid`` is a prebuilt :class:`_Grid` of these
    rows, or forces (True) or forbids (False) the grid; by default it is
    used on many rows with few distinct breakpoints (histories rounded to
    whole days), not on continuous times.
    """
    if grid is False or (grid is None and x.size < _GRID_MIN_ROWS):
        return _log_death_integral(theta, x, lo, hi, want_grad)
    plan = grid if isinstance(grid, _Grid) else _Grid(x, lo, hi)
    if grid is None and not plan.pays:
        return _log_death_integral(theta, x, lo, hi, want_grad)
    values = _GridIntegral(theta, plan, x, lo, hi, want_grad=want_grad)
    return values.log, values.per_row_gradient() if want_grad else None


class _GridIntegral:
    """The integrals of :func:`_log_death_integral_rows` on a grid, and their gradients.

    ``log`` holds the log-integral per row; :meth:`weighted_gradient` gives
    ``Σ c_i ∇ log I_i`` without forming the rows' gradients (two sums per
    breakpoint), which is what a fit needs.
    """

    def __init__(
        self,
        theta: FloatArray,
        plan: _Grid,
        x: FloatArray,
        lo: FloatArray,
        hi: FloatArray,
        *,
        want_grad: bool,
    ) -> None:
        m, seg = plan.m, plan.seg
        li_seg, gi_seg = _segment_integrals(theta, plan, want_grad=want_grad)
        n_g = 5 if want_grad else 0
        log_j = np.full(m, -np.inf)
        log_j[seg] = li_seg
        terms = np.zeros((1 + n_g, m))
        if gi_seg is not None:
            terms[1:, seg] = np.nan_to_num(gi_seg)
        # partial sums per frequency, scaled by the largest segment of that frequency:
        # sums[:, k] of the segments before point k, sums[:, m + k] of those from k on
        sums = np.empty((1 + n_g, 2 * m))
        scale = np.empty(m)
        for a, z in itertools.pairwise(plan.bounds):
            top = log_j[a:z].max()
            top = top if np.isfinite(top) else 0.0
            # segments below e^-600 of the largest count as 0 (no subnormals, whose precision
            # is lost): rows made only of them have no difference and are marched directly
            rel = log_j[a:z] - top
            e = np.exp(np.where(rel > -600.0, rel, -np.inf))
            t = terms[:, a:z]
            t[1:] *= e
            t[0] = e
            sums[:, a] = 0.0
            np.cumsum(t[:, :-1], axis=1, out=sums[:, a + 1 : z])
            sums[:, m + a : m + z] = np.cumsum(t[:, ::-1], axis=1)[:, ::-1]
            scale[a:z] = top
        i_lo, i_hi = plan.i_lo, plan.i_hi
        s0 = sums[0]
        use_pre = s0[i_hi] <= s0[m + i_lo]
        big = np.where(use_pre, i_hi, m + i_lo)
        small = np.where(use_pre, i_lo, m + i_hi)
        top_sum = s0[big]
        diff = top_sum - s0[small]
        ok = diff > _GRID_CANCEL * top_sum
        with np.errstate(divide="ignore", invalid="ignore"):
            out = np.log(diff) + scale[i_lo]  # the rows not ok are replaced below
        bad = np.flatnonzero(~ok)
        gb = None
        if bad.size:
            lb, gb = _short_integrals(theta, x[bad], lo[bad], hi[bad], want_grad=want_grad)
            out[bad] = lb
        self.log = out
        self._m, self._sums, self._big, self._small, self._diff = m, sums, big, small, diff
        self._bad, self._bad_grad = bad, gb

    def weighted_gradient(self, c: FloatArray) -> FloatArray:
        """Return ``Σ_i c_i ∇ log I_i`` (5 values)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            per = c / self._diff
        bad = self._bad
        if bad.size:
            per[bad] = 0.0
        n2 = 2 * self._m
        coef = np.bincount(self._big, per, n2) - np.bincount(self._small, per, n2)
        out = self._sums[1:] @ coef
        if bad.size and self._bad_grad is not None:
            out += np.nan_to_num(self._bad_grad) @ c[bad]
        return np.asarray(out, dtype=np.float64)

    def per_row_gradient(self) -> FloatArray:
        """Return ``∇ log I_i`` per row (5 x rows)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            grad = (self._sums[1:, self._big] - self._sums[1:, self._small]) / self._diff
        if self._bad.size and self._bad_grad is not None:
            grad[:, self._bad] = self._bad_grad
        return np.asarray(grad, dtype=np.float64)


def _segment_integrals(
    theta: FloatArray, plan: _Grid, *, want_grad: bool
) -> tuple[FloatArray, FloatArray | None]:
    """:func:`_short_integrals` on the segments of a grid (their intervals found once)."""
    seg = plan.seg
    x, lo, hi = plan.px[seg], plan.pt[seg], plan.pt[seg + 1]
    return _short_integrals(
        theta, x, lo, hi, want_grad=want_grad, intervals=(plan.iv_lo, plan.iv_hi, plan.iv)
    )


def _short_integrals(
    theta: FloatArray,
    x: FloatArray,
    lo: FloatArray,
    hi: FloatArray,
    *,
    want_grad: bool,
    intervals: tuple[FloatArray, FloatArray, IntArray] | None = None,
) -> tuple[FloatArray, FloatArray | None]:
    """:func:`_log_death_integral` on rows whose intervals repeat across frequencies.

    A row no longer than the first piece :func:`_log_death_integral` would take
    from its start is that one piece: its 16 nodes, and the factors that do not
    depend on the frequency there, are computed once per distinct interval
    (``intervals``: the distinct (lo, hi) pairs and each row's index into them,
    found here when not given) and shared by the frequencies; the other rows
    are marched.
    """
    r, alpha, b, s, beta = (float(q) for q in theta)
    p = r + x
    if intervals is None:
        pairs, inverse = np.unique(np.stack([lo, hi]), axis=1, return_inverse=True)
        intervals = (pairs[0], pairs[1], inverse.reshape(-1))
    iv_lo, iv_hi, iv = intervals
    with np.errstate(divide="ignore", over="ignore", under="ignore", invalid="ignore"):
        gomp = num.gompertz_scale(b, beta, s + 1.0, iv_lo, numerator=1.0)
        longest = np.minimum(num.power_scale(alpha, p, lo), gomp[iv])
    one = np.flatnonzero((hi - lo <= longest) & (hi > lo))
    out = np.full(x.size, -np.inf)
    grad = np.zeros((5, x.size)) if want_grad else None
    if one.size:
        length = iv_hi - iv_lo
        u = iv_lo[:, None] + length[:, None] * num.SHARE[None, :]
        with np.errstate(divide="ignore", over="ignore", under="ignore", invalid="ignore"):
            la = np.log(alpha + u)
            g = num.g_log(b, beta, u)
            base = b * u - (s + 1.0) * g
            k = iv[one]
            phi = base[k] - p[one, None] * la[k]
            top = phi.max(axis=1)
            top = np.where(np.isfinite(top), top, 0.0)
            wts = np.exp(phi - top[:, None]) * num.HALF_W
            total = wts.sum(axis=1)
            out[one] = top + np.log(total * length[k])
            if grad is not None:
                q = np.exp(np.minimum(b * u - g, 700.0))
                feats = np.stack(
                    [la, 1.0 / (alpha + u), u * (1.0 - (s + 1.0) * q), g, np.exp(-g)], axis=1
                )
                sums = np.einsum("nj,nfj->fn", wts, feats[k]) / total
                sums *= np.array([-1.0, 1.0, 1.0, -1.0, -(s + 1.0)])[:, None]
                sums[1] *= -p[one]
                grad[:, one] = np.nan_to_num(sums)
    rest = np.flatnonzero((hi - lo > longest) | ~(hi > lo))
    if rest.size:
        lr, gr = _log_death_integral(theta, x[rest], lo[rest], hi[rest], want_grad)
        out[rest] = lr
        if grad is not None and gr is not None:
            grad[:, rest] = gr
    return out, grad


def _log_death_integral(
    theta: FloatArray, x: FloatArray, lo: FloatArray, hi: FloatArray, want_grad: bool
) -> tuple[FloatArray, FloatArray | None]:
    """Return log ∫_lo^hi e^(bτ - (s+1) G(τ)) (α+τ)^-(r+x) dτ and its gradient."""
    r, alpha, b, s, beta = (float(q) for q in theta)
    p = r + x

    def log_f(rows: IntArray, u: FloatArray, want: bool) -> tuple[FloatArray, Any]:
        pr = p[rows][:, None]
        la = np.log(alpha + u)
        g = num.g_log(b, beta, u)
        phi = b * u - (s + 1.0) * g - pr * la
        if not want:
            return phi, None
        return phi, (u[:, :-1], pr, la[:, :-1], g[:, :-1])

    def weighted(aux: Any, w: FloatArray) -> FloatArray:
        u, pr, la, g = aux
        eg = np.exp(-g)  # 1 / (β + e^(bu) - 1)
        q = np.exp(np.minimum(b * u - g, 700.0))
        return np.stack(
            [
                -(la * w).sum(axis=1),
                -pr[:, 0] * (w / (alpha + u)).sum(axis=1),
                (u * (1.0 - (s + 1.0) * q) * w).sum(axis=1),
                -(g * w).sum(axis=1),
                -(s + 1.0) * (eg * w).sum(axis=1),
            ]
        )

    def scale(rows: IntArray, u: FloatArray) -> FloatArray:
        return np.minimum(
            num.power_scale(alpha, p[rows], u),
            num.gompertz_scale(b, beta, s + 1.0, u, numerator=1.0),
        )

    def log_tail(rows: IntArray, u: FloatArray, phi: FloatArray) -> FloatArray:
        q = np.exp(np.minimum(b * u - num.g_log(b, beta, u), 700.0))
        falling = (s + 1.0) * q > 1.0  # the death density decreases from u on
        kd = b * ((s + 1.0) * np.minimum(q, 1.0) - 1.0)
        pr = p[rows]
        t_d = np.where(falling & (kd > 0), -np.log(np.where(kd > 0, kd, 1.0)), np.inf)
        # the power alone bounds the rest once the death density is replaced by its
        # largest value beyond u (at its peak, log((β-1)/s)/b, when β - 1 > s)
        peak = np.maximum(u, np.log(max(beta - 1.0, s) / s) / b)
        rise = (b * peak - (s + 1.0) * num.g_log(b, beta, peak)) - (
            b * u - (s + 1.0) * num.g_log(b, beta, u)
        )
        t_p = np.where(
            pr > 1.0, np.log(alpha + u) - np.log(np.where(pr > 1, pr - 1.0, 1.0)), np.inf
        )
        return np.asarray(phi + np.minimum(t_d, t_p + np.maximum(rise, 0.0)), dtype=np.float64)

    with np.errstate(divide="ignore", over="ignore", under="ignore"):
        return num.march(
            lo,
            hi,
            1.0,
            log_f=log_f,
            scale=scale,
            log_tail=log_tail,
            n_grad=5 if want_grad else 0,
            weighted=weighted,
        )


def _log_survival_integral(
    theta: FloatArray,
    t: FloatArray,
    *,
    start: FloatArray,
    shift: FloatArray,
    power: FloatArray,
    delta: float,
) -> FloatArray:
    """Return log ∫_0^t e^(-δu) (1 + u/A)^-p S(T+u)/S(T) du (T = start, A = shift, p = power).

    ``shift`` is only used where ``power`` > 0; ``t`` may be infinite when δ > 0.
    """
    b, s, beta = (float(q) for q in theta[2:])
    g0 = num.g_log(b, beta, start)

    def log_f(rows: IntArray, u: FloatArray, want: bool) -> tuple[FloatArray, Any]:
        t0 = start[rows][:, None]
        phi = -s * (num.g_log(b, beta, t0 + u) - g0[rows][:, None])
        pw = power[rows]
        if pw.any():
            phi = phi - pw[:, None] * np.log1p(u / shift[rows][:, None])
        if delta > 0:
            phi = phi - delta * u
        return phi, None

    def scale(rows: IntArray, u: FloatArray) -> FloatArray:
        out = num.gompertz_scale(b, beta, s, start[rows] + u)
        pw = power[rows]
        if pw.any():
            out = np.minimum(out, np.where(pw > 0, num.power_scale(shift[rows], pw, u), np.inf))
        if delta > 0:
            out = np.minimum(out, num.RATE / delta)
        return out

    def log_tail(rows: IntArray, u: FloatArray, phi: FloatArray) -> FloatArray:
        tu = start[rows] + u
        q = np.exp(np.minimum(b * tu - num.g_log(b, beta, tu), 700.0))
        rate = s * b * np.minimum(q, 1.0) + delta
        pw = power[rows]
        t_p = np.where(
            pw > 1.0, np.log(shift[rows] + u) - np.log(np.where(pw > 1, pw - 1.0, 1.0)), np.inf
        )
        return phi + np.minimum(-np.log(rate), t_p)

    zero = np.zeros(t.size)
    with np.errstate(divide="ignore", over="ignore", under="ignore", invalid="ignore"):
        out, _ = num.march(zero, t, 1.0, log_f=log_f, scale=scale, log_tail=log_tail)
    return out


def _conditional(
    theta: FloatArray,
    t: FloatArray,
    x: FloatArray,
    tx: FloatArray,
    big_t: FloatArray,
    *,
    kind: str,
    delta: float,
) -> FloatArray:
    """P(alive) (r+x)/(α+T) ∫_0^t e^(-δu) [(1+u/(α+T))^-(r+x+1)] S(T+u)/S(T) du per customer."""
    if x.size == 0:
        return np.zeros(0)
    r, alpha = float(theta[0]), float(theta[1])
    log_alive = _log_alive(theta, x, tx, big_t)
    a_t = alpha + big_t
    power = r + x + 1.0 if kind == "buy" else np.zeros(x.size)
    tt = np.asarray(t, dtype=np.float64)
    log_k = _log_survival_integral(theta, tt, start=big_t, shift=a_t, power=power, delta=delta)
    with np.errstate(under="ignore", divide="ignore"):
        out = np.exp(log_alive + np.log(r + x) - np.log(a_t) + log_k)
    if kind == "buy":
        out = np.minimum(out, np.exp(log_alive))
    return np.asarray(out, dtype=np.float64)


def _conditional_at(
    theta: FloatArray, t: FloatArray, x: FloatArray, tx: FloatArray, big_t: FloatArray
) -> FloatArray:
    """:func:`_conditional` (expected purchases) at every horizon of ``t`` (customers x t)."""
    out = np.zeros((x.size, t.size))
    if x.size == 0:
        return out
    r, alpha = float(theta[0]), float(theta[1])
    a_t = alpha + big_t
    with np.errstate(divide="ignore"):
        log_front = _log_alive(theta, x, tx, big_t) + np.log(r + x) - np.log(a_t)
    zero = np.zeros(x.size)
    for k, horizon in enumerate(t.tolist()):  # a loop over horizons, not customers
        log_k = _log_survival_integral(
            theta, np.full(x.size, horizon), start=big_t, shift=a_t, power=zero, delta=0.0
        )
        with np.errstate(under="ignore", divide="ignore"):
            out[:, k] = np.exp(log_front + log_k)
    return out


def _pmf(theta: FloatArray, n: FloatArray, t: FloatArray) -> FloatArray:
    """P(X(t) = n) for a new customer, elementwise over (n, t)."""
    r, alpha, b, s, beta = (float(q) for q in theta)
    full = np.ones(n.shape)
    return _pmf_rows((r * full, alpha * full, b, s, beta * full), n, t)


def _pmf_rows(
    params: tuple[FloatArray, FloatArray, float, float, FloatArray], n: FloatArray, t: FloatArray
) -> FloatArray:
    """P(X(t) = n) for a new customer, elementwise over (n, t) and per-row (r, α, β).

    ``params`` is (r, α, b, s, β) with r, α and β one value per element of ``n``.
    """
    r, alpha, b, s, beta = params
    out = np.zeros(n.shape)
    if n.size == 0:
        return out
    with np.errstate(all="ignore"):
        log_coef = sc.gammaln(r + n) - sc.gammaln(r) - sc.gammaln(n + 1.0)
        g_t = num.g_log(b, beta, t)
        log_alive = (
            log_coef
            + r * (np.log(alpha) - np.log(alpha + t))
            + np.where(n > 0, n * (np.log(t) - np.log(alpha + t)), 0.0)
            + s * (np.log(beta) - g_t)
        )
        out += np.where(t > 0, np.exp(log_alive), np.where(n == 0, 1.0, 0.0))
    pos = np.flatnonzero(t > 0)
    if pos.size:
        log_j = _log_pmf_integral((r[pos], alpha[pos], b, s, beta[pos]), n[pos], t[pos])
        with np.errstate(under="ignore", over="ignore"):
            dead = np.exp(
                log_coef[pos]
                + r[pos] * np.log(alpha[pos])
                + np.log(s * b)
                + s * np.log(beta[pos])
                + log_j
            )
        out[pos] += dead
    return np.asarray(np.clip(out, 0.0, 1.0), dtype=np.float64)


_PMF_GRID = np.append(10.0 ** np.linspace(-15.0, 0.0, 61)[:-1], 1.0)
_SCALE_GRID = 10.0 ** np.linspace(-10.0, 10.0, 81)


def _log_pmf_integral(
    params: tuple[FloatArray, FloatArray, float, float, FloatArray], n: FloatArray, t: FloatArray
) -> FloatArray:
    """Return log ∫_0^t τ^n (α+τ)^-(r+n) e^(bτ - (s+1) G(τ)) dτ, per row.

    ``params`` is (r, α, b, s, β) with r, α and β one value per row. The march
    starts at the largest value of the integrand on a logarithmic grid of
    (0, t] and runs to both ends.
    """
    r_all, alpha_all, b, s, beta_all = params

    def log_f(rows: IntArray, u: FloatArray, want: bool) -> tuple[FloatArray, Any]:
        nn = n[rows][:, None]
        r, alpha, beta = r_all[rows][:, None], alpha_all[rows][:, None], beta_all[rows][:, None]
        phi = (
            np.where(nn > 0, nn * np.log(u), 0.0)
            - (r + nn) * np.log(alpha + u)
            + b * u
            - (s + 1.0) * num.g_log(b, beta, u)
        )
        return phi, None

    def slope(rows: IntArray, u: FloatArray) -> FloatArray:
        nn = n[rows]
        return nn - (r_all[rows] + nn) * u / (alpha_all[rows] + u)  # d log NB / d log τ

    def scale(rows: IntArray, u: FloatArray) -> FloatArray:
        # τ^n (α+τ)^-(r+n): REACH times the distance to 0, RATE e-folds of the
        # product (its log-derivative is k/τ, k below) and a change of RATE in
        # that log-derivative over the piece
        nn = n[rows]
        r, alpha = r_all[rows], alpha_all[rows]
        k = np.abs(slope(rows, u))
        curve = np.abs((r + nn) / (alpha + u) ** 2 - np.where(nn > 0, nn / (u * u), 0.0))
        out = np.minimum(num.REACH * (alpha + u), num.RATE * u / k)
        out = np.where(nn > 0, np.minimum(out, num.REACH * u), out)
        out = np.minimum(out, np.sqrt(num.RATE / curve))
        return np.minimum(out, num.gompertz_scale(b, beta_all[rows], s + 1.0, u, numerator=1.0))

    def tail_right(rows: IntArray, u: FloatArray, phi: FloatArray) -> FloatArray:
        k = slope(rows, u)
        q = np.exp(np.minimum(b * u - num.g_log(b, beta_all[rows], u), 700.0))
        kd = b * ((s + 1.0) * np.minimum(q, 1.0) - 1.0)
        ok = (k <= 0) & ((s + 1.0) * q > 1.0)
        t_k = np.where(k < -1.0, np.log(u) - np.log(np.where(k < -1, -k - 1.0, 1.0)), np.inf)
        t_d = np.where(kd > 0, -np.log(np.where(kd > 0, kd, 1.0)), np.inf)
        bound = np.where(ok, phi + np.minimum(t_k, t_d), np.inf)
        # past the peak the integrand keeps falling: the rest is below its value times t - u
        falling = k / u + b - (s + 1.0) * b * q < 0
        return np.minimum(bound, np.where(falling, phi + np.log(t[rows] - u), np.inf))

    def scale_left(rows: IntArray, u: FloatArray) -> FloatArray:
        return scale(rows, u) / 3.0  # pieces run towards the singularities

    def tail_left(rows: IntArray, u: FloatArray, phi: FloatArray) -> FloatArray:
        # past the peak the integrand falls towards 0: the rest is below u times its value
        q = np.exp(np.minimum(b * u - num.g_log(b, beta_all[rows], u), 700.0))
        rising = slope(rows, u) / u + b - (s + 1.0) * b * q > 0
        return np.where(rising, phi + np.log(u), np.inf)

    with np.errstate(divide="ignore", over="ignore", under="ignore", invalid="ignore"):
        # start at the largest of the integrand's values on logarithmic grids of
        # (0, t] and around the scales α and 1/b (by chunks of rows, in cache)
        start = np.empty(n.size)
        for c0 in range(0, n.size, num.CHUNK):
            rows = np.arange(c0, min(c0 + num.CHUNK, n.size))
            tc = t[rows][:, None]
            grid = np.concatenate(
                [
                    tc * _PMF_GRID[None, :],
                    np.minimum(alpha_all[rows][:, None] * _SCALE_GRID[None, :], tc),
                    np.minimum(_SCALE_GRID / b, tc),
                ],
                axis=1,
            )
            phi, _ = log_f(rows, grid, False)
            start[rows] = grid[np.arange(rows.size), np.argmax(phi, axis=1)]
        right, _ = num.march(start, t, 1.0, log_f=log_f, scale=scale, log_tail=tail_right)
        left, _ = num.march(
            start, np.zeros(n.size), -1.0, log_f=log_f, scale=scale_left, log_tail=tail_left
        )
        return np.asarray(np.logaddexp(left, right), dtype=np.float64)
