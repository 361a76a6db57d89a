"""A message that alone is over the token budget is refused before it is added, in the chat
screen: it stays in the composer with its files, the notice says why and what to do, nothing
is saved or sent. The same for an edit (message mode ``e``) and for a comparison (F7)."""

from __future__ import annotations

import dataclasses

from test_tui_compare import choose, columns
from tui_helpers import SIZE, chat, make_app, replying, saved_documents, screen_text, send, wait_for

from chinwag.session import TooLong
from chinwag.tui.screens.chat import too_long_notice
from chinwag.tui.widgets.attachment_bar import AttachmentChip


def words(n: int) -> str:
    return " ".join(f"word{i}" for i in range(n))


def chips(app) -> list[str]:
    return [str(chip.render()) for chip in chat(app).query(AttachmentChip)]


async def test_a_file_over_the_budget_stays_attached_and_the_message_stays_in_the_composer(chat_server, tmp_path):
    big = tmp_path / "big.txt"
    big.write_text(words(20_000))
    app = make_app(chat_server)  # the 8,000-token budget
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, f"/file {big}")
        await wait_for(pilot, lambda: chips(app), "the chip")
        await send(pilot, "summarise this")
        await wait_for(pilot, lambda: "Not sent" in screen_text(app), "the refusal")
        notice = screen_text(app)
        assert "over the 8,000-token budget" in notice and "stays in the composer" in notice
        assert "raise the token budget (F4)" in notice and "remove an attachment" in notice
        composer = chat(app).composer
        assert composer.text == "summarise this" and len(chips(app)) == 1
        assert chat(app).log_view.messages == [] and saved_documents() == []
        assert chat_server.chat_requests == []
        # A bigger budget, and the same Enter sends it with its file.
        conversation = chat(app).session.conversation
        conversation.settings = dataclasses.replace(conversation.settings, token_budget=200_000)
        composer.focus()
        await pilot.press("enter")
        await wait_for(pilot, lambda: len(chat_server.chat_requests) == 1 and not replying(app), "the reply")
        assert "Not sent" not in screen_text(app) and composer.text == "" and chips(app) == []
    assert "word19999" in chat_server.chat_requests[0].body["messages"][-1]["content"]


async def test_an_edit_over_the_budget_stays_in_the_composer_and_the_branch_is_unchanged(chat_server):
    app = make_app(chat_server, token_budget=500)
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "q1")
        await wait_for(pilot, lambda: len(chat_server.chat_requests) == 1 and not replying(app), "the reply")
        log = chat(app).log_view
        await pilot.press("ctrl+up", "up")
        await wait_for(pilot, lambda: log.selected_index == 0, "q1 selected")
        await pilot.press("e")
        composer = chat(app).composer
        await wait_for(pilot, lambda: composer.text == "q1", "editing")
        long_text = words(800)
        composer.text = long_text
        await pilot.press("enter")
        await wait_for(pilot, lambda: "Not sent" in screen_text(app), "the refusal")
        assert composer.text == long_text and "Editing" in str(composer.border_title)
        assert [m.content for m in log.messages] == ["q1", "You said: q1"]
        assert len(chat_server.chat_requests) == 1
    assert [m["content"] for m in saved_documents()[0]["messages"]] == ["q1", "You said: q1"]


async def test_a_comparison_over_the_budget_stays_armed_and_sends_nothing(chat_server):
    app = make_app(chat_server, token_budget=500)
    async with app.run_test(size=(140, 40)) as pilot:
        await choose(pilot, [("custom", "gpt-4o-mini"), ("custom", "gpt-4o")])
        long_text = words(800)
        await send(pilot, long_text)
        await wait_for(pilot, lambda: "Not sent" in screen_text(app), "the refusal")
        composer = chat(app).composer
        assert composer.text == long_text and "Compare" in str(composer.border_title)
        assert columns(app) is None and chat_server.chat_requests == [] and saved_documents() == []


def test_the_notice_names_what_would_let_the_message_go():
    # Over the budget and the context window, mostly a file: a bigger budget alone would not do.
    both = too_long_notice(TooLong(412_083, 13, 412_061, 8000, 128_000, "gpt-4o-mini"))
    assert "over the 8,000-token budget and gpt-4o-mini's 128,000-token context window" in both
    assert both.endswith("To send it, choose a model with a larger context window and raise the budget (F4) "
                         "or remove an attachment (click its chip).")
    text = too_long_notice(TooLong(9000, 13, 0, 8000, 128_000, "gpt-4o-mini"))
    assert text.endswith("To send it, raise the token budget (F4) or shorten the text.")
    system = too_long_notice(TooLong(9000, 8500, 0, 8000, None, "gpt-4o-mini"))
    assert "The system prompt alone needs 8,500 tokens" in system and "persona" in system
