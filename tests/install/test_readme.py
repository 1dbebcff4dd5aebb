"""README and code agree: the example shop is written with the README's lines, the checks name them."""

from __future__ import annotations

from pathlib import Path

import pytest

from oscar_llm import checks
from tests.install import snippets

SHOP = Path(__file__).resolve().parents[2] / "shop"


def shop_code(name: str) -> list[str]:
    return snippets.code_lines((SHOP / name).read_text())


@pytest.mark.parametrize("name", snippets.NAMES)
def test_every_snippet_is_in_the_readme_and_does_something(name):
    assert snippets.code_lines(snippets.snippet(name))


def test_the_example_shops_settings_have_every_line_of_the_readme():
    settings = shop_code("settings.py")
    missing = [line for line in snippets.code_lines(snippets.settings_addition()) if line not in settings]
    assert missing == []


def test_the_example_shops_urls_have_the_readmes_line_before_oscars():
    urls = shop_code("urls.py")
    [line] = snippets.code_lines("\n".join(snippets.plugin_url_lines()))
    assert line == 'path("", include("oscar_llm.urls")),'
    oscar = next(n for n, code in enumerate(urls) if snippets.OSCAR_URLS in code)
    assert urls[oscar - 1] == line


def test_the_example_shops_celery_app_is_the_readmes():
    readme = snippets.code_lines(snippets.celery_module("shop"))
    assert shop_code("celery.py")[: len(readme)] == readme
    assert snippets.code_lines(snippets.celery_init())[0] in shop_code("__init__.py")


@pytest.mark.parametrize(
    "fix",
    [
        checks.INSTALLED_APPS_FIX,
        checks.NAVIGATION_FIX,
        checks.BEAT_FIX,
        checks.REST_FRAMEWORK_FIX,
        checks.URLS_FIX,
    ],
)
def test_each_fix_the_checks_name_is_a_line_of_the_readme(fix):
    lines = [line for name in snippets.NAMES for line in snippets.code_lines(snippets.snippet(name))]
    assert fix in lines or fix in snippets.plugin_url_lines()


def test_a_missing_snippet_is_a_clear_error(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text("## Adding oscar_llm to an existing Oscar shop\n\n```python\nx = 1\n```\n")
    with pytest.raises(LookupError, match="snippet:settings"):
        snippets.snippet("settings", readme)
