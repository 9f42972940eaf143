"""{{name}}: mutation search. Each proposal changes one decision of the best
architecture so far; with probability `explore` it is a uniform sample
instead. Change `ask` and `tell` to make it your own search.

Build with `nasbox strategy build .` (or ./build.sh); nasbox_kit.py has the
helpers and the rules."""

from __future__ import annotations

import nasbox_kit as kit
from wit_world import exports
from wit_world.imports.types import Observation, Proposal, RunContext, Setting, Space, StrategyInfo

NAME = "{{name}}"
CONFIG = {"explore": (0.2, "probability of a uniform sample instead of a mutation")}


class Search:
    def __init__(self, space: Space, explore: float) -> None:
        # What each decision is: numbers get local steps, conditions are kept.
        self.shape = kit.Shape(space)
        self.explore = explore
        self.best = kit.Best()

    def ask(self, n: int) -> list[Proposal]:
        proposals = []
        for _ in range(n):
            if self.best.genotype is not None and kit.uniform() >= self.explore:
                genotype = self.shape.mutate(self.best.genotype)
            else:
                genotype = self.shape.sample()
            proposals.append(kit.propose(genotype))
        return proposals

    def tell(self, observations: list[Observation]) -> None:
        for o in observations:
            if self.best.offer(o):
                kit.info(f"new best {o.objective:.4f} at trial {o.trial}")


# The one search of this instance; set by `init`.
_search: Search | None = None


def _current() -> Search:
    if _search is None:
        raise kit.other("init has not been called")
    return _search


class Strategy(exports.Strategy):
    def info(self) -> StrategyInfo:
        return StrategyInfo(
            name=NAME,
            version="0.1.0",
            description="Mutates the best architecture so far in one decision, or samples a new one.",
            config=kit.config_keys(CONFIG),
            supports_snapshot=False,
        )

    def init(self, space: Space, config: list[Setting], context: RunContext) -> None:
        global _search
        values = kit.settings(config, CONFIG)
        if not 0.0 <= values["explore"] <= 1.0:
            raise kit.invalid_config(f"explore: {values['explore']} is not in [0, 1]")
        _search = Search(space, values["explore"])

    def ask(self, n: int) -> list[Proposal]:
        return _current().ask(n)

    def tell(self, observations: list[Observation]) -> None:
        _current().tell(observations)

    def recommend(self) -> list[int] | None:
        return _current().best.genotype

    def snapshot(self) -> bytes:
        raise kit.unsupported("no snapshots: nasbox resumes this strategy by replaying its journal")

    def restore(self, state: bytes) -> None:
        raise kit.unsupported("no snapshots")
