"""The public survey page: no login, the signed token in the link authorizes reading and answering.

Plain HTML forms (no JavaScript), so it works on any phone; each submit saves what was answered.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from opencx.auth.deps import DbSession
from opencx.db import session_scope
from opencx.errors import InvalidInput, NotFound
from opencx.surveys import service, team_pages
from opencx.surveys.page_words import GONE, WORDS
from opencx.surveys.schemas import DEFAULT_LANGUAGE
from opencx.web.templating import render

router = APIRouter(tags=["pages"], include_in_schema=False)
# The CX team's pages (list, builder, preview, results, comments) are served beside this one.
router.include_router(team_pages.router)


def _gone(request: Request, status_code: int) -> Response:
    return render(request, "surveys/gone.html", status_code=status_code, messages=GONE[status_code])


@router.get("/s/{token}", response_class=HTMLResponse)
def survey_page(request: Request, token: str, db: DbSession) -> Response:
    try:
        page = service.get_survey_page(db, token=token)
    except NotFound:
        return _gone(request, 404)
    except service.SurveyLinkExpired:
        return _gone(request, 410)
    return render(request, "surveys/page.html", page=page, words=WORDS[page.language], note="")


async def read_answers(request: Request) -> dict[str, list[str]]:
    """The posted form as field -> values (a checkbox group sends one field several times)."""
    form = await request.form()
    return {name: [str(v) for v in form.getlist(name)] for name in form}


# A plain `def`: the database work runs in the thread pool. In an `async def` it blocked the
# event loop while waiting for SQLite's write lock, so the request holding the lock could not
# commit, and concurrent submits failed with "database is locked" (benchmarks/survey_responses.py).
# The transaction is its own rather than DbSession's: it commits before the page is rendered, so
# the write lock is held for the save alone, and the request crosses to the thread pool once
# (a generator dependency crosses on entry and on exit too).
@router.post("/s/{token}", response_class=HTMLResponse)
def submit_survey(
    request: Request,
    token: str,
    answers: Annotated[dict[str, list[str]], Depends(read_answers)],
) -> Response:
    try:
        with session_scope() as db:
            page = service.record_answers(db, token=token, form=answers)
    except NotFound:
        return _gone(request, 404)
    except service.SurveyLinkExpired:
        return _gone(request, 410)
    except InvalidInput as exc:
        # Nothing was saved; show the page again with the saved answers and the problem.
        with session_scope() as db:
            page = service.get_survey_page(db, token=token)
        words = WORDS.get(page.language, WORDS[DEFAULT_LANGUAGE])
        return render(
            request,
            "surveys/page.html",
            status_code=422,
            page=page,
            words=words,
            note=words["invalid"],
            invalid=exc.field,
        )
    words = WORDS[page.language]
    if not page.pending:
        return render(request, "surveys/thanks.html", page=page, words=words)
    note = words["missing"] if page.missing else words["more"]
    return render(request, "surveys/page.html", page=page, words=words, note=note)


# ---- the anonymous public link: anyone may answer, one response per browser -----------------

# The browser keeps its personal token per public link, so answering again updates its response.
PUBLIC_COOKIE = "opencx_survey"


def _browser_language(request: Request) -> str:
    first = request.headers.get("accept-language", "").split(",")[0]
    return first.split(";")[0].strip() or DEFAULT_LANGUAGE


@router.get("/s/p/{public_token}", response_class=HTMLResponse)
def public_survey_page(request: Request, public_token: str, db: DbSession) -> Response:
    try:
        page = service.get_public_survey_page(
            db,
            public_token=public_token,
            language=_browser_language(request),
            token=request.cookies.get(PUBLIC_COOKIE),
        )
    except NotFound:
        return _gone(request, 404)
    except service.SurveyLinkExpired:
        return _gone(request, 410)
    return render(request, "surveys/page.html", page=page, words=WORDS[page.language], note="")


@router.post("/s/p/{public_token}", response_class=HTMLResponse)
def submit_public_survey(
    request: Request,
    public_token: str,
    db: DbSession,
    answers: Annotated[dict[str, list[str]], Depends(read_answers)],
) -> Response:
    language = _browser_language(request)
    try:
        page = service.record_public_answers(
            db,
            public_token=public_token,
            form=answers,
            language=language,
            token=request.cookies.get(PUBLIC_COOKIE),
        )
    except NotFound:
        return _gone(request, 404)
    except service.SurveyLinkExpired:
        return _gone(request, 410)
    except InvalidInput as exc:
        # Nothing is kept, not even the new respondent's invitation.
        db.rollback()
        page = service.get_public_survey_page(db, public_token=public_token, language=language)
        words = WORDS[page.language]
        return render(
            request,
            "surveys/page.html",
            status_code=422,
            page=page,
            words=words,
            note=words["invalid"],
            invalid=exc.field,
        )
    words = WORDS[page.language]
    if not page.pending:
        response = render(request, "surveys/thanks.html", page=page, words=words)
    else:
        note = words["missing"] if page.missing else words["more"]
        response = render(request, "surveys/page.html", page=page, words=words, note=note)
    response.set_cookie(
        PUBLIC_COOKIE,
        page.token,
        max_age=service.PUBLIC_RESPONSE_DAYS * 86_400,
        path=f"/s/p/{public_token}",
        httponly=True,
        samesite="lax",
    )
    return response
