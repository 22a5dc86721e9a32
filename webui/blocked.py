"""Blocked calls, from the CDR: the blacklist dialplan (dialplan/public/05_blacklist.xml)
sets hotline_blocked=<entry id> on a call it refuses; webui.cdr calls
`record_blocked` in the transaction that inserts the call's record, only when that
insert made the row, so a retried post never logs the attempt twice (and
BlockedCall.call_uuid is unique besides)."""
import datetime
import logging

from db.models import BlacklistEntry, BlockedCall

log = logging.getLogger(__name__)


def record_blocked(fields: dict, variables: dict, at: datetime.datetime | None = None
                   ) -> BlockedCall | None:
    """A BlockedCall row for a call the blacklist refused; None for any other call."""
    mark = variables.get("hotline_blocked", "")
    if not mark:
        return None
    entry = None
    if mark.isdigit() and len(mark) <= 18:
        entry = BlacklistEntry.get_or_none(BlacklistEntry.id == int(mark))
    else:
        log.warning("call %s: hotline_blocked=%r is not an entry id", fields["call_uuid"],
                    mark[:40])
    row = {"call_uuid": fields["call_uuid"], "caller": fields.get("caller", "")[:64],
           "did": (fields.get("did") or fields.get("callee", ""))[:32], "entry": entry,
           "pattern": (("+" + entry.pattern + ("*" if entry.is_prefix else "")) if entry
                       else "")[:32],
           "at": at or fields.get("end_at")
           or datetime.datetime.now(datetime.UTC).replace(tzinfo=None)}
    BlockedCall.insert(**row).on_conflict_ignore().execute()
    return BlockedCall.get_or_none(BlockedCall.call_uuid == fields["call_uuid"])
