"""Faults against the real job machinery: jobs lost, duplicates, storefront errors, time to recover.

The bench starts its own services in a temporary directory and stops them at the end, so a fault
touches nothing else on the machine: a PostgreSQL cluster (port 55432), a Redis without persistence
(port 56379), an OpenAI-compatible stub model server (a thread of this process), two Celery workers
(``celery -A shop worker --pool solo``), Celery beat (the sweep, every 2 s) and the web server
(``manage.py runserver``). Settings: ``bench/reliability_settings.py`` (the shop's, with a 10 s lease
instead of 600 s and a 3 s re-queue wait instead of 120 s, so recovery takes seconds).

Each trial asks for product copy for a batch of products (``content.services.request_generation``,
7 jobs a product, one model call per kind and batch, through the OpenAI-compatible backend), injects
one fault while a batch is running, and waits until every job of the trial is done. A thread fetches a
product page every 0.1 s throughout.

* **kill**: SIGKILL to the worker whose batch is running; a new worker is started (a supervisor's job).
* **flush**: ``FLUSHDB`` of the broker while a batch runs (every queued message is gone).
* **postgres restart**: ``pg_ctl restart -m fast`` while a batch runs.
* **model server timeouts / garbage**: the stub stops answering within the client's timeout, or answers
  with malformed JSON and junk text, for a few seconds while the trial's jobs run.
* **full disk**: the recommender's model directory (``ENGINE_DIR``) is a 4 MB tmpfs filled to the last
  byte while a fit job runs (it embeds the catalogue and saves the engine there); then space is freed.

Counted per fault: jobs lost (not done when the trial ends, or done without their draft), duplicates
(drafts beyond one per job), storefront errors (product page not 200), time to recover (from the end of
the fault to the last job of the trial done).

    .venv/bin/python bench/bench_reliability.py [--kills 10] [--flushes 10] [--products 6] [--json]

Needs PostgreSQL 15 binaries and ``redis-server``; as root, PostgreSQL runs as the ``postgres`` user and
the full-disk trial mounts a tmpfs (skipped, and said so, where it cannot).
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BENCH = Path(__file__).resolve().parent
PG_PORT = 55432
REDIS_PORT = 56379
WEB_PORT = 58081
PY = sys.executable


# -- the stub model server ------------------------------------------------------------------------


class StubServer(ThreadingHTTPServer):
    """An OpenAI-compatible chat server whose behaviour the bench switches: ok, timeout, garbage."""

    daemon_threads = True
    mode = "ok"

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that gave up waiting (the timeout trial) is what the trial is about

    delay = 0.15
    requests = 0


class StubHandler(BaseHTTPRequestHandler):
    server: StubServer

    def log_message(self, *args: object) -> None:
        pass

    def _send(self, status: int, data: bytes, ctype: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
        self.server.requests += 1
        mode = self.server.mode
        if mode == "timeout":
            time.sleep(3)  # longer than the client's timeout (1 s in the bench's settings)
        elif mode == "garbage":
            if random.random() < 0.5:
                return self._send(200, b"<html>502 upstream hiccup</html>", "text/html")
            text = "".join(random.choice("abc <>/{}!?") for _ in range(40)) + "<script>alert(1)</script>"
            choices = [{"index": i, "message": {"content": text}} for i in range(int(body.get("n", 1)))]
            return self._send(200, json.dumps({"choices": choices}).encode())
        time.sleep(self.server.delay)
        prompt = json.dumps(body.get("messages", ""))
        colour = next((c for c in ("Navy Blue", "Black", "White", "Red", "Olive") if c in prompt), "Navy Blue")
        text = f"Northwind Women {colour} Cotton Dress"
        choices = [{"index": i, "message": {"content": text}} for i in range(int(body.get("n", 1)))]
        self._send(200, json.dumps({"choices": choices}).encode())


# -- the bench's own services -----------------------------------------------------------------------


def _pg_bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        raise SystemExit(f"PostgreSQL's {name} not found under /usr/lib/postgresql/*/bin")
    return found[-1]


class Services:
    """PostgreSQL, Redis, workers, beat and the web server, all under ``self.tmp``; stopped by ``stop``."""

    def __init__(self, tmp: Path, env: dict[str, str]) -> None:
        self.tmp = tmp
        self.env = env
        self.pgdata = tmp / "pgdata"
        self.procs: dict[str, subprocess.Popen] = {}
        self.workers: list[subprocess.Popen] = []
        self.logs: list[Any] = []
        self.as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        self.mounted: Path | None = None

    # PostgreSQL
    def _pg(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run([*self.as_postgres, *args], capture_output=True, text=True, check=check)

    def start_postgres(self) -> None:
        if self.as_postgres:
            shutil.chown(self.tmp, "postgres")
        (self.tmp / "pgsock").mkdir()
        if self.as_postgres:
            shutil.chown(self.tmp / "pgsock", "postgres")
        self._pg(_pg_bin("initdb"), "-D", str(self.pgdata), "-U", "postgres", "--auth=trust", "-E", "UTF8")
        self._pg_ctl("start")
        self._pg(_pg_bin("createdb"), "-h", "127.0.0.1", "-p", str(PG_PORT), "-U", "postgres", "bench")

    def _pg_ctl(self, action: str, *extra: str) -> None:
        options = f"-p {PG_PORT} -k {self.tmp / 'pgsock'} -c listen_addresses=127.0.0.1"
        self._pg(
            _pg_bin("pg_ctl"), "-D", str(self.pgdata), "-o", options, "-l", str(self.tmp / "pg.log"), "-w", *extra,
            action,
        )  # fmt: skip

    def restart_postgres(self) -> None:
        self._pg_ctl("restart", "-m", "fast")

    # Redis
    def start_redis(self) -> None:
        self._start(
            "redis",
            ["redis-server", "--port", str(REDIS_PORT), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.tmp)],
        )  # fmt: skip
        import redis

        client = redis.Redis(port=REDIS_PORT)
        for _ in range(100):
            with suppress(Exception):
                if client.ping():
                    return
            time.sleep(0.1)
        raise SystemExit("the bench's redis-server did not start")

    def _start(self, name: str, cmd: list[str], cwd: Path = ROOT) -> subprocess.Popen:
        log = open(self.tmp / f"{name}.log", "a")  # noqa: SIM115 - closed in stop()
        self.logs.append(log)
        proc = subprocess.Popen(
            cmd, cwd=cwd, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.procs[name] = proc
        return proc

    def manage(self, *args: str) -> None:
        done = subprocess.run([PY, "manage.py", *args], cwd=ROOT, env=self.env, capture_output=True, text=True)
        if done.returncode:
            raise SystemExit(f"manage.py {' '.join(args)} failed:\n{done.stdout}{done.stderr}")

    def start_worker(self) -> subprocess.Popen:
        n = len(self.workers)
        proc = self._start(
            f"worker{n}", [PY, "-m", "celery", "-A", "shop", "worker", "--pool", "solo", "-n", f"bench{n}@%h",
                           "--loglevel", "INFO"],
        )  # fmt: skip
        self.workers.append(proc)
        return proc

    def start_beat(self) -> None:
        schedule = self.tmp / "beat-schedule"
        self._start("beat", [PY, "-m", "celery", "-A", "shop", "beat", "-s", str(schedule), "--loglevel", "INFO"])

    def start_web(self) -> None:
        self._start("web", [PY, "manage.py", "runserver", f"127.0.0.1:{WEB_PORT}", "--noreload", "--skip-checks"])

    def kill(self, proc: subprocess.Popen) -> None:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)

    def mount_tmpfs(self, path: Path, size: str) -> bool:
        path.mkdir(parents=True, exist_ok=True)
        if os.geteuid() != 0:
            return False
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True)
        if done.returncode == 0:
            self.mounted = path
        return done.returncode == 0

    def stop(self) -> None:
        for proc in [*self.workers, *self.procs.values()]:
            if proc.poll() is None:
                with suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM)
        for proc in [*self.workers, *self.procs.values()]:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                with suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
        if self.pgdata.exists():
            self._pg(_pg_bin("pg_ctl"), "-D", str(self.pgdata), "-m", "immediate", "-w", "stop", check=False)
        if self.mounted is not None:
            subprocess.run(["umount", str(self.mounted)], capture_output=True)
        for log in self.logs:
            log.close()


# -- the storefront watcher -------------------------------------------------------------------------


class Storefront(threading.Thread):
    """Fetches a product page every 0.1 s; remembers (time, ok) of each fetch."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.fetches: list[tuple[float, float, bool, str]] = []  # (started, ended, ok, status)
        self.running = True

    def run(self) -> None:
        import requests

        session = requests.Session()
        while self.running:
            started = time.monotonic()
            try:
                response = session.get(self.url, timeout=10)
                ok, what = response.status_code == 200, str(response.status_code)
            except Exception as exc:  # a refused connection is an error the customer sees too
                ok, what = False, type(exc).__name__
            self.fetches.append((started, time.monotonic(), ok, what))
            time.sleep(max(0.0, 0.1 - (time.monotonic() - started)))

    def between(self, start: float, end: float, overlapping: bool = False) -> tuple[int, list[str]]:
        """Fetches started in [start, end] (``overlapping``: also those still running at ``start``)."""
        seen = [
            (ok, what)
            for t0, t1, ok, what in self.fetches
            if ((t0 <= end and t1 >= start) if overlapping else (start <= t0 <= end))
        ]
        return len(seen), [what for ok, what in seen if not ok]


# -- trials ----------------------------------------------------------------------------------------


@dataclass
class Result:
    fault: str
    trials: int = 0
    jobs: int = 0
    lost: int = 0
    duplicates: int = 0
    fetches: int = 0
    errors: int = 0
    recover: list[float] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def row(self) -> list[str]:
        rec = self.recover or [float("nan")]
        return [
            self.fault,
            str(self.trials),
            str(self.jobs),
            str(self.lost),
            str(self.duplicates),
            f"{self.errors} / {self.fetches}",
            f"{statistics.median(rec):.1f} / {max(rec):.1f}",
        ]


def db_retry(func: Callable[[], Any], attempts: int = 100) -> Any:
    """Run a query of this process, reconnecting while PostgreSQL restarts."""
    from django.db import DatabaseError, connection

    for attempt in range(attempts):
        try:
            return func()
        except DatabaseError:
            connection.close()
            if attempt == attempts - 1:
                raise
            time.sleep(0.2)
    return None


class Bench:
    def __init__(self, services: Services, stub: StubServer, storefront: Storefront, products: list[Any]) -> None:
        self.services = services
        self.stub = stub
        self.storefront = storefront
        self.products = products

    # jobs of one trial
    def request_batch(self) -> list[int]:
        from django.db import transaction

        from oscar_llm.content import services as content

        def create() -> list[int]:
            with transaction.atomic():
                return [job.pk for p in self.products for job in content.request_generation(p, force=True)]

        return db_retry(create)

    def status(self, ids: list[int]) -> dict[str, int]:
        from django.db.models import Count

        from oscar_llm.models import Job

        return db_retry(
            lambda: dict(Job.objects.filter(pk__in=ids).values_list("status").annotate(n=Count("id")).order_by())
        )

    def wait_running(self, ids: list[int], timeout: float = 60) -> list[str]:
        """Wait until a batch of these jobs is running; returns the claimants."""
        from oscar_llm.models import Job

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            claimed = db_retry(
                lambda: list(
                    Job.objects.filter(pk__in=ids, status=Job.Status.RUNNING).values_list("claimed_by", flat=True)
                )
            )
            if claimed:
                return claimed
            time.sleep(0.01)
        raise RuntimeError("no batch started running")

    def running_claimants(self, ids: list[int]) -> list[str]:
        from oscar_llm.models import Job

        return db_retry(
            lambda: list(Job.objects.filter(pk__in=ids, status=Job.Status.RUNNING).values_list("claimed_by", flat=True))
        )

    def wait_done(self, ids: list[int], timeout: float) -> float:
        from oscar_llm.models import Job

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            done = db_retry(lambda: Job.objects.filter(pk__in=ids, status=Job.Status.DONE).count())
            if done == len(ids):
                return time.monotonic()
            time.sleep(0.1)
        return float("nan")

    def account(self, result: Result, ids: list[int], fault_start: float, fault_end: float, done_at: float) -> None:
        """Count one trial: the storefront from the fault's start, recovery from its end."""
        from django.db.models import Count

        from oscar_llm.models import ContentDraft, Job

        def count() -> tuple[int, int, dict]:
            done = Job.objects.filter(pk__in=ids, status=Job.Status.DONE)
            with_draft = set(ContentDraft.objects.filter(job_id__in=ids).values_list("job_id", flat=True))
            lost = len(ids) - len([pk for pk in done.values_list("pk", flat=True) if pk in with_draft])
            extra = (
                ContentDraft.objects.filter(job_id__in=ids)
                .values("job_id")
                .annotate(n=Count("id"))
                .filter(n__gt=1)
                .values_list("n", flat=True)
            )
            states = dict(Job.objects.filter(pk__in=ids).values_list("status").annotate(n=Count("id")).order_by())
            return lost, sum(n - 1 for n in extra), states

        lost, duplicates, states = db_retry(count)
        result.trials += 1
        result.jobs += len(ids)
        result.lost += lost
        result.duplicates += duplicates
        if lost:
            result.notes.append(f"trial {result.trials}: {lost} lost, states {states}")
        end = done_at if done_at == done_at else time.monotonic()
        fetches, errors = self.storefront.between(fault_start, end)
        result.fetches += fetches
        result.errors += len(errors)
        if errors:
            result.notes.append(f"trial {result.trials}: storefront {sorted(set(errors))}")
        if done_at == done_at:
            result.recover.append(done_at - fault_end)

    def quiet(self) -> None:
        """Let the previous trial's leftovers (re-sent nudges) settle before the next fault."""
        time.sleep(0.5)

    # the faults
    def kills(self, n: int) -> Result:
        result = Result("worker SIGKILL mid-batch")
        for _ in range(n):
            ids = self.request_batch()
            self.wait_running(ids)
            time.sleep(random.uniform(0, 0.8))  # anywhere in the batch: generating, checking, storing
            claimants = self.running_claimants(ids) or self.wait_running(ids)
            pids = {int(c.split(":")[1]) for c in claimants if c.count(":") >= 2}
            victim = next((w for w in self.services.workers if w.pid in pids and w.poll() is None), None)
            if victim is None:
                result.notes.append("the running batch belonged to no worker of ours")
                victim = next(w for w in self.services.workers if w.poll() is None)
            self.services.kill(victim)
            fault_end = time.monotonic()
            self.services.start_worker()  # what a supervisor (systemd, Kubernetes) does
            done_at = self.wait_done(ids, timeout=120)
            self.account(result, ids, fault_end, fault_end, done_at)
            self.quiet()
        return result

    def flushes(self, n: int) -> Result:
        import redis

        client = redis.Redis(port=REDIS_PORT)
        result = Result("Redis FLUSHDB mid-batch")
        for _ in range(n):
            ids = self.request_batch()
            self.wait_running(ids)
            time.sleep(random.uniform(0, 0.8))
            client.flushdb()
            fault_end = time.monotonic()
            done_at = self.wait_done(ids, timeout=120)
            self.account(result, ids, fault_end, fault_end, done_at)
            self.quiet()
        return result

    def postgres_restart(self, n: int = 1) -> Result:
        result = Result("PostgreSQL restart mid-batch")
        self.down_windows: list[tuple[float, float]] = []
        for _ in range(n):
            ids = self.request_batch()
            self.wait_running(ids)
            started = time.monotonic()
            self.services.restart_postgres()
            fault_end = time.monotonic()
            self.down_windows.append((started, fault_end))
            done_at = self.wait_done(ids, timeout=120)
            # The page needs its database: fetches while PostgreSQL itself is down are counted apart.
            self.account(result, ids, fault_end, fault_end, done_at)
            self.quiet()
        return result

    def model_server(self, mode: str, seconds: float, n: int = 1) -> Result:
        result = Result(f"model server {'times out' if mode == 'timeout' else 'answers garbage'} ({seconds:.0f} s)")
        for _ in range(n):
            self.stub.mode = mode
            fault_start = time.monotonic()
            ids = self.request_batch()
            time.sleep(seconds)
            self.stub.mode = "ok"
            fault_end = time.monotonic()
            done_at = self.wait_done(ids, timeout=180)
            self.account(result, ids, fault_start, fault_end, done_at)
            self.quiet()
        return result

    def full_disk(self, engine_dir: Path, mounted: bool) -> Result:
        from oscar_llm.models import Job
        from oscar_llm.recommendations import history
        from oscar_llm.recommendations.precompute import engine_path

        result = Result("full disk for the model directory")
        if not mounted:
            result.notes.append("skipped: no tmpfs could be mounted (needs root)")
            return result
        fault_start = time.monotonic()
        filler = engine_dir / "filler"
        with open(filler, "wb") as f, suppress(OSError):
            while True:
                f.write(b"\0" * 65536)
                f.flush()
        job = db_retry(lambda: history.schedule_fit(reason=f"bench-{time.time()}"))
        deadline = time.monotonic() + 300
        failed_with = ""
        while time.monotonic() < deadline:
            job.refresh_from_db()
            if job.attempts >= 1 and job.status in (Job.Status.PENDING, Job.Status.FAILED) and job.error:
                failed_with = job.error
                break
            time.sleep(0.2)
        filler.unlink()
        fault_end = time.monotonic()
        done_at = float("nan")
        while time.monotonic() < fault_end + 300:
            job.refresh_from_db()
            if job.status == Job.Status.DONE:
                done_at = time.monotonic()
                break
            if job.status == Job.Status.FAILED:
                break
            time.sleep(0.2)
        result.trials, result.jobs = 1, 1
        result.lost = 0 if job.status == Job.Status.DONE and engine_path().exists() else 1
        result.duplicates = max(0, Job.objects.filter(kind=history.FIT_JOB, input_hash=job.input_hash).count() - 1)
        fetches, errors = self.storefront.between(fault_start, done_at if done_at == done_at else time.monotonic())
        result.fetches, result.errors = fetches, len(errors)
        if done_at == done_at:
            result.recover.append(done_at - fault_end)
        result.notes.append(f"while full, the fit job recorded: {failed_with.strip()[:160]!r}")
        return result


# -- set-up ----------------------------------------------------------------------------------------


def make_products(n: int) -> list[Any]:
    from decimal import Decimal

    from oscar.apps.catalogue.categories import create_from_breadcrumbs
    from oscar.core.loading import get_model
    from oscar.test.factories import create_product

    colours = ["Navy Blue", "Black", "White", "Red", "Olive"]
    codes = ["NVBL", "BLK", "WHT", "RD", "OLV"]
    products = []
    for i in range(n):
        product = create_product(
            upc=f"BENCH-{i}",
            title=f"NW DRS CTN {codes[i % 5]} M{i}",
            product_class="Clothing",
            price=Decimal("45.00"),
            num_in_stock=10,
            attributes={
                "brand": "Northwind",
                "gender": "Women",
                "colour": colours[i % 5],
                "material": "Cotton",
                "size": "M",
                "season": "Summer",
                "usage": "Casual",
            },
            description="",
        )
        get_model("catalogue", "ProductCategory").objects.create(
            product=product, category=create_from_breadcrumbs("Women > Clothing > Dresses")
        )
        products.append(product)
    return products


def print_table(results: list[Result]) -> None:
    head = ["fault", "trials", "jobs", "lost", "duplicates", "storefront errors / fetches", "recover s (median / max)"]
    rows = [head] + [r.row() for r in results]
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    print("| " + " | ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)) + " |")
    print("| " + " | ".join("-" * w for w in widths) + " |")
    for row in rows[1:]:
        print("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=10)
    parser.add_argument("--flushes", type=int, default=10)
    parser.add_argument("--restarts", type=int, default=3, help="PostgreSQL restarts")
    parser.add_argument("--seed", type=int, default=0, help="where in a batch each fault lands")
    parser.add_argument("--products", type=int, default=6, help="products per trial (7 jobs each)")
    parser.add_argument("--no-disk", action="store_true", help="leave out the full-disk trial (it loads MiniLM)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (logs) afterwards")
    parser.add_argument("--json", action="store_true", help="print a JSON summary as the last line")
    args = parser.parse_args()
    random.seed(args.seed)

    tmp = Path(tempfile.mkdtemp(prefix="oscar_llm_reliability_"))
    stub = StubServer(("127.0.0.1", 0), StubHandler)
    threading.Thread(target=stub.serve_forever, daemon=True).start()
    engine_dir = tmp / "models"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "reliability_settings",
        "PYTHONPATH": os.pathsep.join([str(BENCH), str(ROOT)]),
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:{PG_PORT}/bench",
        "CELERY_BROKER_URL": f"redis://127.0.0.1:{REDIS_PORT}/0",
        "OSCAR_LLM_OPENAI_BASE_URL": f"http://127.0.0.1:{stub.server_address[1]}/v1",
        "OSCAR_LLM_OPENAI_MODEL": "stub",
        "OSCAR_LLM_VAR_DIR": str(tmp / "var"),
        "BENCH_ENGINE_DIR": str(engine_dir),
        "DJANGO_DEBUG": "0",
        "DJANGO_SECURE": "0",  # runserver speaks plain HTTP: no redirect to HTTPS, no secure-only cookies
        "DJANGO_SECRET_KEY": "bench-only-" + os.urandom(8).hex(),
        "PYTHONUNBUFFERED": "1",
    }
    for key in ("CELERY_TASK_ALWAYS_EAGER", "CACHE_URL", "OSCAR_LLM_MODEL", "OSCAR_LLM_SEARCH_INDEX"):
        env.pop(key, None)
    os.environ.update(env)
    for key in ("CELERY_TASK_ALWAYS_EAGER", "CACHE_URL", "OSCAR_LLM_MODEL", "OSCAR_LLM_SEARCH_INDEX"):
        os.environ.pop(key, None)
    sys.path[:0] = [str(BENCH), str(ROOT)]
    services = Services(tmp, env)
    storefront: Storefront | None = None
    results: list[Result] = []
    pg_down = (0, 0)
    started = time.monotonic()
    try:
        print(f"==> services in {tmp}: PostgreSQL :{PG_PORT}, Redis :{REDIS_PORT}, stub model server "
              f":{stub.server_address[1]}", flush=True)  # fmt: skip
        services.start_postgres()
        services.start_redis()
        services.manage("migrate", "--noinput")
        import django

        django.setup()
        import shop  # noqa: F401  (the Celery app this process sends nudges with)
        from oscar_llm.models import Feature, FeatureSwitch

        products = make_products(args.products)
        mounted = services.mount_tmpfs(engine_dir, "4m")
        for _ in range(2):
            services.start_worker()
        services.start_beat()
        services.start_web()
        # Product copy on: its bulk job writes every product's drafts (the warm-up); the page shows copy.
        FeatureSwitch.objects.update_or_create(feature=Feature.PRODUCT_COPY, defaults={"enabled": True})
        from oscar_llm.models import Job

        deadline = time.monotonic() + 300
        while Job.objects.exclude(status=Job.Status.DONE).exists() or not Job.objects.exists():
            if time.monotonic() > deadline:
                raise SystemExit("warm-up jobs did not finish; see the logs in " + str(tmp))
            time.sleep(0.5)
        storefront = Storefront(f"http://127.0.0.1:{WEB_PORT}{products[0].get_absolute_url()}")
        storefront.start()
        time.sleep(2)
        print(f"==> warm-up done ({Job.objects.count()} jobs) in {time.monotonic() - started:.0f} s", flush=True)
        bench = Bench(services, stub, storefront, products)
        for name, run in (
            ("kills", lambda: bench.kills(args.kills)),
            ("flushes", lambda: bench.flushes(args.flushes)),
            ("postgres", lambda: bench.postgres_restart(args.restarts)),
            ("timeout", lambda: bench.model_server("timeout", 8)),
            ("garbage", lambda: bench.model_server("garbage", 8)),
            ("disk", lambda: None if args.no_disk else bench.full_disk(engine_dir, mounted)),
        ):
            t = time.monotonic()
            outcome = run()
            if outcome is None:
                continue
            results.append(outcome)
            print(f"    {name}: {outcome.row()} in {time.monotonic() - t:.0f} s", flush=True)
        storefront.running = False
        print()
        print_table(results)
        print()
        total_fetches = len(storefront.fetches)
        failed = [(t0, t1, what) for t0, t1, ok, what in storefront.fetches if not ok]
        windows = getattr(bench, "down_windows", [])
        # Fetches that overlapped a restart, counted now: one held by the retry ends only after the restart.
        during = [f for f in storefront.fetches if any(f[0] <= end and f[1] >= start for start, end in windows)]
        pg_down = (len(during), sum(1 for f in during if not f[2]))
        outside = [f for f in failed if not any(f[0] <= end and f[1] >= start for start, end in windows)]
        print(f"storefront: {len(failed)} errors in {total_fetches} fetches over the whole run", end="")
        slowest = max((f[1] - f[0] for f in during), default=0.0)
        print(f"; while PostgreSQL itself was restarting: {pg_down[1]} errors in {pg_down[0]} fetches "
              f"(slowest {slowest:.1f} s)", end="")  # fmt: skip
        print(f"; at any other time: {len(outside)} {sorted({w for _a, _b, w in outside})}")
        for result in results:
            for note in result.notes:
                print(f"note ({result.fault}): {note}")
        print(f"total {time.monotonic() - started:.0f} s; stub model server answered {stub.requests} requests")
        if args.json:
            print(json.dumps({"results": [r.__dict__ for r in results], "pg_down": pg_down}))
    finally:
        if storefront is not None:
            storefront.running = False
        services.stop()
        stub.shutdown()
        if args.keep:
            print(f"logs kept in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
