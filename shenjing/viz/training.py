"""training plots (matplotlib is imported lazily, inside each function)."""

__all__: list[str] = []
