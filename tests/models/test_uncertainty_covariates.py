"""Intervals of the covariate fits (crmcore.models.uncertainty with covariates).

References: the draws are checked against the fit's own covariance on the
optimiser's scale with the standard errors of a sample mean and of a sample
covariance of normal draws (Anderson 2003, ch. 3); a covariate fit without
covariates is the plain model (Fader & Hardie 2007, note 019: the likelihood
at all-zero covariates is the plain one), so its intervals must equal the plain
fit's; the coverage by repeated simulation from known parameters with the
simulator of crmcore.simulate.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose

from crmcore import CustomerSummary
from crmcore import simulate as sim
from crmcore.errors import InputError, InputTypeError
from crmcore.models import _cohort_covariates as coh
from crmcore.models import _covariates as cov
from crmcore.models import _spend_covariates as spc
from crmcore.models import bgnbd, gamma_gamma, mbgnbd, pareto_nbd, sbg
from crmcore.models import uncertainty as unc

TRUE_BG = (0.5, 4.0, 0.6, 2.5)


def _spd(k, seed):
    """A random covariance with correlations, of a realistic size (sd 0.05 to 0.2)."""
    g = np.random.default_rng(seed)
    a = g.normal(size=(k, k))
    c = a @ a.T + k * np.eye(k)
    sd = np.linspace(0.05, 0.2, k)
    d = np.sqrt(np.diag(c))
    return c / np.outer(d, d) * np.outer(sd, sd)


def _purchase_fit(cls, params, *, kp=1, kd=1, seed=0, coef=(0.3, -0.2)):
    k = 4 + kp + kd
    return cls(
        params=params,
        standard_errors=params,
        purchase_coefficients=np.array(coef[:kp]),
        purchase_standard_errors=np.full(kp, 0.1),
        purchase_names=tuple(f"z{j}" for j in range(kp)),
        dropout_coefficients=np.array(coef[kp : kp + kd]),
        dropout_standard_errors=np.full(kd, 0.1),
        dropout_names=tuple(f"w{j}" for j in range(kd)),
        covariance=_spd(k, seed),
        log_likelihood=-100.0,
        n_customers=1000.0,
        converged=True,
        n_iterations=1,
        time_unit="W",
    )


BG_P = bgnbd.BgNbdParams(r=0.5, alpha=4.0, a=0.6, b=2.5)
MBG_P = mbgnbd.MbgNbdParams(r=0.5, alpha=4.0, a=0.6, b=2.5)
PN_P = pareto_nbd.ParetoNbdParams(r=0.55, alpha=10.6, s=0.61, beta=11.7)
GG_P = gamma_gamma.GammaGammaParams(p=6.25, q=3.74, v=15.44)


def _all_covariate_fits():
    return [
        _purchase_fit(cov.BgNbdCovariateFit, BG_P, seed=1),
        _purchase_fit(cov.MbgNbdCovariateFit, MBG_P, seed=2),
        _purchase_fit(cov.ParetoNbdCovariateFit, PN_P, seed=3),
        spc.GammaGammaCovariateFit(
            params=GG_P,
            standard_errors=GG_P,
            spend_coefficients=np.array([0.4, -0.1]),
            spend_standard_errors=np.array([0.1, 0.1]),
            spend_names=("z", "y"),
            covariance=_spd(5, 4),
            log_likelihood=-100.0,
            n_customers=1000.0,
            converged=True,
            n_iterations=1,
        ),
        coh.SbgCovariateFit(
            params=sbg.SbgParams(alpha=0.7, beta=1.2),
            standard_errors=sbg.SbgParams(alpha=0.1, beta=0.1),
            alpha_coefficients=np.array([0.2]),
            alpha_standard_errors=np.array([0.1]),
            beta_coefficients=np.array([-0.3]),
            beta_standard_errors=np.array([0.1]),
            covariate_names=("z",),
            covariance=_spd(4, 5),
            log_likelihood=-100.0,
            n_customers=1000.0,
            converged=True,
            n_iterations=1,
        ),
    ]


# --------------------------------------------------------------------------- sample_params


def test_covariate_draws_mean_and_covariance_match_the_fit_on_the_optimisers_scale():
    n = 40_000
    for f in _all_covariate_fits():
        name = type(f).__name__
        d = f.sample_params(n, rng=11)
        k0 = f.params.as_array().size
        u = d.values.copy()
        u[:, :k0] = np.log(u[:, :k0])
        centre = np.concatenate([np.log(f.params.as_array()), d.estimates[k0:]])
        c = np.asarray(f.covariance)
        se_mean = np.sqrt(np.diag(c) / n)
        assert np.all(np.abs(u.mean(axis=0) - centre) < 5 * se_mean), name
        sd = np.sqrt(np.diag(c))
        got = np.cov(u.T) / np.outer(sd, sd)
        assert np.all(np.abs(got - c / np.outer(sd, sd)) < 5 * np.sqrt(2.0 / n)), name
        assert d.names[k0:] == f.covariance_names[k0:], name
        assert type(d.params(0)) is type(f.params), name
        assert_allclose(d.log_covariance, c, rtol=1e-15)
        assert np.all(d.values[:, :k0] > 0)
        assert (d.values[:, k0:] < 0).any()  # the sign is free
        assert (d.values[:, k0:] > 0).any()


def test_covariate_draws_centre_on_the_coefficients_and_are_reproducible():
    f = _all_covariate_fits()[0]
    d = f.sample_params(5, rng=3)
    assert_allclose(d.estimates, [*BG_P.as_array(), 0.3, -0.2], rtol=1e-14)
    assert_allclose(d.values, f.sample_params(5, rng=np.random.default_rng(3)).values, rtol=0)
    assert sorted(d.columns()) == sorted(["r", "alpha", "a", "b", "purchase:z0", "dropout:w0"])


def test_covariate_draws_errors():
    f = _all_covariate_fits()[0]
    with pytest.raises(InputError, match="n_draws must be >= 1"):
        f.sample_params(0, rng=0)
    import attrs

    with pytest.raises(InputError, match=r"covariance must be a \(6, 6\) matrix"):
        attrs.evolve(f, covariance=np.eye(5)).sample_params(3, rng=0)
    with pytest.raises(InputError, match="covariance must be finite"):
        attrs.evolve(f, covariance=np.full((6, 6), np.nan)).sample_params(3, rng=0)
    with pytest.raises(InputError, match="positive semi-definite"):
        attrs.evolve(f, covariance=-np.eye(6)).sample_params(3, rng=0)


# --------------------------------------------------------------------------- intervals


def _customers(n=60, seed=5):
    h = sim.bgnbd_histories(*TRUE_BG, T=39.0, n_customers=n, rng=seed)
    return CustomerSummary.from_arrays(h.frequency, h.recency, h.T, time_unit="W")


def _zero_covariates(plain, cls):
    """The covariate fit without covariates that is the plain fit (covariance to the log scale)."""
    theta = plain.params.as_array()
    return cls(
        params=plain.params,
        standard_errors=plain.standard_errors,
        purchase_coefficients=np.zeros(0),
        purchase_standard_errors=np.zeros(0),
        purchase_names=(),
        dropout_coefficients=np.zeros(0),
        dropout_standard_errors=np.zeros(0),
        dropout_names=(),
        covariance=np.asarray(plain.covariance) / np.outer(theta, theta),
        log_likelihood=plain.log_likelihood,
        n_customers=plain.n_customers,
        converged=True,
        n_iterations=1,
        time_unit=plain.time_unit,
    )


@pytest.mark.parametrize(
    ("module", "cls"),
    [
        (bgnbd, cov.BgNbdCovariateFit),
        (mbgnbd, cov.MbgNbdCovariateFit),
        (pareto_nbd, cov.ParetoNbdCovariateFit),
    ],
)
def test_zero_covariate_fit_gives_the_plain_fits_intervals(module, cls):
    h = sim.bgnbd_histories(*TRUE_BG, T=39.0, n_customers=400, rng=8)
    plain = module.fit(h.frequency, h.recency, h.T, time_unit="W")
    zero = _zero_covariates(plain, cls)
    s = _customers()
    for q, t in (
        ("probability_alive", None),
        ("expected_purchases", 20.0),
        ("purchase_probability", 20.0),
    ):
        for method in ("draws", "delta"):
            a = unc.prediction_interval(plain, q, s, t=t, n_draws=30, rng=4, method=method)
            b = unc.prediction_interval(zero, q, s, t=t, n_draws=30, rng=4, method=method)
            for name in ("point", "lower", "upper"):
                assert_allclose(getattr(b, name), getattr(a, name), rtol=1e-8, err_msg=q)
            assert_allclose(
                [b.total_lower, b.total_upper], [a.total_lower, a.total_upper], rtol=1e-8
            )
    g = gamma_gamma.fit(
        [1, 2, 2, 3, 5, 8], [12.0, 30.0, 25.0, 18.5, 40.0, 22.0], weights=[40, 25, 20, 12, 8, 5]
    )
    sm = CustomerSummary.from_arrays(
        s.frequency,
        s.recency,
        s.T,
        monetary_value=np.where(s.frequency > 0, 20.0, 0.0),
        time_unit="W",
    )
    a = unc.clv_interval(plain, g, sm, horizon=20, step=4, discount_rate=0.01, n_draws=20, rng=2)
    b = unc.clv_interval(zero, g, sm, horizon=20, step=4, discount_rate=0.01, n_draws=20, rng=2)
    assert_allclose(b.lower, a.lower, rtol=1e-8)
    assert_allclose(b.upper, a.upper, rtol=1e-8)


def test_covariate_points_equal_the_fits_predictions_and_intervals_move_with_the_covariate():
    s = _customers()
    z = np.linspace(-1.0, 1.0, len(s))
    w = {"w0": np.linspace(1.0, -1.0, len(s))}
    for f in _all_covariate_fits()[:3]:
        kw = {"purchase_covariates": z, "dropout_covariates": w}
        for q, t, method in (
            ("probability_alive", None, f.probability_alive),
            (
                "expected_purchases",
                20.0,
                lambda *a, f=f, **k: f.conditional_expected_purchases(20.0, *a, **k),
            ),
            (
                "purchase_probability",
                20.0,
                lambda *a, f=f, **k: f.conditional_purchase_probability(20.0, *a, **k),
            ),
        ):
            pi = unc.prediction_interval(f, q, s, t=t, n_draws=40, rng=1, **kw)
            assert_allclose(pi.point, method(s, **kw), rtol=1e-12, err_msg=type(f).__name__)
            assert np.all(pi.lower <= pi.upper)
            d = unc.prediction_interval(f, q, s, t=t, method="delta", **kw)
            assert_allclose(d.point, pi.point, rtol=1e-12)
    # a new customer with z = 2 buys more than one with z = -2 (positive coefficient), and the
    # coefficient's uncertainty widens the interval with |z| (log-width at z = +-2 against 0)
    f = _all_covariate_fits()[0]
    one = CustomerSummary.from_arrays([0, 0, 0], [0.0] * 3, [1.0] * 3, time_unit="W")
    pi = unc.prediction_interval(
        f,
        "expected_purchases",
        one,
        t=20.0,
        purchase_covariates=[-2.0, 0.0, 2.0],
        dropout_covariates=[0.0, 0.0, 0.0],
        rng=0,
    )
    assert pi.point[0] < pi.point[1] < pi.point[2]
    width = np.log(pi.upper / pi.lower)
    assert width[1] < min(width[0], width[2])


def test_spend_covariate_interval_and_clv_with_covariate_fits():
    f, g = _all_covariate_fits()[0], _all_covariate_fits()[3]
    s0 = _customers()
    n = len(s0)
    s = CustomerSummary.from_arrays(
        s0.frequency,
        s0.recency,
        s0.T,
        monetary_value=np.where(s0.frequency > 0, 25.0, 0.0),
        time_unit="W",
    )
    zs = {"z": np.linspace(-1, 1, n), "y": np.zeros(n)}
    pi = unc.prediction_interval(g, "expected_spend", s, spend_covariates=zs, n_draws=30, rng=0)
    assert_allclose(pi.point, g.conditional_expected_spend(s, spend_covariates=zs), rtol=1e-12)
    kw = {"purchase_covariates": np.zeros(n), "dropout_covariates": np.zeros(n)}
    c = unc.clv_interval(
        f,
        g,
        s,
        horizon=20,
        step=4,
        discount_rate=0.01,
        spend_covariates=zs,
        n_draws=30,
        rng=0,
        **kw,
    )
    # the point: the CLV formula of clv.customer_lifetime_value, by hand from the fits' methods
    buyers = np.asarray(s.has_purchase)
    ends = np.arange(1, 6) * 4.0
    cum = np.column_stack([f.conditional_expected_purchases(e, s, **kw)[buyers] for e in ends])
    inc = np.diff(cum, axis=1, prepend=0.0)
    spend = g.conditional_expected_spend(s, spend_covariates=zs)[buyers]
    want = np.zeros(n)
    want[buyers] = spend * (inc @ (1.01**-ends))
    assert_allclose(c.point, want, rtol=1e-10)
    assert np.all(c.lower <= c.upper)
    d = unc.clv_interval(
        f, g, s, horizon=20, step=4, discount_rate=0.01, spend_covariates=zs, method="delta", **kw
    )
    assert_allclose(d.point, c.point, rtol=1e-12)


def test_covariate_interval_errors_name_the_matrix():
    f, g = _all_covariate_fits()[0], _all_covariate_fits()[3]
    s = _customers(n=10)
    n = len(s)
    with pytest.raises(InputError, match="purchase_covariates is missing"):
        unc.prediction_interval(f, "probability_alive", s, dropout_covariates=np.zeros(n))
    with pytest.raises(InputError, match="dropout_covariates must have one row per customer"):
        unc.prediction_interval(
            f,
            "probability_alive",
            s,
            purchase_covariates=np.zeros(n),
            dropout_covariates=np.zeros(3),
        )
    with pytest.raises(InputError, match="purchase_covariates must have 1 columns"):
        unc.prediction_interval(
            f,
            "probability_alive",
            s,
            purchase_covariates=np.zeros((n, 2)),
            dropout_covariates=np.zeros(n),
        )
    plain = bgnbd.BgNbdFit(
        params=BG_P,
        standard_errors=BG_P,
        covariance=np.eye(4) * 0.01,
        log_likelihood=0.0,
        n_customers=1.0,
        converged=True,
        n_iterations=1,
    )
    with pytest.raises(InputError, match="purchase_covariates must be left out"):
        unc.prediction_interval(plain, "probability_alive", s, purchase_covariates=np.zeros(n))
    with pytest.raises(InputError, match="spend_covariates must be left out"):
        unc.prediction_interval(plain, "probability_alive", s, spend_covariates=np.zeros(n))
    sm = CustomerSummary.from_arrays(
        s.frequency, s.recency, s.T, monetary_value=np.where(s.frequency > 0, 20.0, 0.0)
    )
    with pytest.raises(InputError, match="spend_covariates is missing"):
        unc.prediction_interval(g, "expected_spend", sm)
    with pytest.raises(InputTypeError, match="predicts expected_spend only"):
        unc.prediction_interval(g, "probability_alive", sm, spend_covariates=np.zeros((n, 2)))
    with pytest.raises(InputError, match="spend_covariates is missing"):
        unc.clv_interval(
            f,
            g,
            sm,
            horizon=8,
            step=4,
            discount_rate=0.01,
            purchase_covariates=np.zeros(n),
            dropout_covariates=np.zeros(n),
        )
    with pytest.raises(InputTypeError, match="spend_fit must be a GammaGammaFit or"):
        unc.clv_interval(f, f, sm, horizon=8, step=4, discount_rate=0.01)


# --------------------------------------------------------------------------- coverage


@pytest.mark.slow
def test_covariate_intervals_cover_the_truth_about_ninety_percent_of_the_time():
    """The 90% interval of the expected purchases of probe customers who differ only in
    their purchase covariate (a prediction that depends on the coefficient) should cover
    the expectation at the true parameters in about 90% of repeated simulated data sets."""
    true = (0.5, 4.0, 0.6, 2.5)
    gamma = 0.6
    probe = CustomerSummary.from_arrays([0, 2, 2, 6], [0.0, 20.0, 20.0, 35.0], [39.0] * 4)
    pz = np.array([1.5, -1.5, 1.5, 0.0])
    # truth: the plain model at the customer's alpha_i = alpha exp(-gamma z) (the
    # parameterisation of the module notes), an independent code path
    truth = np.array(
        [
            bgnbd.conditional_expected_purchases(
                bgnbd.BgNbdParams(
                    r=true[0], alpha=true[1] * math.exp(-gamma * z), a=true[2], b=true[3]
                ),
                20.0,
                int(x),
                float(tx),
                39.0,
            )
            for z, x, tx in zip(pz, probe.frequency, probe.recency, strict=True)
        ]
    )
    reps, covered, covered_delta = 40, np.zeros(4), np.zeros(4)
    for k in range(reps):
        z = np.random.default_rng(500 + k).normal(size=(1500, 1))
        h = sim.bgnbd_histories(
            *true, T=39.0, rng=900 + k, purchase_covariates=z, purchase_coefficients=[gamma]
        )
        f = bgnbd.fit(h.frequency, h.recency, h.T, purchase_covariates=z)
        pi = unc.prediction_interval(
            f, "expected_purchases", probe, t=20.0, purchase_covariates=pz, n_draws=300, rng=k
        )
        covered += (pi.lower <= truth) & (truth <= pi.upper)
        d = unc.prediction_interval(
            f, "expected_purchases", probe, t=20.0, purchase_covariates=pz, method="delta"
        )
        covered_delta += (d.lower <= truth) & (truth <= d.upper)
    # binomial(40, 0.9) per probe: sd 0.047; over the 4 probes (correlated) 3 sd of one
    mc = 3 * math.sqrt(0.9 * 0.1 / reps)
    assert abs(covered.mean() / reps - 0.9) < mc, covered
    assert abs(covered_delta.mean() / reps - 0.9) < mc, covered_delta
    assert np.all(covered / reps > 0.9 - 2 * mc), covered
