"""The import graph of ``functions_app`` goes one way (models <- services <- api / web / admin)
and has no module-level cycle. Read from the source with ``ast``: nothing is imported."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "functions_app"
LOWER_LAYERS = ("functions_app.models", "functions_app.services")
UPPER_LAYERS = ("functions_app.api", "functions_app.web", "functions_app.admin")
# Input parsing, shared by the API, the console and the admin: body parsers, validators, the
# parameter declarations and each resource's fields. None of it is a view.
INPUT_PARSING = (
    "functions_app.api.rendering",
    "functions_app.api.params",
    "functions_app.api.declarations",
    "functions_app.api.fields",
)
# Function-level imports that stay, each with its reason (module -> imported module).
ALLOWED_LOCAL_IMPORTS = {
    # Django's documented place to connect signal receivers: AppConfig.ready(), once the
    # app registry is loaded (importing models at module level there is not allowed).
    ("functions_app.apps", "functions_app.signals"): "AppConfig.ready",
}


def module_files():
    for path in sorted((ROOT / PACKAGE).rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        if "migrations" in parts or "runtimes" in parts:
            continue  # migrations are Django's; runtime sources run inside containers
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        yield name, path


MODULES = dict(module_files())


def absolute(module, node):
    """The absolute name of what an ``ImportFrom`` names, relative to ``module``."""
    if not node.level:
        return node.module or ""
    package = module if MODULES[module].name == "__init__.py" else module.rpartition(".")[0]
    for _ in range(node.level - 1):
        package = package.rpartition(".")[0]
    return f"{package}.{node.module}" if node.module else package


def targets(module, node):
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        base = absolute(module, node)
        names = [f"{base}.{alias.name}" for alias in node.names]
        names = [name if name in MODULES else base for name in names]
    return {resolve(name) for name in names if name.split(".")[0] == PACKAGE} - {None}


def resolve(name):
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def imports(module):
    """(module-level targets, function-level targets) of one module."""
    tree = ast.parse(MODULES[module].read_text())
    top, local = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            (top if node in tree.body or in_top_block(tree, node) else local).update(
                targets(module, node)
            )
    return top - {module}, local - {module}


def in_top_block(tree, node):
    """Imports under a module-level ``try``/``if`` still run at import time."""
    for statement in tree.body:
        if isinstance(statement, ast.Try | ast.If) and node in ast.walk(statement):
            return not any(
                isinstance(inner, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
                and node in ast.walk(inner)
                for inner in ast.walk(statement)
            )
    return False


GRAPH = {module: imports(module) for module in MODULES}


def cycles(graph):
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_graph_has_no_module_level_cycle():
    assert cycles({module: top for module, (top, _) in GRAPH.items()}) == []


def test_models_and_services_never_import_api_web_or_admin():
    wrong = [
        (module, target)
        for module, (top, local) in GRAPH.items()
        if module.startswith(LOWER_LAYERS)
        for target in top | local
        if target.startswith(UPPER_LAYERS)
    ]
    assert wrong == []


def test_models_never_import_services():
    wrong = [
        (module, target)
        for module, (top, local) in GRAPH.items()
        if module.startswith("functions_app.models")
        for target in top | local
        if target.startswith("functions_app.services")
    ]
    assert wrong == []


def test_console_and_admin_never_import_api_views():
    """They share the API's input parsing (``INPUT_PARSING``), nothing else of it."""
    wrong = [
        (module, target)
        for module, (top, local) in GRAPH.items()
        if module.startswith(("functions_app.web", "functions_app.admin"))
        for target in top | local
        if target.startswith("functions_app.api") and target not in INPUT_PARSING
    ]
    assert wrong == []


def test_input_parsing_imports_no_view():
    wrong = [
        (module, target)
        for module in INPUT_PARSING
        for target in GRAPH[module][0] | GRAPH[module][1]
        if target.startswith("functions_app.api") and target not in INPUT_PARSING
    ]
    assert wrong == []


def test_function_level_imports_are_the_listed_few():
    local = {(module, target) for module, (_, inner) in GRAPH.items() for target in inner}
    assert local == set(ALLOWED_LOCAL_IMPORTS)


@pytest.mark.parametrize(
    "graph, expected",
    [
        ({"a": {"b"}, "b": {"a"}, "c": set()}, [["a", "b"]]),
        ({"a": {"b"}, "b": {"c"}, "c": set()}, []),
        ({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}, [["a", "b", "c"]]),
    ],
)
def test_cycle_finder(graph, expected):
    assert cycles(graph) == expected
