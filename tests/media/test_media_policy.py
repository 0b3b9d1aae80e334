"""Upload rules and object keys."""

from __future__ import annotations

import pytest

from media import MediaRules, UploadRejected, check_upload, object_key, variant_key

MB = 1024 * 1024
RULES = MediaRules()


@pytest.mark.parametrize(
    ("content_type", "size", "purpose", "kind"),
    [
        ("image/jpeg", 1, "POST", "IMAGE"),
        ("image/heic", 20 * MB, "AVATAR", "IMAGE"),
        ("video/mp4", 100 * MB, "STORY", "VIDEO"),
        ("video/quicktime", 5 * MB, "MESSAGE", "VIDEO"),
    ],
)
def test_allowed_uploads_report_their_kind(content_type: str, size: int, purpose: str, kind: str) -> None:
    assert check_upload(RULES, content_type, size, purpose) == kind


@pytest.mark.parametrize(
    ("content_type", "size", "purpose", "message"),
    [
        ("text/html", 100, "POST", "cannot be uploaded"),
        ("image/gif", 100, "POST", "cannot be uploaded"),
        ("image/png", 20 * MB + 1, "POST", "limit is 20 MB"),
        ("video/mp4", 100 * MB + 1, "STORY", "limit is 100 MB"),
        ("video/mp4", 100, "AVATAR", "must be an image"),
        ("image/jpeg", 0, "POST", "empty"),
        ("image/jpeg", 100, "BANNER", "Unknown upload purpose"),
    ],
)
def test_disallowed_uploads_are_rejected(content_type: str, size: int, purpose: str, message: str) -> None:
    with pytest.raises(UploadRejected, match=message):
        check_upload(RULES, content_type, size, purpose)


def test_rules_can_be_tightened() -> None:
    rules = MediaRules(max_image_size=1 * MB, video_purposes=frozenset({"MESSAGE"}))

    with pytest.raises(UploadRejected):
        check_upload(rules, "image/jpeg", 1 * MB + 1, "POST")
    with pytest.raises(UploadRejected):
        check_upload(rules, "video/mp4", 100, "STORY")


def test_object_keys() -> None:
    assert object_key("POST", 7, 123, "image/jpeg") == "post/7/123.jpg"
    assert object_key("STORY", 7, 124, "video/quicktime") == "story/7/124.mov"
    assert object_key("AVATAR", 7, 125, "image/heic") == "avatar/7/125.heic"
    assert variant_key("post/7/123.png", "w150") == "post/7/123_w150.jpg"
    with pytest.raises(UploadRejected):
        object_key("POST", 7, 126, "application/pdf")
