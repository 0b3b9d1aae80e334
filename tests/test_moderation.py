"""Moderators: who they are, what only they see (an authorization matrix over every new field), and
what resolving a report does: DISMISS, REMOVE_CONTENT, SUSPEND_ACCOUNT, each in the audit log."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest
from sqlalchemy import select

import commands
from models import ModerationLog, User
from tests.conversation_helpers import MESSAGE
from tests.engagement import ADD_COMMENT
from tests.harness import Api, ServerFactory, TestUser
from tests.posting import create_post, settle
from tests.safety_helpers import QUEUE, REPORT_NODE, RESOLVE, moderator, queue, report
from tests.story_helpers import create_story, db_id
from tests.test_conversations import SEND, start
from tests.test_credentials import signed_in_as
from tests.ws_client import graphql_socket

FOLLOW = "mutation($id: ID!) { follow(userId: $id) { id } }"
FEED = "{ feed(first: 20) { edges { node { id } } } }"
TRAY = "{ storiesTray(first: 20) { edges { node { owner { username } } } } }"
POST = "query($id: ID!) { node(id: $id) { id } }"
COMMENTS = (
    "query($id: ID!) { node(id: $id) { ... on Post { commentCount comments { edges { node { id } } } } } }"
)
USER = "query($name: String!) { user(username: $name) { id isModerator mutedPosts mutedStories } }"
VIEWER = "{ viewer { username isModerator } }"
SEARCH = "query($q: String!) { searchUsers(query: $q) { edges { node { username } } } }"
LOG_IN = """
mutation($u: String!) { logIn(input: {username: $u, password: "correct horse battery"}) { token } }
"""
FOLLOWERS = "query($name: String!) { user(username: $name) { followers { edges { node { username } } } } }"
MEMBERS = "query($id: ID!) { node(id: $id) { ... on Conversation { members { username } } } }"
EVENTS = "subscription { conversationEvents { __typename } }"


async def audit(api: Api, *, appointments: bool = False) -> list[tuple[str, int | None, str | None]]:
    """The audit log, oldest first; without `appointments`, only what resolved reports."""
    async with api.services.db.read() as session:
        rows = await session.scalars(select(ModerationLog).order_by(ModerationLog.id))
        return [
            (row.action, row.subject_user_id, row.note)
            for row in rows
            if appointments or not row.action.startswith("MODERATOR_")
        ]


async def test_no_moderator_view_reaches_anyone_else(api: Api) -> None:
    """Every new field, as each kind of viewer: signed out, the reporter, the reported author, a
    stranger, a former moderator, and a moderator."""
    author, reporter, stranger, former, mod = [await api.sign_up() for _ in range(4)] + [await moderator(api)]
    await api.gql(FOLLOW, {"id": author.id}, reporter.token)
    post = await create_post(api, author, "mean words")
    report_id = await report(api, reporter, post)
    assert await commands_set(api, former.username, True) and await commands_set(api, former.username, False)

    viewers: dict[str, TestUser | None] = {
        "anonymous": None, "reporter": reporter, "author": author, "stranger": stranger, "former": former,
    }  # fmt: skip
    for name, viewer in viewers.items():
        token = viewer.token if viewer else None
        expected = "UNAUTHENTICATED" if viewer is None else "FORBIDDEN"
        assert (await api.gql_error(QUEUE, {}, token)).codes == [expected], name
        for status in ("ACTIONED", "DISMISSED"):
            assert (await api.gql_error(QUEUE, {"status": status}, token)).codes == [expected], name
        resolve = {"id": report_id, "action": "DISMISS"}
        assert (await api.gql_error(RESOLVE, resolve, token)).codes == [expected], name
        node = (await api.gql(REPORT_NODE, {"id": report_id}, token))["node"]
        if viewer is reporter:
            assert (node["evidence"], node["reporter"], node["status"]) == (None, None, "OPEN")
        else:
            assert node is None, name
        # isModerator is the viewer's own; mutedPosts/mutedStories are the viewer's own mutes.
        seen = (await api.gql(USER, {"name": mod.username}, token))["user"]
        assert (seen["isModerator"], seen["mutedPosts"], seen["mutedStories"]) == (None, False, False), name
    assert (await api.gql(VIEWER, {}, mod.token))["viewer"]["isModerator"] is True
    assert (await api.gql(VIEWER, {}, former.token))["viewer"]["isModerator"] is False
    (seen,) = await queue(api, mod)
    assert seen["reporter"] == {"username": reporter.username}
    assert seen["evidence"]["text"] == "mean words"
    assert (await api.gql(REPORT_NODE, {"id": report_id}, mod.token))["node"]["evidence"]["kind"] == "Post"


async def commands_set(api: Api, username: str, on: bool) -> bool:
    """`ephemera moderator add|remove USERNAME`, run against this test's database."""
    settings = replace(api.app.state.settings, migrate_on_start=False)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("commands.Settings.from_env", lambda: settings)
        # A thread of its own: the command runs its own event loop, as it does from a shell.
        argv = ["moderator", "add" if on else "remove", username]
        return await asyncio.to_thread(commands.main, argv) == 0


async def test_the_command_appoints_and_dismisses_and_refuses_unknown_names(
    api: Api, capsys: pytest.CaptureFixture[str]
) -> None:
    user = await api.sign_up()
    assert await commands_set(api, user.username.upper(), True)
    assert (await api.gql(VIEWER, {}, user.token))["viewer"]["isModerator"] is True
    assert await commands_set(api, user.username, False)
    assert (await api.gql(VIEWER, {}, user.token))["viewer"]["isModerator"] is False
    assert not await commands_set(api, "nobody_here", True)
    assert "no account is named 'nobody_here'" in capsys.readouterr().err
    log = await audit(api, appointments=True)
    assert [action for action, _, _ in log] == ["MODERATOR_ADD", "MODERATOR_REMOVE"]


async def test_the_queue_is_oldest_first_by_status_and_resolving_twice_conflicts(api: Api) -> None:
    mod, reporter = await moderator(api), await api.sign_up()
    targets = [await api.sign_up() for _ in range(3)]
    ids = []
    for target in targets:
        ids.append(await report(api, reporter, target.id, "IMPERSONATION"))
        api.clock.advance(1)
    first = await api.gql(QUEUE, {"first": 2}, mod.token)
    page = first["moderationQueue"]
    assert [e["node"]["id"] for e in page["edges"]] == ids[:2] and page["pageInfo"]["hasNextPage"]
    rest = await api.gql(QUEUE, {"first": 2, "after": page["pageInfo"]["endCursor"]}, mod.token)
    assert [e["node"]["id"] for e in rest["moderationQueue"]["edges"]] == ids[2:]

    resolved = await api.gql(RESOLVE, {"id": ids[0], "action": "DISMISS", "note": "parody"}, mod.token)
    assert resolved["resolveReport"]["status"] == "DISMISSED"
    again = await api.gql_error(RESOLVE, {"id": ids[0], "action": "SUSPEND_ACCOUNT"}, mod.token)
    assert again.codes == ["CONFLICT"]
    no_content = await api.gql_error(RESOLVE, {"id": ids[1], "action": "REMOVE_CONTENT"}, mod.token)
    assert no_content.codes == ["BAD_USER_INPUT"]
    assert [n["id"] for n in await queue(api, mod)] == ids[1:]
    assert [n["id"] for n in await queue(api, mod, "DISMISSED")] == ids[:1]
    assert await audit(api) == [("DISMISS", db_id(targets[0].id), "parody")]


async def test_remove_content_deletes_the_post_for_everyone_and_counts_in_metrics(api: Api) -> None:
    author, follower, mod = await api.sign_up(), await api.sign_up(), await moderator(api)
    await api.gql(FOLLOW, {"id": author.id}, follower.token)
    post = await create_post(api, author)
    story = await create_story(api, author)
    await settle(api)
    assert [e["node"]["id"] for e in (await api.gql(FEED, {}, follower.token))["feed"]["edges"]] == [post]
    post_report, story_report = await report(api, follower, post), await report(api, follower, story)

    for report_id in (post_report, story_report):
        done = await api.gql(RESOLVE, {"id": report_id, "action": "REMOVE_CONTENT"}, mod.token)
        assert done["resolveReport"]["status"] == "ACTIONED"
    await settle(api)
    for viewer in (follower, author):
        assert (await api.gql(FEED, {}, viewer.token))["feed"]["edges"] == []
        assert (await api.gql(POST, {"id": post}, viewer.token))["node"] is None
        assert (await api.gql(POST, {"id": story}, viewer.token))["node"] is None
    assert (await api.gql(TRAY, {}, follower.token))["storiesTray"]["edges"] == []
    # The author is not suspended: they still sign in and post.
    assert (await api.gql(LOG_IN, {"u": author.username}))["logIn"]["token"]
    metrics = (await api.http.get("/metrics")).text
    assert 'ephemera_moderation_actions_total{action="REMOVE_CONTENT"}' in metrics
    assert [action for action, _, _ in await audit(api)] == ["REMOVE_CONTENT", "REMOVE_CONTENT"]


async def test_a_suspended_account_is_signed_out_refused_and_hidden_like_a_block(api: Api) -> None:
    author, follower, mod = await api.sign_up(), await api.sign_up(), await moderator(api)
    await api.gql(FOLLOW, {"id": author.id}, follower.token)
    kept = await create_post(api, follower)  # the follower's own post, commented on by the author
    await api.gql(ADD_COMMENT, {"post": kept, "body": "nice", "cid": "c1"}, author.token)
    await api.gql(FOLLOW, {"id": follower.id}, author.token)
    cid = await start(api, author, follower)
    other_post = await create_post(api, author)
    reported = await create_post(api, author, "abuse")
    await settle(api)
    report_id = await report(api, follower, reported)

    await api.gql(RESOLVE, {"id": report_id, "action": "SUSPEND_ACCOUNT", "note": "repeat"}, mod.token)
    await settle(api)
    assert await signed_in_as(api, author.token) is None  # refused: TOKEN_REVOKED
    refused = await api.gql_error(LOG_IN, {"u": author.username})
    assert refused.codes == ["ACCOUNT_SUSPENDED"]
    # Hidden everywhere, as a block hides: the profile, the posts, the feed, comments, search.
    assert (await api.gql(USER, {"name": author.username}, follower.token))["user"] is None
    assert (await api.gql(USER, {"name": author.username}))["user"] is None
    assert (await api.gql(POST, {"id": other_post}, follower.token))["node"] is None
    assert [e["node"]["id"] for e in (await api.gql(FEED, {}, follower.token))["feed"]["edges"]] == [kept]
    comments = (await api.gql(COMMENTS, {"id": kept}, follower.token))["node"]
    assert comments == {"commentCount": 0, "comments": {"edges": []}}
    followers = await api.gql(FOLLOWERS, {"name": follower.username}, follower.token)
    assert followers["user"]["followers"]["edges"] == []
    members = (await api.gql(MEMBERS, {"id": cid}, follower.token))["node"]["members"]
    assert members == [{"username": follower.username}]
    found = await api.gql(SEARCH, {"q": author.username}, follower.token)
    assert author.username not in [e["node"]["username"] for e in found["searchUsers"]["edges"]]
    # The moderator still sees whom the report is about.
    (closed,) = await queue(api, mod, "ACTIONED")
    assert closed["evidence"]["author"] == {"username": author.username}
    async with api.services.db.read() as session:
        user = await session.get(User, db_id(author.id))
        assert user is not None and user.suspended_at is not None
    assert await audit(api) == [("SUSPEND_ACCOUNT", db_id(author.id), "repeat")]


@pytest.mark.served
async def test_a_suspension_closes_the_accounts_socket_on_another_process(
    api: Api, server: ServerFactory, app_redis_url: str | None
) -> None:
    if app_redis_url is None:
        pytest.skip("processes share revocations through Redis; the embedded default is one process")
    author, reporter, mod = await api.sign_up(), await api.sign_up(), await moderator(api)
    report_id = await report(api, reporter, author.id)
    async with server() as other, graphql_socket(other.ws_url, author.token) as socket:
        await socket.subscribe(EVENTS)
        await api.gql(RESOLVE, {"id": report_id, "action": "SUSPEND_ACCOUNT"}, mod.token)
        assert await socket.closed() == (4403, "Token revoked")
        assert await signed_in_as(other, author.token) is None  # refused: TOKEN_REVOKED


async def test_remove_content_unsends_a_message_and_deletes_a_comment_as_their_authors_would(
    api: Api,
) -> None:
    author, reader, mod = await api.sign_up(), await api.sign_up(), await moderator(api)
    cid = await start(api, author, reader)
    message = (await api.gql(SEND, {"cid": cid, "body": "threat", "clientId": "m1"}, author.token))[
        "sendMessage"
    ]
    post = await create_post(api, reader)
    comment = await api.gql(ADD_COMMENT, {"post": post, "body": "insult", "cid": "c1"}, author.token)
    comment_id = comment["addComment"]["id"]
    reports = [await report(api, reader, message["id"]), await report(api, reader, comment_id)]
    evidence = {n["evidence"]["kind"]: n["evidence"]["text"] for n in await queue(api, mod)}
    assert evidence == {"Message": "threat", "Comment": "insult"}

    for report_id in reports:
        await api.gql(RESOLVE, {"id": report_id, "action": "REMOVE_CONTENT"}, mod.token)
    seen = (await api.gql(MESSAGE, {"id": message["id"]}, reader.token))["node"]
    assert (seen["body"], seen["unsentAt"] is not None) == ("", True)
    assert (await api.gql(COMMENTS, {"id": post}, reader.token))["node"]["commentCount"] == 0
    assert [n["status"] for n in await queue(api, mod, "ACTIONED")] == ["ACTIONED", "ACTIONED"]


async def test_a_queue_page_costs_the_same_statements_at_any_size(api: Api) -> None:
    mod = await moderator(api)
    reporters = [await api.sign_up() for _ in range(2)]
    targets = [await api.sign_up() for _ in range(8)]
    await report(api, reporters[0], targets[0].id)
    costs = []
    for size in (1, 8):
        if size == 8:
            for n, target in enumerate(targets[1:]):
                await report(api, reporters[n % 2], await create_post(api, target, f"post {n}"))
        with api.count_statements() as statements:
            assert len(await queue(api, mod)) == size
        costs.append(len(statements))
    assert costs[0] == costs[1]
