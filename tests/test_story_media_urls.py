"""A story's media URLs expire no later than the story, on the disk store and on S3; other media
keep MEDIA_URL_EXPIRES_SECONDS."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from tests.harness import Api, http_client
from tests.posting import create_post
from tests.story_helpers import create_story

STORY_MEDIA = (
    "query($id: ID!) { node(id: $id) { ... on Story { expiresAt media { url variants { url } } } } }"
)
POST_MEDIA = "query($id: ID!) { node(id: $id) { ... on Post { media { url } } } }"


def lifetime(api: Api, url: str) -> int:
    """How many seconds from now (the server's clock) a signed URL stays valid."""
    query = parse_qs(urlsplit(url).query)
    if "X-Amz-Expires" in query:  # S3 signs a duration from its own clock
        return int(query["X-Amz-Expires"][0])
    return int(query["expires"][0]) - int(api.clock.now().timestamp())


async def test_story_media_urls_end_with_the_story(api: Api) -> None:
    alice = await api.sign_up()
    story = await create_story(api, alice)
    post = await create_post(api, alice)
    api.clock.advance(86_400 - 600)  # ten minutes of the story left
    node = (await api.gql(STORY_MEDIA, {"id": story}, alice.token))["node"]
    urls = [node["media"]["url"], *(variant["url"] for variant in node["media"]["variants"])]
    assert all(0 < lifetime(api, url) <= 600 for url in urls), urls
    post_url = (await api.gql(POST_MEDIA, {"id": post}, alice.token))["node"]["media"][0]["url"]
    assert lifetime(api, post_url) == 3600
    async with http_client() as client:
        assert (await client.get(urls[0])).status_code == 200
        if "expires" in urls[0]:
            # The disk store checks with the server's clock: once the story is gone, so is the URL.
            api.clock.advance(601)
            assert (await client.get(urls[0])).status_code == 403
