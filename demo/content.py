"""What the demo's actors share: posts and likes, stories with views and reactions, conversations."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import timedelta

from core.errors import NotFound
from demo import images
from demo.people import Actors, gather_limited
from demo.world import (
    ALICE_AND_BOB,
    ALICE_AND_CAROL,
    ARCHIVING,
    CAPTIONS,
    COMMENTS,
    EVERYONE,
    FEATURED,
    GROUP,
    GROUP_TITLE,
    KEPT_STORIES,
    REACTIONS,
    STORY_LABELS,
)
from resolvers.accounts.profile import ProfileChanges, update_profile
from resolvers.conversations.conversations import mark_read, start_conversation
from resolvers.conversations.messages import send_message
from resolvers.posts.comments import add_comment
from resolvers.posts.posts import create_post, set_liked
from resolvers.stories.highlights import add_to_highlight, create_highlight
from resolvers.stories.reactions import react
from resolvers.stories.replies import reply_to_story
from resolvers.stories.stories import create_story
from resolvers.stories.views import mark_seen


@dataclass(frozen=True)
class Planned:
    """Something an actor shares at a moment in the past, with its pictures already uploaded."""

    author: str
    age: timedelta
    label: str
    media_ids: tuple[int, ...] = ()


async def _with_pictures(actors: Actors, plans: list[Planned], purpose: str) -> list[Planned]:
    size = images.STORY if purpose == "STORY" else images.POST

    async def upload(plan: Planned, index: int) -> int:
        data = await asyncio.to_thread(
            images.picture, f"{plan.author}:{plan.label}:{index}", plan.label, size
        )
        return await actors.upload(plan.author, purpose, data)

    async def prepare(plan: Planned) -> Planned:
        count = len(plan.media_ids) or 1
        ids = [await upload(plan, index) for index in range(count)]
        return Planned(plan.author, plan.age, plan.label, tuple(ids))

    return await gather_limited([lambda p=p: prepare(p) for p in plans], limit=8)  # type: ignore[misc]


async def share_posts(actors: Actors) -> int:
    """One to three posts each over the last six days, oldest first, liked and commented on by some
    followers some time after they were posted (in time order, so everyone's activity reads true)."""
    rng = actors.rng
    plans: list[Planned] = []
    for person in EVERYONE:
        count = 3 if person in FEATURED else rng.randint(1, 3)
        for _ in range(count):
            age = timedelta(minutes=rng.randint(60, 6 * 24 * 60))
            # A placeholder per picture: a fifth of the posts are carousels of two.
            pictures = (0, 0) if rng.random() < 0.2 else (0,)
            plans.append(Planned(person.username, age, rng.choice(CAPTIONS), pictures))
    plans.sort(key=lambda plan: plan.age, reverse=True)  # feeds order by id: create oldest first
    reactions: list[tuple[timedelta, str, int, str | None]] = []  # (age, who, post, comment or a like)
    for plan in await _with_pictures(actors, plans, "POST"):
        with actors.clock.ago(plan.age):
            post = await create_post(actors.as_user(plan.author), plan.label, list(plan.media_ids))
        followers = actors.followers(plan.author)
        for liker in rng.sample(followers, min(len(followers), rng.randint(0, 6))):
            reactions.append((plan.age * rng.uniform(0.05, 0.95), liker, post.id, None))
        for commenter in rng.sample(followers, min(len(followers), rng.randint(0, 3))):
            reactions.append((plan.age * rng.uniform(0.05, 0.95), commenter, post.id, rng.choice(COMMENTS)))
    reactions.sort(key=lambda reaction: reaction[0], reverse=True)
    for age, who, post_id, body in reactions:
        with actors.clock.ago(age):
            if body is None:
                await set_liked(actors.as_user(who), post_id, True)
            else:
                await add_comment(actors.as_user(who), post_id, body, uuid.uuid4().hex)
    return len(plans)


def _story_plans(actors: Actors, ttl: timedelta) -> list[tuple[Planned, str]]:
    """alice has one story of each audience; others one or two; several expire within the hour."""
    rng = actors.rng
    soon = max(ttl - timedelta(minutes=35), ttl / 2)
    alice_stories = [
        (Planned("alice", ttl * 0.8, "Look at this sky"), "PUBLIC"),
        (Planned("alice", soon, "Coffee #2"), "FOLLOWERS"),
        (Planned("alice", ttl * 0.1, "Guess where"), "CLOSE_FRIENDS"),
        (Planned("alice", ttl * 0.03, "Lunch!"), "CONTACTS"),
    ]
    others = [
        (Planned("bob", ttl * 0.5, "On my way"), "PUBLIC"),
        (Planned("bob", ttl * 0.05, "Heading out"), "CLOSE_FRIENDS"),
        (Planned("carol", soon - timedelta(minutes=10), "Work in progress"), "FOLLOWERS"),
        (Planned("carol", ttl * 0.2, "Behind the scenes"), "PUBLIC"),
    ]
    audiences = ("PUBLIC", "PUBLIC", "FOLLOWERS", "FOLLOWERS", "CLOSE_FRIENDS", "CONTACTS")
    names = [p.username for p in EVERYONE if p not in FEATURED and p.username != "spam.deals"]
    for name in rng.sample(names, 16):
        for _ in range(rng.randint(1, 2)):
            age = soon if rng.random() < 0.2 else ttl * rng.uniform(0.02, 0.9)
            others.append((Planned(name, age, rng.choice(STORY_LABELS)), rng.choice(audiences)))
    plans = alice_stories + others
    plans.sort(key=lambda item: item[0].age, reverse=True)
    return plans


async def share_stories(actors: Actors) -> int:
    rng = actors.rng
    ttl = timedelta(seconds=actors.services.settings.story_ttl_seconds)
    plans = _story_plans(actors, ttl)
    prepared = await _with_pictures(actors, [plan for plan, _ in plans], "STORY")
    stories: list[tuple[Planned, int]] = []
    for plan, (_, audience) in zip(prepared, plans, strict=True):
        with actors.clock.ago(plan.age):
            story = await create_story(actors.as_user(plan.author), plan.media_ids[0], audience)
        stories.append((plan, story.id))
    for plan, story_id in stories:
        for viewer in rng.sample(actors.followers(plan.author), min(4, len(actors.followers(plan.author)))):
            with actors.clock.ago(plan.age * rng.uniform(0.1, 0.9)):
                try:
                    if rng.random() < 0.3:
                        await react(actors.as_user(viewer), story_id, rng.choice(REACTIONS))
                    else:
                        await mark_seen(actors.as_user(viewer), [story_id])
                except NotFound:
                    pass  # this audience does not admit that follower: exactly what a client would see
    alice_public = next(
        sid for plan, sid in stories if (plan.author, plan.label) == ("alice", "Look at this sky")
    )
    with actors.clock.ago(timedelta(minutes=20)):
        await react(actors.as_user("bob"), alice_public, "😍")
        await reply_to_story(actors.as_user("bob"), alice_public, "Where is this?!", uuid.uuid4().hex)
    return len(stories)


async def keep_stories(actors: Actors) -> int:
    """Last week's stories their authors kept: alice's archive, and highlights on three profiles,
    each made while its stories were live. Shared before the live stories, so ids stay in time order."""
    for name in ARCHIVING:
        await update_profile(actors.as_user(name), ProfileChanges(archive_stories=True))
    ttl = timedelta(seconds=actors.services.settings.story_ttl_seconds)
    plans = [Planned(author, timedelta(days=days), label) for author, days, label, _, _ in KEPT_STORIES]
    prepared = await _with_pictures(actors, plans, "STORY")
    highlights: dict[tuple[str, str], int] = {}
    for plan, (_, _, _, audience, title) in zip(prepared, KEPT_STORIES, strict=True):
        ctx = actors.as_user(plan.author)
        with actors.clock.ago(plan.age):
            story = await create_story(ctx, plan.media_ids[0], audience)
        if title is None:
            continue
        with actors.clock.ago(plan.age - ttl / 2):
            if (plan.author, title) in highlights:
                await add_to_highlight(ctx, highlights[plan.author, title], [story.id])
            else:
                highlights[plan.author, title] = await create_highlight(ctx, title, [story.id], None)
    return len(highlights)


async def _talk(
    actors: Actors, conversation_id: int, lines: tuple[tuple[str, str], ...], start: timedelta, end: timedelta
) -> None:
    step = (start - end) / max(1, len(lines) - 1)
    for index, (sender, body) in enumerate(lines):
        with actors.clock.ago(start - step * index):
            await send_message(actors.as_user(sender), conversation_id, body, uuid.uuid4().hex)


async def start_conversations(actors: Actors) -> int:
    """alice and bob over two days (two unread for alice), a group, and a few quieter pairs."""
    ids = actors.ids
    with actors.clock.ago(timedelta(days=2, hours=1)):
        direct = await start_conversation(actors.as_user("bob"), [ids["alice"]], None)
        group = await start_conversation(
            actors.as_user("alice"), [ids[n] for n in ("bob", "carol", "dave", "theo_runs")], GROUP_TITLE
        )
        with_carol = await start_conversation(actors.as_user("carol"), [ids["alice"]], None)
    await _talk(actors, direct.id, ALICE_AND_BOB, timedelta(days=2), timedelta(hours=1))
    photo = await actors.upload("bob", "MESSAGE", images.picture("bob:thermos", "The thermos"))
    with actors.clock.ago(timedelta(minutes=55)):
        await send_message(actors.as_user("bob"), direct.id, "", uuid.uuid4().hex, media_id=photo)
    await mark_read(actors.as_user("alice"), direct.id, len(ALICE_AND_BOB) - 2)
    await mark_read(actors.as_user("bob"), direct.id, len(ALICE_AND_BOB) + 1)
    await _talk(actors, group.id, GROUP, timedelta(hours=26), timedelta(hours=20))
    for member in ("alice", "bob", "carol"):
        await mark_read(actors.as_user(member), group.id, len(GROUP))
    await _talk(actors, with_carol.id, ALICE_AND_CAROL, timedelta(days=1), timedelta(hours=23))
    await mark_read(actors.as_user("alice"), with_carol.id, len(ALICE_AND_CAROL))
    pairs = (("mira.photos", "nina.snaps"), ("kenji_eats", "marco.cooks"), ("lena.climbs", "felix.hikes"))
    for one, two in pairs:
        conversation = await start_conversation(actors.as_user(one), [ids[two]], None)
        lines = ((one, "Saw your latest post, so good!"), (two, "Thank you! Next time come along."))
        await _talk(actors, conversation.id, lines, timedelta(hours=30), timedelta(hours=29))
    return 3 + len(pairs)
