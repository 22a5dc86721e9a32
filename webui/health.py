"""Liveness for the appliance's watchdog: says only that the panel answers."""
from flask import Blueprint, current_app, jsonify

from db.models import database

bp = Blueprint("health", __name__)

# Routes open to anonymous callers, by endpoint; everything else needs a login.
PUBLIC_ENDPOINTS = {"health.healthz"}


@bp.get("/healthz")
def healthz():
    database.execute_sql("SELECT 1")
    mode = {"mode": "demo"} if current_app.config.get("HOTLINE_DEMO") else {}
    return jsonify(status="ok", **mode)
