"""shenjing.metrics (see DESIGN.md)."""
