//! The problems: a test function (or two, under a categorical switch) on a
//! space of decisions of one of four kinds, with the best value the space
//! can reach.
//!
//! - `grid`: each input an ordered decision of 11 equally spaced values over
//!   its domain;
//! - `cont`: each input a continuous range, which strategies see as an
//!   ordered decision with `continuous` set and 1001 choices,
//!   low + k/1000 · (high − low) for k = 0..=1000, rounded to 6 significant
//!   digits (as the host represents a range);
//! - `mixed`: the grid inputs and three categorical decisions that do not
//!   affect the value (a strategy has to learn to ignore them);
//! - `cond`: a categorical `variant` picks Branin (`a`, scaled to 3 − f/100:
//!   at most 2.996, but high on most of its domain) or Hartmann-3 (`b`:
//!   the global maximum 3.863, near 0 on most of its domain); each
//!   variant's inputs are active only under it.
//!
//! The grid optimum (the best value a genotype can have) is found by brute
//! force where the space has at most [`BRUTE_FORCE`] points (every `grid`,
//! `mixed` and 2-d `cont` problem); otherwise it is bounded below by the best
//! point of a box of ±[`BOX`] steps around each known argmax, and regret is
//! measured to the true optimum (the two differ by less than 3e-5 on this
//! suite's fine grids).

use std::collections::BTreeMap;
use std::sync::Mutex;

use nasbox_sdk::shape::{Condition, DecisionShape, Kind, Numbers};
use nasbox_sdk::{Genotype, Space};
use serde_json::{json, Value};

use crate::functions::{by_name, round6, Function};

/// Spaces with at most this many points are searched exhaustively.
pub const BRUTE_FORCE: usize = 2_100_000;
/// Half-width, in grid steps, of the box searched around an argmax otherwise.
pub const BOX: usize = 4;
/// Points of an ordered grid, and of a continuous range.
pub const GRID_POINTS: usize = 11;
pub const RANGE_POINTS: usize = 1001;

/// Each function's best value and whether it is exact, by function and points per input.
type Found = BTreeMap<(&'static str, usize), (f64, bool)>;

/// Every problem, in the order reports list them.
pub const NAMES: [&str; 15] = [
    "branin-grid", "branin-cont", "branin-mixed", "hartmann3-grid", "hartmann3-cont", "hartmann6-grid", "hartmann6-cont", "hartmann6-mixed",
    "rosenbrock4-grid", "rosenbrock4-cont", "levy5-grid", "ackley5-cont", "styblinski4-grid", "cond-grid", "cond-cont",
];

/// The irrelevant categorical decisions of a `mixed` problem.
const NUISANCE: [(&str, &[&str]); 3] =
    [("activation", &["relu", "gelu", "silu", "tanh"]), ("optimizer", &["sgd", "adam", "adamw"]), ("norm", &["batch", "layer", "none"])];

/// What a decision is.
#[derive(Debug, Clone)]
pub enum Param {
    /// An ordered grid (11 values from low to high) or a continuous range
    /// (1001 values); `integer` when every value is whole.
    Ordered {
        low: f64,
        high: f64,
        values: Vec<f64>,
        integer: bool,
        continuous: bool,
    },
    Categorical {
        choices: Vec<String>,
    },
}

impl Param {
    /// `points` values from `low` to `high`, both included, each rounded to
    /// 6 significant digits (the host's grids and ranges).
    fn ordered(low: f64, high: f64, points: usize, continuous: bool) -> Param {
        let steps = (points - 1) as f64;
        let values: Vec<f64> = (0..points).map(|k| if k + 1 == points { high } else { round6(low + k as f64 / steps * (high - low)) }).collect();
        let integer = values.iter().all(|v| v.fract() == 0.0);
        Param::Ordered { low, high, values, integer, continuous }
    }

    pub fn len(&self) -> usize {
        match self {
            Param::Ordered { values, .. } => values.len(),
            Param::Categorical { choices } => choices.len(),
        }
    }

    /// The choices' names, as a space lists them.
    fn choices(&self) -> Vec<String> {
        match self {
            Param::Ordered { values, integer, .. } => values.iter().map(|v| if *integer { format!("{}", *v as i64) } else { format!("{v}") }).collect(),
            Param::Categorical { choices } => choices.clone(),
        }
    }
}

/// One decision: its name, what it is, and the decision and choices it is
/// active under (none: always).
#[derive(Debug, Clone)]
pub struct Decision {
    pub name: String,
    pub param: Param,
    pub when: Option<(usize, Vec<u32>)>,
}

/// A function on some of the decisions, scaled and offset.
#[derive(Clone)]
struct Branch {
    function: Function,
    /// The decisions holding the function's inputs, in input order.
    inputs: Vec<usize>,
    scale: f64,
    offset: f64,
}

impl Branch {
    fn value(&self, decisions: &[Decision], genotype: &[u32]) -> f64 {
        let x: Vec<f64> = self.inputs.iter().map(|&d| value_of(&decisions[d].param, genotype[d])).collect();
        self.offset + self.scale * self.function.value(&x)
    }
}

fn value_of(param: &Param, choice: u32) -> f64 {
    match param {
        Param::Ordered { values, .. } => values[choice as usize],
        Param::Categorical { .. } => unreachable!("a function input is ordered"),
    }
}

/// A function (or a switch between two) on a space of decisions.
#[derive(Clone)]
pub struct Problem {
    pub name: String,
    /// `grid`, `cont`, `mixed` or `cond`.
    pub kind: &'static str,
    pub decisions: Vec<Decision>,
    /// The categorical decision whose choice k selects branch k, if any.
    selector: Option<usize>,
    branches: Vec<Branch>,
    /// The best value of the functions on their domains.
    pub optimum: f64,
    /// The best value a genotype has (or a lower bound on it, when not `exact`).
    pub grid_optimum: f64,
    pub exact: bool,
}

impl Problem {
    /// The problem called `name` (one of [`NAMES`]).
    pub fn named(name: &str) -> Option<Problem> {
        if !NAMES.contains(&name) {
            return None;
        }
        let (function, kind) = name.rsplit_once('-')?;
        let points = if kind == "cont" { RANGE_POINTS } else { GRID_POINTS };
        let continuous = kind == "cont";
        let kind: &'static str = if function == "cond" { "cond" } else { ["grid", "cont", "mixed"].into_iter().find(|k| *k == kind)? };
        let mut decisions = vec![];
        let mut branches = vec![];
        let mut selector = None;
        if function == "cond" {
            // cond-grid / cond-cont: the variant, then each variant's inputs.
            selector = Some(0);
            decisions.push(Decision { name: "variant".into(), param: Param::Categorical { choices: vec!["a".into(), "b".into()] }, when: None });
            for (k, (f, scale, offset)) in [("branin", 0.01, 3.0), ("hartmann3", 1.0, 0.0)].into_iter().enumerate() {
                let f = by_name(f).expect("a function of the suite");
                let prefix = ["a", "b"][k];
                let inputs = inputs(&mut decisions, &f, points, continuous, prefix, Some((0, vec![k as u32])));
                // Branin's branch is 3 − f/100: 3 plus a hundredth of its maximised value.
                branches.push(Branch { function: f, inputs, scale, offset });
            }
        } else {
            let f = by_name(function)?;
            let inputs = inputs(&mut decisions, &f, points, continuous, "", None);
            if kind == "mixed" {
                for (name, choices) in NUISANCE {
                    decisions.push(Decision {
                        name: name.into(),
                        param: Param::Categorical { choices: choices.iter().map(|c| c.to_string()).collect() },
                        when: None,
                    });
                }
            }
            branches.push(Branch { function: f, inputs, scale: 1.0, offset: 0.0 });
        }
        let optimum = branches.iter().map(|b| b.offset + b.scale * b.function.optimum).fold(f64::NEG_INFINITY, f64::max);
        let mut problem = Problem { name: name.into(), kind, decisions, selector, branches, optimum, grid_optimum: f64::NEG_INFINITY, exact: true };
        for b in 0..problem.branches.len() {
            let (best, exact) = problem.branch_optimum(b);
            problem.grid_optimum = problem.grid_optimum.max(best);
            problem.exact &= exact;
        }
        Some(problem)
    }

    /// What regret is measured to: the grid optimum when it is exact, the
    /// true optimum otherwise.
    pub fn reference(&self) -> f64 {
        if self.exact {
            self.grid_optimum
        } else {
            self.optimum
        }
    }

    /// What it is, in a line: its functions and decisions.
    pub fn describe(&self) -> String {
        let functions: Vec<&str> = self.branches.iter().map(|b| b.function.name).collect();
        let ordered = self.decisions.iter().filter(|d| matches!(d.param, Param::Ordered { .. })).count();
        let categorical = self.decisions.len() - ordered;
        let points = if self.name.ends_with("-cont") { RANGE_POINTS } else { GRID_POINTS };
        let conditional = self.decisions.iter().filter(|d| d.when.is_some()).count();
        let mut text = format!("{}; {ordered} ordered decisions of {points} values", functions.join(" | "));
        if categorical > 0 {
            text.push_str(&format!(", {categorical} categorical"));
        }
        if conditional > 0 {
            text.push_str(&format!(", {conditional} conditional"));
        }
        text
    }

    /// The space as strategies see it.
    pub fn space(&self) -> Space {
        Space {
            name: self.name.clone(),
            decisions: self.decisions.iter().map(|d| nasbox_sdk::Decision { name: d.name.clone(), choices: d.param.choices() }).collect(),
        }
    }

    /// What each decision is (contract 0.1.2's `shape`).
    pub fn shapes(&self) -> Vec<DecisionShape> {
        self.decisions
            .iter()
            .map(|d| DecisionShape {
                kind: match &d.param {
                    Param::Ordered { values, integer, continuous, .. } => {
                        Kind::Ordered(Numbers { values: values.clone(), integer: *integer, log: false, continuous: *continuous })
                    }
                    Param::Categorical { .. } => Kind::Categorical,
                },
                conditions: d.when.iter().map(|(decision, choices)| Condition { decision: *decision as u32, choices: choices.clone() }).collect(),
            })
            .collect()
    }

    /// The value of a genotype; an error when it is not one of the space.
    pub fn value(&self, genotype: &Genotype) -> Result<f64, String> {
        if genotype.len() != self.decisions.len() || genotype.iter().zip(&self.decisions).any(|(&g, d)| g as usize >= d.param.len()) {
            return Err(format!("proposed {genotype:?}, not a genotype of {}", self.name));
        }
        let branch = self.selector.map_or(0, |d| genotype[d] as usize);
        Ok(self.branches[branch].value(&self.decisions, genotype))
    }

    /// The best value of branch `b` over the genotypes, and whether it is
    /// exact (brute force) or a lower bound (a box around each argmax).
    fn branch_optimum(&self, b: usize) -> (f64, bool) {
        let branch = &self.branches[b];
        // A function on the same grid has the same optimum in every problem (hartmann6-grid and -mixed, branin-cont
        // and cond-cont's first branch): found once per process.
        static FOUND: Mutex<Found> = Mutex::new(BTreeMap::new());
        let points = self.decisions[branch.inputs[0]].param.len();
        let key = (branch.function.name, points);
        let found = FOUND.lock().unwrap().get(&key).copied();
        let (best, exact) = found.unwrap_or_else(|| {
            let found = self.function_optimum(branch);
            FOUND.lock().unwrap().insert(key, found);
            found
        });
        (branch.offset + branch.scale * best, exact)
    }

    /// The best value of a branch's function over the genotypes (unscaled).
    fn function_optimum(&self, branch: &Branch) -> (f64, bool) {
        let values: Vec<&[f64]> = branch
            .inputs
            .iter()
            .map(|&d| match &self.decisions[d].param {
                Param::Ordered { values, .. } => values.as_slice(),
                Param::Categorical { .. } => unreachable!("a function input is ordered"),
            })
            .collect();
        let size = values.iter().try_fold(1usize, |n, v| n.checked_mul(v.len()));
        let boxes: Vec<Vec<Vec<f64>>> = if size.is_some_and(|n| n <= BRUTE_FORCE) {
            vec![values.iter().map(|v| v.to_vec()).collect()]
        } else {
            branch
                .function
                .argmax
                .iter()
                .map(|x| {
                    values
                        .iter()
                        .zip(x)
                        .map(|(v, xi)| {
                            let near = (0..v.len()).min_by(|&a, &c| (v[a] - xi).abs().total_cmp(&(v[c] - xi).abs())).unwrap();
                            v[near.saturating_sub(BOX)..(near + BOX + 1).min(v.len())].to_vec()
                        })
                        .collect()
                })
                .collect()
        };
        let exact = boxes.len() == 1 && size.is_some_and(|n| n <= BRUTE_FORCE);
        let best = boxes.iter().map(|axes| grid_max(&branch.function, axes)).fold(f64::NEG_INFINITY, f64::max);
        (best, exact)
    }

    /// The problem as a decision space (TOML) and a benchmark table of
    /// every genotype (JSON Lines), so `nasbox search` and `nasbox bench`
    /// run it in the sandbox (`--space FILE.toml --estimator table:FILE`).
    /// Values are scaled into [0, 1] as tables hold accuracies: (f − min) /
    /// (max − min) over the genotypes; each row keeps f itself as metric `f`. `None` for a problem with conditions
    /// or more than `limit` genotypes.
    pub fn table(&self, limit: usize) -> Option<(String, String)> {
        if self.decisions.iter().any(|d| d.when.is_some()) {
            return None;
        }
        let size = self.decisions.iter().try_fold(1usize, |n, d| n.checked_mul(d.param.len())).filter(|&n| n <= limit)?;
        let value = |d: &Decision, c: u32| -> Value {
            match &d.param {
                Param::Ordered { values, integer: true, .. } => json!(values[c as usize] as i64),
                Param::Ordered { values, .. } => json!(values[c as usize]),
                Param::Categorical { choices } => json!(choices[c as usize]),
            }
        };
        let mut toml = format!("# function-bench's `{}`: {}\n[decisions]\n", self.name, self.describe());
        for d in &self.decisions {
            let all: Vec<String> = (0..d.param.len() as u32).map(|c| value(d, c).to_string()).collect();
            toml.push_str(&format!("{} = [{}]\n", d.name, all.join(", ")));
        }
        let genotypes: Vec<Genotype> = (0..size)
            .map(|mut k| {
                self.decisions
                    .iter()
                    .map(|d| {
                        let c = (k % d.param.len()) as u32;
                        k /= d.param.len();
                        c
                    })
                    .collect()
            })
            .collect();
        let values: Vec<f64> = genotypes.iter().map(|g| self.value(g).expect("an enumerated genotype")).collect();
        let (low, high) = values.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &v| (l.min(v), h.max(v)));
        let mut table = json!({"nasbox_table": 1, "space": self.name, "source": format!("function-bench's {} scaled into [0, 1]: (f - {low}) / ({high} - {low})", self.name)}).to_string() + "\n";
        for (g, v) in genotypes.iter().zip(&values) {
            let arch: serde_json::Map<String, Value> = self.decisions.iter().zip(g).map(|(d, &c)| (d.name.clone(), value(d, c))).collect();
            let score = (v - low) / (high - low);
            // The function's own value rides along as a metric, so a run's journal gives its regret.
            let row = json!({"arch": Value::Object(arch).to_string(), "fidelity": 1.0, "valid_accuracy": score, "cost": 1.0, "metrics": {"f": v}});
            table.push_str(&(row.to_string() + "\n"));
        }
        Some((toml, table))
    }

    /// The problem as `bench/function_peers.py` rebuilds it in Optuna.
    pub fn export(&self) -> Value {
        let params: Vec<Value> = self
            .decisions
            .iter()
            .map(|d| {
                let mut p = match &d.param {
                    Param::Ordered { low, high, values, integer, continuous: false } => json!({
                        "name": d.name, "type": "grid", "low": low, "high": high,
                        "step": round6((high - low) / (values.len() - 1) as f64), "integer": integer, "log": false, "values": values,
                    }),
                    Param::Ordered { low, high, values, continuous: true, .. } => {
                        json!({"name": d.name, "type": "continuous", "low": low, "high": high, "log": false, "points": values.len()})
                    }
                    Param::Categorical { choices } => json!({"name": d.name, "type": "categorical", "choices": choices}),
                };
                p["condition"] = match &d.when {
                    Some((parent, choices)) => {
                        let names = self.decisions[*parent].param.choices();
                        json!({"param": self.decisions[*parent].name, "choices": choices.iter().map(|&c| names[c as usize].clone()).collect::<Vec<_>>()})
                    }
                    None => Value::Null,
                };
                p
            })
            .collect();
        let branches: Vec<Value> = self
            .branches
            .iter()
            .enumerate()
            .map(|(k, b)| {
                json!({
                    "function": b.function.name,
                    "inputs": b.inputs.iter().map(|&d| self.decisions[d].name.clone()).collect::<Vec<_>>(),
                    "scale": b.scale,
                    "offset": b.offset,
                    "when": self.selector.map(|s| json!({"param": self.decisions[s].name, "choice": self.decisions[s].param.choices()[k]})),
                })
            })
            .collect();
        json!({
            "name": self.name,
            "kind": self.kind,
            "optimum": self.optimum,
            "grid_optimum": self.grid_optimum,
            "grid_optimum_exact": self.exact,
            "reference": self.reference(),
            "params": params,
            "branches": branches,
        })
    }
}

/// Adds one ordered decision per input of `f` (named `prefix.x1`, … or
/// `x1`, …) and returns their indices.
fn inputs(decisions: &mut Vec<Decision>, f: &Function, points: usize, continuous: bool, prefix: &str, when: Option<(usize, Vec<u32>)>) -> Vec<usize> {
    f.bounds
        .iter()
        .enumerate()
        .map(|(i, &(low, high))| {
            let name = if prefix.is_empty() { format!("x{}", i + 1) } else { format!("{prefix}.x{}", i + 1) };
            decisions.push(Decision { name, param: Param::ordered(low, high, points, continuous), when: when.clone() });
            decisions.len() - 1
        })
        .collect()
}

/// The largest value of `f` on the product of `axes`.
fn grid_max(f: &Function, axes: &[Vec<f64>]) -> f64 {
    let mut index = vec![0usize; axes.len()];
    let mut x: Vec<f64> = axes.iter().map(|a| a[0]).collect();
    let mut best = f64::NEG_INFINITY;
    loop {
        best = best.max(f.value(&x));
        // The next point, the first axis fastest.
        let mut d = 0;
        loop {
            if d == axes.len() {
                return best;
            }
            index[d] += 1;
            if index[d] < axes[d].len() {
                x[d] = axes[d][index[d]];
                break;
            }
            index[d] = 0;
            x[d] = axes[d][0];
            d += 1;
        }
    }
}

/// Every function of the suite with the points another implementation must
/// agree at, for the export.
pub fn export_functions() -> Value {
    let functions: Vec<Value> = crate::functions::all()
        .iter()
        .map(|f| {
            json!({
                "name": f.name,
                "bounds": f.bounds.iter().map(|(l, h)| vec![*l, *h]).collect::<Vec<_>>(),
                "optimum": f.optimum,
                "argmax": f.argmax,
                "checks": f.checks().iter().map(|x| json!({"x": x, "value": f.value(x)})).collect::<Vec<_>>(),
            })
        })
        .collect();
    Value::Array(functions)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_problem_builds_with_distinct_choices_and_a_reachable_optimum_below_the_true_one() {
        let mut kinds = std::collections::BTreeSet::new();
        for name in NAMES {
            let p = Problem::named(name).unwrap();
            kinds.insert(p.kind);
            assert!(p.grid_optimum <= p.optimum + 1e-12, "{name}: {} > {}", p.grid_optimum, p.optimum);
            assert!(p.optimum - p.grid_optimum < if name.ends_with("-cont") { 1e-3 } else { 10.0 }, "{name}");
            for d in p.space().decisions {
                let mut c = d.choices.clone();
                c.sort();
                c.dedup();
                assert_eq!(c.len(), d.choices.len(), "{name}: {} repeats a choice", d.name);
            }
            assert!(nasbox_sdk::Shape::new(&p.space(), p.shapes()).is_ok(), "{name}");
        }
        assert_eq!(kinds.len(), 4);
    }

    #[test]
    fn ranges_are_the_hosts_fine_grids() {
        let p = Problem::named("ackley5-cont").unwrap();
        let Param::Ordered { values, continuous: true, integer: false, .. } = &p.decisions[0].param else { panic!() };
        assert_eq!((values.len(), values[0], values[500], values[1000], values[1]), (1001, -32.768, 0.0, 32.768, -32.7025));
        // The optimum is on the range's grid: exact, and the box says so.
        assert!(p.grid_optimum.abs() < 1e-12 && !p.exact);
        let g = Problem::named("styblinski4-grid").unwrap();
        assert!(matches!(&g.decisions[0].param, Param::Ordered { integer: true, .. }));
        assert_eq!(g.space().decisions[0].choices[0], "-5");
    }

    #[test]
    fn the_conditional_problem_scores_the_active_branch_only() {
        let p = Problem::named("cond-grid").unwrap();
        assert_eq!(p.decisions.iter().map(|d| d.name.as_str()).collect::<Vec<_>>(), ["variant", "a.x1", "a.x2", "b.x1", "b.x2", "b.x3"]);
        let shape = nasbox_sdk::Shape::new(&p.space(), p.shapes()).unwrap();
        assert_eq!(shape.active(&[1, 3, 3, 1, 5, 8]), [true, false, false, true, true, true]);
        // Changing the inactive branch's inputs changes nothing.
        assert_eq!(p.value(&vec![1, 0, 0, 1, 5, 8]).unwrap(), p.value(&vec![1, 10, 10, 1, 5, 8]).unwrap());
        // Hartmann-3's branch holds the global optimum, Branin's tops out at 3 − 0.0040.
        assert!((p.optimum - 3.86278).abs() < 1e-5);
        let a_best = (0..121u32).map(|i| p.value(&vec![0, i % 11, i / 11, 0, 0, 0]).unwrap()).fold(f64::NEG_INFINITY, f64::max);
        assert!(a_best < 3.0 && a_best > 2.9);
        assert!(p.value(&vec![2, 0, 0, 0, 0, 0]).is_err());
    }
}
