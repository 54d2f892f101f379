"""Pareto/NBD purchase logs under time-varying covariates (Bachmann, Meierer & Näf 2021)."""

from __future__ import annotations

from typing import Any

import attrs
import numpy as np

from crmcore import _validation as val
from crmcore._typing import ArrayLike, BoolArray, FloatArray, SeedLike
from crmcore.errors import InputError
from crmcore.table import InteractionTable

from ._common import _MAX_CUSTOMERS, _MAX_PERIODS, _check_params, _poisson

_PERIOD_NS = {"h": 3_600 * 10**9, "D": 86_400 * 10**9, "W": 7 * 86_400 * 10**9}


@attrs.frozen(kw_only=True, eq=False, field_transformer=val.copy_array_fields)
class SimulatedTimeVarying:
    """Purchase log, covariates and latent truth drawn by :func:`pareto_nbd_time_varying`.

    Attributes
    ----------
    table : InteractionTable
        Every purchase, the first (at birth) included; customer ids 0 to n-1.
    covariates : TimeVaryingCovariates
        One row per customer and period, from the first period through the
        last future period: purchase covariates ``z0, z1, ...`` and dropout
        covariates ``w0, w1, ...``.
    observation_end : numpy.datetime64
        The last instant observed (one nanosecond before the end of the last
        period).
    birth : ndarray of float
        Time of each customer's first purchase, in periods since ``start``.
    lam, mu : ndarray of float
        Drawn base purchase and dropout rates (per period).
    alive : ndarray of bool
        Alive at the end of observation.
    """

    table: InteractionTable
    covariates: Any
    observation_end: np.datetime64
    birth: FloatArray
    lam: FloatArray
    mu: FloatArray
    alive: BoolArray

    def __len__(self) -> int:
        return int(self.birth.size)

    def columns(self) -> dict[str, np.ndarray[Any, Any]]:
        """Return the per-customer arrays (``birth``, ``lam``, ``mu``, ``alive``).

        Examples
        --------
        >>> from crmcore.simulate import pareto_nbd_time_varying
        >>> sim = pareto_nbd_time_varying(0.5, 5.0, 0.5, 10.0, n_customers=3, n_periods=4,
        ...                               start="2024-01-01", rng=0)
        >>> sorted(sim.columns())
        ['alive', 'birth', 'lam', 'mu']
        """
        return {
            "birth": self.birth,
            "lam": self.lam,
            "mu": self.mu,
            "alive": self.alive,
        }


def _covariate_block(
    value: ArrayLike | None, coef: ArrayLike | None, shape: tuple[int, int], name: str, gen: Any
) -> tuple[FloatArray, FloatArray]:
    """Return the (customers, periods, k) covariates and the k coefficients."""
    if coef is None:
        if value is not None:
            raise InputError(f"{name}_covariates need {name}_coefficients")
        return np.zeros((*shape, 0)), np.zeros(0)
    c = val.as_float_array(coef, f"{name}_coefficients")
    if value is None:
        return gen.standard_normal((*shape, c.size)), c
    arr = np.asarray(val.as_ndarray(value, f"{name}_covariates"))
    if arr.ndim == 2:
        arr = arr[:, :, None]
    if arr.shape != (*shape, c.size):
        raise InputError(
            f"{name}_covariates must have shape (customers, periods, covariates) = "
            f"{(*shape, c.size)}; got {arr.shape}"
        )
    flat = val.as_float_array(arr.reshape(-1), f"{name}_covariates", allow_empty=True)
    return flat.reshape(arr.shape), c


def pareto_nbd_time_varying(
    r: float,
    alpha: float,
    s: float,
    beta: float,
    *,
    n_customers: int,
    n_periods: int,
    start: object,
    period: str = "W",
    rng: SeedLike,
    purchase_coefficients: ArrayLike | None = None,
    dropout_coefficients: ArrayLike | None = None,
    purchase_covariates: ArrayLike | None = None,
    dropout_covariates: ArrayLike | None = None,
    future_periods: int = 0,
) -> SimulatedTimeVarying:
    """Draw a purchase log of the Pareto/NBD model with time-varying covariates.

    Customer i comes alive at a uniform time in the first half of the
    ``n_periods`` periods (with a purchase). In period k it purchases at
    rate ``λ_i exp(γ_p·z_ik)`` and drops out at hazard ``μ_i exp(γ_d·w_ik)``,
    with ``λ_i ~ Gamma(r, α)`` and ``μ_i ~ Gamma(s, β)``. The dropout time
    inverts the piecewise-linear cumulative hazard at an exponential draw;
    purchases are Poisson counts per period with uniform times in the part
    of the period the customer is alive. All draws are vectorised.

    Parameters
    ----------
    r, alpha, s, beta : float
        The Pareto/NBD parameters, rates per period (positive).
    n_customers : int
        Number of customers (1 to 10**8).
    n_periods : int
        Observed periods (1 to 10**6).
    start : datetime-like
        Start of the first period; on the grid of ``period``.
    period : {"h", "D", "W"}
        Length of a period (a week by default).
    rng : int or numpy.random.Generator
        Seed or generator.
    purchase_coefficients, dropout_coefficients : array-like, optional
        γ_p and γ_d (k values each).
    purchase_covariates, dropout_covariates : array-like, optional
        Arrays of shape (customers, n_periods + future_periods, k); standard
        normal draws when left out.
    future_periods : int
        Covariate rows after the observed periods (for forecasts).

    Returns
    -------
    SimulatedTimeVarying

    Raises
    ------
    InputError
        On non-positive parameters, counts out of range, a start off the
        period grid, or covariates of the wrong shape.

    References
    ----------
    Bachmann, P., Meierer, M., & Näf, J. (2021). The role of time-varying
    contextual factors in latent attrition models for customer base
    analysis. Marketing Science, 40(4), 783-809.

    Examples
    --------
    >>> from crmcore.simulate import pareto_nbd_time_varying
    >>> sim = pareto_nbd_time_varying(0.8, 5.0, 0.7, 12.0, n_customers=100, n_periods=52,
    ...                               start="2024-01-01", purchase_coefficients=[0.5], rng=1)
    >>> sim.covariates.names, len(sim.covariates) == 100 * 52
    (('z0',), True)
    >>> pareto_nbd_time_varying(0.8, 5.0, 0.7, 12.0, n_customers=1, n_periods=2,
    ...                         start="2024-01-02", rng=1)
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: start must be the start of a period 'W'; got 2024-01-02T00:00:00...
    """
    from crmcore._periods import period_index, period_start
    from crmcore._time_varying import TimeVaryingCovariates

    r, alpha, s, beta = _check_params((r, alpha, s, beta), ("r", "alpha", "s", "beta"))
    n = val.check_int(n_customers, "n_customers", low=1, high=_MAX_CUSTOMERS)
    k_obs = val.check_int(n_periods, "n_periods", low=1, high=_MAX_PERIODS)
    k_fut = val.check_int(future_periods, "future_periods", low=0, high=_MAX_PERIODS)
    val.check_choice(period, "period", tuple(_PERIOD_NS))
    t0 = val.as_timestamp(start, "start")
    if period_start(np.asarray([period_index(t0, period)]), period)[0] != t0:
        raise InputError(f"start must be the start of a period {period!r}; got {t0}")
    gen = val.as_generator(rng)
    k_all = k_obs + k_fut
    zp, gp = _covariate_block(
        purchase_covariates, purchase_coefficients, (n, k_all), "purchase", gen
    )
    zd, gd = _covariate_block(dropout_covariates, dropout_coefficients, (n, k_all), "dropout", gen)
    with np.errstate(over="ignore"):
        lam = gen.standard_gamma(r, n) / alpha
        mu = gen.standard_gamma(s, n) / beta
    birth = gen.random(n) * (k_obs / 2.0)
    edges = np.arange(k_obs + 1, dtype=np.float64)
    lo = np.maximum(edges[None, :-1], birth[:, None])
    hi = np.maximum(edges[None, 1:], lo)
    dur = hi - lo  # exposure of each observed period after birth
    a = np.exp(zp[:, :k_obs] @ gp) if gp.size else np.ones((n, k_obs))
    b = np.exp(zd[:, :k_obs] @ gd) if gd.size else np.ones((n, k_obs))
    # dropout: invert the cumulative hazard at an exponential draw
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        hazard = mu[:, None] * b * dur
        cum = np.cumsum(hazard, axis=1)
        e = gen.standard_exponential(n)
        k_star = (cum < e[:, None]).sum(axis=1)  # period of dropout (k_obs: none)
        dropped = k_star < k_obs
        kk = np.minimum(k_star, k_obs - 1)
        rows = np.arange(n)
        before = np.where(kk > 0, cum[rows, np.maximum(kk - 1, 0)], 0.0)
        tau = lo[rows, kk] + (e - before) / (mu * b[rows, kk])
    dropout_time = np.where(dropped, np.minimum(tau, hi[rows, kk]), edges[-1])
    alive_hi = np.minimum(hi, dropout_time[:, None])
    alive_dur = np.maximum(alive_hi - lo, 0.0)
    counts = _poisson(gen, (lam[:, None] * a * alive_dur).reshape(-1), "purchase", "n_periods")
    cell = np.repeat(np.arange(n * k_obs), counts)
    times = lo.reshape(-1)[cell] + gen.random(cell.size) * alive_dur.reshape(-1)[cell]
    owner = cell // k_obs
    all_owner = np.concatenate([np.arange(n), owner])
    all_times = np.concatenate([birth, times])
    ns = _PERIOD_NS[period]
    stamps = t0 + (all_times * ns).astype(np.int64).astype("timedelta64[ns]")
    table = InteractionTable.from_arrays(all_owner, stamps)
    cust = np.repeat(np.arange(n), k_all)
    pk = int(period_index(t0, period)) + np.tile(np.arange(k_all), n)
    names: dict[str, FloatArray] = {}
    for j in range(gp.size):
        names[f"z{j}"] = zp[:, :, j].reshape(-1)
    for j in range(gd.size):
        names[f"w{j}"] = zd[:, :, j].reshape(-1)
    cov = (
        TimeVaryingCovariates.from_long(cust, period_start(pk, period), names, period=period)
        if names
        else None
    )
    end = t0 + np.timedelta64(k_obs * ns - 1, "ns")
    return SimulatedTimeVarying(
        table=table,
        covariates=cov,
        observation_end=end,
        birth=val.readonly(birth),
        lam=val.readonly(lam),
        mu=val.readonly(mu),
        alive=val.readonly(~dropped),
    )
