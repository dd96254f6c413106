"""theme_impact (one fused query for every theme) against a brute-force pandas computation on raw rows."""
import re

import numpy as np
import pandas as pd
from scipy import stats

from cxlib import themes


def _nps(scores):
    return 100 * ((scores >= 9).mean() - (scores <= 6).mean())


def test_theme_impact_equals_brute_force(sample_dir):
    df = pd.read_csv(sample_dir / "responses.csv")
    df.loc[df.index % 7 == 0, "comment"] = "  "  # blank comments are not commenters
    got = themes.theme_impact(df, min_n=30).set_index("theme")
    tax = themes.load_taxonomy(None)
    rows = df[df["comment"].notna() & (df["comment"].str.strip() != "") & df["nps"].notna()]
    for theme, spec in tax["themes"].items():
        hit = rows["comment"].str.lower().map(lambda c: re.search(spec["pattern"].lower(), c) is not None)
        a, b = rows.loc[hit, "nps"], rows.loc[~hit, "nps"]
        r = got.loc[theme]
        assert r["mentions"] == len(a)
        if len(a) < 30 or len(b) == 0:
            assert r["suppressed"] and np.isnan(r["impact"])
            continue
        assert not r["suppressed"]
        var = sum(100 ** 2 * ((x >= 9).mean() + (x <= 6).mean() - ((x >= 9).mean() - (x <= 6).mean()) ** 2) / len(x)
                  for x in (a, b))
        diff = _nps(a) - _nps(b)
        assert np.isclose(r["nps_with"], _nps(a)) and np.isclose(r["nps_without"], _nps(b))
        assert np.isclose(r["impact"], diff)
        z = stats.norm.ppf(0.975)
        assert np.isclose(r["ci_lower"], diff - z * np.sqrt(var)) and np.isclose(r["ci_upper"], diff + z * np.sqrt(var))
        assert np.isclose(r["p_value"], 2 * stats.norm.sf(abs(diff) / np.sqrt(var)))
