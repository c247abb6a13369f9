"""``soc-copilot``: the command line that serves the dashboard."""

from __future__ import annotations

import argparse
import logging
import os
import sys

from components import LOGGER_NAME, get_logger
from dashboard.auth import AccessConfigError, AccessControl, access_control

log = get_logger(__name__)


def _origins(raw: str) -> list[str]:
    return [origin.strip() for origin in raw.split(",") if origin.strip()]


def build_parser() -> argparse.ArgumentParser:
    env = os.environ.get
    parser = argparse.ArgumentParser(prog="soc-copilot", description=(
        "Read-only dashboard for the anomaly-detection pipeline's artifacts."))
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve the dashboard")
    serve.add_argument("--port", type=int, default=int(env("SOC_COPILOT_PORT", 5006)),
                       help="port to listen on (SOC_COPILOT_PORT; default 5006)")
    serve.add_argument("--address", default=env("SOC_COPILOT_ADDRESS", "127.0.0.1"),
                       help="address to bind (SOC_COPILOT_ADDRESS; default "
                            "127.0.0.1, use 0.0.0.0 in a container)")
    serve.add_argument("--allow-websocket-origin", action="append", default=None,
                       metavar="HOST[:PORT]", help=(
                           "browser origin allowed to open the websocket; repeat "
                           "or comma-separate (SOC_COPILOT_ALLOWED_ORIGINS)"))
    # Only the file's path is an option: a password on the command line would
    # show in the process list, so the shared password is read from the
    # environment alone.
    serve.add_argument("--basic-auth-file", default=None, metavar="PATH", help=(
        "JSON file of user name to password; switches sign-in on "
        "(SOC_COPILOT_BASIC_AUTH_FILE; see also SOC_COPILOT_BASIC_AUTH and "
        "SOC_COPILOT_COOKIE_SECRET)"))
    serve.add_argument("--log-level", default=env("SOC_COPILOT_LOG_LEVEL", "INFO"))
    return parser


def allowed_origins(port: int, requested: list[str] | None) -> list[str]:
    """Origins the websocket accepts: this machine, plus any configured."""
    configured = _origins(",".join(requested or [])) or _origins(
        os.environ.get("SOC_COPILOT_ALLOWED_ORIGINS", ""))
    local = [f"localhost:{port}", f"127.0.0.1:{port}"]
    return list(dict.fromkeys(local + configured))


def log_access_control(control: AccessControl | None) -> None:
    """Say whether sign-in is on and how; never a name or a secret."""
    if control is None:
        log.info("access control off: anyone who reaches the port sees the "
                 "dashboard")
        return
    log.info("access control on: Panel basic auth, %s; /healthz and /readyz "
             "answer without sign-in", control.mode)


def serve(args: argparse.Namespace) -> None:
    # Checked before Panel loads, so a wrong setting fails at once.
    try:
        control = access_control(args.basic_auth_file)
    except AccessConfigError as exc:
        sys.exit(f"soc-copilot: access control: {exc}")

    import panel as pn

    from components.store import ConfigError
    from components.store.dask_client import DaskSettings, check_installed

    try:
        # Importing the probes reads their time-out; a bad value, like a bad
        # refresh period, stops the server here rather than on every page.
        from dashboard.app import create_app, refresh_seconds
        from dashboard.health import ROUTES
        refresh_seconds()
        # A scheduler that does not answer is reported by the anomaly view;
        # one that could never be reached is a setting to fix now.
        dask = DaskSettings.from_env(os.environ)
        if dask is not None:
            check_installed()
    except ConfigError as exc:
        sys.exit(f"soc-copilot: {exc}")

    origins = allowed_origins(args.port, args.allow_websocket_origin)
    log.info("serving on %s:%d; websocket origins allowed: %s",
             args.address, args.port, ", ".join(origins))
    log_access_control(control)
    if dask is not None:
        log.info("score tables read by the Dask cluster at %s", dask.location)
    # The probes in ROUTES are plain handlers: Panel's sign-in guards only the
    # app's own page, websocket and session routes, so Kubernetes can still
    # probe without credentials.
    pn.serve(
        {"/": create_app}, port=args.port, address=args.address,
        websocket_origin=origins, show=False, title="SOC Copilot",
        extra_patterns=ROUTES, num_procs=1,
        **(control.serve_options() if control else {}),
    )


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger(LOGGER_NAME).setLevel(args.log_level.upper())
    if args.command == "serve":
        serve(args)


if __name__ == "__main__":
    main()
