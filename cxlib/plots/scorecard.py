"""Figures for the scorecard analysis."""
__all__: list[str] = []
