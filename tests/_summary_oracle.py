"""Test oracle: ``summarize`` as it was before the speed work of issue 14 (do not optimise).

A verbatim copy of the previous implementation (renamed), so that the faster code can be
compared with it bit for bit on drawn tables.
"""

# ruff: noqa
from __future__ import annotations

from typing import Any

import numpy as np

from crmcore import _validation as v
from crmcore._periods import PERIODS, period_index
from crmcore._validation import readonly as _ro
from crmcore.errors import InputError, InputTypeError
from crmcore._periods import period_start as _period_start
from crmcore._periods import unit_factor as _unit_factor
from crmcore.summary import CustomerSummary
from crmcore.table import PURCHASE_CODE, InteractionTable

_NAT = np.datetime64("NaT", "ns")
Period = str
IntArray = Any
FloatArray = Any


def old_summarize(
    table: InteractionTable,
    *,
    observation_end: object,
    period: Period = "D",
    time_unit: Period = "D",
    calibration_end: object | None = None,
) -> CustomerSummary:
    """The summary as computed before the one-pass rewrite (test oracle)."""
    if not isinstance(table, InteractionTable):
        raise InputTypeError(f"table must be an InteractionTable, got {type(table).__name__}")
    v.check_choice(period, "period", PERIODS)
    v.check_choice(time_unit, "time_unit", PERIODS)
    factor = _unit_factor(period, time_unit)
    end_ts = v.as_timestamp(observation_end, "observation_end")
    end_idx = int(period_index(end_ts, period))
    cal_ts: np.datetime64 | None = None
    cal_idx = end_idx
    if calibration_end is not None:
        cal_ts = v.as_timestamp(calibration_end, "calibration_end")
        cal_idx = int(period_index(cal_ts, period))
        if cal_idx >= end_idx:
            raise InputError(
                f"calibration_end must fall in a period before observation_end's; got "
                f"calibration_end={cal_ts}, observation_end={end_ts} (period={period!r})"
            )

    n_c = table.n_customers
    pidx = period_index(table.times, period)
    keep = (table.kinds == PURCHASE_CODE) & (pidx <= end_idx)
    if keep.all():  # the common case: a purchase log up to observation_end; no copies
        codes, p, amounts = table.customer_codes, pidx, table.amounts
    else:
        codes, p, amounts = table.customer_codes[keep], pidx[keep], table.amounts[keep]
    stats = old_occasion_stats(codes, p, amounts, n_c, cal_idx, factor=factor)
    columns = old_columns(table.customer_ids, stats, cal_idx, factor, period)
    if cal_ts is not None:
        hold = p > cal_idx
        n_hold_occ = stats["n_occ_holdout"]
        spend_hold = np.bincount(codes[hold], weights=amounts[hold], minlength=n_c)
        with np.errstate(invalid="ignore", divide="ignore"):
            m_hold = np.where(n_hold_occ > 0, spend_hold / np.maximum(n_hold_occ, 1), 0.0)
        columns.update(frequency_holdout=n_hold_occ, monetary_value_holdout=m_hold)
        # customers whose first purchase falls in the holdout period are left out
        any_purchase = np.bincount(codes, minlength=n_c) > 0
        rows = ~(any_purchase & ~columns["has_purchase"])
        columns = {k: col[rows] for k, col in columns.items()}
    return CustomerSummary(
        period=period,
        time_unit=time_unit,
        observation_end=end_ts,
        calibration_end=cal_ts,
        duration_holdout=None if cal_ts is None else float((end_idx - cal_idx) * factor),
        **{k: _ro(np.array(col)) for k, col in columns.items()},
    )


def old_columns(
    ids: np.ndarray[Any, Any], stats: dict[str, Any], ref_idx: int, factor: float, period: str
) -> dict[str, np.ndarray[Any, Any]]:
    """Per-customer columns from occasion statistics, durations up to period ``ref_idx``."""
    has = stats["n_occ"] > 0
    first_p, last_p = stats["first"], stats["last"]
    freq = np.where(has, stats["n_occ"] - 1, 0).astype(np.int64)
    with np.errstate(invalid="ignore", divide="ignore"):
        repeat_spend = stats["spend"] - stats["first_spend"]
        monetary = np.where(freq > 0, repeat_spend / np.maximum(freq, 1), 0.0)
    monetary = np.maximum(monetary, 0.0)  # rounding of the subtraction, never below 0
    return {
        "customer_ids": ids,
        "frequency": freq,
        "recency": np.where(has, (last_p - first_p) * factor, 0.0).astype(np.float64),
        "T": np.where(has, (ref_idx - first_p) * factor, 0.0).astype(np.float64),
        "monetary_value": monetary,
        "n_purchases": stats["n_occ"],
        "n_transactions": stats["n_rows"],
        "total_spend": stats["spend"],
        "first_spend": stats["first_spend"],
        "first_purchase": np.where(has, _period_start(first_p, period), _NAT),
        "last_purchase": np.where(has, _period_start(last_p, period), _NAT),
        "time_since_last": np.where(has, (ref_idx - last_p) * factor, 0.0).astype(np.float64),
        "has_purchase": has,
        **({"litt": np.where(has, stats["litt"], 0.0)} if "litt" in stats else {}),
    }


def old_occasion_stats(
    codes: IntArray,
    p: IntArray,
    amounts: FloatArray,
    n_c: int,
    cal_idx: int,
    *,
    factor: float,
) -> dict[str, Any]:
    """Per customer: occasions, first/last period, spend, first-occasion spend.

    Calibration statistics use the periods ``<= cal_idx``; holdout occasions are
    counted separately. One sort of the combined (customer, period) key, then
    run detection on the sorted keys and bincounts.
    """
    zeros_i = np.zeros(n_c, dtype=np.int64)
    out: dict[str, Any] = {
        "n_occ": zeros_i,
        "n_occ_holdout": zeros_i.copy(),
        "first": zeros_i.copy(),
        "last": zeros_i.copy(),
        "spend": np.zeros(n_c),
        "first_spend": np.zeros(n_c),
        "n_rows": zeros_i.copy(),
        "litt": np.zeros(n_c),
    }
    if codes.size == 0:
        return out
    pmin = int(p.min())
    span = int(p.max()) - pmin + 1
    if n_c * span < 2**62:
        # a narrower key sorts faster; int32 suffices for most logs
        kdtype = np.int32 if n_c * span < 2**31 else np.int64
        key: np.ndarray[Any, Any] = codes.astype(kdtype)
        key *= span
        # p - pmin in the key's width directly: wrap-around arithmetic gives the exact
        # offset, which is below span. Fewer full-size temporaries: on a cold process
        # each new large array costs its page faults.
        key += np.subtract(p, pmin, dtype=kdtype, casting="unsafe")
        key.sort()
        new = np.empty(key.size, dtype=np.bool_)
        new[0] = True
        np.not_equal(key[1:], key[:-1], out=new[1:])
        ukey: np.ndarray[Any, Any] = key[new]
        del key, new
        uc = ukey // span  # in the key's width: codes and bincount take it as it is
        ukey -= uc * span
        up = ukey.astype(np.int64)
        up += pmin
        del ukey
    else:  # pragma: no cover - astronomically many periods x customers
        order = np.lexsort((p, codes))
        cs, ps = codes[order], p[order]
        new = np.ones(cs.size, dtype=np.bool_)
        new[1:] = (cs[1:] != cs[:-1]) | (ps[1:] != ps[:-1])
        uc, up = cs[new], ps[new]
    holdout = pmin + span - 1 > cal_idx
    if holdout:
        cal_occ = up <= cal_idx
        out["n_occ_holdout"] = np.bincount(uc[~cal_occ], minlength=n_c).astype(np.int64)
        uc, up = uc[cal_occ], up[cal_occ]
        in_cal = p <= cal_idx
        codes, p, amounts = codes[in_cal], p[in_cal], amounts[in_cal]
    out["n_occ"] = np.bincount(uc, minlength=n_c).astype(np.int64)
    if uc.size:
        starts = np.empty(uc.size, dtype=np.bool_)
        starts[0] = True
        np.not_equal(uc[1:], uc[:-1], out=starts[1:])
        ends = np.empty(uc.size, dtype=np.bool_)
        ends[-1] = True
        ends[:-1] = starts[1:]
        out["first"][uc[starts]] = up[starts]
        out["last"][uc[ends]] = up[ends]
        # log of the gaps between consecutive distinct occasions of a customer (>= 1 period)
        later = ~starts[1:]
        gaps = (up[1:] - up[:-1])[later]
        out["litt"] = np.bincount(uc[1:][later], weights=np.log(gaps * factor), minlength=n_c)
    out["n_rows"] = np.bincount(codes, minlength=n_c).astype(np.int64)
    out["spend"] = np.bincount(codes, weights=amounts, minlength=n_c)
    is_first = p == out["first"][codes]
    out["first_spend"] = np.bincount(codes[is_first], weights=amounts[is_first], minlength=n_c)
    return out
