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
