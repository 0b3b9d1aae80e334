"""Documents and steps shared by the report and moderation tests."""

from __future__ import annotations

from typing import Any

from resolvers.safety.moderation import set_moderator
from tests.harness import Api, TestUser

REPORT = """
mutation($id: ID!, $reason: ReportReason!, $details: String) {
  report(input: {subjectId: $id, reason: $reason, details: $details}) { id reason details status createdAt }
}
"""
REPORT_FIELDS = """
  id reason details status createdAt reporter { username }
  evidence { kind author { username } text createdAt media { id url variants { url } } }
"""
QUEUE = (
    "query($status: ReportStatus, $first: Int, $after: String) {"
    " moderationQueue(status: $status, first: $first, after: $after) {"
    " edges { cursor node {" + REPORT_FIELDS + "} } pageInfo { hasNextPage endCursor } } }"
)
REPORT_NODE = "query($id: ID!) { node(id: $id) { ... on Report {" + REPORT_FIELDS + "} } }"
RESOLVE = """
mutation($id: ID!, $action: ModerationAction!, $note: String) {
  resolveReport(id: $id, action: $action, note: $note) { id status }
}
"""


async def moderator(api: Api) -> TestUser:
    user = await api.sign_up()
    assert await set_moderator(api.services, user.username, True)
    return user


async def report(api: Api, reporter: TestUser, subject: str, reason: str = "HARASSMENT") -> str:
    data = await api.gql(REPORT, {"id": subject, "reason": reason}, reporter.token)
    report_id: str = data["report"]["id"]
    return report_id


async def queue(api: Api, user: TestUser, status: str = "OPEN") -> list[dict[str, Any]]:
    data = await api.gql(QUEUE, {"status": status}, user.token)
    return [edge["node"] for edge in data["moderationQueue"]["edges"]]
