"""Tests of crmcore.simulate: the draws follow the papers' generative processes.

Reference values come from closed forms written out here (with mpmath or scipy
in the test, never from the code under test) and from independent
event-by-event simulations; Monte Carlo tolerances are multiples of the
standard error estimated from the sample itself. Seeds are fixed, so every
test is deterministic.
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any, ClassVar

import attrs
import mpmath
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal
from scipy import stats
from scipy.special import betaln, gammaln, hyp2f1

from crmcore import CustomerSource, InputError, InputTypeError, InteractionKind, summarize
from crmcore.metrics import co_purchase, historical_value
from crmcore.records import Channel
from crmcore.simulate import (
    CDNOW_BGNBD_WEEKLY,
    CampaignOptions,
    CatalogOptions,
    RefundOptions,
    SupportOptions,
    SurveyOptions,
    bgbb_histories,
    bgnbd_histories,
    customer_base,
    gamma_gamma_spend,
    ggomnbd_histories,
    mbgnbd_histories,
    pareto_nbd_histories,
    sbg_cohort,
)

# Tolerance in standard errors for Monte Carlo comparisons (fixed seeds: the
# tests are deterministic; 4.5 SE keeps a correct sampler far from failing).
Z = 4.5

# r, alpha, a, b: the CDNOW BG/NBD estimates of Fader, Hardie & Lee (2005), Marketing
# Science 24(2), 275-284 (0.243, 4.414, 0.793, 2.426; see CDNOW_BGNBD_WEEKLY), rounded.
# The references below are closed forms evaluated at these values, not stored numbers.
BG = (0.25, 4.0, 0.8, 2.5)
PARETO = (0.55, 10.58, 0.61, 11.67)  # r, alpha, s, beta: CDNOW, Fader, Hardie & Lee (2005)
BGBB = (1.204, 0.750, 0.657, 2.783)  # alpha, beta, gamma, delta: Fader, Hardie & Shang (2010)
SBG = (0.704, 1.182)  # "regular" segment, Fader & Hardie (2007)
GG = (6.25, 3.74, 15.44)  # CDNOW spend, Fader, Hardie & Lee (2005)
GGOM = (0.8, 8.0, 0.05, 0.5, 2.0)  # r, alpha, b, s, beta: illustrative, beta > 1 (rising hazard)


def assert_mean_close(sample: np.ndarray, expected: float) -> None:
    sample = np.asarray(sample, dtype=np.float64)
    se = sample.std(ddof=1) / math.sqrt(sample.size)
    assert abs(sample.mean() - expected) < Z * se + 1e-12, (sample.mean(), expected, se)


def assert_share_close(mask: np.ndarray, expected: float) -> None:
    n = mask.size
    se = math.sqrt(max(expected * (1 - expected), 1e-12) / n)
    assert abs(mask.mean() - expected) < Z * se + 1e-12, (mask.mean(), expected, se)


# ----------------------------------------------------------------------------- closed forms


def bgnbd_expected(t: float | np.ndarray, r: float, alpha: float, a: float, b: float) -> Any:
    # Fader, Hardie & Lee (2005), eq. (9):
    # E[X(t)] = (a+b-1)/(a-1) [1 - (alpha/(alpha+t))^r 2F1(r, b; a+b-1; t/(alpha+t))].
    t = np.asarray(t, dtype=np.float64)
    z = t / (alpha + t)
    return (a + b - 1) / (a - 1) * (1 - (alpha / (alpha + t)) ** r * hyp2f1(r, b, a + b - 1, z))


def bgnbd_expected_mp(t: float, r: float, alpha: float, a: float, b: float) -> float:
    # Same formula with mpmath's hypergeometric function at 30 digits.
    mpmath.mp.dps = 30
    z = mpmath.mpf(t) / (alpha + t)
    val = (a + b - 1) / mpmath.mpf(a - 1)
    val *= 1 - (mpmath.mpf(alpha) / (alpha + t)) ** r * mpmath.hyp2f1(r, b, a + b - 1, z)
    return float(val)


def beta_expectation(fn: Any, a: float, b: float) -> float:
    # E[fn(p)] for p ~ Beta(a, b), by tanh-sinh quadrature (mpmath copes with
    # the endpoint singularities of the density when a or b < 1).
    mpmath.mp.dps = 20
    log_b = mpmath.log(mpmath.beta(a, b))

    def integrand(p: Any) -> Any:
        return fn(p) * mpmath.exp((a - 1) * mpmath.log(p) + (b - 1) * mpmath.log(1 - p) - log_b)

    return float(mpmath.quad(integrand, [0, 0.5, 1]))


def nbd_pmf(x: int, r: float, alpha: float, t: float) -> float:
    # P(N(t) = x) of a Poisson count with gamma(r, alpha) rate (negative binomial).
    return math.exp(
        gammaln(r + x)
        - gammaln(r)
        - gammaln(x + 1)
        + r * math.log(alpha / (alpha + t))
        + x * math.log(t / (alpha + t))
    )


def bgnbd_pmf(x: int, *, params: tuple[float, float, float, float], t: float) -> float:
    # From the generative process (Fader, Hardie & Lee 2005, eq. 8): X(t) = x if
    # the customer survived x dropout chances and N(t) = x, or dropped out at the
    # x-th repeat purchase with N(t) >= x; N independent of p:
    # P = E[(1-p)^x] P(N=x) + 1{x>0} E[p (1-p)^(x-1)] P(N >= x).
    r, alpha, a, b = params
    survive = math.exp(betaln(a, b + x) - betaln(a, b))
    out = survive * nbd_pmf(x, r, alpha, t)
    if x > 0:
        die = math.exp(betaln(a + 1, b + x - 1) - betaln(a, b))
        tail = 1 - sum(nbd_pmf(j, r, alpha, t) for j in range(x))
        out += die * tail
    return out


def pareto_expected(t: float, r: float, alpha: float, s: float, beta: float) -> float:
    # Schmittlein et al. (1987); Fader & Hardie's note, eq. (17):
    # E[X(t)] = r beta / (alpha (s-1)) [1 - (beta/(beta+t))^(s-1)].
    return r * beta / (alpha * (s - 1)) * (1 - (beta / (beta + t)) ** (s - 1))


def bgbb_cell(x: int, tx: int, *, n: int, params: tuple[float, ...]) -> float:
    # Fader, Hardie & Shang (2010), eq. (5): probability of one purchase string
    # with (x, t_x, n), integrated over p and theta:
    # B(a+x, b+n-x)/B(a,b) B(g, d+n)/B(g,d)
    #   + sum_{i=0}^{n-t_x-1} B(a+x, b+t_x-x+i)/B(a,b) B(g+1, d+t_x+i)/B(g,d).
    alpha, beta, g, d = params

    def lb(u: float, w: float) -> float:
        return float(betaln(u, w))

    out = math.exp(lb(alpha + x, beta + n - x) - lb(alpha, beta) + lb(g, d + n) - lb(g, d))
    for i in range(n - tx):
        out += math.exp(
            lb(alpha + x, beta + tx - x + i) - lb(alpha, beta) + lb(g + 1, d + tx + i) - lb(g, d)
        )
    return out


# ----------------------------------------------------------------------------- brute force


def brute_bg(
    params: tuple[float, float, float, float], T: float, n: int, seed: int, *, modified: bool
) -> tuple[np.ndarray, np.ndarray]:
    # Event by event, vectorised over customers (an independent implementation):
    # exponential gaps at rate lambda; after each repeat purchase (and, for
    # MBG/NBD, also at time 0) a coin with probability p ends the customer.
    r, alpha, a, b = params
    rng = np.random.default_rng(seed)
    lam = rng.gamma(r, 1 / alpha, n)
    p = rng.beta(a, b, n)
    t = np.zeros(n)
    x = np.zeros(n, dtype=np.int64)
    last = np.zeros(n)
    active = np.ones(n, dtype=bool)
    if modified:
        active &= rng.random(n) >= p
    active &= lam > 0
    while active.any():
        idx = np.flatnonzero(active)
        t[idx] += rng.exponential(1 / lam[idx])
        inside = t[idx] <= T
        got = idx[inside]
        x[got] += 1
        last[got] = t[got]
        active[idx[~inside]] = False
        active[got] = rng.random(got.size) >= p[got]
    return x, last


def brute_pareto(
    params: tuple[float, float, float, float], T: float, n: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    # Event by event: exponential gaps at rate lambda until min(lifetime, T).
    r, alpha, s, beta = params
    rng = np.random.default_rng(seed)
    lam = rng.gamma(r, 1 / alpha, n)
    mu = rng.gamma(s, 1 / beta, n)
    with np.errstate(divide="ignore"):
        end = np.minimum(rng.exponential(1 / mu), T)
    t = np.zeros(n)
    x = np.zeros(n, dtype=np.int64)
    last = np.zeros(n)
    active = lam > 0
    while active.any():
        idx = np.flatnonzero(active)
        t[idx] += rng.exponential(1 / lam[idx])
        inside = t[idx] <= end[idx]
        got = idx[inside]
        x[got] += 1
        last[got] = t[got]
        active[idx[~inside]] = False
    return x, last


def brute_bgbb(
    params: tuple[float, float, float, float], n_periods: int, n: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    # Opportunity by opportunity: die at the start with theta, else buy with p.
    alpha, beta, g, d = params
    rng = np.random.default_rng(seed)
    p = rng.beta(alpha, beta, n)
    theta = rng.beta(g, d, n)
    alive = np.ones(n, dtype=bool)
    x = np.zeros(n, dtype=np.int64)
    tx = np.zeros(n, dtype=np.int64)
    for t in range(1, n_periods + 1):
        alive &= rng.random(n) >= theta
        buy = alive & (rng.random(n) < p)
        x += buy
        tx[buy] = t
    return x, tx


def two_sample_frequency_ok(a: np.ndarray, b: np.ndarray) -> bool:
    # Chi-square test of homogeneity of two frequency histograms (tail lumped).
    top = 8
    ca = np.bincount(np.minimum(a, top), minlength=top + 1)
    cb = np.bincount(np.minimum(b, top), minlength=top + 1)
    table = np.vstack([ca, cb])
    table = table[:, table.sum(axis=0) > 0]
    return bool(stats.chi2_contingency(table).pvalue > 1e-4)


# ----------------------------------------------------------------------------- BG/NBD


class TestBgNbd:
    def test_expected_purchases_match_closed_form(self) -> None:
        h = bgnbd_histories(*BG, T=40.0, n_customers=100_000, duration_holdout=30.0, rng=11)
        # Two evaluations of the closed form agree (scipy vs mpmath at 30 digits).
        assert_allclose(bgnbd_expected(40.0, *BG), bgnbd_expected_mp(40.0, *BG), rtol=1e-10)
        assert_mean_close(h.frequency, bgnbd_expected_mp(40.0, *BG))
        # Holdout purchases of the same customers: E[X(70)] - E[X(40)].
        expected_hold = bgnbd_expected_mp(70.0, *BG) - bgnbd_expected_mp(40.0, *BG)
        assert_mean_close(h.frequency_holdout, expected_hold)

    def test_frequency_distribution_matches_pmf(self) -> None:
        h = bgnbd_histories(*BG, T=40.0, n_customers=100_000, rng=12)
        total = sum(bgnbd_pmf(x, params=BG, t=40.0) for x in range(400))
        assert_allclose(total, 1.0, atol=1e-6)  # the pmf is complete
        for x in range(6):
            assert_share_close(h.frequency == x, bgnbd_pmf(x, params=BG, t=40.0))
        # P(X = 0) = (alpha/(alpha+T))^r: no repeat purchase before T.
        assert_allclose(bgnbd_pmf(0, params=BG, t=40.0), (4 / 44) ** 0.25, rtol=1e-12)

    def test_alive_and_dropout_time(self) -> None:
        r, alpha, a, b = BG
        h = bgnbd_histories(*BG, T=40.0, n_customers=100_000, duration_holdout=30.0, rng=13)
        # P(alive at t) = P(J > N(t)) = E[(1-p)^N(t)] = E_p[(alpha/(alpha + p t))^r],
        # before T, inside the holdout (40, 70], at its end and after it.
        for t in (20.0, 40.0, 55.0, 70.0, 200.0):
            expected = beta_expectation(lambda p, t=t: (alpha / (alpha + p * t)) ** r, a, b)
            assert_share_close(h.dropout_time > t, expected)
        assert_array_equal(h.alive, h.dropout_time > h.T)
        dead = ~h.alive
        # Dead customers dropped out at their last repeat purchase.
        assert_array_equal(h.dropout_time[dead], h.recency[dead])
        assert np.all(h.frequency[dead] >= 1)
        # Dropping out inside the holdout happens at a holdout purchase.
        died_later = h.alive & (h.dropout_time <= 70.0)
        assert np.all(h.frequency_holdout[died_later] >= 1)

    def test_same_distribution_as_event_by_event(self) -> None:
        n = 40_000
        h = bgnbd_histories(*BG, T=30.0, n_customers=n, rng=14)
        x, last = brute_bg(BG, 30.0, n, 15, modified=False)
        assert two_sample_frequency_ok(h.frequency, x)
        buyers = h.frequency > 0
        assert stats.ks_2samp(h.recency[buyers], last[x > 0]).pvalue > 1e-4
        # And jointly: recency of customers with exactly 2 repeat purchases.
        assert stats.ks_2samp(h.recency[h.frequency == 2], last[x == 2]).pvalue > 1e-4

    def test_per_customer_T_and_generator(self) -> None:
        T = np.array([0.0, 1.0, 10.0, 100.0])
        h = bgnbd_histories(*BG, T=T.tolist(), rng=np.random.default_rng(5))
        assert_array_equal(h.T, T)
        assert h.frequency[0] == 0
        assert h.recency[0] == 0
        assert h.model == "bgnbd"
        assert h.p is not None
        assert h.mu is None


# ----------------------------------------------------------------------------- MBG/NBD


class TestMbgNbd:
    def test_expected_purchases_and_zero_class(self) -> None:
        r, alpha, a, b = BG
        h = mbgnbd_histories(*BG, T=40.0, n_customers=100_000, rng=21)
        # Given lambda and p, E[X(t)] = ((1-p)/p) (1 - exp(-lambda p t)) (the dropout
        # chance comes before each purchase); integrating lambda out gives
        # E[X(t)] = E_p[((1-p)/p) (1 - (alpha/(alpha + p t))^r)].
        expected = beta_expectation(
            lambda p: (1 - p) / p * (1 - (alpha / (alpha + p * 40.0)) ** r), a, b
        )
        assert_mean_close(h.frequency, expected)
        # P(X = 0) = P(J = 0) + P(J > 0) P(N = 0) = 1 - b/(a+b) (1 - (alpha/(alpha+T))^r).
        assert_share_close(h.frequency == 0, 1 - b / (a + b) * (1 - (alpha / 44.0) ** r))
        # P(alive at T) = E[(1-p)^(N+1)] = E_p[(1-p) (alpha/(alpha + p T))^r].
        alive = beta_expectation(lambda p: (1 - p) * (alpha / (alpha + p * 40.0)) ** r, a, b)
        assert_share_close(h.alive, alive)
        zero_dead = (h.frequency == 0) & ~h.alive
        assert np.all(h.dropout_time[zero_dead] == 0.0)

    def test_same_distribution_as_event_by_event(self) -> None:
        n = 40_000
        h = mbgnbd_histories(*BG, T=30.0, n_customers=n, rng=22)
        x, last = brute_bg(BG, 30.0, n, 23, modified=True)
        assert two_sample_frequency_ok(h.frequency, x)
        assert stats.ks_2samp(h.recency[h.frequency > 0], last[x > 0]).pvalue > 1e-4


# ----------------------------------------------------------------------------- Pareto/NBD


class TestParetoNbd:
    def test_expected_purchases_and_alive(self) -> None:
        r, alpha, s, beta = PARETO
        h = pareto_nbd_histories(
            *PARETO, T=39.0, n_customers=100_000, duration_holdout=39.0, rng=31
        )
        assert_mean_close(h.frequency, pareto_expected(39.0, *PARETO))
        assert_mean_close(
            h.frequency_holdout, pareto_expected(78.0, *PARETO) - pareto_expected(39.0, *PARETO)
        )
        # A new customer is alive at T with probability (beta/(beta+T))^s.
        assert_share_close(h.alive, (beta / (beta + 39.0)) ** s)
        assert_array_equal(h.alive, h.dropout_time > h.T)
        # Mean of mu is s / beta (gamma with rate beta), of lambda r / alpha.
        assert h.mu is not None
        assert_mean_close(h.mu, s / beta)
        assert_mean_close(h.lam, r / alpha)

    def test_zero_class(self) -> None:
        r, alpha, s, beta = PARETO
        h = pareto_nbd_histories(*PARETO, T=20.0, n_customers=100_000, rng=32)
        # P(X(T) = 0) = E over mu of the Poisson zero term on min(tau, T):
        # integral over tau of exp(-lambda min(tau,T)) with lambda integrated out:
        # E[(alpha/(alpha+min(tau,T)))^r], tau ~ Pareto II(s, beta) (exponential-gamma).
        mpmath.mp.dps = 20

        def density(tau: Any) -> Any:  # Lomax density of the lifetime
            return s / beta * (beta / (beta + tau)) ** (s + 1)

        body = mpmath.quad(lambda u: (alpha / (alpha + u)) ** r * density(u), [0, 20.0])
        tail = (beta / (beta + 20.0)) ** s * (alpha / (alpha + 20.0)) ** r
        assert_share_close(h.frequency == 0, float(body + tail))

    def test_same_distribution_as_event_by_event(self) -> None:
        n = 40_000
        h = pareto_nbd_histories(*PARETO, T=30.0, n_customers=n, rng=33)
        x, last = brute_pareto(PARETO, 30.0, n, 34)
        assert two_sample_frequency_ok(h.frequency, x)
        assert stats.ks_2samp(h.recency[h.frequency > 0], last[x > 0]).pvalue > 1e-4


# ----------------------------------------------------------------------------- GGompertz/NBD


class TestGGompertzNbd:
    def test_expected_purchases_and_alive(self) -> None:
        r, alpha, b, s, beta = GGOM
        h = ggomnbd_histories(*GGOM, T=39.0, n_customers=100_000, duration_holdout=39.0, rng=51)
        # Survival of a new customer (Bemmaor & Glady 2012): (beta/(beta + e^(bT) - 1))^s.
        assert_share_close(h.alive, (beta / (beta + math.expm1(b * 39.0))) ** s)
        assert_array_equal(h.alive, h.dropout_time > h.T)
        # E[X(t)] = r/alpha E[min(tau, t)] = r/alpha * integral_0^t S(u) du (mpmath).
        mpmath.mp.dps = 20

        def surv(u: Any) -> Any:
            return (beta / (beta + mpmath.expm1(b * u))) ** s

        def expected(t: float) -> float:
            return float(r / alpha * mpmath.quad(surv, [0, t]))

        assert_mean_close(h.frequency, expected(39.0))
        assert_mean_close(h.frequency_holdout, expected(78.0) - expected(39.0))
        # Means of the gamma draws: eta s/beta, lambda r/alpha.
        assert h.mu is not None
        assert h.p is None
        assert_mean_close(h.mu, s / beta)
        assert_mean_close(h.lam, r / alpha)
        assert h.model == "ggomnbd"

    def test_zero_class(self) -> None:
        r, alpha, b, s, beta = GGOM
        h = ggomnbd_histories(*GGOM, T=20.0, n_customers=100_000, rng=52)
        # P(X(T) = 0) = E[(alpha/(alpha + min(tau, T)))^r] over the gamma-Gompertz
        # lifetime, density s b beta^s e^(bu) (beta + e^(bu) - 1)^-(s+1) (mpmath).
        mpmath.mp.dps = 20

        def density(u: Any) -> Any:
            return s * b * beta**s * mpmath.exp(b * u) * (beta + mpmath.expm1(b * u)) ** (-s - 1)

        body = mpmath.quad(lambda u: (alpha / (alpha + u)) ** r * density(u), [0, 20.0])
        tail = (beta / (beta + mpmath.expm1(b * 20.0))) ** s * (alpha / (alpha + 20.0)) ** r
        assert_share_close(h.frequency == 0, float(body + tail))

    def test_lifetime_is_gompertz_given_eta(self) -> None:
        # Given eta, P(tau > t) = exp(-eta (e^(bt) - 1)): eta (e^(b tau) - 1) is Exp(1).
        h = ggomnbd_histories(*GGOM, T=1.0, n_customers=50_000, rng=53)
        assert h.mu is not None
        e = h.mu * np.expm1(GGOM[2] * h.dropout_time)
        assert stats.kstest(e, "expon").pvalue > 1e-4

    def test_errors(self) -> None:
        with pytest.raises(InputError, match=r"^b must be > 0"):
            ggomnbd_histories(0.8, 8.0, 0.0, 0.5, 2.0, T=5.0, n_customers=3, rng=0)
        with pytest.raises(InputTypeError, match="n_customers is required"):
            ggomnbd_histories(*GGOM, T=5.0, rng=0)


@given(
    params=st.tuples(*(st.floats(0.01, 50.0) for _ in range(5))),
    T=st.lists(st.one_of(st.just(0.0), st.floats(1e-3, 500.0)), min_size=1, max_size=30),
    holdout=st.floats(0.0, 100.0),
    seed=st.integers(0, 2**32),
)
def test_ggomnbd_history_invariants(
    params: tuple[float, ...], T: list[float], holdout: float, seed: int
) -> None:
    h = ggomnbd_histories(*params, T=T, duration_holdout=holdout, rng=seed)
    t = np.asarray(T)
    assert h.frequency.dtype == np.int64
    assert np.all(h.frequency >= 0)
    assert np.all((h.recency >= 0) & (h.recency <= t))
    assert_array_equal(h.recency == 0, h.frequency == 0)
    assert_array_equal(h.alive, h.dropout_time > t)
    assert np.all(h.dropout_time >= h.recency)
    assert np.all(h.frequency_holdout[~h.alive] == 0)
    for arr in (h.frequency, h.recency, h.T, h.alive, h.dropout_time, h.mu):
        assert not arr.flags.writeable


# ----------------------------------------------------------------------------- BG/BB


class TestBgBb:
    def test_joint_distribution_matches_likelihood(self) -> None:
        n, size = 6, 200_000
        h = bgbb_histories(*BGBB, n_periods=n, n_customers=size, rng=41)
        cells = [(0, 0)] + [(x, tx) for tx in range(1, n + 1) for x in range(1, tx + 1)]
        # P(x, t_x) = (number of purchase strings with that x, t_x) * eq. (5):
        # C(t_x - 1, x - 1) strings for x >= 1, one for x = 0.
        probs = np.array(
            [
                (math.comb(tx - 1, x - 1) if x else 1) * bgbb_cell(x, tx, n=n, params=BGBB)
                for x, tx in cells
            ]
        )
        assert_allclose(probs.sum(), 1.0, rtol=1e-10)
        observed = np.array([np.sum((h.frequency == x) & (h.recency == tx)) for x, tx in cells])
        assert observed.sum() == size
        expected = probs * size
        big = expected >= 5
        obs = np.append(observed[big], observed[~big].sum())
        exp = np.append(expected[big], expected[~big].sum())
        keep = exp > 0
        stat = float(np.sum((obs[keep] - exp[keep]) ** 2 / exp[keep]))
        assert stat < stats.chi2.ppf(1 - 1e-4, keep.sum() - 1)

    def test_expected_purchases(self) -> None:
        alpha, beta, g, d = BGBB
        n = 6
        h = bgbb_histories(*BGBB, n_periods=n, n_customers=100_000, n_periods_holdout=5, rng=42)

        # E[X(n)] = alpha/(alpha+beta) * sum_{t=1..n} B(g, d+t)/B(g, d): a purchase at t
        # needs survival through t starts; and the paper's closed form (eq. 8).
        def by_sum(m: int) -> float:
            return (
                alpha
                / (alpha + beta)
                * sum(math.exp(betaln(g, d + t) - betaln(g, d)) for t in range(1, m + 1))
            )

        closed = (
            alpha
            / (alpha + beta)
            * d
            / (g - 1)
            * (
                1
                - math.exp(
                    gammaln(g + d) + gammaln(1 + d + n) - gammaln(g + d + n) - gammaln(1 + d)
                )
            )
        )
        assert_allclose(by_sum(n), closed, rtol=1e-12)
        assert_mean_close(h.frequency, by_sum(n))
        assert_mean_close(h.frequency_holdout, by_sum(11) - by_sum(6))
        # Alive after n opportunities: E[(1-theta)^n] = B(g, d+n)/B(g, d).
        assert_share_close(h.alive, math.exp(betaln(g, d + n) - betaln(g, d)))

    def test_same_distribution_as_period_by_period(self) -> None:
        n, size = 8, 50_000
        h = bgbb_histories(*BGBB, n_periods=n, n_customers=size, rng=43)
        x, tx = brute_bgbb(BGBB, n, size, 44)
        table = np.vstack(
            [
                np.bincount(h.frequency * 10 + h.recency, minlength=99),
                np.bincount(x * 10 + tx, minlength=99),
            ]
        )
        table = table[:, table.sum(axis=0) > 0]
        assert stats.chi2_contingency(table).pvalue > 1e-4


# ----------------------------------------------------------------------------- sBG


class TestSbg:
    def test_survival_matches_closed_form(self) -> None:
        alpha, beta = SBG
        size = 100_000
        c = sbg_cohort(alpha, beta, n_customers=size, n_periods=12, rng=51)
        assert c.alive[0] == size
        for t in range(1, 13):
            # S(t) = B(alpha, beta + t) / B(alpha, beta) (Fader & Hardie 2007, eq. 3).
            expected = math.exp(betaln(alpha, beta + t) - betaln(alpha, beta))
            assert_share_close(c.lifetime > t, expected)
            assert c.alive[t] == int(np.sum(c.lifetime > t))
        assert_allclose(c.survival, c.alive / size)


# ----------------------------------------------------------------------------- Gamma-Gamma


class TestGammaGamma:
    def test_means_and_scale(self) -> None:
        p, q, v = GG
        freq = np.tile(np.arange(1, 6), 40_000)
        s = gamma_gamma_spend(p, q, v, frequency=freq, rng=61)
        # E[z] = p v / (q - 1): nu has mean q / v, E[1/nu] = v/(q-1).
        assert_mean_close(s.monetary_value, p * v / (q - 1))
        assert_mean_close(s.nu, q / v)
        # Given nu the mean of x values is Gamma(p x, rate nu x): mean p/nu, variance p/(x nu^2).
        ratio = s.monetary_value * s.nu / p
        assert_mean_close(ratio, 1.0)
        for x in (1, 5):
            sel = ratio[freq == x]
            assert_allclose(sel.var(), 1 / (p * x), rtol=0.05)

    def test_zero_frequency_gives_zero(self) -> None:
        s = gamma_gamma_spend(*GG, frequency=[0, 0, 3], rng=62)
        assert s.monetary_value[0] == 0.0
        assert s.monetary_value[1] == 0.0
        assert s.monetary_value[2] > 0.0
        assert s.nu.shape == (3,)

    def test_tiny_shape_stays_finite_or_raises(self) -> None:
        # q = 0.05: nu down to ~1e-90, still representable; no warning escapes.
        s = gamma_gamma_spend(0.5, 0.05, 1.0, frequency=np.ones(2_000, dtype=int), rng=63)
        assert np.all(np.isfinite(s.monetary_value))
        assert np.all(s.monetary_value >= 0)
        # q = 1e-4: nu underflows far below the smallest float: refuse, do not return inf.
        with pytest.raises(InputError, match=r"too large to represent"):
            gamma_gamma_spend(0.5, 1e-4, 1.0, frequency=np.ones(2_000, dtype=int), rng=63)


# ----------------------------------------------------------------------------- properties


positive = st.floats(0.01, 50.0)
seeds = st.integers(0, 2**32)


@given(
    model=st.sampled_from(["bgnbd", "mbgnbd", "pareto_nbd"]),
    params=st.tuples(positive, positive, positive, positive),
    T=st.lists(st.one_of(st.just(0.0), st.floats(1e-3, 500.0)), min_size=1, max_size=30),
    holdout=st.floats(0.0, 100.0),
    seed=seeds,
)
def test_history_invariants(
    model: str, params: tuple[float, ...], T: list[float], holdout: float, seed: int
) -> None:
    fn = {"bgnbd": bgnbd_histories, "mbgnbd": mbgnbd_histories, "pareto_nbd": pareto_nbd_histories}[
        model
    ]
    h = fn(*params, T=T, duration_holdout=holdout, rng=seed)
    t = np.asarray(T)
    assert h.frequency.dtype == np.int64
    assert np.all(h.frequency >= 0)
    assert np.all((h.recency >= 0) & (h.recency <= t))
    assert_array_equal(h.recency == 0, h.frequency == 0)
    assert_array_equal(h.alive, h.dropout_time > t)
    assert np.all(h.dropout_time >= h.recency)
    assert np.all(h.frequency_holdout[~h.alive] == 0)
    assert np.all(h.lam >= 0)
    if model == "bgnbd":
        # No dropout without a repeat purchase: a customer with x = 0 is alive.
        assert np.all(h.alive[h.frequency == 0])
    for arr in (h.frequency, h.recency, h.T, h.alive, h.dropout_time):
        assert not arr.flags.writeable


@given(
    scale_power=st.integers(-6, 6),
    seed=seeds,
    params=st.tuples(positive, positive, positive, positive),
)
def test_time_unit_scaling(scale_power: int, seed: int, params: tuple[float, ...]) -> None:
    # Measuring time in units 2^k times smaller multiplies T by 2^k and divides the
    # rates by 2^k (alpha and beta are rates' rates: multiplied by 2^k); with the
    # same seed the counts are identical and the times scale exactly (powers of two).
    c = 2.0**scale_power
    r, alpha, a, b = params
    for fn in (bgnbd_histories, pareto_nbd_histories):
        one = fn(r, alpha, a, b, T=[5.0, 20.0, 80.0], duration_holdout=10.0, rng=seed)
        two = fn(
            r,
            alpha * c,
            a,
            b * (c if fn is pareto_nbd_histories else 1.0),
            T=[5.0 * c, 20.0 * c, 80.0 * c],
            duration_holdout=10.0 * c,
            rng=seed,
        )
        assert_array_equal(one.frequency, two.frequency)
        assert_array_equal(one.frequency_holdout, two.frequency_holdout)
        assert_allclose(one.recency * c, two.recency, rtol=1e-12)


@given(
    params=st.tuples(positive, positive, positive, positive),
    n=st.integers(1, 30),
    hold=st.integers(0, 10),
    size=st.integers(1, 40),
    seed=seeds,
)
def test_bgbb_invariants(
    params: tuple[float, ...], n: int, hold: int, size: int, seed: int
) -> None:
    h = bgbb_histories(*params, n_periods=n, n_customers=size, n_periods_holdout=hold, rng=seed)
    assert np.all((h.frequency >= 0) & (h.frequency <= h.recency) & (h.recency <= n))
    assert_array_equal(h.frequency == 0, h.recency == 0)
    assert_array_equal(h.alive, h.lifetime >= n)
    assert np.all(h.recency <= h.lifetime)
    assert np.all((h.frequency_holdout >= 0) & (h.frequency_holdout <= hold))
    assert np.all(h.frequency_holdout[~h.alive] == 0)


@given(
    params=st.tuples(positive, positive), size=st.integers(1, 200), n=st.integers(1, 20), seed=seeds
)
def test_sbg_invariants(params: tuple[float, float], size: int, n: int, seed: int) -> None:
    c = sbg_cohort(*params, n_customers=size, n_periods=n, rng=seed)
    assert c.alive.shape == (n + 1,)
    assert c.alive[0] == size
    assert np.all(np.diff(c.alive) <= 0)
    assert np.all(c.lifetime >= 1)
    assert_array_equal(c.alive, [(c.lifetime > t).sum() for t in range(n + 1)])


@given(
    params=st.tuples(st.floats(0.1, 50), st.floats(0.5, 50), st.floats(0.1, 100)),
    freq=st.lists(st.integers(0, 50), min_size=1, max_size=30),
    seed=seeds,
)
def test_gamma_gamma_invariants(
    params: tuple[float, float, float], freq: list[int], seed: int
) -> None:
    s = gamma_gamma_spend(*params, frequency=freq, rng=seed)
    f = np.asarray(freq)
    assert np.all(np.isfinite(s.monetary_value))
    assert np.all(s.monetary_value[f == 0] == 0)
    assert np.all(s.monetary_value[f > 0] >= 0)
    assert np.all(s.nu >= 0)


def test_extreme_parameters_give_no_warning_or_nan() -> None:
    # Probabilities drawn as exactly 0 or 1 and rates underflowing to 0 (Beta and
    # Gamma with tiny shapes); pytest turns any numpy warning into an error.
    tiny, huge = 1e-4, 1e4
    for params in [(tiny, 1.0, tiny, tiny), (huge, huge, huge, huge), (1.0, tiny, 1.0, tiny)]:
        for fn in (bgnbd_histories, mbgnbd_histories, pareto_nbd_histories):
            h = fn(*params, T=[0.0, 1.0, 1e4], duration_holdout=10.0, n_customers=None, rng=1)
            for arr in (h.recency, h.lam):
                assert not np.isnan(arr).any()
            assert not np.isnan(h.dropout_time).any()
    h2 = bgbb_histories(tiny, tiny, tiny, tiny, n_periods=1000, n_customers=500, rng=2)
    assert np.all(h2.recency <= 1000)
    c = sbg_cohort(tiny, tiny, n_customers=500, n_periods=10, rng=3)
    assert c.alive[0] == 500


def test_spend_too_large_raises_in_customer_base() -> None:
    # q = 1e-4: some customers' nu underflows; their amounts would be infinite.
    with pytest.raises(InputError, match="amounts too large to represent"):
        customer_base(2_000, start=START, observation_end=END, spend=(1.0, 1e-4, 1.0), rng=0)


def test_rate_too_large_raises() -> None:
    with pytest.raises(InputError, match=r"beyond what can be simulated"):
        bgnbd_histories(1e4, 1e-4, 1.0, 1.0, T=1e8, n_customers=5, rng=0)


# ----------------------------------------------------------------------------- determinism


def test_deterministic_for_a_seed() -> None:
    for fn in (bgnbd_histories, mbgnbd_histories, pareto_nbd_histories):
        one = fn(*BG, T=30.0, n_customers=200, duration_holdout=5.0, rng=7)
        two = fn(*BG, T=30.0, n_customers=200, duration_holdout=5.0, rng=7)
        other = fn(*BG, T=30.0, n_customers=200, duration_holdout=5.0, rng=8)
        for field in ("frequency", "recency", "alive", "lam", "dropout_time", "frequency_holdout"):
            assert_array_equal(getattr(one, field), getattr(two, field))
        assert not np.array_equal(one.lam, other.lam)
    g1 = bgbb_histories(*BGBB, n_periods=5, n_customers=100, rng=np.random.default_rng(3))
    g2 = bgbb_histories(*BGBB, n_periods=5, n_customers=100, rng=np.random.default_rng(3))
    assert_array_equal(g1.frequency, g2.frequency)
    assert_array_equal(g1.recency, g2.recency)
    s1 = sbg_cohort(*SBG, n_customers=100, n_periods=5, rng=4)
    s2 = sbg_cohort(*SBG, n_customers=100, n_periods=5, rng=4)
    assert_array_equal(s1.lifetime, s2.lifetime)
    m1 = gamma_gamma_spend(*GG, frequency=[1, 2, 3], rng=5)
    m2 = gamma_gamma_spend(*GG, frequency=[1, 2, 3], rng=5)
    assert_array_equal(m1.monetary_value, m2.monetary_value)


# ----------------------------------------------------------------------------- customer_base

START = "2024-01-01"
END = "2025-06-30"
WEEK_S = 604_800


def _table_columns(base: Any) -> dict[str, np.ndarray]:
    t = base.table
    return {
        f.name: getattr(t, f.name) for f in attrs.fields(type(t)) if getattr(t, f.name) is not None
    }


def _purchase_rows_by_customer(base: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    t = base.table
    mask = t.is_purchase
    codes = t.customer_codes[mask]
    times = t.times[mask]
    amounts = t.amounts[mask]
    order = np.lexsort((times, codes))
    return codes[order], times[order], amounts[order]


@given(
    n=st.integers(1, 30),
    params=st.tuples(
        st.floats(0.05, 5), st.floats(0.5, 50), st.floats(0.05, 5), st.floats(0.05, 5)
    ),
    model=st.sampled_from(["bgnbd", "mbgnbd", "pareto_nbd"]),
    unit=st.sampled_from(["h", "D", "W"]),
    acq=st.floats(0.001, 100.0),
    extra_days=st.floats(0.0, 400.0),
    seed=seeds,
)
def test_customer_base_invariants(
    *,
    n: int,
    params: tuple[float, ...],
    model: Any,
    unit: Any,
    acq: float,
    extra_days: float,
    seed: int,
) -> None:
    start = np.datetime64("2024-03-01T00:00:00", "ns")
    end = start + np.timedelta64(int((acq + extra_days) * 86_400e9), "ns") + np.timedelta64(1, "s")
    base = customer_base(
        n,
        start=start,
        observation_end=end,
        acquisition_days=acq,
        model=model,
        purchase=params,
        time_unit=unit,
        catalog=CatalogOptions(),
        surveys=SurveyOptions(),
        support=SupportOptions(),
        rng=seed,
    )
    t, h = base.table, base.histories
    assert t.n_customers == n
    organic = t.is_purchase
    assert_array_equal(np.bincount(t.customer_codes[organic], minlength=n), h.frequency + 1)
    assert np.all((t.times >= start) & (t.times <= end))
    assert np.all((base.first_purchase >= start) & (base.first_purchase < end))
    assert np.all((h.recency >= 0) & (h.recency <= h.T))
    assert_array_equal(h.recency == 0, h.frequency == 0)
    assert np.all(base.spend.monetary_value[h.frequency == 0] == 0)
    assert np.all(np.isfinite(t.amounts))


class TestCustomerBase:
    def test_table_matches_histories_exactly(self) -> None:
        base = customer_base(3_000, start=START, observation_end=END, rng=101)
        h, t = base.histories, base.table
        n = 3_000
        assert len(base) == n
        assert_array_equal(t.customer_ids, np.arange(1, n + 1))
        assert_array_equal(base.customer_ids, t.customer_ids)
        codes, times, amounts = _purchase_rows_by_customer(base)
        # One row for the first purchase plus one per repeat purchase.
        assert_array_equal(np.bincount(codes, minlength=n), h.frequency + 1)
        first = np.full(n, np.iinfo(np.int64).max)
        last = np.zeros(n, dtype=np.int64)
        ns = times.astype(np.int64)
        np.minimum.at(first, codes, ns)
        np.maximum.at(last, codes, ns)
        assert_array_equal(first, base.first_purchase.astype(np.int64))
        end_ns = np.datetime64(END, "ns").astype(np.int64)
        # T is exact (first purchase to observation_end, in weeks).
        assert_allclose(h.T * WEEK_S * 1e9, end_ns - first, rtol=1e-14)
        # The last purchase is at recency, truncated to the whole second.
        gap_s = (last - first) / 1e9
        assert np.all(gap_s <= h.recency * WEEK_S + 1e-6)
        assert np.all(gap_s > h.recency * WEEK_S - 1.0 - 1e-6)
        assert np.all(ns <= end_ns)
        # Acquisition window: [start, start + 84 days).
        start_ns = np.datetime64(START, "ns").astype(np.int64)
        assert np.all((first >= start_ns) & (first < start_ns + 84 * 86_400 * 10**9))
        # Spend truth: mean of the repeat purchases' amounts.
        firsts = np.r_[True, codes[1:] != codes[:-1]]
        repeat_sum = np.bincount(codes[~firsts], weights=amounts[~firsts], minlength=n)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.where(h.frequency > 0, repeat_sum / h.frequency, 0.0)
        assert_allclose(base.spend.monetary_value, mean, rtol=1e-12)
        assert np.all(amounts > 0)
        # A summary by day merges same-day purchases: never more occasions.
        s = summarize(t, observation_end=END, period="D", time_unit="W")
        assert np.all(s.frequency <= h.frequency)
        assert_allclose(s.T, h.T, atol=1 / 7 + 1e-12)

    def test_expected_purchases_over_the_calendar(self) -> None:
        base = customer_base(40_000, start=START, observation_end=END, rng=102)
        h = base.histories
        r, alpha, a, b = CDNOW_BGNBD_WEEKLY
        assert base.purchase_params == pytest.approx(CDNOW_BGNBD_WEEKLY)
        expected = float(np.mean(bgnbd_expected(h.T, r, alpha, a, b)))
        assert_mean_close(h.frequency, expected)
        # The earlier purchases too: repeat purchases within 20 weeks of the first
        # purchase (every T exceeds 60 weeks) are X(20), with E[X(20)] in closed form.
        codes, times, _ = _purchase_rows_by_customer(base)
        offset_s = (times - base.first_purchase[codes]).astype(np.int64) / 1e9
        early = np.bincount(codes[(offset_s > 0) & (offset_s <= 20 * WEEK_S)], minlength=len(h))
        assert_mean_close(early, float(bgnbd_expected(20.0, r, alpha, a, b)))
        # Given x and t_x the x - 1 earlier repeat purchases are uniform on (0, t_x).
        is_last = np.r_[codes[1:] != codes[:-1], True]
        inner = (offset_s > 0) & ~is_last
        u = offset_s[inner] / (h.recency[codes[inner]] * WEEK_S)
        assert stats.kstest(u, "uniform").pvalue > 1e-4
        # Gamma-Gamma: every purchase amount has mean p v / (q - 1) = 35.22 dollars.
        p, q, v = base.spend_params
        assert_mean_close(base.table.amounts[base.table.is_purchase], p * v / (q - 1))

    def test_days_and_weeks_agree(self) -> None:
        # Default parameters are converted to the time unit (alpha per day = 7 x per
        # week): with one seed the draws are the same, times scaled by exactly 7.
        w = customer_base(500, start=START, observation_end=END, time_unit="W", rng=103)
        d = customer_base(500, start=START, observation_end=END, time_unit="D", rng=103)
        assert_allclose(d.purchase_params[1], 7 * w.purchase_params[1])
        assert_array_equal(w.histories.frequency, d.histories.frequency)
        assert_allclose(d.histories.recency, 7 * w.histories.recency, rtol=1e-9)
        assert_allclose(d.histories.T, 7 * w.histories.T, rtol=1e-12)
        h = customer_base(50, start=START, observation_end=END, time_unit="h", rng=103)
        # Same stream: the first 50 acquisition times are those of the weekly base.
        assert_allclose(h.histories.T, 168 * w.histories.T[:50], rtol=1e-12)
        assert h.purchase_params[1] == pytest.approx(CDNOW_BGNBD_WEEKLY[1] * 168)

    def test_deterministic_and_options_do_not_disturb_purchases(self) -> None:
        kw: dict[str, Any] = {"start": START, "observation_end": END}
        plain = customer_base(800, rng=104, **kw)
        again = customer_base(800, rng=104, **kw)
        for name, col in _table_columns(plain).items():
            assert_array_equal(col, _table_columns(again)[name], err_msg=name)
        full = customer_base(
            800,
            rng=104,
            catalog=CatalogOptions(),
            surveys=SurveyOptions(),
            support=SupportOptions(),
            campaigns=[CampaignOptions(name="a", send_day=150.0)],
            **kw,
        )
        n_plain = len(plain.table)
        assert_array_equal(full.table.customer_codes[:n_plain], plain.table.customer_codes)
        assert_array_equal(full.table.times[:n_plain], plain.table.times)
        assert_array_equal(full.table.amounts[:n_plain], plain.table.amounts)
        assert_array_equal(full.histories.frequency, plain.histories.frequency)
        other = customer_base(800, rng=105, **kw)
        assert not np.array_equal(other.histories.lam, plain.histories.lam)

    def test_catalog(self) -> None:
        cat = CatalogOptions()
        base = customer_base(20_000, start=START, observation_end=END, catalog=cat, rng=106)
        t = base.table
        buy = t.is_purchase
        assert t.products is not None
        assert t.categories is not None
        assert t.channels is not None
        assert t.margins is not None
        assert t.regions is not None
        assert t.discounted is not None
        products, categories = t.products[buy], t.categories[buy]
        # A product belongs to its category: "<category>-<rank>".
        prefix = np.array([p.rsplit("-", 1)[0] for p in products[:5000]])
        assert_array_equal(prefix, categories[:5000])
        assert set(products.tolist()) <= set(cat.products)
        assert np.all(t.products[~buy] == "")
        # Margin = amount * (rate of the category - depth if discounted).
        rate = dict(zip(cat.categories, cat.margin_rates, strict=True))
        rates = np.array([rate[c] for c in categories])
        expected = t.amounts[buy] * (rates - cat.discount_depth * t.discounted[buy])
        assert_allclose(t.margins[buy], expected, rtol=1e-12)
        # Category loyalty: P(category = favourite) = loyalty + (1 - loyalty) * share.
        assert base.favourite_category is not None
        fav = base.favourite_category[t.customer_codes[buy]]
        shares = np.asarray(cat.category_shares) / sum(cat.category_shares or ())
        share_of = dict(zip(cat.categories, shares, strict=True))
        p_same = cat.category_loyalty + (1 - cat.category_loyalty) * np.array(
            [share_of[f] for f in fav]
        )
        assert_mean_close((categories == fav).astype(float) - p_same, 0.0)
        # The region is fixed per customer and matches the customer's region.
        assert base.region is not None
        assert_array_equal(t.regions, base.region[t.customer_codes])
        assert_share_close(base.region == "north", 0.3)
        # Channels: valid members, preferred one used with prob loyalty + (1-loyalty) share.
        members = list(Channel)
        used = np.array([members[c].value for c in t.channels[buy]])
        assert set(used.tolist()) <= {c.value for c in cat.channels}
        assert base.preferred_channel is not None
        assert_share_close(base.preferred_channel == "store", 0.5)
        # Discount propensity Beta(1, 6): mean share 1/7 of purchases.
        assert_share_close(t.discounted[buy], 1 / 7)

    def test_surveys(self) -> None:
        opts = SurveyOptions(response_rate=0.5, satisfaction=(3.0, 2.0))
        base = customer_base(10_000, start=START, observation_end=END, surveys=opts, rng=107)
        t = base.table
        mask = t.kind_mask(InteractionKind.SURVEY)
        assert t.survey_scores is not None
        assert t.survey_scale_min is not None
        assert t.survey_scale_max is not None
        scores, lo, hi = t.survey_scores[mask], t.survey_scale_min[mask], t.survey_scale_max[mask]
        assert np.all(np.isnan(t.survey_scores[~mask]))
        assert set(zip(lo.tolist(), hi.tolist(), strict=True)) == {(0, 10), (1, 5), (1, 7)}
        assert np.all((scores >= lo) & (scores <= hi) & (scores == np.round(scores)))
        # low + Binomial(high - low, s) with s ~ Beta(3, 2): mean low + (high-low) 3/5.
        nps = hi == 10
        assert_mean_close(scores[nps], 6.0)
        # About half the purchases are answered (minus those cut at the end).
        n_purchases = int(t.is_purchase.sum())
        assert 0.45 * n_purchases < mask.sum() <= 0.55 * n_purchases
        assert np.all(t.times[mask] <= np.datetime64(END, "ns"))
        assert base.satisfaction is not None
        assert_mean_close(base.satisfaction, 0.6)

    def test_support(self) -> None:
        opts = SupportOptions(contact_rate=0.5)
        base = customer_base(10_000, start=START, observation_end=END, support=opts, rng=108)
        t = base.table
        sup = t.kind_mask("support")
        com = t.kind_mask("complaint")
        contact = sup | com
        assert_share_close(com[contact], opts.complaint_share)
        assert t.resolved_at_first_contact is not None
        assert t.response_times is not None
        assert t.margins is not None
        assert set(t.resolved_at_first_contact[contact].tolist()) <= {0, 1}
        assert np.all(t.resolved_at_first_contact[~contact] == -1)
        assert_share_close(t.resolved_at_first_contact[contact] == 1, 0.7)
        hours = t.response_times[contact].astype(np.int64) / 3.6e12
        # Log-normal: the median is median_response_hours, P(below) = 1/2.
        assert_share_close(hours < opts.median_response_hours, 0.5)
        assert np.all(np.isnat(t.response_times[~contact]))
        assert_allclose(t.margins[contact], -opts.cost_per_contact)
        assert np.all(np.isnan(t.margins[t.is_purchase]))

    def test_campaign_uplift_is_the_incremental_probability(self) -> None:
        u = 0.3
        camp = CampaignOptions(
            name="spring",
            send_day=200.0,
            target_share=0.8,
            control_share=0.5,
            incremental_purchase_probability=u,
            response_days=28.0,
        )
        base = customer_base(40_000, start=START, observation_end=END, campaigns=[camp], rng=109)
        t = base.table
        assert t.campaigns is not None
        assert t.in_control_group is not None
        touch = t.kind_mask("marketing") & (t.campaigns == "spring")
        members = t.customer_codes[touch]
        control = t.in_control_group[touch]
        assert np.unique(members).size == members.size
        assert_share_close(control, 0.5)
        # Everyone acquired before the send (all: the window ends on day 84) is eligible.
        assert_share_close(np.isin(np.arange(40_000), members), 0.8)
        labelled = t.is_purchase & (t.campaigns == "spring")
        n = t.n_customers
        per_customer = np.bincount(t.customer_codes[labelled], minlength=n)[members]
        treated_mean = per_customer[~control]
        control_mean = per_customer[control]
        diff = treated_mean.mean() - control_mean.mean()
        se = math.sqrt(
            treated_mean.var() / treated_mean.size + control_mean.var() / control_mean.size
        )
        assert abs(diff - u) < Z * se, (diff, se)
        # Control customers' purchases in the window carry the control flag.
        flagged = labelled & t.in_control_group
        assert np.all(np.isin(t.customer_codes[flagged], members[control]))
        assert t.discounted is not None
        induced = labelled & t.discounted
        assert not np.any(np.isin(t.customer_codes[induced], members[control]))

    def test_other_models_and_params_objects(self) -> None:
        @attrs.frozen
        class Params:
            r: float
            alpha: float
            s: float
            beta: float

        base = customer_base(
            5_000,
            start=START,
            observation_end=END,
            model="pareto_nbd",
            purchase=Params(*PARETO),
            rng=110,
        )
        assert base.model == "pareto_nbd"
        assert base.histories.mu is not None
        expected = float(np.mean([pareto_expected(T, *PARETO) for T in base.histories.T]))
        assert_mean_close(base.histories.frequency, expected)
        m = customer_base(
            500, start=START, observation_end=END, model="mbgnbd", purchase=BG, rng=111
        )
        assert (
            np.bincount(m.table.customer_codes[m.table.is_purchase]).tolist()
            == (m.histories.frequency + 1).tolist()
        )


# ----------------------------------------------------------------------------- errors


class TestErrors:
    def test_bad_parameters(self) -> None:
        with pytest.raises(InputError, match=r"alpha must be > 0.0, got -1.0"):
            bgnbd_histories(0.2, -1.0, 1.0, 1.0, T=5.0, n_customers=3, rng=0)
        with pytest.raises(InputError, match=r"r must be > 0.0, got 0.0"):
            mbgnbd_histories(0.0, 1.0, 1.0, 1.0, T=5.0, n_customers=3, rng=0)
        with pytest.raises(InputError, match=r"beta must be finite"):
            pareto_nbd_histories(1.0, 1.0, 1.0, float("nan"), T=5.0, n_customers=3, rng=0)
        with pytest.raises(InputTypeError, match=r"s must be a real number"):
            pareto_nbd_histories(1.0, 1.0, "1", 1.0, T=5.0, n_customers=3, rng=0)  # type: ignore[arg-type]
        with pytest.raises(InputError, match=r"delta must be > 0.0"):
            bgbb_histories(1.0, 1.0, 1.0, -2.0, n_periods=3, n_customers=3, rng=0)
        with pytest.raises(InputError, match=r"beta must be > 0.0"):
            sbg_cohort(1.0, 0.0, n_customers=3, n_periods=3, rng=0)
        with pytest.raises(InputError, match=r"q must be > 0.0"):
            gamma_gamma_spend(1.0, -1.0, 1.0, frequency=[1], rng=0)
        with pytest.raises(InputTypeError, match=r"p must be a real number, got bool"):
            gamma_gamma_spend(True, 1.0, 1.0, frequency=[1], rng=0)  # type: ignore[arg-type]

    def test_bad_counts_and_T(self) -> None:
        with pytest.raises(InputError, match=r"n_customers must be >= 1, got 0"):
            bgnbd_histories(*BG, T=5.0, n_customers=0, rng=0)
        with pytest.raises(InputTypeError, match=r"n_customers must be an integer"):
            bgnbd_histories(*BG, T=5.0, n_customers=2.5, rng=0)  # type: ignore[arg-type]
        with pytest.raises(InputTypeError, match=r"n_customers is required"):
            bgnbd_histories(*BG, T=5.0, rng=0)
        with pytest.raises(InputError, match=r"n_customers must match the length of T"):
            bgnbd_histories(*BG, T=[1.0, 2.0], n_customers=3, rng=0)
        with pytest.raises(InputError, match=r"T must be >= 0.0, got -5.0"):
            bgnbd_histories(*BG, T=-5.0, n_customers=2, rng=0)
        with pytest.raises(InputError, match=r"T must be non-negative; 1 of 2 .*index 1: T=-1.0"):
            bgnbd_histories(*BG, T=[1.0, -1.0], rng=0)
        with pytest.raises(InputError, match=r"T must be finite"):
            pareto_nbd_histories(*PARETO, T=[1.0, np.inf], rng=0)
        with pytest.raises(InputError, match=r"T must not be empty"):
            pareto_nbd_histories(*PARETO, T=[], rng=0)
        with pytest.raises(InputError, match=r"duration_holdout must be >= 0.0"):
            bgnbd_histories(*BG, T=5.0, n_customers=2, duration_holdout=-1.0, rng=0)
        with pytest.raises(InputError, match=r"n_periods must be >= 1"):
            bgbb_histories(*BGBB, n_periods=0, n_customers=3, rng=0)
        with pytest.raises(InputError, match=r"n_periods_holdout must be >= 0"):
            bgbb_histories(*BGBB, n_periods=2, n_customers=3, n_periods_holdout=-1, rng=0)
        with pytest.raises(InputError, match=r"n_periods must be >= 1"):
            sbg_cohort(*SBG, n_customers=3, n_periods=0, rng=0)
        with pytest.raises(InputError, match=r"frequency must hold whole numbers"):
            gamma_gamma_spend(*GG, frequency=[1.5], rng=0)
        with pytest.raises(InputError, match=r"frequency must be non-negative"):
            gamma_gamma_spend(*GG, frequency=[-1], rng=0)

    def test_bad_rng(self) -> None:
        with pytest.raises(
            InputTypeError, match=r"rng must be an int seed or a numpy.random.Generator"
        ):
            bgnbd_histories(*BG, T=5.0, n_customers=2, rng=None)
        with pytest.raises(InputTypeError, match=r"rng must be an int seed"):
            sbg_cohort(*SBG, n_customers=2, n_periods=2, rng="seed")  # type: ignore[arg-type]
        with pytest.raises(InputError, match=r"rng must be a non-negative seed, got -3"):
            bgbb_histories(*BGBB, n_periods=2, n_customers=2, rng=-3)
        with pytest.raises(InputTypeError, match=r"rng must be an int seed"):
            customer_base(2, start=START, observation_end=END, rng=1.5)  # type: ignore[arg-type]

    def test_customer_base_arguments(self) -> None:
        kw: dict[str, Any] = {"start": START, "observation_end": END, "rng": 0}
        with pytest.raises(InputError, match=r"n_customers must be >= 1"):
            customer_base(0, **kw)
        with pytest.raises(InputError, match=r"observation_end must not be earlier than the end"):
            customer_base(3, start=START, observation_end="2024-02-01", rng=0)
        with pytest.raises(InputError, match=r"acquisition_days must be > 0.0"):
            customer_base(3, acquisition_days=0.0, **kw)
        with pytest.raises(InputError, match=r"time_unit must be one of"):
            customer_base(3, time_unit="M", **kw)  # type: ignore[arg-type]
        with pytest.raises(InputError, match=r"model must be one of"):
            customer_base(3, model="bg", **kw)  # type: ignore[arg-type]
        with pytest.raises(InputTypeError, match=r"purchase is required for model='pareto_nbd'"):
            customer_base(3, model="pareto_nbd", **kw)
        with pytest.raises(InputError, match=r"purchase must hold 4 parameters \(r, alpha, a, b\)"):
            customer_base(3, purchase=(1.0, 2.0), **kw)
        with pytest.raises(InputError, match=r"purchase.alpha must be > 0.0"):
            customer_base(3, purchase=(1.0, -2.0, 1.0, 1.0), **kw)
        with pytest.raises(InputTypeError, match=r"spend must be a sequence"):
            customer_base(3, spend=5.0, **kw)
        with pytest.raises(InputError, match=r"spend.v must be > 0.0"):
            customer_base(3, spend=(1.0, 2.0, 0.0), **kw)
        with pytest.raises(InputError, match=r"start must be an ISO date"):
            customer_base(3, start="not a date", observation_end=END, rng=0)
        with pytest.raises(InputTypeError, match=r"surveys must be a SurveyOptions"):
            customer_base(3, surveys=True, **kw)  # type: ignore[arg-type]
        with pytest.raises(InputTypeError, match=r"campaigns must hold CampaignOptions"):
            customer_base(3, campaigns=["spring"], **kw)  # type: ignore[list-item]
        with pytest.raises(InputError, match=r"after observation_end"):
            customer_base(3, campaigns=[CampaignOptions(name="late", send_day=900.0)], **kw)
        with pytest.raises(InputError, match=r"campaigns must have distinct names"):
            customer_base(
                3,
                campaigns=[CampaignOptions(name="x", send_day=100.0)] * 2,
                **kw,
            )

    def test_option_validation(self) -> None:
        with pytest.raises(InputError, match=r"SurveyOptions.response_rate must be <= 1.0"):
            SurveyOptions(response_rate=2.0)
        with pytest.raises(InputError, match=r"SurveyOptions.questions must be one of"):
            SurveyOptions(questions=("nps", "mood"))
        with pytest.raises(InputError, match=r"SurveyOptions.satisfaction\[1\] must be > 0.0"):
            SurveyOptions(satisfaction=(1.0, 0.0))
        with pytest.raises(InputError, match=r"SupportOptions.median_response_hours must be > 0.0"):
            SupportOptions(median_response_hours=0.0)
        with pytest.raises(InputError, match=r"SupportOptions.complaint_share must be >= 0.0"):
            SupportOptions(complaint_share=-0.1)
        with pytest.raises(InputError, match=r"CatalogOptions.margin_rates must have one rate"):
            CatalogOptions(margin_rates=(0.1, 0.2))
        with pytest.raises(InputError, match=r"CatalogOptions.channels has an unknown channel"):
            CatalogOptions(channels=("store", "carrier pigeon"), channel_shares=None)  # type: ignore[arg-type]
        with pytest.raises(InputError, match=r"CatalogOptions.category_shares must have one share"):
            CatalogOptions(category_shares=(1.0,))
        with pytest.raises(InputError, match=r"CatalogOptions.regions must be distinct"):
            CatalogOptions(regions=("a", "a"), region_shares=None)
        with pytest.raises(InputError, match=r"CatalogOptions.products_per_category must be >= 1"):
            CatalogOptions(products_per_category=0)
        with pytest.raises(InputTypeError, match=r"CatalogOptions.categories must be a sequence"):
            CatalogOptions(categories="grocery")  # type: ignore[arg-type]
        with pytest.raises(InputError, match=r"CatalogOptions.discount_propensity must be a pair"):
            CatalogOptions(discount_propensity=(1.0, 2.0, 3.0))  # type: ignore[arg-type]
        with pytest.raises(InputTypeError, match=r"SurveyOptions.questions must be a sequence"):
            SurveyOptions(questions="nps")  # type: ignore[arg-type]
        # Lists are accepted and stored as tuples (the options stay hashable).
        opts = CatalogOptions(regions=["a", "b"], region_shares=None)
        assert opts.regions == ("a", "b")
        assert hash(opts) == hash(CatalogOptions(regions=("a", "b"), region_shares=None))
        with pytest.raises(InputError, match=r"CampaignOptions.name must be a non-empty string"):
            CampaignOptions(name="", send_day=1.0)
        with pytest.raises(InputError, match=r"CampaignOptions.response_days must be > 0.0"):
            CampaignOptions(name="x", send_day=1.0, response_days=0.0)


# ----------------------------------------------------------------------------- opt-in options
# Customer sources, refunds and multi-item orders (baskets).


def _all_options(**kwargs: Any) -> dict[str, Any]:
    return {
        "catalog": CatalogOptions(),
        "surveys": SurveyOptions(),
        "support": SupportOptions(),
        "campaigns": [CampaignOptions(name="spring", send_day=200.0)],
        **kwargs,
    }


def _assert_same_rows(base: Any, other: Any, keep: np.ndarray) -> None:
    """``other``'s table equals ``base``'s rows ``keep`` (every column)."""
    one, two = _table_columns(base), _table_columns(other)
    assert set(one) == set(two)
    for name, col in one.items():
        if name in ("customer_ids",):
            assert_array_equal(col, two[name])
        else:
            assert_array_equal(col[keep], two[name], err_msg=name)


class TestSources:
    SHARES: ClassVar[dict[CustomerSource, float]] = {
        CustomerSource.CONSUMER: 0.7,
        CustomerSource.DEALER: 0.2,
        CustomerSource.PUBLIC: 0.1,
    }

    def test_shares_match_within_sampling_error(self) -> None:
        n = 40_000
        base = customer_base(n, start=START, observation_end=END, source_shares=self.SHARES, rng=5)
        assert base.source is not None
        assert base.source.shape == (n,)
        assert set(base.source.tolist()) == {"consumer", "dealer", "public"}
        for source, share in self.SHARES.items():
            assert_share_close(base.source == source.value, share)

    def test_sources_leave_every_other_draw_unchanged(self) -> None:
        base = customer_base(500, start=START, observation_end=END, **_all_options(), rng=3)
        with_sources = customer_base(
            500,
            start=START,
            observation_end=END,
            **_all_options(),
            source_shares=self.SHARES,
            rng=3,
        )
        _assert_same_rows(base, with_sources, np.ones(len(base.table), dtype=np.bool_))
        assert_array_equal(base.region, with_sources.region)

    @given(
        weights=st.lists(
            st.integers(0, 5), min_size=len(CustomerSource), max_size=len(CustomerSource)
        ).filter(lambda w: sum(w) > 0),
        seed=seeds,
    )
    def test_only_sources_with_a_share_appear(self, weights: list[int], seed: int) -> None:
        total = sum(weights)
        shares = {s: w / total for s, w in zip(CustomerSource, weights, strict=True)}
        # Round-off of w / total must be accepted (the sum is 1 within 1e-9).
        base = customer_base(30, start=START, observation_end=END, source_shares=shares, rng=seed)
        assert base.source is not None
        allowed = {s.value for s, w in shares.items() if w > 0}
        assert set(base.source.tolist()) <= allowed
        assert base.source.size == 30

    def test_string_keys_are_accepted(self) -> None:
        base = customer_base(
            20, start=START, observation_end=END, source_shares={"dealer": 1.0}, rng=1
        )
        assert base.source is not None
        assert set(base.source.tolist()) == {"dealer"}

    def test_errors(self) -> None:
        kw: dict[str, Any] = {"start": START, "observation_end": END, "rng": 1}
        with pytest.raises(InputError, match=r"source_shares\['dealer'\] must be >= 0.0"):
            customer_base(10, source_shares={"consumer": 1.1, "dealer": -0.1}, **kw)
        with pytest.raises(InputError, match=r"source_shares must sum to 1, got 0.9"):
            customer_base(10, source_shares={"consumer": 0.9}, **kw)
        with pytest.raises(InputError, match=r"source_shares has an unknown source 'martian'"):
            customer_base(10, source_shares={"martian": 1.0}, **kw)
        with pytest.raises(InputError, match=r"source_shares must give a share"):
            customer_base(10, source_shares={}, **kw)
        with pytest.raises(InputTypeError, match=r"source_shares must be a mapping"):
            customer_base(10, source_shares=[0.5, 0.5], **kw)  # type: ignore[arg-type]
        with pytest.raises(InputTypeError, match=r"source_shares\['consumer'\] must be a real"):
            customer_base(10, source_shares={"consumer": "all"}, **kw)  # type: ignore[dict-item]


def _rows_of_kind(base: Any, kind: InteractionKind) -> np.ndarray:
    from crmcore.table import KIND_CODES

    return np.flatnonzero(base.table.kinds == KIND_CODES[kind])


def _match_refunds(base: Any, fraction: float) -> tuple[np.ndarray, np.ndarray]:
    """Pair every refund row with its purchase row (same customer, amount = fraction * amount)."""
    t = base.table
    buys = _rows_of_kind(base, InteractionKind.PURCHASE)
    by_key = {(int(t.customer_codes[i]), float(t.amounts[i]) * fraction): i for i in buys}
    refunds = _rows_of_kind(base, InteractionKind.REFUND)
    purchase = np.array(
        [by_key[(int(t.customer_codes[j]), float(t.amounts[j]))] for j in refunds], dtype=np.int64
    )
    return refunds, purchase


class TestRefunds:
    def test_refunds_follow_their_purchase_within_the_observation(self) -> None:
        options = RefundOptions(probability=0.2, fraction=0.5, delay_days=40.0)
        base = customer_base(
            4_000, start=START, observation_end=END, **_all_options(refunds=options), rng=8
        )
        t = base.table
        refunds, purchase = _match_refunds(base, 0.5)
        assert refunds.size > 0
        end = np.datetime64(END, "ns")
        delay = np.timedelta64(40 * 86_400, "s")
        assert np.all(t.times[refunds] >= t.times[purchase])
        assert np.all(t.times[refunds] <= t.times[purchase] + delay)
        assert np.all(t.times[refunds] <= end)
        for col in (t.products, t.categories, t.channels, t.regions):
            assert_array_equal(col[refunds], col[purchase])
        assert_allclose(t.margins[refunds], 0.5 * t.margins[purchase])
        assert len(set(purchase.tolist())) == purchase.size  # at most one refund per purchase
        # Purchases made at least delay_days before the end are refunded with probability 0.2.
        buys = _rows_of_kind(base, InteractionKind.PURCHASE)
        early = buys[t.times[buys] + delay <= end]
        refunded = np.isin(early, purchase)
        assert early.size > 5_000
        assert_share_close(refunded, 0.2)

    def test_refunds_are_subtracted_by_historical_value(self) -> None:
        base = customer_base(
            800,
            start=START,
            observation_end=END,
            catalog=CatalogOptions(),
            refunds=RefundOptions(probability=0.3),
            rng=2,
        )
        t = base.table
        is_refund = np.isin(np.arange(len(t)), _rows_of_kind(base, InteractionKind.REFUND))
        sign = np.where(t.is_purchase, 1.0, np.where(is_refund, -1.0, 0.0))
        expected = np.bincount(t.customer_codes, weights=sign * t.amounts, minlength=t.n_customers)
        hv = historical_value(t, observation_end=END, measure="amount")
        assert_allclose(hv.realised, expected, atol=1e-9)
        assert np.all(t.amounts[_rows_of_kind(base, InteractionKind.REFUND)] > 0)

    @given(
        probability=st.floats(0.0, 1.0),
        fraction=st.floats(0.01, 1.0),
        delay=st.floats(0.01, 400.0),
        seed=seeds,
    )
    def test_refunds_only_add_rows(
        self, probability: float, fraction: float, delay: float, seed: int
    ) -> None:
        options = RefundOptions(probability=probability, fraction=fraction, delay_days=delay)
        kw: dict[str, Any] = {"start": START, "observation_end": END, "rng": seed}
        base = customer_base(40, **_all_options(), **kw)
        with_refunds = customer_base(40, **_all_options(refunds=options), **kw)
        t = with_refunds.table
        is_refund = np.isin(np.arange(len(t)), _rows_of_kind(with_refunds, InteractionKind.REFUND))
        _assert_same_rows(with_refunds, base, ~is_refund)
        assert np.all(t.times <= np.datetime64(END, "ns"))
        # Every refund follows a purchase of the same customer and product within the delay.
        for j in np.flatnonzero(is_refund):
            same = (
                t.is_purchase
                & (t.customer_codes == t.customer_codes[j])
                & (t.products == t.products[j])
                & (t.times <= t.times[j])
                & (t.times + np.timedelta64(math.ceil(delay * 86_400), "s") >= t.times[j])
            )
            assert np.any(same & np.isclose(t.amounts * fraction, t.amounts[j]))
        if probability == 0.0:
            assert not is_refund.any()

    def test_without_catalog(self) -> None:
        base = customer_base(
            300, start=START, observation_end=END, refunds=RefundOptions(probability=0.5), rng=4
        )
        refunds = _rows_of_kind(base, InteractionKind.REFUND)
        assert refunds.size > 0
        assert base.table.products is None
        assert base.refunds == RefundOptions(probability=0.5)

    def test_errors(self) -> None:
        with pytest.raises(InputError, match=r"RefundOptions.probability must be <= 1.0"):
            RefundOptions(probability=1.5)
        with pytest.raises(InputError, match=r"RefundOptions.fraction must be > 0.0"):
            RefundOptions(fraction=0.0)
        with pytest.raises(InputError, match=r"RefundOptions.fraction must be <= 1.0"):
            RefundOptions(fraction=1.2)
        with pytest.raises(InputError, match=r"RefundOptions.delay_days must be > 0.0"):
            RefundOptions(delay_days=0.0)
        with pytest.raises(InputTypeError, match=r"refunds must be a RefundOptions or None"):
            customer_base(10, start=START, observation_end=END, refunds=0.1, rng=1)  # type: ignore[arg-type]


def _orders(base: Any) -> dict[tuple[int, int], list[int]]:
    """Purchase rows grouped by (customer, timestamp): the orders."""
    t = base.table
    groups: dict[tuple[int, int], list[int]] = defaultdict(list)
    for i in _rows_of_kind(base, InteractionKind.PURCHASE):
        groups[(int(t.customer_codes[i]), int(t.times[i].astype(np.int64)))].append(int(i))
    return groups


class TestBaskets:
    def test_basket_sizes_have_the_requested_mean(self) -> None:
        base = customer_base(
            3_000,
            start=START,
            observation_end=END,
            catalog=CatalogOptions(extra_items_mean=1.5),
            rng=12,
        )
        t = base.table
        orders = _orders(base)
        sizes = np.array([len(rows) for rows in orders.values()])
        assert_mean_close(sizes, 2.5)
        # The number of orders is the number of single-item purchases without baskets.
        single = customer_base(
            3_000, start=START, observation_end=END, catalog=CatalogOptions(), rng=12
        )
        assert len(orders) == int(single.table.is_purchase.sum())
        for rows in orders.values():
            for col in (t.channels, t.discounted, t.regions):
                assert len({col[i] for i in rows}) == 1
        # Products of one order share the category preference: within-category pairs are lifted.
        cp = co_purchase(t, by="categories", basket="order")
        assert cp.n_baskets == len(orders)
        same = cp.item_a == cp.item_b
        assert not same.any()
        single_cp = co_purchase(single.table, by="categories", basket="order")
        assert single_cp.lift.size == 0

    def test_summary_equals_the_base_without_extra_items(self) -> None:
        kw: dict[str, Any] = {"start": START, "observation_end": END, "rng": 21}
        base = customer_base(1_500, **_all_options(), **kw)
        opts = _all_options(catalog=CatalogOptions(extra_items_mean=2.0))
        baskets = customer_base(1_500, **opts, **kw)
        one = summarize(base.table, observation_end=END)
        two = summarize(baskets.table, observation_end=END)
        # Purchase rows (n_transactions) grow with the extra items; every statistic of the
        # purchase occasions is the same.
        assert np.all(two.n_transactions >= one.n_transactions)
        assert two.n_transactions.sum() > one.n_transactions.sum()
        for f in attrs.fields(type(one)):
            a, b = getattr(one, f.name), getattr(two, f.name)
            if f.name == "n_transactions":
                continue
            if isinstance(a, np.ndarray) and a.dtype.kind == "f":
                assert_allclose(a, b, rtol=1e-12, atol=1e-9, err_msg=f.name)
            elif isinstance(a, np.ndarray):
                assert_array_equal(a, b, err_msg=f.name)
        assert_array_equal(base.spend.monetary_value, baskets.spend.monetary_value)
        assert_array_equal(base.histories.frequency, baskets.histories.frequency)
        # Everything but purchases (and their margins) is unchanged: surveys and
        # support contacts are per order.
        other = ~base.table.is_purchase
        other_b = ~baskets.table.is_purchase
        assert_array_equal(base.table.times[other], baskets.table.times[other_b])
        assert_array_equal(base.table.kinds[other], baskets.table.kinds[other_b])

    @given(mean=st.floats(0.0, 4.0), seed=seeds)
    def test_items_add_up_to_the_order_total(self, mean: float, seed: int) -> None:
        kw: dict[str, Any] = {"start": START, "observation_end": END, "rng": seed}
        single = customer_base(25, catalog=CatalogOptions(), **kw)
        base = customer_base(25, catalog=CatalogOptions(extra_items_mean=mean), **kw)
        t, s = base.table, single.table
        assert np.all(t.amounts >= 0)
        assert np.all(np.isfinite(t.margins))
        totals = {k: math.fsum(t.amounts[i] for i in rows) for k, rows in _orders(base).items()}
        expected = {k: float(s.amounts[rows[0]]) for k, rows in _orders(single).items()}
        assert totals.keys() == expected.keys()
        for k, total in totals.items():
            assert total == pytest.approx(expected[k], rel=1e-12, abs=1e-12)
        rate = dict(zip(CatalogOptions().categories, CatalogOptions().margin_rates, strict=True))
        rates = np.array([rate[c] for c in t.categories[t.is_purchase]])
        depth = 0.2 * t.discounted[t.is_purchase]
        assert_allclose(
            t.margins[t.is_purchase], t.amounts[t.is_purchase] * (rates - depth), atol=1e-12
        )

    def test_errors(self) -> None:
        with pytest.raises(InputError, match=r"CatalogOptions.extra_items_mean must be >= 0.0"):
            CatalogOptions(extra_items_mean=-0.5)
        with pytest.raises(InputError, match=r"CatalogOptions.extra_items_mean must be finite"):
            CatalogOptions(extra_items_mean=math.inf)
        with pytest.raises(InputError, match=r"CatalogOptions.extra_items_mean=.* rows, more than"):
            customer_base(
                10,
                start=START,
                observation_end=END,
                catalog=CatalogOptions(extra_items_mean=1e12),
                rng=1,
            )
