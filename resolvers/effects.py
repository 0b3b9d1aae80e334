"""What each kind of outbox row does once the transaction that wrote it has committed."""

from __future__ import annotations

from core.context import Services
from core.outbox import Handler
from core.unit_of_work import STORAGE_DELETE
from resolvers.accounts import credentials
from resolvers.accounts import export as data_export
from resolvers.accounts.auth import TOKEN_REVOKED, announce_revoked
from resolvers.accounts.mail import SEND_MAIL, send_mail
from resolvers.feed import fanout
from resolvers.safety.holds import delete_unheld_objects

HANDLERS: dict[str, Handler[Services]] = {
    fanout.POSTED: fanout.push_post,
    fanout.DELETED: fanout.remove_post,
    fanout.FOLLOWERS_ACCEPTED: fanout.backfill,
    fanout.UNFOLLOWED: fanout.remove_authors,
    STORAGE_DELETE: delete_unheld_objects,  # objects a report holds stay
    TOKEN_REVOKED: announce_revoked,
    SEND_MAIL: send_mail,
    credentials.RESET_REQUESTED: credentials.send_reset_link,
    data_export.BUILD_EXPORT: data_export.build_export,
}
