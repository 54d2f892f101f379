"""BG/NBD histories (Fader, Hardie & Lee 2005) and the BG process shared with MBG/NBD."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

import numpy as np

from crmcore import _validation as val
from crmcore._typing import ArrayLike, FloatArray, SeedLike

from ._common import (
    _check_params,
    _four,
    _geometric_failures,
    _linear_predictor,
    _poisson,
    _rows_of,
)
from .histories import SimulatedHistories, _as_durations, _histories, _Process


def _bg_process(
    rng: np.random.Generator,
    params: tuple[Any, Any, Any, Any],
    T: FloatArray,
    holdout: float,
    *,
    modified: bool,
) -> _Process:
    """BG/NBD (``modified=False``) or MBG/NBD (``modified=True``) histories."""
    r, alpha, a, b = params
    n = T.size
    with np.errstate(over="ignore"):
        lam = rng.standard_gamma(r, n) / alpha
    p = rng.beta(a, b, n)
    # Repeat purchases up to and including the one after which the customer
    # drops out: geometric on 1, 2, ... (BG/NBD) or on 0, 1, ... (MBG/NBD, where
    # 0 means dropping out right after the first purchase).
    fails = _geometric_failures(rng, p)
    deaths = fails if modified else fails + 1.0
    # Purchases the Poisson process would make in (0, T] if nothing stopped it.
    n_events = _poisson(rng, lam * T, "purchase")
    x = np.minimum(n_events, deaths).astype(np.int64)
    alive = deaths > n_events
    # The x-th of n_events uniform arrival times on (0, T]: T * Beta(x, n - x + 1).
    recency = np.zeros(n)
    some = x > 0
    recency[some] = T[some] * rng.beta(x[some], n_events[some] - x[some] + 1)
    # Customers dead by T dropped out at their last purchase (time 0 if never).
    dropout = recency.copy()
    hold = np.zeros(n, dtype=np.int64)
    idx = np.flatnonzero(alive)
    if idx.size:
        remaining = deaths[idx] - n_events[idx]  # purchases left, the fatal one included
        later = _poisson(rng, lam[idx] * holdout, "holdout purchase", "duration_holdout")
        dies_in = later >= remaining
        counts = np.where(dies_in, remaining, later)
        hold[idx] = counts.astype(np.int64)
        when = np.empty(idx.size)
        k = np.flatnonzero(dies_in)
        # The fatal purchase is the remaining-th of `later` uniform arrivals in the holdout.
        when[k] = T[idx[k]] + holdout * rng.beta(remaining[k], later[k] - remaining[k] + 1)
        k = np.flatnonzero(~dies_in)
        # Otherwise it comes after (remaining - later) more exponential gaps of rate lam.
        left = remaining[k] - later[k]
        finite = np.isfinite(left) & (lam[idx[k]] > 0)
        gap = np.full(k.size, np.inf)
        with np.errstate(over="ignore", divide="ignore"):
            gap[finite] = rng.standard_gamma(left[finite]) / lam[idx[k]][finite]
        when[k] = T[idx[k]] + holdout + gap
        dropout[idx] = when
    return _Process(x, recency, alive, lam, p, None, dropout, hold)


def _with_covariates(
    params: tuple[float, float, float, float],
    n: int,
    purchase: tuple[object, object],
    dropout: tuple[object, object],
) -> tuple[Any, Any, Any, Any]:
    """Return (r, alpha_i, a_i, b_i): alpha exp(-gamma_p.z), a and b times exp(gamma_d.w)."""
    eta_p = _linear_predictor(purchase[0], purchase[1], "purchase", n)
    eta_d = _linear_predictor(dropout[0], dropout[1], "dropout", n)
    r, alpha, a, b = params
    if eta_p is None and eta_d is None:
        return params
    scale_d: Any = 1.0 if eta_d is None else np.exp(eta_d)
    alpha_i: Any = alpha * (1.0 if eta_p is None else np.exp(-eta_p))
    return (r, alpha_i, a * scale_d, b * scale_d)


def bgnbd_histories(
    r: float,
    alpha: float,
    a: float,
    b: float,
    *,
    T: float | Sequence[float] | FloatArray,
    n_customers: int | None = None,
    duration_holdout: float = 0.0,
    rng: SeedLike,
    purchase_covariates: ArrayLike | None = None,
    purchase_coefficients: ArrayLike | None = None,
    dropout_covariates: ArrayLike | None = None,
    dropout_coefficients: ArrayLike | None = None,
) -> SimulatedHistories:
    """Draw purchase histories from the BG/NBD model.

    Parameters
    ----------
    r, alpha : float
        Shape and rate of the gamma distribution of purchase rates (positive;
        alpha in the time unit of T).
    a, b : float
        Parameters of the beta distribution of dropout probabilities (positive).
    T : float or array-like
        Observation time after the first purchase: one number for all
        customers (then ``n_customers`` is required) or one per customer.
    n_customers : int, optional
        Number of customers, 1 to 10**8, when ``T`` is a number.
    duration_holdout : float
        Also draw the purchases in (T, T + duration_holdout] (default 0: none).
    rng : int or numpy.random.Generator
        Seed or generator; the draws are deterministic for a given seed.
    purchase_covariates, dropout_covariates : array-like, optional
        Time-invariant covariates, (customers, k) arrays (a 1-d array is one
        covariate), with ``purchase_coefficients`` and ``dropout_coefficients``
        (k values each): customer i then has ``alpha_i = alpha exp(-gamma_p.z_i)``,
        ``a_i = a exp(gamma_d.w_i)`` and ``b_i = b exp(gamma_d.w_i)``, the
        parameterisation of the covariate fits (:func:`crmcore.models.bgnbd.fit`).
        With a single T, ``n_customers`` defaults to their number of rows.
    purchase_coefficients, dropout_coefficients : array-like, optional
        gamma_p and gamma_d.

    Returns
    -------
    SimulatedHistories
        frequency, recency, T, alive, the latent ``lam``, ``p`` and
        ``dropout_time``, and ``frequency_holdout``.

    Raises
    ------
    InputError
        On a parameter that is not positive, a negative T, ``n_customers`` out
        of range, or a negative seed.
    InputTypeError
        On a non-numeric parameter, an ``rng`` that is neither an int nor a
        Generator, or a single T without ``n_customers``.

    See Also
    --------
    mbgnbd_histories, pareto_nbd_histories, customer_base

    Notes
    -----
    The generative process of Fader, Hardie & Lee (2005), with the first
    purchase at time 0:

    - while active, a customer purchases as a Poisson process with rate
      lambda, lambda ~ Gamma(shape r, rate alpha);
    - right after each repeat purchase the customer drops out with probability
      p, p ~ Beta(a, b); there is no dropout at time 0;
    - frequency x counts repeat purchases in (0, T]; recency t_x is the time of
      the last one (0 if x = 0).

    It is drawn without stepping through events. The number of purchases J up
    to and including the fatal one is geometric on 1, 2, ... with
    P(J >= j) = (1 - p)^(j-1); the Poisson process would make N ~ Poisson(lambda T)
    purchases in (0, T], at N sorted uniform times. Then x = min(N, J), the
    customer is alive at T iff J > N, and t_x is the x-th of N uniform order
    statistics, T * Beta(x, N - x + 1). After T an alive customer has J - N
    purchases left, drawn the same way in the holdout. Hence
    E[X(t)] = (a + b - 1)/(a - 1) [1 - (alpha/(alpha + t))^r
    2F1(r, b; a + b - 1; t/(alpha + t))] for a > 1.

    References
    ----------
    Fader, P. S., Hardie, B. G. S., & Lee, K. L. (2005). "Counting your customers"
    the easy way: an alternative to the Pareto/NBD model. Marketing Science,
    24(2), 275-284.

    Examples
    --------
    >>> import numpy as np
    >>> h = bgnbd_histories(0.25, 4.0, 0.8, 2.5, T=52.0, n_customers=20_000, rng=1)
    >>> h.frequency.shape, bool(np.all(h.recency <= h.T))
    ((20000,), True)
    >>> bool(np.all((h.recency == 0) == (h.frequency == 0)))
    True

    The mean frequency is close to the closed form E[X(52)] = 1.588:

    >>> bool(abs(h.frequency.mean() - 1.588) < 0.1)
    True
    >>> bgnbd_histories(0.25, -4.0, 0.8, 2.5, T=52.0, n_customers=10, rng=1)
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: alpha must be > 0.0, got -4.0
    """
    params = _check_params((r, alpha, a, b), ("r", "alpha", "a", "b"))
    if n_customers is None and np.ndim(cast(Any, T)) == 0:
        n_customers = _rows_of(purchase_covariates, dropout_covariates)
    t = _as_durations(T, n_customers)
    hold = val.check_float(duration_holdout, "duration_holdout", low=0.0)
    per_customer = _with_covariates(
        _four(params),
        t.size,
        (purchase_covariates, purchase_coefficients),
        (dropout_covariates, dropout_coefficients),
    )
    gen = val.as_generator(rng)
    return _histories("bgnbd", _bg_process(gen, per_customer, t, hold, modified=False), t, hold)
