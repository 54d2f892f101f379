"""Normal and Student-t distribution functions without scipy (private).

The core of crmcore depends on numpy and attrs only, yet confidence intervals
need normal and Student-t quantiles. This module computes them for scalar
arguments with the standard library's ``math`` (``erfc``, ``lgamma``):

* :func:`normal_ppf` — Acklam's (2003) rational approximation (relative error
  below 1.15e-9) polished by two Halley steps on ``math.erfc``, which brings
  it to machine precision.
* :func:`t_sf`, :func:`t_cdf` — through the regularized incomplete beta
  function, ``P(T > t) = I_{v/(v+t²)}(v/2, 1/2) / 2`` for ``t >= 0``, whose
  continued fraction is evaluated with the modified Lentz method, in log
  space so that far tails neither underflow nor lose precision.
* :func:`t_ppf` — Newton's method on ``log P(T > t)`` as a function of
  ``log t``. That function is concave and the start is always right of the
  root (the bound ``P(T > t) <= c·t^(-v)``), so the iterates decrease
  monotonically to the root.

References
----------
Acklam, P. J. (2003). An algorithm for computing the inverse normal
cumulative distribution function.
Abramowitz, M. & Stegun, I. A. (1964). Handbook of Mathematical Functions,
26.5.8 (continued fraction of the incomplete beta function) and 26.7.5
(Cornish-Fisher expansion of the t quantile).
Lentz, W. J. (1976). Generating Bessel functions in Mie scattering
calculations using continued fractions. Applied Optics 15(3), 668-671.
"""

from __future__ import annotations

import math

from .errors import ConvergenceError, InputError

__all__ = ["normal_cdf", "normal_ppf", "normal_sf", "t_cdf", "t_ppf", "t_sf"]

_SQRT2 = math.sqrt(2.0)
_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)
_EPS = 2.0**-52
_TINY = 1e-300
_LOG_HALF = math.log(0.5)
_MAX = 1.7976931348623157e308  # largest float
_LOG_MAX = math.log(_MAX)
# From this many degrees of freedom on, the four-term Cornish-Fisher expansion
# of the t quantile is exact to double precision (its error is of order
# z^11/v^5), while the continued fraction loses digits as v grows.
_DF_LARGE = 1e5

# Acklam's coefficients: central region numerator/denominator, tail region
# numerator/denominator.
_A = (
    -3.969683028665376e01,
    2.209460984245205e02,
    -2.759285104469687e02,
    1.383577518672690e02,
    -3.066479806614716e01,
    2.506628277459239e00,
)
_B = (
    -5.447609879822406e01,
    1.615858368580409e02,
    -1.556989798598866e02,
    6.680131188771972e01,
    -1.328068155288572e01,
)
_C = (
    -7.784894002430293e-03,
    -3.223964580411365e-01,
    -2.400758277161838e00,
    -2.549732539343734e00,
    4.374664141464968e00,
    2.938163982698783e00,
)
_D = (
    7.784695709041462e-03,
    3.224671290700398e-01,
    2.445134137142996e00,
    3.754408661907416e00,
)
_P_LOW = 0.02425


def _check_probability(p: float) -> float:
    value = float(p)
    if not 0.0 < value < 1.0:
        raise InputError(f"p must lie strictly between 0 and 1, got {value!r}")
    return value


def _check_df(df: float) -> float:
    value = float(df)
    if not value > 0.0:
        raise InputError(f"df must be positive, got {value!r}")
    return value


def normal_sf(x: float) -> float:
    """Upper tail ``P(Z > x)`` of the standard normal distribution."""
    return 0.5 * math.erfc(x / _SQRT2)


def normal_cdf(x: float) -> float:
    """Lower tail ``P(Z <= x)`` of the standard normal distribution."""
    return 0.5 * math.erfc(-x / _SQRT2)


def _acklam_lower(q: float) -> float:
    """Acklam's approximation of the normal quantile for ``0 < q <= 0.5``."""
    if q < _P_LOW:
        r = math.sqrt(-2.0 * math.log(q))
        num = ((((_C[0] * r + _C[1]) * r + _C[2]) * r + _C[3]) * r + _C[4]) * r + _C[5]
        den = (((_D[0] * r + _D[1]) * r + _D[2]) * r + _D[3]) * r + 1.0
        return num / den
    s = q - 0.5
    r = s * s
    num = (((((_A[0] * r + _A[1]) * r + _A[2]) * r + _A[3]) * r + _A[4]) * r + _A[5]) * s
    den = ((((_B[0] * r + _B[1]) * r + _B[2]) * r + _B[3]) * r + _B[4]) * r + 1.0
    return num / den


def normal_ppf(p: float) -> float:
    """Quantile of the standard normal distribution.

    Parameters
    ----------
    p : float
        Probability, strictly between 0 and 1.

    Returns
    -------
    float
        ``x`` with ``P(Z <= x) = p``, to about machine precision.

    Notes
    -----
    The lower half is computed directly (``q = min(p, 1 - p)``) and the upper
    half by symmetry, so small tail probabilities keep their precision. Each
    Halley step solves ``Φ(x) = q``: with ``e = Φ(x) - q`` and
    ``u = e/φ(x)``, ``x ← x - u/(1 + x·u/2)``. Near the centre ``e`` is formed
    as ``erf(x/√2)/2 - (q - 1/2)`` (both terms exact or accurate) rather than
    as a difference of two numbers close to 1/2.

    Examples
    --------
    >>> round(normal_ppf(0.975), 10)
    1.9599639845
    """
    value = _check_probability(p)
    if value == 0.5:
        return 0.0
    q = min(value, 1.0 - value)
    x = _acklam_lower(q)
    central = q >= _P_LOW
    offset = q - 0.5  # exact (Sterbenz) in the central region
    for _ in range(2):
        e = 0.5 * math.erf(x / _SQRT2) - offset if central else normal_cdf(x) - q
        u = e * math.exp(0.5 * x * x + _LOG_SQRT_2PI)
        x = x - u / (1.0 + 0.5 * x * u)
    return -x if value > 0.5 else x


def _log_gamma_ratio(a: float, b: float) -> float:
    """``log Γ(a + b) - log Γ(a)``, accurate also when ``a`` is large.

    For large ``a`` the difference of two huge ``lgamma`` values would lose
    most digits; Stirling's series gives the difference directly:
    ``(a - 1/2)·log1p(b/a) + b·log(a + b) - b + δ(a + b) - δ(a)`` with the
    correction ``δ(x) = 1/(12x) - 1/(360x³) + 1/(1260x⁵) - 1/(1680x⁷)``.
    """
    if a < 20.0:
        return math.lgamma(a + b) - math.lgamma(a)

    def delta(x: float) -> float:
        x2 = x * x
        return (1.0 / 12.0 - (1.0 / 360.0 - (1.0 / 1260.0 - 1.0 / (1680.0 * x2)) / x2) / x2) / x

    return (a - 0.5) * math.log1p(b / a) + b * math.log(a + b) - b + delta(a + b) - delta(a)


def _log_betainc_cf(a: float, b: float, x: float, log_x: float, log_1mx: float) -> float:
    """Log of the regularized incomplete beta ``I_x(a, b)`` by its continued fraction.

    Converges quickly for ``x < (a + 1)/(a + b + 2)``; the caller swaps the
    arguments otherwise. ``log_x`` and ``log_1mx`` are passed in so that the
    caller can compute them without cancellation.
    """
    # Prefactor x^a (1-x)^b / (a B(a, b)), in logs.
    if a >= b:
        log_beta = math.lgamma(b) - _log_gamma_ratio(a, b)
    else:
        log_beta = math.lgamma(a) - _log_gamma_ratio(b, a)
    log_front = a * log_x + b * log_1mx - math.log(a) - log_beta
    # Modified Lentz evaluation of 1/(1 + d1/(1 + d2/(1 + ...))).
    c = 1.0
    d = 1.0 - (a + b) * x / (a + 1.0)
    d = 1.0 / (d if abs(d) > _TINY else _TINY)
    h = d
    max_terms = 1000 + int(20.0 * math.sqrt(max(a, b)))
    for m in range(1, max_terms + 1):
        two_m = 2.0 * m
        # Even term d_{2m}.
        coef = m * (b - m) * x / ((a + two_m - 1.0) * (a + two_m))
        d = 1.0 + coef * d
        d = 1.0 / (d if abs(d) > _TINY else _TINY)
        c = 1.0 + coef / c
        c = c if abs(c) > _TINY else _TINY
        h *= d * c
        # Odd term d_{2m+1}.
        coef = -(a + m) * (a + b + m) * x / ((a + two_m) * (a + two_m + 1.0))
        d = 1.0 + coef * d
        d = 1.0 / (d if abs(d) > _TINY else _TINY)
        c = 1.0 + coef / c
        c = c if abs(c) > _TINY else _TINY
        step = d * c
        h *= step
        if abs(step - 1.0) < 2.0 * _EPS:
            return log_front + math.log(h)
    raise ConvergenceError(  # pragma: no cover - the bound above is generous
        f"incomplete beta continued fraction did not converge (a={a}, b={b}, x={x})"
    )


def _log_1p_s2(t: float, v: float) -> tuple[float, float]:
    """``log s`` and ``log(1 + s²)`` for ``s = |t|/√v``, ``t != 0``, without overflow.

    ``s`` itself overflows for ``t`` near the largest float and ``v < 1``, so
    large values go through ``log s = log|t| - log(v)/2``.
    """
    log_s = math.log(abs(t)) - 0.5 * math.log(v)
    if log_s > 345.0:  # s > 1e150: 1 + s² rounds to s²
        return log_s, 2.0 * log_s
    s = abs(t) / math.sqrt(v)
    return math.log(s), math.log1p(s * s)


def _log_x_terms(t: float, v: float) -> tuple[float, float]:
    """``log x`` and ``log(1 - x)`` for ``x = v/(v + t²)``, ``t > 0``, without cancellation."""
    log_s, log_1ps2 = _log_1p_s2(t, v)
    return -log_1ps2, 2.0 * log_s - log_1ps2


def _log_t_sf_positive(t: float, v: float) -> float:
    """``log P(T > t)`` for ``t >= 0`` and ``v`` degrees of freedom (``v < _DF_LARGE``)."""
    if t == 0.0:
        return _LOG_HALF
    if math.isinf(t):
        return -math.inf
    return _log_t_tails(t, v)[0]


def _log_t_central(t: float, v: float) -> float:
    """``log P(0 < T < t)`` for ``t > 0`` (``v < _DF_LARGE``)."""
    if math.isinf(t):
        return _LOG_HALF
    return _log_t_tails(t, v)[1]


def _log_t_tails(t: float, v: float) -> tuple[float, float]:
    """``log P(T > t)`` and ``log P(0 < T < t)`` for ``0 < t < inf``.

    With ``x = v/(v + t²)``, ``P(T > t) = I_x(v/2, 1/2)/2`` and
    ``P(0 < T < t) = I_{1-x}(1/2, v/2)/2``. The continued fraction converges
    fast for the first when ``x < (v/2 + 1)/(v/2 + 5/2)`` and for the second
    otherwise; the one computed directly keeps full relative precision and
    the other is ``1/2`` minus it.
    """
    log_x, log_1mx = _log_x_terms(t, v)
    x = math.exp(log_x)
    a = 0.5 * v
    if x < (a + 1.0) / (a + 2.5):
        log_sf = _LOG_HALF + _log_betainc_cf(a, 0.5, x, log_x, log_1mx)
        return log_sf, _LOG_HALF + math.log1p(-math.exp(log_sf - _LOG_HALF))
    log_central = _LOG_HALF + _log_betainc_cf(0.5, a, math.exp(log_1mx), log_1mx, log_x)
    return _LOG_HALF + math.log1p(-math.exp(log_central - _LOG_HALF)), log_central


def _large_df_z(t: float, v: float) -> float:
    """Solve the Cornish-Fisher expansion ``t = CF(z, v)`` for ``z`` (``v >= _DF_LARGE``)."""
    z = t
    for _ in range(50):
        step = (_cornish_fisher(z, v) - t) / _cornish_fisher_slope(z, v)
        z -= step
        if abs(step) <= 4.0 * _EPS * max(1.0, abs(z)):
            break
    return z


def t_sf(t: float, df: float) -> float:
    """Upper tail ``P(T > t)`` of Student's t distribution with ``df`` degrees of freedom.

    For ``df >= 1e5`` the Cornish-Fisher expansion (four terms, error of
    order ``z^11/df^5``) is inverted and the normal tail used.

    Examples
    --------
    >>> round(t_sf(12.706204736174698, 1), 12)
    0.025
    """
    v = _check_df(df)
    value = float(t)
    if math.isnan(value):
        raise InputError("t must not be NaN")
    if v >= _DF_LARGE:
        return normal_sf(_large_df_z(value, v))
    if value >= 0.0:
        return math.exp(_log_t_sf_positive(value, v))
    return -math.expm1(_log_t_sf_positive(-value, v))


def t_cdf(t: float, df: float) -> float:
    """Lower tail ``P(T <= t)`` of Student's t distribution with ``df`` degrees of freedom.

    Examples
    --------
    >>> round(t_cdf(0.0, 5), 12)
    0.5
    """
    return t_sf(-float(t), df)


def _log_t_pdf(t: float, v: float) -> float:
    log_1ps2 = _log_1p_s2(t, v)[1] if t != 0.0 else 0.0
    return _log_gamma_ratio(0.5 * v, 0.5) - 0.5 * math.log(v * math.pi) - 0.5 * (v + 1.0) * log_1ps2


def t_ppf(p: float, df: float) -> float:
    """Quantile of Student's t distribution.

    Parameters
    ----------
    p : float
        Probability, strictly between 0 and 1.
    df : float
        Degrees of freedom, positive (need not be whole); ``inf`` gives the
        normal quantile.

    Returns
    -------
    float
        ``t`` with ``P(T <= t) = p``, to a relative error of about 1e-12 or better.

    Raises
    ------
    InputError
        When ``p`` is not strictly between 0 and 1, ``df`` is not positive,
        or the quantile lies beyond the largest float (about 1.8e308), which
        happens only for small ``df`` and extreme ``p`` (e.g. ``df = 0.5``
        and ``p < 2.4e-155``).

    Notes
    -----
    With ``q = min(p, 1 - p)`` the root ``t > 0`` is found by Newton's method
    in ``u = log t``: on ``log P(T > t) = log q`` in the tails
    (``q < 1/4``) and on ``log P(0 < T < t) = log(1/2 - q)`` near the centre,
    where ``1/2 - q`` is exact. Both functions are concave in ``u``, so after
    at most one step the iterates approach the root monotonically. In the
    tails the start is right of the root: the t density is at most
    ``K·v^((v+1)/2)·t^-(v+1)``, hence ``P(T > t) <= c·t^-v`` with
    ``c = Γ((v+1)/2)·v^(v/2-1)/(√π·Γ(v/2))``, and ``(c/q)^(1/v)`` (or the
    Cornish-Fisher value when that is smaller and still right of the root)
    starts the iteration. ``df = 1`` and ``df = 2`` have closed forms; for
    ``df >= 1e5`` the Cornish-Fisher expansion itself is exact to double
    precision.

    Examples
    --------
    >>> round(t_ppf(0.975, 10), 6)
    2.228139
    >>> t_ppf(1.0, 10)
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: p must lie strictly between 0 and 1, got 1.0
    """
    value = _check_probability(p)
    v = _check_df(df)
    if value == 0.5:
        return 0.0
    q = min(value, 1.0 - value)
    sign = 1.0 if value > 0.5 else -1.0
    z = -normal_ppf(q)
    if v >= _DF_LARGE:
        return sign * _cornish_fisher(z, v)
    if v in (1.0, 2.0):
        return sign * _t_ppf_closed_form(q, v)
    guess = _cornish_fisher(z, v)
    if q >= 0.25:
        target = math.log(0.5 - q)
        u = math.log(guess) if guess > 0.0 else math.log(z)
        return sign * _newton_log_t(u, v, target, central=True)
    target = math.log(q)
    log_c = _log_gamma_ratio(0.5 * v, 0.5) + (0.5 * v - 1.0) * math.log(v) - 0.5 * math.log(math.pi)
    u = (log_c - target) / v
    if u > _LOG_MAX:
        # The bound lies beyond the float range (only for df < 1 or so and tiny p):
        # start at the largest float if the root is below it, else give up clearly.
        log_sf_max = _log_t_sf_positive(_MAX, v)
        if log_sf_max > target:
            raise InputError(
                f"the t quantile for p={value!r} with df={v!r} exceeds the float range "
                f"(|t| > {_MAX:.4g}, where P(T > t) is still {math.exp(log_sf_max):.3g}); "
                "use a larger p or more degrees of freedom"
            )
        u = _LOG_MAX
    if 0.0 < guess < math.exp(u) and _log_t_sf_positive(guess, v) <= target:
        u = math.log(guess)
    return sign * _newton_log_t(u, v, target, central=False)


def _t_ppf_closed_form(q: float, v: float) -> float:
    """Upper ``q`` quantile (``0 < q < 1/2``) for one or two degrees of freedom."""
    if v == 1.0:
        # Cauchy: P(T > t) = 1/2 - atan(t)/π, so t = tan(π(1/2 - q)) = 1/tan(π q);
        # near the centre 1/2 - q is exact and the first form keeps precision.
        if q >= 0.25:
            return math.tan(math.pi * (0.5 - q))
        return 1.0 / math.tan(math.pi * q)
    # P(T > t) = (1 - t/√(2 + t²))/2, so t = (1 - 2q)/√(2 q (1 - q)).
    return 2.0 * (0.5 - q) / math.sqrt(2.0 * q * (1.0 - q))


def _newton_log_t(u: float, v: float, target: float, *, central: bool) -> float:
    """Newton's method in ``u = log t`` on a log tail or log central probability."""
    previous = math.inf
    for _ in range(200):
        t = math.exp(u)
        log_pdf = _log_t_pdf(t, v)
        if central:
            level = _log_t_central(t, v)
            slope = math.exp(u + log_pdf - level)
        else:
            level = _log_t_sf_positive(t, v)
            slope = -math.exp(u + log_pdf - level)
        step = (level - target) / slope
        u -= step
        size = abs(step)
        # Stop at full precision, or when rounding noise in the tail
        # probability (about 1e-12 for df near 1e5) stops the steps shrinking.
        if size <= 4.0 * _EPS * max(1.0, abs(u)) or (size < 1e-9 and size >= 0.5 * previous):
            return math.exp(u)
        previous = size
    raise ConvergenceError(  # pragma: no cover - monotone convergence is guaranteed
        f"t quantile did not converge (target={target}, df={v})"
    )


def _cornish_fisher(z: float, v: float) -> float:
    """Abramowitz & Stegun 26.7.5: the t quantile as a series in ``1/v``."""
    z2 = z * z
    g1 = (z2 + 1.0) * z / 4.0
    g2 = ((5.0 * z2 + 16.0) * z2 + 3.0) * z / 96.0
    g3 = (((3.0 * z2 + 19.0) * z2 + 17.0) * z2 - 15.0) * z / 384.0
    g4 = ((((79.0 * z2 + 776.0) * z2 + 1482.0) * z2 - 1920.0) * z2 - 945.0) * z / 92160.0
    return z + (g1 + (g2 + (g3 + g4 / v) / v) / v) / v


def _cornish_fisher_slope(z: float, v: float) -> float:
    """Return the derivative of :func:`_cornish_fisher` with respect to ``z``."""
    z2 = z * z
    d1 = (3.0 * z2 + 1.0) / 4.0
    d2 = ((25.0 * z2 + 48.0) * z2 + 3.0) / 96.0
    d3 = (((21.0 * z2 + 95.0) * z2 + 51.0) * z2 - 15.0) / 384.0
    d4 = ((((711.0 * z2 + 5432.0) * z2 + 7410.0) * z2 - 5760.0) * z2 - 945.0) / 92160.0
    return 1.0 + (d1 + (d2 + (d3 + d4 / v) / v) / v) / v
