"""One HTTP request reads through one pooled connection, and still sees its own writes."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event, select, update

from core.ids import from_global_id
from core.shared_read import SharedRead
from models import User
from tests.harness import Api
from tests.test_statements import FOLLOWERS_IN_DEPTH, build_graph

ME = "query { viewer { id username bio } }"
TWO_EDITS = """
mutation {
  first: updateProfile(input: {bio: "first"}) { bio }
  second: updateProfile(input: {bio: "second"}) { bio }
}
"""


@contextmanager
def read_checkouts(api: Api) -> Iterator[list[Any]]:
    checkouts: list[Any] = []

    def record(*args: Any) -> None:
        checkouts.append(args)

    pool = api.services.db.reader.sync_engine.pool
    event.listen(pool, "checkout", record)
    try:
        yield checkouts
    finally:
        event.remove(pool, "checkout", record)


async def test_a_deep_page_reads_through_one_connection(api: Api) -> None:
    viewer = await api.sign_up("viewer")
    parsed = from_global_id(viewer.id)
    assert parsed is not None
    await build_graph(api, parsed[1])
    with read_checkouts(api) as checkouts:
        data = await api.gql(FOLLOWERS_IN_DEPTH, {"username": "big", "first": 50}, token=viewer.token)
    assert len(data["user"]["followers"]["edges"]) == 50
    assert len(checkouts) == 1  # the token, the page and every loader batch: one checkout


async def test_each_write_in_a_request_is_seen_by_the_next_field(api: Api) -> None:
    viewer = await api.sign_up()
    await api.gql(ME, token=viewer.token)
    data = await api.gql(TWO_EDITS, token=viewer.token)
    assert data == {"first": {"bio": "first"}, "second": {"bio": "second"}}


async def test_a_shared_session_rereads_a_row_written_since(api: Api) -> None:
    viewer = await api.sign_up()
    parsed = from_global_id(viewer.id)
    assert parsed is not None
    db = api.services.db
    shared = SharedRead(db)
    try:
        async with shared.use() as session:
            before = await session.scalar(select(User).where(User.id == parsed[1]))
        assert before is not None and before.bio == ""
        async with db.write() as session:
            await session.execute(update(User).where(User.id == parsed[1]).values(bio="edited"))
        async with shared.use() as session:
            after = await session.scalar(select(User).where(User.id == parsed[1]))
        assert after is not None and after.bio == "edited"
    finally:
        await shared.close()
