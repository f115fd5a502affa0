"""MkDocs hook: a placeholder for a page another engineer owns that is not in the tree yet.

``reliability.md``, ``performance.md`` and ``cli.md`` are written by other
people; the nav and several pages link to them. Until a page exists, the
build gets a short generated stand-in (so ``mkdocs build --strict`` does not
fail on a missing nav entry). Once the real file exists, it is used as is.
"""

from __future__ import annotations

from typing import Any

from mkdocs.structure.files import File, Files

PAGES_OF_OTHERS = {
    "reliability.md": "Reliability guarantees",
    "performance.md": "Performance",
    "cli.md": "The `zarrio` command",
}


def on_files(files: Files, config: Any, **kwargs: Any) -> Files:
    for src_uri, title in PAGES_OF_OTHERS.items():
        if files.get_file_from_path(src_uri) is None:
            content = f"# {title}\n\nThis page has not been written yet.\n"
            files.append(File.generated(config, src_uri, content=content))
    return files
