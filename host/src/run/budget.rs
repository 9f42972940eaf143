//! What a run may spend: a number of trials, wall-clock time, simulated
//! time (the summed cost of table lookups), any combination; the run stops
//! at the first limit reached.

use std::time::Duration;

use crate::units::duration;

/// Limits of a run; `None` means unlimited.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Budget {
    pub trials: Option<u64>,
    pub time: Option<Duration>,
    /// Seconds of evaluation cost (simulated for tables).
    pub simulated: Option<f64>,
}

/// What a run has spent so far.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Spent {
    pub trials: u64,
    pub time: Duration,
    pub simulated: f64,
}

impl Budget {
    /// Parses `trials=N`, `time=DURATION`, `sim=DURATION` joined by commas,
    /// e.g. `trials=500,time=1h`. Durations: `90s`, `10m`, `2h`, `1d`.
    pub fn parse(text: &str) -> Result<Budget, String> {
        let mut b = Budget::default();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (k, v) = part.split_once('=').ok_or_else(|| format!("budget `{part}`: expected KEY=VALUE (trials=N, time=1h, sim=10h)"))?;
            match k.trim() {
                "trials" => {
                    b.trials = Some(v.trim().parse().ok().filter(|&n| n > 0).ok_or_else(|| format!("budget `{part}`: trials must be a positive integer"))?)
                }
                "time" => b.time = Some(duration(v.trim()).map_err(|e| format!("budget `{part}`: {e}"))?),
                "sim" => b.simulated = Some(duration(v.trim()).map_err(|e| format!("budget `{part}`: {e}"))?.as_secs_f64()),
                other => return Err(format!("budget `{part}`: unknown limit `{other}` (use trials, time or sim)")),
            }
        }
        if b == Budget::default() {
            return Err(format!("budget `{text}` sets no limit (use trials=N, time=1h or sim=10h)"));
        }
        Ok(b)
    }

    /// Whether another trial may be proposed.
    pub fn allows_more(&self, spent: &Spent) -> bool {
        self.trials.is_none_or(|n| spent.trials < n) && self.time.is_none_or(|t| spent.time < t) && self.simulated.is_none_or(|s| spent.simulated < s)
    }

    /// Whether trials in flight must be stopped (time is up).
    pub fn out_of_time(&self, spent: &Spent) -> bool {
        self.time.is_some_and(|t| spent.time >= t)
    }

    /// Trials still allowed, if limited.
    pub fn trials_left(&self, spent: &Spent) -> Option<u64> {
        self.trials.map(|n| n.saturating_sub(spent.trials))
    }

    pub fn describe(&self) -> String {
        let mut parts = vec![];
        if let Some(n) = self.trials {
            parts.push(format!("{n} trials"));
        }
        if let Some(t) = self.time {
            parts.push(format!("{:.0} s", t.as_secs_f64()));
        }
        if let Some(s) = self.simulated {
            parts.push(format!("{s:.0} simulated s"));
        }
        parts.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budgets_parse_and_stop_at_the_first_limit() {
        let b = Budget::parse("trials=3, time=2m").unwrap();
        assert_eq!(b, Budget { trials: Some(3), time: Some(Duration::from_secs(120)), simulated: None });
        let mut spent = Spent::default();
        assert!(b.allows_more(&spent));
        spent.trials = 3;
        assert!(!b.allows_more(&spent));
        spent.trials = 1;
        spent.time = Duration::from_secs(121);
        assert!(!b.allows_more(&spent) && b.out_of_time(&spent));
        let sim = Budget::parse("sim=1h").unwrap();
        assert!(!sim.allows_more(&Spent { simulated: 3600.0, ..Spent::default() }));
        assert_eq!(sim.trials_left(&spent), None);
    }

    #[test]
    fn bad_budgets_say_why() {
        assert!(Budget::parse("").unwrap_err().contains("sets no limit"));
        assert!(Budget::parse("trials=0").unwrap_err().contains("positive integer"));
        assert!(Budget::parse("time=5y").unwrap_err().contains("unknown unit `y`"));
        assert!(Budget::parse("epochs=3").unwrap_err().contains("unknown limit `epochs`"));
        assert!(Budget::parse("trials").unwrap_err().contains("KEY=VALUE"));
    }
}
