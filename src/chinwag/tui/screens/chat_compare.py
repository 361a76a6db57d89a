"""Compare models: the next message goes to two or three models at once, side by side.

F7 (or the palette) chooses the models, of any providers; the composer says the next message
will be compared. Sent, the message is saved, one empty reply per model is added under it (the
session's start_replies) and each streams in its own worker through its provider's client into
its own column. A failure stays in its column. A number key picks the reply to continue with;
every reply stays in the document as a version (sibling) of the others.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from textual.worker import Worker, WorkerState

from chinwag.conversation import INTERRUPTED, Message
from chinwag.sanitize import clean
from chinwag.store import StoreError, save_problem
from chinwag.tui.stream import ScreenStream
from chinwag.tui.widgets.token_meter import TokenMeter

if TYPE_CHECKING:  # the dialog, the columns and the session load when first used (a faster start)
    from chinwag.session import ChatSession
    from chinwag.tui.screens.compare_models import Target
    from chinwag.tui.widgets.compare import CompareView


@dataclass
class CompareRun:
    """One comparison on screen: its replies (in column order) and their workers."""

    session: ChatSession
    view: CompareView
    targets: list[Target]
    replies: list[Message]
    workers: list[Worker] = field(default_factory=list)
    meter_shown: bool = True  # the sidebar's display before the columns took its room


class CompareActions:
    """Mixed into ChatScreen."""

    armed: list[Target] | None = None  # the next message is compared across these
    compare: CompareRun | None = None
    _last_targets: list[Target] | None = None  # offered again by the next F7

    # -- choosing ----------------------------------------------------------------------------------

    def action_compare(self) -> None:
        if self.opening:
            return
        if self.compare is not None:
            self.notify("A comparison is on screen: pick a reply first (1–3), or Escape keeps them all.",
                        severity="warning")
            return
        from chinwag.tui.screens.compare_models import CompareModelsScreen, Target

        conversation = self.session.conversation
        current = Target(self.context.resolved.name, self.session.model)
        rows = self.armed or self._last_targets or [current, Target(current.provider, "")]

        async def listed(provider: str) -> list[str]:
            return await self.context.client_for(provider).list_models()

        def chosen(targets: list[Target] | None) -> None:
            if targets:
                self.arm(targets)

        if conversation.read_only:
            self.notify("This conversation is read-only (the notice above says why).", severity="error")
            return
        self.app.push_screen(CompareModelsScreen(rows, self.context.resolved_for, listed), chosen)

    def arm(self, targets: list[Target]) -> None:
        self.armed = self._last_targets = list(targets)
        self.refresh_composer_title()
        self.set_focus(self.composer)

    def disarm(self) -> None:
        self.armed = None
        self.refresh_composer_title()

    # -- streaming -----------------------------------------------------------------------------------

    async def start_compare(self, message: Message) -> None:
        """Ask each armed model for a reply to ``message`` (saved already), side by side."""
        from chinwag.tui.widgets.compare import CompareView
        from chinwag.usage import PROVIDER

        targets = self.armed or []
        self.disarm()
        session = self.session
        replies = session.start_replies([t.model for t in targets], parent=message)
        for reply, target in zip(replies, targets):
            reply.extra[PROVIDER] = target.provider
        view = CompareView(message.content, [(t.provider, t.model) for t in targets], id="compare")
        meter = self.query_one(TokenMeter)
        run = self.compare = CompareRun(session, view, targets, replies, meter_shown=meter.display)
        meter.display = False  # the columns need the width; each carries its own numbers
        self.log_view.display = False
        await self.mount(view, before=self.query_one("#status"))
        view.focus_first()
        self.set_status(f"Comparing {len(targets)} models… (Escape stops them)")
        run.workers = [
            self.run_worker(self.stream_column(run, index), group="compare", exit_on_error=False,
                            description=f"compare {target.model}")
            for index, target in enumerate(targets)
        ]

    async def stream_column(self, run: CompareRun, index: int) -> None:
        from chinwag import client as api

        column, reply, target = run.view.columns[index], run.replies[index], run.targets[index]
        stream = ScreenStream(self, column.body, shown=column.follow)
        started = time.monotonic()
        first: float | None = None
        failure = ""
        column.started()
        try:
            client = self.context.client_for(target.provider)
            async for event in run.session.reply(reply, client=client):
                if isinstance(event, api.Delta):
                    if first is None:
                        first = time.monotonic() - started
                    stream.add(event.text)
                elif isinstance(event, api.Failed):
                    failure = event.message
                elif isinstance(event, api.Adjusted):
                    column.show_stats(event.note)
                else:
                    stream.flush()
        except (OSError, StoreError) as error:  # arrived, but the save at its end failed
            failure = f"The reply arrived but was not saved: {save_problem(error)}"
        finally:
            from chinwag.tui.widgets.compare import DONE, FAILED, STOPPED, stats_text
            from chinwag.usage import cost as usage_cost
            from chinwag.usage import read_usage

            stream.close()
            elapsed = time.monotonic() - started
            state = FAILED if failure else STOPPED if reply.finish_reason == INTERRUPTED else DONE
            use = read_usage(reply.usage)
            stats = ""
            if use is not None:
                cost = usage_cost(reply.model or target.model, target.provider, use, run.session.prices)
                stats = stats_text(first, elapsed, use.prompt, use.completion, use.estimated, cost)
            if state == STOPPED:
                stats = f"stopped — partial reply kept · {stats}" if stats else "stopped"
            elif state == FAILED and not stats:
                stats = f"failed after {elapsed:.2f} s"
            column.ended(state, stats, failure)
            self.column_ended(run)

    def column_ended(self, run: CompareRun) -> None:
        if run is not self.compare or run.view.streaming:
            return
        self.set_status("")
        self.refresh_header()
        self.update_meter()

    @property
    def comparing(self) -> bool:
        """Replies of a comparison are still streaming."""
        return self.compare is not None and self.compare.view.streaming

    async def stop_compare(self) -> None:
        """Stop the columns still streaming (each keeps and saves what arrived)."""
        run = self.compare
        if run is None:
            return
        for worker in run.workers:
            if worker.state in (WorkerState.PENDING, WorkerState.RUNNING):
                worker.cancel()
        for worker in run.workers:
            try:
                await worker.wait()
            except Exception:  # noqa: BLE001 - cancelled or failed: the session saved already
                pass

    # -- picking -------------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "pick_compare":  # a number with no column is left out of the footer
            run = self.compare
            return run is not None and bool(parameters) and int(parameters[0]) <= len(run.targets)
        return True

    async def action_pick_compare(self, number: int) -> None:
        run = self.compare
        if run is None or not 1 <= number <= len(run.targets):
            return
        column, reply = run.view.columns[number - 1], run.replies[number - 1]
        if column.streaming:
            self.notify(f"Reply {number} is still coming: wait for it, or Escape stops the replies.",
                        severity="warning")
            return
        if run.session.conversation.get(reply.id) is not reply:
            self.notify(f"Reply {number} failed: there is nothing to continue from. Pick another.",
                        severity="warning")
            return
        await self.stop_compare()  # the others, if still streaming: kept as they are
        try:
            run.session.select(reply)
        except (OSError, StoreError) as error:
            self.notify(f"Chosen, but not saved: {save_problem(error)}", severity="error", markup=False)
        kept = [r for r in run.replies if r is not reply and run.session.conversation.get(r.id) is r]
        note = f"Continuing with {clean(reply.model or '')}"
        if kept:
            others = "the other reply is its version" if len(kept) == 1 else f"the other {len(kept)} are its versions"
            note += f"; {others} (ctrl+↑, then ← →)"
        await self.end_compare(note + ".")

    async def action_leave_compare(self) -> None:
        run = self.compare
        if run is None:
            return
        if run.view.streaming:
            await self.stop_compare()
            self.notify("Stopped; what arrived is kept. Pick a reply with its number, or Escape keeps them all.")
            return
        leaf = run.session.conversation.leaf
        shown = f"; showing {clean(leaf.model or '')}" if leaf is not None and leaf in run.replies else ""
        await self.end_compare(f"All replies are kept as versions{shown} (ctrl+↑, then ← → switches).")

    async def end_compare(self, note: str | None = None, show: bool = True) -> None:
        """Put the chat back in place of the columns."""
        run, self.compare = self.compare, None
        if run is None:
            return
        await run.view.remove()
        self.query_one(TokenMeter).display = run.meter_shown
        self.log_view.display = True
        self.set_status("")
        if show:
            await self.log_view.show(self.session.conversation.path)
            self.composer.focus()
            self.refresh_header()
            self.update_meter()
        if note:
            self.notify(note, markup=False)
