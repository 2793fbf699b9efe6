"""``python -m shenjing``: the ``shenjing`` command."""

from .cli import main

raise SystemExit(main())
