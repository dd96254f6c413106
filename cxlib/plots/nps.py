"""Figures for the nps analysis."""
__all__: list[str] = []
