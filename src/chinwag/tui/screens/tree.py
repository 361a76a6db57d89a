"""F6: the whole conversation as a tree; Enter jumps to a branch.

A conversation of 2,000 messages with a regenerated reply every other turn would indent 1,000
levels deep if every branch point indented. Instead the branch on screen (the current path) is
one flat list at the left; a message that has other versions (edits, regenerations, compared
replies) can be opened (→ or space) to show them, and each version opens onto its own
continuation, flat again. A long list shows its last CHUNK messages; the earlier ones wait in
folded groups of CHUNK. Opening builds only what it shows, so F6 costs about the same for a
conversation of 20 messages or of 2,000 (Textual's Tree measures every line it holds, again on
each change).
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static, Tree
from textual.widgets.tree import TreeNode

from chinwag.conversation import ASSISTANT, EVENT, USER, Conversation, Message
from chinwag.sanitize import clean
from chinwag.tui.widgets.key_bar import KeyBar

PREVIEW = 70  # characters of a message's first line
CHUNK = 100  # lines of a branch shown at once; earlier ones are folded in groups this size


@dataclass(frozen=True)
class Place:
    """A tree line: ``message``, on the branch that ends at ``leaf``; ``versions``: this line
    opens onto the message's other versions (else, for a version: onto its continuation)."""

    message: Message
    leaf: Message
    versions: bool


@dataclass(frozen=True)
class Earlier:
    """A folded group of a branch's earlier messages (``first`` is the 1-based position of the
    first of them on its branch)."""

    messages: list[Message]
    leaf: Message
    first: int


def preview(message: Message) -> str:
    line = " ".join(clean(message.content[: PREVIEW * 4]).split())  # only what can show is cleaned
    return line if len(line) <= PREVIEW else line[: PREVIEW - 1] + "…"


def descendants(conversation: Conversation) -> dict[str, int]:
    """How many messages follow each message, on every branch (one pass, children after parents)."""
    counts: dict[str, int] = {}
    for message in reversed(conversation.messages):
        if message.parent is not None:
            counts[message.parent] = counts.get(message.parent, 0) + counts.get(message.id, 0) + 1
    return counts


class ConversationTree(Tree[Place | Earlier]):
    """The tree of one conversation (see the module's docstring)."""

    BINDINGS = [
        Binding("right", "open", "Open the other versions", show=False, id="tree.open"),
        Binding("left", "close", "Close them (or go up a level)", show=False, id="tree.close_versions"),
        Binding("home", "scroll_home", "First line", show=False, id="tree.first"),
        Binding("end", "scroll_end", "Last line", show=False, id="tree.last"),
    ]

    def __init__(self, conversation: Conversation, **kwargs) -> None:
        super().__init__("conversation", **kwargs)
        self.conversation = conversation
        self.show_root = False
        self.auto_expand = False
        self.guide_depth = 3
        self.counts = descendants(conversation)
        self.current_path = {m.id for m in conversation.path}
        self.current_leaf = conversation.leaf
        self.leaf_node: TreeNode[Place] | None = None

    def on_mount(self) -> None:
        path = self.conversation.path
        if path:
            self.add_branch(self.root, path, path[-1])

    # -- building, as far as is shown ----------------------------------------------------

    def add_branch(self, node: TreeNode, messages: list[Message], leaf: Message, first: int = 1) -> None:
        """One flat line per message (the last CHUNK; groups of earlier ones folded before them);
        each with other versions can be opened onto them. ``first``: the position of
        ``messages[0]`` on its branch."""
        if len(messages) > CHUNK:
            earlier, messages = messages[:-CHUNK], messages[-CHUNK:]
            for start in range(0, len(earlier), CHUNK):
                group = earlier[start : start + CHUNK]
                label = Text(f"⋯ messages {first + start}–{first + start + len(group) - 1}  ", style="italic dim")
                label.append(f"{preview(group[0])[:PREVIEW // 2]}…", style="dim")
                node.add(label, Earlier(group, leaf, first + start))
        self.add_lines(node, messages, leaf)

    def add_lines(self, node: TreeNode, messages: list[Message], leaf: Message) -> None:
        for message in messages:
            versions = len(self.conversation.siblings(message.id)) > 1
            label = self.label_for(message, versions=versions, icon=not versions)
            place = Place(message, leaf, versions=True)
            child = node.add(label, place, allow_expand=versions) if versions else node.add_leaf(label, place)
            if message is self.current_leaf:
                self.leaf_node = child

    def add_versions(self, node: TreeNode[Place]) -> None:
        """The other versions of the node's message, each opening onto its continuation."""
        message = node.data.message
        for other in self.conversation.siblings(message.id):
            if other is message:
                continue
            leaf = self.conversation.newest_leaf(other.id)
            more = self.counts.get(other.id, 0)
            label = self.label_for(other, following=more, icon=more == 0)
            node.add(label, Place(other, leaf, versions=False), allow_expand=more > 0)

    def add_continuation(self, node: TreeNode[Place]) -> None:
        place = node.data
        path = self.conversation.path_to(place.leaf.id)
        start = next(i for i, m in enumerate(path) if m is place.message)
        self.add_branch(node, path[start + 1 :], place.leaf, first=start + 2)

    @on(Tree.NodeExpanded)
    def opened(self, event: Tree.NodeExpanded) -> None:
        node = event.node
        if node.data is None or node.children:
            return
        if isinstance(node.data, Earlier):
            self.add_lines(node, node.data.messages, node.data.leaf)
        elif node.data.versions:
            self.add_versions(node)
        else:
            self.add_continuation(node)

    def label_for(self, message: Message, versions: bool = False, following: int | None = None,
                  icon: bool = False) -> Text:
        """``icon``: the line has no ▶/▼ of its own: keep the text where lines that have one put it."""
        on_path = message.id in self.current_path
        style = "" if on_path else "dim"
        who = {USER: "You", ASSISTANT: clean(message.model or "") or "Assistant"}.get(message.role, "·")
        text = Text(" " * len(self.ICON_NODE) if icon else "", style=style)
        text.append("● " if message is self.current_leaf else "  ", style="bold")
        text.append(who, style="bold" if message.role != EVENT else "italic")
        text.append("  ")
        text.append(preview(message) or "(empty)", style="" if message.content else "italic")
        position, count = self.conversation.sibling_position(message.id)
        if count > 1:
            text.append(f"  ‹ {position}/{count} ›", style="bold")
        if versions:
            others = count - 1
            text.append(f"  → {others} other version{'s' if others != 1 else ''}", style="italic")
        if following is not None:
            follows = "1 message follows" if following == 1 else f"{following} messages follow"
            text.append(f"  · {follows}" if following else "  · nothing follows", style="italic")
        return text

    # -- keys ----------------------------------------------------------------------------

    def action_open(self) -> None:
        node = self.cursor_node
        if node is not None and node.allow_expand and not node.is_expanded:
            node.expand()
        elif node is not None and node.is_expanded and node.children:
            self.move_cursor(node.children[0])

    def action_close(self) -> None:
        node = self.cursor_node
        if node is None:
            return
        if node.is_expanded:
            node.collapse()
        elif node.parent is not None and node.parent is not self.root:
            self.move_cursor(node.parent)

    def action_scroll_home(self) -> None:
        self.move_cursor_to_line(0)

    def action_scroll_end(self) -> None:
        self.move_cursor_to_line(max(0, self.last_line))


class TreeScreen(ModalScreen[Place | None]):
    """The conversation tree; Enter returns the chosen line (its message and branch leaf)."""

    DEFAULT_CSS = """
    TreeScreen {
        align: center middle;
        background: $background 60%;
        #dialog {
            width: 95%;
            height: auto;
            max-height: 90%;
            padding: 0 1;
            background: $surface;
            border: round $primary;
            border-title-color: $primary;
            border-title-style: bold;
        }
        ConversationTree { height: auto; max-height: 80vh; background: $surface; }
        #tree-hint { height: auto; color: $text-muted; }
    }
    """
    AUTO_FOCUS = "ConversationTree"
    BINDINGS = [
        Binding("escape", "cancel", "Close", id="tree.close"),
        Binding("f6", "cancel", "Close", show=False),
    ]

    def __init__(self, conversation: Conversation) -> None:
        super().__init__()
        self.conversation = conversation

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog") as dialog:
            title = clean(self.conversation.title) or "New conversation"
            dialog.border_title = Text(f"Conversation tree · {title}")  # a title is content, never markup
            yield ConversationTree(self.conversation)
            yield Static("↑↓ move · → or space opens the other versions · ← closes · Enter shows that branch · "
                         "Escape closes", id="tree-hint", markup=False)
        yield KeyBar()

    def on_mount(self) -> None:
        tree = self.query_one(ConversationTree)
        tree.call_after_refresh(self._to_leaf, tree)

    def _to_leaf(self, tree: ConversationTree) -> None:
        if tree.leaf_node is not None:
            tree.move_cursor(tree.leaf_node, animate=False)
            tree.scroll_to_node(tree.leaf_node, animate=False)

    @on(Tree.NodeSelected)
    def chosen(self, event: Tree.NodeSelected) -> None:
        event.stop()
        if isinstance(event.node.data, Earlier):  # a folded group: Enter opens it
            event.node.toggle()
        elif event.node.data is not None:
            self.dismiss(event.node.data)

    def action_cancel(self) -> None:
        self.dismiss(None)
