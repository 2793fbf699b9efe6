"""shenjing.optim (see DESIGN.md)."""
