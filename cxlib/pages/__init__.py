"""What each notebook shows, computed (DESIGN.md, "Layers": the pages layer).

:mod:`cxlib.pages.inputs` decides which inputs a page can use: demo tables never mix into a user's
report, and defaults that name the sample's columns are skipped on a user's table.
"""
from cxlib.pages.inputs import GIVEN_ENV, PAGES, Inputs, resolve

__all__ = ["GIVEN_ENV", "PAGES", "Inputs", "resolve"]
