"""Every example of docs/api.md, run in order against a real server: the guide cannot drift.

The guide is a story: each ```graphql block (run with the token its `# Authorization:` comment
names), an optional ```json variables block, then the documented ```json response. In
responses, `<NAME>` in capitals captures a value the first time and must equal it afterwards
(later examples use it); `<id>`, `<token>`, `<time>`, `<cursor>`, `<url>` and `<any>` match any
such value. A subscription's documented events (one object, or a list) are checked after the
example that follows it has run. `<!-- guide: ... -->` comments move the clock, disconnect, or
appoint a moderator. A ```sh block that sends a file (`-F file=@...`) uploads bytes to the last
createUpload's target: the harness uploads nothing the guide does not show, so a missing upload
step fails the guide.
"""

from __future__ import annotations

import asyncio
import json
import re
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from demo.world import EVERYONE, MARKER
from resolvers.accounts.auth import authenticate
from resolvers.safety.moderation import set_moderator
from subscriptions import user_channel
from tests.harness import Api, make_jpeg, post_form
from tests.media_files import make_mp4
from tests.ws_client import GraphQLSocket, graphql_socket

pytestmark = pytest.mark.served  # WebSockets or a real connection: uvicorn on loopback

GUIDE = Path(__file__).parent.parent / "docs" / "api.md"
BLOCK = re.compile(r"```(\w+)([^\n]*)\n(.*?)```|<!-- guide: (.*?) -->", re.S)
PLACEHOLDER = re.compile(r"^<([A-Za-z_][A-Za-z0-9_]*)>$")
AUTHORIZATION = re.compile(r"^# Authorization: Bearer (<[A-Z0-9_]+>)", re.M)


@dataclass
class Example:
    query: str
    line: int
    variables: str | None = None
    response: str | None = None

    @property
    def is_subscription(self) -> bool:
        return re.search(r"^\s*subscription\b", self.query, re.M) is not None


@dataclass
class Step:
    example: Example | None = None
    directive: str | None = None


def parse(text: str) -> list[Step]:
    steps: list[Step] = []
    for match in BLOCK.finditer(text):
        line = text.count("\n", 0, match.start()) + 1
        if match.group(4) is not None:
            steps.append(Step(directive=match.group(4).strip()))
            continue
        language, info, body = match.group(1), match.group(2).strip(), match.group(3)
        last = steps[-1].example if steps else None
        if language == "sh" and "file=@" in body:
            steps.append(Step(directive="upload"))
        elif language == "graphql":
            steps.append(Step(Example(body, line)))
        elif language == "json" and last is not None and last.response is None:
            if info == "variables":
                last.variables = body
            else:
                last.response = body
    for step in steps:
        if step.example is not None:
            assert step.example.response is not None, f"api.md:{step.example.line}: no response block"
    return steps


def _matches_kind(kind: str, value: Any) -> bool:
    if not isinstance(value, str) or not value:
        return kind == "any" and value is not None
    if kind == "time":
        return datetime.fromisoformat(value).tzinfo is not None
    if kind == "url":
        return value.startswith(("http://", "https://"))
    return kind in ("id", "token", "cursor", "any")


@dataclass
class Story:
    """What the examples have produced so far, and the sockets still open."""

    api: Api
    bound: dict[str, Any] = field(default_factory=dict)
    sockets: AsyncExitStack = field(default_factory=AsyncExitStack)
    open_sockets: list[tuple[GraphQLSocket, int]] = field(default_factory=list)
    pending: tuple[GraphQLSocket, str, Any, int] | None = None
    # The last createUpload's target and content type, until the guide shows the bytes sent.
    upload: tuple[dict[str, Any], str] | None = None

    def substitute(self, text: str) -> str:
        def value(match: re.Match[str]) -> str:
            name = match.group(1)
            assert name in self.bound, f"<{name}> is used before an example produced it"
            return str(self.bound[name])

        return re.sub(r"<([A-Z][A-Z0-9_]*)>", value, text)

    def match(self, documented: Any, actual: Any, where: str, subset: bool = False) -> None:
        placeholder = PLACEHOLDER.match(documented) if isinstance(documented, str) else None
        if placeholder:
            name = placeholder.group(1)
            if name.isupper():
                if name in self.bound:
                    assert actual == self.bound[name], (
                        f"{where}: <{name}> was {self.bound[name]!r}, now {actual!r}"
                    )
                else:
                    assert actual is not None, f"{where}: <{name}> is null"
                    self.bound[name] = actual
            else:
                assert _matches_kind(name, actual), f"{where}: {actual!r} is not a <{name}>"
        elif isinstance(documented, dict):
            assert isinstance(actual, dict), f"{where}: expected an object, got {actual!r}"
            keys = set(documented)
            if not subset:
                assert keys == set(actual), f"{where}: fields {sorted(actual)}, documented {sorted(keys)}"
            for key in keys:
                assert key in actual, f"{where}: no {key!r} in {actual!r}"
                self.match(documented[key], actual[key], f"{where}.{key}", subset or key == "errors")
        elif isinstance(documented, list):
            assert isinstance(actual, list) and len(actual) == len(documented), f"{where}: {actual!r}"
            for index, (doc, act) in enumerate(zip(documented, actual, strict=True)):
                self.match(doc, act, f"{where}[{index}]", subset)
        else:
            assert documented == actual, f"{where}: documented {documented!r}, got {actual!r}"

    async def token(self, example: Example) -> str | None:
        found = AUTHORIZATION.search(example.query)
        return self.substitute(found.group(1)) if found else None

    async def run(self, example: Example) -> None:
        token = await self.token(example)
        query = self.substitute(example.query)
        variables = json.loads(self.substitute(example.variables)) if example.variables else {}
        documented = json.loads(example.response or "null")
        where = f"api.md:{example.line}"
        if example.is_subscription:
            await self.subscribe(token, query, variables, documented, example.line)
            return
        body = await self.api.post(query, variables, token)
        body.pop("extensions", None)  # the query cost, on every response
        try:
            self.match(documented, body, where)
        except AssertionError as exc:
            raise AssertionError(
                f"{exc}\nthe server answered:\n{json.dumps(body, ensure_ascii=False)}"
            ) from None
        upload = ((body.get("data") or {}).get("createUpload") or {}).get("upload")
        if upload is not None:
            self.upload = (upload, "video/mp4" if '"video/mp4"' in query else "image/jpeg")

    async def send_upload(self) -> None:
        """What a client does between createUpload and attaching: send the bytes to storage."""
        assert self.upload is not None, "the guide sends a file before any createUpload"
        upload, content_type = self.upload
        self.upload = None
        data = make_mp4(2.0, 640, 360) if content_type == "video/mp4" else make_jpeg(1200, 900)
        response = await post_form(upload, data, content_type)
        assert response.status_code in (200, 201, 204), response.text

    async def subscribe(
        self, token: str | None, query: str, variables: dict[str, Any], documented: Any, line: int
    ) -> None:
        assert token is not None, f"api.md:{line}: a subscription needs a token"
        viewer = await authenticate(self.api.services, f"Bearer {token}")
        assert viewer is not None
        channel = user_channel(viewer.user_id)
        pubsub = self.api.services.pubsub
        before = pubsub.live_subscribers(channel)
        socket = await self.sockets.enter_async_context(graphql_socket(self.api.ws_url, token))
        op = await socket.subscribe(query, variables)
        # Live events are only delivered once the server listens: wait for its signal, not for time.
        async with asyncio.timeout(10):
            await pubsub.caught_up(channel, before + 1)
        self.open_sockets.append((socket, viewer.user_id))
        self.pending = (socket, op, documented, line)

    async def check_pending(self) -> None:
        if self.pending is None:
            return
        socket, op, documented, line = self.pending
        self.pending = None
        events = documented if isinstance(documented, list) else [documented]
        received = [{"data": await socket.next(op)} for _ in events]
        self.match(events, received, f"api.md:{line}")

    async def directive(self, text: str) -> None:
        verb, _, argument = text.partition(" ")
        if verb == "advance-clock":
            self.api.clock.advance(float(argument))
        elif verb == "upload":
            await self.send_upload()
        elif verb == "disconnect":
            users = [user for _, user in self.open_sockets]
            await self.sockets.aclose()
            self.sockets, self.open_sockets = AsyncExitStack(), []
            async with asyncio.timeout(10):
                for user in users:
                    await self.api.services.pubsub.unsubscribed(user_channel(user))
        elif verb == "appoint-moderator":  # what `ephemera moderator add USERNAME` does
            assert await set_moderator(self.api.services, argument, True)
        else:
            raise AssertionError(f"unknown guide directive {text!r}")


def test_the_guide_parses_into_a_story() -> None:
    steps = parse(GUIDE.read_text())
    examples = [step.example for step in steps if step.example]
    assert len(examples) >= 30
    assert any(example.is_subscription for example in examples)


def test_the_guide_signs_up_none_of_the_demo_accounts() -> None:
    """A reader follows the guide on a server `make demo` filled: no username may be taken."""
    signed_up = set(re.findall(r'"username": "([a-z0-9._]+)"', GUIDE.read_text()))
    signed_up |= set(re.findall(r'username: "([a-z0-9._]+)"', GUIDE.read_text()))
    demo = {person.username for person in (*EVERYONE, MARKER)}
    assert signed_up and not signed_up & demo, signed_up & demo


def test_the_reconnect_story_reads_history_as_the_one_who_subscribes() -> None:
    examples = {
        re.search(r"(?:query|subscription) (\w+)", step.example.query).group(1): step.example  # type: ignore[union-attr]
        for step in parse(GUIDE.read_text())
        if step.example is not None and re.search(r"(?:query|subscription) (\w+)", step.example.query)
    }
    history, events = examples["History"], examples["Events"]
    assert AUTHORIZATION.search(history.query).group(1) == AUTHORIZATION.search(events.query).group(1)  # type: ignore[union-attr]


async def test_every_example_in_the_guide(api: Api) -> None:
    story = Story(api)
    try:
        for step in parse(GUIDE.read_text()):
            if step.directive is not None:
                await story.check_pending()
                await story.directive(step.directive)
            elif step.example is not None:
                follows_subscription = story.pending is not None
                assert not (follows_subscription and step.example.is_subscription), (
                    f"api.md:{step.example.line}: a subscription must be followed by its trigger"
                )
                await story.run(step.example)
                if follows_subscription:
                    await story.check_pending()
        await story.check_pending()
    finally:
        await story.sockets.aclose()
