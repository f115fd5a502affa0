"""MkDocs hook: keep the nav complete while other people add and write pages.

* ``reliability.md``, ``performance.md`` and ``cli.md`` are written by other
  people; the nav and several pages link to them. Until such a page exists,
  the build gets a short generated stand-in, so ``mkdocs build --strict``
  does not fail on a missing nav entry. Once the real file exists, it is used.
* A page added under ``docs/`` without a nav entry is listed under "More"
  (strict mode would otherwise fail on an omitted page); give it a proper
  place in ``mkdocs.yml`` when you can.
"""

from __future__ import annotations

import logging
from typing import Any

from mkdocs.structure.files import File, Files

log = logging.getLogger("mkdocs.hooks.pages_of_others")

PAGES_OF_OTHERS = {
    "reliability.md": "Reliability guarantees",
    "performance.md": "Performance",
    "cli.md": "The `zarrio` command",
}
MORE_SECTION = "More"


def _nav_paths(nav: Any) -> set[str]:
    """Every page path the nav mentions, at any depth."""
    if isinstance(nav, str):
        return {nav}
    if isinstance(nav, dict):
        return set().union(*(_nav_paths(value) for value in nav.values()))
    if isinstance(nav, list):
        return set().union(*(_nav_paths(item) for item in nav))
    return set()


def on_files(files: Files, config: Any, **kwargs: Any) -> Files:
    for src_uri, title in PAGES_OF_OTHERS.items():
        if files.get_file_from_path(src_uri) is None:
            content = f"# {title}\n\nThis page has not been written yet.\n"
            files.append(File.generated(config, src_uri, content=content))
    nav = config.get("nav")
    if nav:
        listed = _nav_paths(nav)
        unlisted = sorted(f.src_uri for f in files.documentation_pages() if f.src_uri not in listed)
        if unlisted:
            log.info("pages without a nav entry, listed under %r: %s", MORE_SECTION, ", ".join(unlisted))
            nav.append({MORE_SECTION: unlisted})
    return files
