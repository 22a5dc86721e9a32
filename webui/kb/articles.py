"""Knowledge-base articles and their categories: search, read, write."""
import logging

import peewee
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from db.models import KbArticle, KbCategory, database, utcnow
from webui import audit
from webui.access import role_required
from webui.kb import EDITORS, READERS, bp, search
from webui.kb.forms import ActionForm, ArticleForm, CategoryForm

log = logging.getLogger(__name__)

RECENT = 30
QUERY_MAX = 100


def _category_choices():
    return [(0, "—")] + [(c.id, c.name) for c in
                         KbCategory.select().order_by(KbCategory.position, KbCategory.name)]


def _category_arg() -> int | None:
    value = request.args.get("category", "")
    return int(value) if value.isdigit() and int(value) > 0 else None


def _query_arg() -> str:
    return (request.args.get("q") or "").strip()[:QUERY_MAX]


def _tags(text: str) -> str:
    parts = [t.strip() for t in (text or "").replace("，", ",").split(",")]
    return ", ".join(dict.fromkeys(t for t in parts if t))[:255]


@bp.get("")
@role_required(*READERS)
def index():
    query, category_id = _query_arg(), _category_arg()
    if query:
        articles = search.search(query, category_id)
    else:
        rows = KbArticle.select().order_by(KbArticle.updated_at.desc())
        if category_id is not None:
            rows = rows.where(KbArticle.category == category_id)
        articles = list(rows.limit(RECENT))
    categories = list(KbCategory.select().order_by(KbCategory.position, KbCategory.name))
    return render_template("kb/index.html", articles=articles, query=query,
                           category_id=category_id, categories=categories,
                           snippet=search.snippet, can_edit=current_user.role in EDITORS)


@bp.get("/search")
@role_required(*READERS)
def search_results():
    """The results alone, for the desk's search box (htmx)."""
    query = _query_arg()
    return render_template("kb/_results.html", query=query,
                           articles=search.search(query, _category_arg())[:10],
                           snippet=search.snippet)


def _article_or_404(article_id) -> KbArticle:
    article = KbArticle.get_or_none(KbArticle.id == article_id)
    if article is None:
        abort(404)
    return article


@bp.get("/<int:article_id>")
@role_required(*READERS)
def article(article_id):
    return render_template("kb/article.html", article=_article_or_404(article_id),
                           can_edit=current_user.role in EDITORS, delete_form=ActionForm())


def _form_page(form, article=None, status=200):
    form.category.choices = _category_choices()
    return render_template("kb/article_form.html", form=form, article=article), status


@bp.get("/new")
@role_required(*EDITORS)
def new_article():
    return _form_page(ArticleForm(formdata=None, category=_category_arg() or 0))


def _save(form, article=None) -> KbArticle:
    fields = {"title": form.title.data.strip(), "body": (form.body.data or "").strip(),
              "tags": _tags(form.tags.data), "updated_at": utcnow(),
              "category": form.category.data or None}
    fields["search_text"] = search.index_text(fields["title"], fields["tags"],
                                              fields["body"])
    with database.atomic():
        if article is None:
            article = KbArticle.create(author=current_user.record, **fields)
        else:
            KbArticle.update(**fields).where(KbArticle.id == article.id).execute()
    return article


@bp.post("/new")
@role_required(*EDITORS)
def create_article():
    form = ArticleForm()
    form.category.choices = _category_choices()
    if not form.validate_on_submit():
        return _form_page(form, status=400)
    article = _save(form)
    audit.record("kb.article.create", object_type="kb_article", object_id=article.id,
                 detail={"title": article.title})
    return redirect(url_for("kb.article", article_id=article.id))


@bp.get("/<int:article_id>/edit")
@role_required(*EDITORS)
def edit_article(article_id):
    article = _article_or_404(article_id)
    form = ArticleForm(formdata=None, obj=article)
    form.category.data = article.category_id or 0
    return _form_page(form, article)


@bp.post("/<int:article_id>/edit")
@role_required(*EDITORS)
def update_article(article_id):
    article = _article_or_404(article_id)
    form = ArticleForm()
    form.category.choices = _category_choices()
    if not form.validate_on_submit():
        return _form_page(form, article, status=400)
    _save(form, article)
    audit.record("kb.article.update", object_type="kb_article", object_id=article.id,
                 detail={"title": form.title.data.strip()})
    return redirect(url_for("kb.article", article_id=article.id))


@bp.post("/<int:article_id>/delete")
@role_required(*EDITORS)
def delete_article(article_id):
    article = _article_or_404(article_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    article.delete_instance()
    audit.record("kb.article.delete", object_type="kb_article", object_id=article_id,
                 detail={"title": article.title})
    flash(_("Article deleted: %(title)s", title=article.title), "info")
    return redirect(url_for("kb.index"))


def _categories_page(form=None, status=200):
    categories = list(KbCategory.select(KbCategory, peewee.fn.COUNT(KbArticle.id)
                                        .alias("count"))
                      .join(KbArticle, peewee.JOIN.LEFT_OUTER)
                      .group_by(KbCategory.id)
                      .order_by(KbCategory.position, KbCategory.name))
    return render_template("kb/categories.html", categories=categories,
                           form=form or CategoryForm(formdata=None),
                           delete_form=ActionForm()), status


@bp.get("/categories")
@role_required(*EDITORS)
def categories():
    return _categories_page()


@bp.post("/categories")
@role_required(*EDITORS)
def create_category():
    form = CategoryForm()
    if not form.validate_on_submit():
        return _categories_page(form, 400)
    try:
        with database.atomic():
            category = KbCategory.create(name=form.name.data.strip(),
                                         position=form.position.data or 0)
    except peewee.IntegrityError:
        form.name.errors.append(_("A category with this name already exists."))
        return _categories_page(form, 409)
    audit.record("kb.category.create", object_type="kb_category", object_id=category.id,
                 detail={"name": category.name})
    return redirect(url_for("kb.categories"))


@bp.post("/categories/<int:category_id>/delete")
@role_required(*EDITORS)
def delete_category(category_id):
    category = KbCategory.get_or_none(KbCategory.id == category_id)
    if category is None:
        abort(404)
    if not ActionForm().validate_on_submit():
        abort(400)
    category.delete_instance()  # its articles stay, without a category
    audit.record("kb.category.delete", object_type="kb_category", object_id=category_id,
                 detail={"name": category.name})
    flash(_("Category deleted: %(name)s. Its articles are kept.", name=category.name),
          "info")
    return redirect(url_for("kb.categories"))
