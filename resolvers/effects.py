"""What each kind of outbox row does once the transaction that wrote it has committed."""

from __future__ import annotations

from core.outbox import Handler
from core.unit_of_work import STORAGE_DELETE, delete_objects
from resolvers import fanout
from resolvers.auth import TOKEN_REVOKED, announce_revoked

HANDLERS: dict[str, Handler] = {
    fanout.POSTED: fanout.push_post,
    fanout.DELETED: fanout.remove_post,
    fanout.FOLLOWERS_ACCEPTED: fanout.backfill,
    fanout.UNFOLLOWED: fanout.remove_authors,
    STORAGE_DELETE: delete_objects,
    TOKEN_REVOKED: announce_revoked,
}
