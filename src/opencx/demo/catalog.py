"""What Noordwind Home & Living sells, where, and at which touchpoints customers meet it."""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal

ORGANIZATION_NAME = "Noordwind Home & Living"
ORGANIZATION_SLUG = "demo"
DEMO_PASSWORD = "noordwind-demo"
# (email, name, role): every role, so every screen can be tried as every role, and the service
# agents and team leads of DEMO_TEAMS, so CSAT per agent and team compares several people.
DEMO_USERS = (
    ("admin@noordwind.example", "Sanne de Vries", "admin"),
    ("manager@noordwind.example", "Pieter Janssens", "manager"),
    ("agent@noordwind.example", "Agnieszka Nowak", "agent"),
    ("agent.nl@noordwind.example", "Daan Bakker", "agent"),
    ("analyst@noordwind.example", "Oliver Hughes", "analyst"),
    ("agent.pl@noordwind.example", "Tomasz Wróbel", "agent"),
    ("agent.nl2@noordwind.example", "Fleur Dekker", "agent"),
    ("agent.uk@noordwind.example", "Priya Shah", "agent"),
    ("agent.uk2@noordwind.example", "Callum Reid", "agent"),
    ("lead.nl@noordwind.example", "Marloes Kuipers", "manager"),
    ("lead.pl@noordwind.example", "Katarzyna Zielińska", "manager"),
)


@dataclass(frozen=True)
class AgentSpec:
    """A service agent of the demo: who answers which customers, and how well."""

    email: str
    name: str
    share: float  # of the team's contacts
    skill: float  # chance of one point more (positive) or less (negative) on a CSAT score
    lead: bool = False  # team leads take a larger share of complaints (escalations)


# Customers are served in their language: Dutch (NL and Flemish), Polish, English (UK and Belgium).
DEMO_TEAMS = {
    "service-nl": (
        AgentSpec("agent.nl@noordwind.example", "Daan Bakker", 45, 0.4),
        AgentSpec("agent.nl2@noordwind.example", "Fleur Dekker", 40, -0.35),
        AgentSpec("lead.nl@noordwind.example", "Marloes Kuipers", 15, 0.2, lead=True),
    ),
    "service-pl": (
        AgentSpec("agent@noordwind.example", "Agnieszka Nowak", 50, 0.45),
        AgentSpec("agent.pl@noordwind.example", "Tomasz Wróbel", 38, -0.4),
        AgentSpec("lead.pl@noordwind.example", "Katarzyna Zielińska", 12, 0.15, lead=True),
    ),
    "service-uk": (
        AgentSpec("agent.uk@noordwind.example", "Priya Shah", 52, 0.3),
        AgentSpec("agent.uk2@noordwind.example", "Callum Reid", 48, -0.45),
    ),
}

# Routing of the desk: each team's languages (the leads also take escalated complaints), and
# the rules sending a conversation by its language; English and anything else go to service-uk.
DEMO_ROUTING = {
    "service-nl": ("round_robin", ("nl", "en")),
    "service-pl": ("least_loaded", ("pl", "en")),
    "service-uk": ("round_robin", ("en",)),
}
DEMO_DEFAULT_TEAM = "service-uk"
DEMO_LEAD_SKILLS = ("complaint", "escalation")
# Open conversations at once per channel: agents, and leads (who also coach and review).
DEMO_CAPACITY = {"email": 10, "chat": 3, "whatsapp": 5, "messenger": 5, "instagram": 5,
                 "telegram": 5, "voice": 1, "web_form": 10}  # fmt: skip
DEMO_LEAD_CAPACITY = {"email": 5, "chat": 1, "whatsapp": 2, "messenger": 2, "instagram": 2,
                      "telegram": 2, "voice": 1, "web_form": 5}  # fmt: skip

COUNTRY_WEIGHTS = {"NL": 40, "BE": 15, "PL": 25, "GB": 20}
CURRENCY = {"NL": "EUR", "BE": "EUR", "PL": "PLN", "GB": "GBP"}
# Local price lists derive from the euro price at a fixed rate, rounded the way shops round.
EUR_RATE = {"EUR": 1.0, "PLN": 4.3, "GBP": 0.86}

STORES = {
    "NL": ["Amsterdam Zuidas", "Utrecht Leidsche Rijn", "Rotterdam Alexandrium"],
    "BE": ["Antwerpen Wijnegem", "Gent Zuid"],
    "PL": ["Warszawa Mokotów", "Kraków Czyżyny"],
    "GB": ["London Shoreditch", "Manchester Trafford"],
}
STORE_CITY = {
    "Amsterdam Zuidas": "Amsterdam",
    "Utrecht Leidsche Rijn": "Utrecht",
    "Rotterdam Alexandrium": "Rotterdam",
    "Antwerpen Wijnegem": "Antwerpen",
    "Gent Zuid": "Gent",
    "Warszawa Mokotów": "Warszawa",
    "Kraków Czyżyny": "Kraków",
    "London Shoreditch": "London",
    "Manchester Trafford": "Manchester",
}

PARCEL_CARRIERS = {"NL": "PostNL", "BE": "bpost", "PL": "InPost", "GB": "DPD UK"}
FURNITURE_CARRIER = "Noordwind Home Delivery"
PAYMENT_METHODS = {
    "NL": [("ideal", 70), ("card", 15), ("paypal", 10), ("klarna", 5)],
    "BE": [("bancontact", 60), ("card", 25), ("paypal", 15)],
    "PL": [("blik", 55), ("przelewy24", 25), ("card", 15), ("paypal", 5)],
    "GB": [("card", 65), ("paypal", 20), ("apple_pay", 15)],
}
STORE_PAYMENT_METHODS = [("card", 80), ("cash", 8), ("apple_pay", 12)]


@dataclass(frozen=True)
class Noun:
    """How customers name a product in their own language; Polish needs three cases."""

    en: str
    nl: str
    pl_nom: str
    pl_acc: str
    pl_gen: str


@dataclass(frozen=True)
class CatalogItem:
    sku: str
    model: str  # the brand name of the line ("Lento"); texts say "the Lento sofa"
    name: str
    kind: str  # product or service
    category: str
    price_eur: Decimal
    popularity: float
    noun: Noun | None = None
    # furniture goes by two-person home delivery; everything else as a parcel
    bulky: bool = False
    registrable: bool = False  # appliances and electronics get registered for warranty


def _p(
    sku: str,
    model: str,
    name: str,
    category: str,
    price: int,
    popularity: float,
    noun: tuple[str, str, str, str, str],
    *,
    bulky: bool = False,
    registrable: bool = False,
) -> CatalogItem:
    return CatalogItem(
        sku, model, name, "product", category, Decimal(price), popularity, Noun(*noun),
        bulky, registrable,
    )  # fmt: skip


CAMPAIGN_SKU = "SOF-LENTO-3"
PRODUCTS = (
    _p(CAMPAIGN_SKU, "Lento", "Lento 3-seat sofa", "sofas", 899, 1.6,
       ("sofa", "bank", "sofa", "sofę", "sofy"), bulky=True),
    _p("SOF-FJORD-2", "Fjord", "Fjord 2-seat sofa", "sofas", 649, 1.4,
       ("sofa", "bank", "sofa", "sofę", "sofy"), bulky=True),
    _p("SOF-HAVN-C", "Havn", "Havn corner sofa", "sofas", 1299, 0.8,
       ("corner sofa", "hoekbank", "narożnik", "narożnik", "narożnika"), bulky=True),
    _p("CHR-OSLO", "Oslo", "Oslo armchair", "chairs", 349, 1.2,
       ("armchair", "fauteuil", "fotel", "fotel", "fotela"), bulky=True),
    _p("CHR-BREE-D", "Bree", "Bree dining chair", "chairs", 89, 2.2,
       ("dining chair set", "stoelenset", "krzesła", "krzesła", "krzeseł"), bulky=True),
    _p("TBL-EIK-180", "Eik", "Eik oak dining table 180 cm", "tables", 749, 1.0,
       ("dining table", "eettafel", "stół", "stół", "stołu"), bulky=True),
    _p("TBL-MOSS-C", "Moss", "Moss coffee table", "tables", 199, 1.5,
       ("coffee table", "salontafel", "stolik kawowy", "stolik kawowy", "stolika kawowego"),
       bulky=True),
    _p("BED-DUIN-160", "Duin", "Duin bed frame 160x200", "beds", 579, 1.0,
       ("bed frame", "bed", "łóżko", "łóżko", "łóżka"), bulky=True),
    _p("MAT-SLAAP-160", "Slaap", "Slaap pocket-spring mattress 160x200", "beds", 499, 1.2,
       ("mattress", "matras", "materac", "materac", "materaca"), bulky=True),
    _p("CAB-KADE-4", "Kade", "Kade chest of drawers", "storage", 299, 1.1,
       ("chest of drawers", "ladekast", "komoda", "komodę", "komody"), bulky=True),
    _p("WRD-STRAND", "Strand", "Strand two-door wardrobe", "storage", 449, 0.8,
       ("wardrobe", "kledingkast", "szafa", "szafę", "szafy"), bulky=True),
    _p("SHF-POLDER", "Polder", "Polder bookcase", "storage", 179, 1.2,
       ("bookcase", "boekenkast", "regał", "regał", "regału"), bulky=True),
    _p("DSK-ATELIER", "Atelier", "Atelier standing desk", "office", 429, 1.0,
       ("standing desk", "zit-sta-bureau", "biurko", "biurko", "biurka"), bulky=True),
    _p("CHR-WERK", "Werk", "Werk office chair", "office", 249, 1.3,
       ("office chair", "bureaustoel", "krzesło biurowe", "krzesło biurowe",
        "krzesła biurowego")),
    _p("LMP-LICHT-F", "Licht", "Licht floor lamp", "lighting", 129, 1.6,
       ("floor lamp", "vloerlamp", "lampa podłogowa", "lampę podłogową", "lampy podłogowej")),
    _p("LMP-BOL-T", "Bol", "Bol table lamp", "lighting", 49, 2.4,
       ("table lamp", "tafellamp", "lampka", "lampkę", "lampki")),
    _p("RUG-WOL-200", "Wol", "Wol wool rug 200x300", "textiles", 259, 1.1,
       ("rug", "vloerkleed", "dywan", "dywan", "dywanu")),
    _p("TXT-DEKEN", "Deken", "Deken throw blanket", "textiles", 39, 2.8,
       ("throw", "plaid", "koc", "koc", "koca")),
    _p("TXT-KUSSEN", "Kussen", "Kussen cushion set", "textiles", 29, 3.0,
       ("cushion set", "kussenset", "zestaw poduszek", "zestaw poduszek", "zestawu poduszek")),
    _p("BED-LINNEN", "Linnen", "Linnen duvet cover set", "textiles", 69, 2.2,
       ("duvet cover set", "dekbedovertrek", "komplet pościeli", "komplet pościeli",
        "kompletu pościeli")),
    _p("KIT-KOK-5", "Kok", "Kok cookware set 5-piece", "kitchen", 139, 1.8,
       ("cookware set", "pannenset", "zestaw garnków", "zestaw garnków", "zestawu garnków")),
    _p("KIT-SNEDE", "Snede", "Snede knife block", "kitchen", 89, 1.4,
       ("knife block", "messenblok", "blok z nożami", "blok z nożami", "bloku z nożami")),
    _p("DEC-SPIEGEL", "Spiegel", "Spiegel round mirror", "decor", 99, 1.5,
       ("mirror", "spiegel", "lustro", "lustro", "lustra")),
    _p("DEC-KLEI", "Klei", "Klei stoneware vase", "decor", 24, 2.5,
       ("vase", "vaas", "wazon", "wazon", "wazonu")),
    _p("STO-RIET", "Riet", "Riet storage baskets (set of 3)", "storage", 34, 2.0,
       ("basket set", "set opbergmanden", "zestaw koszy", "zestaw koszy", "zestawu koszy")),
    _p("APP-HEET-55", "Heet", "Heet air fryer 5.5 L", "appliances", 119, 2.6,
       ("air fryer", "airfryer", "frytkownica", "frytkownicę", "frytkownicy"),
       registrable=True),
    _p("APP-BONEN", "Bonen", "Bonen espresso machine", "appliances", 399, 1.2,
       ("espresso machine", "espressomachine", "ekspres do kawy", "ekspres do kawy",
        "ekspresu do kawy"), registrable=True),
    _p("APP-MIX", "Mix", "Mix blender", "appliances", 79, 1.3,
       ("blender", "blender", "blender", "blender", "blendera"), registrable=True),
    _p("APP-KOOK", "Kook", "Kook electric kettle", "appliances", 39, 2.0,
       ("kettle", "waterkoker", "czajnik", "czajnik", "czajnika"), registrable=True),
    _p("APP-ZUIG", "Zuig", "Zuig robot vacuum", "appliances", 349, 1.3,
       ("robot vacuum", "robotstofzuiger", "robot sprzątający", "robota sprzątającego",
        "robota sprzątającego"), registrable=True),
    _p("APP-VEEG", "Veeg", "Veeg cordless stick vacuum", "appliances", 229, 1.2,
       ("stick vacuum", "steelstofzuiger", "odkurzacz", "odkurzacz", "odkurzacza"),
       registrable=True),
    _p("APP-ADEM", "Adem", "Adem air purifier", "appliances", 189, 0.9,
       ("air purifier", "luchtreiniger", "oczyszczacz powietrza", "oczyszczacz powietrza",
        "oczyszczacza powietrza"), registrable=True),
    _p("ELE-KLANK", "Klank", "Klank smart speaker", "electronics", 99, 1.5,
       ("smart speaker", "slimme speaker", "głośnik", "głośnik", "głośnika"), registrable=True),
    _p("ELE-BEELD-55", "Beeld", "Beeld 55-inch 4K TV", "electronics", 649, 0.9,
       ("TV", "televisie", "telewizor", "telewizor", "telewizora"), registrable=True),
    _p("ELE-GALM", "Galm", "Galm soundbar", "electronics", 249, 0.9,
       ("soundbar", "soundbar", "soundbar", "soundbar", "soundbara"), registrable=True),
    _p("ELE-STIL", "Stil", "Stil noise-cancelling headphones", "electronics", 199, 1.2,
       ("headset", "koptelefoon", "słuchawki", "słuchawki", "słuchawek"), registrable=True),
    _p("ELE-GLOEI", "Gloei", "Gloei smart bulbs (4-pack)", "electronics", 59, 1.6,
       ("smart bulb set", "set slimme lampen", "inteligentne żarówki", "inteligentne żarówki",
        "inteligentnych żarówek"), registrable=True),
)  # fmt: skip

SERVICE_ASSEMBLY = CatalogItem(
    "SRV-ASSEMBLY", "", "Delivery to room and assembly", "service", "services", Decimal(79), 0
)
SERVICE_WARRANTY = CatalogItem(
    "SRV-WARRANTY-3Y", "", "3-year extended warranty", "service", "services", Decimal(49), 0
)
SERVICE_PICKUP = CatalogItem(
    "SRV-PICKUP", "", "Old furniture pickup", "service", "services", Decimal(39), 0
)
SERVICE_DESIGN = CatalogItem(
    "SRV-DESIGN", "", "Interior design consultation", "service", "services", Decimal(95), 0
)
SERVICES = (SERVICE_ASSEMBLY, SERVICE_WARRANTY, SERVICE_PICKUP, SERVICE_DESIGN)
CATALOG = {item.sku: item for item in (*PRODUCTS, *SERVICES)}


def local_price(price_eur: Decimal, currency: str) -> Decimal:
    """The shelf price in a local currency: x9 for big items, .99 for small ones."""
    value = float(price_eur) * EUR_RATE[currency]
    if currency == "EUR":
        return price_eur
    if value >= 100:
        return Decimal(math.floor(value / 10) * 10 + 9)
    return Decimal(math.floor(value)) + Decimal("0.99")


@dataclass(frozen=True)
class TouchpointSpec:
    key: str
    name: str
    stage: str
    channel: str
    is_online: bool
    department: str


TOUCHPOINTS = (
    TouchpointSpec("search-ad", "Search ad", "awareness", "web", True, "marketing"),
    TouchpointSpec("social-ad", "Social media ad", "awareness", "social", True, "marketing"),
    TouchpointSpec("social-post", "Instagram and Facebook posts", "awareness", "social", True, "marketing"),
    TouchpointSpec("newsletter", "Newsletter", "awareness", "email", True, "marketing"),
    TouchpointSpec("web-product-page", "Product page (web)", "consideration", "web", True, "sales"),
    TouchpointSpec("app-product-page", "Product page (app)", "consideration", "app", True, "sales"),
    TouchpointSpec("web-comparison", "Product comparison", "consideration", "web", True, "sales"),
    TouchpointSpec("store-visit", "Store visit", "consideration", "store", False, "sales"),
    TouchpointSpec("web-account", "Account sign-up", "consideration", "web", True, "sales"),
    TouchpointSpec("web-checkout", "Checkout (web)", "purchase", "web", True, "sales"),
    TouchpointSpec("app-checkout", "Checkout (app)", "purchase", "app", True, "sales"),
    TouchpointSpec("store-checkout", "Store till", "purchase", "store", False, "sales"),
    TouchpointSpec("phone-order", "Phone order line", "purchase", "phone", False, "sales"),
    TouchpointSpec("delivery-updates", "Delivery updates", "delivery", "email", True, "logistics"),
    TouchpointSpec("track-and-trace", "Track and trace page", "delivery", "web", True, "logistics"),
    TouchpointSpec("product-registration", "Product registration", "use", "web", True, "product"),
    TouchpointSpec("how-to-videos", "How-to videos", "use", "social", True, "product"),
    TouchpointSpec("contact-form", "Contact form", "service", "web", True, "service"),
    TouchpointSpec("live-chat", "Live chat", "service", "chat", True, "service"),
    TouchpointSpec("service-phone", "Customer service line", "service", "phone", False, "service"),
    TouchpointSpec("complaints-desk", "Complaints (email)", "service", "email", True, "service"),
    TouchpointSpec("social-care", "Social media mentions", "service", "social", True, "service"),
    TouchpointSpec("product-reviews", "Product reviews", "loyalty", "web", True, "marketing"),
    TouchpointSpec("refer-a-friend", "Refer a friend", "loyalty", "app", True, "marketing"),
    TouchpointSpec("noordwind-club", "Noordwind Club (loyalty)", "loyalty", "app", True, "marketing"),
)  # fmt: skip
