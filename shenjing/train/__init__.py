"""shenjing.train (see DESIGN.md)."""
