"""One layout per change of size, not two.

After a layout, Textual sets each resized widget's ``virtual_size`` reactive, which asks for a
layout again (``Reactive(layout=True)``) though the layout just made already placed everything at
that size; nothing watches ``virtual_size`` here. While a reply streams, the message, its frame
and the chat log change size every frame, so every frame was laid out and drawn twice: half of
the app's drawing time. Widgets that take ``LayoutOnce`` first store their new virtual size the
way Textual's own scroll path does (``layout=False``: stored, scrollbars updated, no new layout).
"""

from __future__ import annotations

from textual.geometry import Size


class LayoutOnce:
    """Mix into a Widget subclass (before it) whose size changes often."""

    def _size_updated(self, size: Size, virtual_size: Size, container_size: Size, layout: bool = True) -> bool:
        return super()._size_updated(size, virtual_size, container_size, layout=False)
