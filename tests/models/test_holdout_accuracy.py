"""Tests of crmcore.models.clv.holdout_accuracy and uncertainty.interval_coverage.

Reference values are computed by hand on tiny arrays from a stub model whose
predictions are fixed numbers per customer (so the metrics are those of the
arrays written in the test), and by brute-force loops over customers.
"""

from __future__ import annotations

import math

import attrs
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from crmcore import CustomerSummary
from crmcore.errors import InputError, InputTypeError
from crmcore.models import bgnbd, clv
from crmcore.models import uncertainty as unc


@attrs.frozen
class _Params:
    value: float


@attrs.frozen
class _FixedFit:
    """Stub: expected purchases e[i] and probabilities p[i], indexed by frequency."""

    params: _Params
    e: tuple[float, ...]
    p: tuple[float, ...]

    def conditional_expected_purchases(self, t, frequency, recency=None, T=None):
        return np.array(self.e)[np.asarray(frequency, dtype=int)]

    def conditional_purchase_probability(self, t, frequency, recency=None, T=None):
        return np.array(self.p)[np.asarray(frequency, dtype=int)]

    def conditional_expected_purchases_at(self, t, frequency, recency=None, T=None):
        raise NotImplementedError

    def expected_purchases(self, t):
        raise NotImplementedError

    def purchase_probability(self, n, t):
        raise NotImplementedError


def _stub_case():
    # customer i has frequency i (so the stub returns e[i], p[i]), i = 1..4
    fit = _FixedFit(params=_Params(1.0), e=(9.0, 0.5, 2.0, 1.0, 4.0), p=(0.9, 0.2, 0.8, 0.5, 0.9))
    s = CustomerSummary.from_arrays([1, 2, 3, 4], [1.0, 2.0, 3.0, 4.0], [5.0] * 4)
    y = [0, 3, 1, 2]
    return fit, s, y


def test_metrics_by_hand():
    fit, s, y = _stub_case()
    acc = clv.holdout_accuracy(fit, s, y, duration_holdout=4.0, n_bins=2)
    # errors e - y over customers 1..4: 0.5, -1, 0, 2
    assert acc.n_customers == 4
    assert_allclose(acc.mae, (0.5 + 1 + 0 + 2) / 4)
    assert_allclose(acc.rmse, math.sqrt((0.25 + 1 + 0 + 4) / 4))
    assert_allclose(acc.bias, (0.5 - 1 + 0 + 2) / 4)
    # outcomes y > 0: 0, 1, 1, 1 against p 0.2, 0.8, 0.5, 0.9
    assert_allclose(acc.brier, (0.04 + 0.04 + 0.25 + 0.01) / 4)
    want_ll = -(math.log(0.8) + math.log(0.8) + math.log(0.5) + math.log(0.9)) / 4
    assert_allclose(acc.log_loss, want_ll)
    # bins by e: ranks of (0.5, 2, 1, 4) -> customers 1, 3 low; 2, 4 high
    assert acc.bin.tolist() == [1, 2]
    assert acc.bin_customers.tolist() == [2, 2]
    assert_allclose(acc.expected, [(0.5 + 1.0) / 2, (2.0 + 4.0) / 2])
    assert_allclose(acc.actual, [(0 + 1) / 2, (3 + 2) / 2])
    assert_allclose(acc.probability, [(0.2 + 0.5) / 2, (0.8 + 0.9) / 2])
    assert_allclose(acc.share_buying, [0.5, 1.0])
    assert list(acc.columns()) == [
        "bin",
        "bin_customers",
        "expected",
        "actual",
        "probability",
        "share_buying",
    ]


def test_log_loss_is_finite_for_certain_wrong_predictions():
    fit = _FixedFit(params=_Params(1.0), e=(0.0, 0.0), p=(0.0, 0.0))
    s = CustomerSummary.from_arrays([1, 1], [1.0, 1.0], [5.0, 5.0])
    acc = clv.holdout_accuracy(fit, s, [1, 0], duration_holdout=4.0, n_bins=2)
    # clipped at 1e-15: -(log(1e-15) + log(1 - 1e-15)) / 2
    assert_allclose(acc.log_loss, -(math.log(1e-15) + math.log1p(-1e-15)) / 2)


@settings(deadline=None)
@given(
    data=st.lists(st.tuples(st.integers(1, 5), st.integers(0, 6)), min_size=2, max_size=40),
    bins=st.integers(2, 12),
)
def test_bin_sums_match_brute_force(data, bins):
    freq = np.array([d[0] for d in data])
    y = np.array([d[1] for d in data])
    n = freq.size
    bins = min(bins, n)
    e = (0.0, 0.3, 1.1, 0.7, 2.5, 1.1)
    fit = _FixedFit(params=_Params(1.0), e=e, p=(0.0, 0.1, 0.6, 0.4, 0.9, 0.6))
    s = CustomerSummary.from_arrays(freq, freq.astype(float), np.full(n, 6.0))
    acc = clv.holdout_accuracy(fit, s, y, duration_holdout=1.0, n_bins=bins)
    pred = np.array(e)[freq]
    order = sorted(range(n), key=lambda i: (pred[i], i))  # stable ranking
    assert acc.bin_customers.sum() == n
    assert acc.bin_customers.max() - acc.bin_customers.min() <= 1
    start = 0
    for b in range(bins):
        size = int(acc.bin_customers[b])
        members = order[start : start + size]
        start += size
        assert_allclose(acc.actual[b], np.mean(y[members]))
        assert_allclose(acc.expected[b], np.mean(pred[members]))
    # the bin means weighted by size give back the overall means
    assert_allclose(acc.expected @ acc.bin_customers / n, pred.mean())
    assert_allclose(acc.actual @ acc.bin_customers / n, y.mean())


def test_real_model_uses_the_summary_holdout():
    from crmcore import simulate as sim

    h = sim.bgnbd_histories(
        0.5, 4.0, 0.6, 2.5, T=39.0, n_customers=400, duration_holdout=39.0, rng=5
    )
    s = CustomerSummary.from_arrays(h.frequency, h.recency, h.T)
    f = bgnbd.fit(s)
    acc = clv.holdout_accuracy(f, s, h.frequency_holdout, duration_holdout=39.0)
    e = f.conditional_expected_purchases(39.0, s)
    assert_allclose(acc.mae, np.mean(np.abs(e - h.frequency_holdout)))
    assert acc.bin.size == 10
    assert 0 < acc.brier < 0.25


def test_errors():
    fit, s, y = _stub_case()
    with pytest.raises(InputError, match="n_bins must be at most the 4 customers"):
        clv.holdout_accuracy(fit, s, y, duration_holdout=4.0, n_bins=5)
    with pytest.raises(InputError, match="n_bins must be >= 2"):
        clv.holdout_accuracy(fit, s, y, duration_holdout=4.0, n_bins=1)
    with pytest.raises(InputTypeError, match="frequency_holdout is required"):
        clv.holdout_accuracy(fit, s, duration_holdout=4.0)
    with pytest.raises(InputTypeError, match="duration_holdout is required"):
        clv.holdout_accuracy(fit, s, y)
    with pytest.raises(InputError, match="frequency_holdout must have the same length"):
        clv.holdout_accuracy(fit, s, [1, 2], duration_holdout=4.0)
    with pytest.raises(InputTypeError, match="calibration must be a CustomerSummary"):
        clv.holdout_accuracy(fit, [1, 2], y, duration_holdout=4.0)


# --------------------------------------------------------------------------- coverage


def test_interval_coverage_by_hand():
    pi = unc.PredictionInterval(
        customer_ids=np.arange(4),
        point=np.array([1.0, 2.0, 3.0, 4.0]),
        lower=np.array([0.0, 1.0, 2.0, 3.0]),
        upper=np.array([2.0, 3.0, 4.0, 5.0]),
        total_point=10.0,
        total_lower=8.0,
        total_upper=12.0,
        quantity="expected_purchases",
        level=0.5,
        method="draws",
        n_draws=10,
    )
    cov = unc.interval_coverage(pi, [1, 0, 5, 3])
    assert cov.coverage == 0.5  # customers 0 and 3 inside (bounds included)
    assert cov.below == 0.25
    assert cov.above == 0.25
    assert cov.total_covered  # 9 in [8, 12]
    assert_allclose(cov.standard_error, math.sqrt(0.5 * 0.5 / 4))
    with pytest.raises(InputError, match="actual must have the same length"):
        unc.interval_coverage(pi, [1, 2])
