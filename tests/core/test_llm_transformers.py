"""The shop model end to end at toy scale: train in seconds, load with Auto classes, generate in batches.

Everything runs through the production code (train_causal_lm, TransformersGenerator);
only the model size and the time budget are small.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from oscar_llm.content.prompts import PromptContext, build_request, training_pair  # noqa: E402
from oscar_llm.llm.base import GenerationOptions, ModelUnavailable  # noqa: E402
from oscar_llm.llm.training import IGNORE_INDEX, TRAINING_METADATA, encode_pairs, train_causal_lm  # noqa: E402
from oscar_llm.llm.transformers_backend import TransformersGenerator, describe_model_path  # noqa: E402

BRANDS = ["Puma", "Nike", "Fossil", "Titan", "Lotto", "Arrow", "Wrangler", "Catwalk", "Baggit", "Skagen"]
GENDERS = ["Men", "Women", "Boys", "Girls"]
COLOURS = ["Black", "White", "Navy Blue", "Red", "Grey", "Green"]
ARTICLES = ["Shirts", "Watches", "Jeans", "Handbags", "Socks", "Tshirts"]


def toy_facts(n: int) -> list[dict]:
    facts = []
    for i in range(n):
        brand, gender = BRANDS[i % len(BRANDS)], GENDERS[(i // 3) % len(GENDERS)]
        colour, article = COLOURS[(i // 2) % len(COLOURS)], ARTICLES[(i // 5) % len(ARTICLES)]
        facts.append(
            {
                "title": f"{brand} {gender} {colour} {article.rstrip('s')}",
                "category": f"Apparel > {article}",
                "product_class": "Apparel",
                "attributes": {"brand": brand, "gender": gender, "colour": colour, "article_type": article},
                "description": "",
            }
        )
    return facts


def toy_pairs(n: int = 200) -> list[tuple[str, str]]:
    return [training_pair(f, PromptContext(kind="title"), f["title"]) for f in toy_facts(n)]


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("models") / "tiny"
    train_causal_lm(toy_pairs(), out, minutes=0.1, size="tiny", vocab_size=400, seed=0, progress=False, max_steps=150)
    return out


@pytest.fixture(scope="module")
def generator(tiny_model) -> TransformersGenerator:
    return TransformersGenerator(tiny_model)


def requests_for(n: int, max_new_tokens: int = 12):
    return [build_request(f, PromptContext(kind="title"), max_new_tokens) for f in toy_facts(n)]


def test_trained_directory_loads_with_auto_classes(tiny_model):
    model = transformers.AutoModelForCausalLM.from_pretrained(tiny_model, local_files_only=True)
    tokenizer = transformers.AutoTokenizer.from_pretrained(tiny_model, local_files_only=True)
    metadata = json.loads((tiny_model / TRAINING_METADATA).read_text())
    assert metadata["pairs"] == 200
    assert metadata["steps"] > 0
    assert metadata["vocab_size"] == len(tokenizer)
    assert model.config.n_layer == 2
    assert tokenizer.eos_token == "<|endoftext|>"


def test_loss_masks_the_prompt(tiny_model):
    tokenizer = transformers.AutoTokenizer.from_pretrained(tiny_model)
    prompt, completion = toy_pairs(1)[0]
    [(ids, labels)] = encode_pairs(tokenizer, [(prompt, completion)], max_length=128)
    prompt_len = len(tokenizer(prompt, add_special_tokens=False)["input_ids"])
    assert labels[:prompt_len] == [IGNORE_INDEX] * prompt_len
    assert labels[prompt_len:] == ids[prompt_len:]
    assert labels[-1] == tokenizer.eos_token_id
    assert tokenizer.decode(ids[prompt_len:-1]).strip() == completion.strip()


def test_model_learns_the_toy_titles(generator):
    # 150 steps on 200 pairs: most greedy titles should start with the product's brand.
    facts = toy_facts(20)
    texts = [c[0] for c in generator.generate(requests_for(20), GenerationOptions(batch_size=8))]
    assert sum(t.split()[:1] == [f["attributes"]["brand"]] for t, f in zip(texts, facts, strict=True)) >= 10


def test_batched_greedy_equals_one_at_a_time(generator):
    requests = requests_for(12)
    requests[3].max_new_tokens = 5  # a second token budget: grouped in its own batches
    batched = generator.generate(requests, GenerationOptions(batch_size=5))
    single = [generator.generate([r], GenerationOptions(batch_size=1))[0] for r in requests]
    assert batched == single
    assert all(len(c) == 1 for c in batched)


def test_compact_decoder_writes_what_generate_writes(tiny_model):
    """The production path decodes with ``llm.decoding.KVDecoder``; ``model.generate`` gives the same texts."""
    compact = TransformersGenerator(tiny_model, matmul_dtype="float32")
    assert compact._decoder is not None and compact._decoder.matmul_dtype is None
    reference = TransformersGenerator(tiny_model)
    reference._decoder = None  # model.generate, as before the compact decoder
    requests = requests_for(20)
    requests[5].max_new_tokens = 4
    options = GenerationOptions(batch_size=6)
    assert compact.generate(requests, options) == reference.generate(requests, options)


def test_matmul_dtype_comes_from_the_generation_setting(tiny_model):
    def settings(**generation):
        return type("S", (), {"model_path": str(tiny_model), "GENERATION": generation})

    assert TransformersGenerator.from_settings(settings(matmul_dtype="float32")).decoding == "compact, float32 products"
    low = TransformersGenerator.from_settings(settings(matmul_dtype="bfloat16"))
    assert low.decoding == "compact, bfloat16 products"


def test_bfloat16_products_write_the_float32_titles(tiny_model):
    """Matrix products in bfloat16, the next token decided in float32 among the best few: the same greedy titles."""
    low = TransformersGenerator(tiny_model, matmul_dtype="bfloat16")
    assert low._decoder.matmul_dtype == torch.bfloat16
    exact = TransformersGenerator(tiny_model, matmul_dtype="float32")
    requests = requests_for(40)
    options = GenerationOptions(batch_size=16)
    assert low.generate(requests, options) == exact.generate(requests, options)


def test_prompts_are_padded_as_the_tokenizer_pads_them(generator):
    texts = [generator.render(r) for r in requests_for(7)] + ["[title|en|default] brand=Puma =>"]
    ids = generator.tokenizer(texts)["input_ids"]
    assert len({len(i) for i in ids}) > 1
    padded = generator._left_padded(ids)
    reference = generator.tokenizer(texts, return_tensors="pt", padding=True)
    assert padded["input_ids"].tolist() == reference["input_ids"].tolist()
    assert padded["attention_mask"].tolist() == reference["attention_mask"].tolist()


def test_over_long_prompts_keep_their_end(tiny_model):
    compact = TransformersGenerator(tiny_model, matmul_dtype="float32")
    reference = TransformersGenerator(tiny_model)
    reference._decoder = None
    requests = requests_for(3, max_new_tokens=compact.max_positions - 6)  # room for the last 6 prompt tokens
    assert compact.generate(requests, GenerationOptions()) == reference.generate(requests, GenerationOptions())


def test_greedy_is_deterministic(generator):
    requests = requests_for(6)
    assert generator.generate(requests, GenerationOptions()) == generator.generate(requests, GenerationOptions())


def test_num_candidates(generator):
    requests = requests_for(4)
    sampled = generator.generate(requests, GenerationOptions(do_sample=True, num_candidates=3, seed=7))
    assert [len(c) for c in sampled] == [3, 3, 3, 3]
    assert sampled == generator.generate(requests, GenerationOptions(do_sample=True, num_candidates=3, seed=7))
    beams = generator.generate(requests, GenerationOptions(num_candidates=2))
    assert [len(c) for c in beams] == [2, 2, 2, 2]


def test_missing_model_directory(tmp_path):
    with pytest.raises(ModelUnavailable, match="oscar_llm_train"):
        TransformersGenerator(tmp_path / "no_such_model")


def test_weights_load_from_safetensors_only(tiny_model, tmp_path):
    """A pickled checkpoint (pytorch_model.bin) can run code when loaded: it is refused (issue 11)."""
    from safetensors.torch import load_file

    assert (tiny_model / "model.safetensors").is_file()
    pickled = tmp_path / "pickled"
    shutil.copytree(tiny_model, pickled)
    state = load_file(str(pickled / "model.safetensors"))
    (pickled / "model.safetensors").unlink()
    torch.save(state, pickled / "pytorch_model.bin")
    with pytest.raises(ModelUnavailable, match="Could not load"):
        TransformersGenerator(pickled)


def test_chat_template_is_used_when_the_tokenizer_has_one(tiny_model, tmp_path):
    chat_dir = tmp_path / "chat"
    shutil.copytree(tiny_model, chat_dir)
    tokenizer = transformers.AutoTokenizer.from_pretrained(chat_dir)
    tokenizer.chat_template = (
        "{% for m in messages %}<{{ m['role'] }}> {{ m['content'] }}\n{% endfor %}"
        "{% if add_generation_prompt %}<assistant>{% endif %}"
    )
    tokenizer.save_pretrained(chat_dir)

    chat = TransformersGenerator(chat_dir)
    request = requests_for(1)[0]
    rendered = chat.render(request)
    assert rendered.startswith("<system> You write product copy")
    assert "- brand: Puma" in rendered and rendered.endswith("<assistant>")
    assert request.prompt not in rendered

    # What the model is given is the rendered chat, not the plain prompt.
    [[text]] = chat.generate([request], GenerationOptions())
    encoded = tokenizer(rendered, return_tensors="pt", add_special_tokens=False)
    with torch.inference_mode():
        out = chat.model.generate(**encoded, max_new_tokens=request.max_new_tokens, do_sample=False)
    assert text == tokenizer.decode(out[0, encoded["input_ids"].shape[1] :], skip_special_tokens=True).strip()


def test_model_id_changes_when_retrained_and_needs_no_torch(tiny_model, tmp_path):
    copy = tmp_path / "shop_model"
    shutil.copytree(tiny_model, copy)
    before = describe_model_path(copy)
    assert before.startswith("shop_model@")
    metadata = json.loads((copy / TRAINING_METADATA).read_text())
    (copy / TRAINING_METADATA).write_text(json.dumps({**metadata, "created": "later"}))
    assert describe_model_path(copy) != before

    code = (
        "import sys; from oscar_llm.llm.transformers_backend import TransformersGenerator as G; "
        f"print(G.describe_settings(type('S', (), {{'model_path': {str(copy)!r}}})), 'torch' in sys.modules)"
    )
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=root, check=True).stdout
    assert out.split() == [describe_model_path(copy), "False"]
