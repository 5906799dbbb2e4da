"""Every route of the API, and every method it answers, is in a permission matrix.

The matrices themselves (each endpoint and method over the seven roles: anonymous, member,
member of another group, speaker, group admin, admin of another group, staff) are in
``tests/community/test_api_matrix.py`` and ``tests/shares/test_api_matrix.py``; each names
what it covers in ``ENDPOINTS``. A new endpoint, or a new method on one, fails here until a
matrix covers it.
"""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, get_resolver

from tests.community.test_api_matrix import ENDPOINTS as COMMUNITY_ENDPOINTS
from tests.shares.test_api_matrix import ENDPOINTS as SHARES_ENDPOINTS

# The schema and its documentation page are public and read-only by design.
UNGUARDED = {"api:schema", "api:docs"}
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]


def _api_routes(patterns, namespace: str | None = None):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _api_routes(pattern.url_patterns, pattern.namespace or namespace)
        elif isinstance(pattern, URLPattern) and namespace == "api":
            yield f"api:{pattern.name}", pattern.callback


def _methods(view) -> set[str]:
    view_class = getattr(view, "cls", None) or getattr(view, "view_class", None)
    if view_class is None:  # a function view: its allowed methods are not introspectable
        return {"GET"}
    return {method for method in METHODS if hasattr(view_class, method.lower())}


def test_every_api_route_and_method_is_in_a_permission_matrix():
    served = {
        (method, name)
        for name, view in _api_routes(get_resolver().url_patterns)
        if name not in UNGUARDED
        for method in _methods(view)
    }
    covered = set(COMMUNITY_ENDPOINTS) | set(SHARES_ENDPOINTS)

    assert len(served) >= 10
    assert sorted(served - covered) == []
    assert sorted(covered - served) == []  # a matrix naming a route that does not exist tests nothing
