"""Personal data to an outside model server: how many of the corpus's values a server receives.

Every message of ``tests/core/redaction_corpus.py`` (60 support messages from ten customers, with
their names, e-mails, usernames, addresses, towns, postcodes, phones, and dates of birth, passport,
National Insurance, SSN-like, IBAN and card numbers) goes through the real OpenAI-compatible backend
to a local stub server that records what it receives. Counted: the values found in what it received
(however written: any case, spacing, abbreviation; phones by their last digits).

    .venv/bin/python bench/bench_redaction.py [--json]

Printed for two callers: one that gives the backend the customer's every known value
(``GenerationRequest.personal``), and, for comparison, one that knows only the first name (what
``support/drafting.py`` passed before issue 11).
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from oscar_llm.guardrails.redaction import CustomerIdentity  # noqa: E402
from oscar_llm.llm.base import GenerationOptions, GenerationRequest  # noqa: E402
from oscar_llm.llm.openai_backend import OpenAICompatibleGenerator  # noqa: E402
from tests.core.redaction_corpus import CUSTOMERS, ENTRIES, checked_values, leaks  # noqa: E402

KEEP = ("100023", "100031", "100044", "100052")


class _Recorder(ThreadingHTTPServer):
    daemon_threads = True
    bodies: list[dict]


class _Handler(BaseHTTPRequestHandler):
    server: _Recorder

    def log_message(self, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.bodies.append(body)
        data = json.dumps({"choices": [{"index": 0, "message": {"content": "Thank you."}}]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def measure(identity_for: dict[str, CustomerIdentity]) -> dict[str, object]:
    """Send the corpus with ``identity_for[customer]`` as the known values; count what arrived."""
    server = _Recorder(("127.0.0.1", 0), _Handler)
    server.bodies = []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        generator = OpenAICompatibleGenerator(f"http://127.0.0.1:{server.server_address[1]}/v1", "any", max_retries=0)
        requests = [
            GenerationRequest(
                prompt=entry.text,
                messages=[{"role": "system", "content": f"Ticket {i}."}, {"role": "user", "content": entry.text}],
                personal=identity_for[entry.customer],
                keep=KEEP,
            )
            for i, entry in enumerate(ENTRIES)
        ]
        generator.generate(requests, GenerationOptions())
    finally:
        server.shutdown()
        server.server_close()
    values = leaked = 0
    examples: list[str] = []
    for body in server.bodies:
        marker, sent = body["messages"][0]["content"], body["messages"][1]["content"]
        entry = ENTRIES[int(marker.removeprefix("Ticket ").rstrip("."))]
        values += len(checked_values(entry))
        found = leaks(sent, entry)
        leaked += len(found)
        examples += found[: max(0, 5 - len(examples))]
    return {"messages": len(server.bodies), "values": values, "leaked": leaked, "examples": examples}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print a JSON summary as the last line")
    args = parser.parse_args()
    full = measure(CUSTOMERS)
    first_only = measure({k: CustomerIdentity(names=v.names[0].split()[0]) for k, v in CUSTOMERS.items()})
    customers = len(CUSTOMERS)
    print(f"corpus: {full['messages']} messages from {customers} customers, {full['values']} values checked")
    print(f"every known value given:  values leaked: {full['leaked']} of {full['values']}")
    print(
        f"first name only given:    values leaked: {first_only['leaked']} of {first_only['values']}"
        f" (e.g. {', '.join(map(str, first_only['examples']))})"
    )
    if args.json:
        print(json.dumps({"known_values": full, "first_name_only": first_only}))
    sys.exit(1 if full["leaked"] else 0)


if __name__ == "__main__":
    main()
