"""The BG/NBD and MBG/NBD models side by side, for their shared tests (not a test module).

The two models differ only by a possible dropout right after the first
purchase, the ``shift`` s (0 for BG/NBD, 1 for MBG/NBD). This module holds
what :mod:`tests.models.test_bgnbd_family` runs for both of them:

* ``_mp_*``: the papers' closed forms in mpmath, no log-space tricks and no
  transformation of the hypergeometric function (Fader, Hardie & Lee 2005
  eqs. 6, 8-10 and their 2008 note on P(alive) for BG/NBD; Batislam, Denizel
  & Filiztekin 2007 for MBG/NBD, i.e. the same formulas with s = 1);
* the tables those functions print at ``mp.dps = 50`` (checked by
  ``test_tables_agree_with_mpmath_functions``);
* :func:`simulate`, an independent numpy simulator of the story;
* :data:`MODELS`, one :class:`Model` per model.
"""

from __future__ import annotations

from typing import Any

import attrs
import mpmath as mp
import numpy as np
from hypothesis import strategies as st

from crmcore.models import bgnbd, mbgnbd
from crmcore.simulate import bgnbd_histories, mbgnbd_histories

# --------------------------------------------------------------------------- independent references
# mpmath versions of the paper's formulas, with shift s = 0 (BG/NBD) or 1 (MBG/NBD):
#   L = B(a,b+x+s)/B(a,b) Γ(r+x)α^r/(Γ(r)(α+T)^(r+x))
#       + 1{x+s>0} B(a+1,b+x+s-1)/B(a,b) Γ(r+x)α^r/(Γ(r)(α+t_x)^(r+x))      (FHL 2005 eq. 6)
#   P(alive) = 1 / (1 + 1{x+s>0} a/(b+x+s-1) ((α+T)/(α+t_x))^(r+x))         (FHL 2008 note)
#   E[Y(t)|..] = P(alive) (a+b+x+s-1)/(a-1)
#                [1 - ((α+T)/(α+T+t))^(r+x) 2F1(r+x, b+x+s; a+b+x+s-1; t/(α+T+t))]  (eq. 10)
#   E[X(t)] = lead (1 - (α/(α+t))^r 2F1(r, b+s; a+b+s-1; t/(α+t))),
#             lead = (a+b-1)/(a-1) (BG, eq. 9) or b/(a-1) (MBG)
#   P(X(t)=n) = B(a,b+n+s)/B(a,b) NB(n) + 1{n+s>0} B(a+1,b+n+s-1)/B(a,b)
#               [1 - Σ_{j<n} NB(j)],  NB(j) = Γ(r+j)/(Γ(r) j!) (α/(α+t))^r (t/(α+t))^j  (eq. 8)


def _mp_loglik(theta, x, tx, T, *, s=0):
    r, al, a, b, tx, T = map(mp.mpf, (*theta, tx, T))
    g = mp.gamma(r + x) * al**r / mp.gamma(r)
    first = mp.beta(a, b + x + s) / mp.beta(a, b) * g / (al + T) ** (r + x)
    second = 0
    if x + s > 0:
        second = mp.beta(a + 1, b + x + s - 1) / mp.beta(a, b) * g / (al + tx) ** (r + x)
    return mp.log(first + second)


def _mp_palive(theta, x, tx, T, *, s=0):
    r, al, a, b, tx, T = map(mp.mpf, (*theta, tx, T))
    if x + s == 0:
        return mp.mpf(1)
    return 1 / (1 + a / (b + x + s - 1) * ((al + T) / (al + tx)) ** (r + x))


def _mp_conditional(theta, history, t, *, s=0):
    x, tx, T = history
    r, al, a, b, tx, T, t = map(mp.mpf, (*theta, tx, T, t))
    z = t / (al + T + t)
    f = mp.hyp2f1(r + x, b + x + s, a + b + x + s - 1, z, maxprec=10000)
    h = (a + b + x + s - 1) / (a - 1) * (1 - ((al + T) / (al + T + t)) ** (r + x) * f)
    return h * _mp_palive(theta, x, tx, T, s=s)


def _mp_unconditional(theta, t, *, s=0):
    r, al, a, b, t = map(mp.mpf, (*theta, t))
    lead = (a + b - 1) / (a - 1) if s == 0 else b / (a - 1)
    f = mp.hyp2f1(r, b + s, a + b - 1 + s, t / (al + t), maxprec=10000)
    return lead * (1 - (al / (al + t)) ** r * f)


# --------------------------------------------------------------------------- BG/NBD tables (s = 0)
# Printed by the functions above at mp.dps = 50.
# (params (r, alpha, a, b), x, t_x, T, log-likelihood)
BG_LOGLIK_CASES = [
    ((0.25, 4.0, 0.8, 2.5), 0, 0.0, 40.0, -0.59947381819959264),
    ((0.25, 4.0, 0.8, 2.5), 200, 38.0, 40.0, 100.79569309270645),
    ((0.243, 4.414, 0.793, 2.426), 2, 30.43, 38.86, -9.4586063070662712),
    ((0.243, 4.414, 0.793, 2.426), 1, 1.71, 38.86, -4.4690932750325885),
    ((1.0, 1.0, 2.0, 3.0), 10000, 9999.0, 10000.0, -10020.622203859828),
    ((1e-4, 1e-4, 1e-4, 1e-4), 3, 2.0, 5.0, -14.039015168784372),
    ((1e4, 1e4, 1e4, 1e4), 5, 4.0, 10.0, -7.4633562568629781),
    ((1e4, 1e-4, 1e-4, 1e4), 50, 10.0, 10000.0, -114802.27065615376),
    ((0.5, 2.0, 3.0, 0.5), 7, 0.0, 20.0, -4.4408731480184077),
    ((0.5, 2.0, 3.0, 0.5), 0, 0.0, 0.0, 0.0),
    ((2.0, 0.5, 1.5, 4.0), 1, 0.001, 0.001, 1.3803003531318715),
    ((0.5, 2.0, 3.0, 0.5), 20, 15.5, 52.0, -28.514595084531485),
]
# (params, x, t_x, T, P(alive))
BG_PALIVE_CASES = [
    ((0.25, 4.0, 0.8, 2.5), 0, 0.0, 40.0, 1.0),
    ((0.25, 4.0, 0.8, 2.5), 200, 38.0, 40.0, 0.022167737073085942),
    ((0.243, 4.414, 0.793, 2.426), 2, 30.43, 38.86, 0.72657857008067291),
    ((0.243, 4.414, 0.793, 2.426), 1, 1.71, 38.86, 0.21210098537737908),
    ((1.0, 1.0, 2.0, 3.0), 10000, 9999.0, 10000.0, 0.99945672047975774),
    ((1e-4, 1e-4, 1e-4, 1e-4), 3, 2.0, 5.0, 0.99921939760390369),
    ((1e4, 1e4, 1e4, 1e4), 5, 4.0, 10.0, 0.0024765699994127484),
    ((1e4, 1e-4, 1e-4, 1e4), 50, 10.0, 10000.0, 0.0),  # 1.11e-30142 in mpmath
    ((0.5, 2.0, 3.0, 0.5), 7, 0.0, 20.0, 3.3523314288080029e-8),
    ((0.5, 2.0, 3.0, 0.5), 0, 0.0, 0.0, 1.0),
    ((2.0, 0.5, 1.5, 4.0), 1, 0.001, 0.001, 0.72727272727272727),
    ((0.5, 2.0, 3.0, 0.5), 20, 15.5, 52.0, 6.0411730745183441e-10),
]
# (params, x, t_x, T, t, E[Y(t) | x, t_x, T])
BG_CONDITIONAL_CASES = [
    ((0.243, 4.414, 0.793, 2.426), 2, 30.43, 38.86, 39.0, 1.2260281747671445),  # FHL 2005: 1.226
    ((0.243, 4.414, 0.793, 2.426), 0, 0.0, 38.86, 39.0, 0.19509805201126264),
    ((0.243, 4.414, 0.793, 2.426), 1, 1.71, 38.86, 1000.0, 1.8453484429933649),
    ((0.25, 4.0, 0.8, 2.5), 200, 38.0, 40.0, 52.0, 3.7574984884584741),
    ((0.5, 2.0, 3.0, 0.5), 20, 15.5, 52.0, 10.0, 1.8193607355406537e-9),
    ((2.0, 0.5, 1.5, 4.0), 1, 0.001, 0.001, 5.0, 4.7114566916095967),
    ((0.5, 2.0, 1.00001, 2.0), 3, 10.0, 30.0, 26.0, 0.2547159692008261),
    ((1.0, 1.0, 2.0, 3.0), 10000, 9999.0, 10000.0, 100.0, 98.956502659757914),
    ((0.3, 10.0, 0.2, 5.0), 0, 0.0, 1.0, 10000.0, 123.07544794809907),
    ((0.25, 4.0, 0.8, 2.5), 5, 30.0, 40.0, 1e-06, 8.0812944305549235e-8),
    ((5.0, 1e-4, 2.5, 0.01), 4, 3.0, 8.0, 52.0, 0.00063427625992573399),
    ((1e-4, 1.0, 50.0, 200.0), 0, 0.0, 5.0, 100.0, 0.00073632607156382833),
]
# (params, t, E[X(t)])
BG_UNCONDITIONAL_CASES = [
    ((0.243, 4.414, 0.793, 2.426), 39.0, 1.1967231933208169),
    ((0.243, 4.414, 0.793, 2.426), 78.0, 1.8605190579427686),
    ((0.243, 4.414, 0.793, 2.426), 1e-05, 5.5052087836828711e-7),
    ((0.5, 2.0, 3.0, 0.5), 52.0, 0.97048168213969313),
    ((0.5, 2.0, 1.00001, 2.0), 26.0, 2.296530397238104),
    ((2.0, 0.5, 1.5, 4.0), 1000.0, 8.6547405412644125),
    ((1e-4, 1e-4, 0.5, 0.7), 10.0, 0.078609128264040301),
    ((0.3, 10.0, 0.2, 5.0), 10000.0, 132.98986443451947),
]
# (params, n, t, P(X(t) = n))
BG_PMF_CASES = [
    ((0.243, 4.414, 0.793, 2.426), 0, 39.0, 0.5737863520960094),
    ((0.243, 4.414, 0.793, 2.426), 1, 39.0, 0.19939528083591145),
    ((0.243, 4.414, 0.793, 2.426), 7, 39.0, 0.0086954288041552611),
    ((0.243, 4.414, 0.793, 2.426), 30, 78.0, 0.00032246631883261201),
    ((0.5, 2.0, 3.0, 0.5), 3, 52.0, 0.017992704948131551),
    ((2.0, 0.5, 1.5, 4.0), 100, 100.0, 0.00012098853975764285),
    ((2.0, 0.5, 1.5, 4.0), 0, 0.0, 1.0),
    ((2.0, 0.5, 1.5, 4.0), 2, 0.0, 0.0),
]

# Reference: P(alive) * (1 - ((α+T)/(α+T+t))^(r+x)), the first purchase after T coming before any
# dropout chance; _mp_palive at mp.dps = 30 times the bracket in mpmath (no log1p/expm1):
#   mp.dps = 30; r, al = map(mp.mpf, theta[:2])
#   _mp_palive(theta, x, tx, T) * (1 - ((al + T) / (al + T + mp.mpf(t))) ** (r + x))
BG_PURCHASE_CASES = [
    ((0.243, 4.414, 0.793, 2.426), 2, 30.43, 38.86, 39.0, 0.55462713791700444),
    ((0.243, 4.414, 0.793, 2.426), 0, 0.0, 38.86, 39.0, 0.14455054078331845),
    ((0.5, 6.0, 0.9, 2.5), 7, 20.0, 25.0, 1e-6, 1.7330155648799249e-7),
    ((2.0, 0.5, 1.5, 4.0), 40, 30.0, 31.0, 5.0, 0.87906890322597204),
]


# --------------------------------------------------------------------------- MBG/NBD tables (s = 1)
# Printed by the functions above with s = 1 at mp.dps = 50.
# (params (r, alpha, a, b), x, t_x, T, log-likelihood)
MBG_LOGLIK_CASES = [
    ((0.25, 4.0, 0.8, 2.5), 0, 0.0, 40.0, -0.41792826204498037),
    ((0.25, 4.0, 0.8, 2.5), 200, 38.0, 40.0, 100.78690976099133),
    ((0.243, 4.414, 0.793, 2.426), 2, 30.43, 38.86, -9.6871826362499614),
    ((0.243, 4.414, 0.793, 2.426), 1, 1.71, 38.86, -4.9386320735746953),
    ((1.0, 1.0, 2.0, 3.0), 10000, 9999.0, 10000.0, -10020.622403834172),
    ((0.0001, 0.0001, 0.0001, 0.0001), 3, 2.0, 5.0, -14.039308726432597),
    ((10000.0, 10000.0, 10000.0, 10000.0), 5, 4.0, 10.0, -8.1563532385988577),
    ((10000.0, 0.0001, 0.0001, 10000.0), 50, 10.0, 10000.0, -114802.27075567115),
    ((0.5, 2.0, 3.0, 0.5), 7, 0.0, 20.0, -4.920446223122861),
    ((0.5, 2.0, 3.0, 0.5), 0, 0.0, 0.0, 0.0),
    ((2.0, 0.5, 1.5, 4.0), 1, 0.001, 0.001, 1.0618466220133368),
    ((0.5, 2.0, 3.0, 0.5), 20, 15.5, 52.0, -28.701181040080917),
]
# (params, x, t_x, T, P(alive))
MBG_PALIVE_CASES = [
    ((0.25, 4.0, 0.8, 2.5), 0, 0.0, 40.0, 0.63180322083695404),
    ((0.25, 4.0, 0.8, 2.5), 200, 38.0, 40.0, 0.022275300070991094),
    ((0.243, 4.414, 0.793, 2.426), 2, 30.43, 38.86, 0.77441924262364617),
    ((0.243, 4.414, 0.793, 2.426), 1, 1.71, 38.86, 0.27544736912296504),
    ((1.0, 1.0, 2.0, 3.0), 10000, 9999.0, 10000.0, 0.99945677476191281),
    ((0.0001, 0.0001, 0.0001, 0.0001), 3, 2.0, 5.0, 0.99947945428763622),
    ((10000.0, 10000.0, 10000.0, 10000.0), 5, 4.0, 10.0, 0.0024768169442337075),
    ((10000.0, 0.0001, 0.0001, 10000.0), 50, 10.0, 10000.0, 1.1111400263285286e-30142),
    ((0.5, 2.0, 3.0, 0.5), 7, 0.0, 20.0, 3.8680747055983597e-8),
    ((0.5, 2.0, 3.0, 0.5), 0, 0.0, 0.0, 0.14285714285714286),
    ((2.0, 0.5, 1.5, 4.0), 1, 0.001, 0.001, 0.76923076923076923),
    ((0.5, 2.0, 3.0, 0.5), 20, 15.5, 52.0, 6.3509768217327856e-10),
]
# (params, x, t_x, T, t, E[Y(t) | x, t_x, T])
MBG_CONDITIONAL_CASES = [
    ((0.243, 4.414, 0.793, 2.426), 2, 30.43, 38.86, 39.0, 1.3404974284912132),
    ((0.243, 4.414, 0.793, 2.426), 0, 0.0, 38.86, 39.0, 0.1274613825456613),
    ((0.243, 4.414, 0.793, 2.426), 1, 1.71, 38.86, 1000.0, 2.7033057751483779),
    ((0.25, 4.0, 0.8, 2.5), 200, 38.0, 40.0, 52.0, 3.7803432261495102),
    ((0.5, 2.0, 3.0, 0.5), 20, 15.5, 52.0, 10.0, 1.9294170327924117e-9),
    ((2.0, 0.5, 1.5, 4.0), 1, 0.001, 0.001, 5.0, 5.5753344344733964),
    ((0.5, 2.0, 1.00001, 2.0), 3, 10.0, 30.0, 26.0, 0.3190640337290083),
    ((1.0, 1.0, 2.0, 3.0), 10000, 9999.0, 10000.0, 100.0, 98.956605913672228),
    ((0.3, 10.0, 0.2, 5.0), 0, 0.0, 1.0, 10000.0, 122.56909155536363),
    ((0.25, 4.0, 0.8, 2.5), 5, 30.0, 40.0, 1e-06, 8.4446515301188329e-8),
    ((5.0, 0.0001, 2.5, 0.01), 4, 3.0, 8.0, 52.0, 0.00099086141173463002),
    ((0.0001, 1.0, 50.0, 200.0), 0, 0.0, 5.0, 100.0, 0.00059015429094101039),
]
# (params, t, E[X(t)])
MBG_UNCONDITIONAL_CASES = [
    ((0.243, 4.414, 0.793, 2.426), 39.0, 0.9911265335840404),
    ((0.243, 4.414, 0.793, 2.426), 78.0, 1.5804734554010733),
    ((0.243, 4.414, 0.793, 2.426), 1e-05, 4.1490020525779704e-7),
    ((0.5, 2.0, 3.0, 0.5), 52.0, 0.18179581715721132),
    ((0.5, 2.0, 1.00001, 2.0), 26.0, 1.799616516208725),
    ((2.0, 0.5, 1.5, 4.0), 1000.0, 7.654898419894408),
    ((0.0001, 0.0001, 0.5, 0.7), 10.0, 0.07762499229202914),
    ((0.3, 10.0, 0.2, 5.0), 10000.0, 132.61272582710031),
]
# (params, n, t, P(X(t) = n))
MBG_PMF_CASES = [
    ((0.243, 4.414, 0.793, 2.426), 0, 39.0, 0.67878399819351314),
    ((0.243, 4.414, 0.793, 2.426), 1, 39.0, 0.13703024082634011),
    ((0.243, 4.414, 0.793, 2.426), 7, 39.0, 0.0077039743385495114),
    ((0.243, 4.414, 0.793, 2.426), 30, 78.0, 0.00031221795451274722),
    ((0.5, 2.0, 3.0, 0.5), 3, 52.0, 0.0070991016207296588),
    ((2.0, 0.5, 1.5, 4.0), 100, 100.0, 0.00011823945384706929),
    ((2.0, 0.5, 1.5, 4.0), 0, 0.0, 1.0),
    ((2.0, 0.5, 1.5, 4.0), 2, 0.0, 0.0),
]

# Reference: P(alive) * (1 - ((α+T)/(α+T+t))^(r+x)) with the MBG/NBD P(alive) (dropout only right
# after a purchase, so the first purchase after T comes first), at mp.dps = 30:
#   _mp_palive(theta, x, tx, T, s=1) * (1 - ((al + T) / (al + T + mp.mpf(t))) ** (r + x))
MBG_PURCHASE_CASES = [
    ((0.243, 4.414, 0.793, 2.426), 2, 30.43, 38.86, 39.0, 0.59114587984134691),
    ((0.243, 4.414, 0.793, 2.426), 0, 0.0, 38.86, 39.0, 0.09211531461880041),
    ((0.5, 6.0, 0.9, 2.5), 7, 20.0, 25.0, 1e-6, 1.786359416398586e-7),
    ((2.0, 0.5, 1.5, 4.0), 40, 30.0, 31.0, 5.0, 0.88145526662557603),
]


# --------------------------------------------------------------------------- independent simulator


def simulate(theta, T, n, *, holdout=0.0, seed=0, shift=0):
    """Draw (x, t_x, T, alive, holdout purchases) from the (M)BG/NBD story with numpy.

    λ ~ Gamma(r, rate α), p ~ Beta(a, b); with ``shift`` = 1 the customer drops
    out at time 0 with probability p. After each purchase she drops out with
    probability p, so she makes J ~ Geometric(p) purchases at the points of a
    Poisson(λ) process. Given N(T) = m arrivals, the x-th is T·Beta(x, m-x+1).
    """
    r, alpha, a, b = theta
    rng = np.random.default_rng(seed)
    lam = rng.gamma(r, 1.0 / alpha, n)
    p = rng.beta(a, b, n)
    dead0 = rng.random(n) < p if shift else np.zeros(n, dtype=bool)
    j = rng.geometric(p)
    big_t = np.broadcast_to(np.asarray(T, dtype=float), (n,))
    m = rng.poisson(lam * big_t)
    x = np.where(dead0, 0, np.minimum(j, m))
    tx = np.where(x > 0, big_t * rng.beta(np.maximum(x, 1), np.maximum(m - x + 1, 1)), 0.0)
    alive = ~dead0 & (j > m)
    y = np.where(alive, np.minimum(j - m, rng.poisson(lam * holdout)), 0)
    return x, np.minimum(tx, big_t), big_t.copy(), alive, y


# --------------------------------------------------------------------------- strategies

positive = st.floats(-2.0, 2.0).map(lambda e: float(10.0**e))
thetas = st.tuples(positive, positive, positive, positive)


@st.composite
def histories(draw, n_max=6):
    n = draw(st.integers(1, n_max))
    T = np.array(draw(st.lists(st.floats(0.0, 200.0), min_size=n, max_size=n)))
    x = np.array(draw(st.lists(st.integers(0, 300), min_size=n, max_size=n)))
    share = np.array(draw(st.lists(st.floats(0.0, 1.0), min_size=n, max_size=n)))
    tx = np.where(x > 0, share * T, 0.0)
    return x, tx, T


# --------------------------------------------------------------------------- the two models


@attrs.frozen
class Model:
    """One member of the family, with its reference tables."""

    name: str  # as in the optimiser's messages
    module: Any
    params_cls: Any
    fit_cls: Any
    shift: int
    package_simulator: Any  # crmcore.simulate.(m)bgnbd_histories
    loglik_cases: list[Any]
    palive_cases: list[Any]
    conditional_cases: list[Any]
    unconditional_cases: list[Any]
    pmf_cases: list[Any]
    purchase_cases: list[Any]

    def params(self, theta: tuple[float, float, float, float]) -> Any:
        r, alpha, a, b = theta
        return self.params_cls(r=r, alpha=alpha, a=a, b=b)

    def simulate(self, theta, T, n, *, holdout=0.0, seed=0):  # type: ignore[no-untyped-def]
        return simulate(theta, T, n, holdout=holdout, seed=seed, shift=self.shift)


BG = Model(
    name="BG/NBD",
    module=bgnbd,
    params_cls=bgnbd.BgNbdParams,
    fit_cls=bgnbd.BgNbdFit,
    shift=0,
    package_simulator=bgnbd_histories,
    loglik_cases=BG_LOGLIK_CASES,
    palive_cases=BG_PALIVE_CASES,
    conditional_cases=BG_CONDITIONAL_CASES,
    unconditional_cases=BG_UNCONDITIONAL_CASES,
    pmf_cases=BG_PMF_CASES,
    purchase_cases=BG_PURCHASE_CASES,
)
MBG = Model(
    name="MBG/NBD",
    module=mbgnbd,
    params_cls=mbgnbd.MbgNbdParams,
    fit_cls=mbgnbd.MbgNbdFit,
    shift=1,
    package_simulator=mbgnbd_histories,
    loglik_cases=MBG_LOGLIK_CASES,
    palive_cases=MBG_PALIVE_CASES,
    conditional_cases=MBG_CONDITIONAL_CASES,
    unconditional_cases=MBG_UNCONDITIONAL_CASES,
    pmf_cases=MBG_PMF_CASES,
    purchase_cases=MBG_PURCHASE_CASES,
)
MODELS = (BG, MBG)
