"""What demo customers write, in Dutch, Polish and English: complaints, reviews, chats, posts.

A text is assembled from fragments (opening, context, issue, detail, feeling, request, closing),
each drawn from its own pool, with the product, order number, dates and the days of delay filled
in, so that five thousand customers do not all write the same sentence. Polish verbs agree with
the writer's gender ("zamówiłem" / "zamówiłam"): templates write {em} for that ending and {y}
for adjective endings. Templates avoid verbs that would have to agree with the product itself.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date

from opencx.demo.catalog import CatalogItem

COMPLAINT_REASONS = (
    "late_delivery",
    "damaged",
    "missing_parts",
    "defect",
    "wrong_item",
    "refund_slow",
)
QUESTION_REASONS = (
    "where_is_order",
    "delivery_change",
    "invoice",
    "stock",
    "warranty",
    "assembly_help",
    "return_request",
)

MONTHS = {
    "en": "January February March April May June July August September October November December",
    "nl": "januari februari maart april mei juni juli augustus september oktober november december",
    "pl": "stycznia lutego marca kwietnia maja czerwca lipca sierpnia września października "
    "listopada grudnia",
}
# Dutch nouns taking "het"; every other noun in the catalog takes "de".
DUTCH_HET_NOUNS = {"bed", "vloerkleed", "zit-sta-bureau", "messenblok", "dekbedovertrek"}
SEATING = {"sofas", "chairs"}


@dataclass(frozen=True)
class Writer:
    """The customer who writes: language, first name and (for Polish grammar) gender."""

    language: str
    first_name: str
    gender: str


def _date(day: date, language: str) -> str:
    month = MONTHS[language].split()[day.month - 1]
    return f"{day.day} {month}"


def _english_article(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" else "a"


def _context(
    rng: random.Random,
    writer: Writer,
    product: CatalogItem,
    *,
    order_ref: str = "",
    ordered_on: date | None = None,
    promised_on: date | None = None,
    days_late: int = 0,
) -> dict[str, str]:
    """The values a template may use, with the product named the way this writer would."""
    lang, noun, model = writer.language, product.noun, product.model
    assert noun is not None, "texts are written about products, not services"
    values = {
        "order": order_ref,
        "days": str(max(days_late, 2)),
        "date": _date(ordered_on, lang) if ordered_on else "",
        "promised": _date(promised_on, lang) if promised_on else "",
        "name": writer.first_name,
        "model": model,
    }
    if lang == "en":
        named = f"{model} {noun.en}"
        values |= {
            "noun": noun.en,
            "p_the": f"the {named}",
            "p_a": f"{_english_article(model)} {named}",
            "p_my": rng.choice([f"my {noun.en}", f"my new {noun.en}", f"my {named}"]),
        }
    elif lang == "nl":
        article = "het" if noun.nl in DUTCH_HET_NOUNS else "de"
        values |= {
            "noun": noun.nl,
            "p_the": f"{article} {model} {noun.nl}",
            "p_a": f"een {model} {noun.nl}",
            "p_my": rng.choice([f"mijn {noun.nl}", f"mijn nieuwe {noun.nl}", f"mijn {model}"]),
        }
    else:
        with_model = rng.random() < 0.65
        suffix = f" {model}" if with_model else ""
        values |= {
            "noun": noun.pl_nom,
            "p_nom": noun.pl_nom + suffix,
            "p_acc": noun.pl_acc + suffix,
            "p_gen": noun.pl_gen + suffix,
            "em": "am" if writer.gender == "f" else "em",
            "y": "a" if writer.gender == "f" else "y",
            "bym": "abym" if writer.gender == "f" else "bym",
        }
    return values


def _sentence(template: str, values: dict[str, str]) -> str:
    text = template.format_map(values)
    return text[:1].upper() + text[1:]


def _pool(table: dict[str, list[str]], reason: str, product: CatalogItem) -> list[str]:
    """The fragments for a reason; furniture adds its own (legs, scratches, empty rooms)."""
    return table[reason] + (table.get(f"{reason}_bulky", []) if product.bulky else [])


def _pick(rng: random.Random, pool: list[str] | tuple[str, ...], values: dict[str, str]) -> str:
    return _sentence(rng.choice(pool), values)


def _maybe(rng: random.Random, chance: float, pool: list[str], values: dict[str, str]) -> str:
    return _pick(rng, pool, values) if rng.random() < chance else ""


def _join(parts: list[str]) -> str:
    return " ".join(p for p in parts if p)


def _letter(opening: str, body: list[str], closing: str) -> str:
    """A message laid out like one: greeting and sign-off on lines of their own."""
    return "\n".join(p for p in (opening, _join(body), closing) if p)


# ----------------------------------------------------------------------------------------------
# Complaints and service messages
# ----------------------------------------------------------------------------------------------

OPENINGS = {
    "en": ["Hello,", "Hi,", "Dear Noordwind team,", "Good afternoon,", "To whom it may concern,",
           "Hi there,", "Dear customer service,", "Hello Noordwind,"],
    "nl": ["Beste Noordwind,", "Hallo,", "Goedemiddag,", "Geachte heer/mevrouw,", "Hoi,",
           "Goedendag,", "Beste klantenservice,", "Goedemorgen,"],
    "pl": ["Dzień dobry,", "Witam,", "Szanowni Państwo,", "Dzień dobry Państwu,", "Cześć,",
           "Dobry wieczór,", "Szanowne Biuro Obsługi Klienta,"],
}  # fmt: skip

CONTEXTS = {
    "en": [
        "On {date} I ordered {p_the} (order {order}).",
        "I bought {p_a} from you, order number {order}.",
        "This is about order {order}: {p_the}.",
        "I'm writing about my order {order}.",
        "I placed an order for {p_the} on {date}.",
        "Order {order}, placed on {date}, {p_the}.",
    ],
    "nl": [
        "Op {date} heb ik {p_the} besteld (ordernummer {order}).",
        "Ik heb bij jullie {p_a} gekocht, bestelnummer {order}.",
        "Het gaat om bestelling {order}: {p_the}.",
        "Ik mail over mijn bestelling {order}.",
        "Op {date} bestelde ik {p_the}.",
        "Bestelling {order} van {date}, {p_the}.",
    ],
    "pl": [
        "{date} zamówił{em} w Waszym sklepie {p_acc} (zamówienie {order}).",
        "Kupił{em} u Was {p_acc}, numer zamówienia {order}.",
        "Piszę w sprawie zamówienia {order} ({p_nom}).",
        "Chodzi o zamówienie nr {order} złożone {date}.",
        "Zamówienie {order}: {p_nom}.",
        "{date} złożył{em} zamówienie na {p_acc}.",
    ],
}

ISSUES = {
    "en": {
        "late_delivery": [
            "Delivery was promised for {promised}, but {p_my} still hasn't arrived.",
            "It is now {days} days past the promised delivery date and I have received nothing.",
            "The delivery has been moved twice without anyone letting me know.",
            "The tracking page has been saying 'delayed' for days.",
            "I have been waiting {days} days longer than promised for {p_the}.",
            "You promised delivery on {promised}. Nothing came, no call, no email.",
        ],
        "damaged": [
            "{p_my} arrived damaged, the box was completely crushed.",
            "The packaging was soaked and {p_the} is damaged.",
            "When I unpacked {p_the} it was broken.",
            "{p_the} arrived with a crack in it.",
        ],
        "damaged_bulky": [
            "When we unpacked {p_the} there was a big scratch across the top.",
            "{p_my} arrived with a dent on one side and a torn box.",
            "One of the legs was snapped off when it arrived.",
            "The delivery men dropped it on the stairs and now there's a crack in it.",
        ],
        "missing_parts": [
            "The bag of screws is missing, so I can't assemble {p_the}.",
            "Two of the panels are missing from the box.",
            "Halfway through assembly I found out part C isn't in the box.",
            "The assembly instructions mention six bolts, there were only four.",
        ],
        "defect": [
            "After only {days} weeks {p_my} has stopped working.",
            "{p_the} switches itself off after a couple of minutes.",
            "{p_my} makes a loud rattling noise since last week.",
            "The display of {p_the} stays black, whatever I try.",
            "{p_my} won't connect to the app anymore after the last update.",
        ],
        "wrong_item": [
            "I ordered {p_the} but received something else entirely.",
            "The colour I received is not the colour I ordered.",
            "The box said {model} but inside was a different model.",
            "I received the wrong size, not what I ordered.",
        ],
        "refund_slow": [
            "I returned {p_the} weeks ago and I still haven't had my refund.",
            "You confirmed the return on {date}, but the money isn't back yet.",
            "The courier picked up the return, since then: silence, no refund.",
            "Three weeks after returning {p_the} there's still no refund on my account.",
        ],
    },
    "nl": {
        "late_delivery": [
            "De levering was beloofd voor {promised}, maar {p_my} is er nog steeds niet.",
            "Het is nu al {days} dagen na de beloofde leverdatum en ik heb nog niets ontvangen.",
            "De bezorging is inmiddels twee keer verschoven zonder dat iemand iets liet weten.",
            "Volgens track & trace staat mijn bestelling al dagen op 'vertraagd'.",
            "Ik wacht al {days} dagen langer dan beloofd op {p_the}.",
            "Jullie beloofden levering op {promised}. Er kwam niemand, geen telefoontje, geen mail.",
        ],
        "damaged": [
            "{p_my} kwam beschadigd aan, de doos was helemaal ingedeukt.",
            "De verpakking was doorweekt en {p_the} is beschadigd.",
            "Bij het uitpakken bleek {p_the} kapot te zijn.",
            "Er zit een barst in {p_the}.",
        ],
        "damaged_bulky": [
            "Bij het uitpakken zat er een flinke kras over de bovenkant van {p_the}.",
            "{p_my} kwam binnen met een deuk aan de zijkant en een kapotte doos.",
            "Eén van de poten was afgebroken toen het geleverd werd.",
            "De bezorgers lieten het op de trap vallen en nu zit er een scheur in.",
        ],
        "missing_parts": [
            "Het zakje met schroeven ontbreekt, dus ik kan {p_the} niet in elkaar zetten.",
            "Er ontbreken twee panelen in de doos.",
            "Halverwege de montage bleek onderdeel C niet in de doos te zitten.",
            "In de handleiding staan zes bouten, er zaten er maar vier bij.",
        ],
        "defect": [
            "Na nog geen {days} weken doet {p_my} het al niet meer.",
            "{p_the} schakelt na een paar minuten vanzelf uit.",
            "Sinds vorige week maakt {p_my} een hard ratelend geluid.",
            "Het display van {p_the} blijft zwart, wat ik ook probeer.",
            "Sinds de laatste update maakt {p_my} geen verbinding meer met de app.",
        ],
        "wrong_item": [
            "Ik heb {p_the} besteld maar iets heel anders ontvangen.",
            "De kleur die ik kreeg is niet de kleur die ik besteld heb.",
            "Op de doos stond {model}, maar er zat een ander model in.",
            "Ik heb de verkeerde maat gekregen.",
        ],
        "refund_slow": [
            "Ik heb {p_the} weken geleden teruggestuurd en nog steeds geen geld terug.",
            "Jullie bevestigden de retour op {date}, maar het bedrag is nog niet teruggestort.",
            "De koerier heeft de retour opgehaald en sindsdien hoor ik niets meer.",
            "Drie weken na het terugsturen van {p_the} staat er nog niets op mijn rekening.",
        ],
    },
    "pl": {
        "late_delivery": [
            "Dostawa miała być {promised}, a minęło już {days} dni i nadal nic.",
            "Nadal czekam na {p_acc}, mimo że termin dostawy minął {days} dni temu.",
            "Termin dostawy {p_gen} przesunięto już dwa razy i nikt mnie o tym nie poinformował.",
            "Status przesyłki od kilku dni pokazuje 'opóźnione'.",
            "Czekam już {days} dni dłużej, niż obiecaliście.",
            "Obiecaliście dostawę na {promised}. Nikt nie przyjechał, nikt nie zadzwonił.",
        ],
        "damaged": [
            "Paczka przyszła zgnieciona, a w środku wszystko uszkodzone.",
            "Karton był cały mokry, a zawartość jest uszkodzona.",
            "Po rozpakowaniu okazało się, że wszystko jest w kawałkach.",
            "Przesyłka dotarła pęknięta.",
        ],
        "damaged_bulky": [
            "Po rozpakowaniu okazało się, że na wierzchu jest głęboka rysa.",
            "Przesyłka przyszła z wgnieceniem z boku i w podartym kartonie.",
            "Jedna z nóżek była odłamana już przy dostawie.",
            "Kurierzy upuścili to na schodach i teraz jest pęknięcie.",
        ],
        "missing_parts": [
            "Brakuje woreczka ze śrubami, więc nie mogę złożyć {p_gen}.",
            "W kartonie brakuje dwóch paneli.",
            "W połowie montażu okazało się, że nie ma elementu C.",
            "W instrukcji jest sześć śrub, a w paczce były tylko cztery.",
        ],
        "defect": [
            "Po niecałych {days} tygodniach urządzenie przestało działać.",
            "Urządzenie wyłącza się samo po kilku minutach.",
            "Od zeszłego tygodnia urządzenie strasznie hałasuje.",
            "Wyświetlacz pozostaje czarny, cokolwiek zrobię.",
            "Po ostatniej aktualizacji nie da się połączyć {p_gen} z aplikacją.",
        ],
        "wrong_item": [
            "Zamówił{em} {p_acc}, a dostał{em} coś zupełnie innego.",
            "Kolor, który dostał{em}, jest inny niż zamówiony.",
            "Na kartonie było napisane {model}, a w środku inny model.",
            "Dostał{em} zły rozmiar.",
        ],
        "refund_slow": [
            "Kilka tygodni temu zwrócił{em} {p_acc} i nadal nie mam zwrotu pieniędzy.",
            "Potwierdziliście zwrot {date}, ale pieniądze wciąż nie wróciły na konto.",
            "Kurier odebrał zwrot i od tego czasu cisza.",
            "Trzy tygodnie po odesłaniu {p_gen} nadal nie ma pieniędzy na koncie.",
        ],
    },
}

DETAILS = {
    "en": {
        "late_delivery": [
            "I took a day off work specially to wait for it.",
            "Nobody told me it would be late.",
            "Your customer service line is almost impossible to get through to.",
            "In the chat I was told three different stories.",
            "We have guests coming this weekend and were counting on it.",
            "I waited at home all day for nothing.",
        ],
        "late_delivery_bulky": [
            "We already got rid of the old one, so the room is empty.",
            "The delivery slot was four hours long and nobody turned up.",
        ],
        "damaged": [
            "I have photos of the damage.",
            "The delivery men were in a hurry and left straight away.",
            "It was a present, so this is really embarrassing.",
            "I'd rather not assemble it like this.",
        ],
        "missing_parts": [
            "It's now half-built in the middle of the living room.",
            "I spent an evening on it for nothing.",
            "The box looked like it had been opened before.",
        ],
        "defect": [
            "I followed the manual to the letter.",
            "I've already tried resetting it twice.",
            "I use it every day, so this is a real problem.",
            "It's still well within the warranty.",
        ],
        "wrong_item": [
            "I double-checked the confirmation email, my order was correct.",
            "Now I have to wait all over again.",
        ],
        "refund_slow": [
            "I have the return receipt right here.",
            "It's quite a lot of money to be missing.",
            "Nobody answers my emails about it.",
        ],
    },
    "nl": {
        "late_delivery": [
            "Ik had er speciaal een dag vrij voor genomen.",
            "Niemand heeft me laten weten dat het later zou worden.",
            "De klantenservice is telefonisch nauwelijks bereikbaar.",
            "In de chat kreeg ik drie keer een ander verhaal.",
            "We krijgen dit weekend visite en hadden er echt op gerekend.",
            "Ik heb de hele dag voor niets thuis zitten wachten.",
        ],
        "late_delivery_bulky": [
            "De oude hebben we al weggedaan, dus de kamer is nu leeg.",
            "Het tijdvak was vier uur en er kwam niemand opdagen.",
        ],
        "damaged": [
            "Ik heb foto's van de schade gemaakt.",
            "De bezorgers hadden haast en waren zo weer weg.",
            "Het was een cadeau, dus dit is echt vervelend.",
            "Zo ga ik het niet in elkaar zetten.",
        ],
        "missing_parts": [
            "Het staat nu half af midden in de woonkamer.",
            "Ik ben er een hele avond voor niets mee bezig geweest.",
            "De doos zag eruit alsof hij al eerder geopend was.",
        ],
        "defect": [
            "Ik heb de handleiding precies gevolgd.",
            "Ik heb al twee keer een reset geprobeerd.",
            "Ik gebruik het elke dag, dus dit is echt een probleem.",
            "Het valt gewoon nog binnen de garantie.",
        ],
        "wrong_item": [
            "Ik heb de bevestigingsmail nagekeken, mijn bestelling was goed.",
            "Nu moet ik weer opnieuw wachten.",
        ],
        "refund_slow": [
            "Ik heb het retourbewijs gewoon hier liggen.",
            "Het gaat om best een groot bedrag.",
            "Op mijn mails hierover krijg ik geen antwoord.",
        ],
    },
    "pl": {
        "late_delivery": [
            "Specjalnie brał{em} dzień urlopu, żeby czekać na kuriera.",
            "Nikt mnie nie poinformował o opóźnieniu.",
            "Na infolinię nie da się dodzwonić.",
            "Na czacie za każdym razem słyszę co innego.",
            "W weekend przyjeżdżają goście i bardzo na to liczył{em}.",
            "Cały dzień czekał{em} w domu na próżno.",
        ],
        "late_delivery_bulky": [
            "Stare meble już oddaliśmy, więc pokój stoi pusty.",
            "Okno dostawy miało cztery godziny i nikt się nie pojawił.",
        ],
        "damaged": [
            "Mam zdjęcia uszkodzeń.",
            "Kurierzy bardzo się spieszyli i od razu odjechali.",
            "To miał być prezent, więc jest mi po prostu głupio.",
            "W takim stanie nie będę tego składać.",
        ],
        "missing_parts": [
            "Teraz wszystko stoi w połowie złożone na środku salonu.",
            "Stracił{em} na to cały wieczór.",
            "Karton wyglądał, jakby był już wcześniej otwierany.",
        ],
        "defect": [
            "Postępował{em} dokładnie według instrukcji.",
            "Dwa razy próbował{em} już resetu.",
            "Używam tego codziennie, więc to duży problem.",
            "Sprzęt jest jeszcze na gwarancji.",
        ],
        "wrong_item": [
            "Sprawdził{em} potwierdzenie zamówienia, wszystko było dobrze.",
            "Teraz znowu muszę czekać.",
        ],
        "refund_slow": [
            "Mam potwierdzenie nadania zwrotu.",
            "To nie jest mała kwota.",
            "Na moje maile w tej sprawie nikt nie odpowiada.",
        ],
    },
}

FEELINGS = {
    "en": ["Very disappointing.", "I'm really fed up with this.", "I expected better from you.",
           "What a hassle.", "This is no way to treat customers.", "Honestly, I'm furious.",
           "I'm not sure I'll order from you again.", "Really not good enough.",
           "Such a shame, because I used to be happy with your shop."],
    "nl": ["Erg teleurstellend.", "Ik ben hier echt klaar mee.", "Dit had ik niet van jullie verwacht.",
           "Wat een gedoe.", "Zo ga je toch niet met klanten om?", "Ik ben het zat.",
           "Eerlijk gezegd twijfel ik of ik hier nog iets bestel.", "Echt onder de maat.",
           "Jammer, want tot nu toe was ik altijd tevreden over jullie."],
    "pl": ["Jestem bardzo rozczarowan{y}.", "Mam już tego dość.",
           "Szczerze mówiąc, nie spodziewał{em} się tego po Waszej firmie.",
           "To jest po prostu niepoważne.", "Tak się nie traktuje klientów.",
           "Nie wiem, czy jeszcze kiedyś coś u Was zamówię.", "To jest poniżej wszelkiej krytyki.",
           "Szkoda, bo wcześniej był{em} zadowolon{y} z zakupów u Was."],
}  # fmt: skip

REQUESTS = {
    "en": {
        "late_delivery": [
            "Please give me a firm delivery date as soon as possible.",
            "I'd like the delivery costs refunded.",
            "If it isn't delivered this week, I'm cancelling the order.",
            "Please call me back on the number you have.",
            "I expect an answer within two working days.",
        ],
        "damaged": [
            "Please send a replacement or refund me.",
            "I'd like someone to come and collect it.",
            "How do we solve this?",
        ],
        "missing_parts": [
            "Please send the missing parts straight away.",
            "Can you send the parts or should I return everything?",
        ],
        "defect": [
            "I'd like a replacement under warranty.",
            "Please tell me how to send it in for repair.",
            "I want my money back.",
        ],
        "wrong_item": [
            "Please collect it and send what I actually ordered.",
            "I'd like the right one delivered this week.",
        ],
        "refund_slow": [
            "Please transfer the money this week.",
            "When exactly will I get my refund?",
        ],
    },
    "nl": {
        "late_delivery": [
            "Ik wil graag zo snel mogelijk een concrete leverdatum.",
            "Graag een vergoeding voor de bezorgkosten.",
            "Als het deze week niet geleverd wordt, annuleer ik de bestelling.",
            "Bel me alsjeblieft terug op het bekende nummer.",
            "Ik verwacht binnen twee werkdagen een reactie.",
        ],
        "damaged": [
            "Graag een vervangend exemplaar of mijn geld terug.",
            "Kan iemand het komen ophalen?",
            "Hoe lossen we dit op?",
        ],
        "missing_parts": [
            "Stuur de ontbrekende onderdelen alsjeblieft meteen op.",
            "Kunnen jullie de onderdelen nasturen of moet alles retour?",
        ],
        "defect": [
            "Ik wil graag een nieuw exemplaar onder garantie.",
            "Hoe kan ik het opsturen voor reparatie?",
            "Ik wil mijn geld terug.",
        ],
        "wrong_item": [
            "Graag ophalen en alsnog leveren wat ik besteld heb.",
            "Ik wil het juiste exemplaar nog deze week ontvangen.",
        ],
        "refund_slow": [
            "Graag het bedrag deze week nog overmaken.",
            "Wanneer krijg ik mijn geld precies terug?",
        ],
    },
    "pl": {
        "late_delivery": [
            "Proszę o pilny kontakt i podanie konkretnego terminu.",
            "Oczekuję zwrotu kosztów dostawy.",
            "Jeśli dostawa nie dotrze w tym tygodniu, anuluję zamówienie.",
            "Proszę o informację, kiedy realnie mogę się spodziewać dostawy.",
            "Oczekuję odpowiedzi w ciągu dwóch dni roboczych.",
        ],
        "damaged": [
            "Proszę o wymianę albo zwrot pieniędzy.",
            "Proszę o odbiór uszkodzonego towaru.",
            "Jak możemy to rozwiązać?",
        ],
        "missing_parts": [
            "Proszę o pilne dosłanie brakujących części.",
            "Czy możecie dosłać części, czy mam odesłać całość?",
        ],
        "defect": [
            "Proszę o wymianę w ramach gwarancji.",
            "Jak mogę odesłać sprzęt do naprawy?",
            "Chcę odzyskać pieniądze.",
        ],
        "wrong_item": [
            "Proszę odebrać przesyłkę i wysłać to, co zamówił{em}.",
            "Chcę dostać właściwy towar jeszcze w tym tygodniu.",
        ],
        "refund_slow": [
            "Proszę o przelew jeszcze w tym tygodniu.",
            "Kiedy dokładnie dostanę zwrot?",
        ],
    },
}

CLOSINGS = {
    "en": ["Kind regards,\n{name}", "Thanks,\n{name}", "Regards,\n{name}", "{name}",
           "Thanks in advance.", "Best wishes,\n{name}", "Cheers,\n{name}"],
    "nl": ["Met vriendelijke groet,\n{name}", "Groetjes,\n{name}", "Mvg,\n{name}", "{name}",
           "Alvast bedankt.", "Groet,\n{name}"],
    "pl": ["Pozdrawiam,\n{name}", "Z poważaniem,\n{name}", "{name}", "Z góry dziękuję.",
           "Czekam na odpowiedź.", "Pozdrawiam serdecznie,\n{name}"],
}  # fmt: skip

QUESTIONS = {
    "en": {
        "where_is_order": ["Where is my order {order}? It was due on {promised}.",
                           "Can you tell me when order {order} will arrive?",
                           "Any news on {p_the}? The tracking hasn't changed for days."],
        "delivery_change": ["Can I still change the delivery date for order {order}?",
                            "I won't be home on the delivery day, can we move it?",
                            "Is it possible to have {p_the} delivered to a different address?"],
        "invoice": ["Could you send me an invoice for order {order} with our VAT number?",
                    "I need a copy of the invoice for {p_the}.",
                    "The company name on my invoice is wrong, can you fix it?"],
        "stock": ["Do you have {p_the} in grey as well?",
                  "When will {p_the} be back in stock?",
                  "Is {p_the} available in your store or only online?"],
        "warranty": ["How long is the warranty on {p_the}?",
                     "Does the extended warranty also cover accidental damage?"],
        "assembly_help": ["I'm stuck at step 7 of the instructions for {p_the}, any tips?",
                          "Is there a video that shows how to assemble {p_the}?"],
        "return_request": ["I'd like to return {p_the}, it doesn't fit in our room.",
                           "How do I return {p_the}? The colour doesn't work in our home."],
    },
    "nl": {
        "where_is_order": ["Waar blijft mijn bestelling {order}? Die zou op {promised} komen.",
                           "Kunnen jullie zeggen wanneer bestelling {order} geleverd wordt?",
                           "Is er nieuws over {p_the}? De track & trace verandert al dagen niet."],
        "delivery_change": ["Kan ik de leverdatum van bestelling {order} nog wijzigen?",
                            "Ik ben op de bezorgdag niet thuis, kan het een dag later?",
                            "Kan {p_the} op een ander adres bezorgd worden?"],
        "invoice": ["Kunnen jullie een factuur sturen voor bestelling {order} met ons btw-nummer?",
                    "Ik heb een kopie van de factuur nodig voor {p_the}.",
                    "De bedrijfsnaam op mijn factuur klopt niet, kan dat aangepast worden?"],
        "stock": ["Hebben jullie {p_the} ook in het grijs?",
                  "Wanneer is {p_the} weer op voorraad?",
                  "Ligt {p_the} ook in de winkel of alleen online?"],
        "warranty": ["Hoe lang is de garantie op {p_the}?",
                     "Valt schade door een ongelukje ook onder de verlengde garantie?"],
        "assembly_help": ["Ik kom niet verder dan stap 7 van de handleiding van {p_the}, tips?",
                          "Is er een filmpje waarin je ziet hoe je {p_the} in elkaar zet?"],
        "return_request": ["Ik wil {p_the} graag retourneren, het past niet in onze kamer.",
                           "Hoe kan ik {p_the} terugsturen? De kleur valt tegen bij ons thuis."],
    },
    "pl": {
        "where_is_order": ["Gdzie jest moje zamówienie {order}? Miało być {promised}.",
                           "Kiedy dotrze zamówienie {order}?",
                           "Czy coś wiadomo w sprawie {p_gen}? Śledzenie od dni się nie zmienia."],
        "delivery_change": ["Czy mogę jeszcze zmienić termin dostawy zamówienia {order}?",
                            "Nie będzie mnie w domu w dniu dostawy, czy można to przesunąć?",
                            "Czy można dostarczyć {p_acc} na inny adres?"],
        "invoice": ["Proszę o fakturę VAT do zamówienia {order} na firmę.",
                    "Potrzebuję kopii faktury za {p_acc}.",
                    "Na fakturze jest błędna nazwa firmy, czy można to poprawić?"],
        "stock": ["Czy macie {p_acc} także w kolorze szarym?",
                  "Kiedy będzie można znowu zamówić {p_acc}?",
                  "Czy {p_acc} można kupić w sklepie stacjonarnym?"],
        "warranty": ["Jak długa jest gwarancja na {p_acc}?",
                     "Czy rozszerzona gwarancja obejmuje też przypadkowe uszkodzenia?"],
        "assembly_help": ["Nie mogę przejść kroku 7 instrukcji montażu, jakieś wskazówki?",
                          "Czy jest film pokazujący, jak złożyć {p_acc}?"],
        "return_request": ["Chciał{bym} zwrócić {p_acc}, nie pasuje do naszego pokoju.",
                           "Jak mogę odesłać {p_acc}? Kolor nie pasuje do wnętrza."],
    },
}  # fmt: skip

CHAT_GREETINGS = {
    "en": ["Hi!", "Hello!", "Hey!", "Hi there!", "", ""],
    "nl": ["Hoi!", "Hallo!", "Hey!", "Goedemiddag!", "", ""],
    "pl": ["Dzień dobry!", "Cześć!", "Witam!", "Hej!", "", ""],
}
CHAT_THANKS = {
    "en": ["Thanks!", "Thanks in advance", "Cheers", "", ""],
    "nl": ["Dank je!", "Alvast bedankt", "Thx", "", ""],
    "pl": ["Dziękuję!", "Z góry dzięki", "Dzięki", "", ""],
}


def write_complaint(
    rng: random.Random,
    writer: Writer,
    product: CatalogItem,
    *,
    reason: str,
    order_ref: str,
    ordered_on: date,
    promised_on: date | None = None,
    days_late: int = 0,
) -> str:
    """A written complaint (email or contact form) about something that went wrong."""
    lang = writer.language
    values = _context(
        rng, writer, product, order_ref=order_ref, ordered_on=ordered_on,
        promised_on=promised_on or ordered_on, days_late=days_late,
    )  # fmt: skip
    details = _pool(DETAILS[lang], reason, product)
    extra = rng.sample(details, k=min(len(details), rng.choice((0, 1, 1, 2))))
    return _letter(
        _maybe(rng, 0.7, OPENINGS[lang], values),
        [
            _maybe(rng, 0.8, CONTEXTS[lang], values),
            _pick(rng, _pool(ISSUES[lang], reason, product), values),
            *(_sentence(d, values) for d in extra),
            _maybe(rng, 0.6, FEELINGS[lang], values),
            _maybe(rng, 0.85, REQUESTS[lang][reason], values),
        ],
        _maybe(rng, 0.55, CLOSINGS[lang], values),
    )


def write_question(
    rng: random.Random,
    writer: Writer,
    product: CatalogItem,
    *,
    reason: str,
    order_ref: str,
    promised_on: date | None = None,
    chat: bool = False,
) -> str:
    """A neutral service question; as a chat it is shorter and more casual."""
    lang = writer.language
    values = _context(rng, writer, product, order_ref=order_ref, promised_on=promised_on)
    if chat:
        return _join(
            [
                _pick(rng, CHAT_GREETINGS[lang], values),
                _pick(rng, QUESTIONS[lang][reason], values),
                _pick(rng, CHAT_THANKS[lang], values),
            ]
        )
    return _letter(
        _maybe(rng, 0.75, OPENINGS[lang], values),
        [_pick(rng, QUESTIONS[lang][reason], values)],
        _maybe(rng, 0.6, CLOSINGS[lang], values),
    )


def write_chat_complaint(
    rng: random.Random,
    writer: Writer,
    product: CatalogItem,
    *,
    reason: str,
    order_ref: str,
    promised_on: date | None = None,
    days_late: int = 0,
) -> str:
    """The first message of a chat about a problem: short, no letter formalities."""
    lang = writer.language
    values = _context(
        rng, writer, product, order_ref=order_ref, promised_on=promised_on, days_late=days_late
    )
    return _join(
        [
            _pick(rng, CHAT_GREETINGS[lang], values),
            _pick(rng, _pool(ISSUES[lang], reason, product), values),
            _maybe(rng, 0.35, FEELINGS[lang], values),
            _maybe(rng, 0.5, REQUESTS[lang][reason], values),
        ]
    )


# ----------------------------------------------------------------------------------------------
# Social media
# ----------------------------------------------------------------------------------------------

SOCIAL = {
    "en": {
        "late_delivery": [
            "@noordwind day {days} of waiting for {p_my}. Any news? 🙄",
            "Still no {noun}. Still no answer. Great service @noordwind 👏",
            "@noordwind your tracking page has said 'delayed' for a week now. Seriously?",
            "Took a day off for the {noun} delivery from @noordwind. Nobody came. Again.",
            "Ordered {p_the} from @noordwind, promised for {promised}. It's {days} days later… #notimpressed",
            "Hey @noordwind, is {p_my} coming by boat? {days} days late and counting",
            "@noordwind I've now spent more time chasing my {noun} than I'll spend sitting on it 😤",
            "Three calls, two chats, zero {noun}. Well done @noordwind",
        ],
        "damaged": [
            "@noordwind {p_my} arrived scratched and dented. Not what you expect for that price 😞",
            "Unboxing my {noun} from @noordwind: broken. Lovely start to the weekend.",
        ],
        "defect": [
            "@noordwind {p_my} died after a few weeks. Warranty claim incoming…",
            "Anyone else's {model} {noun} from @noordwind switching itself off? Mine does 🙃",
        ],
        "praise": [
            "New {noun} from @noordwind just arrived and it looks amazing 😍 #newhome",
            "Shout-out to the @noordwind delivery guys, quick and careful 👌",
            "Loving {p_my} from @noordwind! Best purchase this year.",
            "Can't stop using {p_my} 😄 thanks @noordwind",
            "The {model} {noun} from @noordwind fits our living room perfectly ✨",
            "Ordered Monday, delivered Wednesday, assembled in an hour. Nice one @noordwind",
        ],
    },
    "nl": {
        "late_delivery": [
            "@noordwind al {days} dagen wachten op {p_my}... 😤",
            "Nog steeds geen {noun}. Nog steeds geen antwoord. Top service @noordwind 👏",
            "@noordwind track & trace zegt al een week 'vertraagd'. Serieus?",
            "Dag vrij genomen voor de levering van @noordwind. Niemand gekomen. Weer niet.",
            "{p_the} besteld bij @noordwind, beloofd voor {promised}. Nu {days} dagen later… #klantonvriendelijk",
            "Hé @noordwind, komt {p_my} per roeiboot? Al {days} dagen te laat",
            "Drie keer gebeld, twee keer gechat, nul {noun}. Goed bezig @noordwind",
            "@noordwind wanneer komt mijn {noun} nou eindelijk? Niemand kan het me vertellen 🙄",
        ],
        "damaged": [
            "@noordwind {p_my} kwam binnen met krassen en een deuk. Niet wat je verwacht voor die prijs 😞",
            "{p_my} van @noordwind uitgepakt: meteen kapot. Lekker begin van het weekend.",
        ],
        "defect": [
            "@noordwind {p_my} is na een paar weken al stuk. Garantieclaim dan maar…",
            "Iemand anders ook een {model} {noun} van @noordwind die zichzelf uitzet? 🙃",
        ],
        "praise": [
            "Nieuwe {noun} van @noordwind staat erin, wat een verschil! 😍 #nieuwhuis",
            "Complimenten voor de bezorgers van @noordwind, snel en netjes 👌",
            "Zo blij met {p_my} van @noordwind! Beste aankoop van het jaar.",
            "Ik gebruik {p_my} elke dag 😄 dank je @noordwind",
            "{p_the} van @noordwind past perfect in onze woonkamer ✨",
            "Maandag besteld, woensdag geleverd, binnen een uur in elkaar. Netjes @noordwind",
        ],
    },
    "pl": {
        "late_delivery": [
            "@noordwind to już {days} dni czekania na {p_acc}... 😡",
            "Dalej brak dostawy i brak odpowiedzi. Super obsługa @noordwind 👏",
            "@noordwind śledzenie przesyłki od tygodnia pokazuje 'opóźnione'. Serio?",
            "Brał{em} wolne w pracy na dostawę od @noordwind. Nikt nie przyjechał. Znowu.",
            "Zamówienie {p_gen} w @noordwind, dostawa miała być {promised}. Minęło {days} dni… #porażka",
            "Trzy telefony, dwa czaty i dalej brak dostawy. Gratuluję @noordwind",
            "@noordwind kiedy w końcu dostanę {p_acc}? Nikt nie potrafi mi odpowiedzieć 🙄",
            "Hej @noordwind, {p_nom} płynie statkiem? {days} dni spóźnienia i dalej nic",
        ],
        "damaged": [
            "@noordwind paczka przyszła porysowana i wgnieciona. Nie za taką cenę 😞",
            "Rozpakowanie {p_gen} od @noordwind: uszkodzone. Świetny początek weekendu.",
        ],
        "defect": [
            "@noordwind po kilku tygodniach {p_nom} do wyrzucenia. Czas na reklamację…",
            "Czy komuś jeszcze {model} od @noordwind sam się wyłącza? 🙃",
        ],
        "praise": [
            "Nowy zakup od @noordwind już stoi w salonie i wygląda świetnie 😍 #nowemieszkanie",
            "Brawa dla kurierów @noordwind, szybko i ostrożnie 👌",
            "Jestem zachwycon{y} zakupem w @noordwind! Najlepszy zakup w tym roku.",
            "Codziennie używam {p_gen} 😄 dzięki @noordwind",
            "Zamówione w poniedziałek, w środę już u nas. Brawo @noordwind ✨",
            "Nowy nabytek z @noordwind idealnie pasuje do salonu 😍",
        ],
    },
}


def write_social_mention(
    rng: random.Random,
    writer: Writer,
    product: CatalogItem,
    *,
    reason: str,
    promised_on: date | None = None,
    days_late: int = 0,
) -> str:
    """A public post that mentions the shop: a complaint in the open, or praise."""
    values = _context(rng, writer, product, promised_on=promised_on, days_late=days_late)
    return _pick(rng, SOCIAL[writer.language][reason], values)


# ----------------------------------------------------------------------------------------------
# Reviews
# ----------------------------------------------------------------------------------------------

REVIEW_OPENINGS = {
    "en": {
        5: ["Really happy with {p_the}!", "Exactly what we were looking for.", "Five stars from us.",
            "Lovely quality.", "Absolutely love it.", "Brilliant purchase."],
        4: ["Very pleased overall.", "Good {noun}, happy with it.", "Nice quality for the money.",
            "Almost perfect."],
        3: ["Decent {noun} for the price.", "It's okay.", "Mixed feelings.", "Does the job."],
        2: ["Not what I hoped for.", "Disappointed.", "Meh."],
        1: ["Very disappointed.", "Would not buy again.", "Terrible experience.", "Avoid."],
    },
    "nl": {
        5: ["Super tevreden met {p_the}!", "Precies wat we zochten.", "Vijf sterren van ons.",
            "Mooie kwaliteit.", "Echt een aanrader.", "Top aankoop."],
        4: ["Al met al erg tevreden.", "Goede {noun}, blij mee.", "Mooie kwaliteit voor het geld.",
            "Bijna perfect."],
        3: ["Prima {noun} voor de prijs.", "Het is oké.", "Gemengde gevoelens.", "Doet wat het moet doen."],
        2: ["Niet wat ik ervan verwachtte.", "Valt tegen.", "Matig."],
        1: ["Heel erg teleurgesteld.", "Nooit meer.", "Slechte ervaring.", "Niet doen."],
    },
    "pl": {
        5: ["Jestem bardzo zadowolon{y} z zakupu!", "Dokładnie tego szukaliśmy.", "Pięć gwiazdek.",
            "Świetna jakość.", "Polecam z całego serca.", "Świetny zakup."],
        4: ["Ogólnie jestem zadowolon{y}.", "Dobry zakup.", "Dobra jakość za te pieniądze.",
            "Prawie idealnie."],
        3: ["W porządku za tę cenę.", "Jest ok.", "Mieszane uczucia.", "Spełnia swoje zadanie."],
        2: ["Nie tego się spodziewał{em}.", "Rozczarowanie.", "Słabo."],
        1: ["Ogromne rozczarowanie.", "Nigdy więcej.", "Fatalne doświadczenie.", "Odradzam."],
    },
}  # fmt: skip

# What people praise or criticise depends on what they bought.
QUALITY = {
    "en": {
        "seating": (["It's really comfortable and the fabric feels sturdy.",
                     "Firm without being hard, perfect for long evenings.",
                     "The colour is exactly as in the photos."],
                    ["The cushions already sag after a few weeks.",
                     "The fabric pills much faster than I expected.",
                     "Less comfortable than it looked in the store."]),
        "furniture": (["Solid build, nothing wobbles.", "The wood looks beautiful in real life.",
                       "Plenty of storage space and the drawers run smoothly."],
                      ["The drawers stick and the finish is uneven.",
                       "It wobbles, however much I tighten the screws.",
                       "The veneer is already chipping at the corners."]),
        "textiles": (["Soft, warm and it washes well.",
                      "The colour is lovely and it hasn't pilled after several washes."],
                     ["It shrank in the first wash.", "Feels much cheaper than in the photos."]),
        "decor": (["Gives a warm, cosy light.", "Looks even better in real life.",
                   "Fits our interior perfectly."],
                  ["Looks cheap up close.", "The colour is nothing like the website."]),
        "kitchen": (["Heavy, well made and heats evenly.", "Sharp and well balanced."],
                    ["The coating is already scratched.", "The handles get very hot."]),
        "appliances": (["Heats up quickly and is easy to clean.",
                        "Quieter than our old one and does exactly what it promises.",
                        "So easy to use that even the kids manage."],
                       ["Very noisy.", "Stopped working properly after a month.",
                        "The app keeps losing the connection."]),
        "electronics": (["Sound quality is better than expected.",
                         "Set up through the app in five minutes.", "Great picture, easy setup."],
                        ["Keeps dropping the wifi connection.",
                         "Sound is thin, not worth the money."]),
    },
    "nl": {
        "seating": (["Zit heerlijk en de stof voelt stevig aan.",
                     "Stevig maar niet hard, ideaal voor lange avonden.",
                     "De kleur is precies zoals op de foto's."],
                    ["De kussens zakken na een paar weken al in.",
                     "De stof pluist veel sneller dan verwacht.",
                     "Zit minder lekker dan in de winkel leek."]),
        "furniture": (["Stevig gebouwd, er wiebelt niets.", "Het hout is in het echt prachtig.",
                       "Veel opbergruimte en de lades lopen soepel."],
                      ["De lades lopen stroef en de afwerking is slordig.",
                       "Het wiebelt, hoe vast ik de schroeven ook draai.",
                       "Het fineer bladdert nu al af op de hoeken."]),
        "textiles": (["Zacht, warm en goed wasbaar.",
                      "Mooie kleur en na een paar wasbeurten nog geen pluisjes."],
                     ["Gekrompen na de eerste wasbeurt.",
                      "Voelt veel goedkoper aan dan op de foto's."]),
        "decor": (["Geeft een warm, gezellig licht.", "In het echt nog mooier.",
                   "Past perfect in ons interieur."],
                  ["Ziet er van dichtbij goedkoop uit.", "De kleur lijkt niet op die op de site."]),
        "kitchen": (["Zwaar, goed gemaakt en verdeelt de warmte mooi.", "Scherp en mooi in balans."],
                    ["De coating is nu al bekrast.", "De handvatten worden erg heet."]),
        "appliances": (["Wordt snel warm en is makkelijk schoon te maken.",
                        "Stiller dan onze oude en doet precies wat het belooft.",
                        "Zo makkelijk dat zelfs de kinderen het kunnen."],
                       ["Erg luidruchtig.", "Werkte na een maand al niet meer goed.",
                        "De app verliest steeds de verbinding."]),
        "electronics": (["Het geluid is beter dan verwacht.", "In vijf minuten ingesteld via de app.",
                         "Mooi beeld, makkelijk te installeren."],
                        ["Valt steeds van de wifi af.", "Dun geluid, het geld niet waard."]),
    },
    "pl": {
        "seating": (["Siedzi się bardzo wygodnie, a materiał jest solidny.",
                     "Ani za twardo, ani za miękko, idealnie na długie wieczory.",
                     "Kolor dokładnie taki jak na zdjęciach."],
                    ["Poduszki zapadły się już po kilku tygodniach.",
                     "Materiał mechaci się dużo szybciej, niż się spodziewał{em}.",
                     "Siedzi się mniej wygodnie niż w sklepie."]),
        "furniture": (["Solidne wykonanie, nic się nie chwieje.", "Drewno na żywo wygląda pięknie.",
                       "Dużo miejsca do przechowywania, szuflady chodzą gładko."],
                      ["Szuflady się zacinają, a wykończenie jest niestaranne.",
                       "Chwieje się, choć dokręcał{em} śruby kilka razy.",
                       "Okleina już odpryskuje na rogach."]),
        "textiles": (["Miękki, ciepły materiał, dobrze znosi pranie.",
                      "Piękny kolor, po kilku praniach nic się nie mechaci."],
                     ["Skurczyło się po pierwszym praniu.",
                      "W dotyku dużo gorsze niż na zdjęciach."]),
        "decor": (["Daje ciepłe, przytulne światło.", "Na żywo wygląda jeszcze lepiej.",
                   "Idealnie pasuje do naszego wnętrza."],
                  ["Z bliska wygląda tandetnie.", "Kolor zupełnie inny niż na stronie."]),
        "kitchen": (["Solidne wykonanie, równo rozprowadza ciepło.", "Ostre i dobrze wyważone."],
                    ["Powłoka już jest porysowana.", "Uchwyty bardzo się nagrzewają."]),
        "appliances": (["Szybko się nagrzewa i łatwo się czyści.",
                        "Cichsze niż nasze poprzednie i robi dokładnie to, co obiecano.",
                        "Tak proste w obsłudze, że nawet dzieci sobie radzą."],
                       ["Bardzo głośne.", "Po miesiącu przestało dobrze działać.",
                        "Aplikacja ciągle traci połączenie."]),
        "electronics": (["Dźwięk lepszy, niż się spodziewał{em}.",
                         "Konfiguracja w aplikacji zajęła pięć minut.",
                         "Świetny obraz, łatwa instalacja."],
                        ["Ciągle gubi połączenie z wifi.", "Płaski dźwięk, nie jest wart tej ceny."]),
    },
}  # fmt: skip

DELIVERY_REMARKS = {
    "en": {
        "on_time": ["Delivered on the agreed day and the drivers were friendly.",
                    "Arrived a day early and well packed.", "Delivery was quick and smooth.",
                    "The delivery team even took the packaging away."],
        "late": ["Shame about the delivery though: it came {days} days late and nobody told us.",
                 "The delivery was a disaster, {days} days late after endless phone calls.",
                 "Took {days} days longer than promised to arrive.",
                 "Delivery was promised for {promised} and came much later."],
    },
    "nl": {
        "on_time": ["Op de afgesproken dag geleverd en de bezorgers waren vriendelijk.",
                    "Een dag eerder binnen en goed verpakt.", "Levering ging snel en soepel.",
                    "De bezorgers namen zelfs het verpakkingsmateriaal mee."],
        "late": ["Jammer van de levering: {days} dagen te laat en niemand liet iets weten.",
                 "De levering was een drama, {days} dagen te laat na eindeloos bellen.",
                 "Kwam {days} dagen later dan beloofd.",
                 "Levering was beloofd voor {promised} en kwam veel later."],
    },
    "pl": {
        "on_time": ["Dostawa w umówionym dniu, kurierzy bardzo mili.",
                    "Przyszło dzień wcześniej, dobrze zapakowane.", "Dostawa szybka i bez problemów.",
                    "Kurierzy nawet zabrali kartony."],
        "late": ["Szkoda tylko dostawy: {days} dni spóźnienia i zero informacji.",
                 "Dostawa to porażka, {days} dni spóźnienia i niekończące się telefony.",
                 "Dotarło {days} dni później, niż obiecano.",
                 "Dostawa miała być {promised}, a przyszła dużo później."],
    },
}  # fmt: skip

REVIEW_ENDINGS = {
    "en": {
        "good": ["Would recommend!", "We'll definitely order again.", "Worth every penny.",
                 "Already eyeing the matching pieces."],
        "bad": ["Not ordering here again.", "I expected more from Noordwind.",
                "Customer service was friendly, but that doesn't fix this."],
    },
    "nl": {
        "good": ["Aanrader!", "Wij bestellen hier zeker weer.", "Elke euro waard.",
                 "We kijken al naar de bijpassende spullen."],
        "bad": ["Hier bestel ik niet meer.", "Ik had meer verwacht van Noordwind.",
                "De klantenservice was vriendelijk, maar dat lost dit niet op."],
    },
    "pl": {
        "good": ["Polecam!", "Na pewno jeszcze coś zamówimy.", "Warte swojej ceny.",
                 "Już patrzymy na pasujące dodatki."],
        "bad": ["Więcej tu nie zamówię.", "Spodziewał{em} się więcej po Noordwind.",
                "Obsługa klienta była miła, ale to nie rozwiązuje problemu."],
    },
}  # fmt: skip


# How a reviewer turns to the downside; the complaint that follows starts lower-case.
BUT = {
    "en": ["Only downside: ", "But ", "One thing though: ", "Minor point: "],
    "nl": ["Enige minpunt: ", "Maar ", "Nadeel: ", "Klein puntje: "],
    "pl": ["Jedyny minus: ", "Ale ", "Minus: ", "Mała uwaga: "],
}


def _quality_group(product: CatalogItem) -> str:
    if product.category in SEATING:
        return "seating"
    if product.category in {"tables", "beds", "storage", "office"}:
        return "furniture"
    if product.category in {"lighting", "decor"}:
        return "decor"
    return product.category


def write_review(
    rng: random.Random,
    writer: Writer,
    product: CatalogItem,
    *,
    rating: int,
    delivered_late: bool,
    days_late: int = 0,
    promised_on: date | None = None,
) -> str:
    """A product review whose tone follows the rating and what happened with the delivery."""
    lang = writer.language
    values = _context(rng, writer, product, promised_on=promised_on, days_late=days_late)
    good, bad = QUALITY[lang][_quality_group(product)]
    if rating >= 4:
        quality = rng.sample(good, k=rng.choice((1, 1, 2)))
    elif rating == 3:
        quality = [rng.choice(good)]
        if rng.random() < 0.6:
            downside = rng.choice(bad)
            quality.append(rng.choice(BUT[lang]) + downside[:1].lower() + downside[1:])
    else:
        # An unhappy reviewer may still like the product and be angry about the delivery only.
        quality = [rng.choice(good if delivered_late and rng.random() < 0.4 else bad)]
    delivery = ""
    if delivered_late:
        delivery = _pick(rng, DELIVERY_REMARKS[lang]["late"], values)
    elif rating >= 3 and rng.random() < 0.35:
        delivery = _pick(rng, DELIVERY_REMARKS[lang]["on_time"], values)
    ending = ""
    if rating >= 4 and rng.random() < 0.55:
        ending = _pick(rng, REVIEW_ENDINGS[lang]["good"], values)
    elif rating <= 2 and rng.random() < 0.6:
        ending = _pick(rng, REVIEW_ENDINGS[lang]["bad"], values)
    body = [_sentence(q, values) for q in quality]
    # Many reviewers lead with the delivery story, not the product.
    body = [delivery, *body] if rng.random() < 0.5 else [*body, delivery]
    return _join([_pick(rng, REVIEW_OPENINGS[lang][rating], values), *body, ending])


# ----------------------------------------------------------------------------------------------
# Survey answers: the "why?" of a score and, for detractors, "what went wrong"
# ----------------------------------------------------------------------------------------------

# Where the customer waited, by the touchpoint of the service contact.
WAITED_VIA = {
    "en": {"live-chat": "in the chat", "service-phone": "on the phone",
           "complaints-desk": "for a reply", "contact-form": "for a reply"},
    "nl": {"live-chat": "in de chat", "service-phone": "aan de telefoon",
           "complaints-desk": "op een antwoord", "contact-form": "op een antwoord"},
    "pl": {"live-chat": "na czacie", "service-phone": "na linii",
           "complaints-desk": "na odpowiedź", "contact-form": "na odpowiedź"},
}  # fmt: skip

SURVEY_WHY = {
    "en": {
        "delivery_on_time": {
            "good": ["Delivered on the day you promised and the drivers were really friendly.",
                     "{p_the} arrived exactly when you said it would.",
                     "Smooth from ordering to delivery.", "Quick delivery, everything well packed.",
                     "Clear updates about the delivery time, no waiting around.",
                     "Easy ordering and fast delivery, exactly as promised."],
            "mid": ["Delivery was fine, nothing special.",
                    "Arrived on time, but the delivery window was very wide.",
                    "Good service, but your prices could be a bit lower.",
                    "All fine, although the tracking updates were a bit vague.",
                    "OK, but I had to stay home the whole day for {p_the}."],
            "bad": ["The delivery window was a whole day and nobody called ahead.",
                    "Far too expensive for what you get.",
                    "Nobody told me when it would come, I had to check the website myself."],
            # two-person home delivery only
            "good_bulky": ["The delivery team carried {p_my} in and took the packaging away."],
            "bad_bulky": ["The drivers left {p_my} in the hallway instead of bringing it in."],
        },
        "delivery_late": {
            "good": ["It came a bit later than planned, but you kept me informed.",
                     "A small delay, but the drivers were great and {p_the} is lovely."],
            "mid": ["Nice {noun}, but it came {days} days late.",
                    "Delivery took longer than promised.",
                    "Good product, but I had to chase the delivery."],
            "bad": ["{days} days late and nobody let me know.",
                    "I took a day off for the delivery and nothing came.",
                    "Promised for {promised}, delivered {days} days later.",
                    "I had to call twice to find out where {p_my} was.",
                    "The delivery was moved without any warning."],
        },
        "delivery_story": {
            "good": ["The wait was long, but {p_the} is worth it."],
            "mid": ["Lovely {noun}, but waiting {days} days longer than promised spoiled it.",
                    "Good price in the sale, but the delivery took forever."],
            "bad": ["The delivery of {p_the} was rescheduled twice. We sat on the floor for weeks.",
                    "Bought it in the sale, then waited {days} days longer than promised. "
                    "The discount isn't worth that.",
                    "Every time I asked I got a new date. Nobody could say when {p_the} would come.",
                    "We had already given away our old sofa. {days} days without a place to sit.",
                    "Don't advertise a sale if you can't deliver what you sell.",
                    "Promised for {promised}, and then one excuse after another."],
        },
        "delivery_problem": {
            "good": ["There was an issue, but it was sorted out quickly."],
            "mid": ["Delivery on time, but not everything was right."],
            "bad": ["Quality control before shipping seems to be missing.",
                    "I expected better from Noordwind."],
            "damaged": ["{p_the} arrived damaged.", "{p_my} came out of the box broken."],
            "wrong_item": ["You delivered the wrong item.", "That is not what I ordered."],
            "missing_parts": ["Parts were missing, so {p_the} is still in its boxes.",
                              "I could not assemble {p_the}: screws and a panel were missing."],
        },
        "service_question": {
            "good": ["{agent} was very helpful and sorted it out right away.",
                     "Quick answer and friendly help.", "Clear answer, no waiting.",
                     "{agent} understood my question straight away.",
                     "Helpful and polite, thank you {agent}!"],
            "mid": ["The answer was okay, but it took a while.",
                    "Friendly, but I had to explain everything twice.",
                    "Helpful in the end, after a long wait {via}."],
            "bad": ["Nobody could give me a straight answer.",
                    "I waited ages {via} and then got a standard reply.",
                    "The answer did not match my question at all."],
        },
        "service_complaint": {
            "good": ["{agent} took my complaint seriously and fixed it.",
                     "Problem solved quickly, with a small compensation. Fair.",
                     "{agent} kept me informed until it was sorted."],
            "mid": ["Friendly, but the problem is only half solved.",
                    "It took a long time, but {agent} did help in the end.",
                    "Kind people, but I had to wait {via} far too long."],
            "bad": ["Nobody could tell me anything concrete.",
                    "I was promised a call back that never came.",
                    "Friendly enough, but my problem is still not solved.",
                    "I waited ages {via} and was then passed on again.",
                    "A standard apology and nothing else."],
        },
        "checkout": {
            "good": ["Checkout was quick and easy.", "Paid in a minute, very smooth.",
                     "Everything on one page, no hassle.", "Found it, ordered it, done."],
            "mid": ["Fine, but I had to create an account first.",
                    "The delivery options were a bit unclear.",
                    "It worked, but the page was slow."],
            "bad": ["The payment page kept failing.", "My discount code did not work.",
                    "The address form on my phone was a pain to fill in."],
        },
        "relationship": {
            "good": ["Good quality furniture at fair prices.", "Nice stores and helpful staff.",
                     "Always delivered on time so far.",
                     "We furnished most of our home with Noordwind.",
                     "Great choice and the club discounts are nice."],
            "mid": ["Good products, but not cheap.", "Fine, although deliveries can take long.",
                    "Decent, but the website could be easier."],
            "bad": ["After the delivery mess last time, I doubt I'll order again.",
                    "Customer service never solves anything.",
                    "Prices went up, quality went down.",
                    "Too many delays and broken promises."],
        },
    },
    "nl": {
        "delivery_on_time": {
            "good": ["Op de beloofde dag geleverd en de bezorgers waren erg vriendelijk.",
                     "{p_the} kwam precies op het afgesproken moment.",
                     "Van bestellen tot bezorgen ging alles soepel.",
                     "Snelle levering, alles goed verpakt.",
                     "Duidelijke berichten over het tijdvak, geen gewacht.",
                     "Makkelijk besteld en snel geleverd, precies zoals beloofd."],
            "mid": ["Levering was prima, niets bijzonders.",
                    "Op tijd, maar het tijdvak was erg ruim.",
                    "Goede service, maar de prijzen mogen wat lager.",
                    "Alles goed, al waren de track & trace berichten wat vaag.",
                    "Prima, maar ik moest de hele dag thuisblijven voor {p_the}."],
            "bad": ["Het tijdvak was een hele dag en niemand belde vooraf.",
                    "Veel te duur voor wat je krijgt.",
                    "Niemand liet weten wanneer het kwam, ik moest zelf op de site kijken."],
            # two-person home delivery only
            "good_bulky": ["De bezorgers zetten {p_my} netjes binnen en namen het karton mee."],
            "bad_bulky": ["De bezorgers lieten {p_my} in de gang staan in plaats van het binnen te zetten."],
        },
        "delivery_late": {
            "good": ["Het kwam wat later dan gepland, maar jullie hielden me op de hoogte.",
                     "Kleine vertraging, maar de bezorgers waren top en {p_the} is prachtig."],
            "mid": ["Mooi product, maar wel {days} dagen te laat.",
                    "De levering duurde langer dan beloofd.",
                    "Goed product, maar ik moest zelf achter de levering aan."],
            "bad": ["{days} dagen te laat en niemand liet iets weten.",
                    "Ik had een dag vrij genomen voor de levering en er kwam niets.",
                    "Beloofd voor {promised}, {days} dagen later pas geleverd.",
                    "Ik moest twee keer bellen om te horen waar {p_my} bleef.",
                    "De levering werd zonder bericht verschoven."],
        },
        "delivery_story": {
            "good": ["Lang gewacht, maar {p_the} is het waard."],
            "mid": ["Mooie {noun}, maar {days} dagen extra wachten heeft het verpest.",
                    "Goede prijs in de sale, maar de levering duurde eindeloos."],
            "bad": ["De levering van {p_the} is twee keer verzet. Wekenlang zaten we op de grond.",
                    "In de sale gekocht en daarna {days} dagen langer gewacht dan beloofd. "
                    "Die korting is dat niet waard.",
                    "Elke keer als ik belde kreeg ik een nieuwe datum. Niemand wist wanneer "
                    "{p_the} zou komen.",
                    "Onze oude bank was al weg. {days} dagen zonder zitplek.",
                    "Adverteer geen sale als je niet kunt leveren wat je verkoopt.",
                    "Beloofd voor {promised}, daarna het ene excuus na het andere."],
        },
        "delivery_problem": {
            "good": ["Er ging iets mis, maar het werd snel opgelost."],
            "mid": ["Op tijd geleverd, maar niet alles klopte."],
            "bad": ["Er wordt blijkbaar niet gecontroleerd voordat iets de deur uit gaat.",
                    "Ik had meer verwacht van Noordwind."],
            "damaged": ["{p_the} kwam beschadigd aan.", "{p_my} kwam kapot uit de doos."],
            "wrong_item": ["Jullie hebben het verkeerde artikel geleverd.",
                           "Dit is niet wat ik besteld heb."],
            "missing_parts": ["Er ontbraken onderdelen, dus {p_the} staat nog in de dozen.",
                              "Ik kon {p_the} niet in elkaar zetten: er misten schroeven en een plaat."],
        },
        "service_question": {
            "good": ["{agent} was erg behulpzaam en regelde het meteen.",
                     "Snel antwoord en vriendelijke hulp.", "Duidelijk antwoord, geen wachttijd.",
                     "{agent} begreep mijn vraag meteen.",
                     "Behulpzaam en beleefd, dank je {agent}!"],
            "mid": ["Het antwoord was oké, maar het duurde even.",
                    "Vriendelijk, maar ik moest alles twee keer uitleggen.",
                    "Uiteindelijk geholpen, na lang wachten {via}."],
            "bad": ["Niemand kon me een duidelijk antwoord geven.",
                    "Ik moest lang wachten {via} en kreeg toen een standaardantwoord.",
                    "Het antwoord ging helemaal niet over mijn vraag."],
        },
        "service_complaint": {
            "good": ["{agent} nam mijn klacht serieus en loste het op.",
                     "Snel opgelost, met een kleine compensatie. Netjes.",
                     "{agent} hield me op de hoogte tot alles geregeld was."],
            "mid": ["Vriendelijk, maar het probleem is maar half opgelost.",
                    "Het duurde lang, maar {agent} heeft me uiteindelijk geholpen.",
                    "Aardige mensen, maar ik moest veel te lang wachten {via}."],
            "bad": ["Niemand kon me iets concreets vertellen.",
                    "Er zou worden teruggebeld, maar dat is nooit gebeurd.",
                    "Vriendelijk, maar mijn probleem is nog steeds niet opgelost.",
                    "Lang wachten {via} en daarna weer doorverbonden.",
                    "Een standaard excuus en verder niets."],
        },
        "checkout": {
            "good": ["Afrekenen ging snel en makkelijk.", "In een minuut betaald, heel soepel.",
                     "Alles op één pagina, geen gedoe.", "Gevonden, besteld, klaar."],
            "mid": ["Prima, maar ik moest eerst een account aanmaken.",
                    "De bezorgopties waren wat onduidelijk.",
                    "Het werkte, maar de pagina was traag."],
            "bad": ["De betaalpagina gaf steeds een foutmelding.",
                    "Mijn kortingscode werkte niet.",
                    "Het adresformulier op mijn telefoon invullen was een drama."],
        },
        "relationship": {
            "good": ["Goede kwaliteit meubels voor een eerlijke prijs.",
                     "Mooie winkels en behulpzaam personeel.", "Tot nu toe altijd op tijd geleverd.",
                     "Ons halve huis komt van Noordwind.",
                     "Ruime keuze en de clubkorting is fijn."],
            "mid": ["Goede producten, maar niet goedkoop.",
                    "Prima, al duren leveringen soms lang.",
                    "Redelijk, maar de website kan makkelijker."],
            "bad": ["Na het leveringsdrama van de vorige keer bestel ik hier niet snel meer.",
                    "De klantenservice lost nooit iets op.",
                    "Prijzen omhoog, kwaliteit omlaag.",
                    "Te veel vertraging en gebroken beloftes."],
        },
    },
    "pl": {
        "delivery_on_time": {
            "good": ["Dostawa w obiecanym dniu, kurierzy bardzo sympatyczni.",
                     "Dostawa {p_gen} dokładnie wtedy, kiedy obiecaliście.",
                     "Od zamówienia do dostawy wszystko bez problemów.",
                     "Szybka dostawa, wszystko dobrze zapakowane.",
                     "Jasne informacje o godzinie dostawy, bez czekania.",
                     "Łatwe zamówienie i szybka dostawa, tak jak obiecano."],
            "mid": ["Dostawa w porządku, nic szczególnego.",
                    "Na czas, ale okno dostawy było bardzo szerokie.",
                    "Dobra obsługa, ale ceny mogłyby być trochę niższe.",
                    "Wszystko ok, choć informacje o przesyłce były dość ogólne.",
                    "Ok, ale przez dostawę {p_gen} musiał{em} siedzieć w domu cały dzień."],
            "bad": ["Okno dostawy to cały dzień i nikt nie zadzwonił wcześniej.",
                    "Zdecydowanie za drogo jak na to, co się dostaje.",
                    "Nikt nie dał znać, kiedy będzie dostawa, musiał{em} sprawdzać na stronie."],
            # two-person home delivery only
            "good_bulky": ["Kurierzy wnieśli {p_acc} do mieszkania i zabrali kartony."],
            "bad_bulky": ["Kurierzy zostawili {p_acc} na klatce schodowej zamiast wnieść do środka."],
        },
        "delivery_late": {
            "good": ["Trochę później niż planowano, ale na bieżąco informowaliście.",
                     "Małe opóźnienie, ale kurierzy super, a sam produkt świetny."],
            "mid": ["Dobry zakup, ale dostawa {days} dni po terminie.",
                    "Dostawa trwała dłużej, niż obiecano.",
                    "Produkt dobry, ale o dostawę musiał{em} się dopominać."],
            "bad": ["{days} dni spóźnienia i zero informacji.",
                    "Na dostawę brał{em} dzień wolny i nikt nie przyjechał.",
                    "Dostawa miała być {promised}, a była {days} dni później.",
                    "Dwa razy dzwonił{em}, żeby dowiedzieć się, co z dostawą {p_gen}.",
                    "Termin dostawy przesunięto bez żadnej informacji."],
        },
        "delivery_story": {
            "good": ["Długo czekał{em}, ale było warto."],
            "mid": ["Ładna {noun}, ale {days} dni dodatkowego czekania wszystko zepsuło.",
                    "Dobra cena na wyprzedaży, ale dostawa trwała wieki."],
            "bad": ["Dostawę {p_gen} dwa razy przekładano. Tygodniami siedzieliśmy na podłodze.",
                    "Kupił{em} na wyprzedaży, a potem czekał{em} {days} dni dłużej, niż obiecano. "
                    "Ten rabat nie jest tego wart.",
                    "Za każdym razem dostawał{em} nowy termin. Nikt nie wiedział, kiedy "
                    "przyjedzie {p_nom}.",
                    "Starą kanapę już oddaliśmy. {days} dni bez miejsca do siedzenia.",
                    "Nie reklamujcie wyprzedaży, jeśli nie możecie dostarczyć towaru.",
                    "Dostawa miała być {promised}, a potem jedna wymówka za drugą."],
        },
        "delivery_problem": {
            "good": ["Był problem, ale szybko go rozwiązaliście."],
            "mid": ["Dostawa na czas, ale nie wszystko się zgadzało."],
            "bad": ["Chyba nikt nie sprawdza towaru przed wysyłką.",
                    "Spodziewał{em} się więcej po Noordwind."],
            "damaged": ["Dostał{em} uszkodzony towar: {p_nom}.",
                        "Po rozpakowaniu: uszkodzenia, rysy, pęknięcia."],
            "wrong_item": ["Przysłaliście zły produkt.", "To nie jest to, co zamówił{em}."],
            "missing_parts": ["Brakowało części, więc {p_nom} nadal stoi w kartonach.",
                              "Nie dało się złożyć {p_gen}: brakowało śrub i jednej płyty."],
        },
        "service_question": {
            "good": ["Konsultant{ka} {agent} od razu wszystko załatwił{agent_em}.",
                     "Szybka odpowiedź i miła pomoc.", "Konkretna odpowiedź, bez czekania.",
                     "Od razu zrozumiano, o co mi chodzi.", "Pomocnie i uprzejmie, dziękuję!"],
            "mid": ["Odpowiedź w porządku, ale trwało to dość długo.",
                    "Miło, ale wszystko musiał{em} tłumaczyć dwa razy.",
                    "W końcu pomogli, ale po długim czekaniu {via}."],
            "bad": ["Nikt nie potrafił udzielić jasnej odpowiedzi.",
                    "Długo czekał{em} {via}, a potem dostał{em} standardową formułkę.",
                    "Odpowiedź nie miała nic wspólnego z moim pytaniem."],
        },
        "service_complaint": {
            "good": ["Konsultant{ka} {agent} potraktował{agent_em} reklamację poważnie i "
                     "wszystko naprawił{agent_em}.",
                     "Szybko rozwiązane, do tego mała rekompensata. Uczciwie.",
                     "Informowano mnie na bieżąco aż do końca sprawy."],
            "mid": ["Miło, ale problem rozwiązany tylko w połowie.",
                    "Trwało to długo, ale w końcu mi pomogli.",
                    "Sympatyczni ludzie, ale zdecydowanie za długo czekał{em} {via}."],
            "bad": ["Nikt nie potrafił powiedzieć nic konkretnego.",
                    "Obiecano oddzwonić i nikt nie oddzwonił.",
                    "Uprzejmie, ale mój problem nadal nie jest rozwiązany.",
                    "Długo czekał{em} {via}, a potem znowu mnie przekierowano.",
                    "Standardowe przeprosiny i nic więcej."],
        },
        "checkout": {
            "good": ["Zakupy szybkie i proste.", "Płatność w minutę, bardzo sprawnie.",
                     "Wszystko na jednej stronie, bez kombinowania.",
                     "Znalazł{em}, zamówił{em}, gotowe."],
            "mid": ["W porządku, ale najpierw musiał{em} założyć konto.",
                    "Opcje dostawy były trochę niejasne.",
                    "Działało, ale strona się wolno ładowała."],
            "bad": ["Strona płatności ciągle wyrzucała błąd.", "Mój kod rabatowy nie działał.",
                    "Wypełnianie adresu na telefonie to koszmar."],
        },
        "relationship": {
            "good": ["Dobra jakość mebli za uczciwą cenę.", "Ładne sklepy i pomocna obsługa.",
                     "Do tej pory zawsze dostawa na czas.",
                     "Pół mieszkania urządziliśmy z Noordwind.",
                     "Duży wybór i fajne rabaty w klubie."],
            "mid": ["Dobre produkty, ale niezbyt tanie.",
                    "W porządku, choć na dostawy czasem długo się czeka.",
                    "Nieźle, ale strona mogłaby być prostsza."],
            "bad": ["Po ostatnim fiasku z dostawą raczej już nic u Was nie zamówię.",
                    "Obsługa klienta niczego nie rozwiązuje.",
                    "Ceny w górę, jakość w dół.",
                    "Za dużo opóźnień i niedotrzymanych obietnic."],
        },
    },
}  # fmt: skip

WHAT_WENT_WRONG = {
    "en": {
        "late": ["Tell people about a delay before the delivery day, not after.",
                 "Give a real new date instead of 'next week'.",
                 "A phone call when it's late would already help.",
                 "Make the tracking page show the truth.",
                 "Compensate customers who have to wait this long."],
        "story": ["Don't sell sofas in a sale you cannot deliver.",
                  "Check the stock before you run a campaign.",
                  "Offer a refund or a discount when you move the date twice."],
        "problem": ["Pack furniture properly.", "Check orders before they leave the warehouse.",
                    "Send the missing parts without making me call three times."],
        "service": ["Call back when you say you will.",
                    "Let agents actually solve things, such as a refund.",
                    "Read my message before answering.", "Shorter waiting times {via}."],
        "general": ["Lower your prices.", "A shorter delivery window.",
                    "Make the website easier to use."],
    },
    "nl": {
        "late": ["Meld een vertraging vóór de bezorgdag, niet erna.",
                 "Geef een echte nieuwe datum in plaats van 'volgende week'.",
                 "Een telefoontje bij vertraging zou al helpen.",
                 "Zorg dat de track & trace de waarheid vertelt.",
                 "Compenseer klanten die zo lang moeten wachten."],
        "story": ["Verkoop geen banken in een actie als je ze niet kunt leveren.",
                  "Controleer de voorraad voordat je een campagne start.",
                  "Bied korting of geld terug als je de datum twee keer verzet."],
        "problem": ["Verpak meubels beter.", "Controleer bestellingen voordat ze het magazijn uitgaan.",
                    "Stuur ontbrekende onderdelen zonder dat ik drie keer moet bellen."],
        "service": ["Bel terug als je dat belooft.",
                    "Laat medewerkers echt iets oplossen, zoals een terugbetaling.",
                    "Lees mijn bericht voordat je antwoordt.", "Kortere wachttijden {via}."],
        "general": ["Lagere prijzen.", "Een korter tijdvak voor de bezorging.",
                    "Maak de website makkelijker."],
    },
    "pl": {
        "late": ["Informujcie o opóźnieniu przed dniem dostawy, a nie po nim.",
                 "Podawajcie konkretny nowy termin zamiast „w przyszłym tygodniu”.",
                 "Wystarczyłby telefon, że dostawa się opóźni.",
                 "Niech strona śledzenia przesyłki pokazuje prawdę.",
                 "Rekompensata za tak długie czekanie to minimum."],
        "story": ["Nie sprzedawajcie kanap na wyprzedaży, jeśli nie możecie ich dostarczyć.",
                  "Sprawdźcie stany magazynowe przed kampanią.",
                  "Przy dwukrotnej zmianie terminu powinien być rabat albo zwrot pieniędzy."],
        "problem": ["Lepiej pakujcie meble.", "Sprawdzajcie zamówienia przed wysyłką.",
                    "Wyślijcie brakujące części bez trzech telefonów z mojej strony."],
        "service": ["Oddzwaniajcie, kiedy obiecujecie.",
                    "Pozwólcie konsultantom naprawdę coś załatwić, np. zwrot pieniędzy.",
                    "Przeczytajcie wiadomość, zanim odpowiecie.", "Krótsze czekanie {via}."],
        "general": ["Niższe ceny.", "Krótsze okno dostawy.", "Prostsza strona internetowa."],
    },
}  # fmt: skip

WHAT_WENT_WRONG_TOPIC = {
    "delivery_late": "late", "delivery_story": "story", "delivery_problem": "problem",
    "service_question": "service", "service_complaint": "service",
}  # fmt: skip


def _survey_values(
    rng: random.Random,
    writer: Writer,
    product: CatalogItem | None,
    *,
    days_late: int,
    promised_on: date | None,
    agent: str,
    via: str,
) -> dict[str, str]:
    lang = writer.language
    values = (
        _context(rng, writer, product, promised_on=promised_on, days_late=days_late)
        if product is not None and product.noun is not None
        else {
            "days": str(max(days_late, 2)),
            "promised": _date(promised_on, lang) if promised_on else "",
            "em": "am" if writer.gender == "f" else "em",
            "y": "a" if writer.gender == "f" else "y",
            "bym": "abym" if writer.gender == "f" else "bym",
        }
    )
    # Polish past verbs agree with the agent too ("załatwiła" / "załatwił").
    agent_female = agent.endswith("a")
    values |= {
        "agent": agent,
        "via": WAITED_VIA[lang].get(via, ""),
        "ka": "ka" if agent_female else "",
        "agent_em": "a" if agent_female else "",
    }
    return values


def write_survey_why(
    rng: random.Random,
    writer: Writer,
    *,
    about: str,
    band: str,
    product: CatalogItem | None = None,
    days_late: int = 0,
    promised_on: date | None = None,
    reason: str = "",
    agent: str = "",
    via: str = "",
) -> str:
    """The answer to "why this score?": its tone follows the band (good, mid, bad)."""
    lang = writer.language
    values = _survey_values(
        rng, writer, product, days_late=days_late, promised_on=promised_on, agent=agent, via=via
    )
    table = SURVEY_WHY[lang][about]
    pool = table[band] + (table.get(f"{band}_bulky", []) if product and product.bulky else [])
    if not agent:
        pool = [p for p in pool if "{agent}" not in p] or pool
    picked = rng.sample(pool, k=min(len(pool), rng.choice((1, 1, 2))))
    if band == "bad" and reason in table:
        picked = [rng.choice(table[reason]), *picked[:1]]  # the problem itself comes first
    parts = [_sentence(p, values) for p in picked]
    if product is not None and about.startswith("delivery") and rng.random() < 0.4:
        good, bad = QUALITY[lang][_quality_group(product)]
        if band != "bad":
            parts.append(_sentence(rng.choice(good), values))
        elif about == "delivery_on_time":
            parts.append(_sentence(rng.choice(bad), values))
    return _join(parts)


def write_what_went_wrong(
    rng: random.Random,
    writer: Writer,
    *,
    about: str,
    product: CatalogItem | None = None,
    reason: str = "",
    via: str = "",
) -> str:
    """A detractor's answer to "what went wrong, and what should we do better?"."""
    lang = writer.language
    values = _survey_values(rng, writer, product, days_late=0, promised_on=None, agent="", via=via)
    topic = WHAT_WENT_WRONG_TOPIC.get(about, "general")
    pool = WHAT_WENT_WRONG[lang][topic]
    picked = rng.sample(pool, k=min(len(pool), rng.choice((1, 1, 2))))
    if topic == "story" and rng.random() < 0.5:
        picked.append(rng.choice(WHAT_WENT_WRONG[lang]["late"]))
    return _join([_sentence(p, values) for p in picked])


# ----------------------------------------------------------------------------------------------
# The service desk's side: the bot's first answer and the agents' replies
# ----------------------------------------------------------------------------------------------
# {aem}: the Polish past-tense ending of the agent ("sprawdziłam" / "sprawdziłem").

BOT_HANDOFF = {
    "en": [
        "Hi, I'm Noordwind's assistant. I've noted your question and I'm passing you to a "
        "colleague from customer service, one moment please.",
        "Thanks for your message! A colleague will take over in a moment.",
    ],
    "nl": [
        "Hoi, ik ben de assistent van Noordwind. Ik heb je vraag genoteerd en zet je door naar "
        "een collega van de klantenservice, een moment geduld.",
        "Bedankt voor je bericht! Een collega neemt het zo van me over.",
    ],
    "pl": [
        "Dzień dobry, tu asystent Noordwind. Zanotowałem pytanie i przekazuję rozmowę "
        "konsultantowi, proszę chwilę poczekać.",
        "Dziękujemy za wiadomość! Za chwilę odpowie konsultant.",
    ],
}
AGENT_OPENINGS = {
    "en": ["Hi {name},", "Hello {name},", "Dear {name},"],
    "nl": ["Hoi {name},", "Hallo {name},", "Beste {name},"],
    "pl": ["Dzień dobry,", "Dzień dobry Pani/Panu,"],
}
AGENT_CLOSINGS = {
    "en": ["Kind regards, {agent} (Noordwind customer service)", "Best, {agent}"],
    "nl": ["Groeten, {agent} (klantenservice Noordwind)", "Met vriendelijke groet, {agent}"],
    "pl": ["Pozdrawiam, {agent} (obsługa klienta Noordwind)", "Serdecznie pozdrawiam, {agent}"],
}
AGENT_REPLIES = {
    "en": {
        "late_story": [
            "I'm sorry you are still waiting for {p_the}. Our supplier is behind with the Lento "
            "frames; order {order} has a new delivery date and the delivery team will call you "
            "the day before.",
        ],
        "late_delivery": [
            "I'm sorry {p_the} is late. I've checked order {order} with the carrier: it is "
            "delayed, and we expect it within a few days. I'll keep an eye on it for you.",
        ],
        "where_is_order": [
            "Order {order} is on its way; the carrier expects to deliver it within two working "
            "days. You'll get the track-and-trace link by email.",
        ],
        "delivery_change": [
            "No problem: I've moved the delivery of order {order} to the date you asked for.",
        ],
        "problem": [
            "I'm sorry about {p_the}. I've arranged a replacement at no cost; the carrier will "
            "contact you to plan the delivery.",
            "That shouldn't have happened. I've ordered the missing or broken part for {p_the} "
            "and it ships tomorrow.",
        ],
        "refund_slow": [
            "I've checked the refund for order {order}: it is approved and you will see it on "
            "your account within 3 working days.",
        ],
        "return_request": ["I've emailed you a free return label for order {order}."],
        "invoice": ["I've sent the invoice of order {order} to your email address."],
        "stock": ["The {noun} is expected back in stock in about two weeks."],
        "warranty": ["Your {noun} is covered by the 2-year warranty, so the repair is free."],
        "assembly_help": ["I've emailed you the assembly guide and video for {p_the}."],
    },
    "nl": {
        "late_story": [
            "Wat vervelend dat je nog steeds op {p_the} wacht. Onze leverancier loopt achter met "
            "de Lento-frames; bestelling {order} heeft een nieuwe leverdatum en het bezorgteam "
            "belt je de dag ervoor.",
        ],
        "late_delivery": [
            "Sorry dat {p_the} later komt. Ik heb bestelling {order} bij de vervoerder nagekeken: "
            "hij is vertraagd en we verwachten hem binnen een paar dagen. Ik houd het voor je in "
            "de gaten.",
        ],
        "where_is_order": [
            "Bestelling {order} is onderweg; de vervoerder verwacht hem binnen twee werkdagen te "
            "bezorgen. Je krijgt de track-and-trace-link per mail.",
        ],
        "delivery_change": ["Geen probleem: ik heb de levering van bestelling {order} verzet."],
        "problem": [
            "Wat vervelend van {p_the}. Ik heb kosteloos een vervanging geregeld; de vervoerder "
            "neemt contact met je op om de levering in te plannen.",
            "Dat had niet mogen gebeuren. Ik heb het ontbrekende of kapotte onderdeel voor "
            "{p_the} besteld, het wordt morgen verzonden.",
        ],
        "refund_slow": [
            "Ik heb de terugbetaling van bestelling {order} nagekeken: die is goedgekeurd en staat "
            "binnen 3 werkdagen op je rekening.",
        ],
        "return_request": ["Ik heb je een gratis retourlabel voor bestelling {order} gemaild."],
        "invoice": ["Ik heb de factuur van bestelling {order} naar je e-mailadres gestuurd."],
        "stock": ["De {noun} is naar verwachting over ongeveer twee weken weer op voorraad."],
        "warranty": ["Je {noun} valt onder de garantie van 2 jaar, de reparatie is gratis."],
        "assembly_help": ["Ik heb je de montagehandleiding en de video voor {p_the} gemaild."],
    },
    "pl": {
        "late_story": [
            "Przepraszamy, że nadal czeka Pan/Pani na {p_acc}. Nasz dostawca ma opóźnienia ze "
            "stelażami Lento; zamówienie {order} ma nowy termin dostawy, a ekipa zadzwoni dzień "
            "wcześniej.",
        ],
        "late_delivery": [
            "Przepraszamy za opóźnienie. Sprawdził{aem} zamówienie {order} u przewoźnika: "
            "przesyłka jest opóźniona, spodziewamy się jej w ciągu kilku dni.",
        ],
        "where_is_order": [
            "Zamówienie {order} jest w drodze; przewoźnik planuje doręczenie w ciągu dwóch dni "
            "roboczych. Link do śledzenia przyjdzie mailem.",
        ],
        "delivery_change": ["Nie ma problemu: zmienił{aem} termin dostawy zamówienia {order}."],
        "problem": [
            "Bardzo przepraszamy. Zorganizował{aem} bezpłatną wymianę; przewoźnik skontaktuje się, "
            "aby ustalić termin dostawy.",
            "To nie powinno się zdarzyć. Zamówił{aem} brakującą lub uszkodzoną część, wyślemy ją "
            "jutro.",
        ],
        "refund_slow": [
            "Sprawdził{aem} zwrot za zamówienie {order}: został zatwierdzony i pieniądze będą na "
            "koncie w ciągu 3 dni roboczych.",
        ],
        "return_request": ["Wysłał{aem} mailem darmową etykietę zwrotną do zamówienia {order}."],
        "invoice": ["Wysłał{aem} fakturę do zamówienia {order} na Pana/Pani adres e-mail."],
        "stock": ["Produkt powinien wrócić do sprzedaży za około dwa tygodnie."],
        "warranty": ["Produkt jest objęty 2-letnią gwarancją, więc naprawa jest bezpłatna."],
        "assembly_help": ["Wysłał{aem} mailem instrukcję montażu i film."],
    },
}
CUSTOMER_FOLLOW_UPS = {
    "en": ["It still isn't sorted, I'm afraid.", "Sorry, one more question about this."],
    "nl": ["Het is helaas nog steeds niet opgelost.", "Sorry, nog een vraag hierover."],
    "pl": ["Niestety nadal nie jest to załatwione.", "Przepraszam, jeszcze jedno pytanie."],
}
AGENT_FOLLOW_UPS = {
    "en": ["Thanks for letting me know, I've sorted it now."],
    "nl": ["Bedankt voor je bericht, ik heb het nu geregeld."],
    "pl": ["Dziękuję za informację, już to załatwił{aem}."],
}
_PROBLEMS = ("damaged", "missing_parts", "defect", "wrong_item")


def write_bot_handoff(rng: random.Random, language: str) -> str:
    """The answer bot's first message: it notes the question and hands over to a person."""
    return rng.choice(BOT_HANDOFF[language])


def _agent_values(
    rng: random.Random, writer: Writer, product: CatalogItem, order_ref: str, agent: str
) -> dict[str, str]:
    first_name = agent.split()[0]
    values = _context(rng, writer, product, order_ref=order_ref) if product.noun else {}
    # The demo's Polish agents: a first name ending in -a is a woman's (Agnieszka, Katarzyna).
    feminine = first_name.endswith("a")
    return {
        "order": order_ref,
        "name": writer.first_name,
        "noun": "",
        "p_the": "",
        "p_acc": "",
        **values,
        "agent": first_name,
        "aem": "am" if feminine else "em",
    }


def write_agent_reply(
    rng: random.Random,
    writer: Writer,
    product: CatalogItem,
    *,
    reason: str,
    order_ref: str,
    agent: str,
    story: bool = False,
    spoken: bool = False,
) -> str:
    """An agent's answer in the customer's language; on a call (`spoken`) without the letter."""
    lang = writer.language
    values = _agent_values(rng, writer, product, order_ref, agent)
    key = "late_story" if story else "problem" if reason in _PROBLEMS else reason
    body = _pick(rng, AGENT_REPLIES[lang][key], values)
    if spoken:
        return body
    return _letter(
        _pick(rng, AGENT_OPENINGS[lang], values), [body], _pick(rng, AGENT_CLOSINGS[lang], values)
    )


def write_follow_up(rng: random.Random, language: str) -> str:
    """A customer writing again after the matter was closed (it reopens)."""
    return rng.choice(CUSTOMER_FOLLOW_UPS[language])


def write_agent_follow_up(rng: random.Random, writer: Writer, agent: str) -> str:
    first_name = agent.split()[0]
    values = {"aem": "am" if first_name.endswith("a") else "em"}
    return _pick(rng, AGENT_FOLLOW_UPS[writer.language], values)
