"""An OpenAI-compatible server with a fixed latency per request: a batch sent concurrently vs one at a time.

A local stub server (threaded, as vLLM/TGI/llama.cpp serve requests in parallel) answers every
``POST /v1/chat/completions`` after ``--latency`` seconds. The real backend
(``OpenAICompatibleGenerator.generate``) sends the same batch of ``--requests`` product titles with
``concurrency=1`` (one at a time, the old behaviour) and with ``--concurrency`` (the setting
``OSCAR_LLM["OPENAI"]["concurrency"]``), alternating over ``--rounds`` rounds; printed: requests per
second of each and their ratio (median of the paired rounds), then a JSON line.

    .venv/bin/python bench/bench_openai_concurrency.py --requests 64 --latency 0.2 --concurrency 8 --rounds 3
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from oscar_llm.llm.base import GenerationOptions, GenerationRequest  # noqa: E402
from oscar_llm.llm.openai_backend import OpenAICompatibleGenerator  # noqa: E402


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256
    latency: float = 0.1
    served: int = 0
    in_flight: int = 0
    peak: int = 0
    lock: threading.Lock


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"  # keep-alive, as real servers

    def log_message(self, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        with self.server.lock:
            self.server.in_flight += 1
            self.server.peak = max(self.server.peak, self.server.in_flight)
        time.sleep(self.server.latency)
        text = "Northwind Women Navy Blue Cotton Dress " + body["messages"][-1]["content"][-8:]
        data = json.dumps({"choices": [{"index": 0, "message": {"content": text}}]}).encode()
        with self.server.lock:
            self.server.in_flight -= 1
            self.server.served += 1
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def run(generator: OpenAICompatibleGenerator, n: int) -> float:
    requests = [GenerationRequest(prompt=f"Title for product {i}", max_new_tokens=32) for i in range(n)]
    start = time.perf_counter()
    out = generator.generate(requests, GenerationOptions(num_candidates=1))
    elapsed = time.perf_counter() - start
    assert len(out) == n and all(texts and texts[0] for texts in out), "the server's answers were lost"
    return n / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=64)
    parser.add_argument("--latency", type=float, default=0.2, help="seconds the stub server takes per request")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    server = _Server(("127.0.0.1", 0), _Handler)
    server.latency = args.latency
    server.lock = threading.Lock()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    try:
        sequential = OpenAICompatibleGenerator(url, "stub", max_retries=0, concurrency=1)
        concurrent = OpenAICompatibleGenerator(url, "stub", max_retries=0, concurrency=args.concurrency)
        seq_rates, conc_rates, ratios = [], [], []
        peak = 0
        for _ in range(args.rounds):
            a = run(sequential, args.requests)
            server.peak = 0
            b = run(concurrent, args.requests)
            peak = max(peak, server.peak)
            seq_rates.append(a)
            conc_rates.append(b)
            ratios.append(b / a)
    finally:
        server.shutdown()
        server.server_close()
    load = os.getloadavg()
    result = {
        "bench": "openai_concurrency",
        "requests": args.requests,
        "latency_s": args.latency,
        "concurrency": args.concurrency,
        "sequential_rps": round(statistics.median(seq_rates), 2),
        "concurrent_rps": round(statistics.median(conc_rates), 2),
        "ratio": round(statistics.median(ratios), 2),
        "peak_in_flight": peak,
        "loadavg": [round(x, 2) for x in load],
    }
    print(
        f"{args.requests} requests, {args.latency * 1000:.0f} ms each at the server: one at a time "
        f"{result['sequential_rps']} req/s, {args.concurrency} in flight {result['concurrent_rps']} req/s "
        f"({result['ratio']}x; at most {peak} in flight), load average {load[0]:.2f}"
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
