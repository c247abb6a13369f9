"""Optional access control: Panel's basic auth, switched on by configuration.

Off by default. It is on when one of these is set:

- ``SOC_COPILOT_BASIC_AUTH``: one password shared by every analyst (any user
  name is accepted with it);
- ``SOC_COPILOT_BASIC_AUTH_FILE`` (or ``--basic-auth-file``): a JSON object of
  user name to password, typically a mounted Kubernetes Secret.

When it is on, ``SOC_COPILOT_COOKIE_SECRET`` must be set as well: it signs the
cookie that keeps an analyst signed in. Passwords and the cookie secret come
only from the environment or the file, and nothing here logs or shows them.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

PASSWORD_VARIABLE = "SOC_COPILOT_BASIC_AUTH"
USERS_FILE_VARIABLE = "SOC_COPILOT_BASIC_AUTH_FILE"
COOKIE_SECRET_VARIABLE = "SOC_COPILOT_COOKIE_SECRET"

# The cookie is signed with HMAC-SHA256; a short secret could be guessed offline
# from one captured cookie, so anything shorter is refused.
MIN_COOKIE_SECRET_LENGTH = 32

TEMPLATES = Path(__file__).with_name("templates")
LOGIN_TEMPLATE = TEMPLATES / "login.html"
LOGOUT_TEMPLATE = TEMPLATES / "logout.html"

COOKIE_SECRET_HINT = (
    "make one with: python3 -c 'import secrets; print(secrets.token_urlsafe(32))'")


class AccessConfigError(ValueError):
    """Access control is asked for but cannot be switched on as configured.

    The message names variables and files, never a secret value.
    """


@dataclass(frozen=True, repr=False)
class AccessControl:
    """Who may sign in, and the secret that signs their cookie."""

    credentials: str | Mapping[str, str]
    cookie_secret: str
    source: str

    @property
    def mode(self) -> str:
        """How analysts sign in, for the log: never a name or a password."""
        if isinstance(self.credentials, str):
            return f"one shared password from {self.source}"
        return f"{len(self.credentials)} named users from {self.source}"

    def serve_options(self) -> dict[str, object]:
        """Keyword arguments for ``pn.serve`` that switch basic auth on."""
        credentials = self.credentials
        if not isinstance(credentials, str):
            credentials = dict(credentials)
        return {
            "basic_auth": credentials,
            "cookie_secret": self.cookie_secret,
            "login_template": str(LOGIN_TEMPLATE),
            "logout_template": str(LOGOUT_TEMPLATE),
        }

    def __repr__(self) -> str:
        return f"AccessControl(mode={self.mode!r})"


def access_control(users_file: str | None = None,
                   environ: Mapping[str, str] | None = None) -> AccessControl | None:
    """The configured access control, or None when it is off.

    ``users_file`` (the command line's) wins over ``SOC_COPILOT_BASIC_AUTH_FILE``.
    Raises ``AccessConfigError`` for a configuration that must not start.
    """
    environ = os.environ if environ is None else environ
    password = environ.get(PASSWORD_VARIABLE, "").strip()
    users_path = (users_file or environ.get(USERS_FILE_VARIABLE, "")).strip()
    cookie_secret = environ.get(COOKIE_SECRET_VARIABLE, "").strip()
    if password and users_path:
        raise AccessConfigError(
            f"both {PASSWORD_VARIABLE} and a users file ({USERS_FILE_VARIABLE} or "
            "--basic-auth-file) are set; set one of them")
    if not password and not users_path:
        _refuse_stray_cookie_secret(cookie_secret)
        return None
    _require_cookie_secret(cookie_secret)
    if users_path:
        return AccessControl(read_users(Path(users_path)), cookie_secret,
                             source=users_path)
    _refuse_password_naming_a_file(password)
    return AccessControl(password, cookie_secret, source=PASSWORD_VARIABLE)


def read_users(path: Path) -> dict[str, str]:
    """User name to password from a JSON object; errors never quote the file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise AccessConfigError(
            f"cannot read the users file {path}: {exc.strerror}") from None
    try:
        users = json.loads(text)
    except json.JSONDecodeError as exc:
        # The decoder's message names a position only, never the content.
        raise AccessConfigError(
            f"the users file {path} is not JSON (line {exc.lineno}, column "
            f"{exc.colno})") from None
    if not isinstance(users, dict) or not users:
        raise AccessConfigError(
            f"the users file {path} must hold a JSON object of user name to "
            "password, with at least one user")
    for name, password in users.items():
        if not name.strip() or not isinstance(password, str) or not password:
            raise AccessConfigError(
                f"the users file {path} has an empty user name or a password "
                "that is not a non-empty string")
    return users


def _require_cookie_secret(cookie_secret: str) -> None:
    if not cookie_secret:
        raise AccessConfigError(
            f"access control is on but {COOKIE_SECRET_VARIABLE} is not set; it "
            f"signs the sign-in cookie ({COOKIE_SECRET_HINT})")
    if len(cookie_secret) < MIN_COOKIE_SECRET_LENGTH:
        raise AccessConfigError(
            f"{COOKIE_SECRET_VARIABLE} is shorter than "
            f"{MIN_COOKIE_SECRET_LENGTH} characters ({COOKIE_SECRET_HINT})")


def _refuse_stray_cookie_secret(cookie_secret: str) -> None:
    # A cookie secret without a password most likely means the password was
    # meant to be set and is missing (a mistyped Secret key, say): starting
    # without access control would be the wrong guess.
    if cookie_secret:
        raise AccessConfigError(
            f"{COOKIE_SECRET_VARIABLE} is set but neither {PASSWORD_VARIABLE} "
            f"nor {USERS_FILE_VARIABLE} is: the dashboard would be open to "
            "anyone; set the password, or unset the cookie secret")


def _refuse_password_naming_a_file(password: str) -> None:
    # Panel reads a basic-auth value that names an existing file as a users
    # file; a shared password must never be taken for a path.
    if os.path.isfile(password):
        raise AccessConfigError(
            f"{PASSWORD_VARIABLE} names a file on this machine; for a file of "
            f"users set {USERS_FILE_VARIABLE} instead")
