"""`chinwag serve` from the command line, and the request checks it relies on."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request

import pytest

from chinwag import cli
from chinwag.web import command, security


def test_without_the_web_extra_serve_says_how_to_install_it(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "textual_serve", None)  # as if it were not installed
    assert cli.main(["serve"]) == 1
    err = capsys.readouterr().err
    assert "pip install 'chinwag[web]'" in err and "textual_serve" in err


@pytest.mark.parametrize("args, says", [
    (["--token", "short"], "a token must be 16 to 256 characters"),
    (["--token", "a" * 20 + ";b"], "a token must be"),
    (["--token", "ä" * 20], "a token must be"),
    (["--port", "70000"], "a port is 0 to 65535"),
    (["--port", "http"], "not a port number"),
    (["--host", "http://example.com"], "not a host name or address"),
    (["--host", " "], "not a host name or address"),
])
def test_bad_options_are_usage_errors(args, says, capsys):
    with pytest.raises(SystemExit) as exited:
        cli.main(["serve", *args])
    assert exited.value.code == 2
    assert says in capsys.readouterr().err


def test_an_unknown_persona_is_refused_before_serving(capsys):
    with pytest.raises(SystemExit):
        cli.main(["--persona", "nobody", "serve"])
    assert "unknown persona 'nobody'" in capsys.readouterr().err


def test_the_served_command_is_this_chinwag_with_the_app_flags():
    args = cli.build_parser().parse_args(
        ["--model", "my model", "--base-url", "http://127.0.0.1:9/v1", "--continue", "--debug", "serve"])
    served = command.app_command(args)
    assert served.startswith(f"exec {sys.executable} -m chinwag ")
    assert "--model 'my model'" in served and "--base-url http://127.0.0.1:9/v1" in served
    assert served.endswith("--continue --debug")


def test_urls_carry_the_token_and_a_usable_host():
    assert command.urls("127.0.0.1", 8000, "T") == ["http://127.0.0.1:8000/?token=T"]
    assert command.urls("::1", 8001, "T") == ["http://[::1]:8001/?token=T"]
    wildcard = command.urls("0.0.0.0", 8002, "T")
    assert wildcard[0] == "http://127.0.0.1:8002/?token=T" and wildcard[1].endswith(":8002/?token=T")


def test_tokens_are_random_long_and_compared_in_full():
    tokens = {security.new_token() for _ in range(50)}
    assert len(tokens) == 50 and all(security.valid_token(t) and len(t) >= 32 for t in tokens)
    token = "abcdefghijklmnop0123"
    assert security.token_matches(token, token)
    for wrong in (None, "", token[:-1], token + "x", token.upper(), "\ud800" * 20, "é" * 20):
        assert not security.token_matches(wrong, token)
    assert security.bearer(f"Bearer {token}") == token and security.bearer(f"bearer  {token} ") == token
    assert security.bearer(f"Basic {token}") is None and security.bearer("Bearer") is None


def test_loopback_host_and_origin_checks():
    for host in ("127.0.0.1", "127.9.9.9", "::1", "[::1]", "localhost", "LocalHost", "app.localhost"):
        assert security.is_loopback(host), host
    for host in ("0.0.0.0", "::", "192.168.1.2", "example.com", "localhost.example.com", "127.0.0.1.nip.io"):
        assert not security.is_loopback(host), host
    assert security.host_problem("127.0.0.1:8000", True) is None
    assert security.host_problem("[::1]:8000", True) is None
    assert "loopback" in security.host_problem("attacker.example:8000", True)
    assert security.host_problem("myhost.lan:8000", False) is None
    for bad in (None, "", "a b", "host:99999", "host:8000;x", "[::1", "ho'st"):
        assert security.host_problem(bad, False) is not None, bad
    assert security.origin_allowed(None, "127.0.0.1:8000")  # not a browser
    assert security.origin_allowed("http://127.0.0.1:8000", "127.0.0.1:8000")
    for origin in ("http://127.0.0.1:8001", "http://localhost:8000", "null", "http://127.0.0.1:8000.evil.example"):
        assert not security.origin_allowed(origin, "127.0.0.1:8000"), origin


def test_download_names_cannot_break_the_header():
    header = security.attachment('re"port;\r\nSet-Cookie: x=1\\é.md')
    assert "\r" not in header and "\n" not in header
    fallback = re.search(r'filename="([^"]*)"', header)[1]
    assert fallback == "re_port___Set-Cookie: x=1__.md"
    assert header.endswith("filename*=UTF-8''re%22port%3B%0D%0ASet-Cookie%3A%20x%3D1_%C3%A9.md")
    assert security.attachment("../../etc/passwd").startswith('attachment; filename=".._.._etc_passwd"')


# -- the command, as a user runs it ----------------------------------------------------------

needs_extra = pytest.mark.skipif(bool(command.missing_extra()),
                                 reason="the web extra is not installed (pip install -e '.[test]' brings it)")


def run_serve(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "chinwag", "serve", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=dict(os.environ))


@needs_extra
def test_serve_prints_a_url_with_a_fresh_token_and_stops_on_ctrl_c():
    server = run_serve("--port", "0")
    try:
        lines = [server.stdout.readline() for _ in range(2)]
        match = re.search(r"(http://127\.0\.0\.1:(\d+)/)\?token=([A-Za-z0-9_-]{32})\s*$", lines[1])
        assert lines[0].startswith("chinwag is served at") and match, lines
        base, token = match[1], match[3]
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(base, timeout=10)
        assert refused.value.code == 401
        browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
        with browser.open(f"{base}?token={token}", timeout=10) as page:  # the cookie, then the clean URL
            assert page.status == 200 and page.url == base
    finally:
        server.send_signal(signal.SIGINT)
        out, err = server.communicate(timeout=20)
    assert server.returncode == 0
    assert "warning" not in err and token not in err  # the log has requests, never the token


@needs_extra
def test_a_non_loopback_host_warns_and_a_taken_port_is_reported():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        server = run_serve("--host", "0.0.0.0", "--port", port)
        out, err = server.communicate(timeout=30)
    assert server.returncode == 1 and out == ""
    assert "warning: serving on 0.0.0.0, not on loopback" in err and "plain HTTP" in err
    assert f"cannot listen on 0.0.0.0:{port}" in err


def test_the_warning_for_any_free_port_names_no_port_zero():
    from chinwag.web.command import exposure_warning

    assert "port 0" not in exposure_warning("0.0.0.0", 0) and "the port printed below" in exposure_warning("0.0.0.0", 0)
    assert "port 8000 " in exposure_warning("0.0.0.0", 8000)
