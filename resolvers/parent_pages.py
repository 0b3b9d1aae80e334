"""Keyset pages of many parents' children in one statement: the one loader behind followers,
following, follow requests, profile posts, comments and story viewers.

A page of users each asking for their own followers (or a feed page showing two comments under
each post) costs one statement per page shape: ROW_NUMBER() over each parent's rows picks every
parent's `first + 1` rows at once, and the extra row tells whether a next page exists.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Generic, NamedTuple, TypeVar

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import InstrumentedAttribute, aliased

from resolvers.loader import RequestLoader, unique
from resolvers.paging import Page, PageArgs, page_from_rows

T = TypeVar("T")


class PageKey(NamedTuple):
    """One parent's page: its id, the page size and the keyset cursor (a child id)."""

    parent: int
    first: int
    after: int | None


class ParentPages(RequestLoader[PageKey, Page[T]], Generic[T]):
    """Subclasses name the child's key and parent columns and say which rows count:

    - `key` orders the page (newest first unless `oldest_first`) and is the cursor;
    - `parent` groups the rows into pages;
    - `candidates(parents)` selects the rows of those parents (columns plus filters);
    - `entity`, when set, turns each row into that ORM object, else `item(row)` builds it.
    """

    key: ClassVar[InstrumentedAttribute[int]]
    parent: ClassVar[InstrumentedAttribute[int]]
    oldest_first: ClassVar[bool] = False
    entity: ClassVar[type[Any] | None] = None

    def candidates(self, parents: list[int]) -> Select[*tuple[Any, ...]]:
        raise NotImplementedError

    def item(self, row: Any) -> T:
        return row[0]  # type: ignore[no-any-return]

    def received(self, item: T) -> None:
        """Called for each loaded item (to prime other loaders)."""

    async def fetch(self, keys: Sequence[PageKey]) -> Mapping[PageKey, Page[T]]:
        shapes: dict[tuple[int, int | None], list[int]] = {}
        for key in unique(keys):
            shapes.setdefault((key.first, key.after), []).append(key.parent)
        found: dict[PageKey, Page[T]] = {}
        async with self.ctx.read() as session:
            for (first, after), parents in shapes.items():
                rows: dict[int, list[tuple[int, T]]] = {parent: [] for parent in parents}
                for row in (await session.execute(self._statement(parents, first, after))).all():
                    item = self.item(row)
                    self.received(item)
                    rows[row.page_parent].append((row.page_key, item))
                for parent in parents:
                    found[PageKey(parent, first, after)] = page_from_rows(
                        rows[parent], PageArgs(first, after)
                    )
        return found

    def _statement(self, parents: list[int], first: int, after: int | None) -> Select[*tuple[Any, ...]]:
        cls = type(self)  # read through the class: on an instance, a mapped column is a descriptor
        oldest_first = cls.oldest_first
        rank = func.row_number().over(
            partition_by=cls.parent, order_by=cls.key.asc() if oldest_first else cls.key.desc()
        )
        inner = self.candidates(parents).add_columns(rank.label("page_rank"))
        if after is not None:
            inner = inner.where(cls.key > after if oldest_first else cls.key < after)
        ranked = inner.subquery()
        key: ColumnElement[int] = ranked.c[cls.key.key]
        payload = [aliased(cls.entity, ranked)] if cls.entity is not None else list(ranked.c)
        return (
            select(*payload, key.label("page_key"), ranked.c[cls.parent.key].label("page_parent"))
            .where(ranked.c.page_rank <= first + 1)
            .order_by(key.asc() if oldest_first else key.desc())
        )
