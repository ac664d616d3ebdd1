"""The demo's people and teams: queues, staff, organizations and customers in five languages.

Addresses use reserved example domains (``.example``, ``example.com``/``.org``/``.net``), so a
demo instance that has a mail channel configured can never write to a real mailbox.
"""

from __future__ import annotations

from dataclasses import dataclass

from frontdesk.models import Organization, Queue, User
from frontdesk.services import create_organization, create_queue, create_user

DEMO_PASSWORD = "frontdesk-demo"
ADMIN_EMAIL = "admin@frontdesk.example"
CUSTOMER_EMAIL = "emily.clarke@example.com"

QUEUES = (
    ("general", "General support", "Questions about accounts, settings and how things work."),
    ("billing", "Billing", "Invoices, payments, refunds and plan changes."),
    ("technical", "Technical support", "Bugs, errors and integrations."),
    ("sales", "Sales", "Quotes, plans and demos for prospective customers."),
)

# The technical team needs to know which product a report is about before it can triage it.
TECHNICAL_FIELDS = [
    {
        "key": "product",
        "label": "Product",
        "type": "choice",
        "required": True,
        "choices": ["Web app", "Mobile app", "API", "Integrations"],
    },
    {"key": "app_version", "label": "App version", "type": "text"},
    {"key": "reproducible", "label": "Reproducible", "type": "boolean"},
]


@dataclass(frozen=True)
class StaffMember:
    email: str
    name: str
    role: str
    language: str
    timezone: str
    queues: tuple[str, ...]


STAFF = (
    StaffMember(ADMIN_EMAIL, "Helen Park", "admin", "en", "Europe/London", ("general",)),
    StaffMember(
        "alice@frontdesk.example",
        "Alice Morgan",
        "agent",
        "en",
        "Europe/London",
        ("general", "sales"),
    ),
    StaffMember(
        "marco@frontdesk.example",
        "Marco Bianchi",
        "agent",
        "it",
        "Europe/Rome",
        ("general", "billing"),
    ),
    StaffMember(
        "ioana@frontdesk.example",
        "Ioana Popescu",
        "agent",
        "ro",
        "Europe/Bucharest",
        ("technical", "billing"),
    ),
    StaffMember(
        "dmitri@frontdesk.example",
        "Dmitri Sokolov",
        "agent",
        "ru",
        "Europe/Moscow",
        ("technical", "general"),
    ),
    StaffMember(
        "sara@frontdesk.example",
        "Sara Ahmadi",
        "agent",
        "fa",
        "Asia/Tehran",
        ("general", "technical", "sales"),
    ),
    StaffMember(
        "ben@frontdesk.example",
        "Ben Carter",
        "agent",
        "en",
        "America/New_York",
        ("sales", "billing", "technical"),
    ),
)

# (name, domains, members see each other's tickets)
ORGANIZATIONS = (
    ("Northwind Trading Ltd", ("northwind.example",), True),
    ("Costruzioni Rossi S.p.A.", ("rossi.example",), False),
    ("Carpați Logistic SRL", ("carpati.example",), False),
    ("ООО «Волга Софт»", ("volgasoft.example",), False),
)

# (language, name, email); organization membership follows from the email's domain.
CUSTOMERS = (
    ("en", "Emily Clarke", "emily.clarke@example.com"),
    ("en", "James Whitaker", "james.whitaker@northwind.example"),
    ("en", "Priya Nair", "priya.nair@northwind.example"),
    ("en", "Tom Fletcher", "tom.fletcher@northwind.example"),
    ("en", "Hannah Brooks", "hannah.brooks@northwind.example"),
    ("en", "Oliver Grant", "oliver.grant@example.org"),
    ("en", "Grace Liu", "grace.liu@example.net"),
    ("en", "Daniel Hughes", "daniel.hughes@example.com"),
    ("en", "Sophie Turner", "sophie.turner@example.org"),
    ("en", "Michael Reid", "michael.reid@example.net"),
    ("it", "Giulia Rossi", "giulia.rossi@rossi.example"),
    ("it", "Luca Ferrari", "luca.ferrari@rossi.example"),
    ("it", "Francesca Romano", "francesca.romano@rossi.example"),
    ("it", "Matteo Colombo", "matteo.colombo@example.com"),
    ("it", "Chiara Ricci", "chiara.ricci@example.org"),
    ("it", "Alessandro Marino", "alessandro.marino@example.net"),
    ("it", "Sofia Greco", "sofia.greco@example.com"),
    ("it", "Davide Conti", "davide.conti@example.org"),
    ("ro", "Andrei Ionescu", "andrei.ionescu@carpati.example"),
    ("ro", "Maria Popa", "maria.popa@carpati.example"),
    ("ro", "Mihai Stan", "mihai.stan@carpati.example"),
    ("ro", "Elena Dumitru", "elena.dumitru@example.com"),
    ("ro", "Ana Constantin", "ana.constantin@example.net"),
    ("ro", "Radu Georgescu", "radu.georgescu@example.org"),
    ("ro", "Cristina Marin", "cristina.marin@example.com"),
    ("ro", "Vlad Stoica", "vlad.stoica@example.net"),
    ("ru", "Анна Смирнова", "anna.smirnova@example.org"),
    ("ru", "Иван Петров", "ivan.petrov@volgasoft.example"),
    ("ru", "Ольга Кузнецова", "olga.kuznetsova@volgasoft.example"),
    ("ru", "Сергей Волков", "sergey.volkov@volgasoft.example"),
    ("ru", "Наталья Морозова", "natalya.morozova@example.com"),
    ("ru", "Алексей Попов", "alexey.popov@example.net"),
    ("ru", "Екатерина Лебедева", "ekaterina.lebedeva@example.org"),
    ("fa", "مریم حسینی", "maryam.hosseini@example.com"),
    ("fa", "علی رضایی", "ali.rezaei@example.net"),
    ("fa", "زهرا محمدی", "zahra.mohammadi@example.org"),
    ("fa", "رضا کریمی", "reza.karimi@example.com"),
    ("fa", "فاطمه احمدی", "fatemeh.ahmadi@example.net"),
    ("fa", "حسین جعفری", "hossein.jafari@example.org"),
    ("fa", "نگار صادقی", "negar.sadeghi@example.com"),
)

TIMEZONES = {
    "en": "Europe/London",
    "it": "Europe/Rome",
    "ro": "Europe/Bucharest",
    "ru": "Europe/Moscow",
    "fa": "Asia/Tehran",
}


@dataclass
class DemoPeople:
    """What :func:`create_people` made, for the ticket loader to draw from."""

    queues: dict[str, Queue]
    staff: list[User]
    organizations: list[Organization]
    customers: list[User]
    customer_login: User  # the one customer who can sign in


def customer_login_emails() -> list[str]:
    """The customers who can sign in to the portal: the first of each language."""
    firsts: dict[str, str] = {}
    for language, _name, email in CUSTOMERS:
        firsts.setdefault(language, email)
    return list(firsts.values())


def create_people() -> DemoPeople:
    """Create the demo queues, staff, organizations and customers through the services."""
    queues = {
        key: create_queue(
            key=key,
            name=name,
            description=description,
            custom_fields=TECHNICAL_FIELDS if key == "technical" else None,
        )
        for key, name, description in QUEUES
    }
    staff = [
        create_user(
            email=member.email,
            name=member.name,
            role=member.role,
            password=DEMO_PASSWORD,
            language=member.language,
            timezone=member.timezone,
            queues=[queues[key] for key in member.queues],
        )
        for member in STAFF
    ]
    organizations = [
        create_organization(name=name, domains=domains, shared_tickets=shared)
        for name, domains, shared in ORGANIZATIONS
    ]
    # One customer per language gets a password (hashing is deliberately slow; five are enough
    # to try the portal in every language).
    login_emails = set(customer_login_emails())
    customers = [
        create_user(
            email=email,
            name=name,
            role="customer",
            language=language,
            timezone=TIMEZONES[language],
            password=DEMO_PASSWORD if email in login_emails else None,
            vip=index % 9 == 4,
        )
        for index, (language, name, email) in enumerate(CUSTOMERS)
    ]
    login = next(c for c in customers if c.email == CUSTOMER_EMAIL)
    return DemoPeople(queues, staff, organizations, customers, login)
