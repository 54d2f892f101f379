"""Every per-customer result turns into a data frame through ``columns()``.

The contract (see :meth:`crmcore.CustomerSummary.columns`): an ordered dict of
equal-length 1-d read-only arrays, customer ids first where the result has
ids, values equal to the result's fields, sharing no memory with the caller's
arrays; ``pandas.DataFrame(r.columns())`` and ``polars.DataFrame(r.columns())``
build with one row per customer. Per-step, per-group and per-period fields come
out through their own ``*_columns()`` methods.

The classes are discovered: every public attrs class of crmcore with a
``columns`` method must have a builder below, and every public attrs class
holding arrays must either have ``columns`` or be listed, with a reason, as not
per-customer.
"""

from __future__ import annotations

import datetime as dt
import importlib
import inspect
import pkgutil
import warnings
from collections.abc import Callable
from typing import Any, NamedTuple

import attrs
import numpy as np
import pandas as pd
import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_array_equal

import crmcore
from crmcore import CustomerSummary, InteractionTable, summarize, summarize_discrete
from crmcore.errors import DataQualityWarning, InputError
from crmcore.metrics import (
    abc_classes,
    acquisition_cost,
    buyer_type,
    conversion_rates,
    historical_value,
    ladder_inputs,
    leads_from_table,
    new_lapsed_repeating,
    payback_time,
    pyramid,
    rfm_scores,
    sales_cycle,
    stage_conversion,
    tenure_from_dates,
    tenure_from_relationships,
    value_matrix,
    value_tiers,
)
from crmcore.metrics.loyalty.rfm import RfmEdges, RfmScores
from crmcore.models import bgnbd, clv, gamma_gamma, uncertainty
from crmcore.models.clv import customer_lifetime_value, residual_lifetime_value
from crmcore.records import Customer, Relationship
from crmcore.simulate import (
    CatalogOptions,
    bgbb_histories,
    customer_base,
    gamma_gamma_spend,
    pareto_nbd_histories,
    sbg_cohort,
)
from crmcore.summary import compress

# Public classes that hold arrays but whose rows are not customers: they have
# no ``columns()`` (their arrays are per period, group, pair, point or
# parameter), and a new class must be added here or get ``columns()``.
NOT_PER_CUSTOMER = {
    "InteractionTable": "one row per interaction, built from the caller's columns",
    "RfmEdges": "cut points per dimension (RfmScores.edge_columns gives them)",
    "SegmentRuleReport": "score grid of a rule set",
    "LorenzCurve": "n + 1 points of a curve",
    "PeriodChange": "one row per period of a series",
    "CoPurchase": "items and pairs of items",
    "CohortMatrix": "cohorts x periods since acquisition",
    "SurvivalCurve": "one row per event time",
    "RetentionEconomics": "one row per year",
    "HoldoutComparison": "one row per calibration-frequency group",
    "Tracking": "one row per calendar period",
    "FrequencyHistogram": "one row per frequency bin",
    "MleResult": "estimates per parameter",
    "BgNbdFit": "a fitted model (parameters, covariance)",
    "MbgNbdFit": "a fitted model (parameters, covariance)",
    "ParetoNbdFit": "a fitted model (parameters, covariance)",
    "GGompertzNbdFit": "a fitted model (parameters, covariance)",
    "BgBbFit": "a fitted model (parameters, covariance)",
    "GammaGammaFit": "a fitted model (parameters, covariance)",
    "SbgFit": "a fitted model (parameters, covariance)",
    "BdwFit": "a fitted model (parameters, covariance)",
    "ClassValueShare": "one row per class (class_columns gives them)",
    "SegmentMigration": "a class x class matrix (cell_columns gives it in long format)",
    "SalesBreakdown": "one row per category, product, channel or region (group_columns)",
    "BgCnbdFit": "a fitted model (parameters, covariance, log-likelihood per k)",
    "MbgCnbdFit": "a fitted model (parameters, covariance, log-likelihood per k)",
    "BgNbdCovariateFit": "a fitted model (coefficients per covariate, covariance)",
    "MbgNbdCovariateFit": "a fitted model (coefficients per covariate, covariance)",
    "ParetoNbdCovariateFit": "a fitted model (coefficients per covariate, covariance)",
    "ParetoNbdTimeVaryingFit": "a fitted model (coefficients per covariate, covariance)",
    "GammaGammaCovariateFit": "a fitted model (coefficients per covariate, covariance)",
    "SbgCovariateFit": "a fitted model (coefficients per covariate, covariance)",
}


def _public_attrs_classes() -> dict[str, type]:
    modules = [
        importlib.import_module(info.name)
        for info in pkgutil.walk_packages(crmcore.__path__, "crmcore.")
        if not any(part.startswith("_") for part in info.name.split("."))
    ]
    return {
        name: obj
        for module in modules
        for name, obj in vars(module).items()
        if inspect.isclass(obj)
        and not name.startswith("_")
        and obj.__module__.startswith("crmcore")
        and attrs.has(obj)
    }


CLASSES = _public_attrs_classes()


def _holds_arrays(cls: type) -> bool:
    return any("Array" in str(f.type) or "ndarray" in str(f.type) for f in attrs.fields(cls))


# --------------------------------------------------------------------------- builders


class Built(NamedTuple):
    result: Any
    n: int  # rows expected
    ids: list[Any] | None  # expected customer ids, None when the result has none
    caller: list[np.ndarray[Any, Any]]  # arrays the caller passed in


def _day(values: list[str]) -> np.ndarray[Any, Any]:
    return np.array(values, dtype="datetime64[ns]")


def _log() -> tuple[InteractionTable, list[np.ndarray[Any, Any]]]:
    ids = np.array(["ann", "bob", "ann", "cy", "bob", "ann"])
    times = _day(
        ["2024-01-03", "2024-01-09", "2024-02-11", "2024-03-01", "2024-03-20", "2024-03-25"]
    )
    amounts = np.array([20.0, 12.0, 40.0, 8.0, 5.0, 7.0])
    products = np.array(["x", "y", "x", "y", "x", "z"], dtype=object)
    discounted = np.array([False, True, False, True, True, False])
    table = InteractionTable.from_arrays(
        ids, times, amounts=amounts, margins=amounts / 2, products=products, discounted=discounted
    )
    return table, [ids, times, amounts, products, discounted]


def _summary() -> tuple[CustomerSummary, list[np.ndarray[Any, Any]]]:
    table, caller = _log()
    return summarize(table, observation_end="2024-03-31", time_unit="W"), caller


def _fits() -> tuple[bgnbd.BgNbdFit, gamma_gamma.GammaGammaFit]:
    # Published CDNOW estimates (Fader, Hardie & Lee 2005); the fits' other fields
    # play no part in the predictions.
    p = bgnbd.BgNbdParams(r=0.243, alpha=4.414, a=0.793, b=2.426)
    g = gamma_gamma.GammaGammaParams(p=6.25, q=3.74, v=15.44)
    return (
        bgnbd.BgNbdFit(
            params=p,
            standard_errors=p,
            covariance=np.eye(4),
            log_likelihood=0.0,
            n_customers=3.0,
            converged=True,
            n_iterations=1,
        ),
        gamma_gamma.GammaGammaFit(
            params=g,
            standard_errors=g,
            covariance=np.eye(3),
            log_likelihood=0.0,
            n_customers=3.0,
            converged=True,
            n_iterations=1,
        ),
    )


def build_summary() -> Built:
    s, caller = _summary()
    return Built(s, 3, ["ann", "bob", "cy"], caller)


def build_summary_from_arrays() -> Built:
    freq, rec, big_t = np.array([1, 0, 4]), np.array([3.0, 0.0, 9.0]), np.array([5.0, 2.0, 10.0])
    ids = np.array([30, 10, 20])
    hold = np.array([0, 2, 1])
    s = CustomerSummary.from_arrays(
        freq,
        rec,
        big_t,
        customer_ids=ids,
        frequency_holdout=hold,
        monetary_value_holdout=np.array([0.0, 3.0, 4.0]),
        duration_holdout=4.0,
    )
    return Built(s, 3, s.customer_ids.tolist(), [freq, rec, big_t, ids, hold])


def build_discrete() -> Built:
    table, caller = _log()
    d = summarize_discrete(table, start="2024-01-01", period="M", n_periods=2)
    return Built(d, 2, ["ann", "bob"], caller)


def build_compressed() -> Built:
    freq, rec, big_t = np.array([1, 0, 1]), np.array([2.0, 0.0, 2.0]), np.array([5.0, 5.0, 5.0])
    return Built(compress(freq, rec, big_t), 2, None, [freq, rec, big_t])


def build_rfm_summary() -> Built:
    s, caller = _summary()
    return Built(rfm_scores(s, bins=2), 3, ["ann", "bob", "cy"], caller)


def build_rfm_arrays() -> Built:
    a, b, c = np.array([1.0, 5.0, 3.0]), np.array([4, 1, 2]), np.array([9.0, 1.0, 5.0])
    scores = rfm_scores(time_since_last=a, n_purchases=b, total_spend=c, bins=2)
    return Built(scores, 3, None, [a, b, c])


def build_abc_summary() -> Built:
    s, caller = _summary()
    return Built(abc_classes(s), 3, ["ann", "bob", "cy"], caller)


def build_abc_values() -> Built:
    values = np.array([70.0, 20.0, 10.0, 0.0])
    return Built(abc_classes(values), 4, None, [values])


def build_value_tiers_summary() -> Built:
    s, caller = _summary()
    return Built(value_tiers(s), 3, ["ann", "bob", "cy"], caller)


def build_value_tiers_values() -> Built:
    values = np.array([70.0, -20.0, 10.0, 0.0])
    return Built(value_tiers(values), 4, None, [values])


def build_pyramid() -> Built:
    values = np.array([6.0, 1.0, 3.0, 2.0])
    return Built(pyramid(values, bands=[("top", 0.5), ("rest", 0.5)]), 4, None, [values])


def build_pyramid_summary() -> Built:
    s, caller = _summary()
    return Built(pyramid(s, bands=[("top", 0.5), ("rest", 0.5)]), 3, ["ann", "bob", "cy"], caller)


def build_value_matrix() -> Built:
    a, b = np.array([1.0, 5.0, 3.0]), np.array([4.0, 2.0, 3.0])
    return Built(value_matrix(a, b), 3, None, [a, b])


def build_buyer_types() -> Built:
    table, caller = _log()
    types = buyer_type(table, launch_dates={"x": "2024-01-01", "y": "2023-06-01"})
    return Built(types, 3, ["ann", "bob", "cy"], caller)


def build_historical_value() -> Built:
    table, caller = _log()
    h = historical_value(table, observation_end="2024-12-31", rate=0.1)
    return Built(h, 3, ["ann", "bob", "cy"], caller)


def build_tenure_dates() -> Built:
    since = np.array(["2023-01-01", "2023-06-01", "2024-02-01"], dtype="datetime64[D]")
    ended = np.array(["2023-03-02", "2024-03-01", "NaT"], dtype="datetime64[D]")
    return Built(
        tenure_from_dates(since, ended, observation_end="2024-01-01"), 2, None, [since, ended]
    )


def build_tenure_records() -> Built:
    utc = dt.UTC
    rels = [
        Relationship(
            customer_id=cid,
            stage="member",
            level="basic",
            status="actual",
            since=dt.datetime(2023, 1, day, tzinfo=utc),
        )
        for cid, day in (("b", 1), ("a", 2))
    ]
    return Built(tenure_from_relationships(rels, observation_end="2023-03-01"), 2, ["b", "a"], [])


def build_flow() -> Built:
    table, caller = _log()
    flow = new_lapsed_repeating(table, "2024-01", "2024-03")
    return Built(flow, 3, ["ann", "bob", "cy"], caller)


def build_ladder_inputs() -> Built:
    day = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    base = [
        Customer(id=1, name="Ann", acquired=day, member_since=day),
        Customer(id=2, name="Ben", acquired=day, referred_by=1),
    ]
    ids = np.array([2, 1, 7])
    return Built(ladder_inputs(base, ids, observation_end="2024-02-01"), 3, [2, 1, 7], [ids])


def build_clv() -> Built:
    s, caller = _summary()
    purchases, spend = _fits()
    value = customer_lifetime_value(purchases, spend, s, horizon=10.0, step=4.0, discount_rate=0.01)
    return Built(value, 3, ["ann", "bob", "cy"], caller)


def build_residual_value() -> Built:
    s, caller = _summary()
    purchases, spend = _fits()
    value = residual_lifetime_value(purchases, spend, s, discount_rate=0.01)
    return Built(value, 3, ["ann", "bob", "cy"], caller)


def build_prediction() -> Built:
    s, caller = _summary()
    purchases, spend = _fits()
    value = purchases.predict(s, 10.0, spend_fit=spend, discount_rate=0.01)
    return Built(value, 3, ["ann", "bob", "cy"], caller)


def _uncertain_fits() -> tuple[bgnbd.BgNbdFit, gamma_gamma.GammaGammaFit]:
    # log-scale standard errors of 0.1 on every parameter
    purchases, spend = _fits()
    th_p, th_s = purchases.params.as_array(), spend.params.as_array()
    return (
        attrs.evolve(purchases, covariance=0.01 * np.outer(th_p, th_p)),
        attrs.evolve(spend, covariance=0.01 * np.outer(th_s, th_s)),
    )


def build_prediction_interval() -> Built:
    s, caller = _summary()
    purchases, _ = _uncertain_fits()
    value = uncertainty.prediction_interval(purchases, "probability_alive", s, n_draws=10)
    return Built(value, 3, ["ann", "bob", "cy"], caller)


def build_clv_interval() -> Built:
    s, caller = _summary()
    purchases, spend = _uncertain_fits()
    value = uncertainty.clv_interval(
        purchases, spend, s, horizon=10.0, step=4.0, discount_rate=0.01, n_draws=10
    )
    return Built(value, 3, ["ann", "bob", "cy"], caller)


def build_parameter_draws() -> Built:
    purchases, _ = _uncertain_fits()
    return Built(purchases.sample_params(5, rng=0), 5, None, [])


def build_tracking_interval() -> Built:
    table, caller = _log()
    purchases, _ = _uncertain_fits()
    value = uncertainty.tracking_interval(
        purchases, table, observation_end="2024-03-31", n_draws=10
    )
    return Built(value, value.period_start.size, None, caller)


def build_holdout_accuracy() -> Built:
    purchases, _ = _uncertain_fits()
    s = CustomerSummary.from_arrays([0, 1, 2, 5], [0.0, 3.0, 9.0, 20.0], [30.0] * 4)
    value = clv.holdout_accuracy(purchases, s, [0, 1, 0, 4], duration_holdout=10.0, n_bins=2)
    return Built(value, 2, None, [])


def build_customer_base() -> Built:
    base = customer_base(
        4, start="2024-01-01", observation_end="2024-06-30", catalog=CatalogOptions(), rng=2
    )
    return Built(base, 4, [1, 2, 3, 4], [])


def build_histories() -> Built:
    big_t = np.array([10.0, 20.0, 30.0])
    h = pareto_nbd_histories(0.5, 5.0, 0.7, 10.0, n_customers=3, T=big_t, rng=1)
    return Built(h, 3, None, [big_t])


def build_discrete_histories() -> Built:
    return Built(
        bgbb_histories(1.2, 0.75, 0.66, 2.78, n_customers=4, n_periods=6, rng=1), 4, None, []
    )


def build_cohort() -> Built:
    return Built(sbg_cohort(0.7, 3.3, n_customers=5, n_periods=3, rng=1), 5, None, [])


def build_spend() -> Built:
    freq = np.array([0, 2, 5])
    return Built(gamma_gamma_spend(6.25, 3.74, 15.44, frequency=freq, rng=1), 3, None, [freq])


def build_conversion_rates() -> Built:
    won = np.array([True, False, True])
    src = np.array(["web", "web", "fair"])
    return Built(conversion_rates(won, src), 2, None, [won])


def build_stage_conversion() -> Built:
    return Built(stage_conversion(["lead", "won", "proposal"]), 3, None, [])


def build_leads() -> Built:
    ids = np.array(["p2", "p1", "p2"])
    times = _day(["2024-01-01", "2024-01-03", "2024-01-09"])
    table = InteractionTable.from_arrays(
        ids, times, kinds=["lead", "lead", "purchase"], lead_sources=["web", "fair", None]
    )
    return Built(leads_from_table(table, observation_end="2024-02-01"), 2, ["p1", "p2"], [ids])


def build_sales_cycle() -> Built:
    start = _day(["2024-01-01", "2024-01-05", "2024-01-02"])
    won = _day(["2024-01-11", "NaT", "2024-01-04"])
    return Built(sales_cycle(start, won, observation_end="2024-02-01"), 3, None, [start, won])


def build_acquisition_cost() -> Built:
    won = np.array(["web", "fair", "web"])
    return Built(acquisition_cost({"web": 10.0, "fair": 4.0}, won), 2, None, [won])


def build_payback() -> Built:
    table, caller = _log()
    ids = np.array(["cy", "ann"])
    acquired = _day(["2024-03-01", "2024-01-03"])
    cac = np.array([2.0, 50.0])
    p = payback_time(table, ids, acquired, cac, observation_end="2024-03-31")
    return Built(p, 2, ["cy", "ann"], [*caller, ids, acquired, cac])


def build_time_varying_covariates() -> Built:
    from crmcore.models.pareto_nbd import TimeVaryingCovariates

    ids = np.array(["b", "a", "a"])
    starts = _day(["2024-01-01", "2024-01-08", "2024-01-01"])
    z = np.array([1.0, 0.0, 2.0])
    cov = TimeVaryingCovariates.from_long(ids, starts, {"z": z}, period="W")
    return Built(cov, 3, ["a", "a", "b"], [ids, starts, z])


def build_time_varying_histories() -> Built:
    from crmcore.simulate import pareto_nbd_time_varying

    sim = pareto_nbd_time_varying(
        0.5, 5.0, 0.7, 10.0, n_customers=3, n_periods=4, start="2024-01-01", rng=1
    )
    return Built(sim, 3, None, [])


BUILDERS: dict[str, list[Callable[[], Built]]] = {
    "TimeVaryingCovariates": [build_time_varying_covariates],
    "SimulatedTimeVarying": [build_time_varying_histories],
    "ConversionRates": [build_conversion_rates, build_stage_conversion],
    "Leads": [build_leads],
    "SalesCycle": [build_sales_cycle],
    "AcquisitionCost": [build_acquisition_cost],
    "Payback": [build_payback],
    "CustomerSummary": [build_summary, build_summary_from_arrays],
    "DiscreteSummary": [build_discrete],
    "CompressedHistories": [build_compressed],
    "RfmScores": [build_rfm_summary, build_rfm_arrays],
    "AbcResult": [build_abc_summary, build_abc_values],
    "ValueTiers": [build_value_tiers_summary, build_value_tiers_values],
    "PyramidResult": [build_pyramid, build_pyramid_summary],
    "ValueMatrix": [build_value_matrix],
    "BuyerTypes": [build_buyer_types],
    "HistoricalValue": [build_historical_value],
    "Tenure": [build_tenure_dates, build_tenure_records],
    "CustomerFlow": [build_flow],
    "LadderInputs": [build_ladder_inputs],
    "CustomerLifetimeValue": [build_clv],
    "ResidualLifetimeValue": [build_residual_value],
    "CustomerPrediction": [build_prediction],
    "SimulatedCustomerBase": [build_customer_base],
    "SimulatedHistories": [build_histories],
    "SimulatedDiscreteHistories": [build_discrete_histories],
    "SimulatedCohort": [build_cohort],
    "SimulatedSpend": [build_spend],
    "PredictionInterval": [build_prediction_interval, build_clv_interval],
    "ParameterDraws": [build_parameter_draws],
    "TrackingInterval": [build_tracking_interval],
    "HoldoutAccuracy": [build_holdout_accuracy],
}
CASES = [
    pytest.param(builder, id=f"{name}-{builder.__name__}")
    for name, builders in BUILDERS.items()
    for builder in builders
]


# --------------------------------------------------------------------------- discovery


def test_every_class_with_columns_has_a_builder() -> None:
    with_columns = {name for name, cls in CLASSES.items() if hasattr(cls, "columns")}
    assert with_columns == set(BUILDERS)


def test_every_class_holding_arrays_has_columns_or_a_reason() -> None:
    holding = {name for name, cls in CLASSES.items() if _holds_arrays(cls)}
    unclassified = holding - set(BUILDERS) - set(NOT_PER_CUSTOMER)
    assert not unclassified, (
        f"give these columns() or list them in NOT_PER_CUSTOMER: {unclassified}"
    )
    assert not set(BUILDERS) & set(NOT_PER_CUSTOMER)
    assert set(NOT_PER_CUSTOMER) <= set(CLASSES), "stale names in NOT_PER_CUSTOMER"


def test_the_discovery_finds_the_known_classes() -> None:
    # Guards the discovery itself: a walk that found nothing would pass the tests above.
    assert {"CustomerSummary", "RfmScores", "CustomerLifetimeValue", "Tracking"} <= set(CLASSES)


# --------------------------------------------------------------------------- the contract


def _check_columns(cols: object, n: int, result: object) -> dict[str, np.ndarray[Any, Any]]:
    assert isinstance(cols, dict)
    assert cols
    for name, col in cols.items():
        assert isinstance(col, np.ndarray), name
        assert col.ndim == 1, (name, col.shape)
        assert col.size == n, (name, col.shape)
        assert not col.flags.writeable, name
        if hasattr(result, name):
            assert_array_equal(col, np.asarray(getattr(result, name)), err_msg=name)
    return cols


@pytest.mark.parametrize("builder", CASES)
def test_columns_contract(builder: Callable[[], Built]) -> None:
    built = builder()
    r = built.result
    cols = _check_columns(r.columns(), built.n, r)
    assert type(r).__name__ in BUILDERS
    if built.ids is None:
        assert "customer_ids" not in cols
    else:
        assert next(iter(cols)) == "customer_ids"
        assert cols["customer_ids"].tolist() == built.ids
    # every 1-d per-row array field is a column (none forgotten)
    for field in attrs.fields(type(r)):
        value = getattr(r, field.name)
        if isinstance(value, np.ndarray) and value.ndim == 1 and value.size == built.n:
            in_other = any(
                field.name in getattr(r, m)()
                for m in dir(r)
                if m.endswith("_columns") and not m.startswith("_")
            )
            assert field.name in cols or in_other, field.name


@pytest.mark.parametrize("builder", CASES)
def test_columns_build_pandas_and_polars_frames(builder: Callable[[], Built]) -> None:
    built = builder()
    cols = built.result.columns()
    frame = pd.DataFrame(cols)
    assert len(frame) == built.n
    assert list(frame.columns) == list(cols)
    polars_frame = pl.DataFrame(cols)
    assert polars_frame.height == built.n
    assert polars_frame.columns == list(cols)
    if built.ids is not None:
        assert frame["customer_ids"].tolist() == built.ids
        assert polars_frame["customer_ids"].to_list() == built.ids


@pytest.mark.parametrize("builder", CASES)
def test_columns_share_no_memory_with_the_caller_and_cannot_change_the_result(
    builder: Callable[[], Built],
) -> None:
    built = builder()
    r = built.result
    cols = r.columns()
    for name, col in cols.items():
        for arr in built.caller:
            assert not np.shares_memory(col, arr), name
        with pytest.raises(ValueError, match="read-only"):
            col[:1] = col[:1]
    before = {name: col.copy() for name, col in cols.items()}
    for arr in built.caller:  # the caller reuses its buffers
        if arr.dtype.kind in "fiu":
            arr[...] = 0
    for name, col in r.columns().items():
        assert_array_equal(col, before[name], err_msg=name)


@pytest.mark.parametrize("builder", CASES)
def test_other_column_methods(builder: Callable[[], Built]) -> None:
    r = builder().result
    for method in (m for m in dir(r) if m.endswith("_columns") and not m.startswith("_")):
        cols = getattr(r, method)()
        assert isinstance(cols, dict), method
        assert cols, method
        sizes = {col.size for col in cols.values()}
        assert len(sizes) == 1, (method, sizes)
        _check_columns(cols, sizes.pop(), r)
        assert len(pd.DataFrame(cols)) == len(pl.DataFrame(cols))


# --------------------------------------------------------------------------- specific values


def test_clv_step_columns_match_the_closed_form() -> None:
    value = build_clv().result
    steps = value.step_columns()
    assert list(steps) == ["step_ends", "discount_factors"]
    # discrete discounting at 1% per week: (1.01)^-t at t = 4, 8, 10 (closed form)
    assert steps["step_ends"].tolist() == [4.0, 8.0, 10.0]
    np.testing.assert_allclose(steps["discount_factors"], 1.01 ** -np.array([4.0, 8.0, 10.0]))


def test_abc_class_columns() -> None:
    cols = build_abc_values().result.class_columns()
    # 70 + 20 + 10 + 0: A holds 70 (0.7 <= 0.8), B reaches 0.9 <= 0.95, C the rest
    assert cols["class"].tolist() == ["A", "B", "C"]
    assert cols["class_counts"].tolist() == [1, 1, 2]
    np.testing.assert_allclose(cols["class_shares"], [0.7, 0.2, 0.1])


def test_summary_columns_include_the_holdout_only_when_present() -> None:
    with_holdout = build_summary_from_arrays().result.columns()
    without = build_summary().result.columns()
    assert list(with_holdout)[-2:] == ["frequency_holdout", "monetary_value_holdout"]
    assert "frequency_holdout" not in without


def test_cohort_period_columns() -> None:
    cohort = build_cohort().result
    cols = cohort.period_columns()
    assert cols["period"].tolist() == [0, 1, 2, 3]
    assert int(cols["alive"][0]) == 5
    np.testing.assert_allclose(cols["survival"], cols["alive"] / 5)


def test_hand_built_result_with_unequal_lengths_is_refused() -> None:
    edges = RfmEdges(
        time_since_last=np.array([1.0]), n_purchases=np.array([1.0]), total_spend=np.array([1.0])
    )
    scores = RfmScores(
        r=np.array([1, 2]), f=np.array([1]), m=np.array([1, 2]), edges=edges, bins=2, method="x"
    )
    with pytest.raises(InputError, match=r"equal lengths; f has 1 entries, r has 2"):
        scores.columns()


# --------------------------------------------------------------------------- property


@given(
    st.lists(
        st.tuples(
            st.integers(-5, 5),  # customer id
            st.integers(0, 400),  # day of the year
            st.floats(0.0, 1e6, allow_nan=False),  # amount
        ),
        min_size=1,
        max_size=40,
    )
)
def test_frames_of_summary_and_scores_line_up_by_customer(
    rows: list[tuple[int, int, float]],
) -> None:
    ids = np.array([r[0] for r in rows])
    times = np.datetime64("2024-01-01", "ns") + np.array([r[1] for r in rows]) * np.timedelta64(
        1, "D"
    )
    amounts = np.array([r[2] for r in rows])
    table = InteractionTable.from_arrays(ids, times, amounts=amounts)
    s = summarize(table, observation_end="2025-03-01")
    frame = pd.DataFrame(s.columns())
    # one row per distinct id, sorted (brute force over the input rows)
    assert frame["customer_ids"].tolist() == sorted(set(ids.tolist()))
    totals = {i: sum(r[2] for r in rows if r[0] == i) for i in set(ids.tolist())}
    np.testing.assert_allclose(frame["total_spend"], [totals[i] for i in frame["customer_ids"]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)  # tied values collapse bins
        scores = rfm_scores(s, bins=2, method="rank")
    joined = frame.merge(pd.DataFrame(scores.columns()), on="customer_ids", validate="1:1")
    assert len(joined) == len(s)
    assert pl.DataFrame(scores.columns()).height == len(s)
