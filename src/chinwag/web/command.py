"""`chinwag serve`: its options, checks and messages. Standard library only: the server (aiohttp,
textual-serve) is imported once we know the `web` extra is installed."""

from __future__ import annotations

import argparse
import importlib.util
import os
import shlex
import socket
import sys


DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
EXTRA_MODULES = ("textual_serve", "aiohttp", "aiohttp_jinja2", "jinja2")
INSTALL_HINT = (
    "chinwag serve needs the optional web extra, which is not installed.\n"
    "Install it with:  pip install 'chinwag[web]'   (or: pipx inject chinwag textual-serve)"
)
# Flags of the app itself that `chinwag [flags] serve` passes on to every session it starts.
FORWARDED = (("provider", "--provider"), ("model", "--model"), ("base_url", "--base-url"),
             ("persona", "--persona"), ("resume", "--resume"))


def _port(value: str) -> int:
    try:
        port = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {value!r}") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"a port is 0 to 65535 (0: any free port), not {port}")
    return port


def _token(value: str) -> str:
    from chinwag.web import security

    if not security.valid_token(value):
        raise argparse.ArgumentTypeError(f"a token must be {security.TOKEN_RULE}")
    return value


def _host(value: str) -> str:
    value = value.strip()
    if not value or any(ch.isspace() or ch in "/?#@" for ch in value):
        raise argparse.ArgumentTypeError(f"not a host name or address: {value!r}")
    return value


def add_parser(commands: argparse._SubParsersAction) -> None:
    serve = commands.add_parser(
        "serve", help="serve the app to a web browser (needs chinwag[web])",
        description="Serve chinwag to a web browser: each tab runs its own chinwag with your config "
        "and conversations. Every request needs the token; the URL printed at start carries it.",
    )
    serve.add_argument("--host", type=_host, default=None,
                       help=f"address to listen on (default {DEFAULT_HOST}; anything else is reachable "
                       "from other machines and prints a warning)")
    serve.add_argument("--port", type=_port, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT}; 0: any free one)")
    serve.add_argument("--token", type=_token, default=None,
                       help="the token browsers must present (default: a new random one each start); "
                       "note that other users of this machine can see command-line arguments")


def missing_extra() -> list[str]:
    return [name for name in EXTRA_MODULES if importlib.util.find_spec(name) is None]


def app_command(args: argparse.Namespace) -> str:
    """The shell command textual-serve runs for each session: this chinwag, with the app's flags."""
    argv = [sys.executable, "-m", "chinwag"]
    for attr, flag in FORWARDED:
        value = getattr(args, attr, None)
        if value:
            argv += [flag, str(value)]
    if getattr(args, "cont", False):
        argv.append("--continue")
    if getattr(args, "debug", False):
        argv.append("--debug")
    return "exec " + shlex.join(argv)  # the shell becomes the app: ending it ends the app


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def urls(host: str, port: int, token: str) -> list[str]:
    """Where to point a browser. A wildcard address gets this machine's loopback and name."""
    hosts = [host]
    if host in ("0.0.0.0", "::", "[::]", ""):
        hosts = [DEFAULT_HOST, socket.gethostname()]
    return [f"http://{_url_host(name)}:{port}/?token={token}" for name in hosts]


def exposure_warning(host: str, port: int) -> str:
    where = f"port {port}" if port else "the port printed below"  # --port 0: the system picks one
    return (
        f"chinwag: warning: serving on {host}, not on loopback: anyone who can reach this machine on "
        f"{where} and has the token can use chinwag with your API keys and read your conversations. "
        "The connection is plain HTTP: anyone on the network path can read the token and the chat. "
        "Prefer the default (127.0.0.1) with an SSH tunnel, or put an HTTPS proxy in front."
    )


def run(args: argparse.Namespace) -> int:
    missing = missing_extra()
    if missing:
        print(f"chinwag: {INSTALL_HINT}\n(missing: {', '.join(missing)})", file=sys.stderr)
        return 1
    from chinwag.logs import register_secret
    from chinwag.web import security
    from chinwag.web.server import ChinwagServer

    host = args.host or DEFAULT_HOST
    token = args.token or security.new_token()
    register_secret(token)
    if not security.is_loopback(host):
        print(exposure_warning(host, args.port), file=sys.stderr)
    server = ChinwagServer(app_command(args), host=host, port=args.port, token=token)
    import asyncio  # here: every other command imports this module for its argument parser

    return asyncio.run(_serve(server, host, token))


async def _serve(server, host: str, token: str) -> int:
    from chinwag.web.server import setup_logging

    setup_logging()
    try:
        port = await server.start()
    except OSError as error:
        if isinstance(error, socket.gaierror):
            reason = f"cannot resolve that host ({error.strerror})"
        else:
            reason = os.strerror(error.errno) if error.errno else str(error)
        print(f"chinwag: cannot listen on {_url_host(host)}:{server.port}: {reason}; "
              "choose another --port or --host", file=sys.stderr)
        return 1
    lines = ["chinwag is served at:", *(f"  {url}" for url in urls(host, port, token)),
             "The token in the URL is the password: keep it to yourself. Each browser tab runs its own",
             "chinwag with your config and conversations. Ctrl+C stops the server."]
    print("\n".join(lines), flush=True)
    await server.run_until_signal()
    return 0
