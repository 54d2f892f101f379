"""GGompertz/NBD histories (Bemmaor & Glady 2012)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from crmcore import _validation as val
from crmcore._typing import FloatArray, SeedLike

from ._common import _check_params, _poisson
from .histories import SimulatedHistories, _as_durations, _histories, _Process


def _ggompertz_process(
    rng: np.random.Generator,
    params: tuple[float, ...],
    T: FloatArray,
    holdout: float,
) -> _Process:
    r, alpha, b, s, beta = params
    n = T.size
    with np.errstate(over="ignore"):
        lam = rng.standard_gamma(r, n) / alpha
        eta = rng.standard_gamma(s, n) / beta
    expo = rng.standard_exponential(n)
    # P(alive at τ | η) = exp(-η (e^(bτ) - 1)): invert at an exponential draw
    lifetime = np.full(n, np.inf)
    positive = eta > 0
    with np.errstate(over="ignore"):
        lifetime[positive] = np.log1p(expo[positive] / eta[positive]) / b
    active = np.minimum(lifetime, T)
    x = _poisson(rng, lam * active, "purchase")
    recency = np.zeros(n)
    some = x > 0
    # The last of x uniform arrivals on (0, active]: active * Beta(x, 1).
    recency[some] = active[some] * rng.beta(x[some], 1.0)
    alive = lifetime > T
    window = np.clip(lifetime - T, 0.0, holdout)
    hold = _poisson(rng, lam * window, "holdout purchase", "duration_holdout")
    return _Process(x, recency, alive, lam, None, eta, lifetime, hold)


def ggomnbd_histories(
    r: float,
    alpha: float,
    b: float,
    s: float,
    beta: float,
    *,
    T: float | Sequence[float] | FloatArray,
    n_customers: int | None = None,
    duration_holdout: float = 0.0,
    rng: SeedLike,
) -> SimulatedHistories:
    """Draw purchase histories from the GGompertz/NBD model.

    Parameters
    ----------
    r, alpha : float
        Shape and rate of the gamma distribution of purchase rates (positive).
    b : float
        Scale of the Gompertz lifetime, per unit of time (positive).
    s, beta : float
        Shape and rate of the gamma distribution of the Gompertz η (positive).
    T : float or array-like
        Observation time after the first purchase: one number (then
        ``n_customers`` is required) or one per customer.
    n_customers : int, optional
        Number of customers, 1 to 10**8, when ``T`` is a number.
    duration_holdout : float
        Also draw the purchases in (T, T + duration_holdout].
    rng : int or numpy.random.Generator
        Seed or generator.

    Returns
    -------
    SimulatedHistories
        frequency, recency, T, alive, the latent ``lam``, η as ``mu``, the
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
    The process of Bemmaor & Glady (2012): while alive a customer purchases
    as a Poisson process with rate lambda, lambda ~ Gamma(shape r, rate
    alpha); the lifetime tau after the first purchase is Gompertz,
    P(tau > t | η) = exp(-η (e^(bt) - 1)), η ~ Gamma(shape s, rate beta),
    drawn by inversion as tau = log(1 + E/η) / b with E standard
    exponential. Then x ~ Poisson(lambda min(tau, T)) and
    t_x = min(tau, T) * Beta(x, 1) (the last of x uniform times). For a new
    customer P(alive at T) = (beta / (beta + e^(bT) - 1))^s.

    References
    ----------
    Bemmaor, A. C., & Glady, N. (2012). Modeling purchasing behavior with
    sudden "death": A flexible customer lifetime model. Management Science,
    58(5), 1012-1021.

    Examples
    --------
    >>> h = ggomnbd_histories(0.8, 8.0, 0.05, 0.5, 2.0, T=[30.0, 40.0, 50.0], rng=0)
    >>> h.model, h.T.tolist(), h.mu is not None, h.p is None
    ('ggomnbd', [30.0, 40.0, 50.0], True, True)
    >>> ggomnbd_histories(0.8, 8.0, 0.0, 0.5, 2.0, T=30.0, n_customers=2, rng=0)
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: b must be > 0...
    """
    params = _check_params((r, alpha, b, s, beta), ("r", "alpha", "b", "s", "beta"))
    t = _as_durations(T, n_customers)
    hold = val.check_float(duration_holdout, "duration_holdout", low=0.0)
    gen = val.as_generator(rng)
    return _histories("ggomnbd", _ggompertz_process(gen, params, t, hold), t, hold)
