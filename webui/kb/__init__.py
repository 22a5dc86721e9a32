"""Knowledge base (/kb), call scripts (话术) and desk notices.

- Articles in categories, with full-text search that works for Chinese
  (webui.kb.search). Everybody signed in can search and read; admins and
  supervisors write (webui.kb.articles).
- Call scripts per note category (db.models.NoteCategory), shown on the desk for the
  category the agent picks for the call (webui.kb.scripts).
- Notices with an active period and an audience role, shown on the desk
  (webui.kb.notices).
The desk shows scripts, notices and a search box through the partial
templates/desk/_kb.html, fed by the desk_kb() template function (webui.kb.desk).
Every change is CSRF-protected and written to the audit log.
"""
from flask import Blueprint

from webui.access import ALL_ROLES

bp = Blueprint("kb", __name__, url_prefix="/kb")
PUBLIC_ENDPOINTS: set[str] = set()

READERS = tuple(sorted(ALL_ROLES))           # search and read articles
EDITORS = ("admin", "supervisor")            # write articles, scripts and notices
DESK_READERS = ("admin", "supervisor", "agent")  # the script and notice lists

# The views register themselves on `bp` (imported last: they import it).
from webui.kb import articles, desk, notices, scripts  # noqa: F401
