"""The layering of earlywarn's packages, checked over the real import graph.

Lower layers never import higher ones: the stages (data < features < simulator | model <
explain < scoring) never import tracking, the jobs or the CLI; simulator and model are
siblings that never import each other. At the top sit the two ways in, siblings too: the
command (``earlywarn.cli``) and the Python API (``earlywarn.api``, re-exported by the package
itself, ``earlywarn/__init__.py``, on first use). Imports inside functions count too. Only
``earlywarn.tracking`` imports mlflow, and only ``earlywarn.cli`` imports typer.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "earlywarn"

# Lowest first; names in one tuple are siblings that must not import each other.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("errors",),
    ("config", "resources"),
    ("data",),
    ("features",),
    ("simulator", "model"),
    ("explain",),
    ("scoring",),
    ("tracking",),
    ("jobs",),
    ("cli", "api"),
)
ONLY_IMPORTED_BY = {"mlflow": "tracking", "typer": "cli"}


def _layer_of(part: str) -> tuple[int, str]:
    for level, names in enumerate(LAYERS):
        if part in names:
            return level, part
    raise AssertionError(f"earlywarn.{part} is in no layer: add it to LAYERS in {__file__}")


def _top(module: str) -> str:
    """``earlywarn.features.build`` -> ``features``; ``earlywarn`` itself (its ``__init__``
    re-exports the API) -> ``api``. Importing ``earlywarn`` for ``__version__`` is allowed
    from anywhere: the package loads the API only when one of its functions is asked for."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "api"


def _module_name(path: Path, root: Path) -> str:
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, root: Path = PACKAGE) -> list[tuple[int, str]]:
    """(line, imported module) for every import in a file, function bodies included."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = _module_name(path, root).rsplit(".", 0 if path.name == "__init__.py" else 1)[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against this module's package
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                target = f"{base}.{node.module}" if node.module else base
            else:
                target = node.module or ""
            found.append((node.lineno, target))
            if target == "earlywarn":  # from earlywarn import columns -> earlywarn.columns
                found += [(node.lineno, f"earlywarn.{alias.name}") for alias in node.names]
    return found


def layering_problems(root: Path = PACKAGE) -> list[str]:
    problems = []
    for path in sorted(root.rglob("*.py")):
        module = _module_name(path, root)
        level, home = _layer_of(_top(module))
        for line, target in imports_of(path, root):
            where = f"{path.relative_to(root.parent)}:{line}"
            third_party = target.split(".")[0]
            if third_party in ONLY_IMPORTED_BY and home != ONLY_IMPORTED_BY[third_party]:
                problems.append(
                    f"{where}: imports {target}; only earlywarn.{ONLY_IMPORTED_BY[third_party]} may"
                )
            if not target.startswith("earlywarn.") or target == "earlywarn.__version__":
                continue
            other = _top(target)
            if other not in {name for names in LAYERS for name in names}:
                continue  # earlywarn.__version__ and the like
            other_level, _ = _layer_of(other)
            if other_level > level:
                problems.append(f"{where}: {module} ({home}) imports {target}, a higher layer")
            elif other_level == level and other != home:
                problems.append(f"{where}: {module} ({home}) imports its sibling {target}")
    return problems


def test_no_package_imports_a_higher_layer_or_a_sibling():
    assert layering_problems() == []


def test_the_check_catches_an_upward_import(tmp_path):
    """A copy of the package with one deliberate upward import (features -> jobs) fails."""
    import shutil

    copy = tmp_path / "earlywarn"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    target = copy / "features" / "labels.py"
    bad = "\n\ndef _bad():\n    from earlywarn.jobs import score\n"
    target.write_text(target.read_text() + bad)
    found = layering_problems(copy)
    assert any("features" in p and "earlywarn.jobs" in p for p in found), found


@pytest.mark.parametrize("module, allowed", sorted(ONLY_IMPORTED_BY.items()))
def test_the_check_catches_a_stray_third_party_import(tmp_path, module, allowed):
    import shutil

    copy = tmp_path / "earlywarn"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    target = copy / "scoring" / "score.py"
    target.write_text(target.read_text() + f"\n\ndef _bad():\n    import {module}\n")
    assert any(f"imports {module}" in p for p in layering_problems(copy))


def test_the_api_and_the_cli_do_not_import_each_other(tmp_path):
    import shutil

    copy = tmp_path / "earlywarn"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    target = copy / "api.py"
    target.write_text(target.read_text() + "\n\ndef _bad():\n    from earlywarn.cli import app\n")
    assert any("imports its sibling earlywarn.cli" in p for p in layering_problems(copy))


def test_importing_earlywarn_loads_no_stage():
    """``import earlywarn`` (what every module does for ``__version__``) stays light: the API
    and the stages load when a function of the API is first used."""
    import subprocess
    import sys

    code = (
        "import sys, earlywarn; print(sorted(m for m in sys.modules if m.startswith('earlywarn')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "['earlywarn']"
