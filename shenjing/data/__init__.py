"""shenjing.data (see DESIGN.md)."""
