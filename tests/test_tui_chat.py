"""The chat screen driven as a person would, against the loopback server."""

from __future__ import annotations

from documents import path_of
from tui_helpers import SIZE, chat, make_app, only_document, replying, saved_documents, screen_text, send, wait_for

from chinwag.conversation import USER, Message
from chinwag.tokens import TokenCounter, select_window
from chinwag.tui.widgets.token_meter import TokenMeter
from chinwag.tui.widgets.message import Notice


async def test_send_streams_reply_and_saves(chat_server):
    chat_server.reply("Hello **there**, how can I help?", chunks=6)
    app = make_app(chat_server)
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "hi bot")
        await wait_for(pilot, lambda: not replying(app) and len(chat_server.chat_requests) == 1, "reply")
        await wait_for(pilot, lambda: "how can I help?" in screen_text(app), "reply on screen")
        assert "hi bot" in screen_text(app)
        assert chat(app).composer.text == ""
    document = only_document()
    assert [m["role"] for m in document["messages"]] == ["user", "assistant"]
    reply = document["messages"][1]
    assert reply["content"] == "Hello **there**, how can I help?"
    assert reply["finish_reason"] == "stop"
    assert reply["usage"]["completion_tokens"] > 0
    assert document["title"] == "hi bot"
    sent = chat_server.chat_requests[0].body
    assert sent["messages"][-1] == {"role": "user", "content": "hi bot"}
    assert sent["messages"][0]["role"] == "system"


async def test_user_message_saved_before_request(chat_server):
    chat_server.hang()
    app = make_app(chat_server, timeout=30.0)
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "keep me safe")
        await wait_for(pilot, lambda: len(chat_server.chat_requests) == 1, "request")
        # The request hangs: the user's words are already on disk.
        assert [m["content"] for m in only_document()["messages"]] == ["keep me safe"]
        await pilot.press("escape")
        await wait_for(pilot, lambda: not replying(app), "stop")
    assert [m["role"] for m in only_document()["messages"]] == ["user"]


async def test_escape_stops_and_keeps_partial_reply(chat_server):
    chat_server.reply("one two three four five six seven eight nine ten " * 4, chunks=40, delay=0.1)
    app = make_app(chat_server)
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "count")
        await wait_for(pilot, lambda: "three" in (chat(app).session.conversation.messages[-1].content), "partial")
        await pilot.press("escape")
        await wait_for(pilot, lambda: not replying(app), "stopped")
        assert "stopped — partial reply kept" in screen_text(app)
    reply = only_document()["messages"][-1]
    assert reply["finish_reason"] == "interrupted"
    assert reply["content"].startswith("one two three")
    assert len(reply["content"]) < len("one two three four five six seven eight nine ten " * 4)


async def test_quit_mid_stream_saves_partial_reply(chat_server):
    chat_server.reply("streaming slowly " * 30, chunks=30, delay=0.1)
    app = make_app(chat_server)
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "talk")
        await wait_for(pilot, lambda: "slowly" in chat(app).session.conversation.messages[-1].content, "partial")
        await pilot.press("ctrl+q")
        await wait_for(pilot, lambda: not app.is_running, "exit")
    reply = only_document()["messages"][-1]
    assert reply["role"] == "assistant"
    assert reply["finish_reason"] == "interrupted"
    assert "slowly" in reply["content"]


async def test_regenerate_keeps_old_reply_and_asks_again(chat_server):
    chat_server.reply("first answer")
    chat_server.reply("second answer")
    app = make_app(chat_server)
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "question")
        await wait_for(pilot, lambda: "first answer" in screen_text(app) and not replying(app), "first")
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: "second answer" in screen_text(app) and not replying(app), "second")
        assert "first answer" not in screen_text(app)  # on another branch now
    second_request = chat_server.chat_requests[1].body["messages"]
    assert [m["content"] for m in second_request if m["role"] != "system"] == ["question"]
    document = only_document()
    messages = document["messages"]
    assert [m["content"] for m in messages] == ["question", "first answer", "second answer"]
    assert messages[1]["parent"] == messages[2]["parent"] == messages[0]["id"]  # siblings
    assert [m["content"] for m in path_of(document)] == ["question", "second answer"]


async def test_persona_switch_changes_next_system_prompt(chat_server):
    app = make_app(chat_server)
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "before")
        await wait_for(pilot, lambda: len(chat_server.chat_requests) == 1 and not replying(app), "first reply")
        await pilot.press("f3")
        await pilot.press(*"sassy")
        await pilot.press("enter")
        await wait_for(pilot, lambda: chat(app).session.conversation.persona.name == "sassy", "switch")
        assert "Persona changed to sassy" in screen_text(app)
        assert "sassy" in chat(app).sub_title
        await send(pilot, "after")
        await wait_for(pilot, lambda: len(chat_server.chat_requests) == 2 and not replying(app), "second reply")
    system = chat_server.chat_requests[1].body["messages"][0]
    assert system == {
        "role": "system",
        "content": "You are a fed up and sassy assistant who hates answering questions.",
    }
    document = only_document()
    assert document["persona"]["name"] == "sassy"
    assert any(m["role"] == "event" and m["persona"]["name"] == "sassy" for m in document["messages"])


async def test_meter_matches_engine_counts(chat_server):
    app = make_app(chat_server, token_budget=5000)
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "How many tokens is this sentence, exactly?")
        await wait_for(pilot, lambda: len(chat_server.chat_requests) == 1 and not replying(app), "reply")
        chat(app).composer.text = "a draft with a few words"
        meter = app.screen.query_one(TokenMeter)
        await wait_for(pilot, lambda: meter.meter is not None and meter.meter.draft_tokens > 0, "meter")
        session = chat(app).session
        counter = TokenCounter(session.model)
        # The next request: the saved messages plus the draft as a user message.
        next_request = [*session.candidates(), Message(USER, "a draft with a few words")]
        system = session.conversation.persona.system_prompt
        window = select_window(counter, system, next_request, 5000)
        assert meter.meter.request_tokens == window.tokens == counter.count_request(system, next_request)
        assert meter.meter.draft_tokens == counter.count_text("a draft with a few words")
        assert meter.meter.budget == 5000
        assert meter.meter.sent == 3 and meter.meter.total == 3  # two saved + the draft, all fit
        usage = chat_server.chat_requests and session.conversation.messages[-1].usage
        assert meter.meter.last_prompt == usage["prompt_tokens"]
        assert meter.meter.last_completion == usage["completion_tokens"]


async def test_messages_outside_budget_are_dimmed_not_deleted(chat_server):
    app = make_app(chat_server, token_budget=300)
    async with app.run_test(size=SIZE) as pilot:
        for i in range(4):
            await send(pilot, f"message {i} " + "word " * 40)
            await wait_for(pilot, lambda i=i: len(chat_server.chat_requests) == i + 1 and not replying(app), "reply")
        await wait_for(pilot, lambda: any(v.excluded for v in chat(app).log_view.views()), "dimmed")
        assert "not sent: outside the context window" in screen_text(app)
    assert len(only_document()["messages"]) == 8
    last_request = chat_server.chat_requests[-1].body["messages"]
    assert "message 0" not in str(last_request)


async def test_first_run_without_key_explains_and_keeps_message(monkeypatch):
    app = make_app(None)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert "OPENAI_API_KEY" in screen_text(app)
        await send(pilot, "is anybody there?")
        await wait_for(pilot, lambda: "Not sent" in screen_text(app), "not sent notice")
    assert only_document()["messages"][0]["content"] == "is anybody there?"


async def test_new_conversation_starts_empty(chat_server):
    app = make_app(chat_server)
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "first chat")
        await wait_for(pilot, lambda: not replying(app) and len(chat_server.chat_requests) == 1, "reply")
        await pilot.press("ctrl+n")
        await wait_for(pilot, lambda: not chat(app).session.conversation.messages, "new")
        await send(pilot, "second chat")
        await wait_for(pilot, lambda: not replying(app) and len(chat_server.chat_requests) == 2, "reply 2")
    assert sorted(d["title"] for d in saved_documents()) == ["first chat", "second chat"]
    assert chat_server.chat_requests[1].body["messages"][-1]["content"] == "second chat"
    assert len(chat_server.chat_requests[1].body["messages"]) == 2  # system + the new message only


async def test_sidebar_toggles(chat_server):
    app = make_app(chat_server)
    async with app.run_test(size=SIZE) as pilot:
        meter = app.screen.query_one(TokenMeter)
        assert meter.display
        await pilot.press("ctrl+b")
        assert not meter.display
        await pilot.press("ctrl+b")
        assert meter.display


async def test_copy_last_reply(chat_server):
    chat_server.reply("copy me please")
    app = make_app(chat_server)
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "say it")
        await wait_for(pilot, lambda: not replying(app) and "copy me please" in screen_text(app), "reply")
        await pilot.press("ctrl+y")
        assert app.clipboard == "copy me please"


async def test_newline_key_does_not_send(chat_server):
    app = make_app(chat_server)
    async with app.run_test(size=SIZE) as pilot:
        composer = chat(app).composer
        composer.focus()
        await pilot.press("a", "ctrl+j", "b")
        assert composer.text == "a\nb"
        assert chat_server.chat_requests == []
        await pilot.press("enter")
        await wait_for(pilot, lambda: len(chat_server.chat_requests) == 1, "sent")
        assert chat_server.chat_requests[0].body["messages"][-1]["content"] == "a\nb"


async def test_help_lists_every_binding(chat_server):
    from chinwag.tui.screens.chat import ChatScreen
    from chinwag.tui.screens.help import HelpScreen

    app = make_app(chat_server)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f1")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), "help")
        rows = app.help_rows()
        described = {key for _, key, _ in rows}
        for binding in [*ChatScreen.BINDINGS, *app.BINDINGS]:
            assert binding.key in described and binding.description
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, HelpScreen), "help closed")


async def test_rate_limit_counts_down_then_retries_by_itself(chat_server):
    chat_server.fail(429, "Rate limit reached for requests", retry_after=1)
    chat_server.reply("worth the wait")
    app = make_app(chat_server)
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "hurry")
        await wait_for(pilot, lambda: "Retrying in" in screen_text(app), "countdown")
        await wait_for(pilot, lambda: "worth the wait" in screen_text(app) and not replying(app), "retried reply")
    assert len(chat_server.chat_requests) == 2
    assert [m["content"] for m in only_document()["messages"]] == ["hurry", "worth the wait"]


async def test_server_error_is_retried_as_often_as_settings_allow(chat_server):
    chat_server.fail(500, "boom", times=2)
    app = make_app(chat_server, retries=1)
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "again?")
        await wait_for(pilot, lambda: len(chat_server.chat_requests) == 2 and "ctrl+r" in screen_text(app), "gave up")
        # One notice: the last failure, saying it was retried; the countdown went with its retry.
        assert len(chat(app).log_view.query(Notice)) == 1
        assert "boom. chinwag retried 1 time by itself. Press ctrl+r" in screen_text(app)
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: "You said: again?" in screen_text(app), "manual retry")
    assert len(chat_server.chat_requests) == 3


async def test_escape_cancels_automatic_retry(chat_server):
    chat_server.fail(429, "Rate limit reached", retry_after=30)
    app = make_app(chat_server)
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "wait")
        await wait_for(pilot, lambda: "Retrying in 30 s" in screen_text(app), "countdown")
        await pilot.press("escape")
        await wait_for(pilot, lambda: "Automatic retry cancelled" in screen_text(app), "cancelled")
        assert "Rate limit reached." in screen_text(app) and "Retrying in" not in screen_text(app)
    assert len(chat_server.chat_requests) == 1


async def test_retry_notices_go_when_the_retry_goes_out_so_the_chat_reads_in_order(chat_server):
    chat_server.fail(429, "Rate limit reached for requests", retry_after=0)
    chat_server.fail(429, "Rate limit reached for requests", retry_after=1)
    chat_server.reply("worth the wait")
    app = make_app(chat_server, retries=2)
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "hurry")
        await wait_for(pilot, lambda: "Retrying in 1 s" in screen_text(app), "the countdown")
        await wait_for(pilot, lambda: "worth the wait" in screen_text(app) and not replying(app), "retried reply")
        # The reply is the last thing in the chat, as after a resume: no notice below it.
        assert not chat(app).log_view.query(Notice)
        assert screen_text(app).endswith("worth the wait")
        await pilot.pause(1.1)  # one countdown tick: a timer left running would ask again within it
    assert len(chat_server.chat_requests) == 3
    assert [m["content"] for m in only_document()["messages"]] == ["hurry", "worth the wait"]


async def test_settings_change_model_is_saved_and_used(chat_server):
    import tomllib

    from chinwag import paths
    from chinwag.tui.screens.settings import SettingsScreen

    app = make_app(chat_server)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f4")
        await wait_for(pilot, lambda: isinstance(app.screen, SettingsScreen), "settings")
        app.screen.query_one("#field-model").value = "gpt-4.1-mini"
        app.screen.query_one("#field-token_budget").value = "6000"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: not isinstance(app.screen, SettingsScreen), "saved")
        await wait_for(pilot, lambda: paths.config_file().exists(), "config written")
        assert "gpt-4.1-mini" in chat(app).sub_title
        await send(pilot, "which model?")
        await wait_for(pilot, lambda: len(chat_server.chat_requests) == 1 and not replying(app), "reply")
    saved = tomllib.loads(paths.config_file().read_text())
    assert saved["model"] == "gpt-4.1-mini" and saved["token_budget"] == 6000
    assert saved["base_url"] == chat_server.base_url  # what was in use is kept
    assert chat_server.chat_requests[0].body["model"] == "gpt-4.1-mini"
    assert only_document()["settings"]["token_budget"] == 6000


async def test_theme_from_palette_applies_and_is_saved(chat_server):
    import tomllib

    from chinwag import paths

    app = make_app(chat_server)
    async with app.run_test(size=SIZE) as pilot:
        assert app.theme == "chinwag-dark"
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"Theme: chinwag-light")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.theme == "chinwag-light", "theme applied")
        await wait_for(pilot, lambda: paths.config_file().exists(), "config written")
    assert tomllib.loads(paths.config_file().read_text())["theme"] == "chinwag-light"


async def test_first_run_fixed_from_settings_then_sends(chat_server):
    from chinwag.tui.screens.settings import SettingsScreen

    app = make_app(None)
    async with app.run_test(size=SIZE) as pilot:
        assert "OPENAI_API_KEY" in screen_text(app)
        await pilot.press("f4")
        await wait_for(pilot, lambda: isinstance(app.screen, SettingsScreen), "settings")
        app.screen.query_one("#field-provider").value = "custom"
        app.screen.query_one("#field-base_url").value = chat_server.base_url
        app.screen.query_one("#field-model").value = "gpt-4o-mini"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: not isinstance(app.screen, SettingsScreen), "saved")
        assert app.context.problem is None
        await send(pilot, "hello at last")
        await wait_for(pilot, lambda: "You said: hello at last" in screen_text(app), "reply")


async def test_ollama_needs_no_key():
    from chinwag.config import Settings
    from chinwag.tui.app import ChinwagApp

    app = ChinwagApp(Settings(), overrides={"provider": "ollama"})
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.context.problem is None
        assert "API key" not in screen_text(app)
        assert "ollama" in chat(app).sub_title


async def test_f4_saves_only_what_was_changed_there_not_the_start_up_flags(chat_server):
    from chinwag import paths
    from chinwag.config import load_settings
    from chinwag.tui.app import ChinwagApp
    from chinwag.tui.screens.settings import SettingsScreen

    path = paths.config_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f'# mine\nprovider = "custom"\nbase_url = "{chat_server.base_url}"\nmodel = "gpt-4o-mini"\n')
    settings, _ = load_settings()
    app = ChinwagApp(settings, overrides={"model": "gpt-4o"})  # as `chinwag --model gpt-4o`
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f4")
        await wait_for(pilot, lambda: isinstance(app.screen, SettingsScreen), "settings")
        app.screen.query_one("#field-temperature").value = "0.3"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: not isinstance(app.screen, SettingsScreen), "saved")
        await app.workers.wait_for_complete()
        await send(pilot, "which model?")
        await wait_for(pilot, lambda: len(chat_server.chat_requests) == 1 and not replying(app), "reply")
    text = path.read_text()
    assert 'model = "gpt-4o-mini"' in text and "temperature = 0.3" in text and "# mine" in text
    assert chat_server.chat_requests[0].body["model"] == "gpt-4o"  # the flag still rules this run


async def test_model_flag_wins_over_the_resumed_documents_model(chat_server, launched):
    from chinwag.cli import main
    from chinwag.conversation import Conversation
    from chinwag.store import Store

    conversation = Conversation(model="o3", provider="custom")
    conversation.add_user("earlier question")
    conversation.add_assistant("earlier answer", model="o3")
    Store().save(conversation)
    assert main(["--resume", conversation.id, "--base-url", chat_server.base_url, "--model", "gpt-4o-mini"]) == 0
    (app,) = launched
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: "earlier answer" in screen_text(app), "resumed")
        assert "gpt-4o-mini" in chat(app).sub_title
        await send(pilot, "and now?")
        await wait_for(pilot, lambda: len(chat_server.chat_requests) == 1 and not replying(app), "reply")
    assert chat_server.chat_requests[0].body["model"] == "gpt-4o-mini"


async def test_regenerate_after_a_persona_switch_keeps_the_switch_after_a_resume(chat_server):
    # QA 13: Escape, F3 -> coder, ctrl+r; quit and resume: the switch is still in the transcript.
    from chinwag.config import Settings
    from chinwag.tui.app import ChinwagApp

    chat_server.reply("one two three four five six seven eight nine ten " * 4, chunks=40, delay=0.1)
    app = make_app(chat_server)
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "count")
        await wait_for(pilot, lambda: "three" in chat(app).session.conversation.leaf.content, "partial")
        await pilot.press("escape")
        await wait_for(pilot, lambda: not replying(app), "stopped")
        await pilot.press("f3")
        await pilot.press(*"coder")
        await pilot.press("enter")
        await wait_for(pilot, lambda: chat(app).session.conversation.persona.name == "coder", "switch")
        chat_server.reply("Here is the code.")
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: len(chat_server.chat_requests) == 2 and not replying(app), "new reply")
        await wait_for(pilot, lambda: "Here is the code." in screen_text(app), "new reply on screen")
        text = screen_text(app)
        assert text.index("Persona changed to coder") < text.index("Here is the code.")
        assert "one two three" not in text
        conv_id = chat(app).session.conversation.id
    document = only_document()
    assert [m["role"] for m in path_of(document)] == ["user", "event", "assistant"]
    resumed = ChinwagApp(Settings(provider="custom", base_url=chat_server.base_url, model="gpt-4o-mini"),
                         resume=conv_id)
    async with resumed.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: "Here is the code." in screen_text(resumed), "resumed")
        assert "Persona changed to coder" in screen_text(resumed)


async def test_the_step_after_the_first_frame_does_nothing_once_the_chat_is_gone(chat_server):
    # The warm-up and the recovery check start a moment after the first frame. On a busy machine
    # the app was closed before that moment (a test's end; a quick ctrl+q): the step came with no
    # chat screen left and failed the exit with "no chat screen".
    app = make_app(chat_server)
    async with app.run_test(size=SIZE):
        await app.pop_screen()  # as while closing: no chat screen any more
        app._after_first_frame()  # must not raise
