"""The OpenAI-compatible backend against a real (tiny) HTTP server on 127.0.0.1."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from oscar_llm.llm.base import GenerationOptions, GenerationRequest, ModelUnavailable
from oscar_llm.llm.openai_backend import OpenAICompatibleGenerator


class ChatServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.bodies: list[dict] = []
        self.hits: dict[str, int] = {}
        self.lock = threading.Lock()
        self.barrier: threading.Barrier | None = None
        self.in_flight = 0
        self.peak = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class Handler(BaseHTTPRequestHandler):
    server: ChatServer

    def log_message(self, *args) -> None:  # keep test output quiet
        pass

    def _send(self, status: int, payload: dict) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        mode = self.path.split("/")[1]  # /<mode>/v1/chat/completions
        with self.server.lock:
            self.server.bodies.append({**body, "_path": self.path, "_auth": self.headers.get("Authorization")})
            hits = self.server.hits[mode] = self.server.hits.get(mode, 0) + 1
        if mode == "flaky" and hits == 1:
            return self._send(500, {"error": {"message": "warming up"}})
        if mode == "down":
            return self._send(503, {"error": {"message": "model is loading"}})
        if mode == "bad":
            return self._send(400, {"error": {"message": "unknown model"}})
        if mode == "hang":
            time.sleep(2)
        if mode == "gather":  # answers only when `barrier.parties` requests are in flight together
            with self.server.lock:
                self.server.in_flight += 1
                self.server.peak = max(self.server.peak, self.server.in_flight)
            try:
                self.server.barrier.wait()
            except threading.BrokenBarrierError:
                return self._send(400, {"error": {"message": "requests arrived one at a time"}})
            finally:
                with self.server.lock:
                    self.server.in_flight -= 1
        if mode == "single":  # a server that ignores n (Ollama, llama.cpp)
            body["n"] = 1
        prompt = body["messages"][-1]["content"]
        choices = [
            {"index": i, "message": {"role": "assistant", "content": f" reply {i} to {prompt[:12]} "}}
            for i in range(body.get("n", 1))
        ]
        self._send(200, {"id": "x", "object": "chat.completion", "choices": choices})


@pytest.fixture
def server():
    srv = ChatServer()
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


def make(server: ChatServer, mode: str, **kwargs) -> OpenAICompatibleGenerator:
    kwargs = {"timeout": 5, "max_retries": 2, "backoff": 0.01, **kwargs}
    return OpenAICompatibleGenerator(f"{server.url}/{mode}/v1", "shop-model", api_key="k", **kwargs)


def req(text: str) -> GenerationRequest:
    return GenerationRequest(
        prompt=f"plain {text}",
        messages=[{"role": "system", "content": "sys"}, {"role": "user", "content": text}],
        max_new_tokens=20,
    )


def test_chat_completions_in_order_with_the_request_fields(server):
    gen = make(server, "ok")
    out = gen.generate([req("first"), req("second"), req("third")], GenerationOptions(seed=5))
    assert out == [["reply 0 to first"], ["reply 0 to second"], ["reply 0 to third"]]
    body = server.bodies[0]
    assert body["_path"] == "/ok/v1/chat/completions"
    assert body["_auth"] == "Bearer k"
    assert body["model"] == "shop-model"
    assert body["messages"][0] == {"role": "system", "content": "sys"}
    assert body["max_tokens"] == 20 and body["temperature"] == 0 and body["n"] == 1 and body["seed"] == 5


def test_a_batch_is_sent_concurrently_up_to_the_limit(server):
    # The server answers a request only once 6 are waiting together: one at a time would fail.
    server.barrier = threading.Barrier(6, timeout=30)
    gen = make(server, "gather", concurrency=6, max_retries=0, timeout=60)
    out = gen.generate([req(f"product {i}") for i in range(24)], GenerationOptions())
    assert out == [[f"reply 0 to product {i}"] for i in range(24)]
    assert server.peak == 6  # never more than the limit in flight


def test_concurrency_comes_from_the_settings(settings):
    settings.OSCAR_LLM = {"OPENAI": {"base_url": "http://127.0.0.1:9/v1", "model": "m", "concurrency": 3}}
    from oscar_llm.settings import llm_settings

    assert OpenAICompatibleGenerator.from_settings(llm_settings).concurrency == 3
    settings.OSCAR_LLM = {"OPENAI": {"base_url": "http://127.0.0.1:9/v1", "model": "m"}}
    assert OpenAICompatibleGenerator.from_settings(llm_settings).concurrency == 8


def test_sampling_and_candidates(server):
    gen = make(server, "ok")
    [candidates] = gen.generate([req("x")], GenerationOptions(do_sample=True, temperature=0.7, num_candidates=3))
    assert candidates == ["reply 0 to x", "reply 1 to x", "reply 2 to x"]
    assert server.bodies[0]["temperature"] == 0.7 and server.bodies[0]["n"] == 3


def test_servers_that_ignore_n_are_asked_again(server):
    gen = make(server, "single")
    [candidates] = gen.generate([req("x")], GenerationOptions(do_sample=True, num_candidates=3, seed=1))
    assert len(candidates) == 3
    assert [b["seed"] for b in server.bodies] == [1, 2, 3]


def test_retries_after_a_server_error(server):
    gen = make(server, "flaky")
    assert gen.generate([req("x")], GenerationOptions()) == [["reply 0 to x"]]
    assert server.hits["flaky"] == 2


def test_gives_up_with_the_server_error(server):
    gen = make(server, "down")
    with pytest.raises(ModelUnavailable, match="model is loading"):
        gen.generate([req("x")], GenerationOptions())
    assert server.hits["down"] == 3  # one try and two retries


def test_client_errors_are_not_retried(server):
    with pytest.raises(ModelUnavailable, match="unknown model"):
        make(server, "bad").generate([req("x")], GenerationOptions())
    assert server.hits["bad"] == 1


def test_hanging_server_times_out(server):
    gen = make(server, "hang", timeout=0.2, max_retries=1)
    started = time.monotonic()
    with pytest.raises(ModelUnavailable, match="no answer within"):
        gen.generate([req("x")], GenerationOptions())
    assert time.monotonic() - started < 2


def test_connection_refused():
    gen = OpenAICompatibleGenerator("http://127.0.0.1:9/v1", "m", max_retries=1, backoff=0.01, timeout=1)
    with pytest.raises(ModelUnavailable, match="connection failed"):
        gen.generate([req("x")], GenerationOptions())


def test_model_id_from_settings_without_a_connection():
    settings = type("S", (), {"OPENAI": {"base_url": "http://gpu:8000/v1/", "model": "llama", "api_key": ""}})
    assert OpenAICompatibleGenerator.describe_settings(settings) == "openai:llama@http://gpu:8000/v1"
    assert OpenAICompatibleGenerator.from_settings(settings).model_id == "openai:llama@http://gpu:8000/v1"


SECRET_URL = "https://shop:s3cret-pass@llm.example.com:8443/v1/?api_key=k-123#x"


def test_credentials_in_the_base_url_never_reach_ids_or_errors():
    from oscar_llm.llm.openai_backend import public_url

    assert public_url(SECRET_URL) == "https://llm.example.com:8443/v1"
    assert public_url("http://[::1]:8000/v1") == "http://[::1]:8000/v1"
    gen = OpenAICompatibleGenerator(SECRET_URL, "llama")
    assert gen.model_id == "openai:llama@https://llm.example.com:8443/v1"
    refused = OpenAICompatibleGenerator(
        "http://user:s3cret-pass@127.0.0.1:9/v1", "m", max_retries=0, backoff=0.01, timeout=1
    )
    with pytest.raises(ModelUnavailable) as error:
        refused.generate([req("x")], GenerationOptions())
    assert "s3cret" not in str(error.value)


@pytest.mark.django_db
def test_job_rows_store_the_model_id_without_credentials(settings):
    from oscar_llm import jobs
    from oscar_llm.llm.registry import configured_model_id

    settings.OSCAR_LLM = {
        "GENERATOR": "oscar_llm.llm.openai_backend.OpenAICompatibleGenerator",
        "OPENAI": {"base_url": SECRET_URL, "model": "llama", "api_key": "sk-x"},
    }
    model_id = configured_model_id()
    assert "s3cret" not in model_id and "k-123" not in model_id
    job, _ = jobs.request(
        "support.draft", target_model="oscar_llm.message", target_id=1, key=jobs.JobKey("h", "v", model_id), send=False
    )
    job.refresh_from_db()
    assert "s3cret" not in job.model_id and "k-123" not in job.model_id
