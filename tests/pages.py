"""Helpers for reading rendered pages in tests."""
from __future__ import annotations

import re

_TOKEN = re.compile(r'(name="csrfmiddlewaretoken" value=")[^"]*(")')


def html_without_tokens(response) -> str:
    """The page's HTML with CSRF token values blanked.

    A token is 64 random letters and digits, so a test that checks a short string is absent
    (a number, a word) would otherwise fail now and then when the token happens to contain it.
    """
    return _TOKEN.sub(r"\1\2", response.content.decode())
