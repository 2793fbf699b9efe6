"""conv ops (see DESIGN.md §3)."""

__all__: list[str] = []
