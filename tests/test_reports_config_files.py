"""A page that reads a configuration file publishes its name and sha256 (`config_files`); the manifest
records them, so a changed file never silently breaks a trend. Names only: no machine path."""
from __future__ import annotations

import hashlib

import pandas as pd

from cxlib.reports import CONFIG_FILES, read_config_files


def test_config_files_are_read_as_names_and_hashes(tmp_path):
    digest = hashlib.sha256(b"stages: []\n").hexdigest()
    pd.DataFrame({"name": ["/home/ann/secret/journey.yaml", "C:\\Users\\ann\\j2.yaml", ""],
                  "sha256": [digest, "ff" * 32, "00" * 32]}).to_csv(tmp_path / f"{CONFIG_FILES}.csv", index=False)
    got = read_config_files(tmp_path)
    assert got == [{"name": "journey.yaml", "sha256": digest}, {"name": "j2.yaml", "sha256": "ff" * 32}]


def test_a_page_without_config_files_has_none_and_no_error(tmp_path):
    assert read_config_files(tmp_path) == []
    (tmp_path / f"{CONFIG_FILES}.csv").write_text("a,b\n1,2\n")
    assert read_config_files(tmp_path) == []
    (tmp_path / f"{CONFIG_FILES}.csv").write_text("")
    assert read_config_files(tmp_path) == []
