//! `function-bench`'s records (one per search, the CSV both it and
//! `bench/function_peers.py` write) and its tables: per problem and trial
//! budget, each entry's mean best ± sd and regret, tested against a
//! reference entry (two-sided Mann–Whitney U on the best values, Holm over
//! the block's comparisons).

use std::collections::BTreeMap;
use std::path::Path;

use nasbox_stats::{holm, mann_whitney_u, mean_std, Alternative};

use crate::suite::Problem;

pub const HEADER: &str = "problem,strategy,trials,workers,seed,best,regret,seconds";

/// One search.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub problem: String,
    pub strategy: String,
    pub trials: u64,
    pub workers: usize,
    pub seed: u64,
    pub best: f64,
    pub regret: f64,
    pub seconds: f64,
}

impl Record {
    /// The entry it belongs to: the strategy, with `@k` for k workers.
    pub fn entry(&self) -> String {
        entry(&self.strategy, self.workers)
    }
}

pub fn entry(strategy: &str, workers: usize) -> String {
    if workers == 1 {
        strategy.to_string()
    } else {
        format!("{strategy}@{workers}")
    }
}

pub fn to_csv(records: &[Record]) -> String {
    let mut text = format!("{HEADER}\n");
    for r in records {
        text.push_str(&format!(
            "{},{},{},{},{},{},{},{:.6}\n",
            quote(&r.problem),
            quote(&r.strategy),
            r.trials,
            r.workers,
            r.seed,
            r.best,
            r.regret,
            r.seconds
        ));
    }
    text
}

fn quote(field: &str) -> String {
    if field.contains([',', '"', '\n']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_string()
    }
}

/// Fields of one CSV line (quotes as [`quote`] writes them).
fn fields(line: &str) -> Vec<String> {
    let (mut out, mut field, mut quoted, mut chars) = (vec![], String::new(), false, line.chars().peekable());
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => out.push(std::mem::take(&mut field)),
            (c, _) => field.push(c),
        }
    }
    out.push(field);
    out
}

/// The records of a CSV in [`HEADER`]'s format.
pub fn read_csv(path: &Path) -> Result<Vec<Record>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("--peers {}: {e}", path.display()))?;
    let mut lines = text.lines();
    if lines.next().map(str::trim) != Some(HEADER) {
        return Err(format!("--peers {}: the first line is not `{HEADER}`", path.display()));
    }
    let mut records = vec![];
    for (n, line) in lines.enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let bad = || format!("--peers {}:{}: expected {HEADER}", path.display(), n + 2);
        let f = fields(line.trim_end());
        if f.len() != 8 {
            return Err(bad());
        }
        let number = |i: usize| f[i].parse::<f64>().map_err(|_| bad());
        let best = number(5)?;
        if best.is_nan() {
            return Err(bad());
        }
        records.push(Record {
            problem: f[0].clone(),
            strategy: f[1].clone(),
            trials: f[2].parse().map_err(|_| bad())?,
            workers: f[3].parse().map_err(|_| bad())?,
            seed: f[4].parse().map_err(|_| bad())?,
            best,
            regret: number(6)?,
            seconds: number(7)?,
        });
    }
    Ok(records)
}

/// Numbers of any size in a few characters.
fn num(x: f64) -> String {
    if x != 0.0 && (x.abs() >= 1e5 || x.abs() < 1e-3) {
        format!("{x:.3e}")
    } else {
        format!("{x:.4}")
    }
}

/// Columns as wide as their widest cell, the first flush left.
fn print_table(lines: &[Vec<String>]) {
    let widths: Vec<usize> = (0..lines[0].len()).map(|c| lines.iter().map(|l| l[c].chars().count()).max().unwrap_or(0)).collect();
    for line in lines {
        let cells: Vec<String> =
            line.iter().zip(&widths).enumerate().map(|(c, (cell, &w))| if c == 0 { format!("{cell:<w$}") } else { format!("{cell:>w$}") }).collect();
        println!("{}", cells.join("  ").trim_end());
    }
}

/// Prints a table per problem (in `problems`' order) and trial budget, with
/// tests against `against` when given, then a summary over the problems.
pub fn print(problems: &[Problem], records: &[Record], against: Option<&str>, alpha: f64) {
    // (trials, entry) → [better, worse, tied, rank sum, problems ranked].
    let mut summary: BTreeMap<(u64, usize, String), [f64; 5]> = BTreeMap::new();
    // (trials, problem) → entry → the mean regret, marked + or − when significantly better or worse than the reference.
    let mut cells: BTreeMap<(u64, usize), BTreeMap<String, String>> = BTreeMap::new();
    // Entries in the order they first appear.
    let mut order: Vec<String> = vec![];
    for r in records {
        if !order.contains(&r.entry()) {
            order.push(r.entry());
        }
    }
    for (n, p) in problems.iter().enumerate() {
        let mine: Vec<&Record> = records.iter().filter(|r| r.problem == p.name).collect();
        if mine.is_empty() {
            continue;
        }
        let bound = if p.exact { "exact" } else { "a lower bound; regret is to the optimum" };
        println!("\n{}: {}\noptimum {}, grid optimum {} ({bound})", p.name, p.describe(), num(p.optimum), num(p.grid_optimum));
        let mut budgets: Vec<u64> = mine.iter().map(|r| r.trials).collect();
        budgets.sort();
        budgets.dedup();
        for trials in budgets {
            let entries: Vec<(&String, Vec<&Record>)> = order
                .iter()
                .map(|e| (e, mine.iter().filter(|r| r.trials == trials && &r.entry() == e).copied().collect::<Vec<_>>()))
                .filter(|(_, rs)| !rs.is_empty())
                .collect();
            let bests: Vec<Vec<f64>> = entries.iter().map(|(_, rs)| rs.iter().map(|r| r.best).collect()).collect();
            let reference = against.and_then(|a| entries.iter().position(|(e, _)| e.as_str() == a));
            // Tests of every other entry against the reference, Holm over them.
            let tests: Vec<(usize, f64, bool)> = match reference {
                Some(k) => (0..entries.len())
                    .filter(|&i| i != k)
                    .map(|i| {
                        let t = mann_whitney_u(&bests[i], &bests[k], Alternative::TwoSided);
                        (i, t.p, t.u > (bests[i].len() * bests[k].len()) as f64 / 2.0)
                    })
                    .collect(),
                None => vec![],
            };
            let adjusted = holm(&tests.iter().map(|t| t.1).collect::<Vec<_>>());
            let means: Vec<f64> = bests.iter().map(|b| mean_std(b).0).collect();
            let mut header = vec![
                "trials".to_string(),
                "strategy".into(),
                "seeds".into(),
                "best mean ± sd".into(),
                "regret mean ± sd".into(),
                "at opt".into(),
                "s/search".into(),
            ];
            if let Some(k) = reference {
                header.extend([format!("vs {}: p", entries[k].0), "Holm".into(), String::new()]);
            }
            let mut lines = vec![header];
            for (i, (e, rs)) in entries.iter().enumerate() {
                let (m, sd) = mean_std(&bests[i]);
                let regrets: Vec<f64> = rs.iter().map(|r| r.regret).collect();
                let (rm, rsd) = mean_std(&regrets);
                let at_opt = regrets.iter().filter(|&&g| g <= 1e-9 * p.reference().abs().max(1.0)).count();
                let seconds = rs.iter().map(|r| r.seconds).sum::<f64>() / rs.len() as f64;
                let mut cell = short(rm);
                let mut line = vec![
                    trials.to_string(),
                    (*e).clone(),
                    rs.len().to_string(),
                    format!("{} ± {}", num(m), num(sd)),
                    format!("{} ± {}", num(rm), num(rsd)),
                    format!("{at_opt}/{}", rs.len()),
                    format!("{seconds:.3}"),
                ];
                if reference.is_some() {
                    match tests.iter().position(|t| t.0 == i) {
                        Some(t) => {
                            let (_, pv, higher) = tests[t];
                            let mark = if adjusted[t] < alpha {
                                if higher {
                                    "better"
                                } else {
                                    "worse"
                                }
                            } else {
                                ""
                            };
                            line.extend([format!("{pv:.2e}"), format!("{:.2e}", adjusted[t]), mark.to_string()]);
                            cell.push_str(match mark {
                                "better" => "+",
                                "worse" => "−",
                                _ => " ",
                            });
                            let s = summary.entry((trials, order.iter().position(|o| o == *e).unwrap(), (*e).clone())).or_default();
                            s[if mark == "better" {
                                0
                            } else if mark == "worse" {
                                1
                            } else {
                                2
                            }] += 1.0;
                        }
                        None => {
                            line.extend(["reference".to_string(), String::new(), String::new()]);
                            cell.push(' ');
                        }
                    }
                }
                // Rank by mean best among this block's entries (1 = best; ties share).
                let rank = means.iter().filter(|&&x| x > m).count() as f64 + (means.iter().filter(|&&x| x == m).count() as f64 + 1.0) / 2.0;
                let s = summary.entry((trials, order.iter().position(|o| o == *e).unwrap(), (*e).clone())).or_default();
                s[3] += rank;
                s[4] += 1.0;
                cells.entry((trials, n)).or_default().insert((*e).clone(), cell);
                lines.push(line);
            }
            print_table(&lines);
        }
    }
    if summary.is_empty() {
        return;
    }
    let title = match against {
        Some(a) => format!("against {a} (Holm-adjusted p < {alpha}), and mean rank by mean best among the entries of each problem"),
        None => "mean rank by mean best among the entries of each problem".into(),
    };
    println!("\nsummary over problems: {title}");
    let mut header = vec!["trials".to_string(), "strategy".into(), "problems".into(), "mean rank".into()];
    if against.is_some() {
        header.extend(["better".into(), "worse".into(), "no difference".into()]);
    }
    let mut lines = vec![header];
    for ((trials, _, e), s) in &summary {
        let mut line = vec![trials.to_string(), e.clone(), format!("{}", s[4]), format!("{:.2}", s[3] / s[4])];
        if against.is_some() {
            let reference = against == Some(e.as_str());
            line.extend((0..3).map(|k| if reference { "-".to_string() } else { format!("{}", s[k]) }));
        }
        lines.push(line);
    }
    print_table(&lines);

    // Every problem at a glance: one line each, one column per entry.
    let budgets: Vec<u64> = cells.keys().map(|k| k.0).collect::<std::collections::BTreeSet<_>>().into_iter().collect();
    for trials in budgets {
        let marks = match against {
            Some(a) => format!(" (+ / −: better / worse than {a}, Holm-adjusted p < {alpha})"),
            None => String::new(),
        };
        println!("\nmean regret at {trials} trials{marks}");
        let columns: Vec<&String> = order.iter().filter(|e| cells.iter().any(|((t, _), row)| *t == trials && row.contains_key(*e))).collect();
        let mut lines = vec![std::iter::once("problem".to_string()).chain(columns.iter().map(|e| e.to_string())).collect::<Vec<_>>()];
        for ((t, n), row) in &cells {
            if *t == trials {
                lines.push(
                    std::iter::once(problems[*n].name.clone()).chain(columns.iter().map(|e| row.get(*e).cloned().unwrap_or_else(|| "-".into()))).collect(),
                );
            }
        }
        print_table(&lines);
    }
}

/// A regret in at most 8 characters.
fn short(x: f64) -> String {
    if x == 0.0 {
        "0".into()
    } else if x.abs() >= 1e4 || x.abs() < 1e-3 {
        format!("{x:.1e}")
    } else if x.abs() >= 100.0 {
        format!("{x:.0}")
    } else if x.abs() >= 10.0 {
        format!("{x:.2}")
    } else {
        format!("{x:.4}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_round_trip_with_commas_and_quotes() {
        let r = Record {
            problem: "branin-grid".into(),
            strategy: "npenas:a=1,b=\"2\"".into(),
            trials: 50,
            workers: 2,
            seed: 7,
            best: -0.5,
            regret: 0.1,
            seconds: 0.25,
        };
        let text = to_csv(std::slice::from_ref(&r));
        let path = std::env::temp_dir().join(format!("function-bench-csv-{}.csv", std::process::id()));
        std::fs::write(&path, &text).unwrap();
        assert_eq!(read_csv(&path).unwrap(), vec![r]);
        std::fs::remove_file(path).ok();
        assert_eq!(num(123.456), "123.4560");
        assert_eq!(num(2.5e6), "2.500e6");
    }
}
