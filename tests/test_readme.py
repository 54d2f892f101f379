"""The README's first example runs and prints what its comments say."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def _first_example() -> str:
    text = README.read_text(encoding="utf-8")
    section = text.split("## A first example", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, flags=re.DOTALL)
    assert match is not None, "README has no python block after 'A first example'"
    return match.group(1)


def test_first_example_prints_what_its_comments_say() -> None:
    code = _first_example()
    expected = [line.split("#", 1)[1] for line in code.splitlines() if line.startswith("print(")]
    # the comment states the printed value from its first "[" on
    expected = [comment[comment.index("[") :].strip() for comment in expected]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, str(README), "exec"), {})
    printed = out.getvalue().strip().splitlines()
    assert printed == expected
