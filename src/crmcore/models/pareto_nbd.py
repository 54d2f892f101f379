"""The Pareto/NBD model of repeat buying (Schmittlein, Morrison & Colombo 1987).

While alive, a customer buys at the points of a Poisson process with rate
lambda; her lifetime after the first purchase is exponential with rate mu.
Across customers lambda ~ Gamma(shape r, rate alpha) and mu ~ Gamma(shape s,
rate beta), independently. The data per customer are ``frequency`` (x, repeat
purchases), ``recency`` (t_x, time of the last repeat purchase) and ``T``
(end of observation), all measured from the first purchase; alpha and beta are
in the time unit of T.

The likelihood involves Gauss hypergeometric functions whose arguments approach
1 when alpha and beta differ a lot. Here they are never evaluated naively:
the likelihood is written as ``A1 + s * I`` with the integral
``I = ∫_{t_x}^{T} (α+τ)^-(r+x) (β+τ)^-(s+1) dτ`` and ``I`` is computed in log
space from ``H(z) = 2F1(1, a; a+b; z)``, Euler's transform of the paper's
functions: by its power series (positive terms) near z = 0, by Taylor
expansions about points of (0, 1) that follow from the first-order
differential equation H satisfies, by a continued fraction, and, where none
of these is fast and accurate, by a double-exponential quadrature of the
integral itself. See :func:`log_likelihood`.

Examples
--------
>>> from crmcore.models import pareto_nbd
>>> params = pareto_nbd.ParetoNbdParams(r=0.55, alpha=10.58, s=0.61, beta=11.67)
>>> round(pareto_nbd.expected_purchases(params, 39.0), 3)
1.202
>>> pareto_nbd.probability_alive(params, [2, 0], [30.43, 0.0], [38.86, 38.86]).round(3).tolist()
[0.868, 0.294]
"""

from __future__ import annotations

from typing import Any, NamedTuple, overload

import attrs
import numpy as np
from scipy import special as sc

from crmcore._typing import ArrayLike, FloatArray, IntArray, SeedLike
from crmcore.errors import ConvergenceError, InputError
from crmcore.models import _covariates, _draws, _hyp2f1, _predict, _units
from crmcore.models import _inputs as inp
from crmcore.models._covariates import Covariates, ParetoNbdCovariateFit
from crmcore.models._draws import ParameterDraws
from crmcore.models._dynamic_covariates import (
    ParetoNbdTimeVaryingFit,
    TimeVaryingCovariates,
    fit_time_varying,
)
from crmcore.models._inputs import positive_param
from crmcore.models._mle import MleResult, fit_fields, log_curvature, maximize_likelihood
from crmcore.models._predict import CustomerPrediction
from crmcore.summary import CompressedHistories, CustomerSummary

__all__ = [
    "ParetoNbdCovariateFit",
    "ParetoNbdFit",
    "ParetoNbdParams",
    "ParetoNbdTimeVaryingFit",
    "TimeVaryingCovariates",
    "conditional_expected_purchases",
    "conditional_probability_alive",
    "conditional_purchase_count_probability",
    "conditional_purchase_probability",
    "discounted_expected_residual_purchases",
    "expected_purchases",
    "fit",
    "fit_time_varying",
    "log_likelihood",
    "log_likelihood_per_customer",
    "probability_alive",
    "purchase_probability",
]

_NAMES = ("r", "alpha", "s", "beta")


@attrs.frozen(kw_only=True)
class ParetoNbdParams:
    """Parameters of the Pareto/NBD model.

    Attributes
    ----------
    r, alpha : float
        Shape and rate of the gamma distribution of purchase rates.
    s, beta : float
        Shape and rate of the gamma distribution of dropout rates.
        alpha and beta are in the time unit of the data: changing weeks to
        days multiplies both by 7 and leaves r and s unchanged.

    Raises
    ------
    InputError
        When a parameter is not positive and finite.

    Examples
    --------
    >>> ParetoNbdParams(r=0.55, alpha=10.58, s=0.61, beta=11.67).s
    0.61
    >>> ParetoNbdParams(r=0.55, alpha=10.58, s=0.0, beta=11.67)
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: s must be > 0.0, got 0.0
    """

    r: float = positive_param()
    alpha: float = positive_param()
    s: float = positive_param()
    beta: float = positive_param()

    def as_array(self) -> FloatArray:
        """Return ``[r, alpha, s, beta]``."""
        return np.array([self.r, self.alpha, self.s, self.beta])


@attrs.frozen(kw_only=True, eq=False)
class ParetoNbdFit:
    """A fitted Pareto/NBD model, built by :func:`fit`.

    Attributes
    ----------
    params : ParetoNbdParams
        Maximum-likelihood estimates.
    standard_errors : ParetoNbdParams
        Asymptotic standard errors (inverse observed information).
    covariance : ndarray, shape (4, 4)
        Asymptotic covariance of (r, alpha, s, beta).
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

    params: ParetoNbdParams
    standard_errors: ParetoNbdParams
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
            Column k holds the expected purchases in (T, T + t[k]]; P(alive)
            is computed once for all horizons.
        """
        tt, _ = inp.times(t, "t")
        if tt.ndim != 1:
            raise InputError(f"t must be 1-dimensional, got shape {tt.shape}")
        frequency, factor = _units.in_fit_unit(self.time_unit, frequency)
        tt = tt * factor
        h = inp.histories(frequency, recency, T)
        out = _conditional_expectation(self.params.as_array(), tt[None, :], h.x, h.tx, h.T)
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
        (500, ('r', 'alpha', 's', 'beta'))
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
    initial: ParetoNbdParams | None = None,
    time_unit: str | None = None,
    purchase_covariates: None = None,
    dropout_covariates: None = None,
) -> ParetoNbdFit: ...
@overload
def fit(
    frequency: ArrayLike | CustomerSummary,
    recency: ArrayLike | None = None,
    T: ArrayLike | None = None,
    *,
    weights: ArrayLike | None = None,
    initial: ParetoNbdParams | None = None,
    time_unit: str | None = None,
    purchase_covariates: Covariates,
    dropout_covariates: Covariates | None = None,
) -> ParetoNbdCovariateFit: ...
@overload
def fit(
    frequency: ArrayLike | CustomerSummary,
    recency: ArrayLike | None = None,
    T: ArrayLike | None = None,
    *,
    weights: ArrayLike | None = None,
    initial: ParetoNbdParams | None = None,
    time_unit: str | None = None,
    purchase_covariates: None = None,
    dropout_covariates: Covariates,
) -> ParetoNbdCovariateFit: ...
def fit(
    frequency: ArrayLike | CustomerSummary,
    recency: ArrayLike | None = None,
    T: ArrayLike | None = None,
    *,
    weights: ArrayLike | None = None,
    initial: ParetoNbdParams | None = None,
    time_unit: str | None = None,
    purchase_covariates: Covariates | None = None,
    dropout_covariates: Covariates | None = None,
) -> ParetoNbdFit | ParetoNbdCovariateFit:
    """Fit the Pareto/NBD model by maximum likelihood.

    Parameters
    ----------
    frequency : array-like or CustomerSummary
        Repeat purchases x per customer, or a summary (then ``recency`` and
        ``T`` are left out and the customers with ``has_purchase`` are used).
    recency, T : array-like
        t_x and T per customer, in one time unit (see :func:`crmcore.summarize`).
    weights : array-like, optional
        Non-negative number of customers each row stands for (default 1).
    initial : ParetoNbdParams, optional
        Starting point. By default the search starts from a fit to a
        systematic sample of the distinct histories when there are many of
        them, and from r = s = 1, alpha = beta = mean T / (mean x + 1)
        otherwise.

    time_unit : {"h", "D", "W", "M", "Y"}, optional
        Time unit of ``recency`` and ``T`` when they are arrays (default:
        unknown, recorded as None, and predictions on summaries are not
        converted); with a summary its ``time_unit`` is used (an argument that
        differs from it is an InputError). Recorded as ``fit.time_unit``.
    purchase_covariates, dropout_covariates : array-like or mapping, optional
        Time-invariant covariates: a (customers, k) array (names ``z0``,
        ``z1``, ...) or a mapping name -> column, one row per customer (per
        summary row with a summary). With either, the fit is a
        :class:`ParetoNbdCovariateFit` (see the explanation page on covariates
        for the parameterisation, that of CLVTools).

    Returns
    -------
    ParetoNbdFit or ParetoNbdCovariateFit
        The latter when covariates are given.

    Raises
    ------
    InputError
        On invalid histories (see :func:`crmcore.compress`), negative weights
        or no customer.
    InputTypeError
        When ``frequency`` is a CustomerSummary and ``recency`` or ``T`` is
        given too, when arrays are given without ``recency`` and ``T``,
        on non-numeric input, or when ``initial`` is not a ParetoNbdParams.
    ConvergenceError
        When the optimiser fails or a parameter is not identified by the
        data (e.g. nobody seems to drop out); the message says what to try.

    Warns
    -----
    ConvergenceWarning
        When the data barely identify a parameter (a standard error above 10
        times its estimate, or nearly collinear parameters); the fit is then
        returned with ``converged=False``.

    See Also
    --------
    crmcore.models.bgnbd.fit : the BG/NBD model, a faster alternative.

    Notes
    -----
    Identical histories are merged into weighted rows
    (:func:`crmcore.compress`); the hypergeometric terms depend on a customer
    only through (x, t_x) and (x, T), so they are computed once per distinct
    pair, with the coefficients of their power series shared by all pairs of
    the same x. The search runs on log-parameters with the analytic gradient.
    When there are more than 20,000 distinct histories and no ``initial`` is
    given, a fit to a systematic sample of about 20,000 of them (sorted by
    x, t_x and T, weights scaled up) provides the starting point, so that the
    full data are only touched near the optimum. The result does not depend
    on the starting point beyond the optimiser's tolerance.

    References
    ----------
    Schmittlein, D. C., Morrison, D. G., & Colombo, R. (1987). Counting your
    customers: Who are they and what will they do next? Management Science,
    33(1), 1-24.

    Fader, P. S., & Hardie, B. G. S. (2005). A note on deriving the Pareto/NBD
    model and related expressions. http://brucehardie.com/notes/009/

    Examples
    --------
    Eight distinct histories standing for 900 customers:

    >>> f = fit([0, 1, 1, 2, 2, 3, 5, 7], [0, 2, 30, 10, 35, 20, 36, 38], [39] * 8,
    ...         weights=[600, 80, 60, 40, 50, 30, 25, 15])
    >>> round(f.params.r, 3), round(f.params.s, 3), round(f.log_likelihood, 2)
    (1.835, 0.313, -2945.7)
    >>> fit([1], [5.0], [4.0])
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: recency must not exceed T; 1 of 1 customers breaks this ...
    """
    if purchase_covariates is not None or dropout_covariates is not None:
        return _covariates.fit_pareto(
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
        inp.check_params(initial, ParetoNbdParams, "initial")
        start = initial.as_array()
    elif len(data) > _SAMPLE_ROWS:
        sample = _systematic_sample(data, _SAMPLE_ROWS)
        try:
            first = _fit_compressed(sample, _default_initial(sample))
        except ConvergenceError:  # the sample may be too thin; the full data decide
            start = _default_initial(data)
        else:
            start = first.estimates
            try:  # Newton steps with the sample's Hessian from its estimates
                res = _fit_compressed(data, start, log_curvature(first, data.n_customers))
            except ConvergenceError:
                pass
            else:
                return ParetoNbdFit(
                    **fit_fields(res, ParetoNbdParams),
                    n_customers=data.n_customers,
                    time_unit=unit,
                )
    else:
        start = _default_initial(data)
    res = _fit_compressed(data, start)
    return ParetoNbdFit(
        **fit_fields(res, ParetoNbdParams),
        n_customers=data.n_customers,
        time_unit=unit,
    )


def log_likelihood(
    params: ParetoNbdParams,
    frequency: ArrayLike | CustomerSummary,
    recency: ArrayLike | None = None,
    T: ArrayLike | None = None,
    *,
    weights: ArrayLike | None = None,
) -> float:
    """Total Pareto/NBD log-likelihood of the customers' histories.

    Parameters
    ----------
    params : ParetoNbdParams
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
    Fader & Hardie (2005), equation (22) there:

    ``L = Γ(r+x) α^r β^s / Γ(r) * [ (α+T)^-(r+x) (β+T)^-s + s/(r+s+x) A0 ]``,

    where, for α >= β,
    ``A0 = 2F1(r+s+x, s+1; r+s+x+1; (α-β)/(α+t_x)) / (α+t_x)^(r+s+x)
    - 2F1(r+s+x, s+1; r+s+x+1; (α-β)/(α+T)) / (α+T)^(r+s+x)``,
    and for α < β the same with ``s+1`` replaced by ``r+x`` and α by β in
    the arguments and powers. ``s/(r+s+x) A0`` equals
    ``s ∫_{t_x}^{T} (α+τ)^-(r+x) (β+τ)^-(s+1) dτ``: the customer dies at some
    τ in (t_x, T] after the last purchase. With ``c = r+s+x``, ``a`` and
    ``b`` the powers of the larger and smaller of ``α+τ``, ``β+τ`` (b is
    ``s+1`` when α >= β, else ``r+x``) and ``z = |α-β| / (max(α,β)+τ)``,
    Euler's transformation gives
    ``2F1(c, b; c+1; z) = (1-z)^(1-b) H(z)``, ``H(z) = 2F1(1, a; a+b; z)``,
    whose series ``Σ_k (a)_k/(a+b)_k z^k`` has positive terms with ratio below
    z. H solves ``z(1-z) H' + (c - a z) H = c``, so its Taylor coefficients
    about any z0 follow from H(z0) by a three-term recursion. H is summed by
    its series for z <= 0.1, by Taylor expansions about the centres of bands
    of z up to 0.75 (each ``|z - z0| <= min(z0, 1-z0)/4``), and near z = 1 by a
    chain of expansions about z0 = 1 - 6^-1 3^-j while that recursion is
    stable (c <= 60, b < 10); otherwise by the continued fraction of the
    incomplete beta function (b >= 10 or 1 - z >= 0.01), and where that too
    would be slow, the integral is evaluated by a tanh-sinh quadrature over
    log(min(α,β)+τ). The coefficients depend on the customer only through x,
    so they are shared by all customers with the same frequency. All of it is
    finite for frequencies in the thousands and parameters from 1e-4 to 1e4,
    with a relative error near 1e-15 in typical cases (checked against mpmath).

    References
    ----------
    Fader, P. S., & Hardie, B. G. S. (2005). A note on deriving the Pareto/NBD
    model and related expressions. http://brucehardie.com/notes/009/

    Examples
    --------
    >>> p = ParetoNbdParams(r=0.55, alpha=10.58, s=0.61, beta=11.67)
    >>> round(log_likelihood(p, [0, 2], [0.0, 30.43], [38.86, 38.86]), 6)
    -10.079006
    >>> log_likelihood(p, [0], [1.0], [40.0])
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: recency must be 0 where frequency is 0 (no repeat purchase); ...
    """
    inp.check_params(params, ParetoNbdParams)
    data = inp.prepare_fit_data(frequency, recency, T, weights)
    value, _ = _Objective(data)(params.as_array())
    return float(value)


def log_likelihood_per_customer(
    params: ParetoNbdParams,
    frequency: ArrayLike | CustomerSummary,
    recency: ArrayLike | None = None,
    T: ArrayLike | None = None,
) -> Any:
    """Pareto/NBD log-likelihood of each customer's history.

    Parameters
    ----------
    params : ParetoNbdParams
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
    >>> p = ParetoNbdParams(r=0.55, alpha=10.58, s=0.61, beta=11.67)
    >>> log_likelihood_per_customer(p, [0, 2], [0.0, 30.43], [38.86, 38.86]).round(6).tolist()
    [-0.517025, -9.561981]
    >>> log_likelihood_per_customer(p, [1], [2.0], [1.0])
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: recency must not exceed T; ...
    """
    inp.check_params(params, ParetoNbdParams)
    h = inp.histories(frequency, recency, T)
    if h.x.size == 0:
        return np.zeros(0)
    rows = _Rows(h.x, h.tx, h.T, merge=False)
    terms = _row_terms(params.as_array(), rows, None)
    return inp.finish(terms.log_likelihood, h.single)


@overload
def expected_purchases(params: ParetoNbdParams, t: float) -> float: ...
@overload
def expected_purchases(params: ParetoNbdParams, t: ArrayLike) -> FloatArray: ...
def expected_purchases(params: ParetoNbdParams, t: ArrayLike) -> Any:
    """Return the expected repeat purchases E[X(t)] of a new customer in (0, t].

    Parameters
    ----------
    params : ParetoNbdParams
    t : float or array-like
        Time since the first purchase (>= 0), in the unit of alpha and beta.

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
    Schmittlein, Morrison & Colombo (1987):
    ``E[X(t)] = r β / (α (s-1)) [1 - (β/(β+t))^(s-1)]``, evaluated as
    ``(r/α) β u exprel(-(s-1) u)`` with ``u = log(1 + t/β)`` and
    ``exprel(y) = (e^y - 1)/y``, which is exact at s = 1 (``(r β/α) u``) and
    keeps full precision near it.

    Examples
    --------
    >>> p = ParetoNbdParams(r=0.55, alpha=10.58, s=0.61, beta=11.67)
    >>> expected_purchases(p, [0.0, 39.0, 78.0]).round(4).tolist()
    [0.0, 1.2024, 1.89]
    >>> expected_purchases(p, -1.0)
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: t must be >= 0.0, got -1.0
    """
    inp.check_params(params, ParetoNbdParams)
    tt, scalar = inp.times(t, "t")
    r, alpha, s, beta = params.as_array()
    with np.errstate(all="ignore"):
        u = np.log1p(tt / beta)
        out = r / alpha * beta * u * sc.exprel(-(s - 1.0) * u)
    return float(out.reshape(-1)[0]) if scalar else np.asarray(out, dtype=np.float64)


def conditional_expected_purchases(
    params: ParetoNbdParams,
    t: ArrayLike,
    frequency: ArrayLike | CustomerSummary,
    recency: ArrayLike | None = None,
    T: ArrayLike | None = None,
) -> Any:
    """Return the expected purchases in (T, T + t] given each customer's history.

    Parameters
    ----------
    params : ParetoNbdParams
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
    Fader & Hardie (2005), equation (27) there:
    ``E[Y(t) | x, t_x, T] = P(alive) (r+x)(β+T) / ((α+T)(s-1))
    [1 - ((β+T)/(β+T+t))^(s-1)]``, the bracket evaluated with ``exprel``
    as in :func:`expected_purchases`.

    Examples
    --------
    >>> p = ParetoNbdParams(r=0.55, alpha=10.58, s=0.61, beta=11.67)
    >>> conditional_expected_purchases(p, 39.0, [2, 0], [30.43, 0.0], [38.86, 38.86]).round(4)
    array([1.4504, 0.1058])
    >>> conditional_expected_purchases(p, 39.0, [2], [30.43], [38.86, 38.86])
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: T must have the same length as frequency; got 2 and 1
    """
    inp.check_params(params, ParetoNbdParams)
    h = inp.histories(frequency, recency, T)
    tt = inp.horizon(t, h.x.size)
    out = _conditional_expectation(params.as_array(), tt[:, None], h.x, h.tx, h.T)[:, 0]
    return inp.finish(out, h.single)


def conditional_purchase_probability(
    params: ParetoNbdParams,
    t: ArrayLike,
    frequency: ArrayLike | CustomerSummary,
    recency: ArrayLike | None = None,
    T: ArrayLike | None = None,
) -> Any:
    """Probability that each customer makes at least one purchase in (T, T + t].

    Parameters
    ----------
    params : ParetoNbdParams
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
    Given the history and being alive at T, the purchase rate λ and the
    dropout rate μ are independent with posteriors Gamma(r + x, α + T) and
    Gamma(s, β + T) (the likelihood of the history and of a lifetime beyond
    T is ``λ^x exp(-λ T) exp(-μ T)``). By memorylessness the time to the
    next purchase is Exponential(λ) and the remaining lifetime
    Exponential(μ); the next purchase falls in (T, T + t] before death with
    probability ``∫_0^t λ exp(-(λ+μ) u) du``. Taking expectations,

    ``P(Y(t) > 0 | x, t_x, T) = P(alive) ∫_0^t (r+x)/(α+T)
    (1 + u/(α+T))^-(r+x+1) (1 + u/(β+T))^-s du``.

    Integrating by parts in τ = T + u turns the integral into the
    antiderivative of the likelihood (see :func:`log_likelihood`):
    ``1 - ρ - k(T) + ρ k(T+t)`` with ``ρ = ((α+T)/(α+T+t))^(r+x)
    ((β+T)/(β+T+t))^s`` and ``k(τ) = s (α+τ)^(r+x) (β+τ)^s
    ∫_τ^∞ (α+v)^-(r+x) (β+v)^-(s+1) dv``, three terms in [0, 1], which is
    used where the result is at least 0.01. Below (a short t, where the terms
    cancel) and where the hypergeometric function in k is not evaluated, the
    integrand is evaluated in log space (``log1p``) and integrated by
    Gauss-Legendre rules on pieces growing geometrically from its initial
    decay length ``1 / ((r+x+1)/(α+T) + s/(β+T))``, so that steep and
    heavy-tailed cases alike are resolved and a short ``t`` keeps its
    relative accuracy. When α = β the integral is
    ``(r+x)/(r+x+s) (1 - ((α+T)/(α+T+t))^(r+x+s))``.

    References
    ----------
    Schmittlein, D. C., Morrison, D. G., & Colombo, R. (1987). Counting your
    customers: Who are they and what will they do next? Management Science,
    33(1), 1-24.

    Examples
    --------
    >>> p = ParetoNbdParams(r=0.55, alpha=10.58, s=0.61, beta=11.67)
    >>> conditional_purchase_probability(p, 39.0, [2, 0], [30.43, 0.0], [38.86, 38.86]).round(4)
    array([0.5906, 0.0685])
    >>> conditional_purchase_probability(p, -1.0, [2], [30.43], [38.86])
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: t must be >= 0.0, got -1.0
    """
    inp.check_params(params, ParetoNbdParams)
    h = inp.histories(frequency, recency, T)
    x, tx, big_t = h.x, h.tx, h.T
    tt = inp.horizon(t, x.size)
    if x.size == 0:
        return np.zeros(0)
    theta = params.as_array()
    # the same log P(alive) as probability_alive, so the result never exceeds it
    log_alive, log_buy = _alive_by_count(theta, x, tx, big_t, tt)
    assert log_buy is not None
    rest = np.flatnonzero(np.isnan(log_buy))  # small or where H is not evaluated
    for s0 in range(0, rest.size, 1024):  # rows x pieces x nodes, a thousand rows at a time
        i = rest[s0 : s0 + 1024]
        with np.errstate(all="ignore"):
            log_buy[i] = _log_purchase_given_alive(theta, tt[i, None], x[i], big_t[i])
    with np.errstate(all="ignore"):
        out = np.minimum(np.exp(log_alive + log_buy), np.exp(log_alive))
    return inp.finish(out, h.single)


def probability_alive(
    params: ParetoNbdParams,
    frequency: ArrayLike | CustomerSummary,
    recency: ArrayLike | None = None,
    T: ArrayLike | None = None,
) -> Any:
    """Probability that each customer is still active at T.

    Parameters
    ----------
    params : ParetoNbdParams
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
    Fader & Hardie (2005), equation (23) there:
    ``P(alive) = 1 / (1 + s/(r+s+x) (α+T)^(r+x) (β+T)^s A0)``, i.e. the
    share of the first term ``A1 = (α+T)^-(r+x) (β+T)^-s`` in the bracket of
    the likelihood (see :func:`log_likelihood`), computed in log space.

    References
    ----------
    Fader, P. S., & Hardie, B. G. S. (2005). A note on deriving the Pareto/NBD
    model and related expressions. http://brucehardie.com/notes/009/

    Examples
    --------
    >>> p = ParetoNbdParams(r=0.55, alpha=10.58, s=0.61, beta=11.67)
    >>> probability_alive(p, [1, 1, 1], [1.0, 30.0, 38.0], [38.0, 38.0, 38.0]).round(4).tolist()
    [0.1549, 0.8844, 1.0]
    >>> probability_alive(p, [-1], [0.0], [3.0])
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: frequency must be non-negative; ...
    """
    inp.check_params(params, ParetoNbdParams)
    one = inp.one_customer(frequency, recency, T)
    if one is not None:  # one customer as plain numbers: validated without arrays
        x, tx, big_t = (np.array([value]) for value in one)
        return float(_probability_alive(params.as_array(), x, tx, big_t)[0])
    h = inp.histories(frequency, recency, T)
    if h.x.size == 0:
        return np.zeros(0)
    return inp.finish(_probability_alive(params.as_array(), h.x, h.tx, h.T), h.single)


@overload
def purchase_probability(params: ParetoNbdParams, n: int, t: float) -> float: ...
@overload
def purchase_probability(params: ParetoNbdParams, n: ArrayLike, t: ArrayLike) -> FloatArray: ...
def purchase_probability(params: ParetoNbdParams, n: ArrayLike, t: ArrayLike) -> Any:
    """Probability P(X(t) = n) that a new customer makes n repeat purchases in (0, t].

    Parameters
    ----------
    params : ParetoNbdParams
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
    Fader & Hardie (2006) condition on whether the customer is still alive at
    t. Alive (probability ``(β/(β+t))^s``), the count is negative binomial;
    dead at τ < t, it is the count of (0, τ]:

    ``P(X(t)=n) = NB(n; r, α/(α+t)) (β/(β+t))^s
    + Γ(r+n)/(Γ(r) n!) α^r s β^s ∫_0^t τ^n (α+τ)^-(r+n) (β+τ)^-(s+1) dτ``,

    ``NB(n; r, q) = Γ(r+n)/(Γ(r) n!) q^r (1-q)^n``. The paper writes the
    integral as a finite sum of Gauss hypergeometric functions whose terms
    cancel for large n; here it is evaluated directly by a tanh-sinh
    quadrature in log space, split at the maximum of the integrand.

    References
    ----------
    Fader, P. S., & Hardie, B. G. S. (2006). Deriving an expression for
    P(X(t) = x) under the Pareto/NBD model. http://brucehardie.com/notes/012/

    Examples
    --------
    >>> p = ParetoNbdParams(r=0.55, alpha=10.58, s=0.61, beta=11.67)
    >>> purchase_probability(p, [0, 1, 2], 39.0).round(4).tolist()
    [0.596, 0.1651, 0.082]
    >>> purchase_probability(p, 1.5, 39.0)
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: n must hold whole numbers; 1 of 1 values breaks this ...
    """
    inp.check_params(params, ParetoNbdParams)
    nn, tt, scalar = inp.counts_and_times(n, t)
    shape = nn.shape
    out = _pmf(params.as_array(), nn.reshape(-1), tt.reshape(-1)).reshape(shape)
    return float(out.reshape(-1)[0]) if scalar else out


# --------------------------------------------------------------------------- input helpers


# --------------------------------------------------------------------------- fitting

_SAMPLE_ROWS = 20_000  # distinct histories above which a sample fit gives the start


def _default_initial(data: CompressedHistories) -> FloatArray:
    w = data.weights
    mean_t = float(np.average(data.T, weights=w))
    mean_x = float(np.average(data.frequency, weights=w))
    scale = max(mean_t, 1e-6) / (mean_x + 1.0)
    return np.array([1.0, scale, 1.0, max(mean_t, 1e-6)])


def _systematic_sample(data: CompressedHistories, size: int) -> CompressedHistories:
    """Every k-th distinct history (sorted by x, and by t_x and T where some merged), weights up."""
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
        names=_NAMES,
        model="Pareto/NBD",
        n_customers=data.n_customers,
        curvature=curvature,
        forward_hessian=True,
    )


class _Objective:
    """Total log-likelihood and its gradient on compressed histories."""

    def __init__(self, data: CompressedHistories) -> None:
        self.rows = _Rows(data.frequency, data.recency, data.T, data.weights)

    def __call__(self, theta: FloatArray) -> tuple[float, FloatArray]:
        grad = np.zeros(4)
        total = _fit_total(np.asarray(theta, dtype=np.float64), self.rows, grad)
        return total, grad


# --------------------------------------------------------------------------- likelihood numerics
#
# L = Γ(r+x) α^r β^s / Γ(r) * [A1 + s I], I evaluated through H = 2F1(1, a; a+b; z)
# by the engine in _hyp2f1 (see its docstring for the notation).


class _Rows:
    """Histories with the distinct (x, tau) pairs at which E is evaluated (set up once).

    The pairs (x, t_x) and (x, T) of all rows are merged into one array of
    points sorted by (x, tau); ``itx`` and ``ity`` map rows to points,
    ``blocks`` holds the first point of each distinct x.
    """

    def __init__(
        self,
        x: FloatArray,
        tx: FloatArray,
        t: FloatArray,
        w: FloatArray | None = None,
        *,
        merge: bool = True,
    ) -> None:
        n = x.size
        self.x, self.tx, self.t = x, tx, t
        self.w = np.ones(n) if w is None else w
        self.n = n
        px = np.concatenate([x, x])
        pt = np.concatenate([tx, t])
        x_max = float(x.max()) if n else 0.0
        x_type = np.uint16 if x_max < 65_536 else np.int64  # radix sort for small x
        if merge:
            # sort by tau, then (stably) by x, and merge equal points (worth it for a
            # fit, which evaluates them many times)
            # (stable: where the histories come sorted by (x, t_x, T), the points are runs
            # already sorted by tau, which the stable sort merges in about half the time)
            order = np.argsort(pt, kind="stable")
            order = order[np.argsort(px[order].astype(x_type), kind="stable")]
        else:  # one evaluation: group by x only, each row keeps its two points
            order = np.argsort(px.astype(x_type), kind="stable")
        sx, st = px[order], pt[order]
        new = np.ones(2 * n, dtype=np.bool_)
        if merge:
            new[1:] = (sx[1:] != sx[:-1]) | (st[1:] != st[:-1])
        point_of = np.cumsum(new) - 1
        inverse = np.empty(2 * n, dtype=np.int64)
        inverse[order] = point_of
        self.px, self.ptau = sx[new], st[new]
        self.itx, self.ity = inverse[:n], inverse[n:]
        first_of_x = np.ones(self.px.size, dtype=np.bool_)
        first_of_x[1:] = self.px[1:] != self.px[:-1]
        self.blocks: IntArray = np.flatnonzero(first_of_x)
        self.same = tx == t  # I = 0 exactly
        self.xu = self.px[self.blocks]
        self.xidx = (np.cumsum(first_of_x) - 1)[self.itx]
        self.w_x = np.bincount(self.xidx, weights=self.w, minlength=self.xu.size)
        self.sum_w = float(self.w.sum())
        self.buffers: _Buffers | None = None  # a fit's work arrays (see _fit_total)


@attrs.frozen(kw_only=True, eq=False)
class _Terms:
    total: float
    log_likelihood: FloatArray  # per row
    log_a1: FloatArray  # per row, log of the first term of the bracket
    log_rest: FloatArray  # per row, log(A1 + s I)


def _row_terms(theta: FloatArray, rows: _Rows, grad: FloatArray | None) -> _Terms:
    """Per-row log-likelihood; adds the weighted total gradient to ``grad`` when given."""
    r, alpha, s, beta = (float(q) for q in theta)
    with np.errstate(all="ignore"):
        pts = _points(theta, rows.px, rows.ptau, rows.blocks, grad is not None)
        ls = np.log(s)
        la1 = pts.log_a1[rows.ity]
        le1 = ls + pts.log_e[rows.itx]
        le2 = ls + pts.log_e[rows.ity]
        m = np.fmax(la1, le1)
        a1 = np.exp(la1 - m)
        e1 = np.exp(le1 - m)
        e2 = np.exp(le2 - m)
        rest = a1 + e1 - e2
        np.maximum(rest, a1, out=rest)
        hard = pts.hard[rows.itx] & ~rows.same
        if rows.same.any():
            e1[rows.same] = 0.0
            e2[rows.same] = 0.0
            rest[rows.same] = a1[rows.same]
        log_rest = m + np.log(rest)
        de_grad = None
        if hard.any():
            i = np.flatnonzero(hard)
            log_i, g_i = _integral_chunks(theta, rows, i, grad is not None)
            li = ls + log_i
            mm = np.maximum(la1[i], li)
            aa = np.exp(la1[i] - mm)
            ii = np.exp(li - mm)
            log_rest[i] = mm + np.log(aa + ii)
            a1[i] = aa / (aa + ii)
            rest[i] = 1.0
            e1[i] = 0.0
            e2[i] = 0.0
            if g_i is not None:
                share = rows.w[i] * ii / (aa + ii)
                de_grad = g_i @ share
                de_grad[2] += float(share.sum()) / s
        gl = sc.gammaln(r + rows.xu) - sc.gammaln(r)
        const = r * np.log(alpha) + s * np.log(beta)
        ll = gl[rows.xidx] + const + log_rest
        total = float(rows.w_x @ gl) + rows.sum_w * const + float(rows.w @ log_rest)
        if grad is not None:
            assert pts.grad_e is not None
            assert pts.grad_a1 is not None
            u0 = rows.w / rest
            u_a1 = u0 * a1
            u_e1 = u0 * e1
            u_e2 = u0 * e2
            n_pts = rows.px.size
            phi_a1 = np.bincount(rows.ity, weights=u_a1, minlength=n_pts)
            phi_e = np.bincount(rows.itx, weights=u_e1, minlength=n_pts) - np.bincount(
                rows.ity, weights=u_e2, minlength=n_pts
            )
            grad_e = pts.grad_e
            if pts.hard.any():
                for row in grad_e:
                    row[pts.hard] = 0.0  # their rows use the quadrature
            g = np.array(
                [
                    _dot(ga, phi_a1) + _dot(ge, phi_e)
                    for ga, ge in zip(pts.grad_a1, grad_e, strict=True)
                ]
            )
            g[2] += float(u_e1.sum() - u_e2.sum()) / s
            if de_grad is not None:
                g += de_grad
            dg = sc.digamma(r + rows.xu) - sc.digamma(r)
            g[0] += float(rows.w_x @ dg) + rows.sum_w * np.log(alpha)
            g[1] += rows.sum_w * r / alpha
            g[2] += rows.sum_w * np.log(beta)
            g[3] += rows.sum_w * s / beta
            grad += g
    return _Terms(
        total=total,
        log_likelihood=np.asarray(ll, dtype=np.float64),
        log_a1=la1,
        log_rest=log_rest,
    )


def _dot(a: np.ndarray[Any, Any], b: np.ndarray[Any, Any]) -> float:
    """Dot product of long vectors without BLAS (whose threads stall on a busy machine)."""
    return float(np.einsum("i,i->", a, b))


class _Buffers:
    """Arrays over the points and over the rows that every evaluation of a fit reuses.

    A fit evaluates the likelihood and its gradient a dozen times or more on all
    rows; fresh arrays of a million values each time cost page faults (on a
    virtual machine, system time of the order of the arithmetic), so the
    evaluation writes into these instead.
    """

    def __init__(self, n_pts: int, n_rows: int) -> None:
        self.pt = np.empty((14, n_pts))
        self.hv = np.empty((4, n_pts))
        self.row = np.empty((8, n_rows))


def _points_into(theta: FloatArray, rows: _Rows, buf: _Buffers) -> _Points:
    """:func:`_points` with its gradients, written into ``buf`` (the same values)."""
    r, alpha, s, beta = (float(q) for q in theta)
    px, ptau = rows.px, rows.ptau
    first = alpha >= beta
    p, q = (alpha, beta) if first else (beta, alpha)
    lat, lbt, log_a1, z, y, log_e, tmp, ipt, iqt, e_a, e_b, e_p, e_q, ga1 = buf.pt
    hv = buf.hv
    np.add(alpha, ptau, out=lat)
    np.log(lat, out=lat)
    np.add(beta, ptau, out=lbt)
    np.log(lbt, out=lbt)
    np.add(r, px, out=log_a1)
    np.multiply(log_a1, lat, out=log_a1)
    np.multiply(s, lbt, out=tmp)
    np.add(log_a1, tmp, out=log_a1)
    np.negative(log_a1, out=log_a1)  # -(r+x) log(α+τ) - s log(β+τ)
    lpt, lqt = (lat, lbt) if first else (lbt, lat)
    np.add(p, ptau, out=ipt)  # p + τ
    np.add(q, ptau, out=iqt)  # q + τ
    np.divide(p - q, ipt, out=z)
    np.divide(iqt, ipt, out=y)  # 1 - z without cancellation
    hv.fill(np.nan)
    starts = rows.blocks.tolist()
    ends = [*starts[1:], px.size]
    for s0, s1 in zip(starts, ends, strict=True):
        xv = float(px[s0])
        a_blk, b_blk = (r + xv, s + 1.0) if first else (s + 1.0, r + xv)
        _hyp2f1.log_h_block(a_blk, b_blk, z[s0:s1], y[s0:s1], hv[:, s0:s1])
    hard = np.isnan(hv[0])
    # with c = r + s + x: a = r + x, b = s + 1 when α >= β, else a = s + 1, b = r + x
    c = tmp
    np.add(r + s, px, out=c)
    np.divide(1.0, ipt, out=ipt)  # 1/(p+τ)
    np.divide(1.0, iqt, out=iqt)  # 1/(q+τ)
    # log E = -a log(p+τ) - (b-1) log(q+τ) + log H - log c
    if first:
        np.add(r, px, out=log_e)  # a
        np.multiply(log_e, lpt, out=log_e)
        np.negative(log_e, out=log_e)
        np.multiply(s, lqt, out=e_p)  # (b - 1) log(q+τ), scratch
    else:
        np.multiply(-(s + 1.0), lpt, out=log_e)
        np.add(r - 1.0, px, out=e_p)  # b - 1 = r + x - 1
        np.multiply(e_p, lqt, out=e_p)
    np.subtract(log_e, e_p, out=log_e)
    np.add(log_e, hv[0], out=log_e)
    np.log(c, out=e_q)
    np.subtract(log_e, e_q, out=log_e)
    inv_c = c
    np.divide(1.0, c, out=inv_c)
    np.subtract(hv[1], lpt, out=e_a)
    np.subtract(e_a, inv_c, out=e_a)
    np.subtract(hv[2], lqt, out=e_b)
    np.subtract(e_b, inv_c, out=e_b)
    # e_p = H_z (q+τ)/(p+τ)² - a/(p+τ), e_q = -(b-1)/(q+τ) - H_z/(p+τ)
    np.multiply(hv[3], y, out=e_p)
    np.multiply(e_p, ipt, out=e_p)
    if first:
        np.add(r, px, out=e_q)  # a
        np.multiply(e_q, ipt, out=e_q)
    else:
        np.multiply(s + 1.0, ipt, out=e_q)
    np.subtract(e_p, e_q, out=e_p)
    if first:
        np.multiply(-s, iqt, out=e_q)  # -(b-1)/(q+τ)
    else:
        np.add(r - 1.0, px, out=e_q)
        np.multiply(e_q, iqt, out=e_q)
        np.negative(e_q, out=e_q)
    np.multiply(hv[3], ipt, out=tmp)
    np.subtract(e_q, tmp, out=e_q)
    grad_e = [e_a, e_p, e_b, e_q] if first else [e_b, e_q, e_a, e_p]
    # d log A1 / d(r, α, s, β) = (-log(α+τ), -(r+x)/(α+τ), -log(β+τ), -s/(β+τ))
    inv_at, inv_bt = (ipt, iqt) if first else (iqt, ipt)
    np.add(r, px, out=ga1)
    np.multiply(ga1, inv_at, out=ga1)
    np.negative(ga1, out=ga1)
    np.multiply(-s, inv_bt, out=inv_bt)
    np.negative(lat, out=lat)
    np.negative(lbt, out=lbt)
    grad_a1 = [lat, ga1, lbt, inv_bt]
    return _Points(log_e=log_e, log_a1=log_a1, hard=hard, grad_e=grad_e, grad_a1=grad_a1)


def _fit_total(theta: FloatArray, rows: _Rows, grad: FloatArray) -> float:
    """Total log-likelihood of a fit's rows; adds its gradient to ``grad``.

    The arithmetic of :func:`_row_terms` with its gradient, written into buffers
    kept with the rows (see :class:`_Buffers`).
    """
    r, alpha, s, beta = (float(q) for q in theta)
    if rows.buffers is None:
        rows.buffers = _Buffers(rows.px.size, rows.n)
    buf = rows.buffers
    with np.errstate(all="ignore"):
        pts = _points_into(theta, rows, buf)
        ls = np.log(s)
        la1, le1, le2, m, a1, e1, e2, rest = buf.row
        np.take(pts.log_a1, rows.ity, out=la1)
        np.take(pts.log_e, rows.itx, out=le1)
        le1 += ls
        np.take(pts.log_e, rows.ity, out=le2)
        le2 += ls
        np.fmax(la1, le1, out=m)
        np.subtract(la1, m, out=a1)
        np.exp(a1, out=a1)
        np.subtract(le1, m, out=e1)
        np.exp(e1, out=e1)
        np.subtract(le2, m, out=e2)
        np.exp(e2, out=e2)
        np.add(a1, e1, out=rest)
        np.subtract(rest, e2, out=rest)
        np.maximum(rest, a1, out=rest)
        hard = pts.hard[rows.itx] & ~rows.same
        if rows.same.any():
            e1[rows.same] = 0.0
            e2[rows.same] = 0.0
            rest[rows.same] = a1[rows.same]
        log_rest = le1  # free now
        np.log(rest, out=log_rest)
        log_rest += m
        de_grad = None
        if hard.any():
            i = np.flatnonzero(hard)
            log_i, g_i = _integral_chunks(theta, rows, i, True)
            li = ls + log_i
            mm = np.maximum(la1[i], li)
            aa = np.exp(la1[i] - mm)
            ii = np.exp(li - mm)
            log_rest[i] = mm + np.log(aa + ii)
            a1[i] = aa / (aa + ii)
            rest[i] = 1.0
            e1[i] = 0.0
            e2[i] = 0.0
            assert g_i is not None
            share = rows.w[i] * ii / (aa + ii)
            de_grad = g_i @ share
            de_grad[2] += float(share.sum()) / s
        gl = sc.gammaln(r + rows.xu) - sc.gammaln(r)
        const = r * np.log(alpha) + s * np.log(beta)
        total = float(rows.w_x @ gl) + rows.sum_w * const + float(rows.w @ log_rest)
        assert pts.grad_e is not None
        assert pts.grad_a1 is not None
        u0 = rest
        np.divide(rows.w, rest, out=u0)
        np.multiply(u0, a1, out=a1)  # u_a1
        np.multiply(u0, e1, out=e1)  # u_e1
        np.multiply(u0, e2, out=e2)  # u_e2
        n_pts = rows.px.size
        phi_a1 = np.bincount(rows.ity, weights=a1, minlength=n_pts)
        phi_e = np.bincount(rows.itx, weights=e1, minlength=n_pts)
        phi_e -= np.bincount(rows.ity, weights=e2, minlength=n_pts)
        grad_e = pts.grad_e
        if pts.hard.any():
            for row in grad_e:
                row[pts.hard] = 0.0  # their rows use the quadrature
        g = np.array(
            [_dot(ga, phi_a1) + _dot(ge, phi_e) for ga, ge in zip(pts.grad_a1, grad_e, strict=True)]
        )
        g[2] += float(e1.sum() - e2.sum()) / s
        if de_grad is not None:
            g += de_grad
        dg = sc.digamma(r + rows.xu) - sc.digamma(r)
        g[0] += float(rows.w_x @ dg) + rows.sum_w * np.log(alpha)
        g[1] += rows.sum_w * r / alpha
        g[2] += rows.sum_w * np.log(beta)
        g[3] += rows.sum_w * s / beta
        grad += g
    return float(total)


def _conditional_expectation(
    theta: FloatArray, t: FloatArray, x: FloatArray, tx: FloatArray, big_t: FloatArray
) -> FloatArray:
    """Matrix of E[Y(t) | x, t_x, T] (see the public function).

    ``t`` is 2-d: a row of horizons for every customer (shape (1, k), result
    (customers, k)) or a column of one horizon per customer (shape
    (customers, 1)).
    """
    if x.size == 0:
        return np.zeros((0, t.shape[1]))
    r, alpha, s, beta = (float(q) for q in theta)
    alive = _probability_alive(theta, x, tx, big_t)
    b_t = (beta + big_t)[:, None]
    with np.errstate(all="ignore"):
        u = np.log1p(t / b_t)
        bracket = b_t * u * sc.exprel(-(s - 1.0) * u)
        out = (alive * (r + x) / (alpha + big_t))[:, None] * bracket
    return np.asarray(out, dtype=np.float64)


def _log_probability_alive(
    theta: FloatArray, x: FloatArray, tx: FloatArray, big_t: FloatArray
) -> FloatArray:
    """Return log P(alive) = log A1 - log(A1 + s I), in (-inf, 0].

    The arithmetic of the likelihood's terms (:func:`_row_terms`) without the
    derivatives and the likelihood itself: log H is evaluated alone (one
    Horner polynomial where the fit needs four), so the result is that of the
    likelihood's terms to the bit.
    """
    if x.size < _SORTED_MIN:
        rows = _Rows(x, tx, big_t, merge=False)
        return _log_alive_rows(theta, rows, rows.px, rows.ptau, rows.blocks)
    return _alive_by_count(theta, x, tx, big_t, None)[0]


_SORTED_MIN = 4096  # rows from which P(alive) sets up its points itself


class _SortedRows(NamedTuple):
    x: FloatArray
    tx: FloatArray
    t: FloatArray
    itx: IntArray
    ity: IntArray
    same: Any


def _alive_by_count(
    theta: FloatArray, x: FloatArray, tx: FloatArray, big_t: FloatArray, t: FloatArray | None
) -> tuple[FloatArray, FloatArray | None]:
    """Return log P(alive) and, given horizons ``t``, the closed form of P(buy | alive).

    The rows are sorted by count (one radix sort) and every count block is
    evaluated on its own slices: its t_x points then its T points, the layout
    of the likelihood's set-up (:class:`_Rows` with ``merge=False``), with the
    same arithmetic, so log P(alive) is that of :func:`_log_alive_rows` to the
    bit, without building, gathering and scattering 2n interleaved points.
    With ``t``, log H at T + t is evaluated per block as well, and log H at T
    is shared with P(alive) (see :func:`_log_purchase_given_alive_closed`).
    """
    r, alpha, s, beta = (float(q) for q in theta)
    first = alpha >= beta
    p, q = (alpha, beta) if first else (beta, alpha)
    n = x.size
    order = np.argsort(x.astype(np.uint16 if float(x.max()) < 65_536 else np.int64), kind="stable")
    sx, stx, st = np.take(x, order), np.take(tx, order), np.take(big_t, order)
    new = np.ones(n, dtype=np.bool_)
    np.not_equal(sx[1:], sx[:-1], out=new[1:])
    starts = np.flatnonzero(new).tolist()
    ends = [*starts[1:], n]
    alive = np.empty(n)
    buy = None if t is None else np.full(n, np.nan)
    stt = None if t is None else np.take(t, order)
    ls = np.log(s)
    with np.errstate(all="ignore"):
        for s0, s1 in zip(starts, ends, strict=True):
            xv = float(sx[s0])
            m = s1 - s0
            # without a repeat purchase t_x = 0: one point serves the block's t_x (a
            # point's log H does not depend on how often it occurs in the block)
            k = 1 if xv == 0.0 else m
            tau = np.concatenate((stx[s0 : s0 + k], st[s0:s1]))
            pt = p + tau
            z = (p - q) / pt
            y = (q + tau) / pt
            hv = np.empty((1, k + m))
            hv.fill(np.nan)
            a_blk, b_blk = (r + xv, s + 1.0) if first else (s + 1.0, r + xv)
            _hyp2f1.log_h_block(a_blk, b_blk, z, y, hv)
            blk_e = _BlockE(
                alpha, beta, first, a=a_blk, b=b_blk, log_c=np.log(np.full(1, r + s + xv))
            )
            la1 = np.empty(m)
            log_rest = np.empty(m)
            same = stx[s0:s1] == st[s0:s1]
            if k == 1:
                le1_all = ls + blk_e.log_e(tau[:1], hv[0, :1])[0]
            for c0 in range(0, m, _CHUNK_ROWS):  # in cache
                c1 = min(c0 + _CHUNK_ROWS, m)
                lat_t, lbt_t = blk_e.logs(tau[k + c0 : k + c1])
                la = la1[c0:c1]
                np.multiply(-(r + xv), lat_t, out=la)
                la -= s * lbt_t
                le2 = blk_e.log_e(tau[k + c0 : k + c1], hv[0, k + c0 : k + c1], (lat_t, lbt_t))[0]
                le2 += ls
                if k == 1:
                    le1 = le1_all
                else:
                    le1 = blk_e.log_e(tau[c0:c1], hv[0, c0:c1])[0]
                    le1 += ls
                mx = np.fmax(la, le1)
                a1 = la - mx
                np.exp(a1, out=a1)
                rest = le1 - mx
                np.exp(rest, out=rest)
                rest += a1
                np.subtract(le2, mx, out=le2)
                np.exp(le2, out=le2)
                rest -= le2
                np.maximum(rest, a1, out=rest)
                sm = same[c0:c1]
                if sm.any():
                    rest[sm] = a1[sm]
                lr = log_rest[c0:c1]
                np.log(rest, out=lr)
                np.add(mx, lr, out=lr)
            hard = np.isnan(hv[0, :k]) & ~same
            if hard.any():
                i = np.flatnonzero(hard)
                blk = _SortedRows(sx[s0:s1], stx[s0:s1], st[s0:s1], i, i, same)
                log_i, _ = _integral_chunks(theta, blk, i, False)
                li = ls + log_i
                mm = np.maximum(la1[i], li)
                log_rest[i] = mm + np.log(np.exp(la1[i] - mm) + np.exp(li - mm))
            np.subtract(la1, log_rest, out=la1)
            np.minimum(la1, 0.0, out=alive[s0:s1])
            if buy is not None and stt is not None:
                tt = stt[s0:s1]
                buy[s0:s1] = _closed_block(
                    theta, xv, big_t=st[s0:s1], t=tt, log_h_t=hv[0, k:], y_t=y[k:], z_t=z[k:]
                )
    out = np.empty(n)
    out[order] = alive
    if buy is None:
        return out, None
    out_buy = np.empty(n)
    out_buy[order] = buy
    return out, out_buy


_CHUNK_ROWS = 8192  # rows per vector operation of P(alive)'s arithmetic (in cache)


class _BlockE:
    """log E(x, τ) of one count from log H, by the operations of :func:`_point_values`."""

    def __init__(
        self, alpha: float, beta: float, first: bool, *, a: float, b: float, log_c: FloatArray
    ) -> None:
        self.alpha, self.beta, self.first = alpha, beta, first
        self.a, self.b, self.log_c = a, b, log_c

    def logs(self, tau: FloatArray) -> tuple[FloatArray, FloatArray]:
        return np.log(self.alpha + tau), np.log(self.beta + tau)

    def log_e(
        self,
        tau: FloatArray,
        log_h: FloatArray,
        logs: tuple[FloatArray, FloatArray] | None = None,
    ) -> tuple[FloatArray]:
        lat, lbt = self.logs(tau) if logs is None else logs
        lpt, lqt = (lat, lbt) if self.first else (lbt, lat)
        out = -self.a * lpt
        out -= (self.b - 1.0) * lqt
        out += log_h
        out -= self.log_c
        return (out,)


def _closed_block(
    theta: FloatArray,
    xv: float,
    *,
    big_t: FloatArray,
    t: FloatArray,
    log_h_t: FloatArray,
    y_t: FloatArray,
    z_t: FloatArray,
) -> FloatArray:
    """:func:`_log_purchase_given_alive_closed` for one count, log H at T given."""
    r, alpha, s, beta = (float(q) for q in theta)
    first = alpha >= beta
    p, q = (alpha, beta) if first else (beta, alpha)
    a_blk, b_blk = (r + xv, s + 1.0) if first else (s + 1.0, r + xv)
    tau = big_t + t
    z = (p - q) / (p + tau)
    y = (q + tau) / (p + tau)
    hv = np.empty((1, tau.size))
    hv.fill(np.nan)
    _hyp2f1.log_h_block(a_blk, b_blk, z, y, hv)
    shift = np.log(s) - np.log(r + s + xv)
    lk0 = log_h_t + shift
    lk1 = hv[0] + shift
    if not first:
        lk0 += np.log(y_t)
        lk1 += np.log(y)
    if b_blk >= _hyp2f1._B_CF or r + s + xv > _hyp2f1._C_TAYLOR:
        # the continued fraction's H can be off by a few 1e-14, which the
        # cancellation of the terms would magnify: the quadrature serves
        lk0[z_t > _hyp2f1._Z_SERIES] = np.nan
        lk1[z > _hyp2f1._Z_SERIES] = np.nan
    n_x = r + xv
    log_rho = -n_x * np.log1p(t / (alpha + big_t)) - s * np.log1p(t / (beta + big_t))
    val = -np.expm1(log_rho) - np.exp(lk0) + np.exp(log_rho + lk1)
    return np.asarray(
        np.where(val >= _CLOSED_MIN, np.log(np.minimum(val, 1.0)), np.nan), dtype=np.float64
    )


def _log_alive_rows(
    theta: FloatArray, rows: Any, px: FloatArray, ptau: FloatArray, blocks: IntArray
) -> FloatArray:
    """Return log A1 - log(A1 + s I) of the rows, from the points (px, ptau) they map to."""
    s = float(theta[2])
    with np.errstate(all="ignore"):
        log_e, log_a1, hard_pts = _point_values(theta, px, ptau, blocks)
        ls = np.log(s)
        la1 = log_a1[rows.ity]
        le1 = ls + log_e[rows.itx]
        le2 = ls + log_e[rows.ity]
        m = np.fmax(la1, le1)
        a1 = np.exp(la1 - m)
        e1 = np.exp(le1 - m)
        e2 = np.exp(le2 - m)
        rest = a1 + e1 - e2
        np.maximum(rest, a1, out=rest)
        hard = hard_pts[rows.itx] & ~rows.same
        if rows.same.any():
            rest[rows.same] = a1[rows.same]
        log_rest = m + np.log(rest)
        if hard.any():
            i = np.flatnonzero(hard)
            log_i, _ = _integral_chunks(theta, rows, i, False)
            li = ls + log_i
            mm = np.maximum(la1[i], li)
            aa = np.exp(la1[i] - mm)
            ii = np.exp(li - mm)
            log_rest[i] = mm + np.log(aa + ii)
        return np.asarray(np.minimum(la1 - log_rest, 0.0), dtype=np.float64)


def _point_values(
    theta: FloatArray, px: FloatArray, ptau: FloatArray, blocks: IntArray
) -> tuple[FloatArray, FloatArray, Any]:
    """Return log E, log A1 and the points left to the quadrature (as :func:`_points`)."""
    r, alpha, s, beta = (float(q) for q in theta)
    first = alpha >= beta
    p, q = (alpha, beta) if first else (beta, alpha)
    lat = np.log(alpha + ptau)
    lbt = np.log(beta + ptau)
    log_a1 = -(r + px) * lat - s * lbt
    lpt, lqt = (lat, lbt) if first else (lbt, lat)
    z = (p - q) / (p + ptau)
    n_pts = px.size
    hv = np.empty((1, n_pts))
    hv.fill(np.nan)
    starts = blocks.tolist()
    ends = [*starts[1:], n_pts]
    y = (q + ptau) / (p + ptau)  # 1 - z without cancellation
    for s0, s1 in zip(starts, ends, strict=True):
        xv = float(px[s0])
        a_blk, b_blk = (r + xv, s + 1.0) if first else (s + 1.0, r + xv)
        _hyp2f1.log_h_block(a_blk, b_blk, z[s0:s1], y[s0:s1], hv[:, s0:s1])
    hard = np.isnan(hv[0])
    a: FloatArray | float = r + px if first else s + 1.0
    b: FloatArray | float = s + 1.0 if first else r + px
    c = r + s + px
    log_e = -a * lpt - (b - 1.0) * lqt + hv[0] - np.log(c)
    return log_e, log_a1, hard


def _probability_alive(
    theta: FloatArray, x: FloatArray, tx: FloatArray, big_t: FloatArray
) -> FloatArray:
    return np.exp(_log_probability_alive(theta, x, tx, big_t))


@attrs.frozen(kw_only=True, eq=False)
class _Points:
    log_e: FloatArray  # log E(x, tau)
    log_a1: FloatArray  # log A1(x, tau) = -(r+x) log(α+τ) - s log(β+τ)
    hard: Any  # bool: H not evaluated here (rows starting here use the quadrature)
    grad_e: list[FloatArray] | None  # d log E / d(r, α, s, β): 4 arrays over the points
    grad_a1: list[FloatArray] | None  # d log A1 / d(r, α, s, β)


def _points(
    theta: FloatArray, px: FloatArray, ptau: FloatArray, blocks: IntArray, want_grad: bool
) -> _Points:
    """E and A1 at the distinct (x, tau) points, with their log-gradients."""
    r, alpha, s, beta = (float(q) for q in theta)
    first = alpha >= beta
    p, q = (alpha, beta) if first else (beta, alpha)
    lat = np.log(alpha + ptau)
    lbt = np.log(beta + ptau)
    log_a1 = -(r + px) * lat - s * lbt
    lpt, lqt = (lat, lbt) if first else (lbt, lat)
    z = (p - q) / (p + ptau)
    n_pts = px.size
    hv = np.empty((4, n_pts))
    hv.fill(np.nan)
    starts = blocks.tolist()
    ends = [*starts[1:], n_pts]
    y = (q + ptau) / (p + ptau)  # 1 - z without cancellation
    for s0, s1 in zip(starts, ends, strict=True):
        xv = float(px[s0])
        a_blk, b_blk = (r + xv, s + 1.0) if first else (s + 1.0, r + xv)
        _hyp2f1.log_h_block(a_blk, b_blk, z[s0:s1], y[s0:s1], hv[:, s0:s1])
    hard = np.isnan(hv[0])
    a: FloatArray | float = r + px if first else s + 1.0
    b: FloatArray | float = s + 1.0 if first else r + px
    c = r + s + px
    log_e = -a * lpt - (b - 1.0) * lqt + hv[0] - np.log(c)
    if not want_grad:
        return _Points(log_e=log_e, log_a1=log_a1, hard=hard, grad_e=None, grad_a1=None)
    inv_c = 1.0 / c
    ipt = 1.0 / (p + ptau)
    iqt = 1.0 / (q + ptau)
    e_a = hv[1] - lpt - inv_c
    e_b = hv[2] - lqt - inv_c
    e_p = hv[3] * (q + ptau) * ipt * ipt - a * ipt
    e_q = -(b - 1.0) * iqt - hv[3] * ipt
    # the rows of the gradients as separate arrays: stacking them costs a copy of each
    grad_e = [e_a, e_p, e_b, e_q] if first else [e_b, e_q, e_a, e_p]
    grad_a1 = [-lat, -(r + px) / (alpha + ptau), -lbt, -s / (beta + ptau)]
    return _Points(log_e=log_e, log_a1=log_a1, hard=hard, grad_e=grad_e, grad_a1=grad_a1)


_GL_NODES, _GL_WEIGHTS = np.polynomial.legendre.leggauss(24)
_GL_SHARE = (_GL_NODES + 1.0) / 2.0  # nodes as shares of a piece
_N_PIECES = 28  # [0, σ], then [σ 8^(k-1), σ 8^k]: up to t/σ ~ 1e24


def _log_purchase_given_alive(
    theta: FloatArray, t: FloatArray, x: FloatArray, big_t: FloatArray
) -> FloatArray:
    """Return log P(a purchase in (T, T+t] | alive at T); -inf at t = 0 (see the public function).

    ``P = ∫_0^t f(u) du``, ``f(u) = n/A (1 + u/A)^-(n+1) (1 + u/B)^-s`` with
    ``n = r+x``, ``A = α+T``, ``B = β+T``. ``f`` starts as ``f(0) exp(-u/σ)``,
    ``σ = 1 / ((n+1)/A + s/B)``, and decays no faster than a power law
    beyond: Gauss-Legendre on [0, σ] and on the pieces [σ 8^(k-1), σ 8^k],
    all clipped at t. A short t falls in the first piece, where ``f`` is
    smooth and positive, so the relative accuracy holds for t -> 0.
    """
    r, alpha, s, beta = (float(q) for q in theta)
    n = (r + x)[:, None, None]
    a_t = (alpha + big_t)[:, None, None]
    b_t = (beta + big_t)[:, None, None]
    sigma = 1.0 / ((n + 1.0) / a_t + s / b_t)
    edges = sigma[..., 0] * np.concatenate([[0.0], 8.0 ** np.arange(_N_PIECES)])[None, :]
    edges = np.minimum(edges, t)
    # pieces that start at t or beyond are empty (zero length, zero integral): only the
    # first k are evaluated, the rest stay 0 in the sum, which adds them as before
    k = int(np.count_nonzero(edges[:, :-1] < edges[:, 1:], axis=1).max(initial=0))
    k = max(k, 1)
    lo, hi = edges[:, :k, None], edges[:, 1 : k + 1, None]
    u = lo + (hi - lo) * _GL_SHARE
    log_f = np.log(n / a_t) - (n + 1.0) * np.log1p(u / a_t) - s * np.log1p(u / b_t)
    pieces = np.zeros(edges[:, 1:].shape)
    pieces[:, :k] = (hi - lo)[..., 0] / 2.0 * (np.exp(log_f) @ _GL_WEIGHTS)
    total = pieces.sum(axis=1)
    return np.asarray(np.log(np.minimum(total, 1.0)), dtype=np.float64)


_CLOSED_MIN = 1e-2  # P(purchase | alive) from which the closed form serves


def _log_purchase_given_alive_closed(
    theta: FloatArray, t: FloatArray, x: FloatArray, big_t: FloatArray
) -> FloatArray:
    """Return log P(a purchase in (T, T+t] | alive at T) in closed form, or NaN.

    With ``n = r+x``, ``a(τ) = (α+τ)^-n (β+τ)^-s`` and
    ``E(τ) = ∫_τ^∞ (α+u)^-n (β+u)^-(s+1) du`` (the antiderivative of the
    likelihood, see :mod:`._hyp2f1`), ``a'(τ) = -n (α+τ)^-(n+1) (β+τ)^-s -
    s (α+τ)^-n (β+τ)^-(s+1)``, so the integrand of
    :func:`_log_purchase_given_alive` in τ = T + u is
    ``(-a'(τ) - s (α+τ)^-n (β+τ)^-(s+1)) / a(T)`` and

    ``P = 1 - ρ - k(T) + ρ k(T+t)``, ``ρ = a(T+t)/a(T)``, ``k(τ) = s E(τ)/a(τ)``,

    with ``k = s H(z)/c`` when α >= β and ``k = s y H(z)/c`` when α < β
    (y = (α+τ)/(β+τ); E = a H/c or a y H/c by the forms of E in
    :mod:`._hyp2f1`), and ``ρ = exp(-n log1p(t/A) - s log1p(t/B))``. Each of
    the three terms is in [0, 1] (``s E <= ∫_τ^∞ -a' = a``), so the sum carries
    an absolute error of a few units of 1e-16 plus the relative error of H. For
    P < ``_CLOSED_MIN`` (a short t: the terms cancel) that error would exceed
    1e-13 relative, and the quadrature is used there (NaN here), as it is where
    H is not evaluated at T or T + t and where the continued fraction would give
    it (near z = 1, its relative error can reach a few 1e-14).
    """
    if x.size == 0:
        return np.zeros(0)
    log_buy = _alive_by_count(theta, x, big_t, big_t, t)[1]  # t_x = T: no integral
    assert log_buy is not None
    return log_buy


def _integral_chunks(
    theta: FloatArray, rows: _Rows | _SortedRows, i: IntArray, want_grad: bool
) -> tuple[FloatArray, FloatArray | None]:
    """:func:`_hyp2f1.log_integral` over the rows ``i``, a thousand at a time."""
    log_i = np.empty(i.size)
    grad = np.empty((4, i.size)) if want_grad else None
    for s0 in range(0, i.size, 1024):
        k = i[s0 : s0 + 1024]
        li, gi = _hyp2f1.log_integral(theta, rows.x[k], rows.tx[k], rows.t[k], want_grad)
        log_i[s0 : s0 + k.size] = li
        if grad is not None and gi is not None:
            grad[:, s0 : s0 + k.size] = gi
    return log_i, grad


def _pmf(theta: FloatArray, n: FloatArray, t: FloatArray) -> FloatArray:
    """P(X(t) = n) for a new customer, elementwise over (n, t)."""
    r, alpha, s, beta = (float(q) for q in theta)
    out = np.zeros(n.shape)
    with np.errstate(all="ignore"):
        log_coef = sc.gammaln(r + n) - sc.gammaln(r) - sc.gammaln(n + 1.0)
        log_nb = (
            log_coef
            + r * (np.log(alpha) - np.log(alpha + t))
            + np.where(n > 0, n * (np.log(t) - np.log(alpha + t)), 0.0)
        )
        alive = np.exp(log_nb + s * (np.log(beta) - np.log(beta + t)))
        out += np.where(t > 0, alive, np.where(n == 0, 1.0, 0.0))
        pos = np.flatnonzero(t > 0)
        if pos.size:
            nn, tt = n[pos], t[pos]
            log_j = _hyp2f1.log_death_integral(theta, nn, tt)
            dead = np.exp(log_coef[pos] + r * np.log(alpha) + np.log(s) + s * np.log(beta) + log_j)
            out[pos] += dead
    return np.asarray(np.clip(out, 0.0, 1.0), dtype=np.float64)


# ------------------------------------------------------------- P(alive) later, P(Y = n), DERT
#
# Given the history and being alive at T, λ ~ Gamma(r+x, α+T) and
# μ ~ Gamma(s, β+T) independently (the likelihood of the history and of a
# lifetime beyond T is λ^x exp(-λT) exp(-μT)), and by memorylessness the
# future of a customer alive at T is that of a new Pareto/NBD customer with
# parameters (r+x, α+T, s, β+T).


def conditional_probability_alive(
    params: ParetoNbdParams,
    t: ArrayLike,
    frequency: ArrayLike | CustomerSummary,
    recency: ArrayLike | None = None,
    T: ArrayLike | None = None,
) -> Any:
    """Probability that each customer is still active at T + t, given the history.

    Parameters
    ----------
    params : ParetoNbdParams
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
    Alive at T the lifetime left is exponential with rate μ, μ ~ Gamma(s, β+T):
    ``P(alive at T+t | x, t_x, T) = P(alive) ((β+T)/(β+T+t))^s``, computed
    as ``log P(alive) - s log1p(t/(β+T))``.

    References
    ----------
    Fader, P. S., & Hardie, B. G. S. (2005). A note on deriving the Pareto/NBD
    model and related expressions. http://brucehardie.com/notes/009/

    Examples
    --------
    >>> p = ParetoNbdParams(r=0.55, alpha=10.58, s=0.61, beta=11.67)
    >>> conditional_probability_alive(p, [0.0, 52.0], [2, 2], [30.43, 30.43], [38.86, 38.86])
    array([0.86841092, 0.56398982])
    >>> conditional_probability_alive(p, -1.0, 2, 30.43, 38.86)
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: t must be >= 0.0, got -1.0
    """
    inp.check_params(params, ParetoNbdParams)
    h = inp.histories(frequency, recency, T)
    tt = inp.horizon(t, h.x.size)
    if h.x.size == 0:
        return np.zeros(0)
    theta = params.as_array()
    log_alive = _log_probability_alive(theta, h.x, h.tx, h.T)
    with np.errstate(all="ignore"):
        out = np.exp(log_alive - params.s * np.log1p(tt / (params.beta + h.T)))
    return inp.finish(np.asarray(out, dtype=np.float64), h.single)


def conditional_purchase_count_probability(  # noqa: PLR0917 (the family's order)
    params: ParetoNbdParams,
    n: ArrayLike,
    t: ArrayLike,
    frequency: ArrayLike | CustomerSummary,
    recency: ArrayLike | None = None,
    T: ArrayLike | None = None,
) -> Any:
    """Probability that each customer makes exactly n purchases in (T, T + t], given the history.

    Parameters
    ----------
    params : ParetoNbdParams
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
    A customer who has dropped out buys nothing; one alive at T is a new
    customer with parameters (r' = r+x, α' = α+T, s, β' = β+T) (Fader &
    Hardie's note on the conditional PMF reaches the same expression through
    the joint likelihood of the calibration and forecast periods):

    ``P(Y(t) = n | x, t_x, T) = P(alive) [NB(n; r', α'/(α'+t)) (β'/(β'+t))^s
    + Γ(r'+n)/(Γ(r') n!) α'^r' s β'^s J] + 1{n=0} (1 - P(alive))``,

    ``J = ∫_0^t τ^n (α'+τ)^-(r'+n) (β'+τ)^-(s+1) dτ``, the death integral of
    :func:`purchase_probability`, evaluated in log space by a tanh-sinh
    quadrature split at α', β' and the maximum of the integrand.

    References
    ----------
    Fader, P. S., & Hardie, B. G. S. (2006). Deriving an expression for
    P(X(t) = x) under the Pareto/NBD model. http://brucehardie.com/notes/012/

    Fader, P. S., & Hardie, B. G. S. Deriving the conditional PMF of the
    Pareto/NBD model. Note, http://brucehardie.com/notes/

    Examples
    --------
    >>> p = ParetoNbdParams(r=0.55, alpha=10.58, s=0.61, beta=11.67)
    >>> [round(conditional_purchase_count_probability(p, k, 39.0, 2, 30.43, 38.86), 4)
    ...  for k in range(3)]
    [0.4094, 0.2192, 0.1514]
    >>> conditional_purchase_count_probability(p, -1, 39.0, 2, 30.43, 38.86)
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: n must be non-negative; ...
    """
    inp.check_params(params, ParetoNbdParams)
    h = inp.spread_single(inp.histories(frequency, recency, T), n)
    nn = inp.counts_per_customer(n, h.x.size)
    tt = inp.horizon(t, h.x.size)
    if h.x.size == 0:
        return np.zeros(0)
    theta = params.as_array()
    log_alive = _log_probability_alive(theta, h.x, h.tx, h.T)
    r, alpha, s, beta = (float(q) for q in theta)
    # P_new depends on (x, T, n, t) only: once per distinct combination
    (xk, tk, nk, hk), inverse = inp.distinct_rows(h.x, h.T, nn, tt)
    log_p = _log_pmf_new_rows((r + xk, alpha + tk, s, beta + tk), nk, hk)[inverse]
    with np.errstate(all="ignore"):
        dead = -np.expm1(log_alive)
        out = np.exp(np.minimum(log_alive + log_p, 0.0)) + np.where(nn == 0, dead, 0.0)
    return inp.finish(np.asarray(np.clip(out, 0.0, 1.0), dtype=np.float64), h.single)


def discounted_expected_residual_purchases(
    params: ParetoNbdParams,
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
    params : ParetoNbdParams
    frequency, recency, T : array-like, or a CustomerSummary as ``frequency``
        Histories (x, t_x, T); single numbers are one customer (a float back).
        x = t_x = T = 0 gives the DERT of a customer just acquired.
    discount_rate : float
        Continuous discount rate per time unit of alpha and beta (> 0).

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
    The appendix of Fader, Hardie & Lee (2005, "RFM and CLV"):

    ``DERT(δ) = α^r β^s δ^(s-1) Γ(r+x+1) U(s, s; δ(β+T))
    / (Γ(r) (α+T)^(r+x+1) L(r, α, s, β | x, t_x, T))``,

    U the confluent hypergeometric function of the second kind, i.e.
    ``P(alive) (r+x)/(α+T) E[1/(δ+μ)]`` with μ ~ Gamma(s, β+T), which is
    ``P(alive) (r+x)/((α+T) δ) W``, ``W = z^s U(s, s; z) = ∫_0^∞ e^-v
    (1 + v/z)^-s dv``, ``z = δ(β+T)``. ``W`` lies in (0, 1); scipy's
    ``hyperu`` returns 0 or NaN for large s and small or large z, so ``W`` is
    computed by the piecewise Gauss-Legendre rule of the BG/NBD DERT (pieces
    from ``min(1, z/(s+1))/4``, growing fourfold up to v = 60), once per
    distinct T (relative error below 1e-12 against mpmath's ``hyperu`` in
    the tests). As δ -> 0 it tends to the expected purchases over the whole
    future, ``P(alive) (r+x)(β+T)/((α+T)(s-1))``, finite for s > 1.

    References
    ----------
    Fader, P. S., Hardie, B. G. S., & Lee, K. L. (2005). RFM and CLV: Using
    iso-value curves for customer base analysis. Journal of Marketing
    Research, 42(4), 415-430.

    Examples
    --------
    >>> p = ParetoNbdParams(r=0.55, alpha=10.58, s=0.61, beta=11.67)
    >>> discounted_expected_residual_purchases(p, [2, 0], [30.43, 0.0], [38.86, 38.86],
    ...                                        discount_rate=0.002).round(3).tolist()
    [7.692, 0.561]
    >>> discounted_expected_residual_purchases(p, 2, 30.43, 38.86, discount_rate=0.0)
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: discount_rate must be > 0.0, got 0.0
    """
    from crmcore import _validation as v

    inp.check_params(params, ParetoNbdParams)
    rate = v.check_float(discount_rate, "discount_rate", low=0.0, low_open=True)
    h = inp.histories(frequency, recency, T)
    if h.x.size == 0:
        return np.zeros(0)
    theta = params.as_array()
    r, alpha, s, beta = (float(q) for q in theta)
    log_alive = _log_probability_alive(theta, h.x, h.tx, h.T)
    t_values, inverse = np.unique(h.T, return_inverse=True)
    log_w = _log_discount_factor(s, rate * (beta + t_values))[inverse.reshape(-1)]
    with np.errstate(all="ignore"):
        out = np.exp(log_alive + np.log(r + h.x) - np.log(alpha + h.T) - np.log(rate) + log_w)
    return inp.finish(np.asarray(out, dtype=np.float64), h.single)


def _log_discount_factor(s: float, z: FloatArray) -> FloatArray:
    """Return log W, W = z^s U(s, s; z) = ∫_0^∞ e^-v (1 + v/z)^-s dv (see the DERT)."""
    from crmcore.models import _quad

    with np.errstate(all="ignore"):
        row, v, w = _quad.pieces(np.minimum(1.0, z / (s + 1.0)) / 4.0, np.full(z.shape, 60.0))
        zr = z[row][:, None]
        terms = w * np.exp(-v - s * np.log1p(v / zr))
        return np.asarray(np.log(_quad.sum_rows(row, terms, z.size)), dtype=np.float64)


def _log_pmf_new_rows(
    post: tuple[FloatArray, FloatArray, float, FloatArray], n: FloatArray, t: FloatArray
) -> FloatArray:
    """Return log P(X(t) = n) of a new Pareto/NBD customer, parameters (r, α, s, β) per row."""
    r1, a1, s, b1 = post
    with np.errstate(all="ignore"):
        log_coef = sc.gammaln(r1 + n) - sc.gammaln(r1) - sc.gammaln(n + 1.0)
        log_nb = (
            log_coef
            + r1 * (np.log(a1) - np.log(a1 + t))
            + np.where(n > 0, n * (np.log(t) - np.log(a1 + t)), 0.0)
        )
        log_alive = np.where(t > 0, log_nb - s * np.log1p(t / b1), np.where(n == 0, 0.0, -np.inf))
        log_dead = np.full(n.shape, -np.inf)
        pos = np.flatnonzero(t > 0)
        for s0 in range(0, pos.size, 1024):  # rows x pieces x nodes, a thousand rows at a time
            i = pos[s0 : s0 + 1024]
            log_j = _log_death_integral_rows((r1[i], a1[i], s, b1[i]), n[i], t[i])
            log_front = log_coef[i] + r1[i] * np.log(a1[i]) + np.log(s) + s * np.log(b1[i])
            log_dead[i] = log_front + log_j
        return np.asarray(np.logaddexp(log_alive, log_dead), dtype=np.float64)


def _log_death_integral_rows(
    post: tuple[FloatArray, FloatArray, float, FloatArray], n: FloatArray, t: FloatArray
) -> FloatArray:
    """Return log ∫_0^t τ^n (α+τ)^-(r+n) (β+τ)^-(s+1) dτ with r, α, β per row (t > 0).

    The rule of :func:`crmcore.models._hyp2f1.log_death_integral` (tanh-sinh
    on pieces cut at α, β and the maximum of the integrand; the expansion in
    ``ε = t ((r+n)/α + (s+1)/β)`` below 1e-6), with per-row parameters.
    """
    r, alpha, s, beta = post
    eps = t * ((r + n) / alpha + (s + 1.0) / beta)
    out = np.empty(n.shape)
    short = eps < 1e-6
    out[short] = (
        (n[short] + 1.0) * np.log(t[short])
        - np.log1p(n[short])
        - (r[short] + n[short]) * np.log(alpha[short])
        - (s + 1.0) * np.log(beta[short])
        + np.log1p(-(n[short] + 1.0) / (n[short] + 2.0) * eps[short])
    )
    k = ~short
    if not k.any():
        return out
    rk, ak, bk, nk, tk = r[k], alpha[k], beta[k], n[k], t[k]
    big_b = nk * ak - rk * bk - (s + 1.0) * ak
    disc = np.sqrt(big_b * big_b + 4.0 * (rk + s + 1.0) * nk * ak * bk)
    peak = np.where(
        big_b > 0,
        (big_b + disc) / (2.0 * (rk + s + 1.0)),
        2.0 * nk * ak * bk / np.where(disc - big_b > 0, disc - big_b, 1.0),
    )
    cuts = np.sort(np.stack([ak, bk, peak], axis=1), axis=1)
    knots = np.concatenate([np.zeros((nk.size, 1)), np.minimum(cuts, tk[:, None]), tk[:, None]], 1)
    nodes, weights = _hyp2f1._tanh_sinh(knots[:, :-1], knots[:, 1:])
    n3, r3 = nk[:, None, None], rk[:, None, None]
    phi = (
        np.where(n3 > 0, n3 * np.log(nodes), 0.0)
        - (r3 + n3) * np.log(ak[:, None, None] + nodes)
        - (s + 1.0) * np.log(bk[:, None, None] + nodes)
    )
    phi = np.where(weights > 0, phi, -np.inf)
    top = phi.max(axis=(1, 2))
    total = (weights * np.exp(phi - top[:, None, None])).sum(axis=(1, 2))
    out[k] = top + np.log(total)
    return out


def _discount_rate(discount_rate: object) -> float:
    from crmcore import _validation as v

    return v.check_float(discount_rate, "discount_rate", low=0.0, low_open=True)
