"""The bottom line of a run: two to four sentences that answer the question, with the
probabilities that matter and their 95 % intervals over runs, generated from the results.

One function, :func:`bottom_line`, used by the terminal's text, the HTML report, the explorer and
``summary.json`` (``bottom_line``): does the draft pass the Third Committee and the plenary (the
median yes and its 5-95 % range against the votes needed); does the ICC language survive, and why
not when it does not (given up for the target's offer, for lack of support, or deleted by
amendment); is a referral tabled in the Council, and once tabled, is it adopted or who vetoes it
(each veto's probability among the runs where it was tabled); and, when the run has an
attribution, how many votes the strongest stated assumption moves and what the data alone
forecast. A part of the question the scenario does not hold (no ICC language, no Council stage)
has no sentence.

Every number behind a sentence is in ``numbers``: a probability as ``p``, ``ci_low``,
``ci_high`` (Wilson, over runs) and ``runs`` (those it is a share of); a tally as ``median``,
``q05``, ``q95`` and ``needed``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from unsim.results.stats import proportion
from unsim.scenario.schema import Scenario, World

__all__ = ["HEADING", "bottom_line"]

HEADING = "The bottom line"
#: A permanent member vetoing less often than this (of the runs where a referral is tabled) is
#: not named in the sentence (its number is in ``numbers``).
RARE = 0.01
#: Whole numbers of runs in words.
_WORDS = {1: "one", 2: "two", 3: "three"}


class _Reader:
    """The summary's outcomes as counts of runs, and the numbers the sentences quote."""

    def __init__(self, summary: Mapping[str, Any]) -> None:
        self.summary = summary
        self.n = int(summary.get("runs", 0))
        self.outcomes: Mapping[str, Any] = summary.get("outcomes", {}) or {}
        self.numbers: dict[str, Any] = {}

    def has(self, name: str) -> bool:
        """Whether the summary holds the outcome ``name``."""
        return name in self.outcomes

    def count(self, name: str) -> int:
        """The runs in which outcome ``name`` happened (0 if the summary lacks it)."""
        o = self.outcomes.get(name)
        return round(float(o["p"]) * self.n) if o else 0

    def share(self, key: str, k: int, of: int | None = None) -> dict[str, Any]:
        """``k`` runs of ``of`` (default all) as a probability with its interval, noted as the
        number ``key``."""
        total = self.n if of is None else of
        p = proportion(k, total) if total else {"p": 0.0, "ci_low": 0.0, "ci_high": 0.0}
        entry = {"p": p["p"], "ci_low": p["ci_low"], "ci_high": p["ci_high"], "runs": total}
        self.numbers[key] = entry
        return entry


def _pct(p: float) -> str:
    """A share as a percentage, with the digits it needs not to read as 0 or 100."""
    x = 100 * p
    if 0 < x < 0.05 or 99.95 <= x < 100:
        return f"{x:.2f} %" if 0.005 <= x <= 99.995 else f"{x:.3f} %"
    return f"{x:.1f} %"


def _interval(e: Mapping[str, Any]) -> str:
    lo, hi = 100 * e["ci_low"], 100 * e["ci_high"]
    digits = 2 if (0 < lo < 0.05 or 99.95 <= hi < 100 or 99.95 <= lo < 100) else 1
    return f"[{lo:.{digits}f}, {hi:.{digits}f}]"


def _in(k: int, n: int, e: Mapping[str, Any]) -> str:
    """In how many of ``n`` runs something happened, in words: "in every run", "in all runs but
    one", "in 38.9 % of runs [38.2, 39.6]"."""
    if k == n:
        return "in every run"
    if k == 0:
        return "in no run"
    if n - k <= 3:
        return f"in all runs but {_WORDS[n - k]}"
    if k <= 3:
        return f"in {_WORDS[k]} run{'s' if k > 1 else ''} of {n:,}"
    return f"in {_pct(e['p'])} of runs {_interval(e)}"


def _of_them(k: int, n: int, e: Mapping[str, Any], short: bool = False) -> str:
    """How often, among ``n`` runs where something was possible: "every time", "in 77.6 % of
    them [76.6, 78.5]" (``short``: without "of them")."""
    if k == n:
        return "every time"
    if k == 0:
        return "never"
    if n - k <= 3:
        return f"every time but {_WORDS[n - k]}"
    if k <= 3:
        return f"{_WORDS[k]} time{'s' if k > 1 else ''} in {n:,}"
    return f"in {_pct(e['p'])}{'' if short else ' of them'} {_interval(e)}"


def _runs_in_words(k: int) -> str:
    return f"{_WORDS[k]} run{'s' if k > 1 else ''}" if k in _WORDS else f"{k:,} runs"


def _tally(r: _Reader, stage: str, label: str) -> str:
    """"a median of 97 yes at the plenary (5-95 %: 82-112) where about 61 were needed"."""
    t = (r.summary.get("tallies") or {}).get(stage)
    if not t or not t.get("yes"):
        return ""
    yes = t["yes"]
    need = t.get("median_needed_yes")
    held = int(t["held"])
    r.numbers[f"{stage}_yes"] = {
        "median": yes["q50"],
        "q05": yes["q05"],
        "q95": yes["q95"],
        "needed": need,
        "held": held / max(r.n, 1),
    }
    text = f"a median of {yes['q50']:.0f} yes at the {label} (5-95 %: {yes['q05']:.0f}-"
    text += f"{yes['q95']:.0f})"
    if need is not None:
        text += f" where about {need:.0f} were needed"
    if held < r.n:
        share = _runs_in_words(held) if held <= 3 else f"{_pct(held / r.n)} of runs"
        text += f", over the {share} that reached that vote"
    return text


_DRAFT_VOTES = (
    ("committee_adopted", "Third Committee", "third_committee"),
    ("plenary_adopted", "plenary", "plenary"),
)


def _passes(r: _Reader, votes: list[tuple[str, str, str]]) -> str:
    """"The draft passes the Third Committee and the plenary in every run"."""
    ks = [r.count(n) for n, _, _ in votes]
    es = [r.share(n, k) for (n, _, _), k in zip(votes, ks, strict=True)]
    if ks[0] == 0:
        return f"The draft never passes the {votes[0][1]}"
    if len(votes) == 1:
        return f"The draft passes the {votes[0][1]} {_in(ks[0], r.n, es[0])}"
    first, second = votes[0][1], votes[1][1]
    if ks[0] == ks[1]:
        return f"The draft passes the {first} and the {second} {_in(ks[0], r.n, es[0])}"
    if ks[1] == 0:
        return f"The draft passes the {first} {_in(ks[0], r.n, es[0])} but never the {second}"
    return (
        f"The draft passes the {first} {_in(ks[0], r.n, es[0])} and the {second} "
        f"{_in(ks[1], r.n, es[1])}"
    )


def _assembly(r: _Reader) -> str | None:
    """Does the draft pass the Third Committee and the plenary, by how many votes, and does a
    no-action motion stop it first."""
    votes = [v for v in _DRAFT_VOTES if r.has(v[0])]
    if not votes:
        return None
    text = _passes(r, votes)
    tallies = r.summary.get("tallies") or {}
    last = next((v for v in reversed(votes) if (tallies.get(v[2]) or {}).get("held")), None)
    if last is not None:
        tally = _tally(r, last[2], last[1])
        if tally:
            text += f": {tally}"
    stopped = r.count("no_action_adopted") if r.has("no_action_adopted") else 0
    if stopped:
        e = r.share("no_action_adopted", stopped)
        motion = f"a motion to take no action on the draft carries {_in(stopped, r.n, e)}"
        if 2 * stopped > r.n:  # what happens to it first
            return motion[:1].upper() + motion[1:] + "; " + text[:1].lower() + text[1:] + "."
        text += f"; {motion}"
    return text + "."


def _icc(r: _Reader, scenario: Scenario | None) -> str | None:
    """Does the ICC language survive, and why not when it does not."""
    if not r.has("icc_retained"):
        return None
    k = r.count("icc_retained")
    e = r.share("icc_retained", k)
    verb = "softened"
    if scenario is None or scenario.actors.sponsors.bargaining.action == "drop":
        verb = "dropped"
    if k == r.n:
        text = "The ICC language stays in the draft in every run"
    elif k == 0:
        text = "The ICC language never survives"
    else:
        text = f"The ICC language stays in the draft {_in(k, r.n, e)}"
    reasons = []
    for name, why in (
        ("icc_dropped_bargain", f"{verb} in a bargain for the target's offer"),
        ("icc_dropped_support_short", f"{verb} for lack of support"),
        ("amendment_adopted", "deleted by amendment"),
    ):
        gone = r.count(name)
        if gone:
            reasons.append(f"{why} {_in(gone, r.n, r.share(name, gone))}")
    if reasons:
        text += ": " + ", ".join(reasons[:-1]) + (" and " if len(reasons) > 1 else "")
        text += reasons[-1]
    elif r.has("amendment_moved") and r.count("amendment_moved"):
        text += "; the amendment to delete it is moved and never adopted"
    return text + "."


def _why_never(r: _Reader, scenario: Scenario | None) -> str:
    """Why a referral is never tabled, when the procedure says so: it needs the plenary's
    adoption or the ICC language, which never come."""
    if scenario is None:
        return ""
    council = scenario.procedure.council
    never = {k for k in ("plenary_adopted", "icc_retained") if r.has(k) and not r.count(k)}
    if council.requires_plenary_adoption and "plenary_adopted" in never:
        return ": it needs the plenary's adoption, which never comes"
    if council.referral_requires_icc_language and "icc_retained" in never:
        return ": it needs the ICC language in the draft, which never survives"
    return ""


def _council(
    r: _Reader, names: Mapping[str, str], permanent: list[str], scenario: Scenario | None
) -> str | None:
    """Is a referral tabled, and once tabled, is it adopted or who vetoes it."""
    if not r.has("referral_tabled"):
        if r.has("sc_agenda_adopted"):
            k = r.count("sc_agenda_adopted")
            e = r.share("sc_agenda_adopted", k)
            return f"The Security Council puts the situation on its agenda {_in(k, r.n, e)}."
        return None
    tabled = r.count("referral_tabled")
    e = r.share("referral_tabled", tabled)
    if tabled == 0:
        return "No referral to the ICC is tabled in the Security Council in any run" + (
            _why_never(r, scenario) + "."
        )
    text = f"A referral to the ICC is tabled in the Security Council {_in(tabled, r.n, e)}"
    adopted = r.count("referral_adopted")
    vetoed = r.count("referral_vetoed")
    whole = r.share("referral_adopted", adopted)
    once = []
    if vetoed:
        v = r.share("referral_vetoed_if_tabled", vetoed, tabled)
        who, rare = [], 0
        for c in sorted(permanent, key=lambda c: (-r.count(f"veto_{c}"), c)):
            kc = r.count(f"veto_{c}")
            if not kc:
                continue
            ec = r.share(f"veto_{c}_if_tabled", kc, tabled)
            if ec["p"] >= RARE:
                who.append(f"by {names.get(c, c)} {_of_them(kc, tabled, ec, short=True)}")
            else:
                rare += 1
        if rare:
            who.append(f"{'another member' if rare == 1 else f'the other {_WORDS[rare]}'} rarely")
        by = f" ({', '.join(who)})" if who else ""
        once.append(f"vetoed {_of_them(vetoed, tabled, v)}{by}")
    short = tabled - vetoed - adopted
    if short > 0:
        s = r.share("referral_short_if_tabled", short, tabled)
        once.append(f"short of nine votes {_of_them(short, tabled, s)}")
    a = r.share("referral_adopted_if_tabled", adopted, tabled)
    once.append(f"adopted {_of_them(adopted, tabled, a)}" if adopted else "never adopted")
    text += "; once tabled it is " + ", ".join(once[:-1]) + (" and " if len(once) > 1 else "")
    text += once[-1]
    if 0 < adopted < tabled:
        share = _in(adopted, r.n, whole).replace(" of runs ", " of all runs ")
        text += f", so the Council refers the situation to the ICC {share}"
    return text + "."


def _assumptions(r: _Reader) -> str | None:
    """What the data alone forecast, and how many votes the strongest stated assumption moves
    (from the attribution read forward)."""
    from unsim.results.forward import forward_of

    forward = forward_of(r.summary.get("attribution") or {})
    qs = forward.get("quantities") or {}
    votes = [k for k, q in qs.items() if q.get("kind") == "votes"]
    if not votes:
        return None
    key = votes[-1]  # the last vote on the draft: the plenary's, where it is held
    where = "the plenary" if key == "plenary_yes" else "the Third Committee"
    bits = []
    rows = (r.summary.get("data_only") or {}).get("rows") or {}
    row = rows.get(key)
    if row and row.get("data_only") is not None:
        r.numbers[f"data_only_{key}"] = {
            k: row.get(k) for k in ("as_given", "data_only", "diff", "ci_low", "ci_high")
        }
        bits.append(
            f"From the data alone (the calibration, with no stated assumption) {where} would "
            f"give {row['data_only']:.1f} yes on average, against {row['as_given']:.1f} as given"
        )
    moves = [
        (p, p["change"][key]) for p in forward.get("parts", []) if key in p.get("change", {})
    ]
    moves = [(p, c) for p, c in moves if c.get("mean") is not None and c["mean"] == c["mean"]]
    if moves:
        part, change = max(moves, key=lambda m: abs(m[1]["mean"]))
        if abs(change["mean"]) >= 0.05:
            r.numbers["strongest_assumption"] = {
                "name": part["name"],
                "label": part["label"],
                "quantity": key,
                "mean": change["mean"],
                "ci": change.get("ci"),
            }
            ci = change.get("ci")
            pm = f" [±{ci:.1f}]" if ci is not None and ci == ci else ""
            said = (
                f"the stated assumption that moves the most is the {part['label']}: "
                f"{change['mean']:+.1f} yes votes{pm} at {where}, as added in the attribution "
                "table's order"
            )
            bits.append(said if bits else said[:1].upper() + said[1:])
    if not bits:
        return None
    return "; ".join(bits) + "."


def bottom_line(summary: Mapping[str, Any], scenario: Scenario | None = None) -> dict[str, Any]:
    """The bottom line of a run's ``summary`` (module doc): ``sentences`` and the ``numbers``
    behind them. ``scenario`` names the permanent members and says whether the sponsors drop
    or soften the ICC language (without it: their ISO3 codes, and "dropped")."""
    r = _Reader(summary)
    names: dict[str, str] = {}
    permanent: list[str] = [k[5:] for k in r.outcomes if k.startswith("veto_")]
    world = scenario.world if scenario is not None else None
    if isinstance(world, World):
        names = {s.iso3: s.name for s in world.states}
    sentences = [
        s
        for s in (
            _assembly(r),
            _icc(r, scenario),
            _council(r, names, permanent, scenario),
            _assumptions(r),
        )
        if s
    ]
    if not sentences:
        sentences = ["No vote on the draft is held in any run."]
    return {"sentences": sentences, "numbers": r.numbers}
