"""Mean spend per customer from the Gamma-Gamma model (Colombo & Jiang 1999)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import attrs
import numpy as np

from crmcore import _validation as val
from crmcore._typing import ArrayLike, FloatArray, IntArray, SeedLike
from crmcore._validation import readonly as _ro
from crmcore.errors import InputError

from ._common import _check_params, _linear_predictor, _log_standard_gamma


@attrs.frozen(kw_only=True, eq=False)
class SimulatedSpend:
    """Mean transaction values drawn from the Gamma-Gamma model.

    Attributes
    ----------
    frequency : ndarray of int64
        Number of transactions averaged per customer.
    monetary_value : ndarray of float64
        Mean value of those transactions (0 where frequency is 0).
    nu : ndarray of float64
        Each customer's latent rate nu: a transaction has mean p / nu.
    """

    frequency: IntArray
    monetary_value: FloatArray
    nu: FloatArray

    def __len__(self) -> int:
        return int(self.frequency.size)

    def columns(self) -> dict[str, np.ndarray[Any, Any]]:
        """Return the per-customer arrays by name, ready for a data frame.

        The same contract as :meth:`crmcore.CustomerSummary.columns`:
        equal-length 1-d read-only arrays, one row per customer (simulated
        spend has no ids; in a :class:`SimulatedCustomerBase` row ``i`` is
        ``customer_ids[i]``).

        Returns
        -------
        dict of str to ndarray
            ``frequency``, ``monetary_value`` and ``nu``.

        Examples
        --------
        >>> s = gamma_gamma_spend(6.25, 3.74, 15.44, frequency=[0, 2, 5], rng=1)
        >>> list(s.columns()), s.columns()["monetary_value"][0]
        (['frequency', 'monetary_value', 'nu'], np.float64(0.0))
        """
        return val.result_columns(self, "frequency", "monetary_value", "nu")


def gamma_gamma_spend(
    p: float,
    q: float,
    v: float,
    *,
    frequency: Sequence[int] | IntArray,
    rng: SeedLike,
    spend_covariates: ArrayLike | None = None,
    spend_coefficients: ArrayLike | None = None,
) -> SimulatedSpend:
    """Draw each customer's mean transaction value from the Gamma-Gamma model.

    Parameters
    ----------
    p : float
        Shape of the distribution of one transaction's value (positive).
    q, v : float
        Shape and rate of the gamma distribution of the customers' nu (positive).
    frequency : array-like of int
        Number of transactions to average per customer (0 gives 0).
    rng : int or numpy.random.Generator
        Seed or generator.
    spend_covariates : array-like, optional
        Time-invariant covariates, a (customers, k) array (a 1-d array is one
        covariate), with ``spend_coefficients`` (k values): customer i's rate
        parameter is ``v exp(gamma . z_i)``, so that her mean spend is
        multiplied by ``exp(gamma . z_i)`` (the parameterisation of
        :func:`crmcore.models.gamma_gamma.fit` with covariates). Without them
        the draws are the same as before (same seed, same values).
    spend_coefficients : array-like, optional
        One coefficient per covariate; required with ``spend_covariates``.

    Returns
    -------
    SimulatedSpend
        ``monetary_value`` (the mean of ``frequency`` transactions) and ``nu``.

    Raises
    ------
    InputError
        On a parameter that is not positive, a negative or fractional
        frequency, values too large to represent, or covariates whose shape
        does not match ``frequency`` and ``spend_coefficients``.
    InputTypeError
        On a non-numeric parameter, a bad ``rng``, or one of ``spend_covariates``
        and ``spend_coefficients`` without the other.

    Notes
    -----
    Colombo & Jiang (1999), as used by Fader, Hardie & Lee (2005): a customer's
    transaction values are z ~ Gamma(shape p, rate nu) and nu ~ Gamma(shape q,
    rate v) across customers (numpy's scale is 1/rate). The mean of x
    transactions is exactly Gamma(shape p x, rate nu x), which is how it is
    drawn; E[z] = p v/(q - 1) for q > 1 (infinite otherwise). Draws are made in
    log space so that tiny shapes do not underflow nu to 0.

    References
    ----------
    Colombo, R., & Jiang, W. (1999). A stochastic RFM model. Journal of
    Interactive Marketing, 13(3), 2-12.

    Fader, P. S., Hardie, B. G. S., & Lee, K. L. (2005). RFM and CLV: using
    iso-value curves for customer base analysis. Journal of Marketing
    Research, 42(4), 415-430.

    Examples
    --------
    >>> s = gamma_gamma_spend(6.25, 3.74, 15.44, frequency=[0, 1, 5], rng=2)
    >>> float(s.monetary_value[0]), bool(s.monetary_value[1] > 0)
    (0.0, True)
    >>> gamma_gamma_spend(6.25, 3.74, 15.44, frequency=[1, -2], rng=2)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: frequency must be non-negative; 1 of 2 values breaks this ...
    """
    p_, q_, v_ = _check_params((p, q, v), ("p", "q", "v"))
    x = val.as_int_array(frequency, "frequency", nonnegative=True)
    eta = _linear_predictor(spend_covariates, spend_coefficients, "spend", x.size)
    gen = val.as_generator(rng)
    log_nu = _log_standard_gamma(gen, np.full(x.size, q_)) - math.log(v_)
    if eta is not None:  # nu_i ~ Gamma(q, v exp(eta_i)): same draw, divided by exp(eta_i)
        log_nu = log_nu - eta
    mean = _mean_spend(gen, p_, x, log_nu)
    with np.errstate(under="ignore"):
        nu = np.exp(log_nu)
    return SimulatedSpend(frequency=_ro(x), monetary_value=_ro(mean), nu=_ro(nu))


def _mean_spend(rng: np.random.Generator, p: float, x: IntArray, log_nu: FloatArray) -> FloatArray:
    out = np.zeros(x.size)
    some = np.flatnonzero(x > 0)
    if some.size:
        xs = x[some].astype(np.float64)
        log_mean = _log_standard_gamma(rng, p * xs) - np.log(xs) - log_nu[some]
        with np.errstate(over="ignore", under="ignore"):
            out[some] = np.exp(log_mean)
        bad = ~np.isfinite(out)
        if bad.any():
            raise InputError(
                "the spend parameters give amounts too large to represent; "
                + val.describe_violations(bad, ("frequency", x)).replace("values", "customers")
                + "; check q and v (the values scale as v / q)"
            )
    return out
