"""Contractual cohorts of the shifted-beta-geometric model (Fader & Hardie 2007)."""

from __future__ import annotations

from typing import Any

import attrs
import numpy as np

from crmcore import _validation as val
from crmcore._typing import FloatArray, IntArray, SeedLike
from crmcore._validation import readonly as _ro

from ._common import _MAX_CUSTOMERS, _MAX_PERIODS, _check_params, _geometric_failures


@attrs.frozen(kw_only=True, eq=False)
class SimulatedCohort:
    """A contractual cohort drawn from the shifted-beta-geometric model.

    Attributes
    ----------
    alive : ndarray of int64
        Customers still active at the start of periods 0..n_periods;
        ``alive[0]`` is the cohort size.
    lifetime : ndarray of float64
        Per customer, the period in which they churn (1, 2, ...; a customer
        with lifetime t renewed t - 1 times). Whole numbers; ``inf`` when theta
        is 0 after underflow.
    theta : ndarray of float64
        Per customer, the churn probability at each renewal.
    n_periods : int
        Number of periods followed.
    """

    alive: IntArray
    lifetime: FloatArray
    theta: FloatArray
    n_periods: int

    @property
    def survival(self) -> FloatArray:
        """Share of the cohort still active at the start of each period."""
        return np.asarray(self.alive / self.alive[0], dtype=np.float64)

    def columns(self) -> dict[str, np.ndarray[Any, Any]]:
        """Return the per-customer arrays by name, ready for a data frame.

        The same contract as :meth:`crmcore.CustomerSummary.columns`:
        equal-length 1-d read-only arrays, one row per member of the cohort
        (simulated customers have no ids). The per-period counts come out
        through :meth:`period_columns`.

        Returns
        -------
        dict of str to ndarray
            ``lifetime`` and ``theta``.

        Examples
        --------
        >>> c = sbg_cohort(0.7, 3.3, n_customers=5, n_periods=4, rng=1)
        >>> list(c.columns()), len(c.columns()["theta"])
        (['lifetime', 'theta'], 5)
        """
        return val.result_columns(self, "lifetime", "theta")

    def period_columns(self) -> dict[str, np.ndarray[Any, Any]]:
        """Return the per-period arrays by name, one row per period 0..n_periods.

        Returns
        -------
        dict of str to ndarray
            ``period`` (0, 1, ...), ``alive`` and ``survival``.

        Examples
        --------
        >>> c = sbg_cohort(0.7, 3.3, n_customers=5, n_periods=4, rng=1)
        >>> cols = c.period_columns()
        >>> cols["period"].tolist(), int(cols["alive"][0]), float(cols["survival"][0])
        ([0, 1, 2, 3, 4], 5, 1.0)
        """
        return val.result_columns(
            self,
            ("period", np.arange(self.alive.size, dtype=np.int64)),
            "alive",
            ("survival", self.survival),
        )


def sbg_cohort(
    alpha: float,
    beta: float,
    *,
    n_customers: int,
    n_periods: int,
    rng: SeedLike,
) -> SimulatedCohort:
    """Draw a contractual cohort from the shifted-beta-geometric model.

    Parameters
    ----------
    alpha, beta : float
        Beta distribution of the churn probability theta (positive).
    n_customers : int
        Cohort size, 1 to 10**8.
    n_periods : int
        Number of renewal periods followed, 1 to 10**6.
    rng : int or numpy.random.Generator
        Seed or generator.

    Returns
    -------
    SimulatedCohort
        ``alive`` counts at the start of periods 0..n_periods (``alive[0]`` is
        the cohort size), and per customer the lifetime and theta.

    Raises
    ------
    InputError
        On a parameter that is not positive, or counts out of range.
    InputTypeError
        On a non-numeric parameter or a bad ``rng``.

    Notes
    -----
    Fader & Hardie (2007): at the end of each period a customer churns with
    probability theta, theta ~ Beta(alpha, beta), so the period of churn T has
    P(T = t | theta) = theta (1 - theta)^(t-1), t = 1, 2, ..., and the share still
    active at the start of period t is S(t) = B(alpha, beta + t)/B(alpha, beta).
    ``alive[t]`` counts the customers with T > t.

    References
    ----------
    Fader, P. S., & Hardie, B. G. S. (2007). How to project customer retention.
    Journal of Interactive Marketing, 21(1), 76-90.

    Examples
    --------
    >>> c = sbg_cohort(0.704, 1.182, n_customers=1000, n_periods=7, rng=0)
    >>> len(c.alive), int(c.alive[0]), bool(all(c.alive[1:] <= c.alive[:-1]))
    (8, 1000, True)
    >>> sbg_cohort(0.704, 1.182, n_customers=0, n_periods=7, rng=0)
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: n_customers must be >= 1, got 0
    """
    a_, b_ = _check_params((alpha, beta), ("alpha", "beta"))
    size = val.check_int(n_customers, "n_customers", low=1, high=_MAX_CUSTOMERS)
    n = val.check_int(n_periods, "n_periods", low=1, high=_MAX_PERIODS)
    gen = val.as_generator(rng)
    theta = gen.beta(a_, b_, size)
    lifetime = _geometric_failures(gen, theta) + 1.0
    churned_in = np.bincount(np.minimum(lifetime, n + 1).astype(np.int64), minlength=n + 2)
    # alive[t] = customers whose churn period is later than t.
    alive = size - np.cumsum(churned_in)[: n + 1]
    return SimulatedCohort(
        alive=_ro(alive.astype(np.int64)),
        lifetime=_ro(lifetime),
        theta=_ro(theta),
        n_periods=n,
    )
