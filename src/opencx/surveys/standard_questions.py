"""The ready-made question sets of the NPS, CSAT and CES templates, in English, Dutch and Polish."""

from __future__ import annotations

from opencx.surveys.models import SurveyKind
from opencx.surveys.schemas import LocalizedText, QuestionIn, QuestionKind, ShowIf


def _why(show_if: ShowIf | None = None) -> QuestionIn:
    return QuestionIn(
        key="why",
        kind=QuestionKind.free_text,
        text=LocalizedText(
            en="What is the main reason for your score?",
            nl="Wat is de belangrijkste reden voor uw score?",
            pl="Jaki jest główny powód Twojej oceny?",
        ),
        show_if=show_if,
    )


def _what_went_wrong(at_most: int) -> QuestionIn:
    return QuestionIn(
        key="what_went_wrong",
        kind=QuestionKind.free_text,
        text=LocalizedText(
            en="What went wrong, and what should we do better?",
            nl="Wat ging er mis, en wat kunnen we beter doen?",
            pl="Co poszło nie tak i co powinniśmy poprawić?",
        ),
        show_if=ShowIf(question="score", at_most=at_most),
    )


STANDARD_QUESTIONS: dict[SurveyKind, list[QuestionIn]] = {
    SurveyKind.nps: [
        QuestionIn(
            key="score",
            kind=QuestionKind.rating,
            required=True,
            scale_min=0,
            scale_max=10,
            text=LocalizedText(
                en="How likely is it that you would recommend us to a friend or family member?",
                nl="Hoe waarschijnlijk is het dat u ons aanbeveelt bij vrienden of familie?",
                pl="Jak bardzo prawdopodobne jest, że polecisz nas znajomym lub rodzinie?",
            ),
            low_label=LocalizedText(
                en="Not at all likely", nl="Zeer onwaarschijnlijk", pl="Zupełnie nieprawdopodobne"
            ),
            high_label=LocalizedText(
                en="Extremely likely", nl="Zeer waarschijnlijk", pl="Bardzo prawdopodobne"
            ),
        ),
        _why(),
        _what_went_wrong(6),
    ],
    SurveyKind.csat: [
        QuestionIn(
            key="score",
            kind=QuestionKind.rating,
            required=True,
            scale_min=1,
            scale_max=5,
            text=LocalizedText(
                en="How satisfied are you with the help you received?",
                nl="Hoe tevreden bent u over de hulp die u kreeg?",
                pl="Jak bardzo jesteś zadowolony z otrzymanej pomocy?",
            ),
            low_label=LocalizedText(
                en="Very dissatisfied", nl="Zeer ontevreden", pl="Bardzo niezadowolony"
            ),
            high_label=LocalizedText(
                en="Very satisfied", nl="Zeer tevreden", pl="Bardzo zadowolony"
            ),
        ),
        _why(),
        _what_went_wrong(2),
    ],
    SurveyKind.ces: [
        QuestionIn(
            key="score",
            kind=QuestionKind.rating,
            required=True,
            scale_min=1,
            scale_max=7,
            text=LocalizedText(
                en="How easy was it to get what you needed?",
                nl="Hoe makkelijk was het om te krijgen wat u nodig had?",
                pl="Jak łatwo było załatwić to, czego potrzebowałeś?",
            ),
            low_label=LocalizedText(en="Very difficult", nl="Zeer moeilijk", pl="Bardzo trudno"),
            high_label=LocalizedText(en="Very easy", nl="Zeer makkelijk", pl="Bardzo łatwo"),
        ),
        _why(),
    ],
}

# The first question of a custom survey made in the builder, for the team to change.
CUSTOM_STARTER: list[QuestionIn] = [
    QuestionIn(
        key="rating",
        kind=QuestionKind.rating,
        required=True,
        scale_min=1,
        scale_max=5,
        text=LocalizedText(
            en="How was your experience?",
            nl="Hoe was uw ervaring?",
            pl="Jak oceniasz swoje doświadczenie?",
        ),
    ),
    _why(),
]
