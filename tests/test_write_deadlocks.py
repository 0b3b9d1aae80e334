"""Deadlocks on PostgreSQL: writes that meet take their locks in one order, and a transaction
PostgreSQL aborts anyway (deadlock, serialization failure) answers CONFLICT, never a masked error.

Two real connections are interleaved deterministically: one write is held at a chosen statement
(an engine hook), the other is started and observed waiting on a lock in pg_stat_activity, then
the first goes on. No sleeps: each step waits for the database to say where the other one is.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.util import await_only

from core.errors import WriteConflict
from core.unit_of_work import unit_of_work
from tests.harness import Api
from tests.posting import user_id
from tests.story_helpers import CREATE_HIGHLIGHT, create_story

REMOVE = "mutation($h: ID!, $s: [ID!]!) { removeFromHighlight(highlightId: $h, storyIds: $s) { id } }"
DELETE_HIGHLIGHT = "mutation($id: ID!) { deleteHighlight(id: $id) }"
DELETE_STORY = "mutation($id: ID!) { deleteStory(id: $id) }"
STORY_MEDIA = "query($id: ID!) { node(id: $id) { ... on Story { media { id } } } }"
HIGHLIGHT = "query($id: ID!) { node(id: $id) { ... on Highlight { stories { id } cover { id } } } }"


@pytest.fixture
def postgres(backend: str) -> None:
    if backend != "postgresql":
        pytest.skip("SQLite runs one write transaction at a time: two writes never hold locks at once")


async def waiting_on_a_lock(api: Api, count: int = 1) -> None:
    """Until `count` other sessions of this database wait on a lock (a row, an advisory lock)."""
    statement = text(
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
    )
    async with asyncio.timeout(15):
        while True:
            async with api.services.db.read() as session:
                if (await session.scalar(statement) or 0) >= count:
                    return
            await asyncio.sleep(0.02)  # another session's wait is only seen by polling


@contextmanager
def held_after(api: Api, prefix: str) -> Iterator[tuple[asyncio.Event, asyncio.Event]]:
    """(reached, release): the next write statement starting with `prefix` runs, then its
    transaction waits, with its locks held, until `release` is set."""
    reached, release = asyncio.Event(), asyncio.Event()
    armed = [True]

    def hold(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if armed[0] and statement.lstrip().upper().startswith(prefix.upper()):
            armed[0] = False
            reached.set()
            await_only(release.wait())  # inside SQLAlchemy's greenlet: the event loop runs on

    engine = api.services.db.writer.sync_engine
    event.listen(engine, "after_cursor_execute", hold)
    try:
        yield reached, release
    finally:
        release.set()
        event.remove(engine, "after_cursor_execute", hold)


async def test_a_deadlock_answers_conflict_and_the_other_write_commits(api: Api, postgres: None) -> None:
    a, b = await api.sign_up(), await api.sign_up()
    rows = (user_id(a), user_id(b))
    update = text("UPDATE users SET bio = :bio WHERE id = :id")
    first_locked, second_locked = asyncio.Event(), asyncio.Event()

    async def write(mine: int, theirs: int, locked: asyncio.Event, other: asyncio.Event, bio: str) -> None:
        async with unit_of_work(api.services) as work:
            await work.session.execute(update, {"bio": bio, "id": mine})
            locked.set()
            await other.wait()
            await work.session.execute(update, {"bio": bio, "id": theirs})

    first = asyncio.create_task(write(rows[0], rows[1], first_locked, second_locked, "first"))
    await first_locked.wait()
    second = asyncio.create_task(write(rows[1], rows[0], second_locked, first_locked, "second"))
    outcomes = await asyncio.gather(first, second, return_exceptions=True)

    # PostgreSQL aborts one of the two (after deadlock_timeout); that one is a retryable CONFLICT.
    assert sorted(type(outcome).__name__ for outcome in outcomes) == ["NoneType", "WriteConflict"]
    winner = "first" if outcomes[0] is None else "second"
    async with api.services.db.read() as session:
        bios = await session.scalars(
            text("SELECT bio FROM users WHERE id IN (:a, :b)"), {"a": rows[0], "b": rows[1]}
        )
        assert set(bios) == {winner}
    assert isinstance(outcomes[0] or outcomes[1], WriteConflict)


@pytest.mark.parametrize("other", ["removeFromHighlight", "deleteHighlight"])
async def test_deleting_a_story_meeting_a_highlight_write_never_deadlocks(
    api: Api, postgres: None, other: str
) -> None:
    alice = await api.sign_up()
    story, kept = await create_story(api, alice), await create_story(api, alice)
    cover, kept_media = [
        (await api.gql(STORY_MEDIA, {"id": one}, alice.token))["node"]["media"]["id"] for one in (story, kept)
    ]
    created = await api.gql(
        CREATE_HIGHLIGHT,
        {"input": {"title": "Both", "storyIds": [story, kept], "coverMediaId": cover}},
        alice.token,
    )
    highlight = created["createHighlight"]["id"]

    # deleteStory runs up to its leaving the highlight (the story, then its memberships) and waits
    # there; today's other order would take the highlight, then wait for that membership.
    with held_after(api, "DELETE FROM highlight_stories") as (reached, release):
        deleting = asyncio.create_task(api.post(DELETE_STORY, {"id": story}, alice.token))
        await reached.wait()
        if other == "removeFromHighlight":
            racing = asyncio.create_task(api.post(REMOVE, {"h": highlight, "s": [story]}, alice.token))
        else:
            racing = asyncio.create_task(api.post(DELETE_HIGHLIGHT, {"id": highlight}, alice.token))
        await waiting_on_a_lock(api)
        release.set()
        deleted, raced = await asyncio.gather(deleting, racing)

    assert deleted["data"] == {"deleteStory": story} and "errors" not in deleted
    assert "errors" not in raced, raced  # neither a deadlock victim nor a CONFLICT: it waited its turn
    node = (await api.gql(HIGHLIGHT, {"id": highlight}, alice.token))["node"]
    if other == "removeFromHighlight":
        assert node == {"stories": [{"id": kept}], "cover": {"id": kept_media}}
    else:
        assert raced["data"] == {"deleteHighlight": highlight}
        assert node is None
