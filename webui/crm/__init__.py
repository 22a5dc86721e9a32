"""CRM area: customers (search by name, number or address; several numbers each;
region/community and custom fields), the all-or-nothing import from CSV or XLSX
with its progress bar, and the call records with filters.

Who sees what: customers are open to agents, supervisors and admins; the import
to supervisors and admins; call records to supervisors, admins and QA, and to an
agent for the calls they took (every list and every single record goes through
``calls.visible_calls``).
"""
from flask import Blueprint

bp = Blueprint("crm", __name__, url_prefix="/crm")

PUBLIC_ENDPOINTS: set[str] = set()

from webui.crm import calls, customers, imports  # noqa: F401  (registers the views)
