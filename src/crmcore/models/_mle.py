"""The maximum-likelihood driver shared by every forecast model (private).

Every model in :mod:`crmcore.models` fits its parameters through
:func:`maximize_likelihood`; this module owns the optimiser, the standard
errors and the convergence diagnostics so that all models behave alike.

How a model uses it
-------------------
1. Reduce the data to weighted distinct rows (``_inputs.prepare_fit_data`` for
   the (frequency, recency, T) models, or :func:`crmcore.compress` directly),
   so that the cost of one likelihood evaluation grows with the number of
   distinct histories, not with the number of customers.
2. Write ``objective(theta) -> (total_log_likelihood, gradient)`` where
   ``theta`` holds the model's parameters on their natural scale (all
   positive), the log-likelihood is the weighted total over customers and the
   gradient is d(total)/d(theta), a float64 array of the same length. A model
   without an analytic gradient wraps a value-only function with
   :func:`numerical_gradient`.
3. Call ``maximize_likelihood(objective, initial, names=..., model=...,
   n_customers=...)`` and build the model's fit result from the
   :class:`MleResult` (``estimates``, ``standard_errors``, ``log_likelihood``,
   ``converged``, ``n_iterations``, ``covariance``).

What the driver does
--------------------
* Optimises ``u = log(theta)`` (so every parameter stays positive) with
  L-BFGS-B on the mean log-likelihood per customer (so tolerances do not
  depend on the size of the data), using the supplied gradient through the
  chain rule d/du = theta * d/dtheta.
* Polishes the optimum with damped Newton steps on a numerical Hessian
  (forward differences of the gradient) until the mean gradient in ``u`` is
  well below ``gradient_tolerance``.
* Standard errors come from the inverse of the negative Hessian of the *total*
  log-likelihood (observed information), by central differences of the
  gradient in ``u`` mapped to natural parameters (delta method). A fit costs
  a few dozen objective evaluations, the Hessian ``2 * len(theta)`` of them
  (``len(theta)`` with ``forward_hessian=True``; none where the model gives
  its Hessian in closed form, ``hessian=``).
* Newton steps from a start with known curvature (``curvature=``, e.g. a
  sample's) update that curvature by BFGS after each step.
* Parameter classes declare their fields with ``_inputs.positive_param``;
  :func:`distinct_values` helps compute terms that depend on the frequency
  only once per distinct frequency.
* Raises :class:`~crmcore.errors.ConvergenceError`, with advice, when the
  optimiser does not reach a stationary point, when a parameter runs off to 0
  or infinity (the data do not identify it), or when the information matrix is
  not positive definite. No penalizer is ever added.
* Warns with :class:`~crmcore.errors.ConvergenceWarning`, and returns
  ``converged=False``, when a maximum was found but the data barely identify
  it: a standard error above :data:`MAX_RELATIVE_SE` times its estimate, or an
  information matrix whose correlation form has a condition number above
  :data:`MAX_CONDITION` (two or more parameters trade off almost exactly).
  The message names the parameters and what to try; each model passes its own
  advice (``hint`` for a failed search, ``limit_hint`` for what the data are
  consistent with when parameters are not identified).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any

import attrs
import numpy as np
import scipy.optimize

from crmcore import _validation as v
from crmcore._typing import ArrayLike, FloatArray, IntArray
from crmcore.errors import ConvergenceError, ConvergenceWarning, InputError

__all__ = [
    "LOG_BOUND",
    "MAX_CONDITION",
    "MAX_RELATIVE_SE",
    "MleResult",
    "Objective",
    "distinct_values",
    "fit_fields",
    "maximize_likelihood",
    "numerical_gradient",
]

#: ``objective(theta) -> (total log-likelihood, d total / d theta)``.
Objective = Callable[[FloatArray], tuple[float, FloatArray]]
#: ``hessian(theta) -> H``: the Hessian of the total log-likelihood in the natural
#: parameters, where a model has it in closed form (see :func:`maximize_likelihood`).
Hessian = Callable[[FloatArray], FloatArray]

#: Bound on ``|log(theta)|`` during the search (theta within about
#: [1e-13, 1e13]); an estimate that reaches it is reported as unidentified.
LOG_BOUND = 30.0

#: A fit whose standard error exceeds this many times its estimate is flagged
#: (``converged=False`` and a ConvergenceWarning). The standard error of
#: ``log(theta)`` is then above 10, so even a one-standard-error interval spans
#: a factor of e^20 (about 5e8): the data say nothing about that parameter.
#: Well-identified fits of a few hundred customers stay below 1.
MAX_RELATIVE_SE = 10.0

#: A fit whose information matrix, scaled to unit diagonal (the correlation
#: matrix of the estimates), has a condition number above this is flagged too:
#: some combination of parameters is then determined about 1e4 times less
#: precisely than the parameters one at a time (for two parameters, a
#: correlation beyond 1 - 2e-8), i.e. the information matrix is near-singular.
MAX_CONDITION = 1e8

#: Default advice when the search fails (models with a time axis T).
DEFAULT_HINT = (
    "Try initial= closer to the expected values (e.g. a fit to a sample), a time unit "
    "that makes T of order 1 to 100, or check the data for errors"
)

#: Default description of what unidentified data may be consistent with.
DEFAULT_LIMIT_HINT = (
    "e.g. nobody seems to drop out, or there are hardly any repeat purchases; a model with "
    "fewer parameters may suit these data better, or check that frequency, recency and T "
    "are measured as the model expects"
)

_DIFF_STEP = 1e-5  # central-difference step in log-parameter space
_FORWARD_STEP = 1e-7  # forward-difference step (Newton steps only)
# forward-difference step of the standard errors' Hessian where a model asks for it:
# truncation about step/2 relative, rounding of the mean gradient (1e-13) / step
_SE_FORWARD_STEP = 1e-6


@attrs.frozen(kw_only=True, eq=False)
class MleResult:
    """Outcome of :func:`maximize_likelihood`.

    Attributes
    ----------
    names : tuple of str
        Parameter names, in the order of the arrays below.
    estimates : ndarray
        Maximum-likelihood estimates on the natural scale.
    log_likelihood : float
        Total (weighted) log-likelihood at the estimates.
    gradient : ndarray
        Gradient of the total log-likelihood in natural parameters at the
        estimates (close to 0).
    hessian : ndarray
        Hessian of the total log-likelihood in natural parameters.
    covariance : ndarray
        Inverse of the negative Hessian (asymptotic covariance).
    standard_errors : ndarray
        Square roots of the covariance diagonal.
    converged : bool
        True when the optimiser reached a stationary point with a
        negative-definite Hessian *and* the data identify every parameter
        (every standard error at most :data:`MAX_RELATIVE_SE` times its
        estimate, correlation condition number at most :data:`MAX_CONDITION`).
        False when such a maximum was found but a
        :class:`~crmcore.errors.ConvergenceWarning` was issued because the
        data barely identify it: the estimates are then one point of a nearly
        flat ridge and should not be interpreted. A search that does not reach
        a maximum at all raises :class:`~crmcore.errors.ConvergenceError`.
    n_iterations : int
        Optimiser iterations (L-BFGS-B iterations plus Newton polishing steps).
    n_evaluations : int
        Objective evaluations, the Hessian's included.
    """

    names: tuple[str, ...]
    estimates: FloatArray
    log_likelihood: float
    gradient: FloatArray
    hessian: FloatArray
    covariance: FloatArray
    standard_errors: FloatArray
    converged: bool
    n_iterations: int
    n_evaluations: int


class _Counted:
    """Objective in log-parameter space, scaled per customer, with a call counter."""

    def __init__(
        self, objective: Objective, n_params: int, scale: float, hessian: Hessian | None = None
    ) -> None:
        self.objective = objective
        self.hessian = hessian
        self.forward_se = False  # forward differences for the standard errors
        self.n_params = n_params
        self.scale = scale
        self.n_evaluations = 0
        self._last: tuple[FloatArray, float, FloatArray] | None = None

    def natural(self, theta: FloatArray) -> tuple[float, FloatArray]:
        self.n_evaluations += 1
        value, grad = self.objective(theta)
        g = np.asarray(grad, dtype=np.float64)
        if g.shape != (self.n_params,):
            raise ValueError(  # pragma: no cover - a programming error in a model
                f"objective returned a gradient of shape {g.shape}, expected ({self.n_params},)"
            )
        return float(value), g

    def in_log_space(self, u: FloatArray) -> tuple[float, FloatArray]:
        """Mean negative log-likelihood and its gradient in u = log(theta).

        The last point is remembered: the optimiser's first call repeats the
        check of the starting point, and that evaluation is not done twice.
        """
        u = np.array(u, dtype=np.float64)
        last = self._last
        if last is not None and np.array_equal(last[0], u):
            return last[1], last[2].copy()
        value, grad = self._in_log_space(u)
        self._last = (u, value, grad.copy())
        return value, grad

    def _in_log_space(self, u: FloatArray) -> tuple[float, FloatArray]:
        theta = np.exp(u)
        # Overflow while the search probes extreme parameters (or huge weights) gives
        # inf/NaN, which steers the search away below: not worth a RuntimeWarning.
        with np.errstate(all="ignore"):
            value, g = self.natural(theta)
            gu = theta * g
        if not (np.isfinite(value) and np.all(np.isfinite(gu))):
            # Steer the line search away from points where the model breaks down.
            return 1e100, np.zeros_like(u)
        return -value / self.scale, -gu / self.scale

    def hessian_log(
        self, u: FloatArray, grad: FloatArray | None = None, forward_step: float = 0.0
    ) -> FloatArray:
        """Hessian of the mean log-likelihood in u from differences of the gradient.

        Central differences; forward differences (half the evaluations) when
        the gradient at ``u`` is passed (step ``forward_step``, else
        :data:`_FORWARD_STEP`). With an analytic Hessian, that one
        (the gradient at ``u`` is then needed for the change of variables).
        """
        if self.hessian is not None:
            if grad is None:
                _, grad = self.in_log_space(u)
            return self._analytic_log(u, grad)
        k = u.size
        h = np.empty((k, k))
        step_size = forward_step or _FORWARD_STEP
        for j in range(k):
            step = np.zeros(k)
            if grad is None:
                step[j] = _DIFF_STEP
                _, g_plus = self.in_log_space(u + step)
                _, g_minus = self.in_log_space(u - step)
                h[:, j] = -(g_plus - g_minus) / (2 * _DIFF_STEP)
            else:
                step[j] = step_size
                _, g_plus = self.in_log_space(u + step)
                h[:, j] = -(g_plus - grad) / step_size
        return 0.5 * (h + h.T)

    def _analytic_log(self, u: FloatArray, grad: FloatArray) -> FloatArray:
        """Return the model's Hessian moved to u = log(theta), scaled per customer.

        ``H_u = D H_theta D + diag(theta * dL/dtheta)`` (``D = diag(theta)``), and
        ``theta * dL/dtheta`` is ``-grad * scale`` for the scaled gradient at ``u``.
        """
        assert self.hessian is not None
        theta = np.exp(u)
        with np.errstate(all="ignore"):
            h_theta = np.asarray(self.hessian(theta), dtype=np.float64)
            h = h_theta * np.outer(theta, theta) / self.scale - np.diag(grad)
        return np.asarray(0.5 * (h + h.T), dtype=np.float64)


def numerical_gradient(log_likelihood: Callable[[FloatArray], float]) -> Objective:
    """Turn a value-only log-likelihood into an :data:`Objective`.

    The gradient is a central difference in log-parameter space (relative
    step 1e-6), i.e. ``2 * len(theta)`` extra evaluations per call. Prefer an
    analytic gradient on large data.

    Parameters
    ----------
    log_likelihood : callable
        ``log_likelihood(theta) -> float``, the total log-likelihood.

    Returns
    -------
    callable
        ``objective(theta) -> (value, gradient)``.

    Examples
    --------
    >>> import numpy as np
    >>> obj = numerical_gradient(lambda th: float(-np.sum((th - 2.0) ** 2)))
    >>> value, grad = obj(np.array([1.0, 3.0]))
    >>> round(value, 6), np.round(grad, 4).tolist()
    (-2.0, [2.0, -2.0])
    """
    h = 1e-6

    def objective(theta: FloatArray) -> tuple[float, FloatArray]:
        theta = np.asarray(theta, dtype=np.float64)
        value = float(log_likelihood(theta))
        grad = np.empty(theta.size)
        for j in range(theta.size):
            up = theta.copy()
            down = theta.copy()
            up[j] = theta[j] * np.exp(h)
            down[j] = theta[j] * np.exp(-h)
            grad[j] = (log_likelihood(up) - log_likelihood(down)) / (up[j] - down[j])
        return value, grad

    return objective


def maximize_likelihood(
    objective: Objective,
    initial: ArrayLike,
    *,
    names: Sequence[str],
    model: str,
    n_customers: float,
    gradient_tolerance: float = 1e-7,
    max_iterations: int = 1000,
    hint: str = DEFAULT_HINT,
    limit_hint: str = DEFAULT_LIMIT_HINT,
    curvature: FloatArray | None = None,
    hessian: Hessian | None = None,
    forward_hessian: bool = False,
) -> MleResult:
    """Maximise a log-likelihood over positive parameters.

    Parameters
    ----------
    objective : callable
        ``objective(theta) -> (total, gradient)``: the total (weighted)
        log-likelihood at the positive parameters ``theta`` and its gradient
        in ``theta``.
    initial : array-like
        Starting point (positive, finite), natural scale.
    names : sequence of str
        Parameter names, used in messages and in the result.
    model : str
        Model name for messages (``"BG/NBD"``).
    n_customers : float
        Total weight of the data (> 0); the objective is divided by it so that
        tolerances are per customer.
    gradient_tolerance : float
        Largest accepted ``|d mean log-likelihood / d log(theta)|`` at the
        optimum.
    max_iterations : int
        Iteration limit of L-BFGS-B.
    hint : str
        The model's advice when the search fails (a sentence starting with
        "Try"); the default suits models with a time axis T.
    limit_hint : str
        What the data may be consistent with when a parameter is not
        identified (e.g. "the data look like a homogeneous geometric churn"),
        with what to try; used in the ConvergenceError for a parameter that
        runs to 0 or infinity and in the ConvergenceWarning.
    curvature : ndarray, optional
        Hessian of the mean log-likelihood in log-parameters near ``initial``
        (see :func:`log_curvature`), e.g. of a fit to a sample of the data:
        the search then skips the quasi-Newton iterations and takes Newton
        steps with this matrix from ``initial`` (one evaluation each), turning
        to Hessians of the data where a step fails.
    hessian : callable, optional
        ``hessian(theta) -> H``, the Hessian of the total log-likelihood in
        ``theta`` in closed form: it replaces the differences of the gradient
        (8 evaluations of the objective for 4 parameters) in the Newton steps
        and for the standard errors.
    forward_hessian : bool
        Without ``hessian``, take the Hessian of the standard errors from
        forward differences of the gradient at the optimum (step
        :data:`_SE_FORWARD_STEP`; k evaluations for k parameters) instead of
        central ones (2k). For models whose evaluation is costly; the standard
        errors agree with the central ones to about 1e-6 relative.

    Returns
    -------
    MleResult

    Warns
    -----
    ConvergenceWarning
        When the maximum is found but the data barely identify it: a relative
        standard error above :data:`MAX_RELATIVE_SE` or a correlation
        condition number above :data:`MAX_CONDITION`. The message names the
        parameters; the result then has ``converged=False``.

    Raises
    ------
    InputError
        When ``initial`` is not positive and finite or ``n_customers`` <= 0.
    ConvergenceError
        When no stationary point is reached, when an estimate runs to 0 or
        infinity (``|log theta| >= LOG_BOUND``), or when the Hessian at the
        optimum is not negative definite. The message names the model, the
        parameter and what to try.

    Notes
    -----
    The search runs in ``u = log(theta)``: the gradient there is
    ``theta * dL/dtheta``, and the Hessians are related by
    ``H_u = D H_theta D + diag(theta * dL/dtheta)`` with ``D = diag(theta)``,
    which is how the natural-scale Hessian (and so the standard errors) is
    recovered from differences of the gradient in ``u`` (or how a closed-form
    Hessian in ``theta`` is moved to ``u``).

    Examples
    --------
    Normal sample, unknown mean (> 0) and standard deviation:

    >>> import numpy as np
    >>> y = np.array([4.0, 5.0, 6.0, 7.0])
    >>> def objective(theta):
    ...     mu, sigma = theta
    ...     z = (y - mu) / sigma
    ...     total = float(np.sum(-0.5 * z**2 - np.log(sigma)))
    ...     grad = np.array([np.sum(z) / sigma, np.sum(z**2 - 1) / sigma])
    ...     return total, grad
    >>> res = maximize_likelihood(objective, [1.0, 1.0], names=("mu", "sigma"),
    ...                           model="normal", n_customers=4)
    >>> np.round(res.estimates, 6).tolist(), res.converged
    ([5.5, 1.118034], True)
    >>> round(float(res.standard_errors[0]), 6)  # sigma / sqrt(n)
    0.559017
    >>> maximize_likelihood(objective, [-1.0, 1.0], names=("mu", "sigma"),
    ...                     model="normal", n_customers=4)
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: initial must be positive; 1 of 2 values breaks this ...
    """
    names = tuple(names)
    theta0 = v.as_float_array(initial, "initial", positive=True)
    if theta0.size != len(names):
        raise InputError(
            f"initial must hold {len(names)} values ({', '.join(names)}), got {theta0.size}"
        )
    scale = v.check_float(n_customers, "n_customers", low=0, low_open=True)
    counted = _Counted(objective, len(names), scale, hessian)
    counted.forward_se = forward_hessian
    u0 = np.clip(np.log(theta0), -LOG_BOUND + 1, LOG_BOUND - 1)
    bounds = [(-LOG_BOUND, LOG_BOUND)] * len(names)

    value0, _ = counted.in_log_space(u0)
    if value0 >= 1e100:
        raise ConvergenceError(
            f"{model}: the log-likelihood is not finite at the starting point "
            f"{_show(names, np.exp(u0))}; pass initial= with values of the order the data "
            "suggest (e.g. from a fit to a sample)"
        )
    if curvature is not None:
        u = u0.copy()
        value, grad0 = counted.in_log_space(u)
        u, value, grad_u, n_iter = _newton_polish(
            counted,
            u,
            value,
            grad0,
            tol=gradient_tolerance,
            curvature=curvature,
        )
        message = "Newton steps from a start with known curvature"
        return _finish(
            counted,
            u,
            value,
            grad_u,
            names=names,
            model=model,
            n_iter=n_iter,
            scale=scale,
            message=message,
            hint=hint,
            limit_hint=limit_hint,
            gradient_tolerance=gradient_tolerance,
        )
    with np.errstate(all="ignore"):
        res = scipy.optimize.minimize(
            counted.in_log_space,
            u0,
            jac=True,
            method="L-BFGS-B",
            bounds=bounds,
            options={
                "maxiter": max_iterations,
                "ftol": 1e-13,
                "gtol": gradient_tolerance,
                "maxcor": 10,
            },
        )
    u = np.asarray(res.x, dtype=np.float64)
    n_iter = int(res.nit)
    u, value, grad_u, n_newton = _newton_polish(
        counted, u, float(res.fun), np.asarray(res.jac, dtype=np.float64), tol=gradient_tolerance
    )
    n_iter += n_newton
    return _finish(
        counted,
        u,
        value,
        grad_u,
        names=names,
        model=model,
        n_iter=n_iter,
        scale=scale,
        message=str(res.message),
        hint=hint,
        limit_hint=limit_hint,
        gradient_tolerance=gradient_tolerance,
    )


def _finish(
    counted: _Counted,
    u: FloatArray,
    value: float,
    grad_u: FloatArray,
    *,
    names: tuple[str, ...],
    model: str,
    n_iter: int,
    scale: float,
    message: str,
    hint: str,
    limit_hint: str,
    gradient_tolerance: float,
) -> MleResult:
    """Check the point the search ended at and return the estimates with their covariance."""
    if counted.hessian is not None:
        hess_u = counted.hessian_log(u, grad_u)
    elif counted.forward_se:
        hess_u = counted.hessian_log(u, grad_u, forward_step=_SE_FORWARD_STEP)
    else:
        hess_u = counted.hessian_log(u)
    _check_boundary(model, names, u, limit_hint)
    grad_max = float(np.max(np.abs(grad_u)))
    if not np.isfinite(value) or grad_max > gradient_tolerance:
        raise ConvergenceError(
            f"{model}: the optimiser stopped after {n_iter} iterations without reaching a "
            f"maximum (largest gradient per customer in log-parameters {grad_max:.3g} > "
            f"{gradient_tolerance:g}) at {_show(names, np.exp(u))}; "
            f"scipy reported: {message}. {hint}"
        )
    neg_h = -hess_u
    try:
        np.linalg.cholesky(neg_h)
    except np.linalg.LinAlgError:
        raise ConvergenceError(
            f"{model}: the log-likelihood is flat or not concave at the optimum "
            f"{_show(names, np.exp(u))}: the data do not identify every parameter "
            "(too few customers or too few repeat purchases?), so there are no standard "
            "errors; try more data or a simpler model"
        ) from None
    theta = np.exp(u)
    # Natural-scale quantities of the *total* log-likelihood (undo the per-customer scale).
    grad_nat = -grad_u * scale / theta
    hess_nat = (hess_u * scale - np.diag(theta * grad_nat)) / np.outer(theta, theta)
    hess_nat = 0.5 * (hess_nat + hess_nat.T)
    cov_u = np.linalg.inv(-hess_u * scale)
    cov = cov_u * np.outer(theta, theta)  # delta method from u to theta at the optimum
    cov = 0.5 * (cov + cov.T)
    se = np.sqrt(np.diag(cov))
    converged = _check_identified(
        model, names, theta, np.asarray(cov_u, dtype=np.float64), limit_hint
    )
    return MleResult(
        names=names,
        estimates=theta,
        log_likelihood=-value * scale,
        gradient=grad_nat,
        hessian=hess_nat,
        covariance=cov,
        standard_errors=se,
        converged=converged,
        n_iterations=n_iter,
        n_evaluations=counted.n_evaluations,
    )


def _newton_polish(
    counted: _Counted,
    u: FloatArray,
    value: float,
    grad: FloatArray,
    *,
    tol: float,
    max_steps: int = 25,
    curvature: FloatArray | None = None,
) -> tuple[FloatArray, float, FloatArray, int]:
    """Damped Newton steps in log space until the gradient is well below ``tol``.

    ``value`` and ``grad`` are the scaled objective (mean negative
    log-likelihood) and its gradient at ``u``. Returns (u, value, gradient,
    steps); the Hessians are forward differences of the gradient, or
    ``curvature`` (a Hessian of the mean log-likelihood) as long as its steps
    improve, corrected after each step by the BFGS update.
    """
    steps = 0
    fixed = None if curvature is None else -np.asarray(curvature, dtype=np.float64)
    limit = max_steps if fixed is None else 2 * max_steps  # fixed steps converge linearly
    while steps < limit and float(np.max(np.abs(grad))) > tol * 1e-2:
        neg_h = fixed if fixed is not None else -counted.hessian_log(u, grad)
        try:
            np.linalg.cholesky(neg_h)
            direction = -np.linalg.solve(neg_h, grad)
        except np.linalg.LinAlgError:
            direction = -grad  # not concave here: plain gradient step
        lam = 1.0
        improved = False
        for _ in range(30):
            trial = np.clip(u + lam * direction, -LOG_BOUND, LOG_BOUND)
            t_value, t_grad = counted.in_log_space(trial)
            # Armijo decrease, or (near the optimum, where the change in the value
            # drowns in rounding) a smaller gradient at a value no worse than rounding
            noise = 1e-12 * (1.0 + abs(value))
            if t_value <= value + 1e-4 * lam * float(grad @ direction) or (
                t_value <= value + noise and np.max(np.abs(t_grad)) < np.max(np.abs(grad))
            ):
                improved = True
                break
            lam *= 0.5
        steps += 1
        if not improved:
            if fixed is not None:
                fixed = None  # the given curvature does not fit here: the data's Hessians
                continue
            break
        if fixed is not None:
            fixed = _secant_update(fixed, trial - u, t_grad - grad)
        u, value, grad = trial, t_value, t_grad
    return u, value, grad, steps


def _secant_update(neg_h: FloatArray, step: FloatArray, change: FloatArray) -> FloatArray:
    """BFGS update of a curvature matrix by a step and the change of the gradient it made.

    The given curvature (a sample's Hessian) is close to the data's; the update makes
    it exact along each step taken, so the steps converge faster than linearly. Left
    as it is when the change does not show positive curvature along the step.
    """
    curv = float(change @ step)
    h_step = neg_h @ step
    quad = float(step @ h_step)
    # a change of the gradient that is rounding noise along the step would blow the
    # update up (1 / curv): it must show curvature relative to the sizes involved
    noise = 1e-12 * float(np.linalg.norm(change) * np.linalg.norm(step))
    if not (np.isfinite(curv) and curv > noise and quad > 0.0):
        return neg_h
    out = neg_h - np.outer(h_step, h_step) / quad + np.outer(change, change) / curv
    return np.asarray(0.5 * (out + out.T), dtype=np.float64)


def log_curvature(res: MleResult, n_customers: float) -> FloatArray:
    """Return the Hessian of the mean log-likelihood in log-parameters at a fit's estimates.

    The ``curvature`` argument of :func:`maximize_likelihood`, from the
    covariance of a fit (e.g. to a sample, whose weights add up to
    ``n_customers``).
    """
    theta = res.estimates
    cov_u = res.covariance / np.outer(theta, theta)
    out = np.asarray(-np.linalg.inv(cov_u) / n_customers, dtype=np.float64)
    return 0.5 * (out + out.T)


def _check_boundary(model: str, names: tuple[str, ...], u: FloatArray, limit_hint: str) -> None:
    at_bound = np.abs(u) >= LOG_BOUND - 0.5
    if at_bound.any():
        j = int(np.flatnonzero(at_bound)[0])
        where = "infinity" if u[j] > 0 else "0"
        raise ConvergenceError(
            f"{model}: parameter {names[j]} runs to {where} (estimate {np.exp(u[j]):.3g}): "
            f"the data do not identify it; {limit_hint}"
        )


def _check_identified(
    model: str,
    names: tuple[str, ...],
    theta: FloatArray,
    cov_u: FloatArray,
    limit_hint: str,
) -> bool:
    """Warn and return False when the data barely identify the maximum.

    ``cov_u`` is the covariance of ``log(theta)``; its diagonal holds the
    squared relative standard errors (delta method).
    """
    rel = np.sqrt(np.maximum(np.diag(cov_u), 0.0))
    with np.errstate(all="ignore"):
        corr = cov_u / np.outer(rel, rel)
    if np.all(np.isfinite(corr)) and len(names) > 1:
        eig, vec = np.linalg.eigh(0.5 * (corr + corr.T))
        condition = float(eig[-1] / eig[0]) if eig[0] > 0 else np.inf
    else:
        condition, vec = 1.0, np.eye(len(names))
    loose = rel > MAX_RELATIVE_SE
    singular = condition > MAX_CONDITION
    if not (loose.any() or singular):
        return True
    if not loose.any():  # the parameters that carry the near-null direction
        loose = np.abs(vec[:, 0]) >= 0.3
    which = [names[j] for j in np.flatnonzero(loose)]
    ratios = ", ".join(f"{names[j]} {rel[j]:.3g}" for j in np.flatnonzero(loose))
    detail = f"standard error / estimate: {ratios}"
    if singular:
        detail += f"; the information matrix is near-singular (condition {condition:.3g})"
    warnings.warn(
        f"{model}: the data do not identify {' and '.join(which)} at the maximum "
        f"{_show(names, theta)} ({detail}); {limit_hint}. The fit is returned with "
        "converged=False: do not interpret these estimates or their standard errors",
        ConvergenceWarning,
        stacklevel=4,
    )
    return False


def _show(names: tuple[str, ...], theta: FloatArray) -> str:
    return "(" + ", ".join(f"{n}={t:.6g}" for n, t in zip(names, theta, strict=True)) + ")"


def distinct_values(sorted_values: FloatArray) -> tuple[FloatArray, IntArray]:
    """Distinct values of a sorted array and each element's index into them.

    Model code uses it to evaluate terms that depend only on ``frequency``
    (gamma and beta functions) once per distinct frequency.

    Examples
    --------
    >>> import numpy as np
    >>> vals, idx = distinct_values(np.array([0.0, 0.0, 2.0, 5.0, 5.0]))
    >>> vals.tolist(), idx.tolist()
    ([0.0, 2.0, 5.0], [0, 0, 1, 2, 2])
    """
    if sorted_values.size == 0:
        return sorted_values.copy(), np.zeros(0, dtype=np.int64)
    new = np.empty(sorted_values.size, dtype=np.bool_)
    new[0] = True
    np.not_equal(sorted_values[1:], sorted_values[:-1], out=new[1:])
    idx = np.cumsum(new, dtype=np.int64) - 1
    return sorted_values[new], idx


def fit_fields(res: MleResult, params_type: Callable[..., Any]) -> dict[str, Any]:
    """Return the fields every model's fit result takes from an :class:`MleResult`.

    ``params``, ``standard_errors`` (both as ``params_type``, built from the
    parameter names), ``covariance`` (read-only), ``log_likelihood``,
    ``converged`` and ``n_iterations``; the model adds ``n_customers``.

    Examples
    --------
    >>> import numpy as np
    >>> res = maximize_likelihood(lambda th: (float(-th[0] + np.log(th[0])), 1 / th - 1),
    ...                           [2.0], names=("k",), model="toy", n_customers=1)
    >>> f = fit_fields(res, dict)
    >>> round(f["params"]["k"], 6), f["converged"], f["covariance"].flags.writeable
    (1.0, True, False)
    """
    return {
        "params": params_type(**dict(zip(res.names, res.estimates.tolist(), strict=True))),
        "standard_errors": params_type(
            **dict(zip(res.names, res.standard_errors.tolist(), strict=True))
        ),
        "covariance": v.readonly(np.array(res.covariance, dtype=np.float64)),
        "log_likelihood": float(res.log_likelihood),
        "converged": bool(res.converged),
        "n_iterations": int(res.n_iterations),
    }
