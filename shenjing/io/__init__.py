"""shenjing.io (see DESIGN.md)."""
