"""The public survey page's own words in English, Dutch and Polish (questions come from the survey)."""

from __future__ import annotations

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
