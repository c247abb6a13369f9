"""Plain HTTP to the servers the tests start, on loopback and never via a proxy."""

from __future__ import annotations

import urllib.error
import urllib.request

LOOPBACK_PREFIX = "http://127.0.0.1:"

_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def get(url: str, timeout: float = 5.0) -> tuple[int, bytes]:
    """Status and body of a GET; an error status is an answer, not an exception."""
    if not url.startswith(LOOPBACK_PREFIX):
        raise ValueError(f"tests only talk to loopback servers, not {url}")
    try:
        with _OPENER.open(url, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.read()
