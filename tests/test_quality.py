"""Lint and strict type check, as part of the suite so that CI runs them with everything else."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=600
    )


def test_ruff_lint() -> None:
    done = run("ruff", "check", ".")
    assert done.returncode == 0, done.stdout + done.stderr


def test_ruff_format() -> None:
    done = run("ruff", "format", "--check", ".")
    assert done.returncode == 0, done.stdout + done.stderr


def test_mypy_strict() -> None:
    done = run("mypy")
    assert done.returncode == 0, done.stdout + done.stderr


# Small pieces: someone new reads any one of them at a glance. The sandbox's sample data is a table.
MAX_FUNCTION_LINES, MAX_CLASS_LINES, MAX_MODULE_LINES = 60, 150, 400
DATA_MODULES = {Path("lsq_mcp/sandbox/data.py")}


def test_functions_classes_and_modules_stay_small() -> None:
    too_big = []
    for path in sorted((ROOT / "lsq_mcp").rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        name = path.relative_to(ROOT)
        if name not in DATA_MODULES and source.count("\n") > MAX_MODULE_LINES:
            too_big.append(f"{name}: {source.count(chr(10))} lines")
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.ClassDef):
                limit = MAX_CLASS_LINES
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                limit = MAX_FUNCTION_LINES
            else:
                continue
            if (node.end_lineno or 0) - node.lineno + 1 > limit:
                too_big.append(f"{name}:{node.lineno} {node.name}: over {limit} lines")
    assert not too_big, "\n".join(too_big)
