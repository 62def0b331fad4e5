"""Every URL the project serves declares an access policy, so a new page cannot ship unguarded."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver

from complexcases.accounts.policy import NAMESPACE_POLICIES, POLICIES, policy_of


def _patterns(
    patterns: list[Any], prefix: str = "", namespaces: tuple[str, ...] = ()
) -> Iterator[tuple[str, tuple[str, ...], Any]]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            namespace = (pattern.namespace,) if pattern.namespace else ()
            yield from _patterns(
                pattern.url_patterns, prefix + str(pattern.pattern), namespaces + namespace
            )
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), namespaces, pattern.callback


def _declared(namespaces: tuple[str, ...], callback: Any) -> str | None:
    for namespace in namespaces:
        if namespace in NAMESPACE_POLICIES:
            return NAMESPACE_POLICIES[namespace]
    return policy_of(callback)


def test_every_url_pattern_declares_a_known_access_policy() -> None:
    seen = list(_patterns(get_resolver().url_patterns))
    assert len(seen) > 10
    missing = [route for route, namespaces, callback in seen if not _declared(namespaces, callback)]
    assert missing == [], f"URL patterns without a declared access policy: {missing}"
    unknown = {
        _declared(namespaces, callback)
        for _route, namespaces, callback in seen
        if _declared(namespaces, callback) not in POLICIES
    }
    assert unknown == set()


def test_the_policy_check_catches_an_undeclared_view() -> None:
    def undeclared(request: Any) -> None:
        return None

    assert _declared((), undeclared) is None
    assert _declared(("admin",), undeclared) == "django_admin"
