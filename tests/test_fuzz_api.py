"""Fuzz the whole public API, one argument at a time (issue "Trustworthy core").

Every public callable (discovered from the ``__all__`` lists, see ``tests/fuzz_support.py``)
is called with a valid baseline in which one argument is replaced by a bad value: NaN,
+-inf, negative, empty, 2-d, ragged, mismatched length, object dtype, strings, objects,
None, 1e300, 1e-300, 10**18, NaT, tz-aware or out-of-range dates, pandas nullable dtypes
with NA, polars Series. The call must raise a crmcore error (``InputError`` /
``InputTypeError``) that names the argument, or return a finite, in-range result, with no
warning other than crmcore's own and within a time limit.

The default run tries a bounded, rotating sample of the bad values per argument
(``CRMCORE_FUZZ_PER_ARGUMENT``, default 3). ``CRMCORE_FUZZ=full`` runs the full cross
product (thousands of cases, minutes).
"""

from __future__ import annotations

import os

import pytest

from tests import fuzz_support as fs

FULL = os.environ.get("CRMCORE_FUZZ", "").lower() == "full"
PER_ARGUMENT = int(os.environ.get("CRMCORE_FUZZ_PER_ARGUMENT", "3"))

TARGETS = list(fs.discover())
CASES = fs.all_cases() if FULL else fs.default_cases(PER_ARGUMENT)


def test_every_public_callable_has_a_baseline() -> None:
    missing = []
    for target in fs.discover().values():
        try:
            fs.baseline_factories(target)
        except fs.MissingBaselineError as exc:
            missing.append(str(exc))
    assert not missing, "public callables without a valid baseline call:\n" + "\n".join(missing)


def test_baseline_tables_name_existing_callables_and_modules() -> None:
    targets = fs.discover()
    stale = sorted(set(fs.OVERRIDES) - set(targets))
    assert not stale, f"OVERRIDES for callables that are no longer public: {stale}"
    groups = {t.group for t in targets.values()}
    stale_modules = sorted(set(fs.MODULE_POOL) - groups)
    assert not stale_modules, f"MODULE_POOL for modules that are gone: {stale_modules}"


def test_discovery_finds_functions_methods_and_input_classes() -> None:
    # A few landmarks of each sort, so that a broken discovery cannot pass silently empty.
    targets = fs.discover()
    for name in (
        "summary.summarize",
        "metrics.satisfaction.nps",
        "models.bgnbd.fit",
        "models.bgnbd.BgNbdParams",
        "models.bgnbd.BgNbdFit.conditional_expected_purchases",
        "summary.CustomerSummary.select",
        "table.InteractionTable.select",
        "simulate.customer_base",
    ):
        assert name in targets
    assert "metrics.satisfaction.NpsResult" not in targets  # an output class: not constructed


@pytest.mark.parametrize("target", TARGETS)
def test_baseline_call_is_clean(target: str) -> None:
    """The valid call itself returns a finite result with no warning (else the fuzz is moot)."""
    outcome = fs.run_baseline(target)
    assert outcome.ok, f"{target}(<baseline>): {outcome.kind}: {outcome.detail}"


@pytest.mark.parametrize(("target", "arg", "bad"), CASES, ids=["-".join(c) for c in CASES])
def test_bad_argument(target: str, arg: str, bad: str) -> None:
    outcome = fs.run_case(target, arg, bad)
    assert outcome.ok, f"{target}({arg}=<{bad}>): {outcome.kind}: {outcome.detail}"
