"""Compare models (F7) against the loopback server: two providers at once, side by side, a
failure kept to its column, a number key to continue; every reply stays in the document."""

from __future__ import annotations

import socket

from documents import path_of
from tui_helpers import SIZE, chat, make_app, only_document, replying, send, wait_for

from chinwag.tui.screens.compare_models import CompareModelsScreen
from chinwag.tui.widgets.compare import CompareView


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def choose(pilot, rows: list[tuple[str, str]]) -> None:
    """F7, then provider and model per row, then ctrl+s."""
    app = pilot.app
    await pilot.press("f7")  # from the composer: the TextArea's own F7 must not win
    await wait_for(pilot, lambda: isinstance(app.screen, CompareModelsScreen), "the compare dialog")
    dialog = app.screen
    for n, (provider, model) in enumerate(rows, 1):
        dialog.query_one(f"#provider-{n}").value = provider
        dialog.query_one(f"#model-{n}").value = model
    await pilot.pause()
    await pilot.press("ctrl+s")
    await wait_for(pilot, lambda: not isinstance(app.screen, CompareModelsScreen), "armed")


def columns(app) -> CompareView | None:
    views = chat(app).query(CompareView)
    return views.first() if views else None


async def test_compare_streams_two_providers_side_by_side_and_keeps_both(chat_server, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-compare")
    monkeypatch.setenv("OPENAI_BASE_URL", chat_server.base_url)  # a second provider, its own client
    words = " ".join(f"word{n}" for n in range(12))
    chat_server.reply(f"alpha {words}", delay=0.04)
    chat_server.reply(f"beta {words}", delay=0.04)
    app = make_app(chat_server, api_key="sk-test-custom")  # the custom provider
    async with app.run_test(size=(140, 40)) as pilot:
        await choose(pilot, [("custom", "gpt-4o-mini"), ("openai", "gpt-4o")])
        assert "Compare 1 gpt-4o-mini, 2 gpt-4o (openai)" in str(chat(app).composer.border_title)
        await send(pilot, "compare this")
        await wait_for(pilot, lambda: columns(app) is not None, "the columns")
        view = columns(app)
        # Both stream at once: each column has text before either has finished.
        await wait_for(pilot, lambda: all(c.body.source for c in view.columns), "text in both columns")
        assert any(c.streaming for c in view.columns)
        await wait_for(pilot, lambda: not view.streaming, "both finished")
        await wait_for(pilot, lambda: not replying(app), "the workers to end")
        for column in view.columns:
            stats = str(column.stats.render())
            assert "first token" in stats and "tokens" in stats and "$" in stats, stats
        bodies = sorted(c.body.source.split()[0] for c in view.columns)
        assert bodies == ["alpha", "beta"]
        requests = chat_server.chat_requests
        assert sorted(r.body["model"] for r in requests) == ["gpt-4o", "gpt-4o-mini"]
        assert {r.headers.get("authorization") for r in requests} == {"Bearer sk-test-compare", "Bearer sk-test-custom"}
        for request in requests:
            assert [m["content"] for m in request.body["messages"] if m["role"] != "system"] == ["compare this"]
        picked = view.columns[1].body.source
        await pilot.press("2")
        await wait_for(pilot, lambda: columns(app) is None, "the chat back")
        assert chat(app).log_view.messages[-1].content == picked
        await send(pilot, "and then?")
        await wait_for(pilot, lambda: len(chat_server.chat_requests) == 3 and not replying(app), "the next reply")
        assert [m["content"] for m in chat_server.chat_requests[-1].body["messages"] if m["role"] != "system"] == [
            "compare this", picked, "and then?"]
    document = only_document()
    question, first, second = document["messages"][:3]
    assert first["parent"] == second["parent"] == question["id"]  # siblings: both kept
    assert (first["model"], first["provider"]) == ("gpt-4o-mini", "custom")
    assert (second["model"], second["provider"]) == ("gpt-4o", "openai")
    assert first["usage"]["completion_tokens"] > 0 and second["usage"]["completion_tokens"] > 0
    assert [m["content"] for m in path_of(document)] == ["compare this", picked, "and then?", "You said: and then?"]


async def test_a_failure_stays_in_its_column(chat_server, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-compare")
    monkeypatch.setenv("OPENAI_BASE_URL", f"http://127.0.0.1:{closed_port()}/v1")  # nothing listens
    app = make_app(chat_server)
    async with app.run_test(size=(140, 40)) as pilot:
        await choose(pilot, [("custom", "gpt-4o-mini"), ("openai", "gpt-4o")])
        await send(pilot, "will one fail?")
        await wait_for(pilot, lambda: columns(app) is not None and not columns(app).streaming, "both ended")
        good, bad = columns(app).columns
        assert good.body.source == "You said: will one fail?" and not good.has_class("-failed")
        assert bad.has_class("-failed") and "Could not reach the server" in str(bad.failure.render())
        await pilot.press("2")  # nothing to continue from: the columns stay
        assert columns(app) is not None
        await pilot.press("1")
        await wait_for(pilot, lambda: columns(app) is None, "continued with the one that answered")
    document = only_document()
    assert [m["content"] for m in document["messages"]] == ["will one fail?", "You said: will one fail?"]


async def test_escape_stops_the_columns_and_keeps_what_arrived(chat_server):
    chat_server.reply("slow " * 40, delay=0.1, times=2)
    app = make_app(chat_server)
    async with app.run_test(size=(140, 40)) as pilot:
        await choose(pilot, [("custom", "gpt-4o-mini"), ("custom", "gpt-4o")])
        await send(pilot, "take your time")
        await wait_for(pilot, lambda: columns(app) is not None and all(c.body.source for c in columns(app).columns),
                       "both started")
        await pilot.press("escape")  # stops both, keeps the columns to pick from
        await wait_for(pilot, lambda: not columns(app).streaming, "stopped")
        assert all("stopped" in str(c.stats.render()) for c in columns(app).columns)
        await pilot.press("escape")  # keeps them all and goes back to the chat
        await wait_for(pilot, lambda: columns(app) is None, "the chat back")
        await pilot.press("f7")
        await wait_for(pilot, lambda: isinstance(app.screen, CompareModelsScreen), "the dialog again")
        assert app.screen.query_one("#model-2").value == "gpt-4o"  # the last choice is offered again
    replies = only_document()["messages"][1:]
    assert len(replies) == 2 and all(r["finish_reason"] == "interrupted" and r["content"] for r in replies)


async def test_model_names_and_titles_are_never_markup(chat_server):
    from chinwag.conversation import Conversation
    from chinwag.tui.messages import OpenConversation
    from chinwag.tui.screens.tree import TreeScreen

    hostile = "[bold]x[/] [/nope] \x1b]52;c;aGk=\x07"
    app = make_app(chat_server)
    async with app.run_test(size=(140, 40)) as pilot:
        conversation = Conversation(title=hostile)
        conversation.add_user("hi")
        chat(app).post_message(OpenConversation(conversation))
        await wait_for(pilot, lambda: chat(app).log_view.messages, "opened")
        await pilot.press("f6")
        await wait_for(pilot, lambda: isinstance(app.screen, TreeScreen), "the tree")
        assert "[bold]x[/]" in app.screen.query_one("#dialog").border_title.replace("\\", "")
        await pilot.press("escape")
        await choose(pilot, [("custom", hostile), ("custom", "gpt-4o")])
        await send(pilot, "go")
        await wait_for(pilot, lambda: columns(app) is not None and not columns(app).streaming, "both ended")
        assert "[bold]x[/]" in columns(app).columns[0].border_title.replace("\\", "")
        assert "\x1b" not in columns(app).columns[0].border_title


async def test_a_row_whose_provider_has_no_key_says_so_once_and_stays_open(chat_server, monkeypatch):
    monkeypatch.delenv("TOGETHER_API_KEY", raising=False)
    app = make_app(chat_server)
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.press("f7")
        await wait_for(pilot, lambda: isinstance(app.screen, CompareModelsScreen), "the compare dialog")
        dialog = app.screen
        dialog.query_one("#model-1").value = "gpt-4o-mini"
        dialog.query_one("#provider-2").value = "together"
        dialog.query_one("#model-2").value = "some/model"
        await pilot.pause()
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, CompareModelsScreen)  # not started
        said = " ".join(str(s.render()) for s in dialog.query("Static"))
        assert said.count("No API key for together") == 1, said
        assert "cannot be used until that is fixed" in said
