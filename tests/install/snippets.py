"""The README's "Adding oscar_llm to an existing Oscar shop", read from the README and applied to a project.

One reader for everything that installs the plugin as the README says: ``bin/oscar-suite`` (django-oscar's
own test site), ``test_second_shop.py`` (a project made with ``startproject``) and ``test_readme.py`` (the
example shop is written with the same lines). Each code block of that section follows a marker line
``<!-- snippet:NAME -->``.

    python -m tests.install.snippets oscar-suite RUN_DIR   # writes RUN_DIR/oscar_llm_shop/ for bin/oscar-suite
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
NAMES = ("settings", "urls", "celery", "celery-init")
#: The project name the README's Celery snippets use.
PLACEHOLDER = "yourproject"
#: The line of a URLconf that includes Oscar's URLs; the plugin's line goes before it.
OSCAR_URLS = 'path("", include(apps.get_app_config("oscar").urls[0]))'


def snippet(name: str, readme: Path = README) -> str:
    """The code block after ``<!-- snippet:name -->`` in the README, as it is printed there."""
    text = readme.read_text()
    match = re.search(rf"^<!-- snippet:{re.escape(name)} -->\n```python\n(.*?)^```$", text, re.M | re.S)
    if match is None:
        raise LookupError(f"README.md has no code block after '<!-- snippet:{name} -->'")
    return match.group(1)


def code_lines(source: str) -> list[str]:
    """The lines that do something: no blank lines, no comment lines, trailing comments dropped."""
    lines = []
    for line in source.splitlines():
        code = re.sub(r"\s+#.*$", "", line).strip()
        if code and not code.startswith("#"):
            lines.append(code)
    return lines


def plugin_url_lines() -> list[str]:
    """The README's URL lines: those of its ``urlpatterns`` right before Oscar's, comments kept."""
    lines = snippet("urls").splitlines()
    oscar = next(n for n, line in enumerate(lines) if OSCAR_URLS in line)
    start = oscar
    while start > 0 and lines[start - 1].startswith(" ") and lines[start - 1].strip() != "# ...":
        start -= 1
    return [line.strip() for line in lines[start:oscar]]


def with_plugin_urls(urls_source: str) -> str:
    """A URLconf's source with the README's URL line added before the line that includes Oscar's URLs."""
    lines = urls_source.splitlines(keepends=True)
    for n, line in enumerate(lines):
        if OSCAR_URLS in line:
            indent = line[: len(line) - len(line.lstrip())]
            plugin = "".join(f"{indent}{part}\n" for part in plugin_url_lines())
            return "".join(lines[:n]) + plugin + "".join(lines[n:])
    raise LookupError(f"no line with {OSCAR_URLS!r} in the URLconf")


def celery_module(project: str) -> str:
    return snippet("celery").replace(PLACEHOLDER, project)


def celery_init() -> str:
    return snippet("celery-init")


def settings_addition() -> str:
    return snippet("settings")


def write_oscar_suite_project(run_dir: Path, package: str = "oscar_llm_shop") -> Path:
    """A project package beside django-oscar's ``tests/``: Oscar's test site plus oscar_llm, as the README says.

    Its URLconf builds its patterns itself from Oscar's ``tests/_site/urls.py`` (Oscar's guest-checkout
    tests reload ``ROOT_URLCONF``; a module importing Oscar's would keep stale checkout URLs).
    """
    project = run_dir / package
    project.mkdir(parents=True, exist_ok=True)
    header = '"""Written by bin/oscar-suite from README.md ("Adding oscar_llm to an existing Oscar shop")."""\n\n'
    (project / "__init__.py").write_text(header + celery_init())
    (project / "celery.py").write_text(header + celery_module(package))
    (project / "settings.py").write_text(
        header
        + "from tests.settings import *  # noqa: F403  (django-oscar's test site)\n\n"
        + settings_addition()
        + "\n# This run's own: the URLconf below, and a broker that goes nowhere (no worker runs here).\n"
        + f'ROOT_URLCONF = "{package}.urls"\n'
        + 'CELERY_BROKER_URL = "memory://"\n'
    )
    oscar_urls = (run_dir / "tests" / "_site" / "urls.py").read_text()
    (project / "urls.py").write_text(header + with_plugin_urls(oscar_urls))
    return project


def main(argv: list[str]) -> int:
    if len(argv) == 2 and argv[0] == "oscar-suite":
        print(write_oscar_suite_project(Path(argv[1])))
        return 0
    if len(argv) == 1 and argv[0] in NAMES:
        print(snippet(argv[0]), end="")
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
