"""Upload rules and object keys."""

from __future__ import annotations

import pytest

from media import MediaRules, UploadRejected, check_upload, served_key, upload_key, variant_key

MB = 1024 * 1024
RULES = MediaRules()


@pytest.mark.parametrize(
    ("content_type", "size", "purpose", "kind"),
    [
        ("image/jpeg", 1, "POST", "IMAGE"),
        ("image/heic", 20 * MB, "AVATAR", "IMAGE"),
        ("image/heif", 1 * MB, "STORY", "IMAGE"),
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


def test_clients_upload_under_uploads_and_the_server_serves_under_media() -> None:
    assert upload_key("POST", 7, 123, "image/jpeg") == "uploads/post/7/123.jpg"
    assert upload_key("STORY", 7, 124, "video/quicktime") == "uploads/story/7/124.mov"
    assert upload_key("AVATAR", 7, 125, "image/heic") == "uploads/avatar/7/125.heic"
    assert served_key("POST", 7, 123, "image/jpeg", "a1b2") == "media/post/7/123-a1b2.jpg"
    assert variant_key("media/post/7/123-a1b2.png", "w150") == "media/post/7/123-a1b2_w150.jpg"
    assert variant_key("media/story/7/124-c3.mov", "poster") == "media/story/7/124-c3_poster.jpg"
    with pytest.raises(UploadRejected):
        upload_key("POST", 7, 126, "application/pdf")
    with pytest.raises(UploadRejected):
        served_key("BANNER", 7, 126, "image/jpeg", "a1b2")
