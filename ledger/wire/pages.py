"""One generic page model for every list, in the two orders the lists are read in.

Why two small generics over one base rather than one model with two optional cursors: a list is
either oldest first (`next_after`, passed back as `after`) or newest first (`next_before`,
passed back as `before`, only `GET /v1/evaluations`), never both; the cursor field is always
present and `null` on the last page. One model with both cursors optional would describe
answers the service never gives and let a client read a cursor that is never set.
`Items` is the shared base (also of `PolicyList`, which is not paged).

Items are tuples so that a page is immutable; they are sent as JSON arrays. The client
parametrises the same models with `dict[str, Any]` (records are the service's to shape: a
client keeps fields it does not know yet), the service with its record models.
"""

from __future__ import annotations

from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["Items", "NewestFirstPage", "Page"]

T = TypeVar("T")


class Items(BaseModel, Generic[T]):
    """A list answer: its items."""

    model_config = ConfigDict(frozen=True)

    items: tuple[T, ...]


class Page(Items[T], Generic[T]):
    """A page of a list ordered by `seq`, oldest first (keyset cursor, stable under appends)."""

    next_after: int | None = Field(description="pass back as `after` for the next page; null on the last page", ge=0)


class NewestFirstPage(Items[T], Generic[T]):
    """A page of a list ordered by `seq`, newest first (`GET /v1/evaluations`)."""

    next_before: int | None = Field(
        description="pass back as `before` for the next (older) page; null on the last page", ge=0
    )
