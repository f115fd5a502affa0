"""``python -m zarrio.cli``: the same as the ``zarrio`` command."""

from . import main

raise SystemExit(main())
