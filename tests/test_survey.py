"""The post-call survey's score, stored from the caller's CDR with the agent, the
queue and the call (webui/call_outcomes.py), on both databases."""
import pytest

from db.models import Agent, SurveyResult
from tests.test_call_outcomes import body, make_app, ok
from tests.test_cdr import post
from tests.test_recordings import agent_call


@pytest.fixture
def client(db):
    return make_app().test_client()


@pytest.fixture
def agent(db):
    return Agent.create(extension="1001", display_name="Agent One", sip_password="x" * 16)


def rated(uuid, score, **variables):
    """The agent hung up first: the caller went on to the survey flow and pressed."""
    return agent_call(uuid, hotline_data_score=score, sip_hangup_disposition="recv_bye",
                      hotline_path="to_agent:hold to_agent:queue to_agent:rate survey:ask "
                                   "survey:thanks survey:bye", **variables)


def test_the_score_is_stored_with_agent_queue_and_call(client, agent):
    ok(client, rated("s-1", "4"))
    result = SurveyResult.get()
    assert (result.call_uuid, result.question, result.score) == ("s-1", "satisfaction", 4)
    assert result.agent_id == agent.id and result.queue == "default"
    assert list(agent.surveys) == [result]


def test_the_queue_comes_from_hotline_queue_when_cc_queue_is_gone(client, agent):
    ok(client, rated("s-2", "5", cc_queue=None, hotline_queue="repairs"))
    assert SurveyResult.get().queue == "repairs"


def test_an_unknown_agent_still_stores_the_score(client):
    ok(client, rated("s-3", "3", cc_agent="4711@default"))
    assert SurveyResult.get().agent is None and SurveyResult.get().score == 3


def test_a_caller_who_hung_up_first_is_not_surveyed(client, agent):
    # the caller's BYE ended the bridge: the survey flow never ran, no score was set
    ok(client, agent_call("s-4", sip_hangup_disposition="recv_bye"))
    assert SurveyResult.select().count() == 0


def test_a_retried_cdr_never_counts_a_score_twice(client, agent):
    for _ in range(3):
        ok(client, rated("s-5", "2"))
    assert SurveyResult.select().count() == 1


def test_a_score_already_stored_is_kept_when_the_call_record_is_new(client, agent):
    # e.g. the CallRecord was removed by hand and the CDR re-imported later
    SurveyResult.create(call_uuid="s-6", score=5, queue="default")
    ok(client, rated("s-6", "1"))
    assert [r.score for r in SurveyResult.select()] == [5]


@pytest.mark.parametrize("score", ["0", "6", "12", "x", "-1"])
def test_a_score_outside_1_to_5_is_not_counted(client, score, caplog):
    ok(client, rated("s-7", score))
    assert SurveyResult.select().count() == 0
    assert "not counted" in caplog.text


def test_a_score_on_a_call_no_agent_answered_is_not_counted(db):
    client = make_app().test_client()
    xml = rated("s-8", "4", cc_cause="cancel", cc_cancel_reason="TIMEOUT", cc_agent=None)
    assert post(client, body(xml)).status_code == 200
    assert SurveyResult.select().count() == 0
