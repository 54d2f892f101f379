"""Loyalty metrics: RFM scores and segments, loyalty classes, visit levels, the ladder.

Everything here is a pure function over per-customer arrays (or a
:class:`~crmcore.CustomerSummary`):

- :func:`rfm_scores` scores recency, frequency and monetary value 1..bins by
  quantiles, by rank, or by given cut points, one method for all three or one
  per dimension; :func:`rfm_segments` names the
  score cells with rules that are plain data (:data:`RF_GRID`,
  :data:`RFM_CUBE`), and :func:`validate_segment_rules` checks such rules for
  gaps, overlaps and dead rules.
- :func:`loyalty_class`, :func:`visit_level`, :func:`ladder_stage` and
  :func:`customer_status` classify customers from their purchase history with
  documented, configurable thresholds.
- :func:`recommended_level` reads Kotler's grid of relationship levels;
  :func:`health_score` and :func:`band` build and band weighted 0-100 scores.

Split into modules: :mod:`~crmcore.metrics.loyalty.rfm` (scores),
:mod:`~crmcore.metrics.loyalty.segments` (segments and rules),
:mod:`~crmcore.metrics.loyalty.lifecycle` (classes, levels, ladder, status)
and :mod:`~crmcore.metrics.loyalty.health` (health scores and bands); every
public name is importable from here.
"""

from __future__ import annotations

from crmcore.metrics.loyalty.health import band, health_score
from crmcore.metrics.loyalty.lifecycle import (
    LOYALTY_CLASSES,
    VISIT_LEVELS,
    LadderInputs,
    customer_status,
    ladder_inputs,
    ladder_stage,
    loyalty_class,
    recommended_level,
    referral_counts,
    visit_level,
)
from crmcore.metrics.loyalty.rfm import RfmEdges, RfmScores, rfm_scores
from crmcore.metrics.loyalty.segments import (
    RF_GRID,
    RFM_CUBE,
    SegmentRuleReport,
    rfm_segments,
    validate_segment_rules,
)

__all__ = [
    "LOYALTY_CLASSES",
    "RFM_CUBE",
    "RF_GRID",
    "VISIT_LEVELS",
    "LadderInputs",
    "RfmEdges",
    "RfmScores",
    "SegmentRuleReport",
    "band",
    "customer_status",
    "health_score",
    "ladder_inputs",
    "ladder_stage",
    "loyalty_class",
    "recommended_level",
    "referral_counts",
    "rfm_scores",
    "rfm_segments",
    "validate_segment_rules",
    "visit_level",
]
