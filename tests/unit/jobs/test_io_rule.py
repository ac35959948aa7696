"""The I/O rule of ``earlywarn.jobs``' docstring, checked over the source: only the modules it
names read or write files or the environment; every other module is a pure stage.

Calls are found by name (``open``, ``Path.read_text``, ``DataFrame.to_parquet``, ``mkdir``,
``os.replace``, ``os.environ`` ...), function bodies included. A module that starts to touch
disk must either move that code to one of the places below or be named here and in the
docstring of :mod:`earlywarn.jobs`.
"""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

from earlywarn import jobs

PACKAGE = Path(__file__).resolve().parents[3] / "src" / "earlywarn"

#: Packages and modules that may touch disk or the environment (paths under src/earlywarn).
TOUCH_DISK = (
    "cli/",
    "config.py",
    "data/",
    "resources/",
    "model/model_file.py",
    "scoring/scores_file.py",
    "scoring/history.py",
    "scoring/work_dir.py",
    "jobs/",
    "tracking/",
)
IO_METHODS = {
    "read_text",
    "write_text",
    "read_bytes",
    "write_bytes",
    "read_parquet",
    "to_parquet",
    "read_csv",
    "to_csv",
    "read_json",
    "read_excel",
    "mkdir",
    "unlink",
    "rmdir",
    "iterdir",
    "glob",
    "rglob",
    "rmtree",
    "copytree",
    "mkdtemp",
    "write_pdf",
    "exists",
    "is_file",
    "is_dir",
    "stat",
    "getenv",
}
OS_FUNCTIONS = {"replace", "rename", "remove", "open", "write", "access", "getenv", "listdir"}


def io_calls(path: Path) -> list[str]:
    """``line: call`` for every file or environment access in one source file."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Attribute) and node.attr == "environ":
            found.append(f"{node.lineno}: environ")
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Name) and func.id == "open":
            found.append(f"{node.lineno}: open")
        elif isinstance(func, ast.Attribute):
            is_os = isinstance(func.value, ast.Name) and func.value.id == "os"
            if func.attr in IO_METHODS or (is_os and func.attr in OS_FUNCTIONS):
                found.append(f"{node.lineno}: {func.attr}")
    return found


def io_rule_breaks(root: Path = PACKAGE) -> list[str]:
    breaks = []
    for path in sorted(root.rglob("*.py")):
        where = path.relative_to(root).as_posix()
        if where.startswith(TOUCH_DISK):
            continue
        breaks += [f"{where}:{call}" for call in io_calls(path)]
    return breaks


def test_only_the_modules_the_rule_names_touch_disk_or_the_environment():
    assert io_rule_breaks() == []


def test_the_rule_is_the_one_the_jobs_docstring_states():
    stated = jobs.__doc__ or ""
    for place in TOUCH_DISK:
        assert f"``{place}" in stated, place


def test_the_check_catches_a_stage_that_reads_a_file(tmp_path):
    copy = tmp_path / "earlywarn"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    target = copy / "features" / "labels.py"
    bad = '\n\ndef _peek(path):\n    return path.read_text(encoding="utf-8")\n'
    target.write_text(target.read_text(encoding="utf-8") + bad, encoding="utf-8")
    found = io_rule_breaks(copy)
    assert len(found) == 1 and found[0].startswith("features/labels.py:")
    assert found[0].endswith(": read_text")


def test_the_check_sees_the_environment_and_os_calls(tmp_path):
    source = tmp_path / "module.py"
    source.write_text(
        "import os\nos.environ['X'] = '1'\nos.replace('a', 'b')\nopen('c')\n", encoding="utf-8"
    )
    assert sorted(io_calls(source)) == ["2: environ", "3: replace", "4: open"]
