"""BG/BB discrete-time histories (Fader, Hardie & Shang 2010)."""

from __future__ import annotations

from typing import Any

import attrs
import numpy as np

from crmcore import _validation as val
from crmcore._typing import BoolArray, FloatArray, IntArray, SeedLike
from crmcore._validation import readonly as _ro

from ._common import _MAX_CUSTOMERS, _MAX_PERIODS, _check_params, _geometric_failures


@attrs.frozen(kw_only=True, eq=False)
class SimulatedDiscreteHistories:
    """Discrete-time histories drawn from the BG/BB model.

    Attributes
    ----------
    frequency : ndarray of int64
        x: opportunities 1..n with a purchase.
    recency : ndarray of int64
        t_x: the last opportunity with a purchase, 0 when x = 0.
    n_periods : int
        n: the number of opportunities observed.
    alive : ndarray of bool
        Whether the customer is still alive after opportunity n.
    p : ndarray of float64
        Purchase probability per opportunity while alive.
    theta : ndarray of float64
        Probability of dying at the start of each opportunity.
    lifetime : ndarray of float64
        Number of opportunities the customer was alive for (whole numbers,
        ``inf`` when theta is 0 after underflow); alive iff lifetime >= n.
    frequency_holdout : ndarray of int64
        Opportunities n+1..n+n_periods_holdout with a purchase.
    n_periods_holdout : int
        Number of holdout opportunities.
    """

    frequency: IntArray
    recency: IntArray
    n_periods: int
    alive: BoolArray
    p: FloatArray
    theta: FloatArray
    lifetime: FloatArray
    frequency_holdout: IntArray
    n_periods_holdout: int

    def __len__(self) -> int:
        return int(self.frequency.size)

    def columns(self) -> dict[str, np.ndarray[Any, Any]]:
        """Return the per-customer arrays by name, ready for a data frame.

        The same contract as :meth:`crmcore.CustomerSummary.columns`:
        equal-length 1-d read-only arrays, one row per customer (simulated
        histories have no ids). ``n_periods`` and ``n_periods_holdout`` stay
        attributes.

        Returns
        -------
        dict of str to ndarray
            ``frequency``, ``recency``, ``alive``, ``p``, ``theta``,
            ``lifetime`` and ``frequency_holdout``.

        Examples
        --------
        >>> h = bgbb_histories(1.2, 0.75, 0.66, 2.78, n_customers=4, n_periods=6, rng=1)
        >>> list(h.columns())
        ['frequency', 'recency', 'alive', 'p', 'theta', 'lifetime', 'frequency_holdout']
        """
        return val.result_columns(
            self, "frequency", "recency", "alive", "p", "theta", "lifetime", "frequency_holdout"
        )


def bgbb_histories(
    alpha: float,
    beta: float,
    gamma: float,
    delta: float,
    *,
    n_periods: int,
    n_customers: int,
    n_periods_holdout: int = 0,
    rng: SeedLike,
) -> SimulatedDiscreteHistories:
    """Draw discrete-time histories from the BG/BB model.

    Parameters
    ----------
    alpha, beta : float
        Beta distribution of the purchase probability p (positive).
    gamma, delta : float
        Beta distribution of the dropout probability theta (positive).
    n_periods : int
        n: transaction opportunities after the first purchase, 1 to 10**6.
    n_customers : int
        Cohort size, 1 to 10**8.
    n_periods_holdout : int
        Also draw purchases in opportunities n+1..n+n_periods_holdout (0 to
        10**6).
    rng : int or numpy.random.Generator
        Seed or generator.

    Returns
    -------
    SimulatedDiscreteHistories
        x, t_x, n, alive, the latent p, theta and lifetime, and the holdout
        frequency.

    Raises
    ------
    InputError
        On a parameter that is not positive, or counts out of range.
    InputTypeError
        On a non-numeric parameter or a bad ``rng``.

    Notes
    -----
    The process of Fader, Hardie & Shang (2010), with the first purchase at
    opportunity 0: a customer alive at the end of opportunity t - 1 becomes
    inactive at the beginning of opportunity t with probability theta,
    theta ~ Beta(gamma, delta), so the number of opportunities alive, L, has
    P(L = l) = theta (1 - theta)^l; at each opportunity while alive the customer
    purchases with probability p, p ~ Beta(alpha, beta). Drawn without stepping
    through opportunities: of the m = min(L, n) live opportunities, the run of
    trailing opportunities without purchase is geometric; if it covers all m,
    x = t_x = 0; otherwise t_x = m - run and x = 1 + Binomial(t_x - 1, p).
    E[X(n)] = alpha/(alpha + beta) * sum_{t=1..n} B(gamma, delta + t)/B(gamma, delta).

    References
    ----------
    Fader, P. S., Hardie, B. G. S., & Shang, J. (2010). Customer-base analysis
    in a discrete-time noncontractual setting. Marketing Science, 29(6),
    1086-1108.

    Examples
    --------
    >>> import numpy as np
    >>> h = bgbb_histories(1.2, 0.75, 0.66, 2.78, n_periods=6, n_customers=500, rng=4)
    >>> int(h.frequency.max()) <= 6, bool(np.all(h.recency >= h.frequency))
    (True, True)
    >>> bgbb_histories(1.2, 0.75, 0.66, 2.78, n_periods=0, n_customers=500, rng=4)
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: n_periods must be >= 1, got 0
    """
    a_, b_, g_, d_ = _check_params((alpha, beta, gamma, delta), ("alpha", "beta", "gamma", "delta"))
    n = val.check_int(n_periods, "n_periods", low=1, high=_MAX_PERIODS)
    size = val.check_int(n_customers, "n_customers", low=1, high=_MAX_CUSTOMERS)
    n_hold = val.check_int(n_periods_holdout, "n_periods_holdout", low=0, high=_MAX_PERIODS)
    gen = val.as_generator(rng)
    p = gen.beta(a_, b_, size)
    theta = gen.beta(g_, d_, size)
    lifetime = _geometric_failures(gen, theta)
    live = np.minimum(lifetime, n).astype(np.int64)
    trailing = _geometric_failures(gen, p)
    bought = trailing < live
    recency = np.where(bought, live - np.minimum(trailing, live), 0).astype(np.int64)
    frequency = np.zeros(size, dtype=np.int64)
    frequency[bought] = 1 + gen.binomial(recency[bought] - 1, p[bought])
    live_after = (np.minimum(lifetime, n + n_hold) - n).clip(0).astype(np.int64)
    hold = gen.binomial(live_after, p).astype(np.int64)
    return SimulatedDiscreteHistories(
        frequency=_ro(frequency),
        recency=_ro(recency),
        n_periods=n,
        alive=_ro(lifetime >= n),
        p=_ro(p),
        theta=_ro(theta),
        lifetime=_ro(lifetime),
        frequency_holdout=_ro(hold),
        n_periods_holdout=n_hold,
    )
