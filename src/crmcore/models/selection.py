"""Model selection: the likelihood-ratio test between nested fits.

Every fit result has ``aic()`` and ``bic()`` (Akaike's and Schwarz's
information criteria, lower is better among models fitted to the same data).
When one model is a special case of another, the likelihood-ratio test says
whether the larger model fits the data significantly better:
:func:`likelihood_ratio_test`.

The nested pairs crmcore knows:

- the sBG model (:mod:`crmcore.models.sbg`) is the BdW model
  (:mod:`crmcore.models.bdw`) with c = 1: one restriction.

Examples
--------
>>> from crmcore.models import bdw, sbg, selection
>>> alive = [1000, 869, 743, 653, 593]  # Fader & Hardie (2007), high end, years 0-4
>>> test = selection.likelihood_ratio_test(sbg.fit(alive), bdw.fit(alive))
>>> round(test.statistic, 2), test.df, round(test.p_value, 4)
(4.77, 1, 0.0289)
"""

from __future__ import annotations

import math
from typing import Any

import attrs
from scipy import stats

from crmcore.errors import InputError, InputTypeError
from crmcore.models.bdw import BdwFit
from crmcore.models.sbg import SbgFit

__all__ = ["LikelihoodRatioTest", "likelihood_ratio_test"]

# (restricted fit class, full fit class) -> (restrictions, what they are)
_NESTED: dict[tuple[type, type], tuple[int, str]] = {
    (SbgFit, BdwFit): (1, "the sBG model is the BdW model with c = 1"),
}


@attrs.frozen(kw_only=True)
class LikelihoodRatioTest:
    """Outcome of :func:`likelihood_ratio_test`.

    Attributes
    ----------
    statistic : float
        ``2 (full.log_likelihood - restricted.log_likelihood)`` (>= 0).
    df : int
        Degrees of freedom: the number of restrictions that turn the full
        model into the restricted one.
    p_value : float
        ``P(chi-square(df) >= statistic)``: the probability of a statistic at
        least this large if the restricted model were true.
    nesting : str
        How the restricted model sits inside the full one.

    Examples
    --------
    >>> LikelihoodRatioTest(statistic=3.84, df=1, p_value=0.05, nesting="c = 1").df
    1
    """

    statistic: float
    df: int
    p_value: float
    nesting: str


def likelihood_ratio_test(restricted: Any, full: Any) -> LikelihoodRatioTest:
    """Test a restricted fit against the full model it is nested in, fitted to the same data.

    Parameters
    ----------
    restricted : fit result
        The fit of the smaller model (e.g. :class:`crmcore.models.sbg.SbgFit`).
    full : fit result
        The fit of the larger model (e.g. :class:`crmcore.models.bdw.BdwFit`)
        to the same data.

    Returns
    -------
    LikelihoodRatioTest

    Raises
    ------
    InputTypeError
        When an argument is not a fit result crmcore can compare.
    InputError
        When the two models are not nested (in this order), when they were
        fitted to differently sized data (``n_customers`` differ), or when the
        full fit's log-likelihood is below the restricted one's by more than
        rounding (then the full fit missed its maximum, or the data differ).

    Notes
    -----
    Under the restricted model, and with the restricted parameters inside
    the full model's parameter space (c = 1 is an interior value of c > 0),
    the statistic ``2 (ℓ_full - ℓ_restricted)`` is asymptotically
    chi-square distributed with ``df`` degrees of freedom (Wilks 1938). A
    statistic a hair below 0 (both fits at the same maximum, up to the
    optimiser's tolerance) is reported as 0.

    The test cannot check that both fits saw the same data, only that they
    saw the same number of customers.

    References
    ----------
    Wilks, S. S. (1938). The large-sample distribution of the likelihood
    ratio for testing composite hypotheses. The Annals of Mathematical
    Statistics, 9(1), 60-62.

    Examples
    --------
    >>> from crmcore.models import bdw, sbg
    >>> alive = [1000, 631, 468, 382, 326, 289, 262, 241]  # Fader & Hardie (2007), regular
    >>> test = likelihood_ratio_test(sbg.fit(alive), bdw.fit(alive))
    >>> round(test.statistic, 3), round(test.p_value, 3)
    (1.325, 0.25)
    >>> likelihood_ratio_test(bdw.fit(alive), sbg.fit(alive))
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: restricted (BdwFit) and full (SbgFit) are not nested models ...
    """
    for name, value in (("restricted", restricted), ("full", full)):
        if not (attrs.has(type(value)) and hasattr(value, "log_likelihood")):
            raise InputTypeError(
                f"{name} must be a model fit result (e.g. sbg.fit(...)), got {type(value).__name__}"
            )
    pair = (type(restricted), type(full))
    if pair not in _NESTED:
        known = "; ".join(f"{r.__name__} in {f.__name__}" for r, f in _NESTED)
        raise InputError(
            f"restricted ({pair[0].__name__}) and full ({pair[1].__name__}) are not nested "
            f"models that crmcore knows (restricted first, then full); known pairs: {known}. "
            "For models that are not nested, compare fit.aic() or fit.bic() instead"
        )
    df, nesting = _NESTED[pair]
    n_r, n_f = float(restricted.n_customers), float(full.n_customers)
    if n_r != n_f:
        raise InputError(
            "restricted and full must be fitted to the same data; their n_customers differ: "
            f"restricted {n_r!r}, full {n_f!r}"
        )
    ll_r, ll_f = float(restricted.log_likelihood), float(full.log_likelihood)
    statistic = 2.0 * (ll_f - ll_r)
    if statistic < -1e-6 * max(1.0, abs(ll_r)):
        raise InputError(
            "full.log_likelihood must be at least restricted.log_likelihood, since the full "
            f"model contains the restricted one; got full {ll_f!r} < restricted {ll_r!r}. "
            "The full fit missed its maximum (refit it starting from the restricted "
            "estimates, e.g. bdw.fit(alive, initial=BdwParams(alpha=..., beta=..., c=1.0))) "
            "or the two fits used different data"
        )
    statistic = max(statistic, 0.0)
    p_value = float(stats.chi2.sf(statistic, df))
    if not math.isfinite(p_value):  # pragma: no cover - chi2.sf is finite for finite input
        p_value = 0.0
    return LikelihoodRatioTest(statistic=statistic, df=df, p_value=p_value, nesting=nesting)
