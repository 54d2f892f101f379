"""Continuous-time purchase histories: the result type and the shared steps."""

from __future__ import annotations

from typing import Any, NamedTuple, cast

import attrs
import numpy as np

from crmcore import _validation as val
from crmcore._typing import BoolArray, FloatArray, IntArray
from crmcore._validation import readonly as _ro
from crmcore.errors import InputError, InputTypeError

from ._common import _MAX_CUSTOMERS


@attrs.frozen(kw_only=True, eq=False)
class SimulatedHistories:
    """Continuous-time purchase histories drawn from a purchase model.

    One entry per customer in every array; times are measured from the
    customer's first purchase, in the time unit of the parameters.

    Attributes
    ----------
    frequency : ndarray of int64
        x: repeat purchases in (0, T].
    recency : ndarray of float64
        t_x: time of the last repeat purchase (0 when x = 0).
    T : ndarray of float64
        Length of the observation period after the first purchase.
    alive : ndarray of bool
        Whether the customer is still active at T (the latent truth behind
        P(alive)).
    lam : ndarray of float64
        Purchase rate lambda of each customer.
    p : ndarray of float64 or None
        Dropout probability per purchase (BG/NBD, MBG/NBD); None for Pareto/NBD.
    mu : ndarray of float64 or None
        Dropout rate (Pareto/NBD), or the Gompertz η (GGompertz/NBD: dropout
        hazard η b e^(bτ) at age τ); None for the BG models.
    dropout_time : ndarray of float64
        When the customer became (or will become) inactive, measured from the
        first purchase; it may exceed T, and is ``inf`` for a customer who never
        drops out (a rate or probability of exactly 0 after floating-point
        underflow).
    frequency_holdout : ndarray of int64
        Purchases in (T, T + duration_holdout], drawn from the same process
        (zeros when ``duration_holdout`` is 0).
    duration_holdout : float
        Length of the holdout period.
    model : {"bgnbd", "mbgnbd", "pareto_nbd", "ggomnbd", "bgcnbd", "mbgcnbd"}
        The generating model.
    litt : ndarray of float64 or None
        Sum of the logs of the times between consecutive purchases in (0, T]
        (the first from time 0; 0 when x = 0), drawn by the Erlang-k models
        (:func:`bgcnbd_histories`, :func:`mbgcnbd_histories`); None for the
        others.
    """

    frequency: IntArray
    recency: FloatArray
    T: FloatArray
    alive: BoolArray
    lam: FloatArray
    p: FloatArray | None = None
    mu: FloatArray | None = None
    dropout_time: FloatArray
    frequency_holdout: IntArray
    duration_holdout: float
    model: str
    litt: FloatArray | None = None

    def __len__(self) -> int:
        return int(self.frequency.size)

    @property
    def n_customers(self) -> int:
        """Number of customers."""
        return int(self.frequency.size)

    def columns(self) -> dict[str, np.ndarray[Any, Any]]:
        """Return the per-customer arrays by name, ready for a data frame.

        The same contract as :meth:`crmcore.CustomerSummary.columns`:
        equal-length 1-d read-only arrays, one row per customer (simulated
        histories have no ids; in a :class:`SimulatedCustomerBase` row ``i``
        is ``customer_ids[i]``). ``p`` or ``mu`` is included, whichever the
        model has.

        Returns
        -------
        dict of str to ndarray
            ``frequency``, ``recency``, ``T``, ``alive``, ``lam``, ``p`` or
            ``mu``, ``dropout_time``, ``frequency_holdout`` and, for the
            Erlang-k models, ``litt``.

        Examples
        --------
        >>> from crmcore.simulate import bgnbd_histories
        >>> h = bgnbd_histories(0.24, 4.4, 0.79, 2.4, n_customers=3, T=39.0, rng=1)
        >>> list(h.columns())
        ['frequency', 'recency', 'T', 'alive', 'lam', 'p', 'dropout_time', 'frequency_holdout']
        """
        return val.result_columns(
            self,
            "frequency",
            "recency",
            "T",
            "alive",
            "lam",
            "p",
            "mu",
            "dropout_time",
            "frequency_holdout",
            "litt",
        )


class _Process(NamedTuple):
    frequency: IntArray
    recency: FloatArray
    alive: BoolArray
    lam: FloatArray
    p: FloatArray | None
    mu: FloatArray | None
    dropout_time: FloatArray
    frequency_holdout: IntArray


def _as_durations(T: object, n_customers: object) -> FloatArray:
    if np.ndim(cast(Any, T)) == 0 and not isinstance(T, np.ndarray | list | tuple):
        t = val.check_float(T, "T", low=0.0)
        if n_customers is None:
            raise InputTypeError("n_customers is required when T is a single number")
        n = val.check_int(n_customers, "n_customers", low=1, high=_MAX_CUSTOMERS)
        return np.full(n, t)
    arr = val.as_float_array(cast(Any, T), "T", nonnegative=True)
    if n_customers is not None:
        n = val.check_int(n_customers, "n_customers", low=1, high=_MAX_CUSTOMERS)
        if n != arr.size:
            raise InputError(
                f"n_customers must match the length of T when T is an array; got {n} and {arr.size}"
            )
    return arr.copy()


def _histories(
    model: str,
    proc: _Process,
    T: FloatArray,
    holdout: float,
    litt: FloatArray | None = None,
) -> SimulatedHistories:
    """Build the public result of one purchase model's draws (every array read-only)."""
    return SimulatedHistories(
        frequency=_ro(proc.frequency),
        recency=_ro(proc.recency),
        T=_ro(T),
        alive=_ro(proc.alive),
        lam=_ro(proc.lam),
        p=None if proc.p is None else _ro(proc.p),
        mu=None if proc.mu is None else _ro(proc.mu),
        dropout_time=_ro(proc.dropout_time),
        frequency_holdout=_ro(proc.frequency_holdout),
        duration_holdout=holdout,
        model=model,
        litt=None if litt is None else _ro(litt),
    )
