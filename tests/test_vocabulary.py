"""One vocabulary: one concept, one parameter name, one error rule.

The glossary (``docs/glossary.md``, section "One vocabulary") holds a table of
concept -> the one parameter name -> names that must not be used for it. These
tests read that table and walk every public signature (the ``__all__`` of every
public module: functions, classes and their public methods), so that a synonym
cannot creep back in. They also check that a public name shared by several
modules means one thing, and that a missing or excluded companion argument
raises ``InputTypeError`` everywhere (as Python raises ``TypeError`` for a
missing or unexpected argument).
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import crmcore
from crmcore import CustomerSummary, InteractionTable
from crmcore.errors import InputError, InputTypeError
from tests.api_surface import public_modules

GLOSSARY = Path(__file__).resolve().parents[1] / "docs" / "glossary.md"
MARKER = "<!-- vocabulary-table: concept | name | not -->"

#: Functions exported by several model modules on purpose: the same quantity
#: under each model (listed in the glossary, "One name, one meaning across modules").
SHARED_ACROSS_MODELS = frozenset(
    {
        "fit",
        "log_likelihood",
        "log_likelihood_per_customer",
        "expected_purchases",
        "conditional_expected_purchases",
        "conditional_purchase_probability",
        "probability_alive",
        "purchase_probability",
        "conditional_probability_alive",
        "conditional_purchase_count_probability",
        "discounted_expected_residual_purchases",
        "survival",
        "implied_retention_rate",
        "expected_lifetime",
        "discounted_expected_residual_lifetime",
    }
)


def vocabulary() -> list[tuple[str, str, tuple[str, ...]]]:
    """The rows (concept, name, forbidden synonyms) of the glossary's table."""
    text = GLOSSARY.read_text(encoding="utf-8")
    assert MARKER in text, f"{GLOSSARY} lacks the vocabulary table marker"
    rows = []
    for line in text.split(MARKER, 1)[1].lstrip().splitlines():
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells[0] in ("concept", "") or set(cells[0]) <= {"-"}:
            continue
        assert len(cells) == 3, f"a vocabulary row needs 3 cells: {line!r}"
        (name,) = re.findall(r"`([^`]+)`", cells[1])
        forbidden = tuple(re.findall(r"`([^`]+)`", cells[2]))
        rows.append((cells[0], name, forbidden))
    return rows


def _members(cls: type) -> Iterator[tuple[str, Any]]:
    for name, raw in sorted(vars(cls).items()):
        if name.startswith("_"):
            continue
        member = raw.__func__ if isinstance(raw, staticmethod | classmethod) else raw
        if inspect.isfunction(member):
            yield name, member


def public_signatures() -> Iterator[tuple[str, list[str]]]:
    """(qualified name, parameter names) of every public callable."""
    for module in public_modules():
        for name in module.__all__:
            obj = getattr(module, name)
            qualname = f"{module.__name__}.{name}"
            if not callable(obj):
                continue
            targets = [(qualname, obj)]
            if inspect.isclass(obj):
                targets += [(f"{qualname}.{m}", f) for m, f in _members(obj)]
            for label, target in targets:
                try:
                    params = inspect.signature(target).parameters
                except (TypeError, ValueError):
                    continue
                yield label, [p for p in params if p not in ("self", "cls")]


def test_the_glossary_table_is_well_formed() -> None:
    rows = vocabulary()
    assert len(rows) >= 10
    names = [name for _, name, _ in rows]
    assert len(set(names)) == len(names), "a name stands for one concept only"
    forbidden = {f for _, _, fs in rows for f in fs}
    assert not forbidden & set(names), "a preferred name is also listed as a synonym"
    for concept, name, synonyms in rows:
        assert synonyms, f"{name} ({concept}) lists no synonym to refuse"


def test_no_public_signature_uses_a_forbidden_synonym() -> None:
    owner = {f: name for _, name, fs in vocabulary() for f in fs}
    violations = [
        f"{label}({param}): use {owner[param]!r}"
        for label, params in public_signatures()
        for param in params
        if param in owner
    ]
    assert not violations, "synonyms of glossary names in public signatures:\n" + "\n".join(
        violations
    )


def test_every_glossary_name_is_a_public_parameter() -> None:
    used = {p for _, params in public_signatures() for p in params}
    unused = [name for _, name, _ in vocabulary() if name not in used]
    assert not unused, f"glossary names no public signature takes: {unused}"


def test_a_name_shared_by_public_modules_means_one_thing() -> None:
    homes: dict[str, dict[int, str]] = {}
    for module in public_modules():
        for name in module.__all__:
            homes.setdefault(name, {})[id(getattr(module, name))] = module.__name__
    clashes = {
        name: sorted(where.values())
        for name, where in homes.items()
        if len(where) > 1 and name not in SHARED_ACROSS_MODELS
    }
    assert not clashes, f"one public name, several objects: {clashes}"
    # the names shared on purpose are each one model's version of one quantity
    for name in SHARED_ACROSS_MODELS:
        assert all(m.startswith("crmcore.models.") for m in homes[name].values()), name
    glossary = GLOSSARY.read_text(encoding="utf-8")
    assert all(f"`{name}`" in glossary for name in SHARED_ACROSS_MODELS)


def test_sbg_retention_is_the_implied_rate() -> None:
    from crmcore.models import sbg

    assert not hasattr(sbg, "retention_rate")
    assert not hasattr(sbg.SbgFit, "retention_rate")
    assert callable(sbg.implied_retention_rate)
    assert callable(crmcore.metrics.retention_rate)


# ------------------------------------------------------------ companion arguments


def _summary() -> CustomerSummary:
    times = np.array(["2024-01-02", "2024-02-03", "2024-01-20"], dtype="datetime64[D]")
    table = InteractionTable.from_arrays([1, 1, 2], times, amounts=[10.0, 20.0, 5.0])
    return crmcore.summarize(table, observation_end="2024-03-31")


def _bare_summary() -> CustomerSummary:
    return CustomerSummary.from_arrays([0, 1], [0.0, 1.0], [3.0, 3.0])


def _holdout_without_summary_holdout() -> object:
    from crmcore.models import bgnbd, clv

    fit = bgnbd.fit(
        [0, 1, 1, 2, 2, 3, 5, 7],
        [0, 2, 30, 10, 35, 20, 36, 38],
        [39] * 8,
        weights=[600, 80, 60, 40, 50, 30, 25, 15],
    )
    return clv.holdout_comparison(fit, _bare_summary())


def _thresholds() -> Any:
    return crmcore.metrics.SpendThresholds(
        silver_spend=100.0, silver_frequency=2, vip_spend=500.0, vip_frequency=5
    )


M = crmcore.metrics
S = crmcore.simulate
COMPANIONS: list[tuple[str, Callable[[], object], str]] = [
    ("loyalty_class missing", lambda: M.loyalty_class([1]), "time_since_last is required"),
    (
        "loyalty_class excluded",
        lambda: M.loyalty_class(_summary(), [1.0, 2.0]),
        "time_since_last must be left out",
    ),
    (
        "loyalty_class observation_end with arrays",
        lambda: M.loyalty_class([1], [1.0], observation_end="2024-01-01"),
        "observation_end applies to a CustomerSummary only",
    ),
    ("customer_status", lambda: M.customer_status([1]), "time_since_last is required"),
    ("ladder_stage", lambda: M.ladder_stage([1]), "time_since_last is required"),
    ("visit_level", lambda: M.visit_level([1]), "tenure is required"),
    (
        "rfm_scores missing",
        lambda: M.rfm_scores(time_since_last=[1.0, 2.0]),
        "n_purchases, total_spend required",
    ),
    (
        "rfm_scores excluded",
        lambda: M.rfm_scores(_summary(), n_purchases=[1, 2]),
        "n_purchases must be left out",
    ),
    ("rfm_segments missing", lambda: M.rfm_segments(r=[1]), "r and f are required"),
    (
        "rfm_segments m",
        lambda: M.rfm_segments(r=[1], f=[1], rules=M.loyalty.segments.RFM_CUBE),
        "m is required",
    ),
    ("nps", lambda: M.nps([10, 9, 0], interval="bootstrap"), "rng is required"),
    (
        "nps_from_counts",
        lambda: M.nps_from_counts(3, 2, 1, interval="bootstrap"),
        "rng is required",
    ),
    ("complaint_rate", lambda: M.complaint_rate(3), "n_customers is required"),
    (
        "campaign_uplift",
        lambda: M.campaign_uplift([True, False]),
        "in_control_group is required",
    ),
    (
        "spend_tiers",
        lambda: M.spend_tiers([1.0, 2.0], thresholds=_thresholds()),
        "purchase_frequency is required",
    ),
    (
        "customer_base",
        lambda: S.customer_base(
            10, start="2024-01-01", observation_end="2024-12-31", model="pareto_nbd", rng=1
        ),
        "purchase is required",
    ),
    (
        "bgnbd_histories",
        lambda: S.bgnbd_histories(0.25, 4.0, 0.8, 2.5, T=52.0, rng=1),
        "n_customers is required",
    ),
    (
        "CustomerSummary.from_arrays holdout",
        lambda: CustomerSummary.from_arrays([0], [0.0], [1.0], frequency_holdout=[0]),
        "go together",
    ),
    (
        "InteractionTable.from_arrays survey",
        lambda: InteractionTable.from_arrays(
            [1], np.array(["2024-01-01"], dtype="datetime64[D]"), survey_scores=[3.0]
        ),
        "needs survey_scale_min",
    ),
    ("holdout_comparison", _holdout_without_summary_holdout, "frequency_holdout is required"),
]


@pytest.mark.parametrize(("label", "call", "match"), COMPANIONS, ids=[c[0] for c in COMPANIONS])
def test_a_missing_or_excluded_companion_argument_is_a_type_error(
    label: str, call: Callable[[], object], match: str
) -> None:
    with pytest.raises(InputTypeError, match=match) as info:
        call()
    assert not isinstance(info.value, InputError), label


def test_models_follow_the_same_rule() -> None:
    from crmcore.models import bgnbd, gamma_gamma

    with pytest.raises(InputTypeError, match="are required unless frequency"):
        bgnbd.fit([0, 1])
    with pytest.raises(InputTypeError, match="monetary_value is required"):
        gamma_gamma.fit([1, 2])
