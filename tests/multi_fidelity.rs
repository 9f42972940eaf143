//! Hyperband and BOHB on a table with four fidelities (1/27, 1/9, 1/3, 1)
//! behave as their papers say: with eta = 3 the first bracket evaluates 27
//! architectures at 1/27 of the budget, promotes the best 9 by their 1/27
//! results to 1/9, the best 3 of those (by their 1/9 results) to 1/3, and the
//! best of those to the full budget (Li et al. 2018, Table 1 with R = 27;
//! BOHB, Falkner et al. 2018, keeps the same successive halving).
//!
//! The table's accuracy at a fidelity mixes the architecture's quality with
//! fidelity-dependent noise, so the rankings differ from rung to rung and
//! only a promotion by the rung's own results passes.

mod support;

use std::collections::BTreeSet;

use nasbox::run::journal::{Trial, TrialStatus};
use support::{command, guest, text, trials};

const FIDELITIES: [f64; 4] = [1.0 / 27.0, 1.0 / 9.0, 1.0 / 3.0, 1.0];

fn write_fidelity_table(path: &std::path::Path) {
    use nasbox::space::nb201;
    let mut out = String::from("{\"nasbox_table\": 1, \"space\": \"nb201\", \"source\": \"tests/multi_fidelity.rs\"}\n");
    for code in 0..15_625u32 {
        let g: Vec<u32> = (0..6).map(|i| (code / 5u32.pow(i)) % 5).collect();
        let quality = g.iter().map(|&o| [0.0, 0.3, 0.6, 1.0, 0.2][o as usize]).sum::<f64>() / 6.0;
        for (k, f) in FIDELITIES.iter().enumerate() {
            let mut h = (code as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ (k as u64 + 1).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            h ^= h >> 31;
            let noise = (h % 10_000) as f64 / 10_000.0 - 0.5;
            let acc = 0.1 + 0.8 * quality * (0.5 + 0.5 * f) + 0.2 * (1.0 - f) * noise;
            out.push_str(&format!("{{\"arch\": \"{}\", \"fidelity\": {f}, \"valid_accuracy\": {acc:.9}, \"cost\": {}}}\n", nb201::to_string(&g), 100.0 * f));
        }
    }
    std::fs::write(path, out).unwrap();
}

/// The genotypes of the best `k` trials of `rung` by objective, sorted
/// (objectives differ between architectures: the table's noise).
fn top(rung: &[Trial], k: usize) -> Vec<Vec<u32>> {
    let mut sorted: Vec<&Trial> = rung.iter().collect();
    sorted.sort_by(|a, b| b.objective.total_cmp(&a.objective));
    let mut best: Vec<Vec<u32>> = sorted.into_iter().take(k).map(|t| t.genotype.clone()).collect();
    best.sort();
    best
}

#[test]
fn hyperband_and_bohb_run_the_papers_first_bracket_on_a_table_with_four_fidelities() {
    let dir = tempfile::tempdir().unwrap();
    let table = dir.path().join("t.jsonl");
    write_fidelity_table(&table);
    for name in ["hyperband", "bohb"] {
        let run = dir.path().join(name);
        let o = command(&[
            "search",
            "--strategy",
            guest(name).to_str().unwrap(),
            "--estimator",
            &format!("table:{}", table.display()),
            "--budget",
            "trials=40",
            "--workers",
            "1",
            "--seed",
            "2",
            "--out",
            run.to_str().unwrap(),
        ])
        .output()
        .unwrap();
        assert!(o.status.success(), "{name}: {}", text(&o));
        let all = trials(&run);
        assert!(all.iter().all(|t| t.status == TrialStatus::Ok), "{name}: every architecture is in the table");
        let fidelity = |t: &Trial| t.fidelity.unwrap_or(1.0);
        let (r0, rest) = all.split_at(27);
        let (r1, rest) = rest.split_at(9);
        let (r2, r3) = rest.split_at(3);
        for (rung, f) in [(r0, FIDELITIES[0]), (r1, FIDELITIES[1]), (r2, FIDELITIES[2]), (r3, FIDELITIES[3])] {
            assert!(rung.iter().all(|t| (fidelity(t) - f).abs() < 1e-9), "{name}: rung at {f}: {:?}", rung.iter().map(fidelity).collect::<Vec<_>>());
        }
        if name == "hyperband" {
            // BOHB's model may draw an architecture twice; uniform sampling here did not.
            assert_eq!(r0.iter().map(|t| t.genotype.clone()).collect::<BTreeSet<_>>().len(), 27, "{name}: 27 distinct architectures start");
        }
        let genotypes = |r: &[Trial]| {
            let mut g: Vec<Vec<u32>> = r.iter().map(|t| t.genotype.clone()).collect();
            g.sort();
            g
        };
        assert_eq!(genotypes(r1), top(r0, 9), "{name}: the best 9 of 27 by their 1/27 results go on");
        assert_eq!(genotypes(r2), top(r1, 3), "{name}: the best 3 of 9 by their 1/9 results go on");
        assert_eq!(genotypes(r3), top(r2, 1), "{name}: the best of 3 by their 1/3 results gets the full budget");
        // The rankings do differ between fidelities, so this checked the rung's own results.
        assert_ne!(top(r0, 3), top(r1, 3), "{name}: the table should reorder architectures between fidelities");
    }
}
