"""Knowledge-base search with Chinese queries, on SQLite and PostgreSQL (the db
fixture runs each test on both)."""
import pytest

from db.models import KbArticle, KbCategory
from webui.kb import search


def add(title, body, tags="", category=None):
    return KbArticle.create(title=title, body=body, tags=tags, category=category,
                            search_text=search.index_text(title, tags, body))


@pytest.fixture
def articles(db):
    heating = KbCategory.create(name="供暖")
    gas = KbCategory.create(name="燃气")
    fee = KbCategory.create(name="缴费")
    return {
        "cold": add("暖气不热怎么办", "先检查阀门是否打开，再给暖气片放气。仍然不热请报修。",
                    "供暖,报修", heating),
        "leak": add("燃气泄漏应急处置", "闻到燃气味：立即关闭总阀，开窗通风，不要开关电器，"
                    "到室外拨打抢修电话。", "燃气,安全", gas),
        "pay": add("如何缴费", "可以在营业厅、银行或手机上缴纳水费、燃气费和供暖费。",
                   "缴费", fee),
        "stop": add("停水通知查询", "计划停水会提前在公告栏和网站公布。", "供水"),
        "english": add("Meter reading FAQ", "Gas meters are read every two months.",
                       "meter"),
    }


def titles(results):
    return [a.title for a in results]


def test_tokens_are_bigrams_and_unigrams():
    assert search.query_tokens("暖气不热") == ["暖气", "气不", "不热"]
    assert search.query_tokens("热") == ["热"]
    assert search.query_tokens("燃气 泄漏 GAS") == ["燃气", "泄漏", "gas"]
    assert search.query_tokens("ＧＡＳ１２") == ["gas12"]   # full-width letters fold
    tokens = search.index_tokens("不热")
    assert tokens == ["不", "热", "不热"]
    assert search.query_tokens("  ,，。 ") == []


def test_chinese_queries_find_the_article(articles):
    assert titles(search.search("暖气不热"))[0] == "暖气不热怎么办"
    assert titles(search.search("燃气泄漏"))[0] == "燃气泄漏应急处置"
    assert titles(search.search("缴费"))[0] == "如何缴费"


def test_words_inside_the_body_are_found(articles):
    assert titles(search.search("开窗通风")) == ["燃气泄漏应急处置"]
    assert titles(search.search("放气")) == ["暖气不热怎么办"]


def test_every_bigram_must_be_there(articles):
    # 燃气 appears in two articles, 燃气费 only in the payment one
    assert set(titles(search.search("燃气"))) == {"燃气泄漏应急处置", "如何缴费"}
    assert titles(search.search("燃气费")) == ["如何缴费"]


def test_single_character_query(articles):
    assert "停水通知查询" in titles(search.search("停"))


def test_title_ranks_above_body(articles):
    # 供暖 is in the title/tags of the heating article, only in the body of the fee one
    assert titles(search.search("供暖"))[0] == "暖气不热怎么办"


def test_no_article_has_all_tokens_falls_back_to_any(articles):
    results = titles(search.search("停水 阀门"))
    assert set(results) == {"停水通知查询", "暖气不热怎么办"}


def test_nothing_found(articles):
    assert search.search("地铁") == []
    assert search.search("") == []


def test_latin_words_and_case(articles):
    assert titles(search.search("METER")) == ["Meter reading FAQ"]
    assert titles(search.search("gas meters")) == ["Meter reading FAQ"]


def test_category_filter(articles):
    fee = KbCategory.get(name="缴费")
    assert titles(search.search("燃气", category_id=fee.id)) == ["如何缴费"]


def test_edit_and_delete_keep_the_index(articles):
    article = articles["stop"]
    article.title = "停电通知"
    article.body = "计划停电会提前公布。"
    article.search_text = search.index_text(article.title, "", article.body)
    article.save()
    assert search.search("停水") == []
    assert titles(search.search("停电")) == ["停电通知"]
    articles["leak"].delete_instance()
    assert search.search("泄漏") == []


def test_quotes_and_operators_in_queries_are_plain_text(articles):
    for query in ['"燃气', "燃气' OR 1=1 --", "燃气 AND NOT", "燃气 & !", "NEAR(燃气)", "*"]:
        search.search(query)  # no syntax error from FTS5 or tsquery
    assert titles(search.search('"燃气泄漏"'))[0] == "燃气泄漏应急处置"


def test_snippet_around_the_match():
    body = "无关内容。" * 30 + "闻到燃气味立即关闭总阀。" + "其他。" * 30
    piece = search.snippet(body, "关闭总阀")
    assert "关闭总阀" in piece and piece.startswith("…")
