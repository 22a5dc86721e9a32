"""Admin → Flows (roles admin and designer): the YAML call flows in config.flows_dir.

An uploaded flow is checked as `hotline flow check` checks it (esl_apps.ivr.loader,
the same prompts directory), together with the other flows of the directory so
that subflow and transfer references resolve. It is written to a hidden temporary
file in the flows directory first (a name the reloader does not read) and moved
over the real file with os.replace only when it has no error and breaks no other
flow, so a bad upload never replaces a good flow; `hotline run` sees the change by
itself (esl_apps.ivr.flowset). Errors are shown as file:line:col: message.

The graph picture is Graphviz's SVG of esl_apps.ivr.draw (labels escaped there),
served as image/svg+xml with a CSP that lets nothing in it run.
"""
import os
import tempfile
from pathlib import Path

from flask import (
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from werkzeug.utils import secure_filename

from db.models import Did
from esl_apps.ivr import draw
from esl_apps.ivr.loader import SUFFIXES, flow_files, load_flows
from webui import audit
from webui.access import role_required
from webui.admin import bp

ROLES = ("admin", "designer")
MAX_FLOW_BYTES = 1024 * 1024
SVG_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


class UploadForm(FlaskForm):
    file = FileField(_l("Flow file (YAML)"), validators=[FileRequired()])


def config():
    return current_app.config["HOTLINE_CONFIG"]


def flows_dir() -> Path:
    return Path(config().flows_dir)


def prompts_dir():
    return config().dirs["prompts_dir"]


def load_current():
    """({name: Flow}, [FlowError]) for the flows directory, as `hotline flow check`."""
    directory = flows_dir()
    if not directory.is_dir():
        return {}, []
    return load_flows(directory, prompts_dir=prompts_dir())


def loaded_flow_names() -> list[str]:
    return sorted(load_current()[0])


def _rows(flows, errors):
    """One row per flow file: name, DIDs (in the flow and in the database), status."""
    directory = flows_dir()
    files = flow_files([directory]) if directory.is_dir() else []
    by_file = {flow.path.resolve(): flow for flow in flows.values() if flow.path}
    db_dids = {}
    for did in Did.select().order_by(Did.number):
        db_dids.setdefault(did.flow, []).append(did.number)
    rows = []
    for path in files:
        flow = by_file.get(path.resolve())
        mine = [e for e in errors if e.file.resolve() == path.resolve()]
        name = flow.name if flow else next((e.flow for e in mine if e.flow), None)
        rows.append({"file": path.name, "name": name, "loaded": flow is not None,
                     "dids": (list(flow.dids) if flow else []) + db_dids.get(name, []),
                     "errors": [_shown(e, path.name) for e in mine]})
    return rows


def _shown(error, filename: str) -> str:
    return f"{filename}:{error.line}:{error.column}: {error.message}"


def _page(form=None, errors=None, target=None, status=200):
    flows, current_errors = load_current()
    return render_template("admin/flows.html", rows=_rows(flows, current_errors),
                           form=form or UploadForm(formdata=None),
                           upload_errors=errors, target=target,
                           flows_dir=flows_dir()), status


@bp.get("/flows")
@role_required(*ROLES)
def flows():
    return _page()


def check_candidate(directory: Path, target: Path, candidate: Path):
    """Errors that refuse `candidate` as the new `target`: its own, and those it
    would add to the other flows of `directory` (a subflow it renamed, say)."""
    others = [p for p in flow_files([directory])
              if p.resolve() != target.resolve()] if directory.is_dir() else []
    before = load_flows(*others, *([target] if target.exists() else []),
                        prompts_dir=prompts_dir())[1]
    _flows, after = load_flows(*others, candidate, prompts_dir=prompts_dir())
    old = {(e.file.resolve(), e.message) for e in before}
    own = [e for e in after if e.file.resolve() == candidate.resolve()]
    added = [e for e in after if e.file.resolve() != candidate.resolve()
             and (e.file.resolve(), e.message) not in old]
    return [_shown(e, target.name) for e in own] + [_shown(e, e.file.name) for e in added]


@bp.post("/flows")
@role_required(*ROLES)
def upload_flow():
    form = UploadForm()
    if not form.validate_on_submit():
        return _page(form=form, status=400)
    upload = form.file.data
    filename = secure_filename(upload.filename or "")
    if not filename.endswith(SUFFIXES) or filename.startswith("."):
        return _page(form=form, status=400, errors=[
            _("The file name must end in .yaml or .yml.")])
    data = upload.stream.read(MAX_FLOW_BYTES + 1)
    if len(data) > MAX_FLOW_BYTES:
        return _page(form=form, status=400, errors=[_("The file is too large.")])
    directory = flows_dir()
    if not directory.is_dir():
        return _page(form=form, status=409, errors=[_("The flows directory does not exist.")])
    target = directory / filename
    fd, temp_name = tempfile.mkstemp(dir=directory, prefix=".upload-", suffix=".tmp")
    temp = Path(temp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        errors = check_candidate(directory, target, temp)
        if errors:
            audit.record("flow.upload_refused", object_type="flow", object_id=filename,
                         detail={"file": filename, "errors": len(errors)})
            return _page(form=form, errors=errors, target=filename, status=422)
        os.chmod(temp, 0o644)
        replaced = target.exists()
        os.replace(temp, target)
    finally:
        temp.unlink(missing_ok=True)
    audit.record("flow.upload", object_type="flow", object_id=filename,
                 detail={"file": filename, "replaced": replaced, "bytes": len(data)})
    flash(_("%(file)s is checked and in place; the running service reloads it by itself.",
            file=filename), "info")
    return redirect(url_for("admin.flows"))


def _flow_or_404(name: str):
    flow = load_current()[0].get(name)
    if flow is None:
        abort(404)
    return flow


@bp.get("/flows/<flow>/graph.svg")
@role_required(*ROLES)
def flow_graph(flow):
    chosen = _flow_or_404(flow)
    try:
        svg = draw.render(draw.to_dot(chosen), "svg")
    except draw.DrawError as exc:
        current_app.logger.warning("flow %s not drawn: %s", flow, exc)
        abort(404)
    return svg, 200, {"Content-Type": "image/svg+xml",
                      "Content-Security-Policy": SVG_POLICY,
                      "Content-Disposition": "inline"}


@bp.get("/flows/<flow>")
@role_required(*ROLES)
def flow_detail(flow):
    chosen = _flow_or_404(flow)
    return render_template("admin/flow.html", flow=chosen, file=chosen.path.name)


@bp.get("/flows/<flow>/source")
@role_required(*ROLES)
def flow_source(flow):
    chosen = _flow_or_404(flow)
    return send_file(chosen.path, mimetype="application/yaml", as_attachment=True,
                     download_name=chosen.path.name, max_age=0)
