"""Time-invariant covariates of the Gamma-Gamma spend model.

A customer's transaction values are Gamma(p, ν_i) and, across customers with
covariates ``z_i``, ``ν_i ~ Gamma(q, v_i)`` with ``v_i = v exp(γ·z_i)``.
Equivalently ``ν_i = ν exp(-γ·z_i)`` with ν drawn from the covariate-free
Gamma(q, v): the covariates scale the customer's latent rate, as the
purchase covariates of Fader & Hardie (2007) scale the rate parameter α of
the gamma mixing distribution of λ. The covariates therefore sit on the
*scale* of spend: a customer's expected mean spend is
``p v_i / (q - 1) = p v / (q - 1) · exp(γ·z_i)``, so a positive coefficient
means higher spend and one unit more of covariate j multiplies the expected
spend by ``exp(γ_j)``, while the shapes p (the spread of one customer's
transactions around her mean) and q (the spread of means across customers
with the same covariates) are shared, like r and s in the purchase models.
Log-linear covariates on the mean of a gamma-distributed spend are those of
a gamma regression with a log link; in the Gamma-Gamma model they act on
the one parameter that carries the currency unit (v), so that the model stays
closed under a change of unit.

With all covariates 0 the model is the plain one. The likelihood of customer
i is the plain model's at ``v_i``: given x transactions of mean m,

``f(m | x, z_i) = Γ(px+q) / (Γ(px) Γ(q)) · v_i^q m^(px-1) x^(px) / (v_i + x m)^(px+q)``.

References
----------
Fader, P. S., & Hardie, B. G. S. (2013). The Gamma-Gamma model of monetary
value. http://www.brucehardie.com/notes/025/

Fader, P. S., & Hardie, B. G. S. (2007). Incorporating time-invariant
covariates into the Pareto/NBD and BG/NBD models.
http://brucehardie.com/notes/019/

McCullagh, P., & Nelder, J. A. (1989). Generalized Linear Models (2nd ed.),
chapter 8 (gamma models with a log link). Chapman & Hall.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Mapping
from typing import Any

import attrs
import numpy as np
from scipy import special as sc

from crmcore import _validation as v
from crmcore._typing import ArrayLike, FloatArray, SeedLike
from crmcore.errors import ConvergenceError, InputError
from crmcore.models import _covariates as cov
from crmcore.models import _inputs as inp
from crmcore.models._covariates import Covariates
from crmcore.models._draws import ParameterDraws
from crmcore.models._mle import distinct_values, maximize_likelihood
from crmcore.summary import CustomerSummary

__all__ = ["GammaGammaCovariateFit", "fit_gamma_gamma"]

_NAME = "spend_covariates"
_SAMPLE_ROWS = 50_000  # size of the sample that gives the start, above twice as many rows


def _names(value: Iterable[str]) -> tuple[str, ...]:
    return tuple(value)


@attrs.frozen(kw_only=True, eq=False, field_transformer=v.copy_array_fields)
class GammaGammaCovariateFit:
    """A Gamma-Gamma spend model fitted with covariates (``gamma_gamma.fit`` with them).

    Customer i's latent rate is ``ν_i ~ Gamma(q, v exp(γ·z_i))``: the
    covariates act on v, the parameter that carries the currency unit, so
    that the expected spend per transaction is ``p v exp(γ·z_i) / (q - 1)``.
    A positive coefficient means higher spend; one unit more of covariate j
    multiplies the expected spend by ``exp(γ_j)``. The shapes p and q are
    shared by all customers (see the explanation page on covariates).

    Attributes
    ----------
    params : GammaGammaParams
        Base parameters: those of a customer whose covariates are all 0.
    standard_errors : GammaGammaParams
        Their asymptotic standard errors (delta method from the log scale).
    spend_coefficients : ndarray
        γ, one per covariate.
    spend_standard_errors : ndarray
        Their asymptotic standard errors.
    spend_names : tuple of str
        The covariates' names (the mapping's keys, or ``z0``, ``z1``, ...).
    covariance : ndarray
        Asymptotic covariance (inverse observed information) on the
        optimiser's scale: log p, log q, log v, then the coefficients as they
        are; ``covariance_names`` names the rows.
    log_likelihood : float
        Total log-likelihood at the estimates, weights applied.
    n_customers : float
        Repeat customers the fit used (the sum of their weights).
    converged : bool
        False when the fit came with a ConvergenceWarning.
    n_iterations : int
        Optimiser iterations.

    References
    ----------
    Fader, P. S., & Hardie, B. G. S. (2013). The Gamma-Gamma model of
    monetary value. http://www.brucehardie.com/notes/025/

    Fader, P. S., & Hardie, B. G. S. (2007). Incorporating time-invariant
    covariates into the Pareto/NBD and BG/NBD models.
    http://brucehardie.com/notes/019/

    Examples
    --------
    >>> import numpy as np
    >>> from crmcore.models import gamma_gamma
    >>> from crmcore.simulate import gamma_gamma_spend
    >>> gen = np.random.default_rng(0)
    >>> x = gen.integers(1, 6, size=5000)
    >>> z = gen.normal(size=5000)
    >>> s = gamma_gamma_spend(6.0, 4.0, 15.0, frequency=x, rng=1,
    ...                       spend_covariates=z, spend_coefficients=[0.4])
    >>> f = gamma_gamma.fit(s.frequency, s.monetary_value, spend_covariates={"z": z})
    >>> f.spend_names, bool(abs(f.spend_coefficients[0] - 0.4) < 0.05)
    (('z',), True)
    >>> f.conditional_expected_spend([2], [30.0])
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: spend_covariates is missing: the fit has 1 spend covariates (z); ...
    """

    params: Any
    standard_errors: Any
    spend_coefficients: FloatArray = attrs.field(converter=v.readonly_copy)
    spend_standard_errors: FloatArray = attrs.field(converter=v.readonly_copy)
    spend_names: tuple[str, ...] = attrs.field(converter=_names)
    covariance: FloatArray = attrs.field(converter=v.readonly_copy)
    log_likelihood: float
    n_customers: float
    converged: bool
    n_iterations: int

    @property
    def covariance_names(self) -> tuple[str, ...]:
        """Names of the rows and columns of ``covariance``."""
        return ("log_p", "log_q", "log_v", *(f"spend:{n}" for n in self.spend_names))

    def _log_v(self, covariates: object, n: int) -> FloatArray:
        """Return log v_i of n customers from their covariates (validated against the fit)."""
        mat = cov._matrix_for(covariates, _NAME, n, self.spend_names)
        assert mat is not None  # a covariate fit always has covariates
        cov._check_effect(mat, self.spend_coefficients, _NAME)
        eta = cov._dot_rows(mat, self.spend_coefficients)
        return np.asarray(eta + np.log(float(self.params.v)), dtype=np.float64)

    def conditional_expected_spend(
        self,
        frequency: ArrayLike | CustomerSummary,
        monetary_value: ArrayLike | None = None,
        *,
        spend_covariates: Covariates | None = None,
    ) -> Any:
        """Return each customer's expected spend per transaction given her history.

        Parameters
        ----------
        frequency, monetary_value : array-like, or a CustomerSummary as ``frequency``
            As in :func:`crmcore.models.gamma_gamma.conditional_expected_spend`;
            customers with frequency 0 get :meth:`expected_spend`.
        spend_covariates : array-like or mapping
            One row per customer (per summary row), the columns of the fit (by
            name for a mapping).

        Returns
        -------
        float or ndarray
            ``p (v_i + x m) / (p x + q - 1)``; ``inf`` where p x + q <= 1.

        Raises
        ------
        InputError
            On invalid spend data, and when ``spend_covariates`` is missing,
            has the wrong shape, names other covariates, holds a value that is
            not finite, or moves v by more than a factor e^50.
        InputTypeError
            As :func:`crmcore.models.gamma_gamma.conditional_expected_spend`.
        """
        from crmcore.models import gamma_gamma as gg

        x, m, single = gg._spend_arrays(frequency, monetary_value)
        lv = self._log_v(spend_covariates, x.size)
        return inp.finish(_conditional_spend(self.params, lv, x, m), single)

    def expected_spend(self, spend_covariates: Covariates) -> FloatArray:
        """Return the mean spend per transaction of customers with these covariates.

        Parameters
        ----------
        spend_covariates : array-like or mapping
            One row per customer, the columns of the fit.

        Returns
        -------
        ndarray
            ``p v exp(γ·z_i) / (q - 1)`` per row; ``inf`` when q <= 1.

        Raises
        ------
        InputError
            As :meth:`conditional_expected_spend`.
        """
        lv = self._log_v(spend_covariates, _n_rows(spend_covariates))
        p, q = self.params.p, self.params.q
        if q <= 1.0:
            return v.readonly(np.full(lv.size, np.inf))
        with np.errstate(over="ignore"):
            return v.readonly(np.exp(np.log(p) + lv - np.log(q - 1.0)))

    def log_likelihood_per_customer(
        self,
        frequency: ArrayLike | CustomerSummary,
        monetary_value: ArrayLike | None = None,
        *,
        spend_covariates: Covariates | None = None,
    ) -> Any:
        """Return the log-density of each customer's mean spend at her own v_i.

        Parameters
        ----------
        frequency, monetary_value, spend_covariates
            As in :meth:`conditional_expected_spend`.

        Returns
        -------
        float or ndarray
            One value per row; 0 for rows with frequency 0.

        Raises
        ------
        InputError
            As :meth:`conditional_expected_spend`.
        InputTypeError
            As :meth:`conditional_expected_spend`.
        """
        from crmcore.models import gamma_gamma as gg

        x, m, single = gg._spend_arrays(frequency, monetary_value)
        lv = self._log_v(spend_covariates, x.size)
        out = np.zeros(x.size)
        rep = x > 0
        if rep.any():
            p, q = self.params.p, self.params.q
            out[rep] = _loglik_terms(p, q, lv[rep], x[rep], m[rep])
        return inp.finish(out, single)

    def sample_params(self, n_draws: int, *, rng: SeedLike) -> ParameterDraws:
        """Draw parameter sets from the asymptotic normal of the estimates.

        On the optimiser's scale, as ``covariance``: ``u ~ N(u_hat,
        covariance)`` with u the logs of the base parameters and the
        coefficients as they are; the draws are ``exp`` of the first block and
        the coefficients unchanged (as the plain fits' ``sample_params``).

        Parameters
        ----------
        n_draws : int
            Number of parameter sets (1 to 1,000,000).
        rng : int or numpy.random.Generator
            Seed or generator; the same seed gives the same draws.

        Returns
        -------
        ParameterDraws
            Columns: the base parameters, then the coefficients named as in
            ``covariance_names`` (``spend:<name>``).

        Raises
        ------
        InputError
            On ``n_draws`` out of range, a negative seed, or a covariance that
            is not finite, symmetric positive semi-definite.

        Examples
        --------
        >>> import numpy as np
        >>> from crmcore.models import gamma_gamma
        >>> from crmcore.simulate import gamma_gamma_spend
        >>> gen = np.random.default_rng(0)
        >>> x = gen.integers(1, 6, size=2000)
        >>> z = gen.normal(size=2000)
        >>> s = gamma_gamma_spend(6.0, 4.0, 15.0, frequency=x, rng=1,
        ...                       spend_covariates=z, spend_coefficients=[0.4])
        >>> f = gamma_gamma.fit(s.frequency, s.monetary_value, spend_covariates={"z": z})
        >>> f.sample_params(50, rng=0).names
        ('p', 'q', 'v', 'spend:z')
        >>> f.sample_params(0, rng=0)
        Traceback (most recent call last):
        ...
        crmcore.errors.InputError: n_draws must be >= 1, got 0
        """
        from crmcore.models import _draws

        return _draws.sample_covariate_params(
            self.params,
            self.spend_coefficients,
            self.covariance_names[3:],
            self.covariance,
            n_draws,
            rng,
        )

    def aic(self) -> float:
        """Return Akaike's criterion ``-2 log_likelihood + 2 k`` (k = 3 + coefficients)."""
        k = 3 + self.spend_coefficients.size
        return float(2.0 * k - 2.0 * self.log_likelihood)

    def bic(self) -> float:
        """Return the Bayesian criterion ``-2 log_likelihood + k ln n_customers``."""
        k = 3 + self.spend_coefficients.size
        return float(k * np.log(self.n_customers) - 2.0 * self.log_likelihood)


def _n_rows(value: object) -> int:
    """Return the number of rows of a covariate input (validated afterwards)."""
    data: Any = value
    if isinstance(data, Mapping):
        data = next(iter(data.values()), [])
    with contextlib.suppress(Exception):
        shape = np.shape(data)
        if len(shape) >= 1:
            return int(shape[0])
    return 1


def _loglik_terms(p: float, q: float, lv: FloatArray, x: FloatArray, m: FloatArray) -> FloatArray:
    """Per-customer log-density of the mean spend m of x > 0 transactions at log v_i = lv."""
    px = p * x
    log_m = np.log(m)
    log_xm = np.log(x) + log_m
    big_l = np.logaddexp(lv, log_xm)  # log(v_i + x m)
    out = (
        sc.gammaln(px + q)
        - sc.gammaln(px)
        - sc.gammaln(q)
        + q * lv
        + (px - 1.0) * log_m
        + px * np.log(x)
        - (px + q) * big_l
    )
    return np.asarray(out, dtype=np.float64)


def _conditional_spend(params: Any, lv: FloatArray, x: FloatArray, m: FloatArray) -> FloatArray:
    """``p (v_i + x m) / (p x + q - 1)`` in logs; ``inf`` where p x + q <= 1."""
    p, q = params.p, params.q
    denom = p * x + q - 1.0
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        log_xm = np.where(x > 0, np.log(np.where(x > 0, x * m, 1.0)), -np.inf)
        log_num = np.log(p) + np.logaddexp(lv, log_xm)
        ratio = np.exp(log_num - np.log(np.where(denom > 0, denom, 1.0)))
        out = np.where(denom > 0, ratio, np.inf)
    return np.asarray(out, dtype=np.float64)


class _Objective:
    """Total log-likelihood and gradient on u = (log p, log q, log v, γ)."""

    def __init__(self, x: FloatArray, m: FloatArray, w: FloatArray, z: FloatArray) -> None:
        self.w, self.z = w, z
        self.xu, self.idx = distinct_values(x)
        self.w_x = np.bincount(self.idx, weights=w, minlength=self.xu.size)
        self.xw_x = self.w_x * self.xu
        self.sum_w = float(w.sum())
        self.wx = w * x
        log_m = np.log(m)
        self.log_xm = np.log(x) + log_m
        # sum w x log m + sum w x log x, and sum w log m (terms free of the parameters)
        self.c_p = float(np.einsum("i,i->", self.wx, log_m)) + float(self.xw_x @ np.log(self.xu))
        self.c_m = float(np.einsum("i,i->", w, log_m))
        self.ext = np.ascontiguousarray(np.column_stack([np.ones(x.size), z]))

    def hessian(self, u: FloatArray) -> FloatArray:
        """Return the Hessian of the total log-likelihood in u (analytic).

        Per customer, with A = p x + q and s = v_i / (v_i + x m): the second
        derivatives in (p, q, log v_i) are ``x²(ψ'(A) - ψ'(p x))``,
        ``x ψ'(A)``, ``ψ'(A) - ψ'(q)``, ``-x s``, ``1 - s`` and
        ``-A s (1 - s)``; log v_i is linear in (log v, γ) with the row
        (1, z_i), and the log scale of p and q adds the first derivatives on
        the diagonal.
        """
        p, q = float(np.exp(u[0])), float(np.exp(u[1]))
        _, grad = self(u)
        lv = u[2] + cov._dot_rows(self.z, u[3:])
        share = sc.expit(lv - self.log_xm)
        pxu = p * self.xu
        t_a = sc.polygamma(1, pxu + q)
        t_px = sc.polygamma(1, pxu)
        k = self.z.shape[1]
        hess = np.empty((3 + k, 3 + k))
        hess[0, 0] = p * p * float(self.w_x @ (self.xu**2 * (t_a - t_px))) + grad[0]
        hess[0, 1] = hess[1, 0] = p * q * float(self.xw_x @ t_a)
        hess[1, 1] = (
            q * q * (float(self.w_x @ t_a) - self.sum_w * float(sc.polygamma(1, q))) + grad[1]
        )
        a_i = p * self.xu[self.idx] + q
        ext = self.ext
        h_p = -p * self.wx * share  # w p d²/dp dlog v_i
        h_q = q * self.w * (1.0 - share)
        h_v = -self.w * a_i * share * (1.0 - share)
        hess[0, 2:] = hess[2:, 0] = _dot_cols(ext, h_p)
        hess[1, 2:] = hess[2:, 1] = _dot_cols(ext, h_q)
        hess[2:, 2:] = np.einsum("ij,i,ik->jk", ext, h_v, ext)
        return hess

    def __call__(self, u: FloatArray) -> tuple[float, FloatArray]:
        p, q = float(np.exp(u[0])), float(np.exp(u[1]))
        lv = u[2] + cov._dot_rows(self.z, u[3:])
        big_l = np.logaddexp(lv, self.log_xm)  # log(v_i + x m)
        pxu = p * self.xu
        s_wl = float(np.einsum("i,i->", self.w, big_l))
        s_wxl = float(np.einsum("i,i->", self.wx, big_l))
        s_wlv = float(np.einsum("i,i->", self.w, lv))
        total = (
            float(self.w_x @ (sc.gammaln(pxu + q) - sc.gammaln(pxu)))
            - self.sum_w * float(sc.gammaln(q))
            + q * s_wlv
            + p * self.c_p
            - self.c_m
            - p * s_wxl
            - q * s_wl
        )
        psi = sc.digamma(pxu + q)
        d_p = float(self.xw_x @ (psi - sc.digamma(pxu))) + self.c_p - s_wxl
        d_q = float(self.w_x @ psi) - self.sum_w * float(sc.digamma(q)) + s_wlv - s_wl
        # d/d log v_i = q - (p x + q) v_i / (v_i + x m)
        share = sc.expit(lv - self.log_xm)
        s_i = self.w * (q - (p * self.xu[self.idx] + q) * share)
        grad = np.empty(u.size)
        grad[0] = p * d_p
        grad[1] = q * d_q
        grad[2] = float(s_i.sum())
        grad[3:] = cov._dot_cols(self.z, s_i)
        return float(total), grad


def _dot_cols(mat: FloatArray, vec: FloatArray) -> FloatArray:
    return cov._dot_cols(mat, vec)


def _newton(objective: _Objective, u: FloatArray, total_w: float) -> tuple[Any, ...] | None:
    """Newton steps with the analytic Hessian from near the optimum; None when they stall."""
    value, g = objective(u)
    steps = 0
    while float(np.max(np.abs(g))) / total_w > 1e-9:
        steps += 1
        if steps >= 30:
            return None
        hess = objective.hessian(u)
        try:
            np.linalg.cholesky(-hess)
            direction = np.linalg.solve(-hess, g)
        except np.linalg.LinAlgError:
            return None
        lam = 1.0
        for _ in range(30):
            trial = u + lam * direction
            t_value, t_grad = objective(trial)
            if np.isfinite(t_value) and t_value >= value - 1e-12 * (1.0 + abs(value)):
                break
            lam *= 0.5
        else:
            return None
        u, value, g = trial, t_value, t_grad
    return u, value, g, objective.hessian(u), steps


def _search(
    x: FloatArray,
    m: FloatArray,
    w: FloatArray,
    z: FloatArray,
    theta0: FloatArray,
    *,
    labels: tuple[str, ...],
) -> Any:
    """Run the shared driver on theta = (p, q, v, exp(γ)) (its log scale is u)."""
    from crmcore.models import gamma_gamma as gg

    objective = _Objective(x, m, w, z)

    def natural(theta: FloatArray) -> tuple[float, FloatArray]:
        value, g = objective(np.log(theta))
        return value, g / theta

    return maximize_likelihood(
        natural,
        theta0,
        names=labels,
        model="Gamma-Gamma",
        n_customers=float(w.sum()),
        hint=gg._HINT,
        limit_hint=gg._LIMIT_HINT,
    )


def fit_gamma_gamma(
    frequency: ArrayLike | CustomerSummary,
    monetary_value: ArrayLike | None,
    *,
    weights: ArrayLike | None,
    initial: Any,
    spend_covariates: object,
) -> GammaGammaCovariateFit:
    """Fit Gamma-Gamma with covariates on v (see ``gamma_gamma.fit``)."""
    from crmcore.models import gamma_gamma as gg

    x, m, _ = gg._spend_arrays(frequency, monetary_value)
    n = x.size
    mat, names = cov.covariate_matrix(spend_covariates, _NAME, n)
    if weights is None:
        w = np.ones(n)
    else:
        w = v.as_float_array(weights, "weights", allow_empty=True, nonnegative=True)
        v.check_same_length(("frequency", x), ("weights", w))
    keep = (x > 0) & (w > 0)
    if not keep.any():
        raise InputError(
            "frequency must include at least one repeat customer (frequency > 0, positive "
            "weight); the Gamma-Gamma model is fitted on repeat customers only"
        )
    x, m, w, z = x[keep], m[keep], w[keep], np.ascontiguousarray(mat[keep])
    cov._check_varies(z, names, _NAME)
    if initial is not None:
        inp.check_params(initial, gg.GammaGammaParams, "initial")
        start = initial.as_array()
    else:
        start = np.array([1.0, 2.0, float(np.average(m, weights=w))])
        with cov._quiet(), contextlib.suppress(ConvergenceError):
            start = gg.fit(x, m, weights=w).params.as_array()
    labels = ("p", "q", "v", *(f"exp(gamma_spend[{nm}])" for nm in names))
    theta0 = np.concatenate([start, np.ones(z.shape[1])])
    total_w = float(w.sum())
    if x.size > 2 * _SAMPLE_ROWS:
        # a systematic sample gives a start close to the optimum, so that the search on
        # all customers takes a few iterations instead of dozens
        step = x.size // _SAMPLE_ROWS
        ws = w[::step] * (total_w / float(w[::step].sum()))
        with cov._quiet(), contextlib.suppress(ConvergenceError):
            theta0 = _search(x[::step], m[::step], ws, z[::step], theta0, labels=labels).estimates
        # from there, Newton steps with the analytic Hessian on all rows (a few passes)
        done = _newton(_Objective(x, m, w, z), np.log(theta0), total_w)
        if done is not None:
            u, value, g, hess, steps = done
            res = cov._result(
                u,
                value,
                g,
                hess,
                names=labels,
                model="Gamma-Gamma",
                steps=steps,
                n_evaluations=steps,
            )
        else:
            res = _search(x, m, w, z, theta0, labels=labels)
    else:
        res = _search(x, m, w, z, theta0, labels=labels)
    theta = res.estimates
    cov_u = res.covariance / np.outer(theta, theta)
    cov_u = 0.5 * (cov_u + cov_u.T)
    se_u = np.sqrt(np.maximum(np.diag(cov_u), 0.0))
    u = np.log(theta)
    return GammaGammaCovariateFit(
        params=gg.GammaGammaParams(p=theta[0], q=theta[1], v=theta[2]),
        standard_errors=gg.GammaGammaParams(
            p=res.standard_errors[0], q=res.standard_errors[1], v=res.standard_errors[2]
        ),
        spend_coefficients=v.readonly(u[3:].copy()),
        spend_standard_errors=v.readonly(se_u[3:].copy()),
        spend_names=names,
        covariance=v.readonly(np.array(cov_u, dtype=np.float64)),
        log_likelihood=float(res.log_likelihood),
        n_customers=total_w,
        converged=bool(res.converged),
        n_iterations=int(res.n_iterations),
    )
