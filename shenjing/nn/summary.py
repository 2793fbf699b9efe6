"""Per-layer summary of a model (see DESIGN.md §3)."""

__all__: list[str] = []
