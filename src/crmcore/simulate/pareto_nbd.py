"""Pareto/NBD histories (Schmittlein, Morrison & Colombo 1987)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

import numpy as np

from crmcore import _validation as val
from crmcore._typing import ArrayLike, FloatArray, SeedLike

from ._common import _check_params, _four, _linear_predictor, _poisson, _rows_of
from .histories import SimulatedHistories, _as_durations, _histories, _Process


def _pareto_process(
    rng: np.random.Generator,
    params: tuple[Any, Any, Any, Any],
    T: FloatArray,
    holdout: float,
) -> _Process:
    r, alpha, s, beta = params
    n = T.size
    with np.errstate(over="ignore"):
        lam = rng.standard_gamma(r, n) / alpha
        mu = rng.standard_gamma(s, n) / beta
    expo = rng.standard_exponential(n)
    lifetime = np.full(n, np.inf)
    positive = mu > 0
    with np.errstate(over="ignore"):
        lifetime[positive] = expo[positive] / mu[positive]
    active = np.minimum(lifetime, T)
    x = _poisson(rng, lam * active, "purchase")
    recency = np.zeros(n)
    some = x > 0
    # The last of x uniform arrivals on (0, active]: active * Beta(x, 1).
    recency[some] = active[some] * rng.beta(x[some], 1.0)
    alive = lifetime > T
    window = np.clip(lifetime - T, 0.0, holdout)
    hold = _poisson(rng, lam * window, "holdout purchase", "duration_holdout")
    return _Process(x, recency, alive, lam, None, mu, lifetime, hold)


def pareto_nbd_histories(
    r: float,
    alpha: float,
    s: float,
    beta: float,
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
    """Draw purchase histories from the Pareto/NBD model.

    Parameters
    ----------
    r, alpha : float
        Shape and rate of the gamma distribution of purchase rates (positive).
    s, beta : float
        Shape and rate of the gamma distribution of dropout rates (positive).
    T : float or array-like
        Observation time after the first purchase: one number (then
        ``n_customers`` is required) or one per customer.
    n_customers : int, optional
        Number of customers, 1 to 10**8, when ``T`` is a number.
    duration_holdout : float
        Also draw the purchases in (T, T + duration_holdout].
    rng : int or numpy.random.Generator
        Seed or generator.
    purchase_covariates, dropout_covariates : array-like, optional
        Time-invariant covariates, (customers, k) arrays (a 1-d array is one
        covariate), with ``purchase_coefficients`` and ``dropout_coefficients``
        (k values each): customer i then has ``alpha_i = alpha exp(-gamma_p.z_i)``
        and ``beta_i = beta exp(-gamma_d.w_i)``, the parameterisation of the
        covariate fits (:func:`crmcore.models.pareto_nbd.fit`). With a single T,
        ``n_customers`` defaults to their number of rows.
    purchase_coefficients, dropout_coefficients : array-like, optional
        gamma_p and gamma_d.

    Returns
    -------
    SimulatedHistories
        frequency, recency, T, alive, the latent ``lam``, ``mu`` and the
        lifetime as ``dropout_time``, and ``frequency_holdout``.

    Raises
    ------
    InputError
        On a parameter that is not positive, a negative T or a non-positive
        ``n_customers``.
    InputTypeError
        On a non-numeric parameter, a bad ``rng``, or a single T without
        ``n_customers``.

    Notes
    -----
    The process of Schmittlein, Morrison & Colombo (1987): while alive a
    customer purchases as a Poisson process with rate lambda,
    lambda ~ Gamma(shape r, rate alpha); the lifetime tau after the first
    purchase is exponential with rate mu, mu ~ Gamma(shape s, rate beta).
    Drawn as x ~ Poisson(lambda min(tau, T)) and t_x = min(tau, T) * Beta(x, 1)
    (the last of x uniform times). E[X(t)] = r beta / (alpha (s - 1))
    [1 - (beta/(beta + t))^(s-1)] for s > 1, and P(alive at T) =
    (beta/(beta + T))^s for a new customer.

    References
    ----------
    Schmittlein, D. C., Morrison, D. G., & Colombo, R. (1987). Counting your
    customers: who are they and what will they do next? Management Science,
    33(1), 1-24.

    Examples
    --------
    >>> import numpy as np
    >>> h = pareto_nbd_histories(0.55, 10.6, 0.61, 11.7, T=[30.0, 40.0, 50.0], rng=0)
    >>> h.T.tolist(), h.mu is not None, h.p is None
    ([30.0, 40.0, 50.0], True, True)
    >>> pareto_nbd_histories(0.55, 10.6, 0.61, 11.7, T=[30.0, -1.0], rng=0)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: T must be non-negative; 1 of 2 values breaks this ...
    """
    params = _check_params((r, alpha, s, beta), ("r", "alpha", "s", "beta"))
    if n_customers is None and np.ndim(cast(Any, T)) == 0:
        n_customers = _rows_of(purchase_covariates, dropout_covariates)
    t = _as_durations(T, n_customers)
    hold = val.check_float(duration_holdout, "duration_holdout", low=0.0)
    eta_p = _linear_predictor(purchase_covariates, purchase_coefficients, "purchase", t.size)
    eta_d = _linear_predictor(dropout_covariates, dropout_coefficients, "dropout", t.size)
    per_customer: tuple[Any, Any, Any, Any] = _four(params)
    if eta_p is not None or eta_d is not None:
        r, alpha, s, beta = per_customer
        alpha_i = alpha * (1.0 if eta_p is None else np.exp(-eta_p))
        beta_i = beta * (1.0 if eta_d is None else np.exp(-eta_d))
        per_customer = (r, alpha_i, s, beta_i)
    gen = val.as_generator(rng)
    return _histories("pareto_nbd", _pareto_process(gen, per_customer, t, hold), t, hold)
