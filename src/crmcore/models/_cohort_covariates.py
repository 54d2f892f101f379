"""Cohort covariates of the shifted-beta-geometric (sBG) model.

Several cohorts are observed, each with a row ``z_g`` of covariates (a
segment, a channel, a price plan). Cohort g's churn probabilities are
Beta(α_g, β_g) with log links on both parameters:

``α_g = α exp(γ_α·z_g)``, ``β_g = β exp(γ_β·z_g)``.

Both parameters need their own coefficient: the mean churn probability of
a new customer, ``α_g / (α_g + β_g)``, moves with ``γ_α - γ_β`` (its logit is
``log(α/β) + (γ_α - γ_β)·z_g``), while the polarisation ``1/(1 + α_g + β_g)``
(how heterogeneous the cohort is, hence how fast its retention rate rises)
moves with both. Scaling α and β together (``γ_α = γ_β``) is the choice of
CLVTools for the beta distribution of BG/NBD's dropout probability; the
log-link on each parameter of a mixing distribution is that of Fader & Hardie
(2007) for the gamma mixing distributions of the Pareto/NBD. A cohort's
likelihood is the plain sBG likelihood at (α_g, β_g), so with all covariates 0
the model is the plain sBG model of the pooled cohorts.

References
----------
Fader, P. S., & Hardie, B. G. S. (2007). How to project customer retention.
Journal of Interactive Marketing, 21(1), 76-90.

Fader, P. S., & Hardie, B. G. S. (2007). Incorporating time-invariant
covariates into the Pareto/NBD and BG/NBD models.
http://brucehardie.com/notes/019/
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import attrs
import numpy as np

from crmcore import _validation as v
from crmcore._typing import ArrayLike, FloatArray, SeedLike
from crmcore.errors import ConvergenceError, InputError
from crmcore.models import _covariates as cov
from crmcore.models import _inputs as inp
from crmcore.models._covariates import Covariates
from crmcore.models._draws import ParameterDraws
from crmcore.models._mle import maximize_likelihood

__all__ = ["SbgCovariateFit", "fit_sbg"]

_NAME = "cohort_covariates"


def _names(value: Iterable[str]) -> tuple[str, ...]:
    return tuple(value)


def _n_rows(value: object) -> int:
    """Return the number of rows of a covariate input (validated afterwards)."""
    data: Any = value
    if isinstance(data, Mapping):
        data = next(iter(data.values()), [])
    try:
        shape = np.shape(data)
    except (TypeError, ValueError):
        return 1
    return int(shape[0]) if len(shape) >= 1 else 1


@attrs.frozen(kw_only=True, eq=False, field_transformer=v.copy_array_fields)
class SbgCovariateFit:
    """An sBG model fitted to several cohorts with covariates (``sbg.fit`` with them).

    Cohort g has churn probabilities Beta(α_g, β_g) with
    ``α_g = α exp(γ_α·z_g)`` and ``β_g = β exp(γ_β·z_g)``: the logit of the
    mean churn probability ``α_g/(α_g+β_g)`` of a new customer moves with
    ``(γ_α - γ_β)·z_g``, so a positive ``alpha_coefficients - beta_coefficients``
    means more churn (see the explanation page on covariates).

    Attributes
    ----------
    params : SbgParams
        Base parameters: those of a cohort whose covariates are all 0.
    standard_errors : SbgParams
        Their asymptotic standard errors (delta method from the log scale).
    alpha_coefficients, beta_coefficients : ndarray
        γ_α and γ_β, one per covariate.
    alpha_standard_errors, beta_standard_errors : ndarray
        Their asymptotic standard errors.
    covariate_names : tuple of str
        The covariates' names (the mapping's keys, or ``z0``, ``z1``, ...).
    covariance : ndarray
        Asymptotic covariance (inverse observed information) on the
        optimiser's scale: log alpha, log beta, then γ_α and γ_β as they are;
        ``covariance_names`` names the rows.
    log_likelihood : float
        Total log-likelihood of the cohorts at the estimates.
    n_customers : float
        Customers in all cohorts (the sum of the cohort sizes).
    converged : bool
        False when the fit came with a ConvergenceWarning.
    n_iterations : int
        Optimiser iterations.

    References
    ----------
    Fader, P. S., & Hardie, B. G. S. (2007). How to project customer
    retention. Journal of Interactive Marketing, 21(1), 76-90.

    Examples
    --------
    >>> from crmcore.models import sbg
    >>> alive = [[1000, 869, 743, 653, 593, 551, 517, 491],   # "high end"
    ...          [1000, 631, 468, 382, 326, 289, 262, 241]]   # "regular"
    >>> f = sbg.fit(alive, cohort_covariates={"regular": [0.0, 1.0]})
    >>> [round(p.alpha, 3) for p in f.cohort_params({"regular": [0.0, 1.0]})]
    [0.668, 0.704]
    >>> f.survival(8, {"regular": [0.0, 1.0]}).round(3).tolist()
    [0.46, 0.22]
    >>> f.survival(8)
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: cohort_covariates is missing: the fit has 1 cohort covariates ...
    """

    params: Any
    standard_errors: Any
    alpha_coefficients: FloatArray = attrs.field(converter=v.readonly_copy)
    alpha_standard_errors: FloatArray = attrs.field(converter=v.readonly_copy)
    beta_coefficients: FloatArray = attrs.field(converter=v.readonly_copy)
    beta_standard_errors: FloatArray = attrs.field(converter=v.readonly_copy)
    covariate_names: tuple[str, ...] = attrs.field(converter=_names)
    covariance: FloatArray = attrs.field(converter=v.readonly_copy)
    log_likelihood: float
    n_customers: float
    converged: bool
    n_iterations: int

    @property
    def covariance_names(self) -> tuple[str, ...]:
        """Names of the rows and columns of ``covariance``."""
        return (
            "log_alpha",
            "log_beta",
            *(f"alpha:{n}" for n in self.covariate_names),
            *(f"beta:{n}" for n in self.covariate_names),
        )

    def cohort_params(self, cohort_covariates: Covariates | None = None) -> tuple[Any, ...]:
        """Return the SbgParams (α_g, β_g) of cohorts with these covariates.

        Parameters
        ----------
        cohort_covariates : array-like or mapping
            One row per cohort, the columns of the fit (by name for a mapping).

        Returns
        -------
        tuple of SbgParams

        Raises
        ------
        InputError
            When ``cohort_covariates`` is missing, has the wrong shape, names
            other covariates, holds a value that is not finite, or moves a
            parameter by more than a factor e^50.
        """
        from crmcore.models import sbg

        n = _n_rows(cohort_covariates)
        mat = cov._matrix_for(cohort_covariates, _NAME, n, self.covariate_names)
        assert mat is not None  # a covariate fit always has covariates
        cov._check_effect(mat, self.alpha_coefficients, _NAME)
        cov._check_effect(mat, self.beta_coefficients, _NAME)
        la = np.log(self.params.alpha) + cov._dot_rows(mat, self.alpha_coefficients)
        lb = np.log(self.params.beta) + cov._dot_rows(mat, self.beta_coefficients)
        return tuple(
            sbg.SbgParams(alpha=float(a), beta=float(b))
            for a, b in zip(np.exp(la), np.exp(lb), strict=True)
        )

    def survival(self, t: ArrayLike, cohort_covariates: Covariates | None = None) -> Any:
        """Return the share of each cohort still active at the start of period t.

        Parameters
        ----------
        t : int or array-like of int
            Periods (>= 0).
        cohort_covariates : array-like or mapping
            One row per cohort (see :meth:`cohort_params`).

        Returns
        -------
        ndarray
            Shape (cohorts,) for a single t, (cohorts, len(t)) otherwise:
            :func:`crmcore.models.sbg.survival` at each cohort's parameters.

        Raises
        ------
        InputError
            As :meth:`cohort_params`, and on a negative or fractional ``t``.
        """
        from crmcore.models import sbg

        return _per_cohort(sbg.survival, self.cohort_params(cohort_covariates), t)

    def implied_retention_rate(
        self, t: ArrayLike, cohort_covariates: Covariates | None = None
    ) -> Any:
        """Return each cohort's retention rate from period t-1 to t (t >= 1).

        Parameters
        ----------
        t : int or array-like of int
            Periods (>= 1).
        cohort_covariates : array-like or mapping
            One row per cohort (see :meth:`cohort_params`).

        Returns
        -------
        ndarray
            As :meth:`survival`, from :func:`crmcore.models.sbg.implied_retention_rate`.

        Raises
        ------
        InputError
            As :meth:`cohort_params`, and on a ``t`` below 1 or fractional.
        """
        from crmcore.models import sbg

        return _per_cohort(sbg.implied_retention_rate, self.cohort_params(cohort_covariates), t)

    def expected_lifetime(self, cohort_covariates: Covariates | None = None) -> FloatArray:
        """Return each cohort's expected lifetime in periods (``inf`` where α_g <= 1).

        Parameters
        ----------
        cohort_covariates : array-like or mapping
            One row per cohort (see :meth:`cohort_params`).

        Returns
        -------
        ndarray
            :func:`crmcore.models.sbg.expected_lifetime` per cohort.

        Raises
        ------
        InputError
            As :meth:`cohort_params`.
        """
        from crmcore.models import sbg

        per = self.cohort_params(cohort_covariates)
        return v.readonly(np.array([sbg.expected_lifetime(p) for p in per], dtype=np.float64))

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
            ``covariance_names`` (``alpha:<name>``, then ``beta:<name>``).

        Raises
        ------
        InputError
            On ``n_draws`` out of range, a negative seed, or a covariance that
            is not finite, symmetric positive semi-definite.

        Examples
        --------
        >>> from crmcore.models import sbg
        >>> alive = [[1000, 869, 743, 653, 593, 551, 517, 491],
        ...          [1000, 631, 468, 382, 326, 289, 262, 241]]
        >>> f = sbg.fit(alive, cohort_covariates={"regular": [0.0, 1.0]})
        >>> f.sample_params(50, rng=0).names
        ('alpha', 'beta', 'alpha:regular', 'beta:regular')
        >>> f.sample_params(0, rng=0)
        Traceback (most recent call last):
        ...
        crmcore.errors.InputError: n_draws must be >= 1, got 0
        """
        from crmcore.models import _draws

        return _draws.sample_covariate_params(
            self.params,
            np.concatenate([self.alpha_coefficients, self.beta_coefficients]),
            self.covariance_names[2:],
            self.covariance,
            n_draws,
            rng,
        )

    def aic(self) -> float:
        """Return Akaike's criterion ``-2 log_likelihood + 2 k`` (k = 2 + 2 covariates)."""
        k = 2 + 2 * len(self.covariate_names)
        return float(2.0 * k - 2.0 * self.log_likelihood)

    def bic(self) -> float:
        """Return the Bayesian criterion ``-2 log_likelihood + k ln n_customers``."""
        k = 2 + 2 * len(self.covariate_names)
        return float(k * np.log(self.n_customers) - 2.0 * self.log_likelihood)


def _per_cohort(func: Any, params: tuple[Any, ...], t: ArrayLike) -> FloatArray:
    """Stack ``func(params_g, t)`` over cohorts (a few, so a loop)."""
    rows = [np.asarray(func(p, t), dtype=np.float64) for p in params]
    if not rows:  # no cohort: validate t all the same
        from crmcore.models import sbg

        shape = np.shape(np.asarray(func(sbg.SbgParams(alpha=1.0, beta=1.0), t)))
        return v.readonly(np.zeros((0, *shape)))
    return v.readonly(np.stack(rows))


def _cohort_matrix(value: object, n_cohorts: int) -> tuple[FloatArray, tuple[str, ...]]:
    """Return the validated (cohorts, k) covariate matrix of the fit and its names."""
    rows = _n_rows(value)
    if isinstance(value, Mapping):
        for key, col in value.items():
            if np.size(col) != n_cohorts:
                raise InputError(
                    f"{_NAME}[{key!r}] must have one value per cohort ({n_cohorts}, as the "
                    f"cohorts in alive); got {np.size(col)}"
                )
    elif rows != n_cohorts:
        raise InputError(
            f"{_NAME} must have one row per cohort ({n_cohorts}, as the cohorts in alive); "
            f"got {rows}"
        )
    mat, names = cov.covariate_matrix(value, _NAME, n_cohorts)
    flat = np.all(mat == mat[:1], axis=0)
    if flat.any():
        j = int(np.flatnonzero(flat)[0])
        raise InputError(
            f"{_NAME} column {names[j]!r} must vary across the cohorts; it is {mat[0, j]:g} for "
            f"all {n_cohorts}, so its coefficients cannot be told apart from alpha and beta "
            "(a single cohort has no covariate effect to estimate); leave it out"
        )
    return mat, names


class _Objective:
    """Total log-likelihood and gradient on u = (log α, log β, γ_α, γ_β)."""

    def __init__(self, cohorts: list[FloatArray], z: FloatArray) -> None:
        self.cohorts, self.z = cohorts, z
        self.k = z.shape[1]

    def __call__(self, u: FloatArray) -> tuple[float, FloatArray]:
        from crmcore.models import sbg

        k = self.k
        la = u[0] + cov._dot_rows(self.z, u[2 : 2 + k])
        lb = u[1] + cov._dot_rows(self.z, u[2 + k :])
        total = 0.0
        g_a = np.empty(la.size)  # d/d log α_g
        g_b = np.empty(la.size)
        for g, counts in enumerate(self.cohorts):
            theta = np.array([np.exp(la[g]), np.exp(lb[g])])
            value, grad = sbg._log_likelihood_and_gradient(theta, counts)
            total += value
            g_a[g], g_b[g] = grad * theta
        out = np.concatenate(
            [[g_a.sum(), g_b.sum()], cov._dot_cols(self.z, g_a), cov._dot_cols(self.z, g_b)]
        )
        return float(total), out


def fit_sbg(alive: object, *, initial: Any, cohort_covariates: object) -> SbgCovariateFit:
    """Fit the sBG model to several cohorts with covariates (see ``sbg.fit``)."""
    from crmcore.models import bdw, sbg

    cohorts = bdw._cohorts(alive)
    if len(cohorts) < 2:
        raise InputError(
            "alive must hold several cohorts (a sequence of survivor series, or a 2-D array "
            "with one cohort per row) when cohort_covariates is given; got one cohort"
        )
    mat, names = _cohort_matrix(cohort_covariates, len(cohorts))
    if initial is not None:
        inp.check_params(initial, sbg.SbgParams, "initial")
    if all(c.size < 3 for c in cohorts):
        raise InputError(
            "alive must cover at least two periods (three counts) in some cohort to fit the "
            "sBG model; every cohort has fewer"
        )
    if all(c[-1] == c[0] for c in cohorts):
        raise ConvergenceError(
            "sBG: nobody churned in any cohort, so the churn probabilities are not identified; "
            "observe more periods or larger cohorts"
        )
    if all(c[1] == 0 for c in cohorts):
        raise ConvergenceError(
            "sBG: every cohort churned completely in the first period, so nothing shows how "
            "churn probabilities vary across customers; the model does not apply to these data"
        )
    k = mat.shape[1]
    start = initial.as_array() if initial is not None else np.ones(2)
    labels = (
        "alpha",
        "beta",
        *(f"exp(gamma_alpha[{n}])" for n in names),
        *(f"exp(gamma_beta[{n}])" for n in names),
    )
    objective = _Objective(cohorts, np.ascontiguousarray(mat))

    def natural(theta: FloatArray) -> tuple[float, FloatArray]:
        value, g = objective(np.log(theta))
        return value, g / theta

    total = float(sum(float(c[0]) for c in cohorts))
    res = maximize_likelihood(
        natural,
        np.concatenate([start, np.ones(2 * k)]),
        names=labels,
        model="sBG",
        n_customers=total,
        hint=(
            "Try initial= closer to the expected values (e.g. the plain fit of the pooled "
            "cohorts), fewer covariates, or check that each row of alive holds the survivors "
            "of one cohort"
        ),
        limit_hint=(
            "a cohort may look like homogeneous geometric churn (its alpha and beta growing "
            "together), or the cohorts are too few for the covariates: give fewer covariates "
            "or more cohorts, and compare with the plain fit"
        ),
    )
    theta = res.estimates
    cov_u = res.covariance / np.outer(theta, theta)
    cov_u = 0.5 * (cov_u + cov_u.T)
    se_u = np.sqrt(np.maximum(np.diag(cov_u), 0.0))
    u = np.log(theta)
    return SbgCovariateFit(
        params=sbg.SbgParams(alpha=theta[0], beta=theta[1]),
        standard_errors=sbg.SbgParams(alpha=res.standard_errors[0], beta=res.standard_errors[1]),
        alpha_coefficients=v.readonly(u[2 : 2 + k].copy()),
        alpha_standard_errors=v.readonly(se_u[2 : 2 + k].copy()),
        beta_coefficients=v.readonly(u[2 + k :].copy()),
        beta_standard_errors=v.readonly(se_u[2 + k :].copy()),
        covariate_names=names,
        covariance=v.readonly(np.array(cov_u, dtype=np.float64)),
        log_likelihood=float(res.log_likelihood),
        n_customers=total,
        converged=bool(res.converged),
        n_iterations=int(res.n_iterations),
    )
