"""The demo programme: real NHS trusts and ODS codes, fictional people, five years of sessions."""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.accounts.models import Partner
from api.demo.bookings import seed_bookings
from api.demo.feedback import seed_feedback
from api.demo.masterclasses import seed_masterclasses
from api.speakers.models import AvailabilityWindow, Speaker
from api.topics.models import Topic
from api.topics.service import seed_catalogue
from api.trusts import ics as integrated_care_systems
from api.trusts.models import Contact, Interaction, Trust

LONDON = ZoneInfo("Europe/London")

# (name, ODS code, region, trust type, integrated care system)
TRUSTS = [
    ("Leeds Teaching Hospitals NHS Trust", "RR8", "north_east_and_yorkshire", "acute", "West Yorkshire"),
    ("Sheffield Teaching Hospitals NHS Foundation Trust", "RHQ", "north_east_and_yorkshire", "acute", "South Yorkshire"),
    ("The Newcastle upon Tyne Hospitals NHS Foundation Trust", "RTD", "north_east_and_yorkshire", "acute", "North East and North Cumbria"),
    ("Yorkshire Ambulance Service NHS Trust", "RX8", "north_east_and_yorkshire", "ambulance", "West Yorkshire"),
    ("Tees, Esk and Wear Valleys NHS Foundation Trust", "RX3", "north_east_and_yorkshire", "mental_health", "North East and North Cumbria"),
    ("Manchester University NHS Foundation Trust", "R0A", "north_west", "acute", "Greater Manchester"),
    ("Alder Hey Children's NHS Foundation Trust", "RBS", "north_west", "specialist", "Cheshire and Merseyside"),
    ("Mersey Care NHS Foundation Trust", "RW4", "north_west", "mental_health", "Cheshire and Merseyside"),
    ("North West Ambulance Service NHS Trust", "RX7", "north_west", "ambulance", "Lancashire and South Cumbria"),
    ("Lancashire Teaching Hospitals NHS Foundation Trust", "RXN", "north_west", "acute", "Lancashire and South Cumbria"),
    ("University Hospitals Birmingham NHS Foundation Trust", "RRK", "midlands", "acute", "Birmingham and Solihull"),
    ("Nottingham University Hospitals NHS Trust", "RX1", "midlands", "acute", "Nottingham and Nottinghamshire"),
    ("Birmingham Community Healthcare NHS Foundation Trust", "RYW", "midlands", "community", "Birmingham and Solihull"),
    ("West Midlands Ambulance Service University NHS Foundation Trust", "RYA", "midlands", "ambulance", "Black Country"),
    ("University Hospitals of Leicester NHS Trust", "RWE", "midlands", "acute", "Leicester, Leicestershire and Rutland"),
    ("Cambridge University Hospitals NHS Foundation Trust", "RGT", "east_of_england", "acute", "Cambridgeshire and Peterborough"),
    ("Norfolk and Norwich University Hospitals NHS Foundation Trust", "RM1", "east_of_england", "acute", "Norfolk and Waveney"),
    ("East of England Ambulance Service NHS Trust", "RYC", "east_of_england", "ambulance", "Suffolk and North East Essex"),
    ("Essex Partnership University NHS Foundation Trust", "R1L", "east_of_england", "mental_health", "Mid and South Essex"),
    ("Royal Papworth Hospital NHS Foundation Trust", "RGM", "east_of_england", "specialist", "Cambridgeshire and Peterborough"),
    ("Guy's and St Thomas' NHS Foundation Trust", "RJ1", "london", "acute", "South East London"),
    ("Barts Health NHS Trust", "R1H", "london", "acute", "North East London"),
    ("Great Ormond Street Hospital for Children NHS Foundation Trust", "RP4", "london", "specialist", "North Central London"),
    ("South London and Maudsley NHS Foundation Trust", "RV5", "london", "mental_health", "South East London"),
    ("London Ambulance Service NHS Trust", "RRU", "london", "ambulance", "North West London"),
    ("Moorfields Eye Hospital NHS Foundation Trust", "RP6", "london", "specialist", "North Central London"),
    ("Oxford University Hospitals NHS Foundation Trust", "RTH", "south_east", "acute", "Buckinghamshire, Oxfordshire and Berkshire West"),
    ("Royal Surrey County Hospital NHS Foundation Trust", "RA2", "south_east", "acute", "Surrey Heartlands"),
    ("South East Coast Ambulance Service NHS Foundation Trust", "RYD", "south_east", "ambulance", "Sussex"),
    ("Sussex Partnership NHS Foundation Trust", "RX2", "south_east", "mental_health", "Sussex"),
    ("Kent Community Health NHS Foundation Trust", "RYY", "south_east", "community", "Kent and Medway"),
    ("Royal Devon University Healthcare NHS Foundation Trust", "RH8", "south_west", "acute", "Devon"),
    ("North Bristol NHS Trust", "RVJ", "south_west", "acute", "Bristol, North Somerset and South Gloucestershire"),
    ("South Western Ambulance Service NHS Foundation Trust", "RYF", "south_west", "ambulance", "Dorset"),
    ("Cornwall Partnership NHS Foundation Trust", "RJ8", "south_west", "mental_health", "Cornwall and the Isles of Scilly"),
    ("Somerset NHS Foundation Trust", "RH5", "south_west", "combined", "Somerset"),
]

FIRST = ["Aisha", "Ben", "Catrin", "David", "Eleanor", "Farhan", "Grace", "Huw", "Imogen", "James", "Kavita",
         "Liam", "Mairead", "Nikhil", "Olwen", "Priya", "Rhys", "Sarah", "Tomasz", "Uchenna", "Victoria", "Wen"]
LAST = ["Ahmed", "Baker", "Chen", "Davies", "Evans", "Fraser", "Gupta", "Hughes", "Iqbal", "Jones", "Kowalski",
        "Lewis", "Morgan", "Nwosu", "O'Brien", "Patel", "Quinn", "Roberts", "Singh", "Thomas", "Williams", "Young"]
BOARD_ROLES = ["Chair", "Chief Executive", "Chief Digital Information Officer", "Non-executive Director",
               "Chief Nursing Officer", "Medical Director", "Director of Finance"]

# (name, organisation, timezone, topics, weekly windows as (weekdays, start, end) in local time)
SPEAKERS = [
    ("Dr Helen Marsh", "NHS England (former CIO)", "Europe/London", ["what-digital-means", "culture-and-leadership"],
     (range(0, 5), "09:00", "17:30")),
    ("Gareth Pryce", "Betsi Cadwaladr University Health Board", "Europe/London", ["user-centred-design"],
     (range(0, 4), "08:30", "16:00")),
    ("Siân Llŷr", "Digital Health and Care Wales", "Europe/London", ["data", "integrated-care-systems"],
     (range(0, 5), "09:00", "17:00")),
    ("Dr Amara Okafor", "Sydney Local Health District", "Australia/Sydney", ["data", "outcomes-over-outputs"],
     (range(0, 5), "07:00", "23:00")),
    ("Marcus Feld", "Mount Sinai Health System", "America/New_York", ["cyber-security"],
     (range(0, 5), "04:00", "14:00")),
    ("Kadri Tamm", "Estonian e-Health Foundation", "Europe/Tallinn", ["sustainable-funding", "what-digital-means"],
     (range(0, 5), "09:00", "18:00")),
    ("Ananya Rao", "Narayana Health", "Asia/Kolkata", ["prioritisation", "user-centred-design"],
     (range(0, 5), "11:00", "21:30")),
    ("Tane Wiremu", "Te Whatu Ora – Health New Zealand", "Pacific/Auckland", ["culture-and-leadership"],
     (range(0, 5), "06:00", "24:00")),
    ("Claire Dubois", "Centre hospitalier universitaire de Montréal", "America/Toronto", ["outcomes-over-outputs"],
     (range(0, 5), "04:30", "13:00")),
    ("Prof. Sam Okoye", "King's Fund (associate)", "Europe/London", ["prioritisation", "sustainable-funding"],
     (range(0, 5), "09:00", "17:00")),
]


def _minutes(text: str) -> int:
    h, m = text.split(":")
    return int(h) * 60 + int(m)


def seed(session: Session, *, only_if_empty: bool = False, today: date | None = None) -> str:
    """Load the demo programme; with only_if_empty, leave a database that already has trusts alone."""
    if only_if_empty and session.scalar(select(func.count()).select_from(Trust)):
        return "demo data already present; nothing seeded"
    rng = random.Random(2020)
    seed_catalogue(session)
    topics = {t.slug: t for t in session.scalars(select(Topic))}

    partner = session.scalar(select(Partner).where(Partner.slug == "nhs-providers"))
    if partner is None:
        partner = Partner(name="NHS Providers", slug="nhs-providers")
        session.add(partner)

    trusts = []
    for name, ods, region, trust_type, ics in TRUSTS:
        if session.scalar(select(Trust.id).where(Trust.ods_code == ods)):
            continue
        slug = "".join(ch for ch in name.lower().split(" nhs")[0] if ch.isalnum())[:20]
        system = integrated_care_systems.match(ics)
        trust = Trust(name=name, ods_code=ods, region=region, trust_type=trust_type, ics=system.name,
                      ics_code=system.code, website=f"https://www.{slug}.nhs.uk", timezone="Europe/London")
        session.add(trust)
        trusts.append(trust)
        for role in rng.sample(BOARD_ROLES, 4):
            first, last = rng.choice(FIRST), rng.choice(LAST)
            trust.contacts.append(Contact(
                name=f"{first} {last}", role=role,
                email=f"{first}.{last}".lower().replace("'", "") + "@example.nhs.uk",
                phone=f"+44 20 7{rng.randint(100, 999)} {rng.randint(1000, 9999)}"))

    speakers = []
    seeded_emails = set(session.scalars(select(Speaker.email).where(Speaker.email.like("%@speakers.example.org"))))
    for name, org, tz, topic_slugs, (days, start, end) in SPEAKERS:
        email = name.lower().replace("dr ", "").replace("prof. ", "").replace(" ", ".").replace("ŷ", "y") \
            .replace("â", "a") + "@speakers.example.org"
        if email in seeded_emails:  # a second run adds nothing (trusts are matched by ODS code above)
            continue
        speaker = Speaker(name=name, organisation=org, timezone=tz, email=email, active=True,
                          bio=f"{name} leads digital transformation at {org}.",
                          topics=[topics[s] for s in topic_slugs])
        speaker.weekly = [AvailabilityWindow(weekday=d, start_minute=_minutes(start), end_minute=_minutes(end))
                          for d in days]
        session.add(speaker)
        speakers.append(speaker)
    session.flush()

    booked = seed_bookings(session, rng, trusts, speakers, topics, partner, today=today)
    classes = seed_masterclasses(session, rng, trusts, speakers, topics, partner, today=today)
    answers = seed_feedback(session)
    return (f"seeded {len(trusts)} trusts, {sum(len(t.contacts) for t in trusts)} contacts, "
            f"{len(speakers)} speakers, {booked} bookings, {classes} masterclasses, {answers} survey answers")
