"""Plain HTTP to the servers the tests start, on loopback and never via a proxy."""

from __future__ import annotations

import http.cookiejar
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from email.message import Message

LOOPBACK_PREFIX = "http://127.0.0.1:"

_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def get(url: str, timeout: float = 5.0) -> tuple[int, bytes]:
    """Status and body of a GET; an error status is an answer, not an exception."""
    _require_loopback(url)
    try:
        with _OPENER.open(url, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.read()


@dataclass(frozen=True)
class Answer:
    """One response, exactly as the server sent it (redirects not followed)."""

    status: int
    headers: Message
    body: bytes

    @property
    def location(self) -> str:
        return self.headers.get("Location", "")


class _KeepRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is the answer under test, so it is returned, not followed."""

    def redirect_request(self, *_args, **_kwargs):
        return None


def send(url: str, form: dict[str, str] | None = None,
         cookies: http.cookiejar.CookieJar | None = None,
         timeout: float = 5.0) -> Answer:
    """GET, or POST ``form`` when given, keeping cookies in ``cookies``."""
    _require_loopback(url)
    handlers = [urllib.request.ProxyHandler({}), _KeepRedirects()]
    if cookies is not None:
        handlers.append(urllib.request.HTTPCookieProcessor(cookies))
    opener = urllib.request.build_opener(*handlers)
    data = None if form is None else urllib.parse.urlencode(form).encode()
    try:
        with opener.open(url, data=data, timeout=timeout) as response:
            return Answer(response.status, response.headers, response.read())
    except urllib.error.HTTPError as error:
        with error:
            return Answer(error.code, error.headers, error.read())


def _require_loopback(url: str) -> None:
    if not url.startswith(LOOPBACK_PREFIX):
        raise ValueError(f"tests only talk to loopback servers, not {url}")
