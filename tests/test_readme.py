"""Every Python block of the README runs as shown and prints what its comments say.

The blocks run in order in one namespace, as a reader pastes them; shell blocks are not
run. Each ``print`` line's comment is compared with what it printed by the rules of
:func:`tests.test_docs.run_blocks` (numbers within the last digit shown).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from tests.test_docs import PYTHON_BLOCK, run_blocks

README = Path(__file__).resolve().parents[1] / "README.md"


def test_the_readme_has_python_blocks() -> None:
    assert len(PYTHON_BLOCK.findall(README.read_text(encoding="utf-8"))) >= 2


def test_readme_blocks_print_what_their_comments_say(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("scipy")
    monkeypatch.chdir(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        problems = run_blocks(README, {"__name__": "__readme__"})
    assert not problems, "\n".join(problems)
