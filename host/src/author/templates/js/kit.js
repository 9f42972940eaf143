// Helpers for writing a nasbox strategy in JavaScript: the same ones the
// Rust SDK has (genotypes and what each decision is, the incumbent, config,
// errors, log), over the
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

import { below as hostBelow, nextF64 } from 'nasbox:strategy/random@0.1.2';
import { log } from 'nasbox:strategy/log@0.1.2';
import { decisions as hostShapes } from 'nasbox:strategy/shape@0.1.2';

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

/**
 * What each decision is (contract 0.1.2): categorical or ordered numbers, and
 * when it is active, from the host's `shape` import. Ordered decisions (a
 * learning rate, a width) get local steps as well as jumps, and positions in
 * [0, 1] (the value rescaled, on the log for a log decision) for kernels;
 * inactive decisions are kept at choice 0, the form in which the host counts
 * two genotypes as one architecture.
 */
export class Shape {
  constructor(space) {
    this.arities = arities(space);
    this.decisions = Array.from(hostShapes());
    if (this.decisions.length !== this.arities.length) this.decisions = []; // no description: all categorical
    this.positions = this.arities.map((_, d) => {
      const numbers = this.numbers(d);
      if (numbers === undefined) return undefined;
      const scaled = Array.from(numbers.values, (v) => (numbers.log ? Math.log(v) : v));
      const lo = Math.min(...scaled);
      const hi = Math.max(...scaled);
      return scaled.map((v) => (hi > lo ? (v - lo) / (hi - lo) : 0.5));
    });
  }

  /** `{ values, integer, log, continuous }` of an ordered decision, or undefined. */
  numbers(d) {
    const kind = this.decisions.length > 0 ? this.decisions[d].kind : undefined;
    return kind !== undefined && kind.tag === 'ordered' ? kind.val : undefined;
  }

  isOrdered(d) {
    return this.positions[d] !== undefined;
  }

  /** The choice's value rescaled to [0, 1] (0 when categorical). */
  position(d, choice) {
    return this.positions[d] === undefined ? 0 : this.positions[d][choice];
  }

  /** Which decisions count: every condition's decision active and at one of its choices. */
  active(genotype) {
    const state = this.arities.map(() => undefined);
    const resolve = (d) => {
      if (state[d] === undefined) {
        const conditions = this.decisions.length > 0 ? Array.from(this.decisions[d].conditions) : [];
        state[d] = conditions.every((c) => resolve(c.decision) && Array.from(c.choices).includes(genotype[c.decision]));
      }
      return state[d];
    };
    return this.arities.map((_, d) => resolve(d));
  }

  /** The genotype with its inactive decisions at choice 0. */
  canonical(genotype) {
    const active = this.active(genotype);
    return Array.from(genotype, (g, d) => (active[d] ? g : 0));
  }

  /** A uniformly random genotype, canonical. */
  sample() {
    return this.canonical(sample(this.arities));
  }

  /**
   * One active decision changed: on an ordered one, with probability `local`,
   * to the nearest other value of a Gaussian step of a fifth of its range;
   * otherwise to any other choice.
   */
  mutate(genotype, local = 0.7) {
    const active = this.active(genotype);
    const free = this.arities.map((a, d) => (a > 1 && active[d] ? d : -1)).filter((d) => d >= 0);
    const child = Array.from(genotype);
    if (free.length === 0) return child;
    const d = free[below(free.length)];
    const a = this.arities[d];
    const c = child[d];
    if (this.isOrdered(d) && uniform() < local) {
      const u1 = Math.max(uniform(), 1e-300);
      const target = this.position(d, c) + 0.2 * Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * uniform());
      let best = -1;
      for (let k = 0; k < a; k++) {
        if (k !== c && (best < 0 || Math.abs(this.position(d, k) - target) < Math.abs(this.position(d, best) - target))) best = k;
      }
      child[d] = best;
    } else {
      child[d] = (c + 1 + below(a - 1)) % a;
    }
    const now = this.active(child);
    for (let e = 0; e < child.length; e++) {
      if (now[e] && !active[e]) child[e] = below(this.arities[e]);
    }
    return this.canonical(child);
  }
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
