"""Long lists of buttons a page at a time: Telegram refuses a keyboard of more than 100
buttons, and a phone shows a dozen comfortably."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from bot.i18n import _

T = TypeVar("T")
PER_PAGE = 10


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    page: int  # 0-based, within range
    pages: int
    first: int  # position of items[0] in the whole list, 0-based (for numbering)


def page_of(items: Sequence[T], page: int, per_page: int = PER_PAGE) -> Page[T]:
    pages = max(1, -(-len(items) // per_page))
    page = min(max(page, 0), pages - 1)
    first = page * per_page
    return Page(list(items[first:first + per_page]), page, pages, first)


def nav_row(page: Page, data: Callable[[int], str]) -> list[list[tuple[str, str]]]:
    """The ◀️ / ▶️ row (none for a single page); `data(n)` is the button data of page n."""
    nav = []
    if page.page > 0:
        nav.append((_("◀️ Previous"), data(page.page - 1)))
    if page.page < page.pages - 1:
        nav.append((_("Next ▶️"), data(page.page + 1)))
    return [nav] if nav else []
