"""Who the demo shop's customers are: names, cities, mail providers and phone formats per country.

The lists are long on purpose: a demo with twenty names repeated five thousand times reads as fake.
Each community gets its own lists (Dutch, Flemish, Walloon, Polish, British), including the
families of Turkish, Moroccan, Surinamese, Indian and Pakistani origin a real shop serves.
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass


def _names(text: str) -> tuple[str, ...]:
    return tuple(name.strip() for name in text.split(","))


DUTCH_FEMALE = _names(
    "Emma, Julia, Sophie, Anna, Lotte, Sanne, Femke, Lisa, Eva, Sara, Fleur, Noor, Lieke, "
    "Anouk, Maud, Iris, Ilse, Marieke, Annemiek, Ingrid, Petra, Monique, Yvonne, Esther, "
    "Wilma, Karin, Linda, Miriam, Tessa, Roos, Nina, Evi, Daphne, Marloes, Hanneke, "
    "Willemijn, Saskia, Ellen, Mirjam, Jolanda, Bianca, Manon, Floor, Merel, Liselotte, "
    "Renske, Janneke, Gerda, Ria, Tineke, Fatima, Samira, Elif, Zeynep, Priya, Shanti, "
    "Naomi"
)
DUTCH_MALE = _names(
    "Daan, Sem, Lucas, Levi, Bram, Thijs, Jesse, Ruben, Stijn, Jeroen, Maarten, Bas, Niels, "
    "Sander, Martijn, Joost, Pieter, Wouter, Koen, Jan, Kees, Henk, Gerrit, Willem, Dirk, "
    "Erik, Mark, Rob, Arjen, Hans, Floris, Sven, Timo, Gijs, Teun, Joris, Rutger, Hidde, "
    "Thomas, Vincent, Jasper, Roel, Frank, Marco, Ronald, Edwin, Wim, Ad, Harm, Mohamed, "
    "Yusuf, Ayoub, Emre, Mehmet, Rajesh, Dennis, Kevin, Mitchell"
)
DUTCH_LAST = _names(
    "Jansen, Bakker, Janssen, Visser, Smit, Meijer, Mulder, Bos, Vos, Peters, Hendriks, "
    "Dekker, Brouwer, Dijkstra, Smits, Kok, Jacobs, Vermeulen, Schouten, Willems, Hoekstra, "
    "Maas, Verhoeven, Koster, Prins, Blom, Huisman, Kuipers, Postma, Kramer, Schipper, "
    "Veenstra, Boersma, Wolters, Timmermans, Groen, Sluiter, Hermans, Bosman, Gerritsen, "
    "Koopman, Wijnands, Yilmaz, Kaya, Bouzid, Ramdin, Sewnath, de Jong, de Vries, "
    "van den Berg, van Dijk, de Boer, de Groot, van Leeuwen, de Wit, de Graaf, van der Meer, "
    "van der Linden, de Haan, van den Heuvel, van der Veen, van den Broek, de Bruijn, "
    "van der Heijden, van Beek, van Vliet, van de Ven, van Dam, van Wijk, ter Horst, "
    "El Amrani, van, Rijn, op den Kamp"
)
FLEMISH_FEMALE = _names(
    "Nele, Sofie, Leen, An, Griet, Ellen, Katrien, Lien, Hanne, Elien, Fien, Marie, Lore, "
    "Febe, Jolien, Sien, Lies, Inge, Veerle, Els, Kathleen, Nathalie, Ines, Julie, Amber, "
    "Laura, Charlotte, Lotte, Emma, Marthe, Jana, Tine, Evelien, Nore, Ilse, Hilde, Greet, "
    "Ann, Mieke"
)
FLEMISH_MALE = _names(
    "Wout, Jens, Arne, Pieterjan, Jelle, Kobe, Senne, Lander, Stijn, Bert, Tom, Kristof, "
    "Dries, Ward, Robbe, Vincent, Filip, Geert, Luc, Dirk, Marc, Hendrik, Bart, Koen, "
    "Steven, Pieter, Sander, Jonas, Seppe, Lowie, Matthias, Thibault, Jef, Gert, Tijs, "
    "Joris, Brecht, Yannick"
)
FLEMISH_LAST = _names(
    "Peeters, Janssens, Maes, Jacobs, Mertens, Willems, Claes, Goossens, Wouters, Hermans, "
    "Michiels, Aerts, Desmet, Martens, Verstraete, Coppens, Pauwels, Vandenberghe, Smets, "
    "Segers, Cools, Declercq, Verhaegen, Claeys, Baert, Lemmens, Wuyts, Stevens, Geerts, "
    "Verbeke, Vercammen, Vermeiren, Bogaert, Deprez, Cuypers, Vanhoutte, Verschueren, "
    "Dewulf, Lauwers, Bosmans, De Smet, De Clercq, Van Damme, Van de Velde, De Backer, "
    "De Wilde, Van, Acker, Van den Broeck, D'Hondt, Van Hoof, De Meyer, Van Looy"
)
WALLOON_FEMALE = _names(
    "Camille, Manon, Chloé, Élise, Mathilde, Aurélie, Céline, Pauline, Isabelle, Sophie, "
    "Julie, Émilie, Amandine, Valérie, Nathalie, Laetitia, Margaux, Léa, Océane, Justine"
)
WALLOON_MALE = _names(
    "Julien, Nicolas, Maxime, Thomas, Antoine, Sébastien, Olivier, François, Laurent, "
    "Pierre, Damien, Quentin, Benoît, Cédric, Jérôme, Arnaud, Grégory, Hugo, Romain, "
    "Mathieu"
)
WALLOON_LAST = _names(
    "Dubois, Lambert, Dupont, Dumont, Leclercq, Martin, Simon, Laurent, Renard, Lejeune, "
    "Collard, Gilson, Lemaire, Mathieu, François, Denis, Masson, Hubert, Henrard, Piette, "
    "Jacquet, Delvaux, Marchal, Gérard, Fontaine, Lecomte, Wilmotte, Bastin"
)
POLISH_FEMALE = _names(
    "Anna, Maria, Katarzyna, Małgorzata, Agnieszka, Barbara, Ewa, Krystyna, Magdalena, "
    "Joanna, Aleksandra, Monika, Zofia, Natalia, Julia, Karolina, Marta, Dorota, Beata, "
    "Justyna, Paulina, Weronika, Zuzanna, Oliwia, Hanna, Wiktoria, Alicja, Iwona, Grażyna, "
    "Elżbieta, Renata, Sylwia, Izabela, Patrycja, Kinga, Emilia, Martyna, Agata, Danuta, "
    "Jadwiga"
)
POLISH_MALE = _names(
    "Piotr, Krzysztof, Andrzej, Tomasz, Paweł, Michał, Marcin, Jakub, Adam, Łukasz, Mateusz, "
    "Kamil, Bartosz, Grzegorz, Wojciech, Marek, Jan, Szymon, Rafał, Dawid, Filip, Antoni, "
    "Maciej, Sebastian, Przemysław, Zbigniew, Stanisław, Jerzy, Artur, Damian, Robert, "
    "Dariusz, Mariusz, Janusz, Ryszard, Igor, Oskar, Wiktor, Hubert, Konrad"
)
# Masculine forms; -ski/-cki/-dzki take -ska/-cka/-dzka for women, the rest do not change.
POLISH_LAST = _names(
    "Nowak, Kowalski, Wiśniewski, Wójcik, Kowalczyk, Kamiński, Lewandowski, Zieliński, "
    "Szymański, Woźniak, Dąbrowski, Kozłowski, Jankowski, Mazur, Kwiatkowski, Wojciechowski, "
    "Krawczyk, Kaczmarek, Piotrowski, Grabowski, Zając, Pawłowski, Michalski, Król, "
    "Wieczorek, Jabłoński, Wróbel, Nowakowski, Majewski, Olszewski, Stępień, Jaworski, "
    "Malinowski, Adamczyk, Dudek, Nowicki, Pawlak, Górski, Witkowski, Walczak, Sikora, "
    "Baran, Rutkowski, Michalak, Szewczyk, Ostrowski, Tomaszewski, Pietrzak, Zalewski, "
    "Wróblewski, Marciniak, Jasiński, Zawadzki, Sadowski, Bąk, Chmielewski, Włodarczyk, "
    "Borkowski, Czarnecki, Sawicki, Sokołowski, Urbański, Kubiak, Maciejewski, Szczepański, "
    "Kucharski, Wilk, Kalinowski, Lis, Mazurek"
)
BRITISH_FEMALE = _names(
    "Olivia, Amelia, Isla, Ava, Emily, Sophie, Grace, Lily, Chloe, Jessica, Charlotte, "
    "Hannah, Lucy, Ellie, Megan, Holly, Rebecca, Sarah, Laura, Emma, Claire, Rachel, Nicola, "
    "Helen, Gemma, Priya, Aisha, Siobhan, Niamh, Fiona, Kirsty, Joanne, Lauren, Amy, Zoe, "
    "Freya, Poppy, Harriet, Bethan, Sian, Deborah, Alison, Karen, Jade"
)
BRITISH_MALE = _names(
    "Oliver, George, Harry, Jack, Charlie, Thomas, James, William, Daniel, Matthew, Samuel, "
    "Joshua, Ben, Alex, Ryan, Callum, Liam, Jamie, Connor, Rhys, Owen, Gareth, Ian, Steve, "
    "Paul, Mark, David, Richard, Andrew, Simon, Graham, Nigel, Arjun, Mohammed, Ravi, Hamza, "
    "Kieran, Stuart, Alistair, Euan, Dylan, Jake, Tom, Craig, Lee"
)
BRITISH_LAST = _names(
    "Smith, Jones, Williams, Taylor, Brown, Davies, Evans, Wilson, Thomas, Johnson, Roberts, "
    "Robinson, Thompson, Wright, Walker, White, Edwards, Hughes, Green, Hall, Lewis, Harris, "
    "Clarke, Patel, Jackson, Wood, Turner, Martin, Cooper, Hill, Ward, Morris, Moore, Clark, "
    "Lee, King, Baker, Harrison, Morgan, Allen, James, Scott, Phillips, Watson, Davis, "
    "Parker, Price, Bennett, Young, Griffiths, Mitchell, Kelly, Cook, Carter, Richardson, "
    "Bailey, Collins, Bell, Shaw, Murphy, Miller, Cox, Richards, Khan, Marshall, Anderson, "
    "Simpson, Ellis, Adams, Singh, Begum, Wilkinson, Foster, Chapman, Powell, Webb, Rogers, "
    "Gray, Mason, Ali, Hunt, Hussain, Campbell, Matthews, Owen, Palmer, Holmes, Mills, "
    "Barnes, Knight, Lloyd, Butler, Russell, Barker, Fisher, Stevens, Jenkins, MacDonald, "
    "Fraser, Stewart, Reid, Murray, Kaur, Sharma, Chaudhry, Okafor, Mensah, O'Brien, "
    "O'Neill, McLaughlin"
)

# (city, weight); weights follow population roughly so the big cities dominate as they would.
CITIES: dict[str, list[tuple[str, int]]] = {
    "NL": [
        ("Amsterdam", 12), ("Rotterdam", 9), ("Den Haag", 8), ("Utrecht", 7), ("Eindhoven", 4),
        ("Groningen", 4), ("Tilburg", 3), ("Almere", 3), ("Breda", 3), ("Nijmegen", 3),
        ("Apeldoorn", 2), ("Haarlem", 3), ("Arnhem", 2), ("Zwolle", 2), ("Leiden", 2),
        ("Amersfoort", 2), ("Maastricht", 2), ("Delft", 1), ("Zaandam", 1),
        ("'s-Hertogenbosch", 2), ("Leeuwarden", 1), ("Enschede", 2), ("Dordrecht", 1),
        ("Alkmaar", 1), ("Hilversum", 1), ("Deventer", 1), ("Gouda", 1),
    ],
    "BE-nl": [
        ("Antwerpen", 9), ("Gent", 7), ("Brussel", 4), ("Leuven", 3), ("Brugge", 3),
        ("Mechelen", 2), ("Hasselt", 2), ("Kortrijk", 2), ("Aalst", 2), ("Sint-Niklaas", 1),
        ("Oostende", 1), ("Genk", 1), ("Roeselare", 1), ("Turnhout", 1), ("Lier", 1),
    ],
    "BE-fr": [
        ("Bruxelles", 8), ("Liège", 4), ("Namur", 2), ("Charleroi", 3), ("Mons", 2),
        ("Louvain-la-Neuve", 1), ("Wavre", 1), ("Tournai", 1),
    ],
    "PL": [
        ("Warszawa", 12), ("Kraków", 7), ("Wrocław", 5), ("Łódź", 4), ("Poznań", 4),
        ("Gdańsk", 4), ("Szczecin", 2), ("Bydgoszcz", 2), ("Lublin", 2), ("Katowice", 3),
        ("Białystok", 1), ("Gdynia", 2), ("Częstochowa", 1), ("Rzeszów", 1), ("Toruń", 1),
        ("Kielce", 1), ("Olsztyn", 1), ("Opole", 1), ("Sopot", 1),
    ],
    "GB": [
        ("London", 14), ("Manchester", 5), ("Birmingham", 5), ("Leeds", 3), ("Glasgow", 3),
        ("Bristol", 3), ("Liverpool", 3), ("Edinburgh", 3), ("Sheffield", 2), ("Cardiff", 2),
        ("Newcastle upon Tyne", 2), ("Nottingham", 2), ("Leicester", 2), ("Brighton", 2),
        ("Oxford", 1), ("Cambridge", 1), ("York", 1), ("Belfast", 1), ("Southampton", 1),
        ("Reading", 1), ("Norwich", 1),
    ],
}  # fmt: skip

MAIL_DOMAINS: dict[str, list[tuple[str, int]]] = {
    "NL": [("gmail.com", 10), ("hotmail.com", 6), ("outlook.com", 4), ("ziggo.nl", 3),
           ("kpnmail.nl", 3), ("live.nl", 2), ("xs4all.nl", 1), ("icloud.com", 2)],
    "BE": [("gmail.com", 10), ("hotmail.com", 4), ("telenet.be", 5), ("skynet.be", 2),
           ("outlook.com", 3), ("proximus.be", 1), ("icloud.com", 1)],
    "PL": [("gmail.com", 10), ("wp.pl", 5), ("onet.pl", 4), ("o2.pl", 3), ("interia.pl", 3),
           ("op.pl", 1), ("outlook.com", 1)],
    "GB": [("gmail.com", 10), ("hotmail.co.uk", 4), ("outlook.com", 3), ("yahoo.co.uk", 3),
           ("btinternet.com", 2), ("icloud.com", 3), ("sky.com", 1)],
}  # fmt: skip

# Mobile numbers in E.164: country code and the digits a mobile number starts with there.
MOBILE_PREFIXES = {
    "NL": ("+316", 8),
    "BE": ("+324", 8),
    "PL": ("+48", 9),
    "GB": ("+447", 9),
}
POLISH_MOBILE_FIRST_DIGITS = "5678"

# Business customers are named after their company; the names fit each market.
COMPANY_NAMES = {
    "NL": ["Studio Gracht", "Kantoor aan de Maas", "Hotel De Zwaan", "Café Het Anker",
           "Praktijk Noorderlicht", "Bureau Duinzicht", "Vakantiepark De Hoge Veluwe"],
    "BE": ["Brasserie De Markt", "Kantoren Schelde", "Atelier Lys", "B&B Het Belfort",
           "Coworking Meir"],
    "PL": ["Biuro Rachunkowe Wisła", "Hotel Pod Różą", "Kawiarnia Stary Rynek",
           "Pracownia Architektoniczna Las", "Coworking Praga"],
    "GB": ["Thameside Lettings", "The Old Mill Café", "Northern Desk Co-working",
           "Harbour View B&B", "Millbrook Dental"],
}  # fmt: skip


@dataclass(frozen=True)
class Person:
    first_name: str
    last_name: str
    gender: str  # "f" or "m": Polish texts agree with the writer's gender
    language: str
    country: str
    city: str


def _weighted(rng: random.Random, pairs: list[tuple[str, int]]) -> str:
    return rng.choices([p[0] for p in pairs], weights=[p[1] for p in pairs])[0]


def _polish_surname(last: str, gender: str) -> str:
    if gender == "f":
        for ending, female in (("ski", "ska"), ("cki", "cka"), ("dzki", "dzka")):
            if last.endswith(ending):
                return last[: -len(ending)] + female
    return last


def make_person(rng: random.Random, country: str) -> Person:
    """A customer with a name, language and city that fit the country."""
    gender = "f" if rng.random() < 0.52 else "m"
    if country == "NL":
        first = rng.choice(DUTCH_FEMALE if gender == "f" else DUTCH_MALE)
        return Person(
            first, rng.choice(DUTCH_LAST), gender, "nl", "NL", _weighted(rng, CITIES["NL"])
        )
    if country == "BE":
        # About 60% of Belgian customers read the shop in Dutch; the rest (mostly from Brussels
        # and Wallonia) use the English site, since the shop has no French version.
        if rng.random() < 0.6:
            first = rng.choice(FLEMISH_FEMALE if gender == "f" else FLEMISH_MALE)
            last = rng.choice(FLEMISH_LAST)
            return Person(first, last, gender, "nl", "BE", _weighted(rng, CITIES["BE-nl"]))
        first = rng.choice(WALLOON_FEMALE if gender == "f" else WALLOON_MALE)
        last = rng.choice(WALLOON_LAST)
        return Person(first, last, gender, "en", "BE", _weighted(rng, CITIES["BE-fr"]))
    if country == "PL":
        first = rng.choice(POLISH_FEMALE if gender == "f" else POLISH_MALE)
        last = _polish_surname(rng.choice(POLISH_LAST), gender)
        return Person(first, last, gender, "pl", "PL", _weighted(rng, CITIES["PL"]))
    first = rng.choice(BRITISH_FEMALE if gender == "f" else BRITISH_MALE)
    return Person(first, rng.choice(BRITISH_LAST), gender, "en", "GB", _weighted(rng, CITIES["GB"]))


def _ascii_slug(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text.replace("ł", "l").replace("Ł", "L"))
    return "".join(c for c in folded if c.isascii() and (c.isalnum())).lower()


def make_email(rng: random.Random, person: Person, taken: set[str]) -> str:
    """A plausible private address, unique within the demo world."""
    first, last = _ascii_slug(person.first_name), _ascii_slug(person.last_name)
    style = rng.random()
    if style < 0.35:
        local = f"{first}.{last}"
    elif style < 0.55:
        local = f"{first[0]}{last}"
    elif style < 0.7:
        local = f"{first}{last}{rng.randint(60, 99) if rng.random() < 0.5 else rng.randint(1, 30)}"
    elif style < 0.85:
        local = f"{first}_{last[:4]}"
    else:
        local = f"{first}.{last[0]}{rng.randint(1970, 2004)}"
    domain = _weighted(rng, MAIL_DOMAINS[person.country])
    email = f"{local}@{domain}"
    while email in taken:
        email = f"{local}{rng.randint(2, 999)}@{domain}"
    taken.add(email)
    return email


def make_phone(rng: random.Random, country: str, taken: set[str]) -> str:
    """A mobile number in E.164 form, unique within the demo world."""
    prefix, digits = MOBILE_PREFIXES[country]
    while True:
        if country == "PL":
            rest = rng.choice(POLISH_MOBILE_FIRST_DIGITS) + "".join(
                str(rng.randrange(10)) for _ in range(digits - 1)
            )
        else:
            rest = "".join(str(rng.randrange(10)) for _ in range(digits))
        phone = prefix + rest
        if phone not in taken:
            taken.add(phone)
            return phone


def make_social_handle(rng: random.Random, person: Person, taken: set[str]) -> str:
    """A handle on a social network, the way people pick them."""
    first, last = _ascii_slug(person.first_name), _ascii_slug(person.last_name)
    handle = rng.choice(
        [
            f"{first}{last}",
            f"{first}_{last[:3]}",
            f"{first}.{rng.choice(['home', 'living', 'styling', 'thuis', 'loves.interiors'])}",
            f"{first}{rng.randint(1, 99)}",
            f"the{first}{last[0]}",
        ]
    )
    while handle in taken:
        handle = f"{handle}{rng.randint(1, 9)}"
    taken.add(handle)
    return handle
