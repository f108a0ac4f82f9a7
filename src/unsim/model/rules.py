"""Decision rules as pure functions: (state, parameters, random numbers) -> value.

Every function works on arrays of any shape whose last axis is replicates, so the same rule serves
one replicate or a block of thousands. Nothing here draws random numbers itself: the caller passes
uniforms from a named stream (see ``unsim.engine.rng``), which keeps runs reproducible and scenarios
paired on common random numbers.

The vote model. A state's *support* for the draft is a latent number. For a vote, its *stance* is
support plus what the item adds (the cost of the ICC language on the draft, a bias against blocking
debate for a no-action motion...). Conditional on being present, it votes

    yes      with probability  sigmoid((stance - band) / noise)
    no       with probability  sigmoid((-band - stance) / noise)
    abstain  otherwise,

and it is absent with probability ``absence``. One uniform per state and vote decides all four
outcomes (monotone in the uniform, so paired scenarios differ only where their stances differ).
"""

from __future__ import annotations

from collections.abc import Callable
from enum import IntEnum
from typing import Any

import numpy as np
from numpy.typing import NDArray

F = NDArray[np.float32]
B = NDArray[np.bool_]


class Vote(IntEnum):
    """A state's vote: yes, no, abstain or absent (the int8 codes of the vote arrays)."""

    YES = 0
    NO = 1
    ABSTAIN = 2
    ABSENT = 3


VOTE_LETTERS = {Vote.YES: "Y", Vote.NO: "N", Vote.ABSTAIN: "A", Vote.ABSENT: "X"}
#: The vote codes as NumPy scalars, for array work: NumPy compares an int8 array with an
#: ``IntEnum`` member by converting the whole array to int64 (measured 14 x slower).
YES, NO, ABSTAIN, ABSENT = (np.int8(v) for v in Vote)
ICC_FACTOR = {"retained": 1.0, "softened": 0.5, "dropped": 0.0}


def tanh(x: NDArray[np.floating]) -> F:
    """The project's float32 tanh (``unsim.model.fastmath.tanh``), loaded on first use: the vote
    rules' constants are read by commands that never run the model (and never load numba)."""
    from unsim.model.fastmath import tanh as exact_tanh

    return exact_tanh(x)


def present_tanh(stance: F, band: float, noise: float) -> tuple[F, F]:
    """The vote probabilities of a present state in tanh form, ``(t_yes, t_no)`` with
    P(yes) = (1 + t_yes) / 2 and P(no) = (1 - t_no) / 2 (sigmoid(x) = (1 + tanh(x / 2)) / 2).

    The form the model's rounds use: it needs two transcendental passes and no more. Its tanh is
    the project's own (``fastmath.tanh``), not NumPy's, whose float32 tanh differs in the last
    bit from one SIMD level of the CPU to another."""
    half = np.float32(0.5 / noise)
    scaled = np.multiply(stance, half, dtype=np.float32)
    hb = np.float32(band) * half
    t_yes = np.subtract(scaled, hb, out=scaled if scaled is not stance else None)
    t_no = np.add(t_yes, 2 * hb, dtype=np.float32)
    return tanh(t_yes), tanh(t_no)


def present_probabilities(stance: F, band: float, noise: float) -> tuple[F, F]:
    """P(yes), P(no) for a present state (abstain is the rest)."""
    p_yes, p_no = present_tanh(stance, band, noise)
    p_yes += 1.0
    p_yes *= 0.5
    np.subtract(1.0, p_no, out=p_no)
    p_no *= 0.5
    return p_yes, p_no


def _add_where_not_one(out: F, factor: F, term: Callable[[Any], F]) -> None:
    """``out += term * (1 - factor)`` (``factor`` per replicate, on the last axis), with
    ``term(columns)`` giving the term on those replicates. Replicates whose factor is 1 are the
    usual case: when the others are few, the term is formed on them alone."""
    others = np.flatnonzero(factor != 1)
    if not len(others):
        return
    if 8 * len(others) <= factor.shape[-1]:
        out[..., others] += term(others) * (np.float32(1.0) - factor[others])
    else:
        out += term(slice(None)) * (np.float32(1.0) - factor)


def subtract_scaled(a: F, b: F, factor: F | None) -> F:
    """``a - b * factor`` (a new array), ``factor`` per replicate (None: 1): a plain
    subtraction, then ``b`` added back where the factor is not 1."""
    out = np.subtract(a, b, dtype=np.float32)
    if factor is not None:
        _add_where_not_one(out, factor, lambda cols: b[..., cols])
    return out


def draft_stance(
    support: F, icc_aversion: F, icc_factor: F | float, pass_through: float = 1.0
) -> F:
    """Stance on the draft: support less what its ICC language (retained, softened) costs, of
    which the draft carries the share ``pass_through`` (``icc_aversion``: the state's whole
    clause cost, its own clause deviation in it; ``clause_stance``)."""
    if pass_through != 1.0:
        icc_factor = (np.float32(pass_through) * np.asarray(icc_factor, np.float32)).astype(
            np.float32
        )
    if isinstance(icc_factor, np.ndarray) and icc_factor.ndim:
        return subtract_scaled(support, icc_aversion, icc_factor.astype(np.float32, copy=False))
    return support - icc_aversion * np.float32(icc_factor)  # type: ignore[no-any-return]


def clause_stance(support: F, icc_aversion: F) -> F:
    """Stance on the ICC paragraphs themselves (yes = keep them): the state's support for the
    draft's purpose plus its own clause term, minus its whole clause cost (``icc_aversion``:
    the ICC aversion less the state's clause deviation)."""
    return support - icc_aversion  # type: ignore[no-any-return]


def no_action_stance(support: F, bias: float) -> F:
    """Stance on a motion not to act on the draft (yes = kill it)."""
    return -support + np.float32(bias)  # type: ignore[no-any-return]


def amendment_stance(support: F, icc_aversion: F, bias: float) -> F:
    """Stance on an amendment deleting the ICC paragraphs (yes = delete): minus the
    ``clause_stance`` plus the amendment's bias, in full whatever the draft's pass-through."""
    return icc_aversion - support + np.float32(bias)  # type: ignore[no-any-return]


def cast_votes(stance: F, band: float, noise: float, absence: F, u: F) -> NDArray[np.int8]:
    """Votes (``Vote`` codes) from stances, absence probabilities and uniforms of the same shape."""
    # thresholds on u: absent below ``absence``; no below absence + present P(no); yes from
    # 1 - present P(yes) up. With P in tanh form (present_tanh) and h = present / 2 these are
    #   yes iff u >= 1 - h (1 + t_yes),  no iff u < absence + h (1 - t_no),
    # which with w = (1 - h - u) / h read: yes iff t_yes >= w, no iff t_no < w, absent iff w > 1
    # (w is a pass over the uniforms; the tanh forms are compared as they are)
    return cast_votes_tanh(*present_tanh(stance, band, noise), absence, u)


def cast_votes_tanh(t_yes: F, t_no: F, absence: F, u: F) -> NDArray[np.int8]:
    """``cast_votes`` from the vote probabilities in tanh form (``present_tanh``), for a caller
    that has them already."""
    ty, tn = t_yes, t_no
    h = np.maximum((np.float32(1.0) - absence) * np.float32(0.5), np.float32(1e-30))
    inv_h = np.float32(1.0) / h
    w = np.multiply(u, -inv_h, dtype=np.float32)
    w += (np.float32(1.0) - h) * inv_h
    votes = np.full(np.broadcast_shapes(ty.shape, u.shape), ABSTAIN, dtype=np.int8)
    votes -= (ty >= w).view(np.int8) * np.int8(2)
    votes -= (tn < w).view(np.int8)
    votes += (w > np.float32(1.0)).view(np.int8) * np.int8(2)
    return votes


def vote_probabilities(stance: F, band: float, noise: float, absence: F) -> NDArray[np.float32]:
    """(4, ...) probabilities of yes, no, abstain, absent: what ``cast_votes`` draws from."""
    p_yes, p_no = present_probabilities(stance, band, noise)
    present = np.float32(1.0) - absence
    py, pn = present * p_yes, present * p_no
    return np.stack([py, pn, present - py - pn, np.broadcast_to(absence, py.shape)])


def tally(votes: NDArray[np.int8], members: B | None = None) -> NDArray[np.int32]:
    """(4, replicates) counts of yes, no, abstain, absent over the states axis (axis 0).

    ``members`` restricts the count to some states (e.g. the Security Council)."""
    v = votes if members is None else votes[members]
    # counting a boolean array is fastest summed as bytes, in bytes while the count fits
    acc = np.uint8 if v.shape[0] < 256 else np.uint16
    yes, no, absent = (
        (v == code).view(np.uint8).sum(axis=0, dtype=acc).astype(np.int32)
        for code in (YES, NO, ABSENT)
    )
    return np.stack([yes, no, np.int32(v.shape[0]) - yes - no - absent, absent])


def majority_adopted(yes: NDArray[np.integer], no: NDArray[np.integer], majority: str) -> B:
    """General Assembly rule: a majority of members present and voting (yes against no).

    Abstentions and absences do not count; a tie fails. Two-thirds: yes >= 2/3 of yes + no (and
    at least one yes)."""
    if majority == "two_thirds":
        return (3 * yes >= 2 * (yes + no)) & (yes > 0)  # type: ignore[no-any-return]
    return yes > no  # type: ignore[no-any-return]


def council_adopted(
    yes: NDArray[np.integer], permanent_no: NDArray[np.integer], procedural: bool
) -> B:
    """Security Council rule (Charter art. 27): nine affirmative votes; on a substantive matter
    also no negative vote of a permanent member (an abstention does not block)."""
    ok = yes >= 9
    if not procedural:
        ok = ok & (permanent_no == 0)
    return ok  # type: ignore[no-any-return]


def swing(p_yes: F) -> F:
    """How undecided a state is between yes and not-yes: 4 p (1 - p), in [0, 1]."""
    return np.float32(4.0) * p_yes * (np.float32(1.0) - p_yes)  # type: ignore[no-any-return]


def swing_tanh(t_yes: F, out: F | None = None) -> F:
    """``swing`` from the tanh form: 4 p (1 - p) = 1 - t_yes ** 2 when p = (1 + t_yes) / 2.
    ``out`` may be ``t_yes`` itself."""
    out = np.square(t_yes, out=out, dtype=np.float32)
    np.subtract(np.float32(1.0), out, out=out)
    return out


def allocate(budget: float, weights: F) -> F:
    """Share ``budget`` over states (axis 0) in proportion to ``weights``, per replicate."""
    total = weights.sum(axis=0, keepdims=True)
    share = np.divide(np.float32(budget), np.maximum(total, np.float32(1e-9)), dtype=np.float32)
    return np.multiply(weights, share, dtype=np.float32)


def group_means(values: F, membership: F) -> F:
    """(groups, replicates) mean of ``values`` over each group's members."""
    sizes = np.maximum(membership.sum(axis=0), np.float32(1.0))[:, None]
    return np.divide(membership.T @ values, sizes, dtype=np.float32)


def group_pull(deviation: F, membership: F, weights: F, offset: F | None = None) -> F:
    """Weighted mean, over each state's groups, of the groups' mean deviation.

    ``membership``: (states, groups) 0/1; ``weights``: (states, groups) rows summing to 1 over the
    groups a state belongs to (zero rows for states in no group). The pull is linear: with
    ``offset = group_means(baseline, membership)``, ``group_pull(support, ..., offset)`` is the
    pull of the deviation ``support - baseline`` without forming it."""
    means = group_means(deviation, membership)
    if offset is not None:
        means -= offset
    return weights @ means  # type: ignore[no-any-return]


def deliberate(
    support: F, baseline: F, pressure: F | float, pull: F, rate: float, out: F | None = None
) -> F:
    """A state's new support after a round: pressure received, then a step of ``rate`` toward the
    shift its groups made (influence spreads shifts, it does not erase positions).

    ``out`` may be ``support`` itself (updated in place)."""
    moved = np.add(support, pressure, out=out, dtype=np.float32)
    step = np.subtract(moved, baseline, dtype=np.float32)
    np.subtract(pull, step, out=step)
    step *= np.float32(rate)
    moved += step
    return moved


def pivotal(votes: NDArray[np.int8], adopted: B, margin_ok: NDArray[np.integer]) -> B:
    """Whether each state's vote decided the outcome: switching a yes to no (when adopted) or a no
    to yes (when not) would flip it. ``margin_ok`` is yes - no (GA simple majority)."""
    flip_yes = adopted & (margin_ok <= 2) & (votes == YES)
    flip_no = ~adopted & (margin_ok >= -1) & (votes == NO)
    return flip_yes | flip_no  # type: ignore[no-any-return]


#: A habit's uniforms are 16-bit integers (a quarter of the float32 draws' cost): a state repeats
#: where its integer is below ``chance * HABIT_LEVELS`` (probability within 2e-5 of ``chance``;
#: ``unsim.model.habit``).
HABIT_LEVELS = 65536
U16 = NDArray[np.uint16]


def _cutoffs(chance: F) -> NDArray[np.uint32]:
    """Each state repeats where its uniform integer is below its cutoff."""
    return (chance * np.float32(HABIT_LEVELS)).astype(np.uint32)  # type: ignore[no-any-return]


def repeat_last(
    votes: NDArray[np.int8], last: NDArray[np.int8], chance: F, u: U16
) -> NDArray[np.int8]:
    """A state's habit (``unsim.model.habit``): ``votes`` (states, replicates) with each present
    state that has a last vote repeating it where its uniform integer ``u`` is below ``chance *
    HABIT_LEVELS``."""
    repeats = (votes != ABSENT) & (last[:, None] >= 0) & (u < _cutoffs(chance)[:, None])
    return np.where(repeats, last[:, None], votes).astype(np.int8)  # type: ignore[no-any-return]
