"""Showing text that came from the store inside Markdown, as text only.

Object names, column values, metric names and error messages are data: an
``<img onerror=...>`` must not become markup, and ``![x](http://...)`` must not
become an image the browser fetches. HTML is escaped and every Markdown
punctuation character is backslash-escaped, which Markdown renders as itself.
"""

from __future__ import annotations

import html
import re

# Markdown's escapable punctuation, less the characters HTML escaping handles.
MARKDOWN_PUNCTUATION = re.compile(r"([\\`*_{}\[\]()#+\-.!|~:])")


def as_text(value: object) -> str:
    """``value`` as Markdown source that renders exactly as its characters."""
    marked = MARKDOWN_PUNCTUATION.sub(r"\\\1", str(value))
    return html.escape(marked, quote=False)
