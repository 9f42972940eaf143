// {{name}}: mutation search. Each proposal changes one decision of the best
// architecture so far; with probability `explore` it is a uniform sample
// instead. Change `ask` and `tell` to make it your own search.
//
// Build with `nasbox strategy build .` (or ./build.sh); kit.js has the
// helpers and the contract's JavaScript conventions.

import * as kit from './kit.js';

const NAME = '{{name}}';
const CONFIG = { explore: [0.2, 'probability of a uniform sample instead of a mutation'] };

// The one search of this instance; set by `init`.
let search;

function current() {
  if (search === undefined) throw kit.other('init has not been called');
  return search;
}

export const strategy = {
  info() {
    return {
      name: NAME,
      version: '0.1.0',
      description: 'Mutates the best architecture so far in one decision, or samples a new one.',
      config: kit.configKeys(CONFIG),
      supportsSnapshot: false,
    };
  },

  init(space, config, context) {
    const { explore } = kit.settings(config, CONFIG);
    if (!(explore >= 0 && explore <= 1)) throw kit.invalidConfig(`explore: ${explore} is not in [0, 1]`);
    // What each decision is: numbers get local steps, conditions are kept.
    search = { shape: new kit.Shape(space), explore, best: new kit.Best() };
  },

  ask(n) {
    const s = current();
    const proposals = [];
    for (let i = 0; i < n; i++) {
      const genotype =
        s.best.genotype !== undefined && kit.uniform() >= s.explore ? s.shape.mutate(s.best.genotype) : s.shape.sample();
      proposals.push(kit.propose(genotype));
    }
    return proposals;
  },

  tell(observations) {
    const s = current();
    for (const o of observations) {
      if (s.best.offer(o)) kit.info(`new best ${o.objective.toFixed(4)} at trial ${o.trial}`);
    }
  },

  recommend() {
    return current().best.genotype;
  },

  snapshot() {
    throw kit.unsupported('no snapshots: nasbox resumes this strategy by replaying its journal');
  },

  restore(state) {
    throw kit.unsupported('no snapshots');
  },
};
