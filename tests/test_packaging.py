"""The package declares what it needs: every third-party module that `lsq_mcp` imports comes from a
distribution listed in pyproject's `dependencies` (or, for `redis`, its `redis` extra)."""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

import lsq_mcp

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = Path(lsq_mcp.__file__).resolve().parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
# Imported only when LSQ_REDIS_URL is set; installed with `pip install 'lsq-mcp[redis]'`.
OPTIONAL = {"redis": "redis"}


def _name(requirement: str) -> str:
    """The normalised distribution name of a requirement string (`mcp-types>=2.3,<3` -> `mcp-types`)."""
    match = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", requirement)
    assert match, requirement
    return re.sub(r"[-_.]+", "-", match.group()).lower()


def _top_level_imports() -> dict[str, set[str]]:
    """Each top-level module imported anywhere in lsq_mcp, with the files that import it."""
    found: dict[str, set[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                found.setdefault(name.partition(".")[0], set()).add(str(path.relative_to(ROOT)))
    return found


def _third_party() -> dict[str, set[str]]:
    return {
        module: files
        for module, files in _top_level_imports().items()
        if module not in sys.stdlib_module_names and module not in {"lsq_mcp", "__future__"}
    }


def test_the_walk_sees_the_imports_it_should() -> None:
    modules = _third_party()
    assert {"mcp", "httpx2", "pydantic"} <= modules.keys()
    assert "json" not in modules


def test_every_third_party_import_is_declared() -> None:
    declared = {_name(requirement) for requirement in PYPROJECT["project"]["dependencies"]}
    extras = PYPROJECT["project"]["optional-dependencies"]
    distributions = importlib.metadata.packages_distributions()
    missing = []
    for module, files in sorted(_third_party().items()):
        providers = {_name(dist) for dist in distributions.get(module, [])}
        assert providers, f"no installed distribution provides {module!r} (imported in {sorted(files)})"
        if module in OPTIONAL:
            extra = OPTIONAL[module]
            assert providers & {_name(r) for r in extras[extra]}, f"{module!r} is not in the {extra!r} extra"
        elif not providers & declared:
            missing.append(
                f"{module} (from {', '.join(sorted(providers))}; imported in {', '.join(sorted(files))})"
            )
    assert not missing, "add to pyproject's dependencies: " + "; ".join(missing)


def test_the_version_has_one_source() -> None:
    assert "version" in PYPROJECT["project"]["dynamic"]
    assert PYPROJECT["tool"]["hatch"]["version"]["path"] == "lsq_mcp/__init__.py"
    assert importlib.metadata.version("lsq-mcp") == lsq_mcp.__version__


def test_the_sdist_ships_what_a_packager_reads() -> None:
    include = set(PYPROJECT["tool"]["hatch"]["build"]["targets"]["sdist"]["include"])
    for name in ("lsq_mcp", "tests", "README.md", "CHANGELOG.md", "LICENSE", "manifest.json"):
        assert name in include
        assert (ROOT / name).exists(), name
