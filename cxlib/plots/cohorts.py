"""Figures for the cohorts analysis."""
__all__: list[str] = []
