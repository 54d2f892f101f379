"""Write tests/data/simulate_reference.npz, the stored draws of two customer bases.

The reference pins what :func:`crmcore.simulate.customer_base` draws for seed 11
with 300 customers, once with every option at its default (``plain``) and once
with a catalogue, surveys, support and one campaign (``full``). It was written
by this script with the code of commit 8fae9f7 (numpy 2.4.6, x86-64), whose
draws are those of commit cadb748 (before customer sources, refunds and
multi-item orders existed): on the machine that wrote it both commits give the
same arrays bit for bit. ``tests/simulate/test_reference.py`` compares against
it; rerun this script only when a change of the draws is intended, and say so
in the commit.

Run from the repository root: ``python tests/simulate/make_reference.py``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

PATH = Path(__file__).resolve().parents[1] / "data" / "simulate_reference.npz"
START, END, SEED, N = "2024-01-01", "2025-06-30", 11, 300

#: Stored per base: table columns, history and spend truth, per-customer fields.
PLAIN_FIELDS = {
    "table": ("customer_codes", "times", "kinds", "amounts"),
    "histories": ("frequency", "recency", "T", "alive", "lam", "p", "dropout_time"),
    "spend": ("monetary_value", "nu"),
    "base": ("first_purchase",),
}
FULL_FIELDS = {
    "table": (
        "customer_codes",
        "times",
        "kinds",
        "amounts",
        "channels",
        "margins",
        "products",
        "categories",
        "regions",
        "campaigns",
        "in_control_group",
        "discounted",
        "survey_scores",
        "survey_scale_min",
        "survey_scale_max",
        "resolved_at_first_contact",
        "response_times",
    ),
    "base": (
        "region",
        "favourite_category",
        "preferred_channel",
        "discount_propensity",
        "satisfaction",
    ),
}


def bases() -> dict[str, Any]:
    """The two bases the reference holds, drawn with the code under test."""
    from crmcore.simulate import (
        CampaignOptions,
        CatalogOptions,
        SupportOptions,
        SurveyOptions,
        customer_base,
    )

    plain = customer_base(N, start=START, observation_end=END, rng=SEED)
    full = customer_base(
        N,
        start=START,
        observation_end=END,
        catalog=CatalogOptions(),
        surveys=SurveyOptions(),
        support=SupportOptions(),
        campaigns=[CampaignOptions(name="spring", send_day=200.0)],
        rng=SEED,
    )
    return {"plain": plain, "full": full}


def arrays(base: Any, fields: dict[str, tuple[str, ...]], tag: str) -> dict[str, np.ndarray]:
    """``{"<tag>.<part>.<field>": array}`` for the named fields of one base."""
    out = {}
    for part, names in fields.items():
        obj = base if part == "base" else getattr(base, part)
        for name in names:
            out[f"{tag}.{part}.{name}"] = np.asarray(getattr(obj, name))
    return out


def main() -> None:
    drawn = bases()
    stored = {
        **arrays(drawn["plain"], PLAIN_FIELDS, "plain"),
        **arrays(drawn["full"], FULL_FIELDS, "full"),
    }
    np.savez_compressed(PATH, **stored)
    print(f"wrote {PATH} ({PATH.stat().st_size} bytes, {len(stored)} arrays)")


if __name__ == "__main__":
    main()
