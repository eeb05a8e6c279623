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
from opencx.surveys import service
from opencx.surveys.schemas import DEFAULT_LANGUAGE
from opencx.web.templating import render

router = APIRouter(tags=["pages"], include_in_schema=False)

# The page's own words; question texts come from the survey version.
WORDS: dict[str, dict[str, str]] = {
    "en": {
        "send": "Send",
        "required": "required",
        "optional": "optional",
        "missing": "Please answer the questions marked as required.",
        "more": "Thank you. One more question, please.",
        "invalid": "That answer is not possible; please check it.",
        "thanks": "Thank you for your feedback!",
        "saved": "Your answers are saved. You can change them with the link as long as it is valid.",
        "edit": "Change my answers",
        "choose_one": "Choose one",
        "choose_any": "Choose any that apply",
    },
    "nl": {
        "send": "Versturen",
        "required": "verplicht",
        "optional": "optioneel",
        "missing": "Beantwoord alstublieft de vragen die verplicht zijn.",
        "more": "Dank u. Nog één vraag, alstublieft.",
        "invalid": "Dat antwoord is niet mogelijk; controleer het alstublieft.",
        "thanks": "Bedankt voor uw feedback!",
        "saved": "Uw antwoorden zijn opgeslagen. Met de link kunt u ze wijzigen zolang hij geldig is.",
        "edit": "Mijn antwoorden wijzigen",
        "choose_one": "Kies er één",
        "choose_any": "Kies wat van toepassing is",
    },
    "pl": {
        "send": "Wyślij",
        "required": "wymagane",
        "optional": "opcjonalne",
        "missing": "Odpowiedz, proszę, na pytania oznaczone jako wymagane.",
        "more": "Dziękujemy. Jeszcze jedno pytanie.",
        "invalid": "Taka odpowiedź nie jest możliwa; sprawdź ją, proszę.",
        "thanks": "Dziękujemy za Twoją opinię!",
        "saved": "Twoje odpowiedzi są zapisane. Możesz je zmienić przez link, dopóki jest ważny.",
        "edit": "Zmień moje odpowiedzi",
        "choose_one": "Wybierz jedną odpowiedź",
        "choose_any": "Wybierz wszystkie pasujące",
    },
}

# Shown in all three languages: an invalid link does not tell whose it was.
GONE = {
    404: [
        ("en", "This survey link is not valid. Please use the link from your invitation."),
        ("nl", "Deze enquêtelink is niet geldig. Gebruik de link uit uw uitnodiging."),
        ("pl", "Ten link do ankiety jest nieprawidłowy. Użyj linku z zaproszenia."),
    ],
    410: [
        ("en", "This survey is no longer open. Thank you for your interest."),
        ("nl", "Deze enquête is niet meer open. Bedankt voor uw interesse."),
        ("pl", "Ta ankieta jest już zamknięta. Dziękujemy za zainteresowanie."),
    ],
}


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
