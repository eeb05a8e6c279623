"""The services behind the team's survey pages: builder saves, preview, results and comments."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from opencx.analytics import service as analytics
from opencx.analytics.sync import sync_to_analytics
from opencx.auth import service as auth
from opencx.auth.models import Role
from opencx.errors import InvalidInput, NotFound
from opencx.journeys import service as journeys
from opencx.journeys.schemas import TouchpointIn
from opencx.surveys import service
from opencx.surveys.models import SurveyInvitation, SurveyVersion
from opencx.surveys.schemas import CommentFilter, InvitationIn, SurveyEditIn, SurveyIn
from tests.conftest import PASSWORD, Tenant
from tests.surveys.conftest import World, make_customer


def answer(
    session: Session,
    world: World,
    name: str,
    score: int,
    why: str | None = None,
    *,
    language: str = "en",
    **source: object,
) -> int:
    """A new customer invited to the NPS survey answers it; returns the response id."""
    customer_id = make_customer(session, world.org_id, name, language, channel="email")
    invitation = service.create_invitation(
        session,
        org_id=world.org_id,
        survey_id=world.nps_survey_id,
        data=InvitationIn.model_validate(
            {"customer_id": customer_id, "channel": "email", **source}
        ),
    )
    form = {"shown": ["score", "why"], "q_score": [str(score)]}
    if why is not None:
        form["q_why"] = [why]
    service.record_answers(session, token=invitation.token, form=form)
    session.commit()
    (response,) = service.list_responses(
        session, org_id=world.org_id, survey_id=world.nps_survey_id, limit=1
    )
    return response.id


def _edit(survey_id: int, world: World, session: Session, **changes: object) -> SurveyEditIn:
    survey = service.get_survey(session, org_id=world.org_id, survey_id=survey_id)
    data = {
        "name": survey.name,
        "trigger": survey.trigger,
        "questions": [q.model_dump(mode="json") for q in survey.questions],
        **changes,
    }
    return SurveyEditIn.model_validate(data)


def test_editing_a_published_survey_starts_a_draft_version_and_keeps_the_published_one(
    db_session: Session, world: World
) -> None:
    # given the published NPS survey (version 1)
    before = service.get_survey(db_session, org_id=world.org_id, survey_id=world.nps_survey_id)
    questions = [q.model_dump(mode="json") for q in before.questions]
    questions[1]["text"]["en"] = "Tell us why"
    # when the builder saves a changed question
    after = service.edit_survey(
        db_session,
        org_id=world.org_id,
        survey_id=world.nps_survey_id,
        data=_edit(world.nps_survey_id, world, db_session, questions=questions),
    )
    # then version 2 is a draft with the change, and version 1 is as it was
    assert (after.version, after.published_at) == (2, None)
    assert after.questions[1].text.en == "Tell us why"
    first = db_session.scalars(
        select(SurveyVersion).where(
            SurveyVersion.survey_id == world.nps_survey_id, SurveyVersion.number == 1
        )
    ).one()
    assert first.questions[1]["text"]["en"] == "What is the main reason for your score?"


def test_renaming_or_setting_a_trigger_starts_no_new_version(
    db_session: Session, world: World
) -> None:
    # when only the name and the trigger change
    after = service.edit_survey(
        db_session,
        org_id=world.org_id,
        survey_id=world.nps_survey_id,
        data=_edit(
            world.nps_survey_id,
            world,
            db_session,
            name="After the chat",
            trigger="conversation_resolved",
        ),
    )
    # then the published version stays the newest
    assert (after.name, after.trigger, after.version) == (
        "After the chat",
        "conversation_resolved",
        1,
    )
    assert after.published_at is not None


def test_a_show_if_on_a_later_question_is_refused_and_nothing_changes(
    db_session: Session, world: World
) -> None:
    # given an edit whose first question depends on the third
    survey = service.get_survey(db_session, org_id=world.org_id, survey_id=world.nps_survey_id)
    questions = [q.model_dump(mode="json", exclude_none=True) for q in survey.questions]
    questions[0]["show_if"] = {"question": "what_went_wrong", "at_most": 3}
    data = _edit(world.nps_survey_id, world, db_session, name="Renamed", questions=questions)
    # when it is saved, then it is refused naming the questions
    with pytest.raises(InvalidInput) as refused:
        service.edit_survey(
            db_session, org_id=world.org_id, survey_id=world.nps_survey_id, data=data
        )
    assert refused.value.field == "questions"
    assert "question 0" in refused.value.reason
    # and neither the name nor the versions changed
    db_session.rollback()
    same = service.get_survey(db_session, org_id=world.org_id, survey_id=world.nps_survey_id)
    assert (same.name, same.version) == ("After delivery", 1)


@pytest.mark.parametrize(
    ("language", "question", "condition"),
    [
        ("nl", "Hoe waarschijnlijk is het", "shown when score <= 6"),
        ("pl", "Jak bardzo prawdopodobne", "shown when score <= 6"),
        ("xx", "How likely is it", "shown when score <= 6"),
    ],
)
def test_the_preview_shows_every_question_in_the_language_without_an_invitation(
    db_session: Session, world: World, language: str, question: str, condition: str
) -> None:
    # when the newest version is previewed
    page = service.get_survey_preview(
        db_session, org_id=world.org_id, survey_id=world.nps_survey_id, language=language
    )
    # then it is the public page's model: every question, the conditional one marked
    assert page.language == (language if language != "xx" else "en")
    assert page.questions[0].text.startswith(question)
    assert [q.key for q in page.questions] == ["score", "why", "what_went_wrong"]
    assert [q.condition for q in page.questions] == ["", "", condition]
    assert page.preview is not None and page.preview.version == 1
    # and no invitation was made for it
    assert db_session.scalar(select(func.count()).select_from(SurveyInvitation)) == 0


def test_another_organizations_survey_has_no_preview_results_or_comments(
    db_session: Session, world: World, other_tenant: Tenant
) -> None:
    org = other_tenant.org_id
    with pytest.raises(NotFound):
        service.get_survey_preview(
            db_session, org_id=org, survey_id=world.nps_survey_id, language="en"
        )
    with pytest.raises(NotFound):
        service.get_survey_results(db_session, org_id=org, survey_id=world.nps_survey_id)
    with pytest.raises(NotFound):
        service.list_comments(
            db_session, org_id=org, filters=CommentFilter(survey_id=world.nps_survey_id)
        )


def test_results_give_the_nps_with_interval_trend_distribution_touchpoints_and_rate(
    db_session: Session, world: World
) -> None:
    # given a touchpoint and six answers (2 promoters, 1 passive, 3 detractors), one unanswered
    (delivery,) = journeys.upsert_touchpoints(
        db_session,
        org_id=world.org_id,
        touchpoints=[
            TouchpointIn(
                key="delivery",
                name="Delivery",
                stage="delivery",
                channel="web",
                is_online=True,
                department="logistics",
            )
        ],
    )
    for n, score in enumerate([10, 9, 8, 6, 3, 0]):
        answer(db_session, world, f"P{n}", score, "fine", touchpoint_id=delivery.id)
    service.create_invitation(
        db_session,
        org_id=world.org_id,
        survey_id=world.nps_survey_id,
        data=InvitationIn(customer_id=world.jane_id, channel="email"),
    )
    db_session.commit()
    sync_to_analytics()
    # when the results are computed
    results = service.get_survey_results(
        db_session, org_id=world.org_id, survey_id=world.nps_survey_id, weeks=4
    )
    # then the headline is the NPS of the six with the analytics interval
    headline = results.headline
    assert headline is not None
    assert (headline.label, headline.responses) == ("NPS", 6)
    assert headline.value == pytest.approx(100 * (2 - 3) / 6)
    assert (headline.low, headline.high) == pytest.approx(analytics.nps_interval(2, 3, 6))
    # and the distribution has every score of the 0-10 scale, grouped
    bars = {b.score: (b.responses, b.group) for b in results.distribution}
    assert list(bars) == list(range(11))
    assert bars[10] == (1, "promoter") and bars[8] == (1, "passive") and bars[0] == (1, "detractor")
    assert bars[5] == (0, "detractor")
    # and this week's trend point and the touchpoint row agree with the headline
    assert [w.responses for w in results.trend] == [6]
    assert results.trend[0].value == pytest.approx(headline.value)
    assert [(row.key, row.name, row.responses) for row in results.breakdown] == [
        (delivery.id, "Delivery", 6)
    ]
    assert results.breakdown[0].value == pytest.approx(headline.value)
    # and 3 of 7 invitations are answered completely: the detractors have yet to see
    # "what went wrong" (shown after their first submit), and one invitation is unanswered
    rate = results.response_rate
    assert rate.invitations == 7
    assert rate.responses == 3
    assert (rate.low, rate.high) == pytest.approx(analytics.share_interval(3, 7))
    # and the live list has the newest response first
    assert results.live.responses == 6
    assert results.live.items[0].score == 0


def test_weeks_outside_the_choices_are_refused(db_session: Session, world: World) -> None:
    with pytest.raises(InvalidInput) as refused:
        service.get_survey_results(
            db_session, org_id=world.org_id, survey_id=world.nps_survey_id, weeks=5
        )
    assert refused.value.field == "weeks"


def test_the_survey_list_counts_responses_and_gives_each_survey_its_headline(
    db_session: Session, world: World
) -> None:
    # given a second (CSAT) survey without answers and two NPS answers
    csat = service.create_survey(
        db_session, org_id=world.org_id, data=SurveyIn(name="After the chat", kind="csat")
    )
    answer(db_session, world, "A", 10)
    answer(db_session, world, "B", 10, "great")
    sync_to_analytics()
    # when the list is built
    overviews = {
        o.survey.id: o for o in service.list_survey_overviews(db_session, org_id=world.org_id)
    }
    # then the NPS survey has 2 responses and an NPS of 100, the CSAT one none
    nps = overviews[world.nps_survey_id]
    assert nps.responses == 2
    assert nps.headline is not None and nps.headline.value == 100
    assert overviews[csat.id].responses == 0 and overviews[csat.id].headline is None


def test_comments_are_the_free_text_answers_filtered_by_group_agent_and_language(
    db_session: Session, world: World, tenant: Tenant
) -> None:
    # given an agent, and answers with and without comments
    agent = auth.create_user(
        db_session,
        org_id=world.org_id,
        email="agent@acme.example",
        name="Alex Agent",
        role=Role.agent,
        password=PASSWORD,
    )
    answer(db_session, world, "Silent", 2)  # no comment
    answer(db_session, world, "Dora", 2, "Too slow", language="nl", agent_id=agent.id)
    answer(db_session, world, "Paul", 10, "Lovely", agent_id=agent.id)
    answer(db_session, world, "Pia", 7, "Fine", language="pl")

    def texts(**filters: object) -> list[str]:
        page = service.list_comments(
            db_session, org_id=world.org_id, filters=CommentFilter.model_validate(filters)
        )
        return [answer for item in page.items for _, answer in item.comments]

    # then only responses with text are listed, newest first
    assert texts() == ["Fine", "Lovely", "Too slow"]
    # and each filter narrows them
    assert texts(group="detractor") == ["Too slow"]
    assert texts(agent_id=agent.id) == ["Lovely", "Too slow"]
    assert texts(language="pl") == ["Fine"]
    assert texts(score_min=7, score_max=9) == ["Fine"]
    assert texts(group="promoter", score_max=9) == []
    # and an item names the customer, the agent and the question
    page = service.list_comments(
        db_session, org_id=world.org_id, filters=CommentFilter(agent_id=agent.id)
    )
    item = page.items[-1]
    assert item.customer_name == "Dora" and item.agent_name == "Alex Agent"
    assert item.comments == [("What is the main reason for your score?", "Too slow")]
    assert (agent.id, "Alex Agent") in page.agents


def test_comments_page_through_and_skip_erased_text(db_session: Session, world: World) -> None:
    # given five comments
    for n in range(5):
        answer(db_session, world, f"C{n}", 9, f"comment {n}")
    # when read two at a time
    first = service.list_comments(
        db_session, org_id=world.org_id, filters=CommentFilter(), page=1, page_size=2
    )
    third = service.list_comments(
        db_session, org_id=world.org_id, filters=CommentFilter(), page=3, page_size=2
    )
    # then the pages follow each other, newest first, and say whether more follow
    assert [i.comments[0][1] for i in first.items] == ["comment 4", "comment 3"]
    assert first.has_next
    assert [i.comments[0][1] for i in third.items] == ["comment 0"]
    assert not third.has_next


def test_polling_answers_nothing_until_a_response_arrives_or_changes(
    db_session: Session, world: World
) -> None:
    # given the comments as a page showed them
    seen = service.list_comments(db_session, org_id=world.org_id, filters=CommentFilter())
    # when nothing changed, then polling gives nothing (the page keeps what it shows)
    assert (
        service.poll_comments(
            db_session, org_id=world.org_id, filters=CommentFilter(), stamp=seen.stamp
        )
        is None
    )
    feed = service.get_survey_results(
        db_session, org_id=world.org_id, survey_id=world.nps_survey_id
    ).live
    assert (
        service.poll_survey_responses(
            db_session, org_id=world.org_id, survey_id=world.nps_survey_id, stamp=feed.stamp
        )
        is None
    )
    # when a response arrives, then both polls bring it
    answer(db_session, world, "New", 4, "Broken on arrival")
    polled = service.poll_comments(
        db_session, org_id=world.org_id, filters=CommentFilter(), stamp=seen.stamp
    )
    assert polled is not None and polled.items[0].comments[0][1] == "Broken on arrival"
    live = service.poll_survey_responses(
        db_session, org_id=world.org_id, survey_id=world.nps_survey_id, stamp=feed.stamp
    )
    assert live is not None and live.responses == 1 and live.items[0].score == 4


@pytest.mark.parametrize(
    ("kind", "scores", "label", "value", "groups"),
    [
        ("csat", [5, 4, 4, 2, 3], "CSAT", 60.0, {1: "low", 3: "neutral", 5: "high"}),
        ("ces", [7, 6, 2, 5], "CES", 5.0, {3: "low", 4: "neutral", 5: "high"}),
    ],
)
def test_csat_and_ces_results_have_their_own_headline_and_groups(
    db_session: Session,
    world: World,
    kind: str,
    scores: list[int],
    label: str,
    value: float,
    groups: dict[int, str],
) -> None:
    # given a published CSAT or CES survey and its answers
    survey = service.create_survey(
        db_session, org_id=world.org_id, data=SurveyIn(name=f"{kind} survey", kind=kind)
    )
    service.publish_survey(db_session, org_id=world.org_id, survey_id=survey.id)
    for n, score in enumerate(scores):
        customer_id = make_customer(db_session, world.org_id, f"{kind}{n}", "en", channel="email")
        invitation = service.create_invitation(
            db_session,
            org_id=world.org_id,
            survey_id=survey.id,
            data=InvitationIn(customer_id=customer_id, channel="email"),
        )
        service.record_answers(
            db_session, token=invitation.token, form={"shown": ["score"], "q_score": [str(score)]}
        )
    db_session.commit()
    sync_to_analytics()
    # when its results are computed
    results = service.get_survey_results(db_session, org_id=world.org_id, survey_id=survey.id)
    # then the headline is the kind's figure with the matching interval
    headline = results.headline
    assert headline is not None and (headline.label, headline.responses) == (label, len(scores))
    assert headline.value == pytest.approx(value)
    if kind == "csat":
        low, high = analytics.share_interval(3, 5)
        assert (headline.low, headline.high) == pytest.approx((100 * low, 100 * high))
    else:
        squares = sum(s * s for s in scores)
        expected = analytics.mean_interval(len(scores), sum(scores), squares)
        assert (headline.low, headline.high) == pytest.approx(expected)
    # and the bars cover the scale, grouped low / neutral / high
    bars = {b.score: b.group for b in results.distribution}
    assert list(bars) == list(range(1, 6 if kind == "csat" else 8))
    assert {score: bars[score] for score in groups} == groups
    assert results.trend[0].value == pytest.approx(value)


def test_results_break_the_nps_down_by_language_and_refuse_an_unknown_dimension(
    db_session: Session, world: World
) -> None:
    # given three Dutch answers (two promoters, one detractor) and one English detractor
    for n, (score, language) in enumerate([(10, "nl"), (9, "nl"), (2, "nl"), (4, "en")]):
        answer(db_session, world, f"L{n}", score, language=language)
    sync_to_analytics()
    # when the results are broken down by language
    results = service.get_survey_results(
        db_session, org_id=world.org_id, survey_id=world.nps_survey_id, weeks=4, by="language"
    )
    # then each language has its own NPS, the biggest group first
    assert results.breakdown_by == "language"
    assert [(row.key, row.responses) for row in results.breakdown] == [("nl", 3), ("en", 1)]
    assert results.breakdown[0].value == pytest.approx(100 * (2 - 1) / 3)
    assert results.breakdown[1].value == pytest.approx(-100)
    assert (results.breakdown[0].low, results.breakdown[0].high) == pytest.approx(
        analytics.nps_interval(2, 1, 3)
    )
    # and an unknown dimension is a 422 naming `by`
    with pytest.raises(InvalidInput) as refused:
        service.get_survey_results(
            db_session, org_id=world.org_id, survey_id=world.nps_survey_id, by="shoe_size"
        )
    assert refused.value.field == "by"
