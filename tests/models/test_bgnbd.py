"""BG/NBD-only tests (crmcore.models.bgnbd).

The tests the BG/NBD model shares with MBG/NBD (reference tables, Monte
Carlo, fitting, stability, properties, errors) run for both models in
``test_bgnbd_family.py``; the reference values and their mpmath sources are
in ``_bgnbd_family.py``.
"""

from __future__ import annotations

import warnings

import numpy as np
from numpy.testing import assert_allclose

from crmcore.models import bgnbd
from crmcore.models.bgnbd import BgNbdParams
from tests.models._bgnbd_family import BG_LOGLIK_CASES, _mp_loglik


def test_log_likelihood_to_published_precision():
    # r=0.25, alpha=4, a=0.8, b=2.5, T=40: a customer without repeat purchase and one with
    # 200 (t_x = 38). References: FHL 2005 eq. (6) in mpmath at 50 digits (_mp_loglik,
    # rows 0 and 1 of BG_LOGLIK_CASES), rounded to 8 and 7 significant digits.
    p = BgNbdParams(r=0.25, alpha=4.0, a=0.8, b=2.5)
    assert_allclose(float(_mp_loglik((0.25, 4.0, 0.8, 2.5), 0, 0.0, 40.0)), -0.59947382, atol=5e-9)
    assert BG_LOGLIK_CASES[1][:4] == ((0.25, 4.0, 0.8, 2.5), 200, 38.0, 40.0)
    got = bgnbd.log_likelihood_per_customer(p, [0, 200], [0.0, 38.0], [40.0, 40.0])
    assert_allclose(got[0], -0.59947382, atol=5e-9)
    assert_allclose(got[1], 100.7957, atol=5e-5)
    total = bgnbd.log_likelihood(p, [0, 200], [0.0, 38.0], [40.0, 40.0])
    assert_allclose(total, -0.59947382 + 100.79569309, rtol=1e-9)


# E[(1 - (1 + p u)^-n) / p], p ~ Beta(a, beta): the factor of every expectation, at
# extreme arguments where scipy's hyp2f1 fails and the quadrature fallback runs (first
# eight) or the Euler form is used (last four). Reference: mpmath at 40 digits of
# (a+beta-1)/(a-1) [1 - 2F1(n, a-1; a+beta-1; -u)] (maxprec=20000).
# (n, a, beta, u, value)
KERNEL_CASES = [
    (
        12.46503489364764,
        1494.2038741606716,
        0.00011205071452119416,
        1708836.5028731986,
        1.000000075040466,
    ),
    (
        2004.6779718925357,
        405.18912190854184,
        4.899070488024443,
        8480.685502245444,
        1.012120738096294,
    ),
    (
        2.2335718716845934,
        9464.165900531802,
        0.000112924503627189,
        0.10487110488054055,
        0.19968603905920032,
    ),
    (
        23.173696645524693,
        1550.9225908498825,
        0.0012420477102833415,
        1.8749473893656867,
        1.0000008013375818,
    ),
    (
        0.12923239466329617,
        0.003929947289547028,
        3193.085569656348,
        1511.4956097493398,
        195.17223505365325,
    ),
    (
        0.1358163341746731,
        7.775162494687686,
        1034.0508425044159,
        131693.72542618075,
        91.52523418492521,
    ),
    (
        198.05529598923889,
        2454.4989971948585,
        0.8986563492323995,
        10168.87579429655,
        1.0003662754092257,
    ),
    (
        0.0015930732129662885,
        0.03167854139956349,
        1295.2999630804836,
        539.5336629869082,
        0.8549059364150987,
    ),
    (
        0.014397719560836327,
        4.640452968284374,
        58.79309038518205,
        14.384754557344179,
        0.14357229827959236,
    ),
    (
        0.0002127101390476929,
        0.00020977115393762188,
        25.872339767583206,
        957269.5514278752,
        203.23847155776056,
    ),
    (
        0.00013558794678123515,
        49.19201278866514,
        17.997475847061754,
        0.023728293767682183,
        3.1896422251170605e-06,
    ),
    (
        320.7464908198423,
        3.5662093482566957,
        31.5733030789367,
        8632.906298934913,
        13.303479098608145,
    ),
]


def test_expectation_kernel_at_extreme_arguments():
    from crmcore.models.bgnbd import _expected_until_dropout

    n, a, beta, u, expected = (np.array(c) for c in zip(*KERNEL_CASES, strict=True))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = _expected_until_dropout(n, a, beta, u)
    assert_allclose(got, expected, rtol=1e-7)


def _continuous_histories(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    from crmcore.simulate import bgnbd_histories

    big_t = np.random.default_rng(seed).uniform(1.0, 78.0, n)
    h = bgnbd_histories(0.243, 4.414, 0.793, 2.426, T=big_t, rng=seed)
    return h.frequency, h.recency, h.T


def test_closed_form_hessian_equals_differences_of_the_gradient() -> None:
    # Reference: central differences of the analytic gradient (relative step 1e-6), an
    # independent computation; both models (shift 0 and 1), weighted rows.
    from crmcore.models import _inputs as inp

    x, tx, big_t = _continuous_histories(3_000, 5)
    w = np.random.default_rng(6).uniform(0.5, 2.0, x.size)
    data = inp.prepare_fit_data(x, tx, big_t, w)
    theta = np.array([0.3, 4.0, 0.7, 2.2])
    for shift in (0, 1):
        gradient = bgnbd._objective(data, shift)
        numeric = np.empty((4, 4))
        for j in range(4):
            step = np.zeros(4)
            step[j] = 1e-6 * theta[j]
            numeric[:, j] = (gradient(theta + step)[1] - gradient(theta - step)[1]) / (2 * step[j])
        assert_allclose(bgnbd._hessian(data, shift)(theta), numeric, rtol=1e-6, atol=1e-3)


def test_fit_with_the_closed_form_hessian_matches_the_differences() -> None:
    # The fit as before the closed-form Hessian (central differences of the gradient,
    # maximize_likelihood without hessian=) on 50,000 continuous histories (a sample fit
    # gives the start): the same estimates within the optimiser's tolerance, the same
    # standard errors to 1e-6, a log-likelihood no lower.
    from crmcore.models import _mle

    x, tx, big_t = _continuous_histories(50_000, 8)
    new = bgnbd.fit(x, tx, big_t)
    original = _mle.maximize_likelihood

    def without_hessian(*args: object, **kwargs: object) -> _mle.MleResult:
        kwargs.pop("hessian", None)
        return original(*args, **kwargs)  # type: ignore[arg-type]

    _mle_module = bgnbd.maximize_likelihood
    try:
        bgnbd.maximize_likelihood = without_hessian  # type: ignore[assignment]
        old = bgnbd.fit(x, tx, big_t)
    finally:
        bgnbd.maximize_likelihood = _mle_module  # type: ignore[assignment]
    se = old.standard_errors.as_array()
    shift = np.abs(new.params.as_array() - old.params.as_array()) / se
    assert shift.max() < 1e-4
    assert new.log_likelihood - old.log_likelihood >= -1e-9
    assert_allclose(new.standard_errors.as_array(), se, rtol=1e-6)
