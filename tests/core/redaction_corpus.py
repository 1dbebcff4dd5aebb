"""A corpus of support messages carrying personal data, and the check of what leaked.

Written for this project (no real person's data: example.* domains, Ofcom drama phone ranges,
documented test card and IBAN numbers, the specimen NI number QQ 12 34 56 C). Ten customers as
the shop knows them (:class:`CustomerIdentity`) and 60 messages from them that write their own
data as people do: lower case, capitals, without spaces, with or without the country code,
abbreviated street words, "Doe, Jane"; and data the shop does not know but which is personal by
its form (dates of birth, passport, National Insurance, SSN-like numbers, IBANs, card numbers),
listed per message in ``secrets``.

``leaks(sent, entry)`` lists the values of ``entry`` found in ``sent`` (what an outside server
received): every known value of the customer, each part of their name, each address line with and
without its house number, and each secret, compared without regard to case, spacing, punctuation
or street-word abbreviations (phones by their last nine digits).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from oscar_llm.guardrails.redaction import EVERYDAY_WORDS, GENERIC_ADDRESS_WORDS, STREET_WORDS, CustomerIdentity


@dataclass(frozen=True)
class Entry:
    customer: str  # key of CUSTOMERS
    text: str
    secrets: tuple[str, ...] = ()  # personal values the shop does not know (found by pattern)


CUSTOMERS: dict[str, CustomerIdentity] = {
    "jane": CustomerIdentity(
        names="Jane Doe",
        emails="jane.doe@example.com",
        usernames="janedoe85",
        address_lines=("221B Baker Street",),
        cities="London",
        postcodes="NW1 6XE",
        phones="+44 20 7946 0958",
    ),
    "mohammed": CustomerIdentity(
        names="Mohammed Al-Rashid",
        emails="m.alrashid@mailbox.example",
        usernames="mo_rashid",
        address_lines=("Flat 4", "17 Canal Road"),
        cities="Leeds",
        postcodes="LS1 4DT",
        phones="07700 900123",
    ),
    "siobhan": CustomerIdentity(
        names="Siobhán O'Connor",
        emails="siobhan.oc@example.ie",
        usernames="soconnor",
        address_lines=("3 Harbour View",),
        cities="Galway",
        postcodes="H91 E2K3",
        phones="+353 91 555 0199",
    ),
    "will": CustomerIdentity(
        names="Will Baker",
        emails="will.baker@example.co.uk",
        usernames="wbaker",
        address_lines=("56 Mill Lane",),
        cities="Reading",
        postcodes="RG1 8AB",
        phones="0118 496 0321",
    ),
    "priya": CustomerIdentity(
        names="Priya Natarajan",
        emails="priya.n@example.com",
        usernames="priyanat",
        address_lines=("Apartment 12", "Riverside Court"),
        cities="Manchester",
        postcodes="M3 5FS",
        phones="+44 161 496 0745",
    ),
    "lukas": CustomerIdentity(
        names="Lukas Schmidt",
        emails="lukas.schmidt@beispiel.example",
        usernames="lschmidt",
        address_lines=("Hauptstraße 12",),
        cities="Berlin",
        postcodes="10115",
        phones="+49 30 901820",
    ),
    "emily": CustomerIdentity(
        names="Emily Chen",
        emails="emily.chen@example.org",
        usernames="echen",
        address_lines=("42 Elm Grove",),
        cities="Bristol",
        postcodes="BS6 5QT",
        phones="07911 123456",
    ),
    "grace": CustomerIdentity(
        names="Grace Thompson",
        emails="grace.t@example.com",
        usernames="gthompson",
        address_lines=("9 Castle Street",),
        cities="Bath",
        postcodes="BA1 1AA",
        phones="01225 496781",
    ),
    "carlos": CustomerIdentity(
        names="Carlos García",
        emails="carlos.garcia@example.es",
        usernames="cgarcia",
        address_lines=("Calle Mayor 5",),
        cities="Madrid",
        postcodes="28013",
        phones="+34 912 345 678",
    ),
    "aisha": CustomerIdentity(
        names="Aisha Bello",
        emails="aisha.bello@example.com",
        usernames="aishab",
        address_lines=("Unit 2", "88 Station Road"),
        cities="Birmingham",
        postcodes="B1 1BB",
        phones="+44 121 496 0000",
    ),
}

ENTRIES: tuple[Entry, ...] = (
    # -- Jane Doe -------------------------------------------------------------------------------
    Entry(
        "jane",
        "Hi, this is Jane Doe. My parcel for order 100023 hasn't arrived at 221B Baker Street, London NW1 6XE.",
    ),
    Entry("jane", "hello its jane doe again, can you call me on 020 7946 0958? i'm home all day"),
    Entry("jane", "Please update my email from JANE.DOE@EXAMPLE.COM to my work one, my username is janedoe85."),
    Entry(
        "jane",
        "Refund to my card 4111 1111 1111 1111 please, not the gift card. Doe, Jane (account janedoe85)",
        secrets=("4111 1111 1111 1111",),
    ),
    Entry(
        "jane",
        "For the age check: I was born on 14/03/1985, passport number 533380006. Deliver to 221b baker st, nw16xe.",
        secrets=("14/03/1985", "533380006"),
    ),
    Entry("jane", "Courier said nobody was in at Baker Street but I was! Ring +442079460958 next time. - Jane"),
    # -- Mohammed Al-Rashid ------------------------------------------------------------------------
    Entry(
        "mohammed",
        "Salaam, Mohammed Al-Rashid here. The jacket (order 100031) went to Flat 4, 17 Canal Road, Leeds "
        "LS1 4DT but the flat number was missing on the label.",
    ),
    Entry("mohammed", "My mobile is 07700900123, text me when the driver is near. Thanks, Mohammed"),
    Entry(
        "mohammed",
        "Can you send the invoice to m.alrashid@mailbox.example? My NI number is QQ 12 34 56 C if you "
        "need it for the VAT thing.",
        secrets=("QQ 12 34 56 C",),
    ),
    Entry("mohammed", "MOHAMMED AL RASHID - 17 CANAL RD - LS1 4DT - returning 2 shirts"),
    Entry(
        "mohammed",
        "Please refund to IBAN GB82 WEST 1234 5698 7654 32 instead, my card was cancelled. mo_rashid",
        secrets=("GB82 WEST 1234 5698 7654 32",),
    ),
    Entry("mohammed", "Hi it's al-rashid, 17 canal road, leeds. Is the order still coming? +44 7700 900 123"),
    # -- Siobhán O'Connor --------------------------------------------------------------------------
    Entry("siobhan", "Dia duit, Siobhán O'Connor here, 3 Harbour View, Galway H91 E2K3. Do you ship to Ireland?"),
    Entry("siobhan", "hi its siobhan oconnor, my phone is +353 91 555 0199 if the courier needs it"),
    Entry(
        "siobhan",
        "Refund to IE29 AIBK 9311 5212 3456 78 please. Date of birth 3rd of June 1990 in case you need "
        "to verify. Siobhan",
        secrets=("IE29 AIBK 9311 5212 3456 78", "3rd of June 1990"),
    ),
    Entry(
        "siobhan",
        "Sorry, wrong email on my account! It should be SIOBHAN.OC@EXAMPLE.IE not the old one. (soconnor)",
    ),
    Entry(
        "siobhan",
        "O'Connor, Siobhán - parcel left at 3 harbour view instead of the neighbour's. Please call 091 555 0199.",
    ),
    Entry(
        "siobhan",
        "The customs form asks for my passport: PA1234567. Is that normal? Siobhan O Connor",
        secrets=("PA1234567",),
    ),
    # -- Will Baker (name and town that are also words) ------------------------------------------------
    Entry(
        "will",
        "Hi, Will Baker here. I will be away next week, please deliver to 56 Mill Lane, Reading RG1 8AB "
        "after the 12th.",
    ),
    Entry("will", "WILL BAKER, 56 MILL LN, READING. Where is my order? 0118 496 0321"),
    Entry(
        "will",
        "Can you email will.baker@example.co.uk with the return label? I'll be reading it on my phone. Thanks, Will",
    ),
    Entry(
        "will",
        "Your site asked for my DOB: 1979-11-02. Why? Account wbaker, card ending 4444: 5555 5555 5555 4444",
        secrets=("1979-11-02", "5555 5555 5555 4444"),
    ),
    Entry("will", "baker here - rg18ab - the box was left on mill lane in the rain"),
    Entry("will", "Call me on +44 118 496 0321 about the damaged chair. Will B."),
    # -- Priya Natarajan ---------------------------------------------------------------------------
    Entry(
        "priya",
        "Hello, I'm Priya Natarajan (priya.n@example.com). Apartment 12, Riverside Court, Manchester M3 5FS.",
    ),
    Entry(
        "priya",
        "priya natarajan - order 100044 - the concierge at riverside court has no record of it. +44 161 496 0745",
    ),
    Entry(
        "priya",
        "I need the invoice in my full name, NATARAJAN PRIYA, for my employer. Passport no. 925076473 if ID is needed.",
        secrets=("925076473",),
    ),
    Entry("priya", "Username priyanat. Please stop sending marketing to PRIYA.N@EXAMPLE.COM"),
    Entry(
        "priya",
        "I was born 5 Jan 1992, so I should get the birthday discount? Manchester, m35fs",
        secrets=("5 Jan 1992",),
    ),
    Entry("priya", "Please ring 0161 496 0745 before 6pm, Apartment 12 buzzer doesn't work"),
    # -- Lukas Schmidt -----------------------------------------------------------------------------
    Entry("lukas", "Guten Tag, Lukas Schmidt here. Please ship to Hauptstraße 12, 10115 Berlin."),
    Entry("lukas", "My phone number is +49 30 901820, call if the address is unclear. L. Schmidt"),
    Entry(
        "lukas",
        "Refund to DE89 3704 0044 0532 0130 00 please (lukas.schmidt@beispiel.example).",
        secrets=("DE89 3704 0044 0532 0130 00",),
    ),
    Entry("lukas", "Hauptstrasse 12 is correct, the courier wrote Haupstrasse. lschmidt"),
    Entry(
        "lukas",
        "schmidt lukas, geboren 22.07.1965 - the size chart is wrong for me, d.o.b 22.07.1965 on my account",
        secrets=("22.07.1965",),
    ),
    Entry("lukas", "Call 030 901820 from 9 to 5 please, LUKAS"),
    # -- Emily Chen --------------------------------------------------------------------------------
    Entry("emily", "Hi, Emily Chen here, 42 Elm Grove, Bristol BS6 5QT. The dress is too small, can I exchange it?"),
    Entry("emily", "emily chen, 07911 123456, order 100052 - wrong colour sent"),
    Entry(
        "emily",
        "US customer here temporarily, my SSN is 078-05-1120 if you need it for the tax form? echen",
        secrets=("078-05-1120",),
    ),
    Entry("emily", "Please send the label to EMILY.CHEN@EXAMPLE.ORG, the parcel goes back from 42 elm gr."),
    Entry(
        "emily",
        "My card 378282246310005 was charged twice for order 100052! Chen, Emily",
        secrets=("378282246310005",),
    ),
    Entry("emily", "text me on +447911123456 when it ships, I'm in BS65QT most days"),
    # -- Grace Thompson (town that is also a word) -------------------------------------------------------
    Entry("grace", "Dear shop, Grace Thompson here, 9 Castle Street, Bath BA1 1AA. My rug arrived torn."),
    Entry("grace", "I took a bath towel order and got two hand towels. grace thompson, 01225 496781"),
    Entry(
        "grace",
        "Birthday is March 12, 1988 - do I get the discount code? grace.t@example.com",
        secrets=("March 12, 1988",),
    ),
    Entry("grace", "THOMPSON GRACE / 9 CASTLE ST / BATH / BA11AA"),
    Entry(
        "grace",
        "Driving licence MORGA753116SM9IJ is what the courier asked for, is that right? gthompson",
        secrets=("MORGA753116SM9IJ",),
    ),
    Entry("grace", "Please call +44 1225 496 781, I'm not on email much. Grace"),
    # -- Carlos García -----------------------------------------------------------------------------
    Entry("carlos", "Hola, Carlos García here. Send it to Calle Mayor 5, 28013 Madrid please."),
    Entry("carlos", "carlos garcia - +34 912 345 678 - the shoes don't fit"),
    Entry(
        "carlos",
        "Refund to ES91 2100 0418 4502 0005 1332, my DNI is 12345678Z. cgarcia",
        secrets=("ES91 2100 0418 4502 0005 1332", "12345678Z"),
    ),
    Entry("carlos", "Please email CARLOS.GARCIA@EXAMPLE.ES, I do not check the app. García, Carlos"),
    Entry("carlos", "calle mayor 5 is on the third floor, ring 912345678"),
    Entry("carlos", "Soy Carlos, cgarcia on your site. The courier left my parcel in MADRID depot, postcode 28013."),
    # -- Aisha Bello -------------------------------------------------------------------------------
    Entry("aisha", "Hi, Aisha Bello, Unit 2, 88 Station Road, Birmingham B1 1BB. The sofa legs are missing."),
    Entry("aisha", "aisha bello here, +44 121 496 0000, can the driver come after 3?"),
    Entry(
        "aisha",
        "My date of birth is 1990-04-17 and my NI is AB123456C, your form asked. aishab",
        secrets=("1990-04-17", "AB123456C"),
    ),
    Entry(
        "aisha",
        "Pay back to card 4000-0566-5566-5556 please, AISHA.BELLO@EXAMPLE.COM",
        secrets=("4000-0566-5566-5556",),
    ),
    Entry("aisha", "BELLO AISHA - 88 STATION RD - B11BB - call 0121 496 0000"),
    Entry("aisha", "Deliver to the back door of Station Road unit 2 please, Birmingham"),
)


def _norm(text: str, apostrophe: str = " ") -> str:
    """Lower case, accents and punctuation dropped, street words unabbreviated, single spaces."""
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)).lower()
    text = re.sub(r"['’]", apostrophe, text.replace("ß", "ss"))
    text = re.sub(r"[^\w\s]", " ", text).replace("_", " ")
    words = [next((w for w, a in STREET_WORDS.items() if t == a), t) for t in text.split()]
    return " " + " ".join(words) + " "


def _digits_runs(text: str) -> list[str]:
    return [re.sub(r"\D", "", m) for m in re.findall(r"\+?\d[\d\s().-]*\d", text)]


def checked_values(entry: Entry) -> list[str]:
    """Every value checked for ``entry``: known values, name parts, streets without numbers, secrets."""
    identity = CUSTOMERS[entry.customer]
    values = list(identity.values())
    for name in identity.names:
        values += [p for p in re.split(r"[\s-]+", name) if len(p) >= 2]
    for line in identity.address_lines:
        rest = re.sub(r"^\d+[A-Za-z]?\s+|\s+\d+$", "", line)
        if rest != line and rest.lower() not in GENERIC_ADDRESS_WORDS:
            values.append(rest)
    values += list(entry.secrets)
    return list(dict.fromkeys(values))


def leaks(sent: str, entry: Entry) -> list[str]:
    """The values of ``entry`` that appear in ``sent``, however they are written."""
    identity = CUSTOMERS[entry.customer]
    normal = _norm(sent)
    joined = _norm(sent, apostrophe="")
    squashed = normal.replace(" ", "")
    runs = _digits_runs(sent)
    leaked = []
    for value in checked_values(entry):
        digits = re.sub(r"\D", "", value)
        if value in identity.phones:
            core = digits[-9:]
            found = any(core in run for run in runs)
        elif value in identity.postcodes or value in entry.secrets:
            compact = _norm(value).replace(" ", "")
            found = compact in squashed or (len(digits) >= 6 and any(digits in run for run in runs))
        elif value.lower() in EVERYDAY_WORDS:
            # "will", "reading", "bath" as words are no leak; the name or town with a capital is.
            found = re.search(rf"(?<!\w)(?:{re.escape(value.capitalize())}|{re.escape(value.upper())})(?!\w)", sent)
            found = bool(found)
        else:
            found = _norm(value) in normal or _norm(value, apostrophe="") in joined
        if found:
            leaked.append(value)
    return leaked
