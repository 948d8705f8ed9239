"""Attendance sits below notices, ladder, grades, screening and the rest: it imports none of
them, not even inside a function or a test (they reach attendance through attendance.hooks)."""

from __future__ import annotations

import ast
from pathlib import Path

import fullfolj.attendance

ABOVE = (
    "notices",
    "ladder",
    "grades",
    "screening",
    "riskmodel",
    "simulation",
    "benchmarks",
    "jobs",
)


def imported_modules(package: Path) -> dict[str, set[str]]:
    """Every absolute module each file of `package` imports, wherever the import stands."""
    found: dict[str, set[str]] = {}
    for path in sorted(package.rglob("*.py")):
        names = found.setdefault(str(path.relative_to(package)), set())
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module)
                names.update(f"{node.module}.{alias.name}" for alias in node.names)
            elif (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", "") == "import_module"
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                names.add(str(node.args[0].value))
    return found


def test_attendance_imports_no_app_above_it():
    package = Path(fullfolj.attendance.__file__).parent
    upward = {
        file: sorted(
            name
            for name in names
            if any(
                name == f"fullfolj.{app}" or name.startswith(f"fullfolj.{app}.") for app in ABOVE
            )
        )
        for file, names in imported_modules(package).items()
    }
    assert {file: names for file, names in upward.items() if names} == {}
