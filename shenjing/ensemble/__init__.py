"""shenjing.ensemble (see DESIGN.md)."""
