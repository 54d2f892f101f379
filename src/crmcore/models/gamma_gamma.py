"""The Gamma-Gamma model of spend per transaction (Fader, Hardie & Lee 2005).

The value of each of a customer's transactions is Gamma(shape p, rate nu);
across customers nu ~ Gamma(shape q, rate v). So a customer's mean transaction
value is p / nu, and the mean over customers is p v / (q - 1). Spend is
assumed independent of the purchase process (check that the correlation of
frequency and mean spend is weak before combining it with a purchase model).
The data are the ``frequency`` (x, the number of transactions averaged: the
repeat purchases in :func:`crmcore.summarize`) and the ``monetary_value``
(their mean) of customers with at least one repeat purchase.

Examples
--------
>>> from crmcore.models import gamma_gamma
>>> params = gamma_gamma.GammaGammaParams(p=6.25, q=3.74, v=15.44)
>>> round(gamma_gamma.expected_spend(params), 2)
35.22
>>> gamma_gamma.conditional_expected_spend(params, [1, 10], [20.0, 20.0]).round(2).tolist()
[24.64, 20.64]
"""

from __future__ import annotations

from typing import Any, overload

import attrs
import numpy as np
from scipy import special as sc

from crmcore import _validation as v
from crmcore._typing import ArrayLike, FloatArray, SeedLike
from crmcore.errors import InputError, InputTypeError
from crmcore.models import _draws, _spend_covariates
from crmcore.models import _inputs as inp
from crmcore.models._covariates import Covariates
from crmcore.models._draws import ParameterDraws
from crmcore.models._inputs import positive_param
from crmcore.models._mle import Objective, distinct_values, fit_fields, maximize_likelihood
from crmcore.models._spend_covariates import GammaGammaCovariateFit
from crmcore.summary import CustomerSummary

__all__ = [
    "GammaGammaCovariateFit",
    "GammaGammaFit",
    "GammaGammaParams",
    "conditional_expected_spend",
    "expected_spend",
    "fit",
    "log_likelihood",
    "log_likelihood_per_customer",
]

_NAMES = ("p", "q", "v")
_HINT = (
    "Try initial= closer to the expected values (e.g. a fit to a sample), monetary values "
    "in a currency unit that makes them of order 1 to 1000, or check the spend data for "
    "errors (zero or extreme amounts)"
)
_LIMIT_HINT = (
    "the spend data may be consistent with a limiting model: q and v running to infinity "
    "together means every customer has the same mean spend (no heterogeneity), p running to "
    "infinity means each customer's transaction values hardly vary; a simpler spend model "
    "(e.g. the average spend) may suit these data, or fit more customers with several "
    "transactions each"
)


@attrs.frozen(kw_only=True)
class GammaGammaParams:
    """Parameters of the Gamma-Gamma spend model.

    Attributes
    ----------
    p : float
        Shape of the gamma distribution of one transaction's value.
    q, v : float
        Shape and rate of the gamma distribution of the customers' rate nu;
        v is in the currency unit of the spend (spend in cents multiplies it
        by 100 and leaves p and q unchanged).

    Raises
    ------
    InputError
        When a parameter is not positive and finite.

    Examples
    --------
    >>> GammaGammaParams(p=6.25, q=3.74, v=15.44).q
    3.74
    >>> GammaGammaParams(p=6.25, q=0.0, v=15.44)
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: q must be > 0.0, got 0.0
    """

    p: float = positive_param()
    q: float = positive_param()
    v: float = positive_param()

    def as_array(self) -> FloatArray:
        """Return ``[p, q, v]``."""
        return np.array([self.p, self.q, self.v])


@attrs.frozen(kw_only=True, eq=False)
class GammaGammaFit:
    """A fitted Gamma-Gamma model, built by :func:`fit`.

    Attributes
    ----------
    params : GammaGammaParams
        Maximum-likelihood estimates.
    standard_errors : GammaGammaParams
        Asymptotic standard errors.
    covariance : ndarray, shape (3, 3)
        Asymptotic covariance of (p, q, v).
    log_likelihood : float
        Total log-likelihood (weights applied) of the mean spends.
    n_customers : float
        Repeat customers used (the sum of their weights).
    converged : bool
        False when the fit came with a ConvergenceWarning because the data
        barely identify some parameter (see :func:`fit`); a failed search
        raises instead.
    n_iterations : int
        Optimiser iterations.

    Examples
    --------
    >>> f = fit([1, 2, 2, 3, 5, 8], [12.0, 30.0, 25.0, 18.5, 40.0, 22.0],
    ...         weights=[40, 25, 20, 12, 8, 5])
    >>> f.n_customers, f.converged
    (110.0, True)
    """

    params: GammaGammaParams
    standard_errors: GammaGammaParams
    covariance: FloatArray
    log_likelihood: float
    n_customers: float
    converged: bool
    n_iterations: int

    def conditional_expected_spend(
        self, frequency: ArrayLike | CustomerSummary, monetary_value: ArrayLike | None = None
    ) -> Any:
        """Return :func:`conditional_expected_spend` at the fitted parameters."""
        return conditional_expected_spend(self.params, frequency, monetary_value)

    def expected_spend(self) -> float:
        """Return :func:`expected_spend` at the fitted parameters."""
        return expected_spend(self.params)

    def log_likelihood_per_customer(
        self, frequency: ArrayLike | CustomerSummary, monetary_value: ArrayLike | None = None
    ) -> Any:
        """Return :func:`log_likelihood_per_customer` at the fitted parameters."""
        return log_likelihood_per_customer(self.params, frequency, monetary_value)

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

        n = ``n_customers``, the repeat customers the fit used (the sum of their
        weights): only customers with frequency > 0 enter the likelihood, one
        independent observation (their mean spend) each (Schwarz 1978: n counts the
        independent observations).
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
        >>> f = fit([1, 2, 2, 3, 5, 8], [12.0, 30.0, 25.0, 18.5, 40.0, 22.0],
        ...         weights=[40, 25, 20, 12, 8, 5])
        >>> draws = f.sample_params(500, rng=0)
        >>> draws.values.shape[0], draws.names
        (500, ('p', 'q', 'v'))
        >>> f.sample_params(0, rng=0)
        Traceback (most recent call last):
        ...
        crmcore.errors.InputError: n_draws must be >= 1, got 0
        """
        return _draws.sample_params(self.params, self.covariance, n_draws, rng)


@attrs.frozen(kw_only=True, eq=False)
class _SpendData:
    frequency: FloatArray
    monetary_value: FloatArray
    weights: FloatArray


@overload
def fit(
    frequency: ArrayLike | CustomerSummary,
    monetary_value: ArrayLike | None = None,
    *,
    weights: ArrayLike | None = None,
    initial: GammaGammaParams | None = None,
    spend_covariates: None = None,
) -> GammaGammaFit: ...
@overload
def fit(
    frequency: ArrayLike | CustomerSummary,
    monetary_value: ArrayLike | None = None,
    *,
    weights: ArrayLike | None = None,
    initial: GammaGammaParams | None = None,
    spend_covariates: Covariates,
) -> GammaGammaCovariateFit: ...
def fit(
    frequency: ArrayLike | CustomerSummary,
    monetary_value: ArrayLike | None = None,
    *,
    weights: ArrayLike | None = None,
    initial: GammaGammaParams | None = None,
    spend_covariates: Covariates | None = None,
) -> GammaGammaFit | GammaGammaCovariateFit:
    """Fit the Gamma-Gamma spend model by maximum likelihood.

    Parameters
    ----------
    frequency : array-like or CustomerSummary
        Number of transactions behind each mean (x). Rows with frequency 0
        carry no spend information and are left out. With a summary, its
        ``frequency`` and ``monetary_value`` are used (``monetary_value`` is
        left out then).
    monetary_value : array-like
        Mean transaction value; must be positive where frequency > 0.
    weights : array-like, optional
        Non-negative number of customers each row stands for (default 1).
    initial : GammaGammaParams, optional
        Starting point; by default p = 1, q = 2 and v = the weighted mean of
        ``monetary_value`` (so that the implied mean spend matches it); with
        covariates, the plain fit's estimates.
    spend_covariates : array-like or mapping, optional
        Time-invariant covariates: a (customers, k) array, one row per row of
        ``frequency`` (names ``z0``, ``z1``, ...), or a mapping name -> column.
        Customer i then has ``v_i = v exp(γ·z_i)``, so that her expected spend
        is multiplied by ``exp(γ·z_i)`` (see
        :class:`GammaGammaCovariateFit` and the explanation page on
        covariates). Rows with frequency 0 are left out with their covariates.

    Returns
    -------
    GammaGammaFit or GammaGammaCovariateFit
        The latter when covariates are given.

    Raises
    ------
    InputError
        On negative or fractional frequencies, non-positive spend of a repeat
        customer, mismatched lengths, or no repeat customer; on covariates
        without one finite row per customer, or with a column that is
        constant over the repeat customers (not identified).
    InputTypeError
        When ``frequency`` is a summary and ``monetary_value`` is given too,
        when arrays are given without ``monetary_value``, or on non-numeric
        input.
    ConvergenceError
        When the optimiser fails; the message says what to try.

    Warns
    -----
    ConvergenceWarning
        When the data barely identify a parameter (see
        :func:`crmcore.models._mle.maximize_likelihood`); the fit then has
        ``converged=False``.

    Notes
    -----
    The likelihood is that of :func:`log_likelihood`. Identical (x, mean)
    rows are merged into weighted rows before optimising.

    References
    ----------
    Fader, P. S., Hardie, B. G. S., & Lee, K. L. (2005). RFM and CLV: Using
    iso-value curves for customer base analysis. Journal of Marketing
    Research, 42(4), 415-430.

    Fader, P. S., & Hardie, B. G. S. (2013). The Gamma-Gamma model of
    monetary value. http://www.brucehardie.com/notes/025/

    Examples
    --------
    >>> f = fit([1, 2, 2, 3, 5, 8], [12.0, 30.0, 25.0, 18.5, 40.0, 22.0],
    ...         weights=[40, 25, 20, 12, 8, 5])
    >>> round(f.params.p, 2), round(f.params.q, 2), round(f.params.v, 1)
    (5.16, 24.51, 109.3)
    >>> fit([1, 2], [10.0, 0.0])
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: monetary_value must be positive where frequency > 0; ...
    """
    if spend_covariates is not None:
        return _spend_covariates.fit_gamma_gamma(
            frequency,
            monetary_value,
            weights=weights,
            initial=initial,
            spend_covariates=spend_covariates,
        )
    data = _spend_data(frequency, monetary_value, weights, compress=True)
    if initial is not None:
        inp.check_params(initial, GammaGammaParams, "initial")
        start = initial.as_array()
    else:
        mean_m = float(np.average(data.monetary_value, weights=data.weights))
        start = np.array([1.0, 2.0, mean_m])
    total_w = float(data.weights.sum())
    res = maximize_likelihood(
        _objective(data),
        start,
        names=_NAMES,
        model="Gamma-Gamma",
        n_customers=total_w,
        hint=_HINT,
        limit_hint=_LIMIT_HINT,
    )
    return GammaGammaFit(
        **fit_fields(res, GammaGammaParams),
        n_customers=total_w,
    )


def log_likelihood(
    params: GammaGammaParams,
    frequency: ArrayLike | CustomerSummary,
    monetary_value: ArrayLike | None = None,
    *,
    weights: ArrayLike | None = None,
) -> float:
    """Total Gamma-Gamma log-likelihood of the repeat customers' mean spends.

    Parameters
    ----------
    params : GammaGammaParams
    frequency, monetary_value : array-like, or a CustomerSummary as ``frequency``
        Rows with frequency 0 are left out.
    weights : array-like, optional
        Non-negative weight per row (default 1).

    Returns
    -------
    float

    Raises
    ------
    InputError
        As :func:`fit`.
    InputTypeError
        When ``frequency`` is a summary and ``monetary_value`` is given too,
        when arrays are given without ``monetary_value``, or on non-numeric
        input.

    Notes
    -----
    With x transactions of mean m, x m ~ Gamma(p x, nu) given nu; integrating
    nu ~ Gamma(q, v) out (Fader & Hardie 2013):

    ``f(m | x) = Γ(px+q) / (Γ(px) Γ(q)) · v^q m^(px-1) x^(px) / (v + x m)^(px+q)``,

    evaluated in logs.

    Examples
    --------
    >>> p = GammaGammaParams(p=6.25, q=3.74, v=15.44)
    >>> round(log_likelihood(p, [1, 4], [20.0, 35.0]), 4)
    -7.6415
    >>> log_likelihood(p, [1], [20.0, 35.0])
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: monetary_value must have the same length as frequency; got 2 and 1
    """
    inp.check_params(params, GammaGammaParams)
    data = _spend_data(frequency, monetary_value, weights, compress=False)
    value, _ = _objective(data)(params.as_array())
    return float(value)


def log_likelihood_per_customer(
    params: GammaGammaParams,
    frequency: ArrayLike | CustomerSummary,
    monetary_value: ArrayLike | None = None,
) -> Any:
    """Gamma-Gamma log-density of each customer's mean spend.

    Parameters
    ----------
    params : GammaGammaParams
    frequency, monetary_value : array-like, or a CustomerSummary as ``frequency``
        Single numbers are one customer: the result is then a float.

    Returns
    -------
    float or ndarray
        One value per row; 0 for rows with frequency 0 (no information).

    Raises
    ------
    InputError
        As :func:`fit`.
    InputTypeError
        When ``frequency`` is a summary and ``monetary_value`` is given too,
        when arrays are given without ``monetary_value``, or on non-numeric
        input.

    Examples
    --------
    >>> p = GammaGammaParams(p=6.25, q=3.74, v=15.44)
    >>> log_likelihood_per_customer(p, [1, 4, 0], [20.0, 35.0, 0.0]).round(4).tolist()
    [-3.5942, -4.0473, 0.0]
    >>> log_likelihood_per_customer(p, [1], [-2.0])
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: monetary_value must be non-negative; ...
    """
    inp.check_params(params, GammaGammaParams)
    x, m, single = _spend_arrays(frequency, monetary_value)
    out = np.zeros(x.size)
    rep = x > 0
    out[rep] = _loglik_rows(params, x[rep], m[rep])
    return inp.finish(out, single)


def conditional_expected_spend(
    params: GammaGammaParams,
    frequency: ArrayLike | CustomerSummary,
    monetary_value: ArrayLike | None = None,
) -> Any:
    """Return each customer's expected spend per transaction given her history.

    Parameters
    ----------
    params : GammaGammaParams
    frequency, monetary_value : array-like, or a CustomerSummary as ``frequency``
        Customers with frequency 0 get the population mean
        :func:`expected_spend`.
        Single numbers are one customer: the result is then a float.

    Returns
    -------
    float or ndarray
        ``inf`` where the posterior mean is infinite (p x + q <= 1).

    Raises
    ------
    InputError
        As :func:`fit`.
    InputTypeError
        When ``frequency`` is a summary and ``monetary_value`` is given too,
        when arrays are given without ``monetary_value``, or on non-numeric
        input.

    Notes
    -----
    The posterior of nu is Gamma(px + q, v + x m), so (Fader, Hardie & Lee
    2005, "RFM and CLV")

    ``E[Z | x, m] = p (v + x m) / (px + q - 1)
    = (q-1)/(px+q-1) · p v/(q-1) + px/(px+q-1) · m``,

    a weighted mean of the population mean and the customer's own mean.

    Examples
    --------
    >>> p = GammaGammaParams(p=6.25, q=3.74, v=15.44)
    >>> conditional_expected_spend(p, [0, 2], [0.0, 50.0]).round(2).tolist()
    [35.22, 47.34]
    >>> conditional_expected_spend(p, [2], [50.0, 1.0])
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: monetary_value must have the same length as frequency; got 2 and 1
    """
    inp.check_params(params, GammaGammaParams)
    read = _spend_arrays_read(frequency, monetary_value)
    if read is not None:  # valid float64 arrays, only read here: no copy
        return _conditional_spend(params, *read)
    x, m, single = _spend_arrays(frequency, monetary_value)
    return inp.finish(_conditional_spend(params, x, m), single)


def expected_spend(params: GammaGammaParams) -> float:
    """Return the mean spend per transaction over customers, p v / (q - 1).

    Parameters
    ----------
    params : GammaGammaParams

    Returns
    -------
    float
        ``inf`` when q <= 1: the mean of 1/nu over the Gamma(q, v) population
        is then infinite (fitted values of q near or below 1 point to a few
        customers with extreme spend).

    Raises
    ------
    InputTypeError
        When ``params`` is not a GammaGammaParams.

    Examples
    --------
    >>> expected_spend(GammaGammaParams(p=6.25, q=3.74, v=15.44))
    35.2189...
    >>> expected_spend(GammaGammaParams(p=2.0, q=0.9, v=10.0))
    inf
    >>> expected_spend((6.25, 3.74, 15.44))
    Traceback (most recent call last):
    ...
    crmcore.errors.InputTypeError: params must be GammaGammaParams, got tuple
    """
    inp.check_params(params, GammaGammaParams)
    if params.q <= 1.0:
        return float("inf")
    return params.p * params.v / (params.q - 1.0)


# --------------------------------------------------------------------------- helpers


def _spend_arrays(
    frequency: ArrayLike | CustomerSummary, monetary_value: ArrayLike | None
) -> tuple[FloatArray, FloatArray, bool]:
    """Return validated (x, m) and whether they were one customer's two numbers."""
    single = False
    # A wrong combination of arguments is a TypeError (as Python's for a missing or an
    # unexpected argument), here as in the purchase models (see _inputs.summary_or_arrays).
    if isinstance(frequency, CustomerSummary):
        if monetary_value is not None:
            raise InputTypeError("monetary_value must be left out when frequency is a summary")
        x = frequency.frequency.astype(np.float64)
        m = np.asarray(frequency.monetary_value, dtype=np.float64)
    else:
        if monetary_value is None:
            raise InputTypeError("monetary_value is required unless frequency is a CustomerSummary")
        fast = _spend_arrays_fast(frequency, monetary_value)
        if fast is not None:
            return fast[0], fast[1], False
        (f_in, m_in), single = inp.single_customer(frequency, monetary_value)
        x = v.as_int_array(f_in, "frequency", allow_empty=True, nonnegative=True).astype(np.float64)
        m = v.as_float_array(m_in, "monetary_value", allow_empty=True, nonnegative=True)
        v.check_same_length(("frequency", x), ("monetary_value", m))
    bad = (x > 0) & (m <= 0)
    if bad.any():
        raise InputError(
            "monetary_value must be positive where frequency > 0; "
            + v.describe_violations(bad, ("frequency", x), ("monetary_value", m)).replace(
                "values", "customers"
            )
        )
    return x, m, single


def _spend_arrays_fast(frequency: object, monetary_value: object) -> tuple[Any, Any] | None:
    """Return what :func:`_spend_arrays` returns for valid arrays a few reductions vouch for.

    Non-empty int64 or float64 counts and float64 values of one length: the
    counts whole, >= 0 and below 2**63, the values finite and >= 0, and
    positive where the count is. Anything else (all invalid input included)
    gives None: the full checks then build the message. The counts come back
    as a new float64 array (-0.0 read as 0.0), the values as given.
    """
    f, mv = frequency, monetary_value
    if not (
        type(f) is np.ndarray
        and type(mv) is np.ndarray
        and f.ndim == mv.ndim == 1
        and f.dtype.kind in "if"
        and f.dtype.itemsize == 8
        and mv.dtype == np.float64
        and 0 < f.size == mv.size
    ):
        return None
    with np.errstate(invalid="ignore"):
        if not (f.min() >= 0 and mv.min() >= 0.0 and mv.max() < np.inf):
            return None
        if f.dtype.kind == "f":
            if not f.max() < 2.0**63:
                return None
            x = np.floor(f)
            if not np.array_equal(x, f):
                return None
            x += 0.0  # -0.0 becomes 0.0, as through int64
        else:
            x = f.astype(np.float64)
        if not mv.min() > 0.0:
            bad = mv <= 0.0
            if np.logical_and(bad, x > 0.0, out=bad).any():
                return None
    return x, mv


def _spend_arrays_read(frequency: object, monetary_value: object) -> tuple[Any, Any] | None:
    """Return valid float64 arrays (x, m) as given, for a computation that only reads them.

    As :func:`_spend_arrays_fast` for float64 counts, without the copy of the
    counts: their wholeness is checked in cache-sized chunks. -0.0 counts are
    left as they are (every formula reading them gives the value of 0.0).
    Anything else gives None.
    """
    f, mv = frequency, monetary_value
    if not (
        type(f) is np.ndarray
        and type(mv) is np.ndarray
        and f.ndim == mv.ndim == 1
        and f.dtype == np.float64
        and mv.dtype == np.float64
        and 0 < f.size == mv.size
    ):
        return None
    with np.errstate(invalid="ignore"):
        if not (f.min() >= 0.0 and f.max() < 2.0**63 and mv.min() >= 0.0 and mv.max() < np.inf):
            return None
        buf = np.empty(min(f.size, _CHUNK))
        flag = np.empty(buf.size, dtype=np.bool_)
        flag2 = np.empty(buf.size, dtype=np.bool_)
        check_m = not mv.min() > 0.0
        for s0 in range(0, f.size, _CHUNK):
            part = f[s0 : s0 + _CHUNK]
            k = part.size
            np.floor(part, out=buf[:k])
            if np.not_equal(buf[:k], part, out=flag[:k]).any():
                return None  # not whole
            if check_m:  # monetary_value must be positive where frequency is
                np.less_equal(mv[s0 : s0 + k], 0.0, out=flag[:k])
                np.greater(part, 0.0, out=flag2[:k])
                if np.logical_and(flag[:k], flag2[:k], out=flag[:k]).any():
                    return None
    return f, mv


_CHUNK = 1 << 16  # rows per vector operation of the checks and of the expected spend


def _spend_data(
    frequency: ArrayLike | CustomerSummary,
    monetary_value: ArrayLike | None,
    weights: ArrayLike | None,
    *,
    compress: bool,
) -> _SpendData:
    x, m, _ = _spend_arrays(frequency, monetary_value)
    if weights is None:
        w = np.ones(x.size)
    else:
        w = v.as_float_array(weights, "weights", allow_empty=True, nonnegative=True)
        v.check_same_length(("frequency", x), ("weights", w))
    keep = (x > 0) & (w > 0)
    x, m, w = x[keep], m[keep], w[keep]
    if x.size == 0:
        raise InputError(
            "frequency must include at least one repeat customer (frequency > 0, positive "
            "weight); the Gamma-Gamma model is fitted on repeat customers only"
        )
    order = np.lexsort((m, x))
    x, m, w = x[order], m[order], w[order]
    if compress:
        new = np.ones(x.size, dtype=np.bool_)
        new[1:] = (x[1:] != x[:-1]) | (m[1:] != m[:-1])
        starts = np.flatnonzero(new)
        x, m, w = x[starts], m[starts], np.add.reduceat(w, starts)
    return _SpendData(frequency=x, monetary_value=m, weights=w)


def _loglik_rows(params: GammaGammaParams, x: FloatArray, m: FloatArray) -> FloatArray:
    p, q, gv = params.p, params.q, params.v
    px = p * x
    out = (
        sc.gammaln(px + q)
        - sc.gammaln(px)
        - sc.gammaln(q)
        + q * np.log(gv)
        + (px - 1.0) * np.log(m)
        + px * np.log(x)
        - (px + q) * np.log(gv + x * m)
    )
    return np.asarray(out, dtype=np.float64)


def _objective(data: _SpendData) -> Objective:
    """Total log-likelihood and gradient; per-x terms once per distinct x."""
    x, m, w = data.frequency, data.monetary_value, data.weights
    xu, idx = distinct_values(x)
    w_x = np.bincount(idx, weights=w, minlength=xu.size)
    xw_x = w_x * xu
    sum_w = float(w.sum())
    wx = w * x
    log_m = np.log(m)
    c_xlogm = _dot(wx, log_m)  # sum w x log m
    c_logm = _dot(w, log_m)  # sum w log m
    c_xlogx = float(xw_x @ np.log(xu))  # sum w x log x
    xm = x * m
    buf = np.empty(x.size)

    def objective(theta: FloatArray) -> tuple[float, FloatArray]:
        p, q, gv = (float(t) for t in theta)
        pxu = p * xu
        np.add(gv, xm, out=buf)
        np.log(buf, out=buf)  # log(v + x m)
        s_xl = _dot(wx, buf)
        s_l = _dot(w, buf)
        total = (
            float(w_x @ (sc.gammaln(pxu + q) - sc.gammaln(pxu)))
            - sum_w * float(sc.gammaln(q))
            + sum_w * q * np.log(gv)
            + p * c_xlogm
            - c_logm
            + p * c_xlogx
            - p * s_xl
            - q * s_l
        )
        psi = sc.digamma(pxu + q)
        d_p = float(xw_x @ (psi - sc.digamma(pxu))) + c_xlogm + c_xlogx - s_xl
        d_q = float(w_x @ psi) - sum_w * float(sc.digamma(q)) + sum_w * np.log(gv) - s_l
        np.negative(buf, out=buf)
        np.exp(buf, out=buf)  # 1/(v + x m)
        d_v = sum_w * q / gv - p * _dot(wx, buf) - q * _dot(w, buf)
        return float(total), np.array([d_p, d_q, d_v])

    return objective


def _conditional_spend(params: GammaGammaParams, x: FloatArray, m: FloatArray) -> FloatArray:
    """Return p (v + x m) / (p x + q - 1), inf where the denominator is not positive.

    Computed directly, in chunks that stay in the processor cache, when every
    numerator and denominator lies well inside the float range (three
    reductions tell), which is
    accurate to a few ulps; else in logs (:func:`_conditional_spend_logs`),
    where the product p (v + x m) would overflow (p = 1e8, x m = 1e306) while
    the ratio is of the order of m.
    """
    p, q, gv = params.p, params.q, params.v
    if x.size:
        # Every x, m >= 0 and rounding is monotone, so each numerator (x m + v) p lies in
        # [v p, (x_max m_max + v) p] and each denominator p x + q - 1 between its values at
        # x_min and x_max: the extremes need no pass over the products.
        x_lo, x_hi, m_hi = float(x.min()), float(x.max()), float(m.max())
        with np.errstate(all="ignore"):
            num_lo, num_hi = gv * p, (x_hi * m_hi + gv) * p
            den_lo, den_hi = p * x_lo + q - 1.0, p * x_hi + q - 1.0
        if (
            den_lo >= _SAFE_LOW
            and den_hi <= _SAFE_HIGH
            and num_lo >= _SAFE_LOW
            and num_hi <= _SAFE_HIGH
        ):
            out = np.empty(x.size)
            den = np.empty(min(x.size, _CHUNK))
            for s0 in range(0, x.size, _CHUNK):
                xs = x[s0 : s0 + _CHUNK]
                o = out[s0 : s0 + xs.size]
                d = den[: xs.size]
                np.multiply(xs, m[s0 : s0 + xs.size], out=o)
                o += gv
                o *= p
                np.multiply(p, xs, out=d)
                d += q
                d -= 1.0
                o /= d
            return out
    return _conditional_spend_logs(params, x, m)


_SAFE_LOW, _SAFE_HIGH = 1e-150, 1e150  # the ratio stays in range; NaN fails both


def _conditional_spend_logs(params: GammaGammaParams, x: FloatArray, m: FloatArray) -> FloatArray:
    p, q, gv = params.p, params.q, params.v
    denom = p * x + q - 1.0
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        # p (v + x m) / (p x + q - 1) in logs: the product p (v + x m) can overflow
        # (p = 1e8, x m = 1e306) while the ratio is of the order of m.
        log_num = np.log(p) + np.logaddexp(np.log(gv), np.log(x) + np.log(m))
        ratio = np.exp(log_num - np.log(np.where(denom > 0, denom, 1.0)))
        out = np.where(denom > 0, ratio, np.inf)
    return np.asarray(out, dtype=np.float64)


def _dot(a: FloatArray, b: FloatArray) -> float:
    """Dot product of long vectors without BLAS (whose threads stall on a busy machine)."""
    return float(np.einsum("i,i->", a, b))
