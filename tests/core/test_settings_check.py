"""The system check that tells a shop about ``OSCAR_LLM`` keys the plugin does not read."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest
from django.core.checks import Warning, run_checks

SHOP_SETTINGS = Path(__file__).resolve().parents[2] / "shop" / "settings.py"


def oscar_llm_warnings() -> list[Warning]:
    return [m for m in run_checks() if (m.id or "").startswith("oscar_llm.")]


def test_a_typo_is_reported_with_the_key_it_was_meant_to_be(settings):
    settings.OSCAR_LLM = {**settings.OSCAR_LLM, "GENERATR": "oscar_llm.llm.openai_backend.OpenAICompatibleGenerator"}

    warnings = oscar_llm_warnings()

    assert len(warnings) == 1
    warning = warnings[0]
    assert isinstance(warning, Warning)
    assert warning.id == "oscar_llm.W002"
    assert warning.msg == "OSCAR_LLM['GENERATR'] is not a setting oscar_llm reads."
    assert warning.hint == "Did you mean 'GENERATOR'?"


def test_a_removed_key_is_reported_with_what_replaced_it(settings):
    settings.OSCAR_LLM = {**settings.OSCAR_LLM, "PROMPT_VERSION": "v3"}

    warnings = oscar_llm_warnings()

    assert [w.id for w in warnings] == ["oscar_llm.W002"]
    assert warnings[0].msg == "OSCAR_LLM['PROMPT_VERSION'] is not a setting oscar_llm reads."
    assert warnings[0].hint.startswith("Remove it: each feature versions its own prompts in code")
    assert "Did you mean" not in warnings[0].hint


def test_a_key_like_no_setting_lists_the_known_keys(settings):
    settings.OSCAR_LLM = {"ZZZ": 1}

    [warning] = oscar_llm_warnings()

    assert warning.id == "oscar_llm.W002"
    assert warning.hint.startswith("Known keys: ")
    assert "'GENERATOR'" not in warning.hint and "GENERATOR" in warning.hint


def test_every_unknown_key_gets_its_own_warning_in_a_stable_order(settings):
    settings.OSCAR_LLM = {"SWEEP_INTERVAL_SECONDS": 60, "GENERATR": "x", "MODEL": "some/model"}

    assert [w.msg for w in oscar_llm_warnings()] == [
        "OSCAR_LLM['GENERATR'] is not a setting oscar_llm reads.",
        "OSCAR_LLM['SWEEP_INTERVAL_SECONDS'] is not a setting oscar_llm reads.",
    ]


def test_a_setting_that_is_not_a_dict_is_reported(settings):
    settings.OSCAR_LLM = ["GENERATOR"]

    assert [(w.id, w.msg) for w in oscar_llm_warnings()] == [("oscar_llm.W001", "OSCAR_LLM must be a dict.")]


@pytest.mark.parametrize(
    "environ",
    [
        {},
        {
            "OSCAR_LLM_OPENAI_BASE_URL": "http://127.0.0.1:8000/v1",
            "OSCAR_LLM_OPENAI_MODEL": "served-model",
            "OSCAR_LLM_MODEL": "some/model",
        },
    ],
    ids=["defaults", "every-optional-key"],
)
def test_the_repositorys_own_shop_settings_give_no_warnings(settings, monkeypatch, environ):
    """``shop/settings.py`` adds keys from the environment; none of its branches may set an unknown key."""
    for name in ("OSCAR_LLM_OPENAI_BASE_URL", "OSCAR_LLM_OPENAI_MODEL", "OSCAR_LLM_MODEL"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    settings.OSCAR_LLM = runpy.run_path(str(SHOP_SETTINGS))["OSCAR_LLM"]

    assert oscar_llm_warnings() == []
