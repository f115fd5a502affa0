"""The docs site builds with `mkdocs build --strict` (zero warnings), offline.

Skipped, with the reason, where mkdocs and its plugins are not installed
(`pip install -e ".[docs]"`); under CI=true a missing install is a failure.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
DOCS_MODULES = ("mkdocs", "material", "mkdocstrings", "mkdocstrings_handlers.python")
pytestmark = pytest.mark.timeout(90)  # whichever test comes first pays the mkdocs build: 5 s alone, 17+ s loaded


def _missing_modules() -> list[str]:
    missing = []
    for name in DOCS_MODULES:
        try:
            found = importlib.util.find_spec(name) is not None
        except ModuleNotFoundError:
            found = False
        if not found:
            missing.append(name)
    return missing


@pytest.fixture(scope="module")
def docs_tools() -> None:
    missing = _missing_modules()
    if not missing:
        return
    reason = f"the docs extra is not installed (missing {', '.join(missing)}); pip install -e '.[docs]'"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def built_site(docs_tools: None, tmp_path_factory: pytest.TempPathFactory) -> Path:
    site = tmp_path_factory.mktemp("site")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "PYTHONWARNINGS": "ignore::DeprecationWarning"}
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file", "mkdocs.yml", "--site-dir", str(site)],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    log = result.stdout + result.stderr
    assert result.returncode == 0, f"mkdocs build --strict failed:\n{log}"
    warnings = [line for line in log.splitlines() if line.startswith(("WARNING", "ERROR"))]
    assert not warnings, "\n".join(warnings)
    return site


def test_every_nav_page_is_built(built_site: Path) -> None:
    for page in ("index", "quickstart", "stores", "custom-stores", "async", "errors", "migrating", "api/zarrio"):
        assert (built_site / f"{page}.html").is_file(), page


def test_api_reference_renders_the_docstrings(built_site: Path) -> None:
    html = (built_site / "api" / "errors.html").read_text(encoding="utf-8")
    assert "ListingNotSupportedError" in html
    assert "Every exception zarrio raises" in html
    stores = (built_site / "api" / "stores.html").read_text(encoding="utf-8")
    assert "get_sync" in stores
    assert ":class:`" not in stores, "a reST role reached the page: docs/hooks/rst_roles.py should rewrite it"


def test_no_fence_leaks_into_a_page(built_site: Path) -> None:
    """Every fenced block was rendered as code: no page shows a raw ``` line."""
    for page in built_site.rglob("*.html"):
        assert "```" not in page.read_text(encoding="utf-8"), f"{page.relative_to(built_site)} shows a raw fence"


def test_site_needs_no_network(built_site: Path) -> None:
    """No page loads a script, a stylesheet or a font from another host."""
    for page in built_site.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        for marker in ('src="http', 'href="https://fonts.', "fonts.googleapis", "cdn.jsdelivr", "unpkg.com"):
            assert marker not in text, f"{page.relative_to(built_site)} fetches from the network ({marker})"


def _load_hook(name: str) -> Any:
    spec = importlib.util.spec_from_file_location(f"docs_hook_{name}", REPO_ROOT / "docs" / "hooks" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_fence_hook_drops_the_no_run_flag_and_keeps_attributes() -> None:
    strip = _load_hook("fences").strip_test_flags
    page = (
        '```python no-run needs the internet\nx\n```\n~~~py skip title="a.py" why\ny\n~~~\n'
        '```python title="b" no-run reason\nw\n```\n```python title="c"\nz\n```\n```python\nskipped = 1\n```\n'
    )
    assert strip(page) == (
        '```python\nx\n```\n~~~py title="a.py"\ny\n~~~\n'
        '```python title="b"\nw\n```\n```python title="c"\nz\n```\n```python\nskipped = 1\n```\n'
    )


def test_rst_hook_turns_roles_literals_and_tables_into_markdown() -> None:
    convert = _load_hook("rst_roles").markdown_docstring
    text = "See :class:`~zarrio.errors.FacadeError` and :func:`zarrio.run`. Example::\n\n    x = 1\n"
    assert convert(text) == "See `FacadeError` and `zarrio.run`. Example:\n\n    x = 1\n"
    table = "===  ===\na    b\n===  ===\n1    2\n     more\n===  ===\n"
    assert convert(table) == "\n| a | b |\n|---|---|\n| 1 | 2 more |\n\n"
