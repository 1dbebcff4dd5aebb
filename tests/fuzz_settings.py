"""Settings of the server the API fuzz test starts (tests/core/test_api_fuzz.py): the shop's own
production settings (DEBUG off), with limits raised so the fuzzer reaches the code behind them."""

from shop.settings import *  # noqa: F403

REST_FRAMEWORK = {
    **REST_FRAMEWORK,  # noqa: F405
    "DEFAULT_THROTTLE_RATES": {
        "oscar_llm_public": "100000/min",
        "oscar_llm_recommendations": "100000/min",
        "oscar_llm_support": "100000/min",
    },
}
OSCAR_LLM = {
    **OSCAR_LLM,  # noqa: F405
    "RATE_LIMITS": {
        "support.ticket": {"minute": 100000},
        "support.message": {"minute": 100000},
        "recommendations.click": {"minute": 100000},
    },
}
