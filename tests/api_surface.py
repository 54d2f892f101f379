"""The public surface of crmcore as text: every public name with its signature.

``python -m tests.api_surface`` prints it; ``python -m tests.api_surface --update``
rewrites ``tests/data/public_api.txt``. :mod:`tests.test_api_surface` compares the
live surface with that file, so that a change of the surface is always a decision,
recorded in the file and in ``CHANGELOG.md``.
"""

from __future__ import annotations

import enum
import importlib
import inspect
import pkgutil
import re
import sys
from pathlib import Path
from types import ModuleType

SNAPSHOT = Path(__file__).parent / "data" / "public_api.txt"
RELEASED = Path(__file__).parent / "data" / "public_api_0.1.0.txt"

_ADDRESS = re.compile(r" at 0x[0-9a-f]+")


def public_modules() -> list[ModuleType]:
    """The modules whose ``__all__`` make up the surface (private modules excluded)."""
    import crmcore

    names = ["crmcore"]
    names.extend(
        info.name
        for info in pkgutil.walk_packages(crmcore.__path__, "crmcore.")
        if not any(part.startswith("_") for part in info.name.split("."))
    )
    modules = []
    for name in sorted(names):
        try:
            module = importlib.import_module(name)
        except ImportError:  # pragma: no cover - an optional extra is missing
            continue
        if hasattr(module, "__all__"):
            modules.append(module)
    return modules


def _signature(obj: object) -> str:
    try:
        text = str(inspect.signature(obj))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return "(...)"
    return _ADDRESS.sub("", text)


def _class_lines(qualname: str, cls: type) -> list[str]:
    if issubclass(cls, enum.Enum):
        return [f"{qualname} enum: " + ", ".join(m.name for m in cls)]
    if issubclass(cls, BaseException):
        bases = ", ".join(b.__name__ for b in cls.__bases__)
        return [f"{qualname} exception({bases})"]
    lines = [f"{qualname} class{_signature(cls)}"]
    for name, raw in sorted(vars(cls).items()):
        if name.startswith("_"):
            continue
        member = raw.__func__ if isinstance(raw, staticmethod | classmethod) else raw
        if inspect.isfunction(member):
            lines.append(f"{qualname}.{name}{_signature(member)}")
        elif isinstance(member, property):
            lines.append(f"{qualname}.{name} property")
    return lines


def surface() -> list[str]:
    """Every public name of every public module, one line each, sorted."""
    lines: set[str] = set()
    for module in public_modules():
        for name in module.__all__:
            obj = getattr(module, name)
            qualname = f"{module.__name__}.{name}"
            if inspect.isclass(obj):
                lines.update(_class_lines(qualname, obj))
            elif callable(obj):
                lines.add(f"{qualname}{_signature(obj)}")
            elif isinstance(obj, ModuleType):
                lines.add(f"{qualname} module")
            else:
                lines.add(f"{qualname} constant")
    return sorted(lines)


def main(argv: list[str]) -> None:
    text = "\n".join(surface()) + "\n"
    if "--update" in argv:
        SNAPSHOT.parent.mkdir(parents=True, exist_ok=True)
        SNAPSHOT.write_text(text)
        print(f"wrote {SNAPSHOT}")
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main(sys.argv[1:])
