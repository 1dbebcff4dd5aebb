"""How the recommender grows: fit time, peak memory and block time by catalogue size and event count.

Each size runs in a fresh subprocess, so its peak RSS (``ru_maxrss``) is its own. Two ways to run a size:

* ``orm`` (the production path): a SQLite database per size (``var/bench_growth_<P>x<E>.sqlite3``) holding
  the demo shop, bulk products up to P (``bench_recommendations.grow_catalogue``: random unit vectors) and
  E synthetic views by E/10 visitors (``bench_recommendations.synthetic_histories``), built in a subprocess
  of its own; then, in another, ``precompute.fit`` with each of its phases timed (reading the events, the
  engine's fit, saving it, precomputing the lists) and ``block_items`` p95/median warm and cold for the
  three blocks (``bench_recommendations.measure_blocks``: the block's data, no template).
* ``engine`` (no ORM): the same synthetic data drawn straight into arrays (same distribution: each visitor
  starts at a random product and browses ids within +-20 of it) and ``RecommenderEngine.fit`` on them, then
  the time of one list of each kind (``similar_items``, ``complete_basket``, ``recommend``), from which the
  precompute at the default settings is projected. For sizes whose database would not be built in time.

``--ease-caps`` measures ``engine.ease_matrix`` alone at one size for several ``ease_max_items`` (a fit runs
it twice: once on the statistics the blend is tuned with, once on all events).

A subprocess is limited to ``--mem-limit-gb`` of address space (``RLIMIT_AS``), so a size that needs more
fails with a MemoryError (reported, with the phase it was in) instead of taking the shared machine down.

Usage:
  python bench/bench_growth.py --mode engine --sizes 10000x1000000,100000x1000000,100000x10000000,1000000x10000000
  python bench/bench_growth.py --mode orm --sizes 10000x1000000,100000x1000000 --active-days 1
  python bench/bench_growth.py --ease-caps 5000,10000,20000 --ease-at 100000x1000000
Prints one JSON line per size (and per EASE cap) on stdout; progress goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # this checkout's oscar_llm, not the one installed in the environment
PER_VISITOR = 10  # events per synthetic visitor, as bench_recommendations.py makes them
PRECOMPUTE_PRODUCTS = 2000  # the shop's default (OSCAR_LLM["RECOMMENDATIONS"])


def parse_size(text: str) -> tuple[int, int]:
    products, events = text.lower().split("x")
    return int(float(products)), int(float(events))


def peak_mb() -> float:
    """This process's peak resident set so far (Linux reports kilobytes)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return round(int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20, 1)


def limit_memory(gb: float) -> None:
    if gb > 0:
        limit = int(gb * 2**30)
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


class Phases:
    """Seconds and memory of each phase: RSS when it started, the process's peak when it ended."""

    def __init__(self) -> None:
        self.done: dict[str, dict[str, float]] = {}
        self.returned: dict[str, Any] = {}
        self.current: str | None = None

    def run(self, name: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        self.current = name
        start_rss, t0 = rss_mb(), time.perf_counter()
        log(f"{name}: start (rss {start_rss:.0f} MB)")
        out = fn(*args, **kwargs)
        self.done[name] = {
            "seconds": round(time.perf_counter() - t0, 2),
            "rss_start_mb": start_rss,
            "peak_mb": peak_mb(),
        }
        log(f"{name}: {self.done[name]}")
        self.returned[name] = out
        self.current = None
        return out

    def wrap(self, owner: Any, attr: str, name: str) -> None:
        """Time every call of ``owner.attr`` as the phase ``name`` (the bench's hook into production code)."""
        original = getattr(owner, attr)

        def timed(*args: Any, **kwargs: Any) -> Any:
            return self.run(name, original, *args, **kwargs)

        setattr(owner, attr, timed)


# --- synthetic data without the ORM --------------------------------------------------------------


def synthetic_arrays(products: int, events: int, *, dim: int = 384, seed: int = 0) -> dict[str, Any]:
    """The bench's catalogue and visitors as plain arrays (``synthetic_histories``' distribution, numpy's RNG)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    visitors = max(1, events // PER_VISITOR)
    vectors = np.empty((products, dim), dtype=np.float32)
    for start in range(0, products, 100_000):  # in chunks: no float64 copy of the whole matrix
        block = rng.standard_normal((min(100_000, products - start), dim), dtype=np.float32)
        vectors[start : start + block.shape[0]] = block / np.linalg.norm(block, axis=1, keepdims=True)
    base = rng.integers(0, products, visitors)
    step = rng.integers(-20, 21, (visitors, PER_VISITOR))
    step[:, 0] = 0
    rows = (base[:, None] + step) % products
    day = rng.uniform(0, 25, visitors)
    ages = day[:, None] + (PER_VISITOR - np.arange(PER_VISITOR))[None, :] / 1440.0
    ids = [str(i) for i in range(products)]
    return {
        "ids": ids,
        "vectors": vectors,
        # Lists of ids, weights and ages per visitor: what precompute.fit hands the engine.
        "histories": [[ids[r] for r in row] for row in rows.tolist()],
        "weights": [[1.0] * PER_VISITOR for _ in range(visitors)],
        "ages": ages.tolist(),
        "rows": rows,
    }


def median_ms(fn: Any, args: list) -> float:
    times = []
    for a in args:
        t0 = time.perf_counter()
        fn(a)
        times.append(time.perf_counter() - t0)
    return round(statistics.median(times) * 1000, 2)


def run_engine(products: int, events: int, engine_config: dict, phases: Phases, result: dict) -> None:
    import numpy as np

    from oscar_llm.recommendations.engine import EngineConfig, RecommenderEngine

    data = phases.run("build arrays", synthetic_arrays, products, events)
    engine = RecommenderEngine(EngineConfig.from_dict(engine_config))
    report = phases.run(
        "engine fit",
        engine.fit,
        data["ids"],
        data["vectors"],
        data["histories"],
        weights=data["weights"],
        ages_days=data["ages"],
    )
    result["fit_report"] = {
        k: report.get(k) for k in ("model", "statistics_seconds", "fit_seconds", "ease", "seq", "validation")
    }
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "engine.npz"
        phases.run("save", engine.save, path)
        result["engine_file_mb"] = round(path.stat().st_size / 2**20, 1)
        del engine
        engine = phases.run("load", RecommenderEngine.load, path)
    rng = np.random.default_rng(1)
    items = [str(i) for i in rng.integers(0, products, 20)]
    visitors = rng.integers(0, len(data["histories"]), 20)
    size = 40  # LIST_SIZE
    per_list = {
        "similar_items_ms": median_ms(lambda i: engine.similar_items(i, size), items),
        "complete_basket_ms": median_ms(lambda i: engine.complete_basket([i], size), items),
        "recommend_ms": median_ms(lambda v: engine.recommend(data["histories"][v], size), list(visitors)),
    }
    result["per_list"] = per_list
    # Default settings: PRECOMPUTE_PRODUCTS products get both neighbour lists; every visitor active within
    # ACTIVE_DAYS (30; the synthetic visitors are all younger) gets a personal list.
    chosen = min(products, PRECOMPUTE_PRODUCTS)
    result["precompute_projected_seconds"] = round(
        (
            chosen * (per_list["similar_items_ms"] + per_list["complete_basket_ms"])
            + len(data["histories"]) * per_list["recommend_ms"]
        )
        / 1000,
        1,
    )


# --- the production path through the ORM ---------------------------------------------------------


def database(products: int, events: int | None = None) -> Path:
    name = f"bench_growth_{products}" + (f"x{events}" if events is not None else "")
    return ROOT / "var" / f"{name}.sqlite3"


def build_database(products: int, events: int, phases: Phases, result: dict) -> None:
    """The size's own SQLite database: demo shop, bulk products, synthetic events (kept between runs)."""
    target = database(products, events)
    if target.exists():
        result["built"] = "already"
        return
    catalogue = database(products)
    from _setup import django_setup, ensure_demo_shop

    os.environ["BENCH_DATABASE_URL"] = f"sqlite:///{catalogue}"
    django_setup()
    from bench_recommendations import grow_catalogue, synthetic_histories
    from django.db import connection

    from oscar_llm.models import ItemVector
    from oscar_llm.recommendations import precompute

    phases.run("demo shop", ensure_demo_shop)
    result["products_created"] = phases.run("bulk products", grow_catalogue, products)
    # The demo products' MiniLM vectors, so that the measured fit does not load the embedding model.
    ids, _ = precompute._catalogue()
    missing = sorted(set(ids) - set(ItemVector.objects.values_list("product_id", flat=True)))
    phases.run("demo vectors", precompute.compute_vectors, missing)
    connection.close()
    tmp = target.with_suffix(".tmp")
    shutil.copyfile(catalogue, tmp)  # the catalogue alone is kept for the next event count
    connection.settings_dict["NAME"] = str(tmp)
    result["events_created"] = phases.run("synthetic events", synthetic_histories, events // PER_VISITOR, PER_VISITOR)
    connection.close()
    tmp.replace(target)
    result["database_mb"] = round(target.stat().st_size / 2**20, 1)


def run_orm(products: int, events: int, args: argparse.Namespace, phases: Phases, result: dict) -> None:
    os.environ["BENCH_DATABASE_URL"] = f"sqlite:///{database(products, events)}"
    from _setup import django_setup

    django_setup()
    from bench_recommendations import BlockCalls, configure, measure_blocks

    from oscar_llm.models import Feature, FeatureSwitch, RecommendationList
    from oscar_llm.recommendations import engine as engine_mod
    from oscar_llm.recommendations import precompute, services

    configure(precompute=args.precompute, active_days=args.active_days, engine_config=json.loads(args.engine_config))
    RecommendationList.objects.all().delete()  # this run's lists only
    phases.wrap(precompute, "load_histories", "read events")
    phases.wrap(engine_mod.RecommenderEngine, "fit", "engine fit")
    phases.wrap(engine_mod.RecommenderEngine, "save", "save")
    phases.wrap(precompute, "precompute_all", "precompute lists")
    summary = phases.run("precompute.fit", precompute.fit)
    result["fit_summary"] = summary
    report = phases.returned["engine fit"]
    result["fit_report"] = {k: report.get(k) for k in ("model", "statistics_seconds", "ease", "seq", "validation")}
    FeatureSwitch.set(Feature.RECOMMENDATIONS, enabled=True)
    calls = BlockCalls()
    # "Recommended for you" needs customers with a list: none when ACTIVE_DAYS left them all out.
    blocks = [b for b in services.BLOCKS if b != services.FOR_YOU or calls.users]
    result["blocks"] = phases.run("blocks", measure_blocks, calls, blocks, args.samples, modes=("warm", "cold"))


# --- EASE's item cap -----------------------------------------------------------------------------


def run_ease(products: int, events: int, cap: int, phases: Phases, result: dict) -> None:
    from oscar_llm.recommendations.engine import EngineConfig, ease_matrix

    cfg = EngineConfig()
    data = phases.run("build arrays", synthetic_arrays, products, events)
    seqs = list(data["rows"])
    del data
    _, report = phases.run(
        "ease_matrix", ease_matrix, seqs, products, lam=cfg.ease_lambda, max_items=cap, topk=cfg.ease_topk
    )
    result["ease"] = report


# --- one size per subprocess ---------------------------------------------------------------------


def child(args: argparse.Namespace) -> None:
    limit_memory(args.mem_limit_gb)
    products, events = parse_size(args.size)
    phases = Phases()
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    result: dict[str, Any] = {
        "mode": args.child,
        "products": products,
        "events": events,
        "visitors": events // PER_VISITOR,
        "commit": commit.stdout.strip(),
    }
    if args.child == "ease":
        result["ease_max_items"] = args.cap
    else:
        result["engine_config"] = json.loads(args.engine_config)
    t0 = time.perf_counter()
    try:
        if args.child == "engine":
            run_engine(products, events, json.loads(args.engine_config), phases, result)
        elif args.child == "build":
            build_database(products, events, phases, result)
        elif args.child == "orm":
            run_orm(products, events, args, phases, result)
        else:
            run_ease(products, events, args.cap, phases, result)
    except MemoryError:
        result["failed"] = f"MemoryError in {phases.current!r} (address space limited to {args.mem_limit_gb} GB)"
        traceback.print_exc()
    result.update(
        phases=phases.done,
        seconds=round(time.perf_counter() - t0, 1),
        peak_rss_mb=peak_mb(),
        loadavg=[round(x, 2) for x in os.getloadavg()],
    )
    print(json.dumps(result, default=str), flush=True)


def spawn(kind: str, size: str, args: argparse.Namespace, *extra: str) -> dict:
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--child",
        kind,
        "--size",
        size,
        "--mem-limit-gb",
        str(args.mem_limit_gb),
        "--engine-config",
        args.engine_config,
        "--active-days",
        str(args.active_days),
        "--precompute",
        str(args.precompute),
        "--samples",
        str(args.samples),
        *extra,
    ]
    proc = subprocess.run(command, stdout=subprocess.PIPE, text=True)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if lines:
        return json.loads(lines[-1])
    products, events = parse_size(size)
    return {"mode": kind, "products": products, "events": events, "failed": f"exit status {proc.returncode}"}


def table(paths: list[str]) -> None:
    """A markdown table of JSON lines this bench printed (files given on the command line)."""
    print(
        "| products | events | mode | fit: read events / engine / precompute lists (s) | peak RSS | "
        "per list: similar / basket / for you (ms) | block p95 warm / cold (ms) | failed |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for path in paths:
        for line in Path(path).read_text().splitlines():
            if not line.startswith("{"):
                continue
            r = json.loads(line)
            if r["mode"] == "ease":
                continue
            ph = r.get("phases", {})

            def sec(name: str, ph: dict = ph) -> str:
                return f"{ph[name]['seconds']:.0f}" if name in ph else "-"

            fit = f"{sec('read events')} / {sec('engine fit')} / {sec('precompute lists')}"
            if r["mode"] == "engine" and "per_list" in r:
                fit += f" (projected {r['precompute_projected_seconds']:.0f})"
            per = r.get("per_list") or {}
            if per:
                per_text = " / ".join(
                    f"{per[k]:.1f}" for k in ("similar_items_ms", "complete_basket_ms", "recommend_ms")
                )
            else:  # the production path: how many lists the precompute wrote, and the mean time of one
                summary = r.get("fit_summary") or {}
                lists, seconds = summary.get("lists"), ph.get("precompute lists", {}).get("seconds")
                per_text = f"{lists:,} lists, {1000 * seconds / lists:.1f} ms each" if lists and seconds else ""
            blocks = r.get("blocks") or {}
            names = sorted({k.split("/")[0] for k in blocks})
            block_text = "; ".join(
                f"{n}: {blocks[n + '/warm']['p95_ms']:.1f} / {blocks[n + '/cold']['p95_ms']:.1f}" for n in names
            )
            print(
                f"| {r['products']:,} | {r['events']:,} | {r['mode']} | {fit} "
                f"| {r.get('peak_rss_mb', 0) / 1024:.1f} GB | {per_text or '-'} | {block_text or '-'} "
                f"| {r.get('failed', '')} |"
            )
    print()
    print("| ease_max_items | items covered | ease_matrix (s) | peak RSS | failed |")
    print("| --- | --- | --- | --- | --- |")
    for path in paths:
        for line in Path(path).read_text().splitlines():
            if line.startswith("{") and json.loads(line)["mode"] == "ease":
                r = json.loads(line)
                ph = r.get("phases", {}).get("ease_matrix", {})
                print(
                    f"| {r['ease_max_items']:,} | {(r.get('ease') or {}).get('items', '-')} | {ph.get('seconds', '-')} "
                    f"| {r.get('peak_rss_mb', 0) / 1024:.1f} GB | {r.get('failed', '')} |"
                )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mode", choices=("orm", "engine"), default="engine")
    parser.add_argument("--sizes", default="", help="PRODUCTSxEVENTS,... e.g. 10000x1000000,100000x10000000")
    parser.add_argument("--engine-config", default="{}", help='ENGINE_CONFIG as JSON, e.g. {"seq_model": false}')
    parser.add_argument("--active-days", type=float, default=30.0, help="ACTIVE_DAYS (orm): whose lists are made")
    parser.add_argument("--precompute", type=int, default=PRECOMPUTE_PRODUCTS, help="PRECOMPUTE_PRODUCTS (orm)")
    parser.add_argument("--samples", type=int, default=300, help="block calls per block and mode (orm)")
    parser.add_argument("--ease-caps", default="", help="ease_max_items values to measure ease_matrix at")
    parser.add_argument("--ease-at", default="100000x1000000", help="the size the EASE caps are measured at")
    parser.add_argument("--mem-limit-gb", type=float, default=12.0, help="address space of each subprocess")
    parser.add_argument("--table", nargs="+", metavar="JSONL", help="print a markdown table of earlier runs' lines")
    parser.add_argument("--child", choices=("orm", "build", "engine", "ease"), help=argparse.SUPPRESS)
    parser.add_argument("--size", help=argparse.SUPPRESS)
    parser.add_argument("--cap", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.table:
        table(args.table)
        return
    if args.child:
        child(args)
        return
    for size in filter(None, args.sizes.split(",")):
        if args.mode == "orm":
            built = spawn("build", size, args)
            log(f"built {size}: {json.dumps(built)}")
            if built.get("failed"):
                print(json.dumps(built), flush=True)
                continue
            result = spawn("orm", size, args)
            result["build"] = {k: built.get(k) for k in ("phases", "seconds", "peak_rss_mb", "database_mb", "built")}
        else:
            result = spawn("engine", size, args)
        print(json.dumps(result), flush=True)
    for cap in filter(None, args.ease_caps.split(",")):
        print(json.dumps(spawn("ease", args.ease_at, args, "--cap", cap)), flush=True)


if __name__ == "__main__":
    main()
