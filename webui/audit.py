"""The audit log: who did what, from where. Every login, logout, failed login and
admin change goes through ``record``."""
from flask import request
from flask_login import current_user

from db.models import AuditLog


def client_addr() -> str:
    return (request.remote_addr or "")[:64]


def record(action: str, *, actor: str | None = None, user=None, object_type: str = "",
           object_id="", detail: dict | None = None) -> AuditLog:
    if user is None and current_user and current_user.is_authenticated:
        user = current_user.record
    if actor is None:
        actor = user.username if user is not None else ""
    return AuditLog.create(user=user, actor=actor[:64], action=action,
                           object_type=object_type, object_id=str(object_id)[:64],
                           detail=detail, remote_addr=client_addr())
