"""The checks `chinwag serve` makes on every request, as pure functions (no aiohttp here)."""

from __future__ import annotations

import hmac
import ipaddress
import re
import secrets
from urllib.parse import quote

TOKEN_PATTERN = re.compile(r"[A-Za-z0-9._~-]{16,256}")
TOKEN_RULE = "16 to 256 characters from A-Z a-z 0-9 . _ ~ -"
_HOST_HEADER = re.compile(r"(?:(?P<name>[A-Za-z0-9.-]{1,253})|\[(?P<ipv6>[0-9A-Fa-f:.]{2,45})\])(?::(?P<port>[0-9]{1,5}))?")


def new_token() -> str:
    """A random token (192 bits, URL-safe)."""
    return secrets.token_urlsafe(24)


def valid_token(token: str) -> bool:
    """A token given with --token must be long enough to guess no faster than ours, and URL-safe."""
    return TOKEN_PATTERN.fullmatch(token) is not None


def token_matches(given: str | None, token: str) -> bool:
    """Constant-time comparison (the time taken says nothing about how much of it was right)."""
    if not given:
        return False
    return hmac.compare_digest(given.encode("utf-8", "replace"), token.encode("utf-8"))


def bearer(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer TOKEN`` header, if that is what it is."""
    if not authorization:
        return None
    scheme, _, value = authorization.strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    return value.strip() or None


def is_loopback(host: str) -> bool:
    """True for localhost and loopback addresses (127.0.0.0/8, ::1), bracketed or not."""
    host = host.strip().lower()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def host_problem(host_header: str | None, loopback_only: bool) -> str | None:
    """Why a request's Host header is refused, or None when it is fine.

    Served on loopback, only loopback names are accepted: a page whose own domain was made to
    point at 127.0.0.1 (DNS rebinding) never reaches the app, token or not.
    """
    match = _HOST_HEADER.fullmatch(host_header or "")
    if match is None or (match["port"] is not None and not 0 < int(match["port"]) < 65536):
        return "a missing or malformed Host header"
    name = match["name"] or f"[{match['ipv6']}]"
    if loopback_only and not is_loopback(name):
        return f"Host {name!r}: this server answers on loopback names only (127.0.0.1, localhost, [::1])"
    return None


def origin_allowed(origin: str | None, host_header: str) -> bool:
    """A browser's WebSocket must come from a page of this very server (same scheme, host, port).

    Cookies ignore ports and SameSite treats 127.0.0.1:3000 as the same site as 127.0.0.1:8000,
    so without this a page served by any other local server could drive the app. Clients that
    send no Origin are not browsers: they had to present the token themselves.
    """
    if origin is None:
        return True
    return origin.strip().lower() in {f"http://{host_header.lower()}", f"https://{host_header.lower()}"}


def attachment(file_name: str) -> str:
    """A Content-Disposition that always downloads, with a safe ASCII name and the UTF-8 one."""
    name = file_name.replace("/", "_").replace("\\", "_").strip() or "download"
    fallback = "".join(ch if 32 <= ord(ch) < 127 and ch not in '"%;\\' else "_" for ch in name)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def page_policy(nonce: str, host_header: str) -> str:
    """Content-Security-Policy of the page: our own script and the WebSocket back to us, nothing else."""
    return "; ".join([
        "default-src 'none'",
        f"script-src 'self' 'nonce-{nonce}'",
        "style-src 'self' 'unsafe-inline'",  # xterm.js sizes its canvas with inline styles
        "img-src 'self' data: blob:",
        "font-src 'self'",
        f"connect-src 'self' ws://{host_header} wss://{host_header}",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    ])
