//! Reads both clocks and sleeps for an hour in `init`, then proposes
//! genotypes made from the time it reads. On the host's real clock this
//! would take an hour and differ between runs; on the sandbox's virtual
//! clock it returns at once and is the same in every process.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use nasbox_sdk::{log, Candidate, Config, Genotype, Observation, Proposal, RunContext, Space, Strategy, StrategyError, StrategyInfo};

pub struct Clocks {
    arities: Vec<u32>,
}

impl Strategy for Clocks {
    fn info() -> StrategyInfo {
        StrategyInfo {
            name: "clocks".into(),
            version: "0.0.0".into(),
            description: "Reads the clocks and sleeps.".into(),
            config: vec![],
            supports_snapshot: false,
        }
    }
    fn init(space: Space, _config: Config, _context: RunContext) -> Result<Self, StrategyError> {
        let started = Instant::now();
        std::thread::sleep(Duration::from_secs(3600));
        let slept = started.elapsed().as_secs();
        let year_2000 = 946_684_800;
        let since_epoch = SystemTime::now().duration_since(UNIX_EPOCH).map_err(|e| StrategyError::Other(e.to_string()))?;
        log::info(&format!("slept {slept} s; wall clock {} s after 2000-01-01", since_epoch.as_secs() - year_2000));
        Ok(Clocks { arities: space.decisions.iter().map(|d| d.choices.len() as u32).collect() })
    }
    fn ask(&mut self, n: u32) -> Result<Vec<Proposal>, StrategyError> {
        Ok((0..n)
            .map(|_| {
                let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().subsec_nanos();
                let t = Instant::now();
                let genotype = self.arities.iter().map(|&a| (nanos / 1000 + t.elapsed().subsec_nanos()) % a).collect();
                Proposal::Genotype(Candidate { genotype, fidelity: None })
            })
            .collect())
    }
    fn tell(&mut self, _observations: Vec<Observation>) -> Result<(), StrategyError> {
        Ok(())
    }
    fn recommend(&self) -> Result<Option<Genotype>, StrategyError> {
        Ok(None)
    }
}

nasbox_sdk::export_strategy!(Clocks);
