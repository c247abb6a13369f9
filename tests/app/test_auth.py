"""Sign-in, switched on by configuration, against the real served app.

With it on, the page, its websocket and its session routes refuse anyone not
signed in, while the probes keep answering as Kubernetes asks them: without
credentials. Passwords and the cookie secret never reach the log or the page.
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
from collections.abc import Callable
from http.cookiejar import CookieJar
from pathlib import Path

import pytest
from playwright.sync_api import expect

from dashboard.auth import (
    COOKIE_SECRET_VARIABLE,
    PASSWORD_VARIABLE,
    USERS_FILE_VARIABLE,
)
from tests.app.conftest import SOC_COPILOT, ServedApp, server_environment
from tests.app.loopback import Answer, send
from tests.app.test_dashboard_browser import PAGE_TEXT
from tests.conftest import HOST

PASSWORD = "shared-pa55word-only-the-tests-know"
COOKIE_SECRET = "cookie-secret-of-the-auth-tests-0123456789abcdef"
USERS = {"ana": "ana-pa55word-from-the-users-file",
         "ben": "ben-pa55word-from-the-users-file"}
SECRETS = [PASSWORD, COOKIE_SECRET, *USERS.values()]

# The first page of a server process reads and scores the events.
LOAD_TIMEOUT_MS = 45_000
PAGE_SECONDS = LOAD_TIMEOUT_MS / 1000
START_REFUSAL_SECONDS = 60

# Only the dashboard's own page embeds a session (its views then follow over
# the websocket); the login page and a refusal never do.
DASHBOARD_MARKER = b"Bokeh.embed.embed_items"
PANEL_REFUSAL = "Invalid username or password!"


@pytest.fixture(scope="module")
def users_file(tmp_path_factory) -> Path:
    """A users file as a mounted Secret would hold it."""
    path = tmp_path_factory.mktemp("auth") / "users.json"
    path.write_text(json.dumps(USERS))
    return path


def shared_password_env(s3_env: dict[str, str]) -> dict[str, str]:
    # DEBUG so that nothing the app logs is left out of the secrets check.
    return {**s3_env, PASSWORD_VARIABLE: PASSWORD,
            COOKIE_SECRET_VARIABLE: COOKIE_SECRET, "SOC_COPILOT_LOG_LEVEL": "DEBUG"}


@pytest.fixture
def served_app(app_servers, s3_env, uploaded_buckets) -> ServedApp:
    """The app with one shared password (the ``page`` fixture opens this one)."""
    return app_servers.serve(shared_password_env(s3_env))


@pytest.fixture
def unready_app(app_servers, s3_env, uploaded_buckets) -> ServedApp:
    """Signed-in only, and pointed at a models bucket the store does not have."""
    return app_servers.serve({**shared_password_env(s3_env),
                              "MODELS_BUCKET": "missing-bucket"})


@pytest.fixture
def users_app(app_servers, s3_env, uploaded_buckets, users_file) -> ServedApp:
    """The app with named users from a file."""
    return app_servers.serve({**s3_env, USERS_FILE_VARIABLE: str(users_file),
                              COOKIE_SECRET_VARIABLE: COOKIE_SECRET})


@pytest.fixture
def open_app(app_servers, s3_env, uploaded_buckets) -> ServedApp:
    """The app as configured by default: no sign-in."""
    return app_servers.serve(s3_env)


def sign_in(app: ServedApp, user: str, password: str) -> tuple[Answer, CookieJar]:
    """Panel's login form, posted as a browser would; the answer and cookies."""
    cookies = CookieJar()
    send(f"{app.url}login?next=%2F", cookies=cookies)
    answer = send(f"{app.url}login", form={"username": user, "password": password},
                  cookies=cookies)
    return answer, cookies


def cookie_names(cookies: CookieJar) -> set[str]:
    return {cookie.name for cookie in cookies}


def assert_sent_to_login(answer: Answer) -> None:
    assert answer.status == 302, answer
    assert answer.location.split("?")[0].endswith("/login"), answer.location
    assert DASHBOARD_MARKER not in answer.body


def assert_secrets_absent(text: str | bytes, where: str) -> None:
    if isinstance(text, bytes):
        text = text.decode(errors="replace")
    for secret in SECRETS:
        assert secret not in text, f"a secret shows in {where}"


# --- refused without signing in -------------------------------------------------

def test_page_without_sign_in_is_redirected_to_the_login_page(served_app):
    answer = send(served_app.url)

    assert_sent_to_login(answer)
    assert "next=%2F" in answer.location


def test_login_page_is_ours_and_loads_nothing_from_another_host(served_app):
    answer = send(f"{served_app.url}login")

    assert answer.status == 200
    page = answer.body.decode()
    assert 'class="login-form"' in page
    assert 'type="password"' in page
    assert not re.search(r"(src|href)=\"(https?:)?//", page)
    assert DASHBOARD_MARKER not in answer.body


@pytest.mark.parametrize("route, refusal", [
    ("ws", 403),
    ("autoload.js?bokeh-autoload-element=x", 302),
    ("metadata", 302),
])
def test_websocket_and_session_routes_refuse_without_sign_in(
        served_app, route, refusal):
    answer = send(f"{served_app.url}{route}")

    assert answer.status == refusal, answer
    if refusal == 302:
        assert_sent_to_login(answer)


def test_a_forged_user_cookie_is_not_accepted(served_app):
    # The cookie must carry the server's signature, not just a user name.
    cookies = CookieJar()
    _answer, signed = sign_in(served_app, "ana", PASSWORD)
    forged = next(cookie for cookie in signed if cookie.name == "user")
    forged.value = forged.value[:-8] + "0" * 8
    cookies.set_cookie(forged)

    assert_sent_to_login(send(served_app.url, cookies=cookies))


# --- the probes stay open ------------------------------------------------------

def test_healthz_answers_without_sign_in(served_app):
    answer = send(f"{served_app.url}healthz")

    assert (answer.status, json.loads(answer.body)) == (200, {"status": "alive"})


def test_readyz_answers_ready_without_sign_in(served_app):
    answer = send(f"{served_app.url}readyz")

    assert answer.status == 200
    assert json.loads(answer.body)["status"] == "ready"


def test_readyz_answers_unavailable_without_sign_in(unready_app):
    answer = send(f"{unready_app.url}readyz")

    assert answer.status == 503
    assert "missing-bucket" in json.loads(answer.body)["reason"]


# --- signing in over HTTP -------------------------------------------------------

def test_a_wrong_password_is_refused(served_app):
    answer, cookies = sign_in(served_app, "ana", PASSWORD + "-not")

    assert answer.status == 302
    assert "/login?error=" in answer.location
    assert "user" not in cookie_names(cookies)
    assert_sent_to_login(send(served_app.url, cookies=cookies))


def test_the_shared_password_opens_the_page(served_app):
    answer, cookies = sign_in(served_app, "ana", PASSWORD)

    assert (answer.status, answer.location) == (302, "/")
    assert "user" in cookie_names(cookies)
    user_cookie = next(header for header in answer.headers.get_all("Set-Cookie")
                       if header.startswith("user="))
    assert "httponly" in user_cookie.lower()
    page = send(served_app.url, cookies=cookies, timeout=PAGE_SECONDS)
    assert page.status == 200
    assert DASHBOARD_MARKER in page.body


def test_secrets_never_reach_the_log_the_cookies_or_the_page(served_app):
    _answer, cookies = sign_in(served_app, "ana", PASSWORD)
    page = send(served_app.url, cookies=cookies, timeout=PAGE_SECONDS)
    assert DASHBOARD_MARKER in page.body
    send(f"{served_app.url}readyz")

    assert_secrets_absent(page.body, "the page")
    assert_secrets_absent(" ".join(cookie.value or "" for cookie in cookies),
                          "the cookies")
    log = served_app.log.read_text(errors="replace")
    assert "access control on: Panel basic auth, one shared password" in log
    assert_secrets_absent(log, "the server log")


# --- named users from a file ----------------------------------------------------

def test_each_named_user_signs_in_with_their_own_password(users_app):
    for user, password in USERS.items():
        answer, cookies = sign_in(users_app, user, password)
        assert answer.status == 302 and answer.location == "/", user
        page = send(users_app.url, cookies=cookies, timeout=PAGE_SECONDS)
        assert DASHBOARD_MARKER in page.body, user


@pytest.mark.parametrize("user, password", [
    ("ana", USERS["ben"]),           # another user's password
    ("carol", USERS["ana"]),         # a name not in the file
    ("ana", PASSWORD),               # the shared password is not set here
])
def test_the_users_file_refuses_other_combinations(users_app, user, password):
    answer, cookies = sign_in(users_app, user, password)

    assert "/login?error=" in answer.location
    assert_sent_to_login(send(users_app.url, cookies=cookies))


def test_the_users_file_mode_is_logged_without_names_or_passwords(users_app):
    log = users_app.log.read_text(errors="replace")

    line = next(line for line in log.splitlines() if "access control on" in line)
    assert "Panel basic auth, 2 named users from" in line
    assert not any(user in line for user in USERS)
    assert_secrets_absent(log, "the server log")


# --- off unless configured --------------------------------------------------------

def test_without_configuration_the_page_opens_without_sign_in(open_app):
    answer = send(open_app.url, timeout=PAGE_SECONDS)

    assert answer.status == 200
    assert DASHBOARD_MARKER in answer.body
    assert "access control off" in open_app.log.read_text(errors="replace")


# --- settings that must not start -----------------------------------------------

def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def _write(folder: Path, name: str, text: str) -> str:
    path = folder / name
    path.write_text(text)
    return str(path)


RefusedSetting = Callable[[Path], tuple[dict[str, str], list[str]]]

REFUSED_SETTINGS: dict[str, tuple[RefusedSetting, str]] = {
    "password without cookie secret": (
        lambda _folder: ({PASSWORD_VARIABLE: PASSWORD}, []),
        f"{COOKIE_SECRET_VARIABLE} is not set"),
    "short cookie secret": (
        lambda _folder: ({PASSWORD_VARIABLE: PASSWORD,
                          COOKIE_SECRET_VARIABLE: COOKIE_SECRET[:31]}, []),
        "shorter than 32 characters"),
    "cookie secret without password": (
        lambda _folder: ({COOKIE_SECRET_VARIABLE: COOKIE_SECRET}, []),
        "would be open to anyone"),
    "password and users file": (
        lambda folder: ({PASSWORD_VARIABLE: PASSWORD,
                         USERS_FILE_VARIABLE: _write(folder, "u.json",
                                                     json.dumps(USERS)),
                         COOKIE_SECRET_VARIABLE: COOKIE_SECRET}, []),
        "set one of them"),
    "users file flag naming no file": (
        lambda folder: ({COOKIE_SECRET_VARIABLE: COOKIE_SECRET},
                        ["--basic-auth-file", str(folder / "absent.json")]),
        "cannot read the users file"),
    "users file that is not JSON": (
        lambda folder: ({USERS_FILE_VARIABLE: _write(
            folder, "u.yaml", f"ana: {USERS['ana']}\n"),
            COOKIE_SECRET_VARIABLE: COOKIE_SECRET}, []),
        "is not JSON"),
    "users file that is a list": (
        lambda folder: ({USERS_FILE_VARIABLE: _write(
            folder, "u.json", json.dumps([USERS["ana"]])),
            COOKIE_SECRET_VARIABLE: COOKIE_SECRET}, []),
        "must hold a JSON object"),
    "shared password naming a file": (
        lambda folder: ({PASSWORD_VARIABLE: _write(folder, "p.json", "{}"),
                         COOKIE_SECRET_VARIABLE: COOKIE_SECRET}, []),
        "names a file"),
}


@pytest.mark.parametrize("setting", sorted(REFUSED_SETTINGS))
def test_settings_that_would_weaken_sign_in_refuse_to_start(setting, tmp_path):
    build, reason = REFUSED_SETTINGS[setting]
    env, extra_args = build(tmp_path)
    command = [str(SOC_COPILOT), "serve", "--port", str(_free_port()),
               "--address", HOST, *extra_args]

    # A server that does start would outlive the timeout; run() then kills it.
    result = subprocess.run(command, env=server_environment(env), text=True,
                            capture_output=True, timeout=START_REFUSAL_SECONDS,
                            check=False)

    assert result.returncode != 0
    assert reason in result.stderr
    assert_secrets_absent(result.stdout + result.stderr, "the error")


# --- in the browser ---------------------------------------------------------------

def sign_in_through_the_form(page, app: ServedApp, user: str, password: str) -> None:
    page.goto(app.url)
    expect(page).to_have_url(re.compile(r"/login\?next="))
    page.locator("#username").fill(user)
    page.locator("#password").fill(password)
    page.locator("button[type=submit]").click()


@pytest.mark.browser
def test_the_login_form_refuses_a_wrong_password(page, served_app):
    sign_in_through_the_form(page, served_app, "ana", "not-the-password")

    expect(page.locator(".login-error")).to_have_text(PANEL_REFUSAL)
    assert page.locator(".store-status").count() == 0


@pytest.mark.browser
def test_signing_in_through_the_form_shows_the_dashboard_then_signs_out(
        page, served_app):
    sign_in_through_the_form(page, served_app, "ana", PASSWORD)

    expect(page.locator(".store-status")).to_be_visible(timeout=LOAD_TIMEOUT_MS)
    expect(page.locator(".signed-in")).to_contain_text("Signed in as ana")
    # The views draw over the websocket: a tab drawn on demand proves it open.
    page.locator(".bk-tab:text-is('Models')").click()
    expect(page.locator(".model-details").first).to_be_attached(
        timeout=LOAD_TIMEOUT_MS)
    assert_secrets_absent(page.evaluate(PAGE_TEXT), "the page's text")

    page.get_by_role("link", name="Sign out").click()
    expect(page.locator(".logout")).to_contain_text("signed out")
    page.goto(served_app.url)
    expect(page).to_have_url(re.compile(r"/login\?next="))
    assert page.locator(".store-status").count() == 0
