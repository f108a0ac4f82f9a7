"""One block of runs: build the model for ``size`` replicates, simulate, reduce to aggregates.

This is what a worker executes. Its result is small (counts and histograms) unless the run table
is requested, so memory does not grow with the number of runs.
"""

from __future__ import annotations

import ctypes
import pickle
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray
from threadpoolctl import threadpool_limits

from unsim.model import UNModel, kernels
from unsim.model.outcomes import count_runs
from unsim.model.stages import reported, vote_rule
from unsim.results.aggregates import TALLY_CATEGORIES, BlockResult
from unsim.scenario.schema import Scenario


def _pivotal_counts(
    stage: str,
    votes: NDArray[np.int8],
    outcomes: dict[str, NDArray[Any]],
    model: UNModel,
) -> NDArray[np.int64]:
    """(states,) in how many runs each state's vote decided the outcome of the vote at ``stage``
    (``VoteRule.swings`` and ``VoteRule.pivotal``: switching a yes to no when adopted, or a no to
    yes when not, would have flipped it; in the Council, the ninth yes, or a permanent member's
    lone veto of a draft with nine yes).

    Only close votes can have a pivotal state, so only their columns are examined."""
    held = outcomes[f"{stage}_held"]
    none = np.zeros(votes.shape[0], dtype=np.int64)
    if not held.any():
        return none
    rule = vote_rule(stage, model.spec.resolution.majority)
    adopted = outcomes[f"{stage}_adopted"]
    yes = outcomes[f"{stage}_yes"].astype(np.int32)
    no = outcomes[f"{stage}_no"].astype(np.int32)
    permanent_no = None
    if rule.veto:
        permanent_no = np.zeros(yes.shape, dtype=np.int32)
        for c in model.world.security_council.permanent:
            permanent_no += outcomes[f"veto_{c}"]
    flips = rule.swings(adopted, yes, no, permanent_no)
    close = held & (flips[0] | flips[1] | flips[2])
    if not close.any():
        return none
    decides = rule.pivotal(votes[:, close], tuple(f[close] for f in flips), model.permanent)  # type: ignore[arg-type]
    members = model.members(stage)
    if members is not None:  # a body of its own: only its members vote
        decides &= members[:, None]
    return decides.sum(axis=1, dtype=np.int64)  # type: ignore[no-any-return]


def simulate_block(
    scenario: Scenario, seed: int, block: int, size: int, keep_runs: bool = True
) -> BlockResult:
    """Simulate block ``block`` of ``size`` runs and reduce it to aggregates.

    BLAS runs single-threaded (see ``prepare_process``)."""
    return next(iter_blocks(scenario, seed, [(block, size)], keep_runs))


#: What a model of one scenario needs to serve a variant of it (a study's point): a new
#: scenario only (``state``: values read while a history unfolds), its parameters rebuilt
#: (``parameters``), or a new model (``model``).
Change = Literal["state", "parameters", "model"]


class ModelSlot:
    """Holds the model a sequence of blocks runs on, so that it can outlive one sequence (a
    worker keeps it for the next task of the same run or study)."""

    def __init__(self) -> None:
        self.model: UNModel | None = None

    def get(
        self, scenario: Scenario, seed: int, block: int, size: int, change: Change = "model"
    ) -> UNModel:
        """A model of ``scenario`` with ``size`` replicates, set to ``block``: the held one reset
        (``UNModel.reset``) when it fits, else a new one. The held model fits when it has
        ``size`` replicates and holds ``scenario``, or (``change`` other than ``model``) a
        variant of it that differs as ``change`` says: it is re-parameterised first
        (``UNModel.reparameterise``)."""
        m = self.model
        if m is not None and m.n_replicates == size and (m.spec is scenario or change != "model"):
            if m.spec is not scenario:
                m.reparameterise(scenario, parameters=change == "parameters")
            m.reset(seed, block)
            return m
        self.release()
        self.model = UNModel(scenario, replicates=size, seed=seed, block=block)
        return self.model

    def release(self) -> None:
        """Free the held model's memory and forget it."""
        if self.model is not None:
            self.model.release()
            self.model = None


def iter_blocks(
    scenario: Scenario,
    seed: int,
    blocks: Iterable[tuple[int, int]],
    keep_runs: bool = True,
    slot: ModelSlot | None = None,
) -> Iterator[BlockResult]:
    """Simulate the given ``(block, size)`` blocks one after the other and yield each one's
    aggregates. Blocks of equal size share one model (``UNModel.reset``): its agents and
    parameters are built once, and only the histories start afresh. Without a ``slot`` the
    model is released at the end; with one it stays there."""
    prepare_process()
    own = slot is None
    holder = ModelSlot() if slot is None else slot
    try:
        for block, size in blocks:
            t0 = time.perf_counter()
            model = holder.get(scenario, seed, block, size)
            res = _aggregate(model, model.simulate(), keep_runs)
            res.seconds = time.perf_counter() - t0
            yield res
    finally:
        if own:
            holder.release()


def simulate_shard(
    scenario: Scenario,
    seed: int,
    first: int,
    sizes: list[int],
    keep_runs: bool = True,
    slot: ModelSlot | None = None,
) -> BlockResult:
    """Blocks ``first, first + 1, ...`` of the given sizes, merged into one result (run tables
    concatenated in block order). One task of a worker pool or a cluster."""
    total = BlockResult()
    chunks: list[dict[str, NDArray[Any]]] = []
    blocks = [(first + i, size) for i, size in enumerate(sizes)]
    for res in iter_blocks(scenario, seed, blocks, keep_runs, slot):
        if res.runs is not None:
            chunks.append(res.runs)
            res.runs = None
        total.merge(res)
    if chunks:
        total.runs = {k: np.concatenate([c[k] for c in chunks]) for k in chunks[0]}
    return total


_SETUP_LOCK = threading.Lock()
_SETUP_DONE = False


def prepare_process() -> None:
    """Once per process, before the first block computes:

    * limit BLAS to one thread. Blocks are the unit of parallelism; a multi-threaded BLAS
      competing with the other workers is many times slower. The limit is never restored:
      OpenBLAS is not safe against a change of its thread count while another thread (a Dask
      worker thread) is inside it.
    * keep freed memory in the heap (glibc only). A block allocates many temporary arrays of a few
      MB; by default each is a fresh ``mmap`` whose pages fault in again on first touch, which
      costs more than the arithmetic (measured: 71 -> 41 us per run)."""
    global _SETUP_DONE
    if _SETUP_DONE:
        return
    with _SETUP_LOCK:
        if not _SETUP_DONE:
            threadpool_limits(limits=1, user_api="blas")
            _keep_freed_memory()
            _SETUP_DONE = True


def _keep_freed_memory() -> None:
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL("libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc
        return
    m_trim_threshold, m_top_pad, m_mmap_threshold = -1, -2, -3
    mallopt(m_mmap_threshold, 32 * 2**20)  # the largest glibc accepts
    mallopt(m_trim_threshold, 1024 * 2**20)
    mallopt(m_top_pad, 64 * 2**20)


def _state_counts(
    model: UNModel, stage: str, votes: NDArray[np.int8], held: NDArray[np.bool_]
) -> NDArray[np.int64]:
    """(states, 4) how often each state voted yes, no, abstain, absent where the vote was held
    (``kernels.state_counts``); in a body of its own (the Council) only its members vote, the
    others are absent."""
    counts = np.zeros((votes.shape[0], 4), dtype=np.int64)
    if not held.any():
        return counts
    members = model.members(stage)
    if members is not None:
        rows = np.flatnonzero(members)
        counts[:, 3] = held.sum()
        counts[rows] = kernels.state_counts(votes[rows], held)
        return counts
    return kernels.state_counts(votes, held)  # type: ignore[no-any-return]


def _aggregate(model: UNModel, out: dict[str, NDArray[Any]], keep_runs: bool) -> BlockResult:
    """Reduce a simulated block to counts and histograms (and its run table if kept)."""
    res = BlockResult(n=model.n_replicates)
    count_runs(out, model.columns(), res.sums)
    size = model.n_states + 1
    for st in reported(model.spec.resolution.stages):
        stage = st.name
        held = out[f"{stage}_held"]
        hists = kernels.tally_histograms(
            *(out[f"{stage}_{cat}"] for cat in TALLY_CATEGORIES), held, size
        )
        for j, cat in enumerate(TALLY_CATEGORIES):
            res.hists[f"{stage}_{cat}"] = hists[j]
        if st.rule.assembly:  # present and voting: the majority each run needed
            voting = out[f"{stage}_yes"][held].astype(np.int64) + out[f"{stage}_no"][held]
            res.hists[f"{stage}_voting"] = np.bincount(voting, minlength=size)
        votes = model.votes.get(stage)
        if votes is None:
            continue
        res.state_counts[stage] = _state_counts(model, stage, votes, held)
        res.pivotal[stage] = _pivotal_counts(stage, votes, out, model)
    if keep_runs:
        res.runs = {k: v.copy() for k, v in out.items()}
    return res


#: Per worker thread: the run or study last served (its token and payload) and its model slot.
_WORKER = threading.local()

#: A task: (run token, pickled scenario, seed, first block, block sizes, keep the run table).
Task = tuple[str, bytes, int, int, list[int], bool]


def worker_state(token: str, payload: bytes) -> tuple[Any, ModelSlot]:
    """What this worker thread keeps for the run or study named ``token``: its payload
    (unpickled once, on its first task here) and the slot of the model its tasks run on. A new
    token releases what the previous one kept."""
    state = _WORKER.__dict__
    if state.get("token") != token:
        release_worker()
        state["token"] = token
        state["payload"] = pickle.loads(payload)
        state["slot"] = ModelSlot()
    return state["payload"], state["slot"]


def release_worker() -> None:
    """Drop what this worker thread keeps (the next run or study brings its own)."""
    state = _WORKER.__dict__
    slot: ModelSlot | None = state.pop("slot", None)
    if slot is not None:
        slot.release()
    state.pop("token", None)
    state.pop("payload", None)


def block_task(args: Task) -> BlockResult:
    """Picklable entry point for process pools and Dask: a shard of blocks of one run.

    The scenario travels pickled, with a token naming the run: a worker that already served the
    run skips unpickling it and runs on the model it kept from its previous task (built once
    per run and worker thread instead of once per task)."""
    token, payload, seed, first, sizes, keep_runs = args
    scenario, slot = worker_state(token, payload)
    return simulate_shard(scenario, seed, first, sizes, keep_runs, slot)
