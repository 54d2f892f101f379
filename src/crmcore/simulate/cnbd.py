"""BG/CNBD-k and MBG/CNBD-k histories (Platzer & Reutterer 2016): Erlang-k purchase timing."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from crmcore import _validation as val
from crmcore._typing import FloatArray, SeedLike

from ._common import _check_params, _four, _geometric_failures, _poisson
from .histories import SimulatedHistories, _as_durations, _histories, _Process

#: Largest regularity k the simulators and the models accept.
MAX_K = 30


def _cnbd_process(
    rng: np.random.Generator,
    params: tuple[float, float, float, float],
    k: int,
    T: FloatArray,
    holdout: float,
    *,
    modified: bool,
) -> tuple[_Process, FloatArray]:
    """Erlang-k histories and their ``litt`` (see :func:`bgcnbd_histories`)."""
    r, alpha, a, b = params
    n = T.size
    with np.errstate(over="ignore"):
        lam = rng.standard_gamma(r, n) / alpha
    p = rng.beta(a, b, n)
    fails = _geometric_failures(rng, p)
    deaths = fails if modified else fails + 1.0  # purchases up to the fatal one
    # Events of a Poisson process with rate lam in (0, T]; every k-th is a purchase.
    n_events = _poisson(rng, lam * T, "purchase")
    possible = n_events // k
    x = np.minimum(possible, deaths).astype(np.int64)
    alive = deaths > possible
    # Given n_events, the n_events + 1 spacings of the event times in (0, T] are
    # T * E_i / sum(E), E_i iid Exp(1). The gap before purchase i is the sum of k
    # spacings (Gamma(k)), the rest after purchase x a Gamma(n_events + 1 - k x).
    owner = np.repeat(np.arange(n), x)
    gaps = rng.standard_gamma(float(k), owner.size)
    gaps = np.maximum(gaps, np.finfo(np.float64).tiny)
    sum_gaps = np.bincount(owner, weights=gaps, minlength=n)
    sum_log = np.bincount(owner, weights=np.log(gaps), minlength=n)
    rest = rng.standard_gamma((n_events + 1 - k * x).astype(np.float64))
    total = sum_gaps + rest
    recency = np.zeros(n)
    litt = np.zeros(n)
    some = x > 0
    recency[some] = T[some] * (sum_gaps[some] / total[some])
    litt[some] = sum_log[some] + x[some] * (np.log(T[some]) - np.log(total[some]))
    dropout = recency.copy()
    hold = np.zeros(n, dtype=np.int64)
    idx = np.flatnonzero(alive)
    if idx.size:
        phase = (n_events[idx] - k * possible[idx]).astype(np.float64)  # events since t_x, < k
        remaining = deaths[idx] - possible[idx]  # purchases left, the fatal one included
        later = _poisson(rng, lam[idx] * holdout, "holdout purchase", "duration_holdout")
        in_hold = (phase + later) // k
        dies_in = in_hold >= remaining
        hold[idx] = np.where(dies_in, remaining, in_hold).astype(np.int64)
        # the fatal purchase is event number k * remaining - phase after T
        m = k * remaining - phase
        when = np.empty(idx.size)
        j = np.flatnonzero(dies_in)
        when[j] = T[idx[j]] + holdout * rng.beta(m[j], later[j] - m[j] + 1)
        j = np.flatnonzero(~dies_in)
        left = m[j] - later[j]
        finite = np.isfinite(left) & (lam[idx[j]] > 0)
        gap = np.full(j.size, np.inf)
        with np.errstate(over="ignore", divide="ignore"):
            gap[finite] = rng.standard_gamma(left[finite]) / lam[idx[j]][finite]
        when[j] = T[idx[j]] + holdout + gap
        dropout[idx] = when
    return _Process(x, recency, alive, lam, p, None, dropout, hold), litt


def _draw(
    model: str,
    params: tuple[object, ...],
    k: object,
    T: object,
    *,
    n_customers: object,
    duration_holdout: object,
    rng: SeedLike,
) -> SimulatedHistories:
    checked = _check_params(params, ("r", "alpha", "a", "b"))
    kk = val.check_int(k, "k", low=1, high=MAX_K)
    t = _as_durations(T, n_customers)
    hold = val.check_float(duration_holdout, "duration_holdout", low=0.0)
    gen = val.as_generator(rng)
    proc, litt = _cnbd_process(gen, _four(checked), kk, t, hold, modified=model == "mbgcnbd")
    return _histories(model, proc, t, hold, litt=litt)


def bgcnbd_histories(
    r: float,
    alpha: float,
    a: float,
    b: float,
    k: int,
    *,
    T: float | Sequence[float] | FloatArray,
    n_customers: int | None = None,
    duration_holdout: float = 0.0,
    rng: SeedLike,
) -> SimulatedHistories:
    """Draw purchase histories from the BG/CNBD-k model (Erlang-k purchase timing).

    Parameters
    ----------
    r, alpha : float
        Shape and rate of the gamma distribution of the rates lambda
        (positive; alpha in the time unit of T).
    a, b : float
        Parameters of the beta distribution of dropout probabilities (positive).
    k : int
        Regularity, 1 to 30: the times between purchases are Erlang-k with
        rate lambda (k = 1: exponential, the BG/NBD model).
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
        As :func:`bgnbd_histories`, plus ``litt``, the sum of the logs of the
        times between consecutive purchases (the first from time 0).

    Raises
    ------
    InputError
        On a parameter that is not positive, k outside 1..30, a negative T or
        ``n_customers`` out of range.
    InputTypeError
        On a non-numeric parameter, a bad ``rng``, or a single T without
        ``n_customers``.

    See Also
    --------
    mbgcnbd_histories, bgnbd_histories, crmcore.models.bgcnbd

    Notes
    -----
    Platzer & Reutterer (2016): while active, the times between purchases
    are Erlang-k with rate lambda, lambda ~ Gamma(r, alpha); after each repeat
    purchase the customer drops out with probability p ~ Beta(a, b). An
    Erlang-k renewal process is every k-th event of a Poisson process with
    rate lambda, which is how it is drawn, without stepping through events:
    N ~ Poisson(lambda T) events in (0, T], floor(N / k) purchases if the
    customer never dropped out, x the smaller of that and the purchases up to
    the fatal one (geometric). Given N, the N + 1 spacings of the events are
    T times normalised Exp(1) draws, so a gap between purchases is T G_i / S
    with G_i ~ Gamma(k) and S the sum of all N + 1 Exp(1) draws
    (the x gaps plus a Gamma(N + 1 - k x) remainder). With k = 1 this is the
    BG/NBD process.

    References
    ----------
    Platzer, M., & Reutterer, T. (2016). Ticking away the moments: Timing
    regularity helps to better predict customer activity. Marketing Science,
    35(5), 779-799.

    Examples
    --------
    >>> h = bgcnbd_histories(2.0, 8.0, 0.8, 2.5, 3, T=52.0, n_customers=1_000, rng=3)
    >>> h.litt.shape, bool((h.litt[h.frequency == 0] == 0).all())
    ((1000,), True)
    >>> bgcnbd_histories(2.0, 8.0, 0.8, 2.5, 0, T=52.0, n_customers=10, rng=3)
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: k must be >= 1, got 0
    """
    return _draw(
        "bgcnbd",
        (r, alpha, a, b),
        k,
        T,
        n_customers=n_customers,
        duration_holdout=duration_holdout,
        rng=rng,
    )


def mbgcnbd_histories(
    r: float,
    alpha: float,
    a: float,
    b: float,
    k: int,
    *,
    T: float | Sequence[float] | FloatArray,
    n_customers: int | None = None,
    duration_holdout: float = 0.0,
    rng: SeedLike,
) -> SimulatedHistories:
    """Draw purchase histories from the MBG/CNBD-k model (Erlang-k purchase timing).

    As :func:`bgcnbd_histories`, except that the customer may also drop out
    right after the first purchase (the MBG/NBD dropout of Batislam, Denizel &
    Filiztekin 2007), so customers without repeat purchase may be inactive.

    Parameters
    ----------
    r, alpha, a, b : float
        Positive parameters (see :func:`bgcnbd_histories`).
    k : int
        Regularity, 1 to 30 (k = 1: the MBG/NBD process).
    T : float or array-like
        Observation time after the first purchase.
    n_customers : int, optional
        Number of customers when ``T`` is a number.
    duration_holdout : float
        Also draw the purchases in (T, T + duration_holdout].
    rng : int or numpy.random.Generator
        Seed or generator.

    Returns
    -------
    SimulatedHistories
        With ``litt``.

    Raises
    ------
    InputError
        On a parameter that is not positive, k outside 1..30, a negative T or
        ``n_customers`` out of range.
    InputTypeError
        On a non-numeric parameter, a bad ``rng``, or a single T without
        ``n_customers``.

    References
    ----------
    Platzer, M., & Reutterer, T. (2016). Ticking away the moments: Timing
    regularity helps to better predict customer activity. Marketing Science,
    35(5), 779-799.

    Examples
    --------
    >>> h = mbgcnbd_histories(2.0, 8.0, 0.8, 2.5, 3, T=52.0, n_customers=1_000, rng=3)
    >>> bool(((h.frequency == 0) & ~h.alive).any())
    True
    >>> mbgcnbd_histories(2.0, 8.0, 0.8, 2.5, 31, T=52.0, n_customers=10, rng=3)
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: k must be <= 30, got 31
    """
    return _draw(
        "mbgcnbd",
        (r, alpha, a, b),
        k,
        T,
        n_customers=n_customers,
        duration_holdout=duration_holdout,
        rng=rng,
    )
