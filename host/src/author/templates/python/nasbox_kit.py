"""Helpers for writing a nasbox strategy in Python: the same ones the Rust
SDK has (genotypes, the incumbent, config, errors, log), over the host's
imports. Copy it, change it, or ignore it; nasbox only sees the component.

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
from wit_world.imports.log import Level
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
