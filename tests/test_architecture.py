"""Dependencies point one way: importer → shares → community. Only the project-level modules
that live in ``community/`` (settings, root URLconf, Celery app, WSGI/ASGI, home page, the
``serve`` command) compose every app."""

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PROJECT_LEVEL = {"community/urls.py", "community/celery.py", "community/wsgi.py", "community/asgi.py",
                 "community/home.py", "community/management/commands/serve.py"}


def imported_apps(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def offenders(app: str, forbidden: set[str]) -> list[str]:
    found = []
    for path in sorted((REPO / app).rglob("*.py")):
        relative = path.relative_to(REPO).as_posix()
        if relative in PROJECT_LEVEL or relative.startswith(("community/settings/", f"{app}/migrations/")):
            continue
        bad = imported_apps(path) & forbidden
        if bad:
            found.append(f"{relative}: {', '.join(sorted(bad))}")
    return found


def test_community_imports_neither_shares_nor_importer():
    assert offenders("community", {"shares", "importer"}) == []


def test_shares_never_imports_importer():
    assert offenders("shares", {"importer"}) == []
