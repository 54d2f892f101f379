"""Synthetic customer bases drawn with known parameters.

Every function here draws from the generative process of a published model,
exactly as the paper states it, so that estimates fitted to the draws can be
compared with the truth:

- :func:`bgnbd_histories`, :func:`mbgnbd_histories`, :func:`pareto_nbd_histories`,
  :func:`ggomnbd_histories` draw continuous-time purchase histories (frequency,
  recency, T) of the BG/NBD, MBG/NBD, Pareto/NBD and GGompertz/NBD models, with
  the latent rates of every customer;
- :func:`pareto_nbd_time_varying` draws a Pareto/NBD purchase log with
  time-varying covariates (an InteractionTable and the covariates' long table);
- :func:`bgcnbd_histories`, :func:`mbgcnbd_histories` draw the same with
  Erlang-k times between purchases (BG/CNBD-k, MBG/CNBD-k), with ``litt``;
- :func:`bgbb_histories` draws discrete-time histories of the BG/BB model;
- :func:`sbg_cohort` draws a contractual cohort of the shifted-beta-geometric model;
- :func:`gamma_gamma_spend` draws mean spend per customer from the Gamma-Gamma model;
- :func:`customer_base` writes a whole calendar transaction log (an
  :class:`~crmcore.InteractionTable`) with optional survey answers, support
  contacts, a product catalogue with channels, regions and multi-item orders,
  campaigns with control groups, refunds, customer sources and leads (the
  acquisition funnel), plus the exact histories behind it.

All draws are vectorised across customers (no Python loop over customers) and
deterministic for a given ``rng`` (an int seed or a :class:`numpy.random.Generator`).
The histories are drawn without simulating event by event: the number of
events comes first and the event times are drawn as uniform order statistics,
which has exactly the distribution of the event-by-event process.

The package is split along these lines: one module per model
(``bgnbd``, ``mbgnbd``, ``cnbd``, ``pareto_nbd``, ``ggomnbd``, ``bgbb``, ``sbg``, ``gamma_gamma``),
the customer base (``base``) with its ``options``; every public name is
imported here, and ``crmcore.simulate.<name>`` is the place to import it from.

Examples
--------
>>> from crmcore.simulate import customer_base
>>> base = customer_base(1_000, start="2024-01-01", observation_end="2025-06-30", rng=7)
>>> len(base.histories), base.table.n_customers
(1000, 1000)
"""

from __future__ import annotations

from .base import CDNOW_BGNBD_WEEKLY, CDNOW_GAMMA_GAMMA, SimulatedCustomerBase, customer_base
from .bgbb import SimulatedDiscreteHistories, bgbb_histories
from .bgnbd import bgnbd_histories
from .cnbd import bgcnbd_histories, mbgcnbd_histories
from .gamma_gamma import SimulatedSpend, gamma_gamma_spend
from .ggomnbd import ggomnbd_histories
from .histories import SimulatedHistories
from .mbgnbd import mbgnbd_histories
from .options import (
    CampaignOptions,
    CatalogOptions,
    LeadOptions,
    RefundOptions,
    SupportOptions,
    SurveyOptions,
)
from .pareto_nbd import pareto_nbd_histories
from .sbg import SimulatedCohort, sbg_cohort
from .time_varying import SimulatedTimeVarying, pareto_nbd_time_varying

__all__ = [
    "CDNOW_BGNBD_WEEKLY",
    "CDNOW_GAMMA_GAMMA",
    "CampaignOptions",
    "CatalogOptions",
    "LeadOptions",
    "RefundOptions",
    "SimulatedCohort",
    "SimulatedCustomerBase",
    "SimulatedDiscreteHistories",
    "SimulatedHistories",
    "SimulatedSpend",
    "SimulatedTimeVarying",
    "SupportOptions",
    "SurveyOptions",
    "bgbb_histories",
    "bgcnbd_histories",
    "bgnbd_histories",
    "customer_base",
    "gamma_gamma_spend",
    "ggomnbd_histories",
    "mbgcnbd_histories",
    "mbgnbd_histories",
    "pareto_nbd_histories",
    "pareto_nbd_time_varying",
    "sbg_cohort",
]
