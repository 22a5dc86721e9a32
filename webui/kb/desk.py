"""What the desk's partial (templates/desk/_kb.html) shows: the notices for the
signed-in user's role, the active call scripts by note category, and the category
tree (with each category's path, so a sub-category also shows its parents'
scripts). A template function, so the desk view itself needs no change."""
from flask_login import current_user

from db.models import CallScript
from webui.kb import bp
from webui.kb.notices import active_notices
from webui.kb.scripts import category_tree


def desk_kb() -> dict:
    scripts: dict = {}
    for script in (CallScript.select().where(CallScript.active)
                   .order_by(CallScript.position, CallScript.id)):
        scripts.setdefault(script.category_id, []).append(script)
    return {"notices": active_notices(current_user.role), "scripts": scripts,
            "categories": category_tree()}


@bp.app_context_processor
def _desk_kb():
    return {"desk_kb": desk_kb}
