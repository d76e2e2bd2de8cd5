"""The package's module-level imports form no cycle, and the orchestrators import no orchestrator.

Data flows one way (docs/design.md): shared infrastructure (config, seeds, machine, session)
must not import the commands that use it. Imports inside functions and under TYPE_CHECKING
are not edges: they break no start-up order.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "perfbench"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def top_level_imports(path: Path, name: str) -> set[str]:
    tree = ast.parse(path.read_text())
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: set[str] = set()
    for node in tree.body:  # module level only
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            continue
        for sub in ast.walk(node) if isinstance(node, (ast.Try, ast.If)) else [node]:
            if isinstance(sub, ast.Import):
                out.update(a.name for a in sub.names if a.name.startswith("perfbench"))
            elif isinstance(sub, ast.ImportFrom):
                if sub.level:
                    base = package.split(".")
                    base = base[: len(base) - (sub.level - 1)] if sub.level > 1 else base
                    target = ".".join(base + ([sub.module] if sub.module else []))
                else:
                    target = sub.module or ""
                if target.startswith("perfbench"):
                    out.add(target)
                    out.update(f"{target}.{a.name}" for a in sub.names)
    return out


def graph() -> dict[str, set[str]]:
    modules = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    return {
        name: {t for t in top_level_imports(path, name) if t in modules and t != name}
        for name, path in modules.items()
    }


def test_the_graph_sees_imports():
    g = graph()
    assert {"perfbench.session", "perfbench.grading", "perfbench.config"} <= g["perfbench.evaluate"]
    assert "perfbench.measure.stats" in g["perfbench.measure.protocol"]


def test_no_import_cycles():
    g = graph()
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(g[node]):
            if state.get(nxt) == 1:
                cycle = [*stack[stack.index(nxt) :], nxt]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(g):
        if node not in state:
            visit(node)


def test_shared_modules_do_not_import_orchestrators():
    g = graph()
    orchestrators = {"perfbench.evaluate", "perfbench.validate", "perfbench.mining.pipeline"}
    for shared in (
        "perfbench.config",
        "perfbench.seeds",
        "perfbench.machine",
        "perfbench.session",
        "perfbench.measure.protocol",
        "perfbench.grading",
        "perfbench.executors.base",
    ):
        assert not (g[shared] & orchestrators), (shared, g[shared] & orchestrators)
