"""Shared pytest configuration: the hypothesis profiles.

``repeatable`` (what a plain ``pytest`` run and CI use) is derandomised: the same
examples on every machine and every run, so a green run stays green. ``hunt``
draws many more examples at random, to find new counterexamples; run it with
``HYPOTHESIS_PROFILE=hunt python -m pytest`` and turn what it finds into a fix
or an explicit example.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "repeatable",
    max_examples=100,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "hunt",
    max_examples=1000,
    deadline=None,
    derandomize=False,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))
