"""One call for the per-customer forecasts of a fitted purchase model (private).

:func:`predict` (public as :func:`crmcore.models.clv.predict` and as the
``predict`` method of ``BgNbdFit``, ``MbgNbdFit``, ``ParetoNbdFit`` and
``BgBbFit``) gathers what the separate methods give for a summary into one
:class:`CustomerPrediction`. This module imports :mod:`crmcore.models.clv`
only inside :func:`predict` (clv re-exports the names defined here).
"""

from __future__ import annotations

from typing import Any

import attrs
import numpy as np

from crmcore import _validation as v
from crmcore._typing import FloatArray
from crmcore.errors import InputError, InputTypeError
from crmcore.summary import CustomerSummary, DiscreteSummary

__all__ = ["CustomerPrediction", "predict", "run"]


@attrs.frozen(kw_only=True, eq=False)
class CustomerPrediction:
    """Per-customer forecasts of a fitted purchase model over a horizon ``t``.

    Built by :func:`predict` (or a fit's ``predict`` method); one row per
    customer of the summary, in its order.

    Attributes
    ----------
    customer_ids : ndarray
        As in the summary.
    probability_alive : ndarray
        P(alive) at the end of observation (BG/BB: at opportunity n+1).
    expected_purchases : ndarray
        Expected purchases in the next ``t`` (BG/BB: the next ``t``
        opportunities).
    probability_of_purchase : ndarray
        P(at least one purchase in the next ``t``).
    expected_spend : ndarray or None
        Expected spend per transaction (0 for rows without purchase), with a
        spend fit.
    clv : ndarray or None
        Discounted expected margin over ``t`` (see
        :func:`crmcore.models.clv.customer_lifetime_value`), with a spend fit
        and a discount rate.
    t : float
        The horizon, in the summary's time unit (BG/BB: opportunities).
    time_unit : str or None
        The summary's time unit (None for a BG/BB summary of opportunities).
    """

    customer_ids: np.ndarray[Any, Any]
    probability_alive: FloatArray
    expected_purchases: FloatArray
    probability_of_purchase: FloatArray
    expected_spend: FloatArray | None = None
    clv: FloatArray | None = None
    t: float
    time_unit: str | None

    def columns(self) -> dict[str, np.ndarray[Any, Any]]:
        """Return the per-customer arrays by name, customer ids first, ready for a data frame.

        The same contract as :meth:`crmcore.CustomerSummary.columns`:
        equal-length 1-d read-only arrays (``pandas.DataFrame(p.columns())``);
        ``expected_spend`` and ``clv`` only when computed.

        Returns
        -------
        dict of str to ndarray
            ``customer_ids``, ``probability_alive``, ``expected_purchases``,
            ``probability_of_purchase`` and, when present, ``expected_spend``
            and ``clv``.

        Examples
        --------
        >>> p = CustomerPrediction(customer_ids=np.array([7]), probability_alive=np.array([0.5]),
        ...     expected_purchases=np.array([1.0]), probability_of_purchase=np.array([0.4]),
        ...     t=4.0, time_unit="W")
        >>> list(p.columns())
        ['customer_ids', 'probability_alive', 'expected_purchases', 'probability_of_purchase']
        """
        return v.result_columns(
            self,
            "customer_ids",
            "probability_alive",
            "expected_purchases",
            "probability_of_purchase",
            "expected_spend",
            "clv",
        )


def predict(
    purchase_fit: Any,
    summary: CustomerSummary | DiscreteSummary,
    t: float,
    *,
    spend_fit: Any = None,
    discount_rate: float | None = None,
    annual_discount_rate: float | None = None,
    discounting: str = "discrete",
    margin: float = 1.0,
    step: float | None = None,
    spend_covariates: Any = None,
) -> CustomerPrediction:
    """Return P(alive), expected purchases, P(purchase) and optionally spend and CLV per customer.

    Parameters
    ----------
    purchase_fit : BgNbdFit, MbgNbdFit, ParetoNbdFit or BgBbFit
        A fitted purchase model with ``probability_alive``,
        ``conditional_expected_purchases`` and
        ``conditional_purchase_probability`` methods.
    summary : CustomerSummary or DiscreteSummary
        The customers (a DiscreteSummary for BG/BB). A summary in another
        time unit than the fit's is converted (see the fits' ``time_unit``).
    t : float
        Horizon (>= 0), one number for every customer, in the summary's time
        unit; for BG/BB a whole number of opportunities (``n_future`` of
        :meth:`BgBbFit.predict <crmcore.models.bgbb.BgBbFit.predict>`).
    spend_fit : GammaGammaFit or GammaGammaCovariateFit, optional
        Adds ``expected_spend`` (not for BG/BB).
    discount_rate, annual_discount_rate : float, optional
        With ``spend_fit``: adds ``clv`` over ``t`` (give at most one; see
        :func:`crmcore.models.clv.customer_lifetime_value`, which also
        explains ``discounting`` and ``margin``).
    discounting : {"discrete", "continuous"}
    margin : float
        Share of spend that is margin (default 1).
    step : float, optional
        Length of a discounting step (default: one time unit, or ``t`` when
        shorter; longer when ``t`` would need more than
        :data:`crmcore.models.clv.MAX_STEPS` steps).
    spend_covariates : array-like or mapping, optional
        One row per summary row: the spend covariates of a
        :class:`~crmcore.models.gamma_gamma.GammaGammaCovariateFit` (required
        with one, refused otherwise).

    Returns
    -------
    CustomerPrediction
        Arrays equal to those of the separate calls
        (``fit.probability_alive(summary)``,
        ``fit.conditional_expected_purchases(t, summary)``,
        ``fit.conditional_purchase_probability(t, summary)``,
        ``clv.customer_lifetime_value(...)``).

    Raises
    ------
    InputError
        On a negative or non-finite ``t``, discount arguments without a
        spend fit, both discount rates, a spend fit or discount with BG/BB,
        and what the separate calls raise.
    InputTypeError
        When ``summary`` is not a summary of the fit's kind.

    Examples
    --------
    >>> from crmcore import CustomerSummary
    >>> from crmcore.models import bgnbd
    >>> p = bgnbd.BgNbdParams(r=0.243, alpha=4.414, a=0.793, b=2.426)
    >>> f = bgnbd.BgNbdFit(params=p, standard_errors=p, covariance=np.eye(4),
    ...     log_likelihood=-9582.4, n_customers=2357.0, converged=True, n_iterations=20,
    ...     time_unit="W")
    >>> s = CustomerSummary.from_arrays([2, 0], [30.43, 0.0], [38.86, 38.86], time_unit="W")
    >>> r = predict(f, s, 39.0)
    >>> r.probability_alive.round(3).tolist(), r.expected_purchases.round(3).tolist()
    ([0.727, 1.0], [1.226, 0.195])
    >>> predict(f, s, -1.0)
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: t must be >= 0.0, got -1.0
    """
    return run(
        purchase_fit,
        summary,
        t,
        spend_fit=spend_fit,
        discount_rate=discount_rate,
        annual_discount_rate=annual_discount_rate,
        discounting=discounting,
        margin=margin,
        step=step,
        spend_covariates=spend_covariates,
    )


def run(
    purchase_fit: Any,
    summary: CustomerSummary | DiscreteSummary,
    t: float,
    *,
    spend_fit: Any = None,
    discount_rate: float | None = None,
    annual_discount_rate: float | None = None,
    discounting: str = "discrete",
    margin: float = 1.0,
    step: float | None = None,
    t_name: str = "t",
    spend_covariates: Any = None,
) -> CustomerPrediction:
    """Do :func:`predict`, naming the horizon ``t_name`` in messages (BG/BB: ``n_future``)."""
    from crmcore.models import clv as _clv  # clv re-exports this module's names
    from crmcore.models.bgbb import BgBbFit

    needs = (
        "probability_alive",
        "conditional_expected_purchases",
        "conditional_purchase_probability",
    )
    if not all(callable(getattr(purchase_fit, name, None)) for name in needs):
        raise InputTypeError(
            f"purchase_fit must be a fitted purchase model (with {', '.join(needs)}), "
            f"got {type(purchase_fit).__name__}"
        )
    discrete = isinstance(purchase_fit, BgBbFit)
    kind = DiscreteSummary if discrete else CustomerSummary
    if not isinstance(summary, kind):
        model = "a BG/BB fit" if discrete else "a continuous-time fit"
        raise InputTypeError(
            f"summary must be a {kind.__name__} for {model}, got {type(summary).__name__}"
        )
    discounted = discount_rate is not None or annual_discount_rate is not None
    if discrete:
        horizon: float = float(v.check_int(t, t_name, low=0))
        if spend_fit is not None or discounted:
            raise InputError(
                "spend_fit and discount rates do not apply to a model of discrete "
                "opportunities (BG/BB); leave them out"
            )
    else:
        horizon = v.check_float(t, t_name, low=0.0)
        if discounted and spend_fit is None:
            raise InputError(
                "discount_rate or annual_discount_rate needs spend_fit (CLV is spend times "
                "discounted purchases)"
            )
    alive = np.asarray(purchase_fit.probability_alive(summary), dtype=np.float64)
    n_t: Any = int(horizon) if discrete else horizon
    expected = np.asarray(
        purchase_fit.conditional_expected_purchases(n_t, summary), dtype=np.float64
    )
    buy = np.asarray(purchase_fit.conditional_purchase_probability(n_t, summary), dtype=np.float64)
    spend = value = None
    if spend_covariates is not None and spend_fit is None:
        raise InputError(
            "spend_covariates must be left out without spend_fit (they are the covariates of a "
            "Gamma-Gamma covariate fit)"
        )
    if spend_fit is not None and isinstance(summary, CustomerSummary):
        spend_fit = _bind_spend(spend_fit, spend_covariates, summary)
        if discounted and horizon > 0:
            if step is None:
                step = min(horizon, max(1.0, horizon / _clv.MAX_STEPS))
            st = v.check_float(step, "step", low=0.0, low_open=True)
            if horizon / st > _clv.MAX_STEPS * (1 + 1e-9):
                raise InputError(
                    f"{t_name} / step must be at most {_clv.MAX_STEPS} (clv.MAX_STEPS) for the "
                    f"CLV; got {t_name}={horizon}, step={st}; choose a longer step"
                )
            result = _clv.customer_lifetime_value(
                purchase_fit,
                spend_fit,
                summary,
                horizon=horizon,
                step=step,
                discount_rate=discount_rate,
                annual_discount_rate=annual_discount_rate,
                discounting=discounting,  # type: ignore[arg-type]
                margin=margin,
            )
            spend, value = result.expected_spend, result.clv
        else:
            spend = _spend(spend_fit, summary)
            if discounted:  # horizon 0: nothing to discount
                value = v.readonly(np.zeros(len(summary)))
    return CustomerPrediction(
        customer_ids=summary.customer_ids,
        probability_alive=v.readonly(alive),
        expected_purchases=v.readonly(expected),
        probability_of_purchase=v.readonly(buy),
        expected_spend=spend,
        clv=value,
        t=horizon,
        time_unit=None if discrete else summary.time_unit,  # type: ignore[union-attr]
    )


class _BoundSpend:
    """A Gamma-Gamma covariate fit bound to the covariates of a summary's buyers."""

    def __init__(self, fit: Any, covariates: FloatArray) -> None:
        self.fit, self.covariates = fit, covariates

    def conditional_expected_spend(self, frequency: Any, monetary_value: Any = None) -> Any:
        return self.fit.conditional_expected_spend(
            frequency, monetary_value, spend_covariates=self.covariates
        )


def _bind_spend(spend_fit: Any, spend_covariates: Any, summary: CustomerSummary) -> Any:
    """Return the spend fit as the CLV calls it: a covariate fit bound to the buyers' rows."""
    from crmcore.models import _covariates, _spend_covariates

    names = getattr(spend_fit, "spend_names", ())
    if not isinstance(spend_fit, _spend_covariates.GammaGammaCovariateFit):
        names = ()
    mat = _covariates._matrix_for(spend_covariates, "spend_covariates", len(summary), names)
    if mat is None:
        return spend_fit
    return _BoundSpend(spend_fit, mat[np.asarray(summary.has_purchase)])


def _spend(spend_fit: Any, summary: CustomerSummary) -> FloatArray:
    """Return the expected spend per transaction of the buyers, 0 for the other rows (as in CLV)."""
    from crmcore.models import clv as _clv

    _clv._check_fit(spend_fit, "spend_fit", _clv.SpendFit, "conditional_expected_spend")
    buyers = np.asarray(summary.has_purchase)
    out = np.zeros(len(summary))
    if buyers.any():
        out[buyers] = np.asarray(
            spend_fit.conditional_expected_spend(
                summary.frequency[buyers].astype(np.float64), summary.monetary_value[buyers]
            ),
            dtype=np.float64,
        )
    return v.readonly(out)
