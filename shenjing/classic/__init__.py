"""shenjing.classic (see DESIGN.md)."""
