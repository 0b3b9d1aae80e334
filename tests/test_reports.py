"""report: evidence taken at report time and held for REPORT_RETENTION_SECONDS, whatever happens to
its subject; duplicates are one report; nothing of it reaches the reported account."""

from __future__ import annotations

from sqlalchemy import select

from models import Media, Report, Story
from resolvers.media.reconciliation import reconcile_media
from resolvers.safety.holds import release_report_holds
from resolvers.stories.sweeper import sweep_expired_stories
from tests.conversation_helpers import UNSEND
from tests.harness import Api, http_client
from tests.posting import create_post, ready_media
from tests.safety_helpers import QUEUE, REPORT, REPORT_NODE, RESOLVE, moderator, queue, report
from tests.story_helpers import create_story, db_id
from tests.test_conversations import SEND, start
from tests.test_story_media_urls import lifetime

FOLLOW = "mutation($id: ID!) { follow(userId: $id) { id } }"
STORY_GONE = 86_400 + 3_600 + 1  # past expiry and the story media retention: the sweeper purges
WEEK = 7 * 86_400


async def story_keys(api: Api, story_id: int) -> list[str]:
    async with api.services.db.read() as session:
        story = await session.get(Story, story_id)
        assert story is not None and story.media_id is not None
        media = await session.get(Media, story.media_id)
        assert media is not None
    return [media.storage_key, *(str(v["key"]) for v in media.variants)]


async def test_an_expired_storys_evidence_is_reviewable_by_a_moderator_only_until_retention(api: Api) -> None:
    author, reporter, mod = await api.sign_up(), await api.sign_up(), await moderator(api)
    await api.gql(FOLLOW, {"id": author.id}, reporter.token)
    story = await create_story(api, author)
    keys = await story_keys(api, db_id(story))
    report_id = await report(api, reporter, story)

    api.clock.advance(STORY_GONE)
    assert await sweep_expired_stories(api.services) == 1
    await api.services.outbox.settle(api.services)
    storage = api.services.storage
    assert all([await storage.head(key) for key in keys])  # held: the sweeper's delete skipped them
    # Nor are they orphans to `ephemera reconcile-media --delete`, though their media row is gone.
    reconciled = await reconcile_media(api.services, delete=True, min_age_seconds=0)
    assert not set(keys) & set(reconciled.orphan_keys)
    assert all([await storage.head(key) for key in keys])

    (seen,) = await queue(api, mod)
    assert seen["id"] == report_id and seen["reporter"] == {"username": reporter.username}
    evidence = seen["evidence"]
    assert (evidence["kind"], evidence["author"], evidence["text"]) == (
        "Story",
        {"username": author.username},
        None,
    )
    (media,) = evidence["media"]
    async with http_client() as client:
        served = await client.get(media["url"])
    assert served.status_code == 200 and served.content[:2] == b"\xff\xd8"
    assert lifetime(api, media["url"]) <= api.services.settings.evidence_url_seconds
    # The reporter sees their report, without evidence or reporter; the author and others see nothing.
    own = (await api.gql(REPORT_NODE, {"id": report_id}, reporter.token))["node"]
    assert (own["status"], own["evidence"], own["reporter"]) == ("OPEN", None, None)
    for other in (author, await api.sign_up()):
        assert (await api.gql(REPORT_NODE, {"id": report_id}, other.token))["node"] is None
        assert (await api.gql_error(QUEUE, {}, other.token)).codes == ["FORBIDDEN"]

    # An open report holds past retention; once closed and past retention, the objects go.
    api.clock.advance(WEEK)
    assert await release_report_holds(api.services) == 0
    await api.gql(RESOLVE, {"id": report_id, "action": "DISMISS", "note": "fine"}, mod.token)
    assert await release_report_holds(api.services) == 1
    await api.services.outbox.settle(api.services)
    assert [await storage.head(key) for key in keys] == [None] * len(keys)
    (closed,) = await queue(api, mod, "DISMISSED")
    assert (closed["evidence"]["text"], closed["evidence"]["media"]) == (None, [])
    assert await release_report_holds(api.services) == 0


async def test_a_closed_report_still_holds_until_retention_passes(api: Api) -> None:
    author, reporter, mod = await api.sign_up(), await api.sign_up(), await moderator(api)
    await api.gql(FOLLOW, {"id": author.id}, reporter.token)
    story = await create_story(api, author)
    keys = await story_keys(api, db_id(story))
    report_id = await report(api, reporter, story)
    await api.gql(RESOLVE, {"id": report_id, "action": "DISMISS"}, mod.token)
    api.clock.advance(STORY_GONE)
    await sweep_expired_stories(api.services)
    assert await release_report_holds(api.services) == 0  # closed, but inside retention
    await api.services.outbox.settle(api.services)
    assert all([await api.services.storage.head(key) for key in keys])
    api.clock.advance(WEEK)
    assert await release_report_holds(api.services) == 1
    await api.services.outbox.settle(api.services)
    assert [await api.services.storage.head(key) for key in keys] == [None] * len(keys)


async def test_an_unsent_messages_evidence_stays_for_moderators(api: Api) -> None:
    sender, reader, mod = await api.sign_up(), await api.sign_up(), await moderator(api)
    cid = await start(api, sender, reader)
    (media_id,) = await ready_media(api, sender, purpose="MESSAGE")
    async with api.services.db.read() as session:
        media = await session.get(Media, db_id(media_id))
        assert media is not None
        key = media.storage_key
    await api.services.storage.put(key, b"\xff\xd8\xff photo", "image/jpeg")
    variables = {"cid": cid, "body": "you will regret it", "clientId": "threat", "mediaId": media_id}
    message = (await api.gql(SEND, variables, sender.token))["sendMessage"]["id"]
    await report(api, reader, message)
    await api.gql(UNSEND, {"id": message}, sender.token)
    await api.services.outbox.settle(api.services)
    assert await api.services.storage.head(key) is not None

    (seen,) = await queue(api, mod)
    evidence = seen["evidence"]
    assert (evidence["kind"], evidence["text"]) == ("Message", "you will regret it")
    assert evidence["author"] == {"username": sender.username}
    assert len(evidence["media"]) == 1
    # The media URL is signed and short-lived (EVIDENCE_URL_SECONDS).
    url = evidence["media"][0]["url"]
    assert lifetime(api, url) <= api.services.settings.evidence_url_seconds
    async with http_client() as client:
        assert (await client.get(url)).status_code == 200


async def test_one_reporter_reporting_one_subject_twice_is_one_report(api: Api) -> None:
    author, reporter, other = await api.sign_up(), await api.sign_up(), await api.sign_up()
    post = await create_post(api, author, "spam spam")
    first = await report(api, reporter, post, "SPAM")
    assert await report(api, reporter, post, "OTHER") == first
    second = await report(api, other, post, "SPAM")
    assert second != first
    async with api.services.db.read() as session:
        rows = list(await session.scalars(select(Report.reporter_id).where(Report.subject_id == db_id(post))))
    assert len(rows) == 2


async def test_what_the_reporter_cannot_see_or_made_cannot_be_reported(api: Api) -> None:
    private, reporter = await api.sign_up(), await api.sign_up()
    await api.gql("mutation { updateProfile(input: {isPrivate: true}) { isPrivate } }", {}, private.token)
    hidden = await create_post(api, private)
    for subject in (hidden, "UG9zdDox", "bm9wZTox", "SGlnaGxpZ2h0OjE"):
        refused = await api.gql_error(REPORT, {"id": subject, "reason": "SPAM"}, reporter.token)
        assert refused.codes == ["NOT_FOUND"], subject
    own = await create_post(api, reporter)
    for subject in (own, reporter.id):
        refused = await api.gql_error(REPORT, {"id": subject, "reason": "SPAM"}, reporter.token)
        assert refused.codes == ["BAD_USER_INPUT"]
    too_long = {"id": private.id, "reason": "SPAM", "details": "x" * 1001}
    assert (await api.gql_error(REPORT, too_long, reporter.token)).codes == ["BAD_USER_INPUT"]
    assert (await api.gql_error(REPORT, {"id": private.id, "reason": "SPAM"})).codes == ["UNAUTHENTICATED"]


async def test_reports_are_rate_limited(api: Api) -> None:
    reporter = await api.sign_up()
    targets = [await api.sign_up() for _ in range(3)]
    api.services.settings.__dict__["reports_per_hour"] = 2
    for target in targets[:2]:
        await report(api, reporter, target.id)
    assert (await api.gql_error(REPORT, {"id": targets[2].id, "reason": "SPAM"}, reporter.token)).codes == [
        "RATE_LIMITED"
    ]
