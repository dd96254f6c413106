"""The journey file: stages in order, each with its promise, how it is recognised, its target and owner.

The default journey ships with the package (``cxlib/journey.yaml``, the sample's); a user passes their
own path. :func:`load_journey` checks the file and raises one :class:`cxlib.data.CXDataError` per
mistake, naming the file and the stage: a stage with nothing to recognise it by, a malformed target, an
unknown key. An event name the data lacks is *not* a mistake of the file (the map's row says so).

Examples
--------
>>> from cxlib.journey.spec import load_journey
>>> j = load_journey()
>>> [s["name"] for s in j["stages"]][:3]
['Sign-up', 'Onboarding', 'First value']
>>> j["stages"][1]["target"]["kind"], j["stages"][1]["target"]["share"]
('reach', 0.8)
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import yaml

from cxlib.data import CXDataError

__all__ = ["DEFAULT_JOURNEY", "DEFAULT_WITHIN_DAYS", "STAGE_KEYS", "TARGET_KEYS", "BAD", "load_journey"]

#: The journey shipped with the package (the sample's).
DEFAULT_JOURNEY = Path(__file__).resolve().parent.parent / "journey.yaml"
#: Days allowed to reach a stage when a reach target does not say (``within_days``).
DEFAULT_WITHIN_DAYS = 30.0
STAGE_KEYS = ("name", "promise", "events", "touchpoint", "ticket_channels", "target", "bad", "owner")
TARGET_KEYS = ("share", "max_share", "max_detractors", "within_days", "first_response")
BAD = ("missed_promise", "detractor")


def _names(value, where: str) -> list[str]:
    """A name or list of names as a list of non-empty strings."""
    if value is None:
        return []
    items = [value] if isinstance(value, (str, int)) else value
    if not isinstance(items, (list, tuple)) or not all(isinstance(v, (str, int)) and str(v).strip()
                                                        for v in items):
        raise CXDataError(f"{where} must be a name or a list of names, not {value!r}.")
    return [str(v).strip() for v in items]


def _share(value, key: str, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < float(value) <= 1:
        raise CXDataError(f"{where}: target {key} must be a share between 0 and 1 (0.8 for 80%), not {value!r}.")
    return float(value)


def _target(raw, where: str, *, stage: dict, first: bool) -> dict | None:
    """A stage's target as ``{'kind', 'share', 'given', 'value', 'within_days'}``: ``share`` is always the
    least share of the stage's customers who should get the promise; ``given``/``value`` what the file said."""
    if raw is None:
        return None
    if not isinstance(raw, dict) or not raw:
        raise CXDataError(f"{where}: target must be a mapping such as {{share: 0.8, within_days: 7}}, "
                          f"{{max_share: 0.4}} or {{max_detractors: 0.2}}, not {raw!r}.")
    unknown = [k for k in raw if k not in TARGET_KEYS]
    if unknown:
        raise CXDataError(f"{where}: unknown target key {unknown[0]!r} (known: {', '.join(TARGET_KEYS)}).")
    given = [k for k in ("share", "max_share", "max_detractors") if k in raw]
    if len(given) != 1:
        raise CXDataError(f"{where}: a target needs exactly one of share, max_share or max_detractors "
                          f"(got {', '.join(given) or 'none'}).")
    key = given[0]
    value = _share(raw[key], key, where)
    share = value if key == "share" else 1.0 - value
    if key == "max_detractors":
        if len(raw) > 1:
            raise CXDataError(f"{where}: a max_detractors target takes no other key.")
        if not stage.get("touchpoint"):
            raise CXDataError(f"{where}: a max_detractors target needs the stage's touchpoint.")
        return {"kind": "detractors", "share": share, "given": key, "value": value, "within_days": None}
    if raw.get("first_response") not in (None, False):
        if raw["first_response"] is not True:
            raise CXDataError(f"{where}: target first_response must be true or left out, not "
                              f"{raw['first_response']!r}.")
        if "within_days" in raw:
            raise CXDataError(f"{where}: a first_response target uses the channels' first-response targets, "
                              "not within_days.")
        if not stage.get("ticket_channels"):
            raise CXDataError(f"{where}: a first_response target needs the stage's ticket_channels.")
        return {"kind": "first_response", "share": share, "given": key, "value": value, "within_days": None}
    within = raw.get("within_days", DEFAULT_WITHIN_DAYS)
    if isinstance(within, bool) or not isinstance(within, (int, float)) or not within > 0:
        raise CXDataError(f"{where}: target within_days must be a positive number of days, not {within!r}.")
    if not stage.get("events"):
        raise CXDataError(f"{where}: a {key} target counts customers reaching the stage, so the stage needs "
                          "events.")
    if first:
        raise CXDataError(f"{where}: the first event stage has no previous stage to reach it from; give it "
                          "a max_detractors target or none.")
    return {"kind": "reach", "share": share, "given": key, "value": value, "within_days": float(within)}


def load_journey(journey=None) -> dict:
    """The journey as ``{'stages': [...], 'path', 'sha256'}``, checked.

    Parameters
    ----------
    journey : str, Path or dict, optional
        A YAML file (default :data:`DEFAULT_JOURNEY`) or an already loaded mapping with ``stages``.

    Returns
    -------
    dict
        ``stages``: one dict per stage in order, with every key of :data:`STAGE_KEYS` (``events`` and
        ``ticket_channels`` lists, ``target`` normalised by kind: ``reach``, ``detractors`` or
        ``first_response``, ``share`` = least share getting the promise); ``sha256`` of the file's bytes
        (of the mapping's canonical JSON when a mapping was given).

    Raises
    ------
    cxlib.data.CXDataError
        One per mistake, naming the file and the stage.

    Examples
    --------
    >>> load_journey({"stages": [{"name": "Buy", "promise": "p", "events": ["buy"], "touchpoint": "checkout"}]}
    ...              )["stages"][0]["bad"]
    'detractor'
    """
    if isinstance(journey, dict):
        raw, label = journey, "the journey"
        digest = hashlib.sha256(json.dumps(journey, sort_keys=True, default=str).encode()).hexdigest()
    else:
        path = Path(journey) if journey else DEFAULT_JOURNEY
        label = f"journey file {path.name}"
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CXDataError(f"{label}: cannot be read ({exc.strerror or exc}).") from None
        digest = hashlib.sha256(data).hexdigest()
        try:
            raw = yaml.safe_load(data)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
            what = getattr(exc, "problem", None) or str(exc).splitlines()[0]
            raise CXDataError(f"{label} is not valid YAML{where}: {what}. A journey file is a YAML mapping with "
                              "a list of stages under 'stages:'.") from None
    if raw is None:
        raise CXDataError(f"{label} is empty: it needs a list of stages under 'stages:'.")
    if isinstance(raw, list):
        raise CXDataError(f"{label} holds a list, not a mapping: put the stages under 'stages:' (a first line "
                          "'stages:' and each stage indented below it).")
    if not isinstance(raw, dict) or not isinstance(raw.get("stages"), list) or not raw["stages"]:
        raise CXDataError(f"{label}: needs a list of stages under 'stages:'.")
    unknown = [k for k in raw if k != "stages"]
    if unknown:
        raise CXDataError(f"{label}: unknown key {unknown[0]!r} (a journey file holds 'stages:').")
    stages, seen, any_events = [], set(), False
    for i, st in enumerate(raw["stages"], start=1):
        where = f"{label}, stage {i}"
        if not isinstance(st, dict):
            raise CXDataError(f"{where}: must be a mapping with name, promise, events/touchpoint/ticket_channels, "
                              "target, bad and owner.")
        name = str(st.get("name") or "").strip()
        if not name:
            raise CXDataError(f"{where}: needs a name.")
        where = f"{label}, stage '{name}'"
        if name in seen:
            raise CXDataError(f"{where}: the name is used twice; each stage needs its own name.")
        seen.add(name)
        unknown = [k for k in st if k not in STAGE_KEYS]
        if unknown:
            raise CXDataError(f"{where}: unknown key {unknown[0]!r} (known: {', '.join(STAGE_KEYS)}).")
        promise = st.get("promise")
        if not isinstance(promise, str) or not promise.strip() or "\n" in promise.strip():
            raise CXDataError(f"{where}: needs its promise, in one line of text.")
        stage = {"name": name, "promise": promise.strip(), "events": _names(st.get("events"), f"{where}: events"),
                 "touchpoint": None, "ticket_channels": _names(st.get("ticket_channels"),
                                                               f"{where}: ticket_channels"),
                 "owner": str(st["owner"]).strip() if st.get("owner") is not None else None}
        tp = st.get("touchpoint")
        if tp is not None:
            if not isinstance(tp, (str, int)) or not str(tp).strip():
                raise CXDataError(f"{where}: touchpoint must be one value of the responses' touchpoint column.")
            stage["touchpoint"] = str(tp).strip()
        if not (stage["events"] or stage["touchpoint"] or stage["ticket_channels"]):
            raise CXDataError(f"{where}: has nothing to recognise it by; give events, a touchpoint or "
                              "ticket_channels.")
        stage["target"] = _target(st.get("target"), where, stage=stage, first=bool(stage["events"]) and not any_events)
        any_events = any_events or bool(stage["events"])
        bad = st.get("bad")
        if bad is None and stage["target"]:
            bad = "missed_promise" if stage["target"]["kind"] != "detractors" else "detractor"
        elif bad is None and stage["touchpoint"]:
            bad = "detractor"
        if bad is not None and bad not in BAD:
            raise CXDataError(f"{where}: bad must be one of {', '.join(BAD)}, not {bad!r}.")
        if bad == "detractor" and not stage["touchpoint"]:
            raise CXDataError(f"{where}: bad: detractor needs the stage's touchpoint.")
        if bad == "missed_promise" and not stage["target"]:
            raise CXDataError(f"{where}: bad: missed_promise needs a target.")
        stage["bad"] = bad
        stages.append(stage)
    multi = {n for s in stages if len(s["events"]) > 1 for n in s["events"]}
    for s in stages:
        clash = [n for n in s["events"] if n in multi] if len(s["events"]) == 1 else []
        if clash:
            raise CXDataError(f"{label}, stage '{s['name']}': event {clash[0]!r} also marks a stage of several "
                              "events; a name that marks two stages must be the only name of each.")
    return {"stages": stages, "path": None if isinstance(journey, dict) else str(journey or DEFAULT_JOURNEY),
            "sha256": digest}
