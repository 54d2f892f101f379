"""The public surface is recorded: a change to it is a decision, written down twice.

``tests/data/public_api.txt`` holds every public name of every public module with its
signature (made by ``python -m tests.api_surface --update``). The first test fails on
any difference between it and the live package. The second checks that every name whose
line differs from the 0.1.0 surface (``tests/data/public_api_0.1.0.txt``, made the same
way from the 0.1.0 sources) is named in ``CHANGELOG.md``.
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path

from tests.api_surface import RELEASED, SNAPSHOT, surface

CHANGELOG = Path(__file__).resolve().parents[1] / "CHANGELOG.md"


def _without_module(line: str) -> str:
    """The line without its module path: a name moved to a new submodule (and still
    re-exported where it was) is the same name to its users."""
    rest = re.sub(r"^[^( ]+", "", line)
    return _object_name(line) + rest


def _changed_lines() -> set[str]:
    released = {_without_module(x) for x in RELEASED.read_text().splitlines()}
    current = {_without_module(x) for x in SNAPSHOT.read_text().splitlines()}
    return released ^ current


def _object_name(line: str) -> str:
    """``crmcore.metrics.rfm_scores(...)`` → ``rfm_scores``; methods give ``Class.method``."""
    path = re.split(r"[( ]", line, maxsplit=1)[0].split(".")
    # module parts are lower case; the first capitalised part starts a class path
    for i, part in enumerate(path):
        if part[:1].isupper():
            return ".".join(path[i:])
    return path[-1]


def test_live_surface_matches_the_recorded_one() -> None:
    recorded = SNAPSHOT.read_text().splitlines()
    live = surface()
    diff = "\n".join(difflib.unified_diff(recorded, live, "recorded", "live", lineterm="", n=0))
    assert not diff, (
        "The public API changed. If that is intended, run `python -m tests.api_surface --update`"
        " and describe the change in CHANGELOG.md:\n" + diff
    )


def test_every_change_since_the_release_is_in_the_changelog() -> None:
    changelog = CHANGELOG.read_text()
    missing = set()
    for line in _changed_lines():
        name = _object_name(line)
        # the whole dotted name, its class, or its own name, as a word of the changelog
        words = {name, name.split(".")[0], name.split(".")[-1]}
        if not any(re.search(rf"(?<!\w){re.escape(w)}(?!\w)", changelog) for w in words):
            missing.add(name)
    assert not missing, (
        "These public names changed since 0.1.0 but CHANGELOG.md does not name them: "
        + ", ".join(sorted(missing))
    )


def test_object_name_parsing() -> None:
    assert _object_name("crmcore.metrics.rfm_scores(x) -> y") == "rfm_scores"
    assert _object_name("crmcore.CustomerSummary.select(self, rows)") == "CustomerSummary.select"
    assert _object_name("crmcore.Channel enum: A, B") == "Channel"
    assert _object_name("crmcore.models.clv.MAX_STEPS constant") == "MAX_STEPS"
