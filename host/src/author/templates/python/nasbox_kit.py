"""Helpers for writing a nasbox strategy in Python: the same ones the Rust
SDK has (genotypes and what each decision is, the incumbent, config,
errors, log), over the host's imports. Copy it, change it, or ignore it; nasbox only sees the component.

Rules a nasbox strategy follows, which these helpers keep:

* Randomness only from the host (`below`, `uniform`), never from Python's
  `random` module: the host seeds it from the run's seed, so one seed gives
  one search.
* An error the user should see as a strategy error is raised with
  `raise invalid_config("...")` (or `unsupported`, `invalid_state`, `other`).
  Any other exception stops the strategy, and nasbox shows its traceback.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from componentize_py_types import Err
from wit_world.imports import log as _log
from wit_world.imports import random as _random
from wit_world.imports import shape as _shape
from wit_world.imports.log import Level
from wit_world.imports.shape import Kind_Ordered
from wit_world.imports.types import (
    Candidate,
    ConfigKey,
    Observation,
    Proposal,
    Proposal_Genotype,
    Setting,
    Space,
    Status_Ok,
    StrategyError_InvalidConfig,
    StrategyError_InvalidState,
    StrategyError_Other,
    StrategyError_Unsupported,
)

Genotype = list[int]

# --- Randomness: the host's seeded stream only ---------------------------------


def below(bound: int) -> int:
    """A uniform integer in [0, bound)."""
    return _random.below(bound)


def uniform() -> float:
    """A uniform float in [0, 1)."""
    return _random.next_f64()


# --- Genotypes ------------------------------------------------------------------


def arities(space: Space) -> list[int]:
    """How many choices each decision has."""
    return [len(d.choices) for d in space.decisions]


def sample(arities: list[int]) -> Genotype:
    """A uniformly random genotype."""
    return [below(a) for a in arities]


def mutate(genotype: Genotype, arities: list[int]) -> Genotype:
    """The genotype with one decision changed to a different choice (a copy
    when no decision has a second choice)."""
    free = [i for i, a in enumerate(arities) if a > 1]
    child = list(genotype)
    if free:
        i = free[below(len(free))]
        child[i] = (child[i] + 1 + below(arities[i] - 1)) % arities[i]
    return child


class Shape:
    """What each decision is (contract 0.1.2): categorical or ordered
    numbers, and when it is active, from the host's `shape` import.

    Ordered decisions (a learning rate, a width) get local steps as well as
    jumps, and positions in [0, 1] (the value rescaled, on the log for a log
    decision) for kernels; inactive decisions are kept at choice 0, the form
    in which the host counts two genotypes as one architecture."""

    def __init__(self, space: Space) -> None:
        self.arities = arities(space)
        self.decisions = list(_shape.decisions())
        if len(self.decisions) != len(self.arities):  # no description: all categorical
            self.decisions = []
        self.positions: list[list[float] | None] = []
        for d in range(len(self.arities)):
            numbers = self.numbers(d)
            if numbers is None:
                self.positions.append(None)
                continue
            scaled = [math.log(v) if numbers.log else v for v in numbers.values]
            lo, hi = min(scaled), max(scaled)
            self.positions.append([(v - lo) / (hi - lo) if hi > lo else 0.5 for v in scaled])

    def numbers(self, d: int):
        """The values, integer, log and continuous flags of an ordered
        decision; None for a categorical one."""
        if not self.decisions:
            return None
        kind = self.decisions[d].kind
        return kind.value if isinstance(kind, Kind_Ordered) else None

    def is_ordered(self, d: int) -> bool:
        return self.positions[d] is not None

    def position(self, d: int, choice: int) -> float:
        """The choice's value rescaled to [0, 1] (0 when categorical)."""
        p = self.positions[d]
        return p[choice] if p is not None else 0.0

    def active(self, genotype: Genotype) -> list[bool]:
        """Which decisions count: every condition's decision active and at
        one of its choices."""
        state: list[bool | None] = [None] * len(self.arities)

        def resolve(d: int) -> bool:
            if state[d] is None:
                conditions = self.decisions[d].conditions if self.decisions else []
                state[d] = all(resolve(c.decision) and genotype[c.decision] in list(c.choices) for c in conditions)
            return bool(state[d])

        return [resolve(d) for d in range(len(self.arities))]

    def canonical(self, genotype: Genotype) -> Genotype:
        """The genotype with its inactive decisions at choice 0."""
        return [g if on else 0 for g, on in zip(genotype, self.active(genotype))]

    def sample(self) -> Genotype:
        """A uniformly random genotype, canonical."""
        return self.canonical(sample(self.arities))

    def mutate(self, genotype: Genotype, local: float = 0.7) -> Genotype:
        """One active decision changed: on an ordered one, with probability
        `local`, to the nearest other value of a Gaussian step of a fifth of
        its range; otherwise to any other choice."""
        active = self.active(genotype)
        free = [d for d, a in enumerate(self.arities) if a > 1 and active[d]]
        child = list(genotype)
        if not free:
            return child
        d = free[below(len(free))]
        a, c = self.arities[d], child[d]
        if self.is_ordered(d) and uniform() < local:
            u1, u2 = max(uniform(), 1e-300), uniform()
            target = self.position(d, c) + 0.2 * math.sqrt(-2 * math.log(u1)) * math.cos(2 * math.pi * u2)
            others = [k for k in range(a) if k != c]
            child[d] = min(others, key=lambda k: abs(self.position(d, k) - target))
        else:
            child[d] = (c + 1 + below(a - 1)) % a
        now = self.active(child)
        for e in range(len(child)):
            if now[e] and not active[e]:
                child[e] = below(self.arities[e])
        return self.canonical(child)


def propose(genotype: Genotype, fidelity: float | None = None) -> Proposal:
    """A proposal of one architecture, at full fidelity unless told."""
    return Proposal_Genotype(Candidate(genotype=list(genotype), fidelity=fidelity))


def success(o: Observation) -> tuple[Genotype, float] | None:
    """The genotype and objective of a successful architecture's result, or
    None for a failure, an invalid architecture or a relaxed proposal."""
    if isinstance(o.status, Status_Ok) and isinstance(o.proposal, Proposal_Genotype) and math.isfinite(o.objective):
        return list(o.proposal.value.genotype), o.objective
    return None


@dataclass
class Best:
    """The best (objective, trial, genotype) so far; ties go to the earlier
    trial, so the answer does not depend on the order results arrive in."""

    objective: float = -math.inf
    trial: int = -1
    genotype: Genotype | None = None

    def offer(self, o: Observation) -> bool:
        """Considers one observation; True when it became the incumbent."""
        result = success(o)
        if result is None:
            return False
        genotype, objective = result
        if self.genotype is None or objective > self.objective or (objective == self.objective and o.trial < self.trial):
            self.objective, self.trial, self.genotype = objective, o.trial, genotype
            return True
        return False


# --- Config ---------------------------------------------------------------------


def config_keys(config: dict[str, tuple[object, str]]) -> list[ConfigKey]:
    """`info`'s config keys from {name: (default, description)}."""
    return [ConfigKey(name=k, default=str(d), description=desc) for k, (d, desc) in config.items()]


def settings(given: list[Setting], config: dict[str, tuple[object, str]]) -> dict[str, object]:
    """The config values, each parsed as its default's type; an unknown key
    or a bad value raises `invalid_config` naming it."""
    values = {k: d for k, (d, _) in config.items()}
    for s in given:
        if s.key not in config:
            raise invalid_config(f"{s.key}: not a config key (keys: {', '.join(config) or 'none'})")
        kind = type(config[s.key][0])
        try:
            values[s.key] = kind(s.value.strip())
        except ValueError:
            raise invalid_config(f"{s.key}: `{s.value}` is not a {kind.__name__}") from None
    return values


# --- Errors: raise these to return a strategy-error -------------------------------


def invalid_config(message: str) -> Err:
    return Err(StrategyError_InvalidConfig(message))


def unsupported(message: str) -> Err:
    return Err(StrategyError_Unsupported(message))


def invalid_state(message: str) -> Err:
    return Err(StrategyError_InvalidState(message))


def other(message: str) -> Err:
    return Err(StrategyError_Other(message))


# --- Log: shown by nasbox, capped per call ------------------------------------------


def debug(message: str) -> None:
    _log.log(Level.DEBUG, message)


def info(message: str) -> None:
    _log.log(Level.INFO, message)


def warn(message: str) -> None:
    _log.log(Level.WARN, message)
