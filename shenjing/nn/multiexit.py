"""Multi-exit networks (004 §7, see DESIGN.md §3)."""

__all__: list[str] = []
