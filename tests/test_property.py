"""Property-based: random documents, texts and escape sequences thrown at list, search, export
and the chat screen. Nothing crashes; nothing a terminal would act on reaches stdout, a file or
the screen; every output encodes as UTF-8; the documents keep the data.

Derandomized with a fixed number of examples, so the suite stays fast and a failure repeats.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import tempfile
from contextlib import contextmanager

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_hostile import terminal_output
from textual import events
from tui_helpers import SIZE, make_app, replying, screen_text

from chinwag import cli
from chinwag.conversation import ASSISTANT, CUT_OFF, EVENT, FAILED, INTERRUPTED, USER, Conversation, Message
from chinwag.export import FORMATS, render
from chinwag.store import Store
from chinwag.tui.messages import OpenConversation

# What a terminal would act on, in text meant for people (newline and tab are fine), and the
# bidi embeddings/overrides/isolates that reorder what is read.
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
OWN_SEQUENCES = re.compile(r"\x1b\[[0-9;]*[mH]")  # Textual's own colours and cursor moves

SEQUENCES = [
    "\x1b]52;c;aGVsbG8=\x07", "\x1b]52;c;aGVsbG8=\x1b\\", "\x1b]0;pwned\x07", "\x1b]8;;https://x\x1b\\",
    "\x1b[2J", "\x1b[?1049h", "\x1b[31m", "\x1bc", "\x1bP1$r\x1b\\", "\x9b2J", "\x9d0;owned\x9c", "\x1b",
    "\x1b[", "\x1b]", "\r", "\r\n", "\x07", "\x00", "\x7f", "\ud800", "\udcff", "[bold]", "[/]", "[link=x]",
    "\u202e", "\u202c", "\u202a", "\u202b", "\u202d", "\u2066", "\u2067", "\u2068", "\u2069",
]
TEXT = st.lists(
    st.one_of(st.text(max_size=12), st.sampled_from(SEQUENCES), st.sampled_from(["é", "日本", "👍🏽", "مرحبا", "\u200f", "\n"])),
    max_size=10,
).map("".join)
FINISH = st.sampled_from([None, "stop", "length", INTERRUPTED, CUT_OFF, FAILED])


@st.composite
def conversations(draw) -> Conversation:
    conv = Conversation(model=draw(TEXT) or "m", provider=draw(TEXT) or "custom")
    conv.persona.name = draw(TEXT) or "assistant"
    conv.add(Message(USER, draw(TEXT)))  # a conversation with no message is never saved
    for role, content, finish in draw(st.lists(st.tuples(st.sampled_from([USER, ASSISTANT, EVENT]), TEXT, FINISH),
                                               max_size=4)):
        message = Message(role, content, model=draw(TEXT) if role == ASSISTANT else None)
        if role == ASSISTANT:
            message.finish_reason = finish
        conv.add(message)
    conv.title = draw(TEXT)
    return conv


def assert_safe(text: str, where: str) -> None:
    found = CONTROL.findall(text)
    assert not found, f"{where}: {found!r}"
    text.encode("utf-8")  # strict


@contextmanager
def fresh_dirs():
    """New XDG dirs for one example (function-scoped fixtures are not reset between examples)."""
    old = {k: os.environ.get(k) for k in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_STATE_HOME")}
    with tempfile.TemporaryDirectory() as root:
        for name in ("DATA", "CONFIG", "STATE"):
            os.environ[f"XDG_{name}_HOME"] = os.path.join(root, name.lower())
        try:
            yield
        finally:
            for key, value in old.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value


def run_cli(capsys, *argv: str) -> tuple[str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    assert code in (0, 1, 2), (argv, code, err)  # 2: a search filter the user mistyped (said on stderr)
    return out, err


@settings(max_examples=40, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(conversations())
def test_every_export_is_safe_and_the_json_export_keeps_the_data(conv):
    for fmt in FORMATS:
        text = render(conv, fmt)
        assert_safe(text, f"{fmt} export")
    document = json.loads(render(conv, "json"))
    assert [m["content"] for m in document["messages"]] == [as_json(m.content) for m in conv.messages]
    assert document["title"] == as_json(conv.title)


def as_json(text: str) -> str:
    """``text`` as any JSON keeps it (a high then a low surrogate read back as one character)."""
    return json.loads(json.dumps(text))


@settings(max_examples=15, derandomize=True, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.lists(conversations(), min_size=1, max_size=3), TEXT)
def test_list_search_and_export_print_only_plain_text(capsys, convs, needle):
    with fresh_dirs():
        store = Store()
        for conv in convs:
            store.save(conv)
        for argv in (["list"], ["list", "--json"], ["list", f"--search={needle or 'x'}"],
                     ["list", "--json", f"--search={convs[0].messages[0].content[:4] or 'x'}"],
                     ["export", convs[0].id, "--format", "md"], ["export", convs[0].id, "--format", "json"]):
            out, err = run_cli(capsys, *argv)
            assert_safe(out.replace("\n", "").replace("\t", ""), " ".join(argv))
            assert_safe(err.replace("\n", ""), f"stderr of {' '.join(argv)}")
        listed = json.loads(run_cli(capsys, "list", "--json")[0])
        assert sorted(item["title"] for item in listed) == sorted(as_json(c.title) for c in convs)  # lossless
        assert Store().load(convs[0].id).messages[0].content == as_json(convs[0].messages[0].content)


@settings(max_examples=6, derandomize=True, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(conversations(), TEXT, TEXT, st.integers(min_value=1, max_value=7))
def test_the_chat_screen_shows_anything_without_passing_it_to_the_terminal(chat_server, conv, pasted, reply,
                                                                        chunks):
    async def scenario() -> None:
        Store().save(conv)
        chat_server.reply(reply or "ok", chunks=chunks)
        app = make_app(chat_server)
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            app.chat.post_message(OpenConversation(Store().load(conv.id)))
            await pilot.pause()
            check(app, "a resumed document")
            composer = app.chat.composer
            composer.focus()
            app.post_message(events.Paste(pasted))
            await pilot.pause()
            assert not CONTROL.search(composer.text.replace("\n", "").replace("\t", ""))
            composer.text = "say something"
            await pilot.press("enter")
            for _ in range(400):
                if len(chat_server.chat_requests) and not replying(app):
                    break
                await pilot.pause(0.025)
            check(app, "a streamed reply")
            assert "Traceback" not in screen_text(app)

    with fresh_dirs():
        requests = len(chat_server.chat_requests)
        asyncio.run(scenario())
        assert len(chat_server.chat_requests) == requests + 1 or conv.read_only


def check(app, what: str) -> None:
    output = OWN_SEQUENCES.sub("", terminal_output(app))
    found = sorted({repr(output[m.start():m.start() + 10]) for m in CONTROL.finditer(output)})
    assert not found, f"{what}: control codes reach the terminal: {found}"
    output.encode("utf-8")
    assert not CONTROL.search(app.export_screenshot())

