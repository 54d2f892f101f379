"""Draws of parameter sets from the asymptotic normal of a fit (private).

Every fit result's ``sample_params(n_draws, rng=...)`` comes here. The
maximum-likelihood driver (:mod:`crmcore.models._mle`) searches in
``u = log(theta)`` and stores ``covariance`` on the natural scale, obtained from
the log-scale covariance by the delta method at the optimum:
``cov(theta) = D cov(u) D`` with ``D = diag(theta)``. The map is exact at the
estimate (a congruence), so the log-scale covariance is recovered as
``cov(u) = D^-1 cov(theta) D^-1``. The draws are ``theta = exp(u)`` with
``u ~ N(log theta_hat, cov(u))``: positive, and as normal as the likelihood is
on the scale the optimiser used (Wald approximation on the log scale).
"""

from __future__ import annotations

from typing import Any

import attrs
import numpy as np

from crmcore import _validation as v
from crmcore._typing import BoolArray, FloatArray, SeedLike
from crmcore.errors import InputError

__all__ = ["MAX_DRAWS", "ParameterDraws", "sample_covariate_params", "sample_params"]

#: Most parameter sets one call of ``sample_params`` draws.
MAX_DRAWS = 1_000_000


@attrs.frozen(kw_only=True, eq=False)
class ParameterDraws:
    """Parameter sets drawn from the asymptotic normal of a fit's estimates.

    Built by the ``sample_params`` method of every fit result (e.g.
    :meth:`crmcore.models.bgnbd.BgNbdFit.sample_params`).

    Attributes
    ----------
    names : tuple of str
        Parameter names, in the order of the columns of ``values``; for a
        covariate fit the base parameters, then the coefficients as named by
        the fit's ``covariance_names`` (e.g. ``purchase:age``).
    values : ndarray, shape (n_draws, n_params)
        One parameter set per row, natural scale (base parameters positive,
        coefficients as they are).
    estimates : ndarray, shape (n_params,)
        The fit's estimates, in the columns' scale (the draws are centred on
        their logs, and on the coefficients themselves).
    log_covariance : ndarray, shape (n_params, n_params)
        Covariance of the log-parameters the draws come from (of the
        parameters themselves for any drawn on the natural scale, such as a
        covariate fit's coefficients: the fit's ``covariance`` as it is).
    params_type : type
        The model's parameter class; :meth:`params` builds one from a row.

    Examples
    --------
    >>> from crmcore.models import bgnbd
    >>> f = bgnbd.fit([0, 1, 1, 2, 2, 3, 5, 7], [0, 2, 30, 10, 35, 20, 36, 38], [39] * 8,
    ...               weights=[600, 80, 60, 40, 50, 30, 25, 15])
    >>> d = f.sample_params(1000, rng=1)
    >>> d.n_draws, d.names
    (1000, ('r', 'alpha', 'a', 'b'))
    >>> sorted(d.columns())
    ['a', 'alpha', 'b', 'r']
    >>> type(d.params(0)).__name__
    'BgNbdParams'
    """

    names: tuple[str, ...]
    values: FloatArray
    estimates: FloatArray
    log_covariance: FloatArray
    params_type: type

    @property
    def n_draws(self) -> int:
        """Number of parameter sets."""
        return int(self.values.shape[0])

    def columns(self) -> dict[str, np.ndarray[Any, Any]]:
        """Return one read-only array of draws per parameter, by name.

        Returns
        -------
        dict of str to ndarray
            ``{name: values[:, j]}`` in the order of ``names``.

        Examples
        --------
        >>> from crmcore.models import gamma_gamma
        >>> f = gamma_gamma.fit([1, 2, 2, 3, 5, 8], [12.0, 30.0, 25.0, 18.5, 40.0, 22.0],
        ...                     weights=[40, 25, 20, 12, 8, 5])
        >>> list(f.sample_params(5, rng=0).columns())
        ['p', 'q', 'v']
        """
        return {n: v.readonly(self.values[:, j].copy()) for j, n in enumerate(self.names)}

    def params(self, index: int) -> Any:
        """Return draw number ``index`` as the model's parameter class.

        For a covariate fit these are the draw's base parameters (those of a
        customer whose covariates are all 0); the coefficients are in
        :meth:`columns`.

        Raises
        ------
        InputError
            When ``index`` is not in ``[0, n_draws)``.

        Examples
        --------
        >>> from crmcore.models import gamma_gamma
        >>> f = gamma_gamma.fit([1, 2, 2, 3, 5, 8], [12.0, 30.0, 25.0, 18.5, 40.0, 22.0],
        ...                     weights=[40, 25, 20, 12, 8, 5])
        >>> f.sample_params(5, rng=0).params(7)
        Traceback (most recent call last):
        ...
        crmcore.errors.InputError: index must be <= 4, got 7
        """
        i = v.check_int(index, "index", low=0, high=self.n_draws - 1)
        row = self.values[i]
        fields = [a.name for a in attrs.fields(self.params_type)]
        return self.params_type(**{n: float(row[self.names.index(n)]) for n in fields})


def log_covariance(
    params: Any, covariance: FloatArray, log_scale: BoolArray | None = None
) -> tuple[FloatArray, FloatArray]:
    """Return (log estimates, covariance of the log-parameters) of a fit.

    ``log_scale`` (default: all True) marks the parameters searched on the log
    scale; the others (e.g. covariate coefficients) stay as they are.
    Raises InputError when the covariance is not a finite symmetric matrix of
    the parameters' size.
    """
    theta = np.asarray(params.as_array(), dtype=np.float64)
    logs = np.ones(theta.size, dtype=np.bool_) if log_scale is None else np.asarray(log_scale)
    cov = np.asarray(covariance, dtype=np.float64)
    k = theta.size
    if cov.shape != (k, k):
        raise InputError(
            f"covariance must be a ({k}, {k}) matrix for the parameters "
            f"{', '.join(a.name for a in attrs.fields(type(params)))}, got shape {cov.shape}"
        )
    if not np.all(np.isfinite(cov)):
        raise InputError(
            "covariance must be finite; " + v.describe_violations(~np.isfinite(cov.ravel()))
        )
    scale = np.where(logs, theta, 1.0)
    cov_u = cov / np.outer(scale, scale)
    centre = np.where(logs, np.log(np.where(logs, theta, 1.0)), theta)
    return centre, 0.5 * (cov_u + cov_u.T)


def matrix_root(cov: FloatArray) -> FloatArray:
    """Symmetric square root of a covariance (clipped at 0); InputError when not PSD."""
    eig, vec = np.linalg.eigh(cov)
    scale = max(float(np.max(np.abs(eig))), 1e-300)
    if eig[0] < -1e-8 * scale:
        raise InputError(
            "covariance must be positive semi-definite (a fit's inverse information); "
            f"its smallest eigenvalue on the log scale is {eig[0]:.3g}"
        )
    return np.asarray((vec * np.sqrt(np.maximum(eig, 0.0))) @ vec.T, dtype=np.float64)


def sample_params(
    params: Any,
    covariance: FloatArray,
    n_draws: int,
    rng: SeedLike,
    *,
    log_scale: BoolArray | None = None,
) -> ParameterDraws:
    """Draw ``n_draws`` parameter sets from N(log theta_hat, cov(log theta)).

    The shared implementation of every fit's ``sample_params``. ``log_scale``
    (default all True) marks the parameters drawn on the log scale; a fit with
    unconstrained parameters (covariate coefficients) passes False for them,
    and they are drawn from the natural-scale normal as they are.
    """
    n = v.check_int(n_draws, "n_draws", low=1, high=MAX_DRAWS)
    mean, cov_u = log_covariance(params, covariance, log_scale)
    logs = np.ones(mean.size, dtype=np.bool_) if log_scale is None else np.asarray(log_scale)
    names = tuple(a.name for a in attrs.fields(type(params)))
    return _draw(mean, cov_u, logs, names, type(params), n, rng)


def sample_covariate_params(  # noqa: PLR0917 - private, the fits pass their fields
    params: Any,
    coefficients: FloatArray,
    coefficient_names: tuple[str, ...],
    covariance: FloatArray,
    n_draws: int,
    rng: SeedLike,
) -> ParameterDraws:
    """Draw ``n_draws`` parameter sets of a covariate fit from N(u_hat, covariance).

    A covariate fit's covariance is already on the optimiser's scale ``u``:
    the logs of the base parameters, then the coefficients as they are. The
    draws are ``exp`` of the first block and the coefficients unchanged.
    """
    n = v.check_int(n_draws, "n_draws", low=1, high=MAX_DRAWS)
    base = np.asarray(params.as_array(), dtype=np.float64)
    coef = np.asarray(coefficients, dtype=np.float64).reshape(-1)
    mean = np.concatenate([np.log(base), coef])
    logs = np.arange(mean.size) < base.size
    names = tuple(a.name for a in attrs.fields(type(params))) + tuple(coefficient_names)
    cov_u = np.asarray(covariance, dtype=np.float64)
    k = mean.size
    if cov_u.shape != (k, k):
        raise InputError(
            f"covariance must be a ({k}, {k}) matrix for the parameters {', '.join(names)}, "
            f"got shape {cov_u.shape}"
        )
    if not np.all(np.isfinite(cov_u)):
        raise InputError(
            "covariance must be finite; " + v.describe_violations(~np.isfinite(cov_u.ravel()))
        )
    return _draw(mean, 0.5 * (cov_u + cov_u.T), logs, names, type(params), n, rng)


def _draw(  # noqa: PLR0917 - private
    mean: FloatArray,
    cov_u: FloatArray,
    logs: BoolArray,
    names: tuple[str, ...],
    params_type: type,
    n: int,
    rng: SeedLike,
) -> ParameterDraws:
    """Draws ``u ~ N(mean, cov_u)``, exponentiated where ``logs``."""
    gen = v.as_generator(rng)
    root = matrix_root(cov_u)
    z = gen.standard_normal((n, mean.size))
    u = mean + z @ root
    with np.errstate(over="ignore"):
        values = np.where(logs, np.exp(np.where(logs, u, 0.0)), u)
    bad = ~np.isfinite(values) | (logs & (values <= 0))
    if bad.any():
        raise InputError(
            "the covariance is too wide to draw positive finite parameters on the log scale "
            f"({int(bad.any(axis=1).sum())} of {n} draws overflow); the fit does not identify "
            "its parameters (see its converged flag)"
        )
    return ParameterDraws(
        names=names,
        values=v.readonly(values),
        estimates=v.readonly(np.where(logs, np.exp(np.where(logs, mean, 0.0)), mean)),
        log_covariance=v.readonly(cov_u),
        params_type=params_type,
    )
