//! Comparing strategies over seeds: anytime curves (what each search had
//! found after each trial, and after each simulated second), the final
//! table (mean ± std, regret, rank) and pairwise significance tests.
//!
//! A search's incumbent is its trial with the highest objective; what the
//! incumbent is worth is read from the benchmark table at full fidelity
//! (validation, and test where the table has it): so multi-fidelity
//! strategies are judged on what they would hand over, not on a cheap
//! estimate, and test accuracy never reaches the strategy.

use serde::{Deserialize, Serialize};

use super::stats::{holm, mann_whitney_u, mean_std, Alternative};
use crate::estimate::table::Table;
use crate::run::journal::{Trial, TrialStatus};

/// After each trial of one search: the incumbent's full-fidelity
/// validation and test accuracy (NaN before the first success or where the
/// table has no test accuracy), and the simulated seconds spent.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Anytime {
    pub valid: Vec<f64>,
    pub test: Vec<f64>,
    pub time: Vec<f64>,
}

impl Anytime {
    /// Follows the incumbent through a search's trials (in id order).
    pub fn of(trials: &[Trial], table: &Table) -> Anytime {
        let mut a = Anytime { valid: vec![], test: vec![], time: vec![] };
        let (mut best, mut valid, mut test, mut time) = (f64::NEG_INFINITY, f64::NAN, f64::NAN, 0.0);
        for t in trials {
            time += t.cost;
            if t.status == TrialStatus::Ok && t.objective > best {
                best = t.objective;
                let full = table.lookup(&t.genotype, None);
                valid = full.map_or(t.objective, |e| e.valid_accuracy);
                test = full.and_then(|e| e.test_accuracy).unwrap_or(f64::NAN);
            }
            a.valid.push(valid);
            a.test.push(test);
            a.time.push(time);
        }
        a
    }

    /// The final score: test accuracy where the table has it, else validation.
    pub fn final_score(&self) -> f64 {
        match (self.test.last(), self.valid.last()) {
            (Some(t), _) if t.is_finite() => *t,
            (_, Some(v)) => *v,
            _ => f64::NAN,
        }
    }

    /// The incumbent's validation accuracy at each time of `grid` (NaN
    /// before anything was found).
    pub fn valid_at(&self, grid: &[f64]) -> Vec<f64> {
        self.at(&self.valid, grid)
    }

    /// The incumbent's test accuracy at each time of `grid`.
    pub fn test_at(&self, grid: &[f64]) -> Vec<f64> {
        self.at(&self.test, grid)
    }

    fn at(&self, values: &[f64], grid: &[f64]) -> Vec<f64> {
        grid.iter()
            .map(|&g| match self.time.iter().rposition(|&t| t <= g) {
                Some(i) => values[i],
                None => f64::NAN,
            })
            .collect()
    }
}

/// Mean and a 95% band (mean ± 1.96 standard errors) across runs, point
/// by point, over the runs that have a value there.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Band {
    pub mean: Vec<f64>,
    pub lo: Vec<f64>,
    pub hi: Vec<f64>,
}

impl Band {
    /// Curves of different lengths are carried forward at their last value
    /// (a search that stopped early keeps what it found).
    pub fn of(curves: &[Vec<f64>]) -> Band {
        let len = curves.iter().map(Vec::len).max().unwrap_or(0);
        let mut b = Band { mean: vec![], lo: vec![], hi: vec![] };
        for i in 0..len {
            let xs: Vec<f64> = curves.iter().filter_map(|c| c.get(i).or(c.last()).copied()).filter(|x| x.is_finite()).collect();
            if xs.is_empty() {
                b.mean.push(f64::NAN);
                b.lo.push(f64::NAN);
                b.hi.push(f64::NAN);
                continue;
            }
            let (m, sd) = mean_std(&xs);
            let half = if xs.len() > 1 { 1.96 * sd / (xs.len() as f64).sqrt() } else { 0.0 };
            b.mean.push(m);
            b.lo.push(m - half);
            b.hi.push(m + half);
        }
        b
    }
}

/// One strategy's line of the final table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Row {
    pub strategy: String,
    pub runs: usize,
    /// Final score (test accuracy where the table has it), mean and std.
    pub score_mean: f64,
    pub score_std: f64,
    /// The score of the table's best architecture (by validation
    /// accuracy: what an oracle search would hand over) minus the final score.
    pub regret_mean: f64,
    pub regret_std: f64,
    /// Rank among strategies per seed (1 = best, ties averaged), mean.
    pub mean_rank: f64,
    pub trials_mean: f64,
    /// Seeds whose answer has the table's best validation accuracy: the
    /// oracle's architecture (or one tied with it). Means hide how often a
    /// strategy finds the best outright; None where the score is not
    /// accuracy (hypervolume).
    pub at_best: Option<usize>,
    /// Seeds whose final score is more than [`STALL`] below the oracle's:
    /// searches that settled far from the best. A strategy can lead on the
    /// median and lose on the mean through a few of them, so the table shows
    /// robustness next to the mean. None where the score is not accuracy.
    #[serde(default)]
    pub stalled: Option<usize>,
}

/// How far below the oracle's score a search's answer must end to count as
/// stalled: a point of accuracy.
pub const STALL: f64 = 0.01;

impl Row {
    /// The final table's column names, `score` naming what is scored.
    pub fn header(score: &str) -> [String; 8] {
        [
            "strategy".into(),
            "runs".into(),
            format!("{score} mean ± std"),
            "regret mean ± std".into(),
            "mean rank".into(),
            "trials".into(),
            "at best".into(),
            "stalled".into(),
        ]
    }

    /// The row as the final table shows it, on the terminal and in the
    /// report alike: the seeds at the best and the stalled ones as
    /// "k/runs", "–" for fronts.
    pub fn cells(&self) -> [String; 8] {
        [
            self.strategy.clone(),
            self.runs.to_string(),
            format!("{:.4} ± {:.4}", self.score_mean, self.score_std),
            format!("{:.4} ± {:.4}", self.regret_mean, self.regret_std),
            format!("{:.2}", self.mean_rank),
            format!("{:.0}", self.trials_mean),
            self.at_best.map_or_else(|| "–".into(), |k| format!("{k}/{}", self.runs)),
            self.stalled.map_or_else(|| "–".into(), |k| format!("{k}/{}", self.runs)),
        ]
    }
}

/// The final table: `runs[s]` are strategy s's searches, one per seed, in
/// seed order (rank needs the same seeds for every strategy); `best` is the
/// oracle's score, on the same scale as [`Anytime::final_score`];
/// `best_valid` the table's best validation accuracy, where the curves hold
/// accuracy.
pub fn rows(names: &[String], runs: &[Vec<Anytime>], best: f64, best_valid: Option<f64>) -> Vec<Row> {
    let seeds = runs.iter().map(Vec::len).min().unwrap_or(0);
    let mut rank_sum = vec![0.0; names.len()];
    for seed in 0..seeds {
        let scores: Vec<f64> = runs.iter().map(|r| r[seed].final_score()).collect();
        for (s, &x) in scores.iter().enumerate() {
            let better = scores.iter().filter(|&&y| y > x).count() as f64;
            let ties = scores.iter().filter(|&&y| y == x).count() as f64;
            rank_sum[s] += 1.0 + better + (ties - 1.0) / 2.0;
        }
    }
    names
        .iter()
        .zip(runs)
        .enumerate()
        .map(|(s, (name, r))| {
            let scores: Vec<f64> = r.iter().map(Anytime::final_score).collect();
            let regrets: Vec<f64> = scores.iter().map(|s| best - s).collect();
            let (score_mean, score_std) = mean_std(&scores);
            let (regret_mean, regret_std) = mean_std(&regrets);
            Row {
                strategy: name.clone(),
                runs: r.len(),
                score_mean,
                score_std,
                regret_mean,
                regret_std,
                mean_rank: if seeds > 0 { rank_sum[s] / seeds as f64 } else { f64::NAN },
                trials_mean: r.iter().map(|a| a.valid.len() as f64).sum::<f64>() / r.len().max(1) as f64,
                at_best: best_valid.map(|b| r.iter().filter(|a| a.valid.last() == Some(&b)).count()),
                stalled: best_valid.map(|_| regrets.iter().filter(|&&g| g > STALL).count()),
            }
        })
        .collect()
}

/// A two-sided Mann–Whitney U test of two strategies' final scores.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pair {
    pub a: String,
    pub b: String,
    pub u: f64,
    pub p: f64,
    /// Holm–Bonferroni adjusted over all pairs: compare with α directly.
    pub p_holm: f64,
}

/// Every pair of strategies, with Holm's correction for the number of
/// pairs (many comparisons find "significant" differences by chance).
pub fn pairwise(names: &[String], runs: &[Vec<Anytime>]) -> Vec<Pair> {
    let scores: Vec<Vec<f64>> = runs.iter().map(|r| r.iter().map(Anytime::final_score).filter(|x| x.is_finite()).collect()).collect();
    let mut pairs = vec![];
    for i in 0..names.len() {
        for j in i + 1..names.len() {
            if scores[i].is_empty() || scores[j].is_empty() {
                continue;
            }
            let t = mann_whitney_u(&scores[i], &scores[j], Alternative::TwoSided);
            pairs.push(Pair { a: names[i].clone(), b: names[j].clone(), u: t.u, p: t.p, p_holm: f64::NAN });
        }
    }
    let adjusted = holm(&pairs.iter().map(|p| p.p).collect::<Vec<_>>());
    for (pair, p_holm) in pairs.iter_mut().zip(adjusted) {
        pair.p_holm = p_holm;
    }
    pairs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trial(id: u64, objective: f64, cost: f64) -> Trial {
        Trial { objective, cost, ..Trial::example(id) }
    }

    fn table_of(rows: &[(u32, f64, f64)]) -> Table {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.jsonl");
        let mut body = String::from("{\"nasbox_table\": 1, \"space\": \"nb201\"}\n");
        for &(g, v, t) in rows {
            let arch = crate::space::nb201::to_string(&[g, 0, 0, 0, 0, 0]);
            body.push_str(&format!("{{\"arch\": \"{arch}\", \"fidelity\": 1.0, \"valid_accuracy\": {v}, \"test_accuracy\": {t}, \"cost\": 1}}\n"));
        }
        std::fs::write(&path, body).unwrap();
        Table::load(&path, &crate::space::SearchSpace::Nb201).unwrap()
    }

    #[test]
    fn the_incumbent_is_valued_at_full_fidelity_from_the_table() {
        let table = table_of(&[(1, 0.80, 0.78), (2, 0.90, 0.88)]);
        let mut trials = vec![trial(0, 0.5, 10.0), trial(1, 0.6, 5.0), trial(2, 0.55, 5.0)];
        trials[1].genotype = vec![1, 0, 0, 0, 0, 0];
        trials[2].genotype = vec![2, 0, 0, 0, 0, 0];
        let a = Anytime::of(&trials, &table);
        // Trial 0 is not in the table: its own objective, no test accuracy.
        assert_eq!(a.valid[0], 0.5);
        assert!(a.test[0].is_nan());
        // Trial 1 leads (0.6 > 0.55) though trial 2 is the better architecture.
        assert_eq!((a.valid[2], a.test[2]), (0.80, 0.78));
        assert_eq!(a.time, vec![10.0, 15.0, 20.0]);
        assert_eq!(a.final_score(), 0.78);
        assert_eq!(a.valid_at(&[5.0, 15.0, 100.0])[1..], [0.80, 0.80]);
        assert!(a.valid_at(&[5.0])[0].is_nan());
        assert_eq!(a.test_at(&[15.0]), vec![0.78]);
        assert_eq!(table.best().unwrap().valid_accuracy, 0.90);
    }

    #[test]
    fn bands_carry_short_curves_forward() {
        let b = Band::of(&[vec![1.0, 2.0], vec![3.0]]);
        assert_eq!(b.mean, vec![2.0, 2.5]);
        assert!(b.lo[0] < 2.0 && b.hi[0] > 2.0);
    }

    #[test]
    fn ranks_regret_and_holm_corrected_pairs() {
        let a = |v: f64| Anytime { valid: vec![v], test: vec![f64::NAN], time: vec![1.0] };
        let names: Vec<String> = ["x", "y", "z"].iter().map(|s| s.to_string()).collect();
        let runs = vec![
            (0..8).map(|i| a(0.9 + i as f64 * 0.001)).collect::<Vec<_>>(),
            (0..8).map(|i| a(0.5 + i as f64 * 0.001)).collect(),
            (0..8).map(|i| a(0.5 + i as f64 * 0.001)).collect(),
        ];
        let rows = rows(&names, &runs, 1.0, Some(0.9));
        assert_eq!(rows[0].at_best, Some(1), "only x's first seed answers 0.9");
        assert_eq!(rows[1].at_best, Some(0));
        assert_eq!(rows[0].cells()[6], "1/8");
        // x ends 0.093 to 0.1 below the oracle's 1.0: every seed stalled.
        assert_eq!((rows[0].stalled, rows[0].cells()[7].as_str()), (Some(8), "8/8"));
        let near = vec![(0..8).map(|i| a(0.995 - i as f64 * 0.002)).collect::<Vec<_>>()];
        // Regrets 0.005, 0.007, 0.009, 0.011, …: the last five are over a point.
        assert_eq!(super::rows(&names[..1], &near, 1.0, Some(0.995))[0].stalled, Some(5));
        let fronts = super::rows(&names, &runs, 1.0, None);
        assert_eq!((fronts[0].at_best, fronts[0].cells()[6].as_str()), (None, "–"));
        assert_eq!((fronts[0].stalled, fronts[0].cells()[7].as_str()), (None, "–"));
        assert_eq!(rows[0].mean_rank, 1.0);
        assert_eq!(rows[1].mean_rank, 2.5);
        assert!((rows[0].regret_mean - (1.0 - 0.9035)).abs() < 1e-9);
        let pairs = pairwise(&names, &runs);
        assert_eq!(pairs.len(), 3);
        let xy = &pairs[0];
        // Complete separation of 8 vs 8: U = 64, and scipy.stats.mannwhitneyu(
        // method="asymptotic") gives the two-sided p = 0.000939.
        assert_eq!(xy.u, 64.0);
        assert!((xy.p - 0.000939).abs() < 1e-6, "{}", xy.p);
        assert!((xy.p_holm - 3.0 * xy.p).abs() < 1e-12, "smallest p times the number of pairs");
        assert_eq!(pairs[2].p_holm, 1.0, "identical samples");
    }
}
