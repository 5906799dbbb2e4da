"""The project's architecture, checked on its source, with no list of exemptions.

Three apps whose dependencies point one way: ``importer`` → ``shares`` → ``community``. Only the
project's own package, ``config/`` (settings, root URLconf, WSGI/ASGI, the Celery app), composes
them: it sits above every app, no app imports it, and it holds no views and no models. The home
page is a page of ``shares`` (the app whose data it shows), ``/healthz`` is ``community.health``
and ``serve`` a command of ``community`` that imports nothing above it.

What is checked, on the graph of the imports between the project's modules (read with ``ast``):

(a) layers: no module of an app imports a module of a package above it (``config`` counts as
    the top). Every import counts, at module level or inside a function, migrations included;
(b) cycles: no module imports itself through others. Imports inside functions count too: a
    deferred import only hides a cycle from Python's loader — the two modules still cannot be
    read, tested or moved one without the other. Only imports under ``if TYPE_CHECKING:`` are
    left out of this graph: they never run;
(c) ``config`` uses no private name (``_name``) of an app: it composes apps by what they offer.
"""

from __future__ import annotations

import ast
from pathlib import Path

from django.conf import settings

REPO = Path(__file__).resolve().parents[1]
LAYERS = ("community", "shares", "importer", "config")  # lowest first


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(node: ast.AST) -> bool:
    test = node.test if isinstance(node, ast.If) else None
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(tree: ast.AST, *, type_checking: bool):
    """Every import statement in the tree, at any depth (functions and classes included)."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        for child in ast.iter_child_nodes(node):
            if type_checking or not _is_type_checking(child):
                stack.append(child)


def import_graph(root: Path, packages=LAYERS, *, type_checking: bool = True) -> dict[str, dict[str, tuple[int, list[str]]]]:
    """``{module: {imported module: (line, names imported)}}`` for the project's modules under ``root``.

    ``from package import name`` points at ``package.name`` when that is a module of the project,
    else at ``package`` itself; ``import a.b.c`` at the longest of ``a.b.c``, ``a.b``, ``a`` that
    is a module of the project. Imports of anything else (Django, the standard library) are left out."""
    paths = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            paths[_module_name(path, root)] = path
    known = set(paths)

    def nearest(name: str) -> str | None:
        while name and name not in known:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, dict[str, tuple[int, list[str]]]] = {}
    for module, path in paths.items():
        edges: dict[str, tuple[int, list[str]]] = {}
        is_package = path.name == "__init__.py"
        for node in _imports(ast.parse(path.read_text(encoding="utf-8"), str(path)), type_checking=type_checking):
            targets: list[tuple[str | None, str]] = []
            if isinstance(node, ast.Import):
                targets = [(nearest(alias.name), alias.name) for alias in node.names]
            else:
                base = node.module or ""
                if node.level:
                    anchor = module if is_package else module.rpartition(".")[0]
                    for _ in range(node.level - 1):
                        anchor = anchor.rpartition(".")[0]
                    base = f"{anchor}.{base}" if base else anchor
                for alias in node.names:
                    submodule = f"{base}.{alias.name}"
                    targets.append((submodule, alias.name) if submodule in known else (nearest(base), alias.name))
            for target, name in targets:
                if target is not None and target != module:
                    line, names = edges.setdefault(target, (node.lineno, []))
                    names.append(name)
        graph[module] = edges
    return graph


def layer_violations(graph, layers=LAYERS) -> list[str]:
    """``module:line imports module`` for each import of a package above the importer's own."""
    rank = {package: position for position, package in enumerate(layers)}
    found = []
    for module, edges in sorted(graph.items()):
        for target, (line, _names) in sorted(edges.items()):
            if rank.get(target.split(".")[0], -1) > rank[module.split(".")[0]]:
                found.append(f"{module}:{line} imports {target}")
    return found


def import_cycles(graph) -> list[list[str]]:
    """The sets of modules that import each other, directly or through others (Tarjan's
    strongly connected components of more than one module), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, {}):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(cycles)


def private_uses(graph, composer: str = "config") -> list[str]:
    """``module:line uses target._name`` for each private name of an app that ``composer`` imports."""
    found = []
    for module, edges in sorted(graph.items()):
        if module.split(".")[0] != composer:
            continue
        for target, (line, names) in sorted(edges.items()):
            private = [name for name in names if name.startswith("_") and not name.startswith("__")]
            if target.split(".")[0] != composer and (private or target.rpartition(".")[2].startswith("_")):
                found.append(f"{module}:{line} uses {target}{''.join('.' + n for n in private)}")
    return found


def test_no_module_imports_a_package_above_its_own():
    assert layer_violations(import_graph(REPO)) == []


def test_no_import_cycles_between_modules():
    assert import_cycles(import_graph(REPO, type_checking=False)) == []


def test_config_uses_no_private_helper_of_an_app():
    assert private_uses(import_graph(REPO)) == []


def test_config_is_no_app_and_holds_no_views_nor_models():
    assert not any(app == "config" or app.startswith("config.") for app in settings.INSTALLED_APPS)
    assert sorted(path.name for path in (REPO / "config").rglob("*.py") if "view" in path.name or "model" in path.name) == []


def _tree(root: Path, files: dict[str, str]) -> Path:
    for name, source in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source, encoding="utf-8")
    return root


def test_checker_reports_planted_violations(tmp_path):
    root = _tree(tmp_path, {
        "community/__init__.py": "",
        "community/models.py": "from django.db import models\n",
        "community/rules.py": "from community.models import Group\n\n\ndef f():\n    from shares import selectors\n",
        "community/migrations/__init__.py": "",
        "community/migrations/0001_initial.py": "import importer.parse\n",
        "community/signals.py": "from config.celery import app\n",
        "shares/__init__.py": "",
        "shares/selectors.py": "from community.models import Group\n",
        "importer/__init__.py": "",
        "importer/parse.py": "import re\n",
        "importer/tasks.py": "from .uploads import run\n",
        "importer/uploads.py": "def run():\n    from .tasks import task\n",
        "importer/typed.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from importer.hinted import X\n",
        "importer/hinted.py": "from . import typed\n",
        "config/__init__.py": "",
        "config/celery.py": "",
        "config/urls.py": "from shares.selectors import _visible, latest\nfrom community import rules\n",
    })
    graph = import_graph(root)
    assert layer_violations(graph) == [
        "community.migrations.0001_initial:1 imports importer.parse",
        "community.rules:5 imports shares.selectors",
        "community.signals:1 imports config.celery",
    ]
    # The uploads ↔ tasks cycle is found though one side imports inside a function; the
    # typed ↔ hinted one only when imports under TYPE_CHECKING are counted.
    assert import_cycles(import_graph(root, type_checking=False)) == [["importer.tasks", "importer.uploads"]]
    assert import_cycles(graph) == [["importer.hinted", "importer.typed"], ["importer.tasks", "importer.uploads"]]
    assert private_uses(graph) == ["config.urls:1 uses shares.selectors._visible"]


def test_checker_finds_nothing_in_a_clean_tree(tmp_path):
    root = _tree(tmp_path, {
        "community/__init__.py": "",
        "community/models.py": "",
        "shares/__init__.py": "from community import models\n",
        "importer/__init__.py": "",
        "importer/tasks.py": "from . import uploads\nfrom shares import *\n",
        "importer/uploads.py": "from community.models import Group\n",
        "config/__init__.py": "",
        "config/urls.py": "from importer import tasks\nfrom shares import __version__\n",
    })
    graph = import_graph(root)
    assert (layer_violations(graph), import_cycles(graph), private_uses(graph)) == ([], [], [])
    assert graph["importer.tasks"] == {"importer.uploads": (1, ["uploads"]), "shares": (2, ["*"])}
