"""The compact decoder (``llm.decoding.KVDecoder``) gives the tokens ``model.generate`` gives greedily."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from oscar_llm.llm.decoding import KVDecoder  # noqa: E402

PAD = 0


def tiny_gpt2(**config) -> transformers.GPT2LMHeadModel:
    torch.manual_seed(0)
    cfg = transformers.GPT2Config(
        vocab_size=48,
        n_positions=64,
        n_embd=32,
        n_layer=2,
        n_head=4,
        bos_token_id=1,
        eos_token_id=1,
        initializer_range=0.3,  # sharper than the default, so rows go different ways
        attn_implementation="sdpa",
        **config,
    )
    return transformers.GPT2LMHeadModel(cfg).eval()


def left_padded(lengths: list[int], vocab: int = 48) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(1)
    width = max(lengths)
    ids = torch.full((len(lengths), width), PAD, dtype=torch.long)
    mask = torch.zeros((len(lengths), width), dtype=torch.long)
    for row, n in enumerate(lengths):
        ids[row, width - n :] = torch.randint(1, vocab, (n,), generator=generator)
        mask[row, width - n :] = 1
    return ids, mask


def hf_greedy(model, ids, mask, max_new_tokens: int, eos: int) -> torch.Tensor:
    with torch.inference_mode():
        out = model.generate(
            input_ids=ids,
            attention_mask=mask,
            max_new_tokens=max_new_tokens,
            do_sample=False,
            num_beams=1,
            eos_token_id=eos,
            pad_token_id=PAD,
        )
    return out[:, ids.shape[1] :]


def compact_greedy(model, ids, mask, max_new_tokens: int, eos: int) -> torch.Tensor:
    with torch.inference_mode():
        return KVDecoder(model).decode(ids, mask, max_new_tokens, [eos], PAD)


def common_token(model, ids, mask) -> int:
    """A token the rows write at different steps: as the end token, rows end at different lengths."""
    free = hf_greedy(model, ids, mask, 16, eos=-1)  # no such token: no row ends early
    firsts = {}
    for row in free.tolist():
        for step, token in enumerate(row[1:], start=1):
            firsts.setdefault(token, set()).add(step if token not in row[:step] else None)
    return max(firsts, key=lambda t: len(firsts[t] - {None}))


@pytest.mark.parametrize("config", [{}, {"scale_attn_by_inverse_layer_idx": True, "activation_function": "gelu"}])
def test_same_tokens_as_generate_greedy(config):
    model = tiny_gpt2(**config)
    ids, mask = left_padded([5, 9, 3, 12, 7, 9, 1, 10, 4, 6, 11, 8])
    eos = common_token(model, ids, mask)
    expected = hf_greedy(model, ids, mask, 16, eos)
    got = compact_greedy(model, ids, mask, 16, eos)
    assert got.tolist() == expected.tolist()
    # Rows ended at different steps (the batch shrank while others went on), some at the budget.
    ends = [row.index(eos) if eos in row else None for row in got.tolist()]
    assert len({e for e in ends if e is not None}) >= 3
    assert None in ends or got.shape[1] < 16


def test_one_row_at_a_time_equals_the_batch():
    model = tiny_gpt2()
    lengths = [4, 8, 2, 6]
    ids, mask = left_padded(lengths)
    eos = common_token(model, ids, mask)
    batched = compact_greedy(model, ids, mask, 10, eos)
    for row, n in enumerate(lengths):
        single = compact_greedy(model, ids[row : row + 1, -n:], mask[row : row + 1, -n:], 10, eos)[0].tolist()
        assert batched[row, : len(single)].tolist() == single
        assert set(batched[row, len(single) :].tolist()) <= {PAD}


def test_draw_picks_the_tokens():
    model = tiny_gpt2()
    ids, mask = left_padded([3, 5])
    # A draw that always picks token 7 and then the end token: every row is 7, eos.
    calls = []

    def draw(scores):
        calls.append(scores.shape)
        return torch.full((scores.shape[0],), 7 if len(calls) == 1 else 9, dtype=torch.long)

    with torch.inference_mode():
        out = KVDecoder(model).decode(ids, mask, 6, [9], PAD, draw)
    assert out.tolist() == [[7, 9], [7, 9]]
    assert calls == [torch.Size([2, 48]), torch.Size([2, 48])]


def test_models_it_does_not_reproduce_are_left_to_generate():
    assert KVDecoder.supports(tiny_gpt2())
    assert not KVDecoder.supports(tiny_gpt2(reorder_and_upcast_attn=True))
    penalised = tiny_gpt2()
    penalised.generation_config.repetition_penalty = 1.3
    assert not KVDecoder.supports(penalised)
    eager = tiny_gpt2()
    eager.config._attn_implementation = "eager"
    assert not KVDecoder.supports(eager)


def test_low_precision_products_pick_among_the_best_by_float32_scores():
    model = tiny_gpt2()
    low, exact = KVDecoder(model, torch.bfloat16), KVDecoder(model)
    last = torch.randn(6, 32, generator=torch.Generator().manual_seed(2))
    with torch.inference_mode():
        (rough, best), (full, none) = low._scores(last, 8), exact._scores(last, 8)
    assert none is None and best.shape == (6, 8)
    # The 8 best are rescored in float32; the other scores stay rounded from bfloat16 products.
    assert torch.allclose(rough.gather(1, best), full.gather(1, best), rtol=0, atol=1e-5)
    assert not torch.allclose(rough, full, rtol=0, atol=1e-5)
    assert rough.argmax(-1).tolist() == full.argmax(-1).tolist()
    assert KVDecoder._most_likely(rough, best).tolist() == full.argmax(-1).tolist()
    # Among equal scores the lowest token id wins, as argmax picks.
    tied = torch.tensor([[0.0, 2.0, 1.0, 2.0]])
    assert KVDecoder._most_likely(tied, torch.tensor([[3, 1, 2]])).tolist() == [1]
    ids, mask = left_padded([5, 9, 3, 12, 7, 9])
    with torch.inference_mode():
        assert low.decode(ids, mask, 10, [1], PAD).tolist() == exact.decode(ids, mask, 10, [1], PAD).tolist()


def test_repeated_prompts_share_one_pass_over_the_prompt():
    model = tiny_gpt2()
    ids, mask = left_padded([4, 7, 2, 9])
    eos = common_token(model, ids, mask)
    decoder = KVDecoder(model)
    with torch.inference_mode():
        shared = decoder.decode(ids, mask, 12, [eos], PAD, repeats=3)
        copied = decoder.decode(ids.repeat_interleave(3, 0), mask.repeat_interleave(3, 0), 12, [eos], PAD)
    assert shared.shape[0] == 12
    assert shared.tolist() == copied.tolist()
