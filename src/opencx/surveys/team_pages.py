"""The survey pages of the CX team (signed in): list, builder, preview, results and comments.

Admins and managers build, preview, publish and close; every role reads results and comments.
Forms are plain POST forms with the session's CSRF token; htmx swaps the builder in place and
polls the live parts, but every page works without JavaScript.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from opencx.auth.deps import CsrfChecked, CurrentUser, DbSession, SignedIn
from opencx.auth.models import Role
from opencx.errors import Conflict, InvalidInput
from opencx.surveys import service
from opencx.surveys.models import SurveyKind, SurveyTrigger
from opencx.surveys.page_words import WORDS
from opencx.surveys.schemas import (
    LANGUAGES,
    CommentFilter,
    FeedbackItem,
    NpsGroup,
    QuestionKind,
    SurveyEditIn,
    SurveyIn,
    SurveyOut,
)
from opencx.surveys.standard_questions import CUSTOM_STARTER
from opencx.textanalytics import service as textanalytics
from opencx.textanalytics.schemas import TextFeelings
from opencx.web.templating import render

router = APIRouter(tags=["pages"], include_in_schema=False)

BUILDERS = (Role.admin, Role.manager)
LIVE_SECONDS = 5
COMMENTS_PAGE_SIZE = 25


async def read_form(request: Request) -> dict[str, list[str]]:
    """The posted form as field -> values."""
    form = await request.form()
    return {name: [str(v) for v in form.getlist(name)] for name in form}


# Read by an async dependency so the handlers can be plain `def`s (database work in threads).
Form = Annotated[dict[str, list[str]], Depends(read_form)]


def _forbidden(request: Request, current: SignedIn) -> Response:
    return render(
        request,
        "error.html",
        403,
        current=current,
        message="Only admins and managers build, publish and close surveys.",
    )


def _first(form: dict[str, list[str]], name: str) -> str:
    return (form.get(name) or [""])[0].strip()


# ---- the list --------------------------------------------------------------------------------


def _survey_list(
    request: Request, db: DbSession, current: SignedIn, status_code: int = 200, **extra: Any
) -> Response:
    overviews = service.list_survey_overviews(db, org_id=current.org_id)
    return render(
        request,
        "surveys/list.html",
        status_code,
        current=current,
        overviews=overviews,
        may_build=current.user.role in BUILDERS,
        kinds=list(SurveyKind),
        **extra,
    )


@router.get("/surveys", response_class=HTMLResponse)
def survey_list(request: Request, db: DbSession, current: CurrentUser) -> Response:
    return _survey_list(request, db, current)


@router.post("/surveys", response_class=HTMLResponse)
def create_survey(request: Request, db: DbSession, current: CsrfChecked, form: Form) -> Response:
    if current.user.role not in BUILDERS:
        return _forbidden(request, current)
    name, kind = _first(form, "name"), _first(form, "kind")
    try:
        data = SurveyIn.model_validate(
            {
                "name": name,
                "kind": kind,
                "questions": CUSTOM_STARTER if kind == SurveyKind.custom else None,
            }
        )
    except ValidationError as exc:
        errors = [f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()]
        return _survey_list(request, db, current, 422, create_errors=errors, form=form)
    survey = service.create_survey(db, org_id=current.org_id, data=data)
    return RedirectResponse(f"/surveys/{survey.id}/edit", status_code=303)


# ---- the builder -----------------------------------------------------------------------------


def _labels(value: Any) -> dict[str, str]:
    data = value.model_dump() if value is not None else {}
    return {lang: data.get(lang) or "" for lang in LANGUAGES}


def _state_of(survey: SurveyOut) -> list[dict[str, Any]]:
    """The builder's form state of a survey's newest questions."""
    state = []
    for q in survey.questions:
        show = q.show_if
        state.append(
            {
                "key": q.key,
                "kind": q.kind.value,
                "text": _labels(q.text),
                "required": q.required,
                "scale_min": str(q.scale_min),
                "scale_max": str(q.scale_max),
                "low": _labels(q.low_label),
                "high": _labels(q.high_label),
                "options": [{"key": o.key, **_labels(o.text)} for o in q.options],
                "show_question": show.question if show else "",
                "show_at_most": "" if show is None or show.at_most is None else str(show.at_most),
                "show_at_least": ""
                if show is None or show.at_least is None
                else str(show.at_least),
                "show_any_of": ", ".join(show.any_of or []) if show else "",
            }
        )
    return state


def _blank_question(number: int) -> dict[str, Any]:
    empty = dict.fromkeys(LANGUAGES, "")
    return {
        "key": f"question_{number}",
        "kind": QuestionKind.free_text.value,
        "text": dict(empty),
        "required": False,
        "scale_min": "1",
        "scale_max": "5",
        "low": dict(empty),
        "high": dict(empty),
        "options": [],
        "show_question": "",
        "show_at_most": "",
        "show_at_least": "",
        "show_any_of": "",
    }


def _state_from_form(form: dict[str, list[str]]) -> list[dict[str, Any]]:
    """The builder's form state as posted (`q3.text.nl`, `q3.o1.key`, ...), kept as typed."""
    state = []
    for i in range(min(int(_first(form, "count") or 0), 50)):
        p = f"q{i}."
        options = []
        for j in range(min(int(_first(form, f"{p}options") or 0), 30)):
            options.append(
                {
                    "key": _first(form, f"{p}o{j}.key"),
                    **{lang: _first(form, f"{p}o{j}.{lang}") for lang in LANGUAGES},
                }
            )
        state.append(
            {
                "key": _first(form, f"{p}key"),
                "kind": _first(form, f"{p}kind"),
                "text": {lang: _first(form, f"{p}text.{lang}") for lang in LANGUAGES},
                "required": bool(form.get(f"{p}required")),
                "scale_min": _first(form, f"{p}scale_min"),
                "scale_max": _first(form, f"{p}scale_max"),
                "low": {lang: _first(form, f"{p}low.{lang}") for lang in LANGUAGES},
                "high": {lang: _first(form, f"{p}high.{lang}") for lang in LANGUAGES},
                "options": options,
                "show_question": _first(form, f"{p}show.question"),
                "show_at_most": _first(form, f"{p}show.at_most"),
                "show_at_least": _first(form, f"{p}show.at_least"),
                "show_any_of": _first(form, f"{p}show.any_of"),
            }
        )
    return state


def _texts(labels: dict[str, str]) -> dict[str, str] | None:
    # English is always sent when any language is, so a missing one reads "at least 1 character".
    if not any(labels.values()):
        return None
    return {lang: text for lang, text in labels.items() if text or lang == "en"}


def _question_data(question: dict[str, Any]) -> dict[str, Any]:
    """A form state question as QuestionIn data; pydantic then says what is wrong with it."""
    kind = question["kind"]
    data: dict[str, Any] = {
        "key": question["key"],
        "kind": kind,
        "text": _texts(question["text"]) or {"en": ""},
        "required": question["required"],
    }
    if kind == QuestionKind.rating:
        data["scale_min"] = question["scale_min"] or None
        data["scale_max"] = question["scale_max"] or None
        for name, field in (("low", "low_label"), ("high", "high_label")):
            if labels := _texts(question[name]):
                data[field] = labels
    if kind in (QuestionKind.single_choice, QuestionKind.multiple_choice):
        data["options"] = [
            {"key": o["key"], "text": _texts({k: o[k] for k in LANGUAGES}) or {"en": ""}}
            for o in question["options"]
        ]
    if question["show_question"]:
        condition: dict[str, Any] = {"question": question["show_question"]}
        for name in ("at_most", "at_least"):
            if value := question[f"show_{name}"]:
                condition[name] = value
        if any_of := [v.strip() for v in question["show_any_of"].split(",") if v.strip()]:
            condition["any_of"] = any_of
        data["show_if"] = condition
    return data


def _apply(action: str, state: list[dict[str, Any]]) -> None:
    """Add, remove or move a question or an option in the form state (nothing is saved)."""
    verb, *numbers = action.split(":")
    at = [int(n) for n in numbers if n.isdigit()]
    if verb == "add":
        state.append(_blank_question(len(state) + 1))
    elif verb == "remove" and at and at[0] < len(state) and len(state) > 1:
        state.pop(at[0])
    elif verb == "up" and at and 0 < at[0] < len(state):
        state[at[0] - 1], state[at[0]] = state[at[0]], state[at[0] - 1]
    elif verb == "down" and at and at[0] < len(state) - 1:
        state[at[0] + 1], state[at[0]] = state[at[0]], state[at[0] + 1]
    elif verb == "add-option" and at and at[0] < len(state):
        options = state[at[0]]["options"]
        options.append({"key": f"option_{len(options) + 1}", **dict.fromkeys(LANGUAGES, "")})
    elif verb == "remove-option" and len(at) == 2 and at[0] < len(state):
        options = state[at[0]]["options"]
        if at[1] < len(options):
            options.pop(at[1])
    # A question just turned into a choice gets two options to fill in.
    for question in state:
        choice = question["kind"] in (QuestionKind.single_choice, QuestionKind.multiple_choice)
        while choice and len(question["options"]) < 2:
            n = len(question["options"]) + 1
            question["options"].append({"key": f"option_{n}", **dict.fromkeys(LANGUAGES, "")})


def _errors_by_question(messages: list[tuple[int | None, str]]) -> dict[int | None, list[str]]:
    grouped: dict[int | None, list[str]] = {}
    for index, message in messages:
        grouped.setdefault(index, []).append(message)
    return grouped


def _validation_messages(exc: ValidationError) -> list[tuple[int | None, str]]:
    messages: list[tuple[int | None, str]] = []
    for error in exc.errors():
        loc = list(error["loc"])
        index = loc[1] if len(loc) > 1 and loc[0] == "questions" else None
        where = ".".join(map(str, loc[2:] if index is not None else loc)) or "question"
        reason = str(error["msg"]).removeprefix("Value error, ")
        messages.append((index if isinstance(index, int) else None, f"{where}: {reason}"))
    return messages


def _builder(
    request: Request,
    current: SignedIn,
    survey: SurveyOut,
    state: list[dict[str, Any]],
    *,
    status_code: int = 200,
    name: str | None = None,
    trigger: str | None = None,
    period_days: str | None = None,
    errors: list[tuple[int | None, str]] | None = None,
    notice: str = "",
) -> Response:
    return render(
        request,
        "surveys/builder.html",
        status_code,
        current=current,
        survey=survey,
        questions=state,
        name=survey.name if name is None else name,
        trigger=(survey.trigger.value if survey.trigger else "") if trigger is None else trigger,
        period_days=(survey.period_days or "") if period_days is None else period_days,
        triggers=list(SurveyTrigger),
        kinds=list(QuestionKind),
        languages=LANGUAGES,
        errors=_errors_by_question(errors or []),
        notice=notice,
    )


NOTICES = {
    "saved": "Saved.",
    "published": "Published: new invitations get this version.",
    "closed": "Closed: no more invitations or answers.",
}


@router.get("/surveys/{survey_id}/edit", response_class=HTMLResponse)
def survey_builder(
    request: Request, survey_id: int, db: DbSession, current: CurrentUser, done: str = ""
) -> Response:
    if current.user.role not in BUILDERS:
        return _forbidden(request, current)
    survey = service.get_survey(db, org_id=current.org_id, survey_id=survey_id)
    return _builder(request, current, survey, _state_of(survey), notice=NOTICES.get(done, ""))


@router.post("/surveys/{survey_id}/edit", response_class=HTMLResponse)
def save_survey_builder(
    request: Request, survey_id: int, db: DbSession, current: CsrfChecked, form: Form
) -> Response:
    if current.user.role not in BUILDERS:
        return _forbidden(request, current)
    state = _state_from_form(form)
    action = _first(form, "action") or "save"
    name, trigger = _first(form, "name"), _first(form, "trigger")
    period_days = _first(form, "period_days")
    if action != "save":
        _apply(action, state)
        survey = service.get_survey(db, org_id=current.org_id, survey_id=survey_id)
        return _builder(
            request, current, survey, state, name=name, trigger=trigger, period_days=period_days
        )
    try:
        data = SurveyEditIn.model_validate(
            {
                "name": name,
                "trigger": trigger or None,
                "period_days": period_days or None,
                "questions": [_question_data(q) for q in state],
            }
        )
        service.edit_survey(db, org_id=current.org_id, survey_id=survey_id, data=data)
    except (ValidationError, InvalidInput, Conflict) as exc:
        # Nothing was saved: the service checks everything before it changes anything.
        if isinstance(exc, ValidationError):
            errors = _validation_messages(exc)
        elif isinstance(exc, InvalidInput):
            found = re.match(r"question (\d+): ", exc.reason)
            index = int(found[1]) if found else None
            errors = [(index, f"{exc.field}: {exc.reason}")]
        else:
            errors = [(None, str(exc))]
        survey = service.get_survey(db, org_id=current.org_id, survey_id=survey_id)
        return _builder(
            request,
            current,
            survey,
            state,
            status_code=422,
            name=name,
            trigger=trigger,
            period_days=period_days,
            errors=errors,
        )
    return RedirectResponse(f"/surveys/{survey_id}/edit?done=saved", status_code=303)


@router.post("/surveys/{survey_id}/publish")
def publish_survey(
    request: Request, survey_id: int, db: DbSession, current: CsrfChecked
) -> Response:
    if current.user.role not in BUILDERS:
        return _forbidden(request, current)
    service.publish_survey(db, org_id=current.org_id, survey_id=survey_id)
    return RedirectResponse(f"/surveys/{survey_id}/edit?done=published", status_code=303)


@router.post("/surveys/{survey_id}/close")
def close_survey(request: Request, survey_id: int, db: DbSession, current: CsrfChecked) -> Response:
    if current.user.role not in BUILDERS:
        return _forbidden(request, current)
    service.close_survey(db, org_id=current.org_id, survey_id=survey_id)
    return RedirectResponse(f"/surveys/{survey_id}/edit?done=closed", status_code=303)


# ---- the preview -----------------------------------------------------------------------------


@router.get("/surveys/{survey_id}/preview", response_class=HTMLResponse)
def survey_preview(
    request: Request, survey_id: int, db: DbSession, current: CurrentUser, lang: str = "en"
) -> Response:
    if current.user.role not in BUILDERS:
        return _forbidden(request, current)
    page = service.get_survey_preview(db, org_id=current.org_id, survey_id=survey_id, language=lang)
    return render(
        request,
        "surveys/page.html",
        page=page,
        words=WORDS[page.language],
        note="",
        languages=LANGUAGES,
    )


# ---- results ---------------------------------------------------------------------------------


def _feelings(db: DbSession, org_id: int, items: list[FeedbackItem]) -> TextFeelings:
    """Sentiment badges of the responses shown (their comments' analyses)."""
    return textanalytics.list_text_feelings(
        db, org_id=org_id, response_ids=[item.response_id for item in items]
    )


@router.get("/surveys/{survey_id}/results", response_class=HTMLResponse)
def survey_results(
    request: Request,
    survey_id: int,
    db: DbSession,
    current: CurrentUser,
    weeks: int = 12,
    by: str = "touchpoint",
) -> Response:
    results = service.get_survey_results(
        db, org_id=current.org_id, survey_id=survey_id, weeks=weeks, by=by
    )
    return render(
        request,
        "surveys/results.html",
        current=current,
        results=results,
        feelings=_feelings(db, current.org_id, results.live.items),
        may_build=current.user.role in BUILDERS,
        week_choices=service.RESULT_WEEKS,
        breakdowns=service.BREAKDOWNS,
        live_seconds=LIVE_SECONDS,
    )


@router.get("/surveys/{survey_id}/results/live", response_class=HTMLResponse)
def survey_results_live(
    request: Request, survey_id: int, db: DbSession, current: CurrentUser, stamp: str = ""
) -> Response:
    """The newest responses, polled by the results page: 204 (no swap) when nothing changed."""
    feed = service.poll_survey_responses(
        db, org_id=current.org_id, survey_id=survey_id, stamp=stamp
    )
    if feed is None:
        return Response(status_code=204)
    return render(
        request,
        "surveys/_live_responses.html",
        survey_id=survey_id,
        feed=feed,
        feelings=_feelings(db, current.org_id, feed.items),
        live_seconds=LIVE_SECONDS,
    )


# ---- comments --------------------------------------------------------------------------------


def _number(value: str) -> int | None:
    return int(value) if value.strip().lstrip("-").isdigit() else None


@router.get("/surveys/comments", response_class=HTMLResponse)
def survey_comments(
    request: Request,
    db: DbSession,
    current: CurrentUser,
    survey: str = "",
    score_min: str = "",
    score_max: str = "",
    group: str = "",
    touchpoint: str = "",
    agent: str = "",
    language: str = "",
    page: int = 1,
    stamp: str = "",
) -> Response:
    query = {
        "survey": survey,
        "score_min": score_min,
        "score_max": score_max,
        "group": group,
        "touchpoint": touchpoint,
        "agent": agent,
        "language": language,
    }
    if group and group not in set(NpsGroup):
        raise InvalidInput("group", "must be promoter, passive or detractor")
    try:
        filters = CommentFilter(
            survey_id=_number(survey),
            score_min=_number(score_min),
            score_max=_number(score_max),
            group=NpsGroup(group) if group else None,
            touchpoint_id=_number(touchpoint),
            agent_id=_number(agent),
            language=language or None,
        )
    except ValidationError as exc:
        error = exc.errors()[0]
        raise InvalidInput(str(error["loc"][0]), str(error["msg"])) from exc
    if stamp:
        # The live poll of the first page: 204 (no swap) while nothing changed.
        polled = service.poll_comments(
            db, org_id=current.org_id, filters=filters, stamp=stamp, page_size=COMMENTS_PAGE_SIZE
        )
        if polled is None:
            return Response(status_code=204)
        return render(
            request,
            "surveys/_comments.html",
            comments=polled,
            feelings=_feelings(db, current.org_id, polled.items),
            query=query,
            live_seconds=LIVE_SECONDS,
        )
    comments = service.list_comments(
        db, org_id=current.org_id, filters=filters, page=page, page_size=COMMENTS_PAGE_SIZE
    )
    return render(
        request,
        "surveys/comments.html",
        current=current,
        comments=comments,
        feelings=_feelings(db, current.org_id, comments.items),
        query=query,
        groups=list(NpsGroup),
        languages=LANGUAGES,
        live_seconds=LIVE_SECONDS,
    )
