"""MBG/NBD histories (Batislam, Denizel & Filiztekin 2007)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

import numpy as np

from crmcore import _validation as val
from crmcore._typing import ArrayLike, FloatArray, SeedLike

from ._common import _check_params, _four, _rows_of
from .bgnbd import _bg_process, _with_covariates
from .histories import SimulatedHistories, _as_durations, _histories


def mbgnbd_histories(
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
    """Draw purchase histories from the MBG/NBD model.

    Parameters
    ----------
    r, alpha : float
        Shape and rate of the gamma distribution of purchase rates (positive).
    a, b : float
        Parameters of the beta distribution of dropout probabilities (positive).
    T : float or array-like
        Observation time after the first purchase: one number (then
        ``n_customers`` is required) or one per customer.
    n_customers : int, optional
        Number of customers, 1 to 10**8, when ``T`` is a number.
    duration_holdout : float
        Also draw the purchases in (T, T + duration_holdout].
    purchase_covariates, dropout_covariates : array-like, optional
        Time-invariant covariates with ``purchase_coefficients`` and
        ``dropout_coefficients``, as in :func:`bgnbd_histories`.
    purchase_coefficients, dropout_coefficients : array-like, optional
        gamma_p and gamma_d.
    rng : int or numpy.random.Generator
        Seed or generator.

    Returns
    -------
    SimulatedHistories
        As :func:`bgnbd_histories`; ``dropout_time`` is 0 for customers who
        dropped out right after their first purchase.

    Raises
    ------
    InputError
        On a parameter that is not positive, a negative T or a non-positive
        ``n_customers``.
    InputTypeError
        On a non-numeric parameter, a bad ``rng``, or a single T without
        ``n_customers``.

    See Also
    --------
    bgnbd_histories

    Notes
    -----
    As BG/NBD, except that the customer may also drop out at time 0, right
    after the first purchase (Batislam, Denizel & Filiztekin 2007): there is a
    dropout chance p at every purchase, the first included, so the number of
    repeat purchases J up to the fatal one is geometric on 0, 1, 2, ... with
    P(J >= j) = (1 - p)^j. Then x = min(N, J) with N ~ Poisson(lambda T), and
    the customer is alive at T iff J > N; customers with x = 0 may be dead.
    Given lambda and p, E[X(t)] = ((1 - p)/p) (1 - exp(-lambda p t)).

    References
    ----------
    Batislam, E. P., Denizel, M., & Filiztekin, A. (2007). Empirical validation
    and comparison of models for customer base analysis. International Journal
    of Research in Marketing, 24(3), 201-209.

    Examples
    --------
    >>> h = mbgnbd_histories(0.25, 4.0, 0.8, 2.5, T=52.0, n_customers=1_000, rng=3)
    >>> bool(((h.frequency == 0) & ~h.alive).any())
    True
    >>> mbgnbd_histories(0.25, 4.0, 0.8, 2.5, T=52.0, rng=3)
    Traceback (most recent call last):
    ...
    crmcore.errors.InputTypeError: n_customers is required when T is a single number
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
    return _histories("mbgnbd", _bg_process(gen, per_customer, t, hold, modified=True), t, hold)
