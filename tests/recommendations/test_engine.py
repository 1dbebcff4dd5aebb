"""The recommendation engine on small hand-made data: signals, reasons, rules it honours, persistence."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from oscar_llm.recommendations.engine import REASONS, EngineConfig, Recommendation, RecommenderEngine, ease_matrix
from oscar_llm.recommendations.index import VectorIndex, top_k, unit_rows


def unit(v: np.ndarray) -> np.ndarray:
    return (v / np.linalg.norm(v, axis=-1, keepdims=True)).astype(np.float32)


@pytest.fixture
def shop() -> dict:
    """Ten products. Consoles and their accessories are co-viewed; two games read alike but are never co-viewed."""
    rng = np.random.default_rng(7)
    ids = ["console", "controller", "charger", "headset", "game-a", "game-a2", "book", "lamp", "mug", "pen"]
    vectors = rng.normal(size=(len(ids), 16))
    vectors[5] = vectors[4] + 0.05 * rng.normal(size=16)  # game-a2 reads almost exactly like game-a
    histories = (
        [["console", "controller", "charger"]] * 6
        + [["console", "controller"]] * 3
        + [["book", "lamp"], ["mug", "pen"], ["lamp", "mug"], ["game-a", "book"]]
        + [["headset"], ["headset", "pen"]] * 4
    )
    purchases = [["console", "headset"]] * 5 + [["mug", "pen"]]
    return {"ids": ids, "vectors": unit(vectors), "histories": histories, "purchases": purchases}


@pytest.fixture
def engine(shop) -> RecommenderEngine:
    e = RecommenderEngine(EngineConfig(seed=1))
    report = e.fit(shop["ids"], shop["vectors"], shop["histories"], purchases=shop["purchases"])
    assert report["model"] == "blend"  # far too few histories for a learned model
    return e


def test_co_visited_and_co_bought_items_lead_with_their_reasons(engine):
    recs = engine.recommend(["console"], 3, exclude={"console"})
    assert {(r.item_id, r.reason, r.source_item) for r in recs[:2]} == {
        ("controller", "viewed_with", "console"),
        ("headset", "bought_with", "console"),
    }
    assert recs[0].score >= recs[1].score >= recs[2].score


def test_reason_names_the_history_item_that_produced_it(engine):
    recs = engine.recommend(["book", "console"], 4, exclude={"book", "console"})
    by_item = {r.item_id: r for r in recs}
    assert by_item["controller"].reason == "viewed_with" and by_item["controller"].source_item == "console"
    assert by_item["lamp"].reason == "viewed_with" and by_item["lamp"].source_item == "book"
    assert all(r.reason in REASONS for r in recs)


def test_text_similarity_without_co_visits_is_explained_as_similar(engine):
    # game-a2 was never viewed by anyone, so only its text can bring it up.
    recs = engine.similar_items("game-a", 3)
    assert recs[0] == Recommendation("game-a2", recs[0].score, "similar", "game-a")
    assert all(r.item_id != "game-a" for r in recs)


def test_basket_completion_prefers_what_was_bought_together(engine):
    recs = engine.complete_basket(["console"], 3)
    assert recs[0].item_id == "headset"
    assert (recs[0].reason, recs[0].source_item) == ("bought_with", "console")
    assert "console" not in [r.item_id for r in recs]


def test_cold_start_is_popularity_and_unknown_ids_are_ignored(engine):
    cold = engine.recommend([], 3)
    assert [r.item_id for r in cold] == ["console", "controller", "headset"]
    assert {r.reason for r in cold} == {"popular"} and {r.source_item for r in cold} == {None}
    assert engine.recommend(["no-such-product"], 3) == cold
    assert engine.recommend(["no-such-product", "console"], 3) == engine.recommend(["console"], 3)
    assert engine.similar_items("no-such-product", 3) == []
    assert "console" in engine and "no-such-product" not in engine
    assert engine.complete_basket(["no-such-product"], 2) == engine.trending(2)
    scores = engine.score(["console"], ["controller", "no-such-product"])
    assert np.isfinite(scores[0]) and scores[1] == -np.inf


def test_trending_decays_old_events(shop):
    histories = [["old-hit"]] * 10 + [["new-hit"]] * 4
    ages = [[400.0]] * 10 + [[1.0]] * 4
    e = RecommenderEngine(EngineConfig(half_life_days=14))
    e.fit(["old-hit", "new-hit"], None, histories, ages_days=ages)
    assert [(r.item_id, r.reason) for r in e.trending(2)] == [("new-hit", "trending"), ("old-hit", "trending")]
    undated = RecommenderEngine()
    undated.fit(["old-hit", "new-hit"], None, histories)
    assert [(r.item_id, r.reason) for r in undated.trending(2)] == [("old-hit", "popular"), ("new-hit", "popular")]


def test_event_weights_make_a_purchase_count_more_than_a_view():
    ids = ["a", "b", "c"]
    histories = [["a", "b"], ["a", "b"], ["a", "c"]]
    viewed = RecommenderEngine()
    viewed.fit(ids, None, histories)
    assert viewed.recommend(["a"], 1, exclude={"a"})[0].item_id == "b"
    bought = RecommenderEngine()
    bought.fit(ids, None, histories, weights=[[1, 1], [1, 1], [1, 10]])
    assert bought.recommend(["a"], 1, exclude={"a"})[0].item_id == "c"


def test_allowed_and_exclude_are_honoured(engine, shop):
    allowed = {"charger", "lamp", "pen"}
    recs = engine.recommend(["console"], 5, allowed=allowed, exclude={"charger"})
    assert {r.item_id for r in recs} == {"lamp", "pen"}
    assert engine.trending(10, allowed=set()) == []
    assert all(r.item_id in allowed for r in engine.similar_items("console", 5, allowed=allowed))


def test_probabilities_are_a_softmax_of_scores(engine, shop):
    p = engine.probabilities(["console"])
    s = engine.score(["console"])
    assert p.shape == (len(shop["ids"]),) and abs(p.sum() - 1) < 1e-9
    assert np.argmax(p) == np.argmax(s)
    np.testing.assert_allclose(np.log(p[1] / p[2]), s[1] - s[2], rtol=1e-6)


def test_diversity_spreads_the_list_and_exploration_is_seeded(engine, shop):
    vectors = dict(zip(shop["ids"], shop["vectors"], strict=True))

    def spread(recs: list[Recommendation]) -> float:
        v = np.array([vectors[r.item_id] for r in recs])
        sim = v @ v.T
        return float(sim[np.triu_indices(len(recs), 1)].mean())

    plain = engine.recommend(["game-a"], 4, exclude={"game-a"}, diversity=0.0)
    diverse = engine.recommend(["game-a"], 4, exclude={"game-a"}, diversity=0.9)
    assert "game-a2" in [r.item_id for r in plain]
    assert spread(diverse) < spread(plain)
    with pytest.raises(ValueError):
        engine.recommend(["game-a"], 4, diversity=2.0)

    explore = [engine.recommend(["console"], 5, exploration=5.0, seed=s) for s in range(6)]
    assert engine.recommend(["console"], 5, exploration=5.0, seed=3) == explore[3]
    assert len({tuple(r.item_id for r in recs) for recs in explore}) > 1
    assert engine.recommend(["console"], 5) == engine.recommend(["console"], 5, exploration=0.0)


def test_next_item_signal_is_directed_and_reads_only_the_last_items():
    """a is followed by b, c precedes a: after a the transition signal points at b, never back at c."""
    ids = ["a", "b", "c", "d", "e"]
    histories = [["a", "b"]] * 5 + [["c", "a"]] * 5 + [["d", "e"]] * 3
    e = RecommenderEngine(EngineConfig(seed=0, next_last=1, tune_weights=False))
    e.fit(ids, None, histories)
    floor = np.log(e.config.covis_eps)
    nxt = e._components(e._profile(["d", "a"], None), ["next"])["next"]
    row = {i: n for n, i in enumerate(ids)}
    assert nxt[row["b"]] > floor + 1.0
    assert nxt[row["c"]] == pytest.approx(floor)  # c came before a: symmetric co-visitation would count it
    assert nxt[row["e"]] == pytest.approx(floor)  # e follows d, which is not among the last next_last=1 items
    # Co-visitation (symmetric, whole profile) does see both.
    covis = e._components(e._profile(["d", "a"], None), ["covis"])["covis"]
    assert covis[row["c"]] > floor and covis[row["e"]] > floor
    # Ranked by the transition signal alone, b leads, explained by the item that led to it.
    e._state.weights_full = {c: 0.0 for c in e._state.weights} | {"next": 1.0}
    e._memo = None
    top = e.recommend(["d", "a"], 1, exclude={"d", "a"})[0]
    assert (top.item_id, top.reason, top.source_item) == ("b", "viewed_with", "a")


def test_ease_weights_come_from_who_saw_what_together():
    """Items 0-3 are seen together, 4-5 together; item 6 by a single user: it has no weights at all."""
    seqs = [np.array([0, 1, 2, 3])] * 8 + [np.array([4, 5])] * 6 + [np.array([0, 1])] * 4 + [np.array([6, 0])]
    b, report = ease_matrix(seqs, 8, lam=1.0, max_items=100, topk=3)
    dense = b.toarray()
    assert report["items"] == 6  # seen by at least two users: 0-5 (6 once, 7 never)
    assert np.all(np.diag(dense) == 0)
    assert dense[0, 1] > 0 and dense[4, 5] > 0  # together -> predicts
    assert dense[0, 4] <= 0 and dense[4, 0] <= 0  # never together -> no positive weight
    assert not dense[6].any() and not dense[:, 6].any() and not dense[7].any()
    assert (b.getnnz(axis=1) <= 3).all()  # topk per row
    # Only the most frequent items are covered when capped; too little data gives no matrix.
    capped, capped_report = ease_matrix(seqs, 8, lam=1.0, max_items=2, topk=3)
    assert capped_report["items"] == 2 and set(np.flatnonzero(capped.getnnz(axis=1))) <= {0, 1}
    assert ease_matrix([np.array([0])], 8, lam=1.0, max_items=100, topk=3)[0] is None


def test_ease_matrix_is_the_closed_form_across_row_blocks():
    """B = -P / diag(P) with P = (X^T X + lam I)^-1, for more items than one row block of the in-place mirroring."""
    rng = np.random.default_rng(4)
    n = 1100
    seqs = [(rng.integers(0, n) + rng.integers(-30, 31, 12)) % n for _ in range(6000)]
    b, report = ease_matrix(seqs, n, lam=50.0, max_items=n, topk=n - 1)
    assert report["items"] == n
    x = np.zeros((len(seqs), n))
    for u, s in enumerate(seqs):
        x[u, s] = 1.0
    p = np.linalg.inv(x.T @ x + 50.0 * np.eye(n))
    expected = p / -np.diag(p)[None, :]
    np.fill_diagonal(expected, 0.0)
    # Each row keeps its n - 1 largest weights: all but the diagonal and the row's most negative one.
    coo = b.tocoo()
    assert coo.nnz == n * (n - 2) and not (coo.row == coo.col).any()
    np.testing.assert_allclose(coo.data, expected[coo.row, coo.col], atol=2e-5 * np.abs(expected).max())
    kept = b.toarray() != 0
    np.fill_diagonal(kept, True)
    assert (expected[~kept] == expected.min(axis=1)).all()


def test_recommend_ranks_with_the_full_catalogue_blend(engine):
    """score() uses the candidate-ranking blend, recommend() the one tuned for the whole catalogue."""
    st = engine._state
    st.weights_full = {c: 0.0 for c in st.weights} | {"pop": 1.0}
    try:
        engine._memo = None
        recs = engine.recommend(["book"], 3, exclude={"book"})
        assert [r.item_id for r in recs] == [r.item_id for r in engine.trending(3, exclude={"book"})]
        # score() still blends co-visitation: lamp (co-viewed with book) leads it.
        s = engine.score(["book"], ["lamp", "headset"])
        assert s[0] > s[1]
    finally:
        st.weights_full = dict(st.weights)


def test_save_and_load_round_trip(engine, tmp_path):
    path = tmp_path / "engine.npz"
    engine.save(path)
    loaded = RecommenderEngine.load(path)
    for history in (["console"], ["book", "mug"], []):
        assert loaded.recommend(history, 5) == engine.recommend(history, 5)
    assert loaded.similar_items("game-a", 3) == engine.similar_items("game-a", 3)
    assert loaded.weights == engine.weights
    assert loaded.weights_full == engine.weights_full
    with np.load(path, allow_pickle=False) as data:  # plain arrays: loading never unpickles code
        assert "item_ids" in data.files


def test_bad_input_is_refused_clearly(shop):
    e = RecommenderEngine()
    with pytest.raises(ValueError, match="rows"):
        e.fit(shop["ids"], shop["vectors"][:3], shop["histories"])
    with pytest.raises(ValueError, match="duplicates"):
        e.fit(["a", "a"], None, [])
    with pytest.raises(ValueError, match="weights"):
        e.fit(["a", "b"], None, [["a", "b"]], weights=[[1.0]])
    with pytest.raises(RuntimeError, match="not fitted"):
        RecommenderEngine().recommend(["a"], 3)


def test_vector_index_is_exact_at_100k_items():
    rng = np.random.default_rng(0)
    n, d = 100_000, 384
    vectors = rng.standard_normal((n, d), dtype=np.float32)
    ids = [f"p{i}" for i in range(n)]
    # Plant near-duplicates of item 123 at known rows.
    for row, noise in ((5_000, 0.1), (77_777, 0.2), (99_999, 0.3)):
        vectors[row] = vectors[123] + noise * rng.standard_normal(d, dtype=np.float32)
    index = VectorIndex(ids, vectors)
    hits = index.neighbours("p123", 3)
    assert [h for h, _ in hits] == ["p5000", "p77777", "p99999"]
    assert hits[0][1] > hits[1][1] > hits[2][1] > 0.9
    assert [h for h, _ in index.neighbours("p123", 2, exclude={"p5000"})] == ["p77777", "p99999"]
    assert [h for h, _ in index.neighbours("p123", 2, allowed={"p99999", "p1"})][0] == "p99999"
    assert index.neighbours("unknown", 3) == []


def test_importing_the_engine_does_not_import_torch():
    code = (
        "import sys; import oscar_llm.recommendations.engine as e, oscar_llm.recommendations.index; "
        "r = e.RecommenderEngine(); r.fit(['a', 'b'], None, [['a', 'b']]); r.recommend(['a'], 1); "
        "print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# -- the learned sequence model ---------------------------------------------------------------------


def cyclic_histories(n_items: int, users: int, seed: int) -> list[list[str]]:
    """Users walk item i -> i+1 (mod n) from a random start: the order is the whole signal."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(users):
        start, length = int(rng.integers(n_items)), int(rng.integers(4, 9))
        out.append([f"i{(start + k) % n_items}" for k in range(length)])
    return out


@pytest.fixture(scope="module")
def learned() -> tuple[RecommenderEngine, dict]:
    pytest.importorskip("torch")
    n = 40
    ids = [f"i{k}" for k in range(n)]
    vectors = unit(np.random.default_rng(3).normal(size=(n, 16)))
    cfg = EngineConfig(
        seed=5,
        seq_min_histories=300,
        seq_dim=32,
        seq_layers=1,
        seq_heads=2,
        seq_epochs=15,
        seq_batch_size=64,
        seq_dropout=0.1,
        seq_lr=5e-3,
        validation_users=100,
        min_validation_users=50,
        seq_threads=1,  # bit-for-bit repeatable (a thread count chosen by timing could differ between fits)
    )
    engine = RecommenderEngine(cfg)
    report = engine.fit(ids, vectors, cyclic_histories(n, 600, seed=11))
    return engine, report


def test_sequence_model_is_trained_where_it_pays_and_learns_the_order(learned):
    engine, report = learned
    assert report["model"] == "sasrec+blend"
    assert report["seq"]["epochs"] >= 1 and report["seq"]["loss"][-1] < report["seq"]["loss"][0]
    assert report["validation"]["users"] == 100
    v = report["validation"]
    # Two blends, each tuned on its own objective; the full-catalogue search starts from the better of
    # the defaults and the candidate blend, so it is never worse on recall than the candidate blend.
    assert v["full_recall@10"] >= v["full_recall@10_of_candidate_weights"]
    assert v["full_recall@10"] >= v["full_recall@10_start"] and v["ndcg@10"] >= v["ndcg@10_start"]
    assert set(report["weights_full"]) == set(report["weights"])
    # The learned model alone puts the true next item first for most histories it never saw.
    seq = engine._seq
    right = 0
    for start in range(40):
        history = np.array([(start + k) % 40 for k in range(3)])
        right += int(np.argmax(seq.log_probs(history)) == (start + 3) % 40)
    assert right >= 30
    recs = engine.recommend(["i10", "i11", "i12"], 3, exclude={"i10", "i11", "i12"})
    assert recs[0].item_id == "i13"
    assert recs[0].source_item == "i12"  # co-visitation or the sequence model: both point at the last item
    # Enough histories to tune the blend: EASE is learned too, and weighed by the tuning like the rest.
    assert report["ease"]["items"] == 40 and "ease" in report["weights_full"]
    ease = engine._state.ease.toarray()
    assert ease[12, 13] > 0 and ease[12, 13] > ease[12, 30]  # neighbours on the walk, not the far side


def test_an_item_led_by_ease_is_explained_by_the_history_item_that_predicts_it(learned):
    engine, _ = learned
    st = engine._state
    saved = dict(st.weights_full)
    try:
        st.weights_full = {c: 0.0 for c in saved} | {"ease": 1.0}
        engine._memo = None
        top = engine.recommend(["i3", "i20"], 1, exclude={"i3", "i20"})[0]
        assert top.reason == "viewed_with" and top.source_item in ("i3", "i20")
        source_row, item_row = int(top.source_item[1:]), int(top.item_id[1:])
        assert st.ease[source_row, item_row] > 0
    finally:
        st.weights_full = saved
        engine._memo = None


def test_sequence_model_survives_save_and_load(learned, tmp_path):
    engine, _ = learned
    engine.save(tmp_path / "e.npz")
    loaded = RecommenderEngine.load(tmp_path / "e.npz")
    history = ["i3", "i4", "i5"]
    np.testing.assert_allclose(loaded.score(history), engine.score(history), rtol=1e-5, atol=1e-5)


def test_auto_threads_time_one_against_two_and_infer_with_one():
    pytest.importorskip("torch")
    import os

    from oscar_llm.recommendations.seqmodel import SequenceModel

    cfg = EngineConfig(seed=2, seq_dim=16, seq_layers=1, seq_epochs=2, seq_batch_size=8, seq_threads=0)
    sequences = [np.array([(s + k) % 20 for k in range(5)]) for s in range(200)]
    model = SequenceModel.train(sequences, 20, None, cfg)
    expected = {1, 2} if (os.cpu_count() or 1) >= 2 else {1}
    assert len(model.report["threads"]) == 2 and set(model.report["threads"]) <= expected
    assert model.meta()["threads"] == 1


def test_fit_is_deterministic_with_a_seed(learned):
    pytest.importorskip("torch")
    engine, _ = learned
    again = RecommenderEngine(engine.config)
    ids = [f"i{k}" for k in range(40)]
    again.fit(ids, engine._state.vectors, cyclic_histories(40, 600, seed=11))
    np.testing.assert_allclose(again.score(["i1", "i2"]), engine.score(["i1", "i2"]), rtol=1e-5, atol=1e-5)


def test_loading_a_learned_engine_imports_torch_only_to_score_with_it(learned, tmp_path):
    engine, _ = learned
    path = tmp_path / "e.npz"
    engine.save(path)
    code = (
        "import sys; from oscar_llm.recommendations.engine import RecommenderEngine as R; "
        f"e = R.load({str(path)!r}); t = e.trending(3); s = e.similar_items('i1', 3); "
        "before = 'torch' in sys.modules; e.recommend(['i1', 'i2'], 3); print(before, 'torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "True"]


def test_full_catalogue_tuning_rows_are_capped_by_validation_full_cells():
    """At a million items, a row per held-out user over the catalogue per component would need 8 GB each."""
    n = 40
    ids = [f"i{k}" for k in range(n)]
    vectors = unit(np.random.default_rng(3).normal(size=(n, 16)))
    histories = cyclic_histories(n, 600, seed=11)

    def fit(cells: int) -> dict:
        cfg = EngineConfig(seed=5, seq_model=False, validation_users=100, min_validation_users=50)
        cfg.validation_full_cells = cells
        return RecommenderEngine(cfg).fit(ids, vectors, histories)

    default, exact, capped = fit(EngineConfig().validation_full_cells), fit(100 * n), fit(30 * n)
    assert default["validation"]["full_users"] == exact["validation"]["full_users"] == 100
    # Under the cap nothing changes; over it, recall is tuned on the first 30 held-out users only.
    assert exact["weights_full"] == default["weights_full"] and exact["validation"] == default["validation"]
    assert capped["validation"]["full_users"] == 30 and capped["validation"]["users"] == 100
    assert capped["validation"]["ndcg@10"] == default["validation"]["ndcg@10"]  # candidates: every user


def test_top_k_with_exclude_and_allowed_is_the_sorted_best_of_what_is_left():
    rng = np.random.default_rng(8)
    n = 5000
    ids = [f"p{i}" for i in range(n)]
    position = {item_id: i for i, item_id in enumerate(ids)}
    scores = np.round(rng.normal(size=n), 2)  # ties, broken by catalogue position
    scores[rng.integers(0, n, 50)] = -np.inf
    allowed = {f"p{i}" for i in rng.integers(0, n, 3000)} | {"unknown"}
    exclude = {f"p{i}" for i in rng.integers(0, n, 700)} | {"also-unknown"}
    left = sorted(
        (position[a] for a in allowed - exclude if a in position and np.isfinite(scores[position[a]])),
        key=lambda r: (-scores[r], r),
    )
    assert top_k(ids, position, scores, 25, exclude=exclude, allowed=allowed) == [
        (ids[r], scores[r]) for r in left[:25]
    ]
    everything = sorted(
        (r for r in range(n) if ids[r] not in exclude and np.isfinite(scores[r])), key=lambda r: (-scores[r], r)
    )
    assert top_k(ids, position, scores, 10, exclude=exclude) == [(ids[r], scores[r]) for r in everything[:10]]


def test_unit_rows_keeps_a_normalised_matrix_and_normalises_a_copy_otherwise():
    v = unit(np.random.default_rng(2).normal(size=(6, 8)))
    v[3] = 0.0
    assert unit_rows(v) is v
    raw = v * 3.0
    out = unit_rows(raw)
    assert out is not raw and np.allclose(out, v) and np.allclose(raw, v * 3.0)
    engine = RecommenderEngine(EngineConfig(tune_weights=False, seq_model=False))
    engine.fit([f"i{k}" for k in range(6)], v, [["i0", "i1"]])
    assert engine.index.vectors is engine._state.vectors  # one matrix for the engine and its index
