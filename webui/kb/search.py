"""Knowledge-base search that works for Chinese, on SQLite and PostgreSQL.

Chinese is written without spaces, so word tokenisers see a whole sentence as one
"word". Instead every run of CJK characters is indexed as its character bigrams
(暖气不热 -> 暖气 气不 不热) plus its single characters (so a one-character query
still finds it); other text as lowercased words (NFKC first, so full-width ＡＢＣ
and half-width abc match). A query is cut the same way (bigrams, or the character
itself for a one-character run) and every token must be present; when no article
has them all, articles having any of them are shown, best first. No dictionary or
segmenter to install or keep up to date, and the same tokens on both databases:

- kb_article.search_text holds the tokens, space-separated (title and tags on a
  first line of their own, then again with the body, so they weigh more);
- SQLite: the FTS5 table kb_article_fts (unicode61 tokenizer: it splits on the
  spaces and keeps each CJK token whole), ranked with bm25;
- PostgreSQL: kb_article_fts.tsv = array_to_tsvector(tokens) with a GIN index,
  matched with a tsquery built from the tokens, articles whose title or tags
  (head) match first; no text-search parser or locale is involved, so the result
  does not depend on the server's lc_ctype.
Both side tables are kept by triggers (db/migrations/0009_notify_kb.py).

The price: bigrams also match across word boundaries (a query's bigrams must all
be there, not necessarily next to each other) and the index is about three tokens
per Chinese character; for a call centre's few thousand articles that is small.
"""
import logging
import re
import unicodedata

from peewee import PostgresqlDatabase

from db.models import KbArticle, database

log = logging.getLogger(__name__)

# Han (with extensions and compatibility ideographs), kana, Hangul: scripts written
# without spaces between words.
CJK = ("\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
       "\U00020000-\U0002fa1f")
TOKEN_RE = re.compile(f"(?P<cjk>[{CJK}]+)|(?P<word>[^\\W_{CJK}]+)")
WORD_MAX = 64
QUERY_TOKENS_MAX = 32
RESULTS = 50


def _normal(text: str) -> str:
    return unicodedata.normalize("NFKC", text or "").lower()


def index_tokens(text: str) -> list[str]:
    tokens = []
    for match in TOKEN_RE.finditer(_normal(text)):
        run = match.group("cjk")
        if run:
            tokens.extend(run)
            tokens.extend(run[i:i + 2] for i in range(len(run) - 1))
        else:
            tokens.append(match.group("word")[:WORD_MAX])
    return tokens


def query_tokens(query: str) -> list[str]:
    tokens = []
    for match in TOKEN_RE.finditer(_normal(query)):
        run = match.group("cjk")
        if run:
            tokens.extend([run] if len(run) == 1 else
                          (run[i:i + 2] for i in range(len(run) - 1)))
        else:
            tokens.append(match.group("word")[:WORD_MAX])
    return list(dict.fromkeys(tokens))[:QUERY_TOKENS_MAX]


def index_text(title: str, tags: str, body: str) -> str:
    """What goes into KbArticle.search_text: the title and tag tokens on the first
    line (PostgreSQL ranks articles matching there first), then again with the
    body's tokens (SQLite's bm25 weighs the repeated heading higher)."""
    heading = " ".join(index_tokens(f"{title} {tags}"))
    return f"{heading}\n{heading} {' '.join(index_tokens(body))}".strip()


def _is_postgres() -> bool:
    return isinstance(database.obj, PostgresqlDatabase)


def _match_ids(tokens: list[str], any_token: bool, category_id, limit: int) -> list[int]:
    where, params = "", []
    if _is_postgres():
        quoted = ["'" + t.replace("\\", "\\\\").replace("'", "\\'") + "'" for t in tokens]
        params.append((" | " if any_token else " & ").join(quoted))
        if category_id is not None:
            where = " AND a.category_id = %s"
            params.append(category_id)
        sql = ("SELECT a.id FROM kb_article_fts f JOIN kb_article a ON a.id = f.id, "
               "CAST(%s AS tsquery) q WHERE f.tsv @@ q" + where +
               " ORDER BY f.head @@ q DESC, ts_rank(f.tsv, q) DESC, a.updated_at DESC"
               " LIMIT %s")
    else:
        quoted = ['"' + t.replace('"', '""') + '"' for t in tokens]
        params.append((" OR " if any_token else " AND ").join(quoted))
        if category_id is not None:
            where = " AND a.category_id = ?"
            params.append(category_id)
        sql = ("SELECT a.id FROM kb_article_fts f JOIN kb_article a ON a.id = f.rowid "
               "WHERE kb_article_fts MATCH ?" + where +
               " ORDER BY bm25(kb_article_fts), a.updated_at DESC LIMIT ?")
    params.append(limit)
    return [row[0] for row in database.execute_sql(sql, params).fetchall()]


def search(query: str, category_id: int | None = None, limit: int = RESULTS) -> list:
    """The articles matching the query, best first ([] for an empty query)."""
    tokens = query_tokens(query)
    if not tokens:
        return []
    ids = _match_ids(tokens, False, category_id, limit)
    if not ids and len(tokens) > 1:
        ids = _match_ids(tokens, True, category_id, limit)
    articles = {a.id: a for a in KbArticle.select().where(KbArticle.id.in_(ids))}
    return [articles[i] for i in ids if i in articles]


def snippet(body: str, query: str, width: int = 80) -> str:
    """A piece of the body around the first place the query (or one of its tokens)
    appears; the start of the body when none does."""
    text = " ".join((body or "").split())
    lowered = _normal(text)
    candidates = [_normal(query).strip()] + query_tokens(query)
    at = next((lowered.find(c) for c in candidates if c and lowered.find(c) >= 0), 0)
    start = max(0, at - width // 4)
    piece = text[start:start + width]
    return ("…" if start else "") + piece + ("…" if start + width < len(text) else "")
