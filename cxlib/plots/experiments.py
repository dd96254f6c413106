"""Figures for the experiments analysis."""
__all__: list[str] = []
