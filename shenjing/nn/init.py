"""Parameter initialisers (filled in by the nn work; see DESIGN.md §3)."""

__all__: list[str] = []
