"""The package's layers, read from its imports (ast): each part imports only the parts below
it, and no module imports itself back through others.

From the bottom: the base modules at the top of the package (errors, defaults, shipped,
editions, safeio, aside, verdicts, usercache); ``issue/`` (the format); ``engine/`` (render and layout); ``press/`` (the
editions' finishing); ``check/`` (the rules); ``build.py`` and ``session.py`` (the
coordinator); ``send/``; ``translate/`` (on the format alone); ``workbench/``; and the entrance (``cli.py``, ``commands/``,
``__init__``, ``__main__``), which may import anything. An import made for type checking only
(under ``if TYPE_CHECKING:``) runs nothing and is not counted.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "newsletter"

BASE = {"errors", "defaults", "shipped", "editions", "safeio", "aside", "verdicts", "usercache"}
BELOW = {
    "base": set(),
    "issue": {"base"},
    "engine": {"base", "issue"},
    "press": {"base", "issue"},
    "check": {"base", "issue", "engine", "press"},
    "build": {"base", "issue", "engine", "press", "check"},
    # Signing and verifying copies: only the finished PDF, no layout (issue 27).
    "authentic": {"base"},
    "send": {"base", "issue", "engine", "check", "build", "authentic"},
    "translate": {"base", "issue"},
    "workbench": {"base", "issue", "engine", "press", "check", "build", "send", "authentic"},
}
ENTRANCE = "entrance"


def _module(path: Path) -> str:
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _part(module: str) -> str:
    """The layer a module belongs to."""
    head = module.split(".")[0]
    if head in BASE:
        return "base"
    if head in ("build", "session"):
        return "build"
    if head in BELOW:
        return head
    return ENTRANCE  # "" (the package's __init__), __main__, cli, commands


def _modules() -> dict[str, Path]:
    return {_module(p): p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts}


def _type_checking_only(tree: ast.Module) -> set[int]:
    """The ids of the import nodes under ``if TYPE_CHECKING:``."""
    hidden: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            hidden |= {id(child) for stmt in node.body for child in ast.walk(stmt)}
    return hidden


def _imports(module: str, path: Path, known: set[str]) -> Iterator[tuple[str, int]]:
    """Every module of the package that ``module`` imports at run time, with the line."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    hidden = _type_checking_only(tree)
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    package = [p for p in package if p]
    for node in ast.walk(tree):
        if id(node) in hidden:
            continue
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                target = ".".join([*base, *([node.module] if node.module else [])])
            elif node.module and (node.module == "newsletter" or node.module.startswith("newsletter.")):
                target = node.module.removeprefix("newsletter").lstrip(".")
            else:
                continue
            for alias in node.names:
                child = f"{target}.{alias.name}" if target else alias.name
                yield (child if child in known else target), node.lineno
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("newsletter."):
                    yield alias.name.removeprefix("newsletter."), node.lineno


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    known = set(modules)
    return {
        module: {target for target, _ in _imports(module, path, known) if target != module}
        for module, path in modules.items()
    }


def test_every_module_imports_only_the_layers_below_it() -> None:
    modules = _modules()
    known = set(modules)
    wrong = []
    for module, path in sorted(modules.items()):
        part = _part(module)
        if part == ENTRANCE:
            continue
        allowed = BELOW[part] | {part}
        for target, line in _imports(module, path, known):
            if _part(target) not in allowed:
                wrong.append(f"newsletter/{path.relative_to(PACKAGE)}:{line}: {part} imports {target}")
    assert not wrong, "\n".join(wrong)


def test_no_module_imports_itself_back() -> None:
    graph = _graph()
    cycles = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(module: str) -> None:
        state[module] = 1
        stack.append(module)
        for target in sorted(graph.get(module, ())):
            if state.get(target) == 1:
                cycles.append(" -> ".join([*stack[stack.index(target) :], target]))
            elif target not in state:
                visit(target)
        stack.pop()
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module)
    assert not cycles, "\n".join(cycles)


def test_every_subpackage_says_what_it_owns_and_what_it_may_import() -> None:
    for init in sorted(PACKAGE.glob("*/__init__.py")):
        doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8"))) or ""
        assert "May import:" in doc, init


def test_the_layers_are_what_the_package_holds() -> None:
    """A new module or folder is placed in a layer on purpose, not by default."""
    entrance = {"", "__main__", "cli", "commands"}
    heads = {module.split(".")[0] for module in _modules()}
    assert heads <= BASE | set(BELOW) | {"build", "session"} | entrance, heads


def test_only_the_entry_point_imports_the_command_line() -> None:
    """``cli.py`` declares the commands; nothing of the package leans on it but ``__main__``."""
    modules = _modules()
    known = set(modules)
    leaning = [
        module
        for module, path in sorted(modules.items())
        if module not in ("__main__", "cli")
        and any(target == "cli" for target, _ in _imports(module, path, known))
    ]
    assert not leaning, leaning
