//! Small built-in spaces without a network behind them, for checking
//! strategies and measuring the sandbox.

use super::{Decision, Space};

/// `toy`: a cell-like space of 5 decisions with different arities (600
/// architectures: small enough to exhaust in a test). `wide`: 30 decisions of
/// 5 operations each, the size of a real cell space's encoding.
pub fn get(name: &str) -> Option<Space> {
    match name {
        "toy" => Some(Space {
            name: "toy".into(),
            decisions: vec![
                decision("stem", &["conv3x3", "conv5x5"]),
                decision("edge-1-0", &["none", "skip_connect", "conv3x3"]),
                decision("edge-2-0", &["none", "skip_connect", "conv1x1", "conv3x3"]),
                decision("edge-2-1", &["none", "skip_connect", "conv1x1", "conv3x3", "avg_pool_3x3"]),
                decision("width", &["8", "16", "24", "32", "48"]),
            ],
        }),
        "wide" => Some(Space {
            name: "wide".into(),
            decisions: (0..30).map(|i| decision(&format!("edge-{i}"), &["none", "skip_connect", "conv1x1", "conv3x3", "avg_pool_3x3"])).collect(),
        }),
        _ => None,
    }
}

fn decision(name: &str, choices: &[&str]) -> Decision {
    Decision::categorical(name, choices.iter().map(|c| c.to_string()).collect())
}
