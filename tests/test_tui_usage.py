"""The usage screen (F5): figures that agree with `chinwag usage`, keys that switch range and breakdown."""

from __future__ import annotations

import json
import time
from datetime import date

import pytest
from test_usage import FIXTURE
from tui_helpers import make_app, wait_for

from chinwag import paths
from chinwag.cli import main
from chinwag.config import Settings
from chinwag.tui.app import ChinwagApp
from chinwag.tui.screens.usage import UsageScreen

TODAY = date(2026, 3, 10)


@pytest.fixture
def documents(monkeypatch):
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    folder = paths.conversations_dir()
    folder.mkdir(parents=True)
    for doc in FIXTURE:
        (folder / f"{doc['id']}.json").write_text(json.dumps(doc), "utf-8")
    yield FIXTURE
    monkeypatch.undo()
    time.tzset()


def text_of(screen, selector: str) -> str:
    return str(screen.query_one(selector).render())


async def open_usage(pilot) -> UsageScreen:
    app = pilot.app
    app.push_screen(UsageScreen(app.context.store, app.settings.prices, today=TODAY))
    await wait_for(pilot, lambda: isinstance(app.screen, UsageScreen) and app.screen.rows is not None, "usage")
    await pilot.pause()
    return app.screen


def cells(screen, row: int) -> list[str]:
    table = screen.query_one("#usage-table")
    return [str(cell) for cell in table.get_row_at(row)]


async def test_f5_opens_and_closes(documents):
    app = make_app()
    async with app.run_test(size=(140, 45)) as pilot:
        await pilot.press("f5")
        await wait_for(pilot, lambda: isinstance(app.screen, UsageScreen) and app.screen.rows is not None, "F5")
        await pilot.press("f5")
        await wait_for(pilot, lambda: not isinstance(app.screen, UsageScreen), "closed")


async def test_the_screen_agrees_with_usage_json(documents, capsys):
    assert main(["usage", "--json"]) == 0
    total = json.loads(capsys.readouterr().out)["total"]
    assert main(["usage"]) == 0
    cli_total = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("TOTAL"))
    app = make_app()
    async with app.run_test(size=(140, 45)) as pilot:
        screen = await open_usage(pilot)
        card = text_of(screen, "#usage-all")
        cost = cli_total.split("  ")[-1].strip()  # the COST column of the text table
        assert cost in card and "~$" in cost and cost.endswith("+ unknown")
        assert f"~{total['prompt_tokens'] + total['completion_tokens']:,} tokens" in card
        assert f"{total['requests']:,} replies" in card
        last = cells(screen, screen.query_one("#usage-table").row_count - 1)
        assert last[:3] == ["Total", f"{total['requests']:,}", f"~{total['prompt_tokens']:,}"]
        assert last[-1] == cost
        today = text_of(screen, "#usage-today")  # 10 March: ollama's reply only (free)
        assert "~$" not in today and "$0.00" in today and "1 reply" in today


async def test_keys_switch_range_breakdown_and_metric(documents):
    app = make_app()
    async with app.run_test(size=(140, 45)) as pilot:
        screen = await open_usage(pilot)
        assert "30 days · by model · charting cost" in text_of(screen, "#usage-note")
        await pilot.press("r")
        assert "12 weeks" in text_of(screen, "#usage-note")
        await pilot.press("g")
        assert [cells(screen, i)[0] for i in range(3)] == ["tutor", "assistant", "Total"]  # by cost
        await pilot.press("c")
        assert "charting tokens" in text_of(screen, "#usage-note")
        await pilot.press("r", "r")
        assert "7 days" in text_of(screen, "#usage-note")
        # 4 to 10 March: b's second reply, c and d (b's first was on the 5th, inside too)
        assert cells(screen, screen.query_one("#usage-table").row_count - 1)[1] == "4"


async def test_a_hostile_model_name_is_plain_text_in_the_chart(documents):
    doc = dict(FIXTURE[2], id="evil", model="\x1b[31mred\x1b]0;pwned\x07[bold]x")
    (paths.conversations_dir() / "evil.json").write_text(json.dumps(doc), "utf-8")
    app = make_app()
    async with app.run_test(size=(140, 45)) as pilot:
        screen = await open_usage(pilot)
        shot = app.export_screenshot()
        assert "pwned" not in shot and "\x1b" not in str(screen.query_one("#usage-table").get_row_at(0))
        assert "red" in shot and "[bold]x" in shot


def test_snapshot_of_the_usage_screen(snap_compare, documents):
    app = ChinwagApp(Settings(provider="custom", base_url="http://127.0.0.1:9/v1", model="gpt-4o-mini",
                              theme="chinwag-dark"))

    async def opened(pilot) -> None:
        screen = await open_usage(pilot)
        # the files are checked in a worker that draws the table again when done: the picture
        # is of the table after that redraw has been laid out, not of whichever came first
        await wait_for(pilot, lambda: screen.checked, "the files checked")
        await pilot.pause(0.2)

    assert snap_compare(app, terminal_size=(140, 45), run_before=opened)


async def test_the_palette_on_the_usage_screen_offers_its_own_commands(chat_server):
    from tui_helpers import make_app, wait_for

    from chinwag.tui.screens.usage import UsageScreen

    app = make_app(chat_server)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("f5")
        await wait_for(pilot, lambda: isinstance(app.screen, UsageScreen), "F5")
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert {"Next range", "Next breakdown", "Cost or tokens", "Close usage"} <= set(titles)
        assert "Regenerate reply" not in titles


async def test_f5_without_its_chart_library_says_so_and_the_chat_goes_on(monkeypatch):
    # An install missing textual-plotext (an old environment): F5 explains, nothing is lost.
    import sys

    monkeypatch.delitem(sys.modules, "chinwag.tui.screens.usage")
    monkeypatch.setitem(sys.modules, "textual_plotext", None)  # import fails as if not installed
    app = make_app()
    async with app.run_test() as pilot:
        app.chat.composer.text = "a draft"
        await pilot.press("f5")
        await pilot.pause()
        assert not isinstance(app.screen, UsageScreen)
        said = [n.message for n in app._notifications]
        assert any("textual_plotext is not installed" in m and "chinwag usage" in m for m in said), said
        assert app.chat.composer.text == "a draft"


def test_cost_axis_labels_tell_small_amounts_apart():
    from chinwag.tui.screens.usage import ticks

    _, labels = ticks([0.00003], "cost")  # one short chat with a cheap model
    assert labels[0] == "$0.00" and labels[-1] == "$0.000030" and len(set(labels)) == 5
    assert len(set(ticks([0.004], "cost")[1])) == 5
    assert ticks([12.5], "cost")[1][-1] == "$12.50"
