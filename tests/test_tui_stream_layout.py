"""What a streamed reply costs the screen: one layout a frame.

Each frame of streamed text makes the message taller; Textual then set the new size as a reactive
that asked for a second layout of the same, already placed, widgets. That doubled the drawing
work of every frame (the app's CPU while streaming is in bench/bench_tui.py).
"""

from __future__ import annotations

from tui_helpers import SIZE, chat, make_app, replying, send, wait_for


async def test_each_streamed_frame_is_laid_out_once(chat_server):
    paragraphs = [f"Paragraph {n}: " + "words that wrap across the chat column " * 4 for n in range(24)]
    text = "\n\n".join(paragraphs)
    # A chunk every 0.15 s: each arrives in its own frame (frames are 0.1 s apart at most).
    chat_server.reply(text, chunks=len(paragraphs), delay=0.15)
    app = make_app(chat_server)
    async with app.run_test(size=SIZE) as pilot:
        screen = chat(app)
        layouts = []
        refresh_layout = screen._refresh_layout

        def counted(*args, **kwargs):
            if replying(app):
                layouts.append(1)
            return refresh_layout(*args, **kwargs)

        screen._refresh_layout = counted
        await send(pilot, "a long answer please")
        await wait_for(pilot, lambda: not replying(app), "the reply")
        body = screen.log_view.views()[-1].body
        assert body.source == text
        assert screen.log_view.max_scroll_y > 0  # the reply grew past the screen: it scrolled as it came
        assert screen.log_view.scroll_y == screen.log_view.max_scroll_y  # and its end is on screen
    # One layout for each of the 24 frames, and a few for the send itself (the message, the
    # composer cleared, the reply's frame, the footer). It was two a frame (over 48).
    assert len(layouts) <= len(paragraphs) + 8, len(layouts)


async def test_a_reply_stays_whole_on_screen_when_the_chat_is_paged_away_and_back_while_it_streams(chat_server):
    # Paging up during a long reply, then ctrl+end, made the chat mount the reply's message
    # again (its measured height was stale): the stream went on into the view taken down, and
    # the screen kept the text of that moment for good (the saved reply was whole).
    sections = [f"## Part {n}\n\n" + "A line of the answer that goes on a while. " * 6 + f"\n\n- item {n}\n- more\n"
                for n in range(30)]
    text = "\n".join(sections) + "\nTHE END"
    chat_server.reply(text, chunks=600, delay=0.008)
    app = make_app(chat_server)
    async with app.run_test(size=(100, 30)) as pilot:
        await send(pilot, "a long answer please")
        screen = chat(app)
        reply = lambda: screen.session.conversation.messages[-1]  # noqa: E731
        await wait_for(pilot, lambda: len(reply().content) > len(text) // 4, "a quarter of the reply")
        await pilot.press("pageup", "pageup")
        await pilot.pause(0.3)
        await pilot.press("ctrl+end")
        await pilot.pause(0.3)
        await pilot.press("pageup")
        await pilot.pause(0.2)
        await pilot.press("ctrl+end")
        await wait_for(pilot, lambda: not replying(app), "the reply", steps=800)
        await pilot.pause(0.3)
        assert reply().content == text
        view = screen.log_view.view_for(reply())
        assert view is not None and view.body.source == text  # all of it on screen
        assert screen.log_view.scroll_y == screen.log_view.max_scroll_y
        assert view.status == ""  # finished: no "replying…" left behind
