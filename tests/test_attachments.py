"""Files in the context, through the engine and over the wire: stored once, counted, sent;
and everything an attacker might hand it refused in words."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import struct
import time
import zlib

import pytest

from chinwag import attachments, paths
from chinwag.attachments import AttachError, Attachment, AttachmentStore
from chinwag.client import ChatClient
from chinwag.conversation import Conversation, Message, Persona
from chinwag.model_settings import ModelSettings
from chinwag.session import ChatSession
from chinwag.store import SaveError, Store
from chinwag.tokens import TokenCounter

KEY = "sk-test-attach-0123456789abcdef"


def make_session(server, model: str = "gpt-4o-mini", key: str | None = None) -> ChatSession:
    conversation = Conversation(model=model, persona=Persona("terse", "Be terse."), settings=ModelSettings(token_budget=100_000))
    return ChatSession(conversation, Store(), ChatClient(server.base_url, key, timeout=5, max_retries=0))


async def turn(session: ChatSession, text: str) -> list:
    session.submit(text)
    message = session.conversation.add_assistant("", session.model)
    return await asyncio.wait_for(_drain(session.reply(message)), 15)


async def _drain(events) -> list:
    return [event async for event in events]


def png(width: int, height: int) -> bytes:
    """A real, tiny PNG of the given size (one grey row repeated)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


async def test_attached_text_is_sent_with_the_message_and_stored_once(chat_server, tmp_path):
    notes = tmp_path / "notes.md"
    notes.write_text("# Plan\nShip on Friday.\n")
    session = make_session(chat_server)
    attachment = session.attach(str(notes))
    assert (attachment.name, attachment.kind, attachment.size) == ("notes.md", "text", notes.stat().st_size)
    await turn(session, "Summarise the file")
    sent = chat_server.chat_requests[-1].body["messages"][-1]
    assert sent["role"] == "user"
    assert sent["content"] == 'Summarise the file\n\n<file name="notes.md">\n# Plan\nShip on Friday.\n\n</file>'
    document = json.loads((paths.conversations_dir() / f"{session.conversation.id}.json").read_text())
    saved_user = document["messages"][0]
    assert saved_user["content"] == "Summarise the file"  # the file is not copied into the document
    assert saved_user["attachments"] == [attachment.to_dict()]
    assert (paths.data_dir() / "attachments" / attachment.sha256).read_bytes() == notes.read_bytes()
    assert session.pending == []


async def test_a_large_file_attached_ten_times_is_stored_once(chat_server, tmp_path):
    big = tmp_path / "big.txt"
    big.write_text(("lorem ipsum dolor sit amet " * 40 + "\n") * 950)  # about 1 MB
    chat_server.reply("ok", times=10)
    session = make_session(chat_server, model="gpt-4.1-mini")  # a context window that takes it
    session.conversation.settings = ModelSettings(token_budget=2_000_000)
    for i in range(10):
        session.attach(str(big))
        session.submit(f"look {i}")
    stored = list((paths.data_dir() / "attachments").iterdir())
    assert len(stored) == 1 and stored[0].stat().st_size == big.stat().st_size
    document = (paths.conversations_dir() / f"{session.conversation.id}.json").read_bytes()
    assert len(document) < 20_000  # ten mentions, no copies


async def test_the_meter_counts_attachments_before_sending(chat_server, tmp_path):
    text = "alpha beta gamma delta " * 50
    path = tmp_path / "words.txt"
    path.write_text(text)
    session = make_session(chat_server)
    before = session.meter("question")
    attachment = session.attach(str(path))
    after = session.meter("question")
    tokens = session.attachment_tokens(attachment)
    counter = TokenCounter("gpt-4o-mini")
    assert tokens == counter.count_text(f'\n\n<file name="words.txt">\n{text}\n</file>')
    assert after.attachment_tokens == tokens
    assert after.draft_tokens == before.draft_tokens + tokens
    assert after.request_tokens == before.request_tokens + tokens
    # After sending, the message's billed size still holds the file.
    await turn(session, "question")
    assert session.conversation.messages[0].tokens == counter.count_message(
        Message("user", "question" + attachments.extra_text(session.conversation.messages[0], AttachmentStore())))


async def test_attachments_stay_pending_when_the_save_fails(chat_server, tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("hello")
    session = make_session(chat_server)
    session.attach(str(path))
    paths.conversations_dir().parent.mkdir(parents=True, exist_ok=True)
    paths.conversations_dir().write_text("a file where the folder should be")
    with pytest.raises(SaveError, match="File exists"):
        session.submit("with file")
    assert len(session.pending) == 1 and not session.conversation.messages


async def test_images_go_to_vision_models_as_image_url_parts(chat_server, tmp_path):
    picture = tmp_path / "chart.png"
    picture.write_bytes(png(600, 300))
    session = make_session(chat_server, "gpt-4o")
    attachment = session.attach(str(picture))
    assert (attachment.kind, attachment.mime) == ("image", "image/png")
    assert session.attachment_tokens(attachment) == 85 + 170 * 2  # two 512-px tiles
    await turn(session, "What does it show?")
    content = chat_server.chat_requests[-1].body["messages"][-1]["content"]
    assert content[0] == {"type": "text", "text": "What does it show?"}
    url = content[1]["image_url"]["url"]
    assert content[1]["type"] == "image_url" and url.startswith("data:image/png;base64,")
    assert base64.b64decode(url.split(",", 1)[1]) == picture.read_bytes()


async def test_images_are_refused_for_models_not_marked_vision_capable(chat_server, tmp_path):
    picture = tmp_path / "photo.png"
    picture.write_bytes(png(10, 10))
    session = make_session(chat_server, "chinwag-test")
    with pytest.raises(AttachError, match="not marked as able to see images"):
        session.attach(str(picture))
    assert session.pending == []


async def test_an_image_in_history_is_not_sent_to_a_model_without_vision(chat_server, tmp_path):
    picture = tmp_path / "photo.png"
    picture.write_bytes(png(10, 10))
    session = make_session(chat_server, "gpt-4o")
    session.attach(str(picture))
    await turn(session, "see")
    session.set_model("chinwag-test")
    await turn(session, "and now?")
    first = chat_server.chat_requests[-1].body["messages"][1]
    assert first["content"] == "see\n\n[image photo.png not sent: this model does not take images]"


# -- what an attacker hands it --------------------------------------------------------------------


def refused(session: ChatSession, path, match: str) -> str:
    start = time.monotonic()
    with pytest.raises(AttachError, match=match) as caught:
        session.attach(str(path))
    assert time.monotonic() - start < 5  # never hangs
    assert session.pending == []
    return str(caught.value)


def test_binary_files_are_refused(chat_server, tmp_path):
    session = make_session(chat_server)
    blob = tmp_path / "program.bin"
    blob.write_bytes(b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)))
    refused(session, blob, "binary file")
    latin = tmp_path / "latin1.txt"
    latin.write_bytes("caf\xe9 cr\xe8me".encode("latin-1"))
    refused(session, latin, "not UTF-8 text")
    assert not (paths.data_dir() / "attachments").exists()


def test_devices_fifos_folders_and_missing_files_are_refused(chat_server, tmp_path):
    session = make_session(chat_server)
    refused(session, "/dev/zero", "not a regular file")
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    refused(session, fifo, "not a regular file")  # no writer: opening must not block
    refused(session, tmp_path, "is a folder")
    refused(session, tmp_path / "nope.txt", "No such file")
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    refused(session, empty, "is empty")


def test_huge_files_are_refused_without_reading_them(chat_server, tmp_path):
    session = make_session(chat_server)
    huge = tmp_path / "huge.log"
    with open(huge, "wb") as f:
        f.truncate(8 * 1024**3)  # sparse: 8 GB claimed
    refused(session, huge, "too large")
    text = tmp_path / "long.txt"
    text.write_text("x" * (attachments.MAX_TEXT_BYTES + 1))
    refused(session, text, "too large")


def test_the_config_file_and_files_holding_the_key_are_refused(chat_server, tmp_path, monkeypatch):
    paths.config_dir().mkdir(parents=True, exist_ok=True)
    paths.config_file().write_text('api_key = "whatever-is-here"\n')
    link = tmp_path / "innocent.txt"
    link.symlink_to(paths.config_file())
    session = make_session(chat_server, key=KEY)
    refused(session, link, "config file")
    refused(session, paths.config_file(), "config file")
    leaked = tmp_path / "env.sh"
    leaked.write_text(f"export OPENAI_API_KEY={KEY}\n")
    refused(session, leaked, "API key")
    monkeypatch.setenv("TOGETHER_API_KEY", "tgp_v1_abcdefghijklmnop")
    other = tmp_path / "together.txt"
    other.write_text("key: tgp_v1_abcdefghijklmnop")
    refused(session, other, "API key")


async def test_escape_sequences_in_file_names_never_reach_the_screen_or_the_model(chat_server, tmp_path):
    name = "evil\x1b]52;c;Zm9v\x07\x1b[2J.txt"
    path = tmp_path / name
    path.write_text("content")
    session = make_session(chat_server)
    attachment = session.attach(str(path))
    assert "\x1b" not in attachment.label and "\x07" not in attachment.label
    assert attachment.label.startswith("evil") and attachment.label.endswith(".txt")
    await turn(session, "hi")
    sent = chat_server.chat_requests[-1].body["messages"][-1]["content"]
    assert "\x1b" not in sent and "\x07" not in sent
    message = refused(session, tmp_path / "gone\x1b[31m.txt", "No such file")
    assert "\x1b" not in message


def test_a_document_cannot_point_the_store_outside_its_folder(tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("do not read")
    message = Message("user", "hi", extra={"attachments": [
        {"name": "x", "sha256": "../../../secret", "size": 3, "kind": "text", "mime": "text/plain"},
        {"name": "y", "sha256": "a" * 64, "size": 3, "kind": "text", "mime": "text/plain"},
        "not a dict",
    ]})
    found = attachments.of(message)
    assert [a.name for a in found] == ["y"]
    store = AttachmentStore(tmp_path / "store")
    assert attachments.api_content(message, store, vision=False) == (
        'hi\n\n<file name="y">(this file is no longer stored)</file>')
    with pytest.raises(AttachError):
        store.path("../secret")


def test_round_trip_of_an_attachment_record():
    record = Attachment("a.txt", "b" * 64, 12, "text", "text/plain")
    assert Attachment.from_dict(record.to_dict()) == record
