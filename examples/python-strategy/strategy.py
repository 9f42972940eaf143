"""Regularized evolution for nasbox, written in Python.

Real et al., "Regularized Evolution for Image Classifier Architecture
Search", AAAI 2019. A population of `population` architectures, ordered by
age. The first `population` proposals are uniform samples; after that, each
proposal is a mutation (one decision changed to a different choice) of the
best of `sample` members drawn at random. When a result arrives, the member
joins the population and the *oldest* member dies, whatever its accuracy.

The search is asynchronous: tournaments use the population as it is when
asked, results arrive in any order, and several proposals may be pending.

Build it into a WebAssembly component with `scripts/build-python-strategy`
(componentize-py, `--stub-wasi`); see README.md next to this file.

Rules a nasbox strategy in Python follows:

* Randomness comes from the host's `random` import only, never from Python's
  `random` module: the host seeds it from the run's seed, so the same seed
  gives the same search.
* Failures are returned as `strategy-error` by raising `Err(...)` of one of
  the `StrategyError_*` cases. Any other exception escaping an export would
  trap the instance, so every export is wrapped in `_guarded`.
"""

from __future__ import annotations

import functools
import json
import re
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from componentize_py_types import Err
from wit_world import exports
from wit_world.imports import log as host_log
from wit_world.imports import random as host_random
from wit_world.imports.log import Level
from wit_world.imports.types import (
    Candidate,
    ConfigKey,
    Observation,
    Proposal,
    Proposal_Genotype,
    RunContext,
    Setting,
    Space,
    Status_Ok,
    StrategyError_InvalidConfig,
    StrategyError_InvalidState,
    StrategyError_Other,
    StrategyInfo,
)

NAME = "evolution-py"
VERSION = "0.1.0"
# Written into every snapshot; `restore` refuses other formats.
STATE_FORMAT = 1

CONFIG: dict[str, tuple[int, str]] = {
    "population": (20, "population size P (at least 1); the first P proposals are uniform samples"),
    "sample": (5, "tournament size S (1 <= S <= P): members compared, with replacement, to pick a parent"),
}

Genotype = list[int]
T = TypeVar("T")


# --- Randomness: the host's stream only -------------------------------------


def below(bound: int) -> int:
    """A uniform integer in [0, bound), from the host."""
    return host_random.below(bound)


def sample(arities: list[int]) -> Genotype:
    """A uniformly random genotype."""
    return [below(a) for a in arities]


def mutate(genotype: Genotype, arities: list[int]) -> Genotype:
    """`genotype` with one uniformly chosen decision changed to a different
    choice. Decisions with a single choice are never picked; a genotype of
    such decisions only comes back unchanged."""
    child = list(genotype)
    mutable = [d for d, a in enumerate(arities) if a > 1]
    if not mutable:
        return child
    d = mutable[below(len(mutable))]
    shift = 1 + below(arities[d] - 1)
    child[d] = (child[d] + shift) % arities[d]
    return child


# --- The search --------------------------------------------------------------


@dataclass
class State:
    """Everything that changes during a search; `snapshot` saves exactly this."""

    # Living members, oldest first: (genotype, objective).
    population: deque[tuple[Genotype, float]] = field(default_factory=deque)
    # Trials proposed and not yet told -> whether each was a uniform sample
    # for the initial population.
    pending: dict[int, bool] = field(default_factory=dict)
    # The id the host will give the next proposal.
    next_trial: int = 0
    # Best ever seen: (objective, trial, genotype).
    best: tuple[float, int, Genotype] | None = None

    def to_json(self) -> bytes:
        return json.dumps(
            {
                "format": STATE_FORMAT,
                "population": [[g, obj] for g, obj in self.population],
                "pending": [[t, r] for t, r in sorted(self.pending.items())],
                "next_trial": self.next_trial,
                "best": list(self.best) if self.best is not None else None,
            },
            separators=(",", ":"),
            allow_nan=False,
        ).encode()

    @staticmethod
    def from_json(data: bytes, arities: list[int]) -> State:
        """Parses and validates a snapshot; raises ValueError (with the reason)
        on anything it cannot use."""
        doc = json.loads(data.decode("utf-8"))
        if not isinstance(doc, dict) or doc.get("format") != STATE_FORMAT:
            raise ValueError(f"not an {NAME} state of format {STATE_FORMAT}")

        def genotype(v: object) -> Genotype:
            if (
                not isinstance(v, list)
                or len(v) != len(arities)
                or not all(_is_int(c) and 0 <= c < a for c, a in zip(v, arities, strict=True))
            ):
                raise ValueError(f"{v!r} is not a genotype of this space")
            return list(v)

        def number(v: object) -> float:
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                raise ValueError(f"{v!r} is not a number")
            return float(v)

        def trial(v: object) -> int:
            if not _is_int(v) or v < 0:
                raise ValueError(f"{v!r} is not a trial id")
            return v

        state = State()
        state.population = deque((genotype(g), number(o)) for g, o in doc["population"])
        for t, r in doc["pending"]:
            if not isinstance(r, bool):
                raise ValueError(f"pending flag {r!r} is not a boolean")
            state.pending[trial(t)] = r
        state.next_trial = trial(doc["next_trial"])
        if doc["best"] is not None:
            o, t, g = doc["best"]
            state.best = (number(o), trial(t), genotype(g))
        return state


def _is_int(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


class Evolution:
    """Regularized evolution over one space."""

    def __init__(self, arities: list[int], population_size: int, sample_size: int) -> None:
        self.arities = arities
        self.population_size = population_size
        self.sample_size = sample_size
        self.state = State()

    def _next(self) -> Genotype:
        s = self.state
        pending_random = sum(1 for r in s.pending.values() if r)
        initialising = len(s.population) + pending_random < self.population_size
        if initialising or not s.population:
            s.pending[s.next_trial] = True
            return sample(self.arities)
        # Tournament: the best of `sample_size` members drawn with
        # replacement; the first drawn wins ties.
        parent: tuple[Genotype, float] | None = None
        for _ in range(self.sample_size):
            candidate = s.population[below(len(s.population))]
            if parent is None or candidate[1] > parent[1]:
                parent = candidate
        assert parent is not None  # sample_size >= 1
        s.pending[s.next_trial] = False
        return mutate(parent[0], self.arities)

    def ask(self, n: int) -> list[Proposal]:
        proposals: list[Proposal] = []
        for _ in range(n):
            genotype = self._next()
            self.state.next_trial += 1
            proposals.append(Proposal_Genotype(Candidate(genotype=genotype, fidelity=None)))
        return proposals

    def tell(self, observations: list[Observation]) -> None:
        s = self.state
        for o in observations:
            s.pending.pop(o.trial, None)
            result = _success(o)
            if result is None:
                continue
            genotype, objective = result
            if s.best is None or objective > s.best[0] or (objective == s.best[0] and o.trial < s.best[1]):
                s.best = (objective, o.trial, list(genotype))
            s.population.append((list(genotype), objective))
            if len(s.population) > self.population_size:
                s.population.popleft()  # the oldest dies, not the worst

    def recommend(self) -> Genotype | None:
        return list(self.state.best[2]) if self.state.best is not None else None


def _success(o: Observation) -> tuple[Genotype, float] | None:
    """The genotype and objective of a successful discrete result."""
    if (
        isinstance(o.status, Status_Ok)
        and isinstance(o.proposal, Proposal_Genotype)
        and o.objective == o.objective  # not NaN
        and abs(o.objective) != float("inf")
    ):
        return o.proposal.value.genotype, o.objective
    return None


def _parse_config(config: list[Setting]) -> dict[str, int]:
    values = {key: default for key, (default, _) in CONFIG.items()}
    for setting in config:
        if setting.key not in CONFIG:
            raise Err(StrategyError_InvalidConfig(f"{setting.key}: not a config key of {NAME}"))
        text = setting.value.strip()
        if not re.fullmatch(r"[0-9]+", text):
            raise Err(StrategyError_InvalidConfig(f"{setting.key}: `{setting.value}` is not a whole number"))
        values[setting.key] = int(text)
    if values["population"] < 1:
        raise Err(StrategyError_InvalidConfig("population: must be at least 1"))
    if not 1 <= values["sample"] <= values["population"]:
        raise Err(StrategyError_InvalidConfig(f"sample: {values['sample']} is not in 1..={values['population']}"))
    return values


# --- The exported interface ---------------------------------------------------

# The one search of this instance; set by `init`.
_search: Evolution | None = None


def _guarded(method: Callable[..., T]) -> Callable[..., T]:
    """Returns every failure as a `strategy-error` instead of trapping: an
    `Err` passes through, any other exception becomes `other`."""

    @functools.wraps(method)
    def wrapper(*args, **kwargs):  # type: ignore[no-untyped-def]
        try:
            return method(*args, **kwargs)
        except Err:
            raise
        except Exception as e:  # noqa: BLE001 - the contract wants an error value, not a trap
            raise Err(StrategyError_Other(f"{method.__name__}: {type(e).__name__}: {e}")) from e

    return wrapper


def _current() -> Evolution:
    if _search is None:
        raise Err(StrategyError_Other("init has not been called"))
    return _search


class Strategy(exports.Strategy):
    def info(self) -> StrategyInfo:
        return StrategyInfo(
            name=NAME,
            version=VERSION,
            description=(
                "Regularized (aging) evolution written in Python: tournament selection of size S, "
                "one-decision mutation, the oldest member dies (Real et al. 2019)."
            ),
            config=[
                ConfigKey(name=key, default=str(default), description=description)
                for key, (default, description) in CONFIG.items()
            ],
            supports_snapshot=True,
        )

    @_guarded
    def init(self, space: Space, config: list[Setting], context: RunContext) -> None:
        global _search
        values = _parse_config(config)
        arities = [len(d.choices) for d in space.decisions]
        _search = Evolution(arities, values["population"], values["sample"])
        host_log.log(
            Level.DEBUG,
            f"population {values['population']}, sample {values['sample']}, "
            f"space `{space.name}` with {len(arities)} decisions, parallelism {context.parallelism}",
        )

    @_guarded
    def ask(self, n: int) -> list[Proposal]:
        return _current().ask(n)

    @_guarded
    def tell(self, observations: list[Observation]) -> None:
        _current().tell(observations)

    @_guarded
    def recommend(self) -> list[int] | None:
        return _current().recommend()

    @_guarded
    def snapshot(self) -> bytes:
        return _current().state.to_json()

    @_guarded
    def restore(self, state: bytes) -> None:
        search = _current()
        try:
            search.state = State.from_json(state, search.arities)
        except (ValueError, KeyError, TypeError, IndexError) as e:
            # json.JSONDecodeError and UnicodeDecodeError are ValueErrors.
            raise Err(StrategyError_InvalidState(f"{type(e).__name__}: {e}")) from e
        host_log.log(Level.DEBUG, f"restored at trial {search.state.next_trial}")
