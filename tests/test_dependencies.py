"""Every package the running application imports is installed by `pip install .`, not only by
the dev extra: a green test run must not hide a missing runtime dependency."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Extras a user installs on purpose; their imports are lazy (inside the function that needs them).
OPTIONAL_EXTRAS = ("celery", "onnx")


def _name(requirement: str) -> str:
    return re.split(r"[\s\[<>=!~;]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def _closure(names: set[str]) -> set[str]:
    """The distributions `names` install, with everything they require (their own extras aside)."""
    seen: set[str] = set()
    todo = list(names)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        try:
            requires = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            continue
        todo += [_name(r) for r in requires if "extra ==" not in r]
    return seen


def _imported_top_level_modules() -> set[str]:
    modules = set()
    for path in (ROOT / "src" / "opencx").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                modules |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules.add(node.module.split(".")[0])
    return modules - set(sys.stdlib_module_names) - {"opencx", "__future__"}


def test_every_imported_package_is_a_runtime_dependency() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    runtime = {_name(r) for r in project["dependencies"]}
    for extra in OPTIONAL_EXTRAS:
        runtime |= {_name(r) for r in project["optional-dependencies"][extra]}
    installed = _closure(runtime)
    providers = metadata.packages_distributions()
    missing = {
        module: providers.get(module, ["?"])
        for module in _imported_top_level_modules()
        # an optional extra's package may not be installed here: then its name must match
        if not {_name(d) for d in providers.get(module, [module])} & installed
    }
    assert missing == {}, f"imported by src/opencx but not a runtime dependency: {missing}"
