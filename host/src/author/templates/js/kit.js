// Helpers for writing a nasbox strategy in JavaScript: the same ones the
// Rust SDK has (genotypes, the incumbent, config, errors, log), over the
// host's imports. Copy it, change it, or ignore it; nasbox only sees the
// component.
//
// The contract in JavaScript (componentize-js):
// * the module exports an object `strategy` with the contract's functions
//   (info, init, ask, tell, recommend, snapshot, restore), names camelCased;
// * u64 values are BigInt (`below(10n)`, an observation's `trial`);
// * a variant is `{ tag: 'kebab-case-name', val }`, an option is the value
//   or `undefined`;
// * `throw invalidConfig('...')` (or unsupported, invalidState, other)
//   returns a strategy-error; any other exception stops the strategy, and
//   nasbox shows its message and stack;
// * randomness only from the host (`below`, `uniform`), never Math.random:
//   the host seeds it from the run's seed, so one seed gives one search.

import { below as hostBelow, nextF64 } from 'nasbox:strategy/random@0.1.1';
import { log } from 'nasbox:strategy/log@0.1.1';

// --- Randomness: the host's seeded stream only --------------------------------

/** A uniform integer in [0, bound). */
export function below(bound) {
  return Number(hostBelow(BigInt(bound)));
}

/** A uniform float in [0, 1). */
export function uniform() {
  return nextF64();
}

// --- Genotypes ------------------------------------------------------------------

/** How many choices each decision has. */
export function arities(space) {
  return space.decisions.map((d) => d.choices.length);
}

/** A uniformly random genotype. */
export function sample(arities) {
  return arities.map((a) => below(a));
}

/** The genotype with one decision changed to a different choice. */
export function mutate(genotype, arities) {
  const free = arities.map((a, i) => (a > 1 ? i : -1)).filter((i) => i >= 0);
  const child = Array.from(genotype);
  if (free.length > 0) {
    const i = free[below(free.length)];
    child[i] = (child[i] + 1 + below(arities[i] - 1)) % arities[i];
  }
  return child;
}

/** A proposal of one architecture, at full fidelity unless told. */
export function propose(genotype, fidelity = undefined) {
  return { tag: 'genotype', val: { genotype: Array.from(genotype), fidelity } };
}

/** [genotype, objective] of a successful architecture's result, or undefined. */
export function success(o) {
  if (o.status.tag === 'ok' && o.proposal.tag === 'genotype' && Number.isFinite(o.objective)) {
    return [Array.from(o.proposal.val.genotype), o.objective];
  }
  return undefined;
}

/** The best result so far; ties go to the earlier trial. */
export class Best {
  constructor() {
    this.objective = -Infinity;
    this.trial = -1n;
    this.genotype = undefined;
  }

  /** Considers one observation; true when it became the incumbent. */
  offer(o) {
    const result = success(o);
    if (result === undefined) return false;
    const [genotype, objective] = result;
    if (this.genotype === undefined || objective > this.objective || (objective === this.objective && o.trial < this.trial)) {
      this.objective = objective;
      this.trial = o.trial;
      this.genotype = genotype;
      return true;
    }
    return false;
  }
}

// --- Config ---------------------------------------------------------------------

/** `info`'s config keys from { name: [default, description] }. */
export function configKeys(config) {
  return Object.entries(config).map(([name, [value, description]]) => ({ name, default: String(value), description }));
}

/** The config values, numbers parsed; an unknown key or a bad number throws invalidConfig. */
export function settings(given, config) {
  const values = Object.fromEntries(Object.entries(config).map(([k, [d]]) => [k, d]));
  for (const { key, value } of given) {
    if (!(key in config)) throw invalidConfig(`${key}: not a config key (keys: ${Object.keys(config).join(', ') || 'none'})`);
    if (typeof config[key][0] === 'number') {
      const n = Number(value.trim());
      if (value.trim() === '' || !Number.isFinite(n)) throw invalidConfig(`${key}: \`${value}\` is not a number`);
      values[key] = n;
    } else {
      values[key] = value;
    }
  }
  return values;
}

// --- Errors: throw these to return a strategy-error ---------------------------------

export const invalidConfig = (message) => ({ tag: 'invalid-config', val: message });
export const unsupported = (message) => ({ tag: 'unsupported', val: message });
export const invalidState = (message) => ({ tag: 'invalid-state', val: message });
export const other = (message) => ({ tag: 'other', val: message });

// --- Log: shown by nasbox, capped per call --------------------------------------------

export const debug = (message) => log('debug', message);
export const info = (message) => log('info', message);
export const warn = (message) => log('warn', message);
