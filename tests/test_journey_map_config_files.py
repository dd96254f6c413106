"""The journey file's name (never a path) and sha256 reach the manifest as the page's ``config_files`` table,
with the default journey too, published by the setup before anything heavy is computed."""
from __future__ import annotations

import hashlib

from cxlib import present
from cxlib.journey import DEFAULT_JOURNEY
from cxlib.pages import journey_map as page
from cxlib.reports.tables import read_config_files


def test_default_journey_is_published_as_config_files(tmp_path):
    published = {}
    s = page.setup({"events": None, "responses": "data/sample/responses.csv", "tickets": None,
                    "subscriptions": None}, publish=lambda t, n: published.setdefault(n, t))
    assert list(published) == ["config_files"]  # the setup computes nothing else
    t = published["config_files"]
    assert list(t.columns) == ["name", "sha256"]
    assert t.to_dict("records") == [{"name": "journey.yaml",
                                     "sha256": hashlib.sha256(DEFAULT_JOURNEY.read_bytes()).hexdigest()}]
    t.to_csv(tmp_path / "config_files.csv", index=False)
    assert read_config_files(tmp_path) == t.to_dict("records")  # what the manifest copies
    assert s.config_name == "journey.yaml" and s.sha256 == t["sha256"].iloc[0]
    # the footer shows the same name and hash
    footer = str(present.journey_footer(page.journey_map(s)))
    assert "journey.yaml" in footer and s.sha256 in footer and str(DEFAULT_JOURNEY.parent) not in footer
