import pytest

from resolvers.emoji import is_single_emoji

ONE_EMOJI = [
    "😀",
    "❤️",
    "❤",
    "👍🏽",
    "👩‍👩‍👧‍👦",
    "🧑🏿‍🚀",
    "🏳️‍🌈",
    "🇫🇷",
    "🏴󠁧󠁢󠁳󠁣󠁴󠁿",
    "1️⃣",
    "#⃣",
    "🫠",
    "🔥",
]
NOT_ONE_EMOJI = [
    "",
    " ",
    "a",
    "ok",
    "😀😀",
    "😀 ",
    "👍👍🏽",
    "🇫",
    "🇫🇷🇩🇪",
    "😀a",
    "\u200d😀",
    "😀\u200d",
    "🏽",
    "1",
    "<3",
    "\U0001fb00\U0001fb00",
    "é",
    "😀" * 40,
]


@pytest.mark.parametrize("text", ONE_EMOJI)
def test_single_emoji_is_accepted(text: str) -> None:
    assert is_single_emoji(text)


@pytest.mark.parametrize("text", NOT_ONE_EMOJI)
def test_anything_else_is_refused(text: str) -> None:
    assert not is_single_emoji(text)
