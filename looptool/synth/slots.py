"""The constraint tree: what kind of value each parameter holds, its constraints and how people say it.

Every parameter of the context tree (:mod:`looptool.synth.tree`) is a *slot* here. A slot is one leaf of the
constraint tree (:data:`looptool.checks.surface.KINDS`: strings with a format -- date, time, email, id,
currency/country/language code, phone, URL --, enums, integer and number ranges, booleans, arrays, nested
objects) plus what the simulation needs: a description for the JSON Schema, the value pool or range to
sample from, an optional default, and the phrases a user writes it with (``{v}`` is the value as people
write it, see :func:`looptool.checks.surface.write`).

The library is data, one slot a line in ``data/slots.json`` (its schema beside it). Slots whose kind follows
from their name (ids of the tree's entities, ``*_email``, cities, countries, currencies) are derived by
:func:`slot` so they need no line.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
import re
from dataclasses import dataclass, field
from functools import cache, lru_cache
from typing import Any

from looptool.checks.vocab import COUNTRIES, CURRENCIES, LANGUAGES
from looptool.synth.datafiles import HERE, DataFileError, load, where
from looptool.synth.pools import POOLS
from looptool.synth.tree import tree


@dataclass(frozen=True)
class Slot:
    """One parameter kind with its constraints and phrasing."""

    name: str
    kind: str
    desc: str
    say: tuple[str, ...] = ()
    pool: str | None = None
    choices: tuple[str, ...] = ()
    lo: float = 0
    hi: float = 0
    step: float = 1
    default: Any = None
    prefix: str = ""
    item: str | None = None
    min_items: int = 1
    max_items: int = 3
    fields: tuple[str, ...] = ()
    yes: tuple[str, ...] = ()
    no: tuple[str, ...] = ()
    entity: str = ""
    param: str = ""
    extra: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)

    @property
    def param_name(self) -> str:
        return self.param or self.name


# --- the library: data/slots.json ------------------------------------------------------------------------

_TUPLES = ("say", "choices", "fields", "yes", "no")


def _slot(entry: dict[str, Any]) -> Slot:
    return Slot(**{k: tuple(v) if k in _TUPLES else v for k, v in entry.items()})


@cache
def library() -> tuple[Slot, ...]:
    """Every hand-written slot (``data/slots.json``, in file order; derived slots: :func:`slot`)."""
    doc, out, seen = load("slots"), [], set()
    for i, section in enumerate(doc["sections"]):
        for j, entry in enumerate(section["slots"]):
            if entry["name"] in seen:
                at = where(doc, ["sections", i, "slots", j])
                raise DataFileError(f"{HERE / 'data/slots.json'}: at {at}: a second slot of that name")
            seen.add(entry["name"])
            out.append(_slot(entry))
    return tuple(out)


@cache
def _lib() -> dict[str, Slot]:
    return {s.name: s for s in library()}


def __getattr__(name: str) -> Any:  # PEP 562: the library, read on first use
    if name == "LIBRARY":
        return library()
    if name == "_LIB":
        return _lib()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# --- derived slots ----------------------------------------------------------------------------------------


def _humanize(name: str) -> str:
    return name.replace("_", " ")


@lru_cache(maxsize=1)
def _entities() -> dict[str, str]:
    """id slot name -> entity noun, from the tree's subdomains."""
    out: dict[str, str] = {}
    for subs in tree().values():
        for node in subs.values():
            if node.id_param:
                out.setdefault(node.id_param, node.entity)
    return out


def _id_names() -> list[str]:
    names = set(_entities())
    for subs in tree().values():
        for node in subs.values():
            for cap in node.capabilities.values():
                names.update(name for name, _ in cap.params if name.endswith("_id"))
    return sorted(names)


@lru_cache(maxsize=1)
def id_prefixes() -> dict[str, str]:
    """A distinct two-letter prefix for every id slot, derived from its name (stable, sorted order)."""
    used: set[str] = set()
    out: dict[str, str] = {}
    for name in _id_names():
        letters = re.sub(r"[^a-z]", "", name.removesuffix("_id")).upper()
        words = [w for w in name.removesuffix("_id").split("_") if w]
        candidates = [letters[:2]]
        if len(words) > 1:
            candidates.append((words[0][0] + words[1][0]).upper())
        candidates += [letters[0] + c for c in letters[1:]]
        candidates += [a + b for i, a in enumerate(letters) for b in letters[i + 1 :]]
        candidates += [a + b for a in "ABCDEFGHIJKLMNOPQRSTUVWXYZ" for b in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"]
        for c in candidates:
            if len(c) == 2 and c not in used:
                used.add(c)
                out[name] = c
                break
    return out


def _derived(name: str) -> Slot | None:
    entity = _entities().get(name)
    if name in id_prefixes():
        entity = entity or _humanize(name.removesuffix("_id"))
        return Slot(
            name,
            "string:id",
            f"ID of the {entity}",
            (f"for {entity} {{v}}", f"for the {entity} {{v}}"),
            prefix=id_prefixes()[name],
            entity=entity,
        )
    if name.endswith("email") or name == "sender":
        h = _humanize(name.removesuffix("_email")) if name != "email" else ""
        desc = f"{h.capitalize()} email address" if h else "Email address"
        say = ("to {v}",) if name.startswith("recipient") else ("at {v}", "({v})", "using the email {v}")
        if name == "sender":
            say, desc = ("from {v}",), "Sender email address"
        return Slot(name, "string:email", desc, say)
    if name == "city" or name.endswith("_city"):
        h = _humanize(name.removesuffix("_city").removesuffix("city")).strip()
        say = {
            "origin": ("from {v}",),
            "destination": ("to {v}",),
            "pickup": ("in {v}", "picking up in {v}"),
            "dealer": ("at the dealer in {v}",),
            "office": ("in the {v} office",),
            "warehouse": ("at the {v} warehouse", "in {v}"),
        }.get(h, ("in {v}",))
        return Slot(name, "string", f"{h.capitalize()} city".strip() if h else "City", say, pool="city")
    if name == "country" or name.endswith("_country"):
        h = _humanize(name.removesuffix("_country").removesuffix("country")).strip()
        say = {"origin": ("from {v}",), "destination": ("to {v}", "in {v}")}.get(h, ("in {v}",))
        return Slot(
            name, "string:country", f"{h.capitalize()} country code".strip() if h else "Country code", say
        )
    if name == "currency" or name.endswith("_currency"):
        h = _humanize(name.removesuffix("_currency").removesuffix("currency")).strip()
        say = {
            "from": ("from {v}",),
            "to": ("to {v}", "into {v}"),
            "base": ("with {v} as the base currency",),
        }.get(h, ("in {v}",))
        return Slot(
            name,
            "string:currency",
            f"{h.capitalize()} currency".strip() if h else "Currency",
            say,
            default="USD" if name == "currency" else None,
        )
    return None


@cache
def slot(name: str) -> Slot:
    """The slot called ``name`` (library line or derived from the name); KeyError if there is none."""
    lib = _lib()
    if name in lib:
        return lib[name]
    d = _derived(name)
    if d is None:
        raise KeyError(f"no slot {name!r} in the constraint tree (add it to looptool/synth/data/slots.json)")
    return d


def named_slot(name: str, base: str | None = None) -> Slot:
    """Parameter ``name``'s slot: its own, or (``base`` given) slot ``base``'s kind, values and phrasing under
    the name ``name``."""
    if not base:
        return slot(name)
    b = slot(base)
    return dataclasses.replace(b, name=name, param=name, desc=b.desc)


def param_slot(token: str) -> tuple[Slot, bool]:
    """A field token of an object slot (``name`` or ``?name``) -> (slot, required)."""
    required = not token.startswith("?")
    name, _, base = token.lstrip("?").partition(":")
    return named_slot(name, base or None), required


# --- sampling ---------------------------------------------------------------------------------------------

_EXTRA_POOLS = {
    "person": None,  # first + last name
    "playlist_desc": (
        "songs for long drives",
        "quiet music for work",
        "throwbacks from the 90s",
        "sunday morning",
    ),
    "watchlist": ("Weekend", "Family Night", "Must Watch", "Documentaries"),
    "deal_name": (
        "Acme Corp renewal",
        "Northwind expansion",
        "Orbit Analytics pilot",
        "Summit Health upgrade",
        "Nimbus Systems license",
    ),
    "memo": (
        "rent for May",
        "dinner split",
        "birthday gift",
        "invoice 2291",
        "car repair",
        "concert tickets",
    ),
    "line_item": ("website design", "consulting hours", "logo package", "SEO audit", "hosting for 12 months"),
    "library_card": ("2900112345", "2900198765", "2900144556", "2900177321"),
    "promo_code": ("SPRING20", "WELCOME10", "FREESHIP", "VIP25", "SAVE15"),
}

RECORD_POOLS: dict[str, tuple[Any, ...]] = {
    "airline": ("SkyWays", "Aurora Air", "Blue Horizon", "Northwind Airlines", "Coastal Jet"),
    "hotel_name": ("Harbor View Hotel", "The Grand Plaza", "Old Town Inn", "Parkside Suites", "Hotel Lumen"),
    "car_model": ("Toyota Corolla", "VW Golf", "Ford Explorer", "Kia Sportage", "Tesla Model 3"),
    "recipe_title": POOLS["recipe_query"],
    "medication": ("Amoxicillin", "Lisinopril", "Metformin", "Atorvastatin", "Cetirizine"),
    "dosage": ("10 mg once daily", "500 mg twice daily", "20 mg at night", "5 mg as needed"),
    "test_name": ("Complete blood count", "Lipid panel", "Vitamin D", "HbA1c", "Thyroid panel"),
    "court_name": ("Court 1", "Court 3", "Center Court", "Indoor Court B"),
    "course_title": POOLS["course_subject"],
    "assignment_title": ("Essay draft", "Problem set 4", "Lab report", "Group presentation", "Reading quiz"),
    "station_name": ("Central Garage", "Mall West Chargers", "Harbor Plaza", "Airport P2"),
    "vehicle_model": ("Model Y", "ID.4", "Ioniq 5", "EV6", "Polestar 2"),
    "dealer": ("City Motors", "Riverside Auto", "Northgate Service Center"),
    "road": ("Ring Road", "Main Street", "Highway 101", "Bridge Avenue", "Harbor Tunnel"),
    "place_name": ("Cafe Aroma", "City Museum", "Green Park", "Night Pharmacy", "FreshMart"),
    "podcast_name": ("History Hour", "Startup Diaries", "Science Explained", "The Daily Brief"),
    "episode_title": ("The fall of Rome", "From garage to IPO", "How vaccines work", "Monday briefing"),
    "headline": (
        "Leaders agree on new climate targets",
        "Markets rally on rate news",
        "New telescope images released",
        "City unveils bike lane plan",
    ),
    "source": ("Daily Courier", "Global Wire", "Tech Times", "Metro News"),
    "conditions": ("sunny", "partly cloudy", "light rain", "overcast", "thunderstorms", "snow"),
    "dominant_pollutant": ("PM2.5", "PM10", "O3", "NO2"),
    "definition": (
        "lasting for a very short time",
        "showing great attention to detail",
        "able to recover quickly from difficulties",
    ),
    "translated_text": (
        "Merci pour votre aide",
        "Donde esta la estacion de tren?",
        "Die Besprechung beginnt um neun",
    ),
    "detected_language": tuple(LANGUAGES),
    "lesson_title": ("Greetings and introductions", "Ordering food", "Past tense basics", "Travel phrases"),
    "item_name": ("Golden Armor Skin", "Season 5 Battle Pass", "Soundtrack Bundle", "Turbo Wheels Pack"),
    "event_name": ("Jazz in the Park", "Street Food Festival", "Comedy Night", "Tech Meetup"),
    "venue_name": POOLS["venue_name"],
    "organization": ("City Food Bank", "Green Earth Trust", "Readers United", "Paws Rescue"),
    "default_branch": ("main",),
    "pay_period": ("January 2025", "February 2025", "March 2025", "April 2025"),
    "instructor_name": None,
    "tutor_name": None,
    "sitter_name": None,
    "cleaner_name": None,
    "doctor_name": None,
    "speaker_name": None,
}
"""Values for fields of simulated tool results that are not parameters (``None``: a person's name)."""

BASE_DATE = dt.date(2025, 1, 1)
DATE_SPAN_DAYS = 730


def pool_values(pool: str) -> tuple[str, ...]:
    if pool in POOLS:
        return POOLS[pool]
    vals = _EXTRA_POOLS.get(pool)
    if vals is None:
        raise KeyError(f"no value pool {pool!r}")
    return vals


def _person(rng: random.Random) -> str:
    return f"{rng.choice(POOLS['first_name'])} {rng.choice(POOLS['last_name'])}"


def _email(rng: random.Random) -> str:
    first = rng.choice(POOLS["first_name"]).lower()
    last = rng.choice(POOLS["last_name"]).lower()
    sep = rng.choice((".", "_", ""))
    return f"{first}{sep}{last}@{rng.choice(POOLS['email_domain'])}"


def _grid(rng: random.Random, lo: float, hi: float, step: float) -> float:
    n = int(round((hi - lo) / step))
    return round(lo + step * rng.randint(0, n), 2)


def sample(s: Slot, rng: random.Random) -> Any:
    """A value for slot ``s`` that satisfies the constraints its schema will state."""
    k = s.kind
    if k == "string":
        return _person(rng) if s.pool == "person" else rng.choice(pool_values(s.pool or "tag"))
    if k == "string:date":
        if s.lo and s.hi:
            first, last = dt.date(int(s.lo), 1, 1), dt.date(int(s.hi), 12, 31)
            return (first + dt.timedelta(days=rng.randrange((last - first).days + 1))).isoformat()
        return (BASE_DATE + dt.timedelta(days=rng.randrange(DATE_SPAN_DAYS))).isoformat()
    if k == "string:time":
        return f"{rng.randint(7, 21):02d}:{rng.choice((0, 0, 15, 30, 30, 45)):02d}"
    if k == "string:email":
        return _email(rng)
    if k == "string:id":
        return f"{s.prefix}-{rng.randint(10000, 99999)}"
    if k == "string:currency":
        return rng.choice(sorted(CURRENCIES))
    if k == "string:country":
        return rng.choice(sorted(COUNTRIES))
    if k == "string:language":
        return rng.choice(sorted(LANGUAGES))
    if k == "string:phone":
        return (
            "+"
            + rng.choice(("1", "44", "49", "33", "34", "81"))
            + "".join(str(rng.randint(0, 9)) for _ in range(9))
        )
    if k == "string:url":
        word = rng.choice(("report", "receipt", "photo", "contract", "homework", "scan"))
        return f"https://files.example.com/{word}-{rng.randint(100, 999)}.pdf"
    if k == "enum":
        return rng.choice(s.choices)
    if k == "integer":
        return int(_grid(rng, s.lo, s.hi, s.step))
    if k == "number":
        return float(_grid(rng, s.lo, s.hi, s.step))
    if k == "boolean":
        return rng.random() < 0.5
    if k == "array":
        item = slot(s.item or "tag_word")
        n = rng.randint(s.min_items, s.max_items)
        out: list[Any] = []
        for _ in range(n * 4):
            v = sample(item, rng)
            if v not in out:
                out.append(v)
            if len(out) == n:
                break
        return out
    if k == "object":
        out_obj: dict[str, Any] = {}
        for f in s.fields:
            sub, req = param_slot(f)
            if req or rng.random() < 0.5:
                out_obj[sub.name] = sample(sub, rng)
        return out_obj
    raise ValueError(f"slot {s.name}: unknown kind {k!r}")


# Argument pairs that must be ordered (first <= second, dates/times) or differ, whichever appear together.
ORDERED = (
    ("check_in_date", "check_out_date"),
    ("departure_date", "return_date"),
    ("start_date", "end_date"),
    ("pickup_date", "dropoff_date"),
    ("valid_from", "valid_until"),
    ("from_date", "to_date"),
    ("on_time", "off_time"),
)
DISTINCT = (
    ("origin_city", "destination_city"),
    ("from_currency", "to_currency"),
    ("from_unit", "to_unit"),
    ("from_scale", "to_scale"),
    ("from_timezone", "to_timezone"),
    ("from_warehouse", "to_warehouse"),
    ("origin_country", "destination_country"),
    ("start_address", "destination_address"),
)


ONLY_WITH = (("limit_price", "order_type", ("limit", "stop")),)
"""(slot, other slot, values): the slot only makes sense when the other slot has one of these values."""


def _bump(value: str, kind: str) -> str:
    if kind == "string:date":
        return (dt.date.fromisoformat(value) + dt.timedelta(days=3)).isoformat()
    h, m = (int(x) for x in value.split(":"))
    return f"{min(h + 2, 23):02d}:{m:02d}"


def fix_pairs(args: dict[str, Any], slots: dict[str, Slot], rng: random.Random) -> None:
    """Make sampled values coherent: start before end, origin different from destination (in place)."""
    for a, b in ORDERED:
        if a in args and b in args:
            x, y = sorted((args[a], args[b]))
            if x == y:
                y = _bump(x, slots[a].kind)
            args[a], args[b] = x, y
    for a, b, allowed in ONLY_WITH:
        if a in args and b in args and args[b] not in allowed:
            del args[a]
    for a, b in DISTINCT:
        if a in args and b in args:
            for _ in range(20):
                if args[a] != args[b]:
                    break
                args[b] = sample(slots[b], rng)


_NUMERIC_FIELDS: tuple[tuple[tuple[str, ...], float, float], ...] = (
    (("age_years",), 1, 12),
    (("temperature",), -5, 32),
    (("bedrooms",), 1, 5),
    (("percent",), 5, 100),
    (("rank",), 1, 500),
    (("likes", "impressions", "follower_count", "member_count"), 10, 5000),
    (("engagement_rate", "effective_rate", "exchange_rate"), 0.5, 9.5),
    (
        ("salary", "income", "raised_amount", "goal_amount", "coverage_amount", "list_price", "total_value"),
        20000.0,
        900000.0,
    ),
    (
        (
            "price",
            "amount",
            "total",
            "rate",
            "fare",
            "cost",
            "balance",
            "pay",
            "premium",
            "value",
            "_due",
            "interest",
            "payment",
            "rent",
            "limit",
        ),
        10.0,
        900.0,
    ),
    (("count", "_left", "track_count"), 1, 40),
    (("_km", "_kw", "_gb", "size_gb"), 1, 350),
    (("minutes", "seconds", "days", "weeks"), 5, 120),
    (("score",), 0, 5),
    (("_year", "years", "year"), 2015, 2025),
    (("_kwh",), 50, 900),
    (("aqi",), 10, 180),
    (("capacity",), 20, 400),
    (("crew_size",), 2, 6),
    (("odometer_km",), 1000, 90000),
    (("read",), 5, 300),
    (("quantity", "threshold"), 1, 100),
)


def record_value(name: str, rng: random.Random) -> Any:
    """A plausible value for a field of a simulated tool result (records need not be slots)."""
    if name in RECORD_POOLS:
        vals = RECORD_POOLS[name]
        return _person(rng) if vals is None else rng.choice(vals)
    try:
        return sample(slot(name), rng)
    except KeyError:
        pass
    if name.endswith(("_date", "deadline")):
        return sample(Slot(name, "string:date", ""), rng)
    if name.endswith(("_time", "_eta")):
        return sample(Slot(name, "string:time", ""), rng)
    for suffixes, lo, hi in _NUMERIC_FIELDS:
        if name.endswith(suffixes):
            return rng.randint(lo, hi) if isinstance(lo, int) else round(rng.uniform(lo, hi), 2)
    if name.endswith(("status", "state")):
        return rng.choice(("active", "pending", "confirmed", "in_progress", "completed"))
    if name.endswith(("rating",)):
        return round(rng.uniform(3.0, 5.0), 1)
    if name in ("locked", "power_on"):
        return rng.random() < 0.5
    if name.endswith("name") or name in ("instructor_name", "dealer", "organization", "sender", "source"):
        return _person(rng)
    if name.endswith(("title", "headline")):
        return rng.choice(POOLS["movie_title"] + POOLS["book_title"])
    return rng.choice(("standard", "available", "on schedule", "clear", "moderate", "good"))
