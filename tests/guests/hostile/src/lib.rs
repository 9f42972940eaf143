//! A strategy that misbehaves on request. Config `attack` picks the misdeed
//! and `when` the call it happens in; with `attack=none` it is a plain random
//! strategy (with repeats), so the same binary also shows what "normal" is.

use std::cell::Cell;

use nasbox_sdk::{random, Candidate, Config, ConfigKey, Genotype, Observation, Proposal, RunContext, Space, Strategy, StrategyError, StrategyInfo};

pub struct Hostile {
    arities: Vec<u32>,
    attack: String,
    when: String,
    asked: u64,
}

impl Hostile {
    fn strike(&self, call: &str, n: u32) -> Option<Result<Vec<Proposal>, StrategyError>> {
        if self.when != call {
            return None;
        }
        let g = |genotype: Genotype| Proposal::Genotype(Candidate { genotype, fidelity: None });
        Some(match self.attack.as_str() {
            "loop" => {
                let counter = Cell::new(0u64);
                loop {
                    counter.set(std::hint::black_box(counter.get().wrapping_add(1)));
                }
            }
            "alloc" => {
                let mut hoard: Vec<Vec<u8>> = Vec::new();
                loop {
                    hoard.push(std::hint::black_box(vec![1u8; 1 << 20]));
                }
            }
            "recurse" => Ok(vec![g(vec![recurse(std::hint::black_box(1)) as u32; self.arities.len()])]),
            "panic" => panic!("hostile strategy panics on purpose"),
            "error" => Err(StrategyError::Other("hostile strategy refuses".into())),
            "out-of-range" => Ok(vec![g(self.arities.clone())]),
            "wrong-length" => Ok(vec![g(vec![0; self.arities.len() + 1])]),
            "huge-list" => Ok((0..1_000_000).map(|_| g(vec![0; self.arities.len()])).collect()),
            "nan-weights" => Ok(vec![Proposal::Relaxed(self.arities.iter().map(|&a| (0..a).map(|_| f64::NAN).collect()).collect())]),
            "too-many" => Ok((0..=n).map(|_| g(vec![0; self.arities.len()])).collect()),
            "exit" => std::process::exit(3),
            // On wasm32, abort is the `unreachable` instruction.
            "unreachable" => std::process::abort(),
            // 60 MB of error text: under the copy limit, so it reaches the
            // host, which must not print it whole.
            "long-error" => Err(StrategyError::Other("e".repeat(60 << 20))),
            // 120 MB of error text: over the per-call copy limit.
            "huge-error" => Err(StrategyError::Other("e".repeat(120 << 20))),
            // 1,000 log messages of 8 MB each: 8 GB for the host to copy.
            "log-flood" => {
                let message = "l".repeat(8 << 20);
                for _ in 0..1000 {
                    nasbox_sdk::log::info(&message);
                }
                Ok(vec![])
            }
            _ => return None,
        })
    }
}

#[allow(unconditional_recursion)]
fn recurse(depth: u64) -> u64 {
    let frame = std::hint::black_box([depth; 64]);
    recurse(depth + 1) + frame[3]
}

impl Strategy for Hostile {
    fn info() -> StrategyInfo {
        StrategyInfo {
            name: "hostile".into(),
            version: "0.0.0".into(),
            description: "Misbehaves on request, for testing the sandbox.".into(),
            config: vec![
                ConfigKey {
                    name: "attack".into(),
                    default: "none".into(),
                    description: "none | loop | alloc | recurse | panic | error | out-of-range | wrong-length | \
                                  huge-list | nan-weights | too-many | exit | unreachable | long-error | huge-error | \
                                  log-flood | forget-restore"
                        .into(),
                },
                ConfigKey { name: "when".into(), default: "ask".into(), description: "init | ask | tell | recommend".into() },
            ],
            supports_snapshot: true,
        }
    }

    fn init(space: Space, config: Config, _context: RunContext) -> Result<Self, StrategyError> {
        let h = Hostile {
            arities: space.decisions.iter().map(|d| d.choices.len() as u32).collect(),
            attack: config.get("attack")?,
            when: config.get("when")?,
            asked: 0,
        };
        if let Some(Err(e)) = h.strike("init", 1) {
            return Err(e);
        }
        Ok(h)
    }

    fn ask(&mut self, n: u32) -> Result<Vec<Proposal>, StrategyError> {
        if let Some(r) = self.strike("ask", n) {
            return r;
        }
        // The last decision counts calls, so proposals depend on state and a
        // restore that forgets it shows.
        Ok((0..n)
            .map(|_| {
                self.asked += 1;
                let mut genotype: Genotype = self.arities.iter().map(|&a| random::below(a as u64) as u32).collect();
                let last = genotype.len() - 1;
                genotype[last] = (self.asked % self.arities[last] as u64) as u32;
                Proposal::Genotype(Candidate { genotype, fidelity: None })
            })
            .collect())
    }

    fn tell(&mut self, _observations: Vec<Observation>) -> Result<(), StrategyError> {
        self.strike("tell", 1).map(|r| r.map(|_| ())).unwrap_or(Ok(()))
    }

    fn recommend(&self) -> Result<Option<Genotype>, StrategyError> {
        if let Some(r) = self.strike("recommend", 1) {
            return r.map(|p| match p.into_iter().next() {
                Some(Proposal::Genotype(c)) => Some(c.genotype),
                _ => None,
            });
        }
        Ok(Some(vec![0; self.arities.len()]))
    }

    fn snapshot(&self) -> Result<Vec<u8>, StrategyError> {
        Ok(self.asked.to_le_bytes().to_vec())
    }

    fn restore(&mut self, state: Vec<u8>) -> Result<(), StrategyError> {
        if self.attack == "forget-restore" {
            return Ok(()); // claims success, keeps nothing
        }
        let bytes: [u8; 8] = state.try_into().map_err(|_| StrategyError::InvalidState("expected 8 bytes".into()))?;
        self.asked = u64::from_le_bytes(bytes);
        Ok(())
    }
}

nasbox_sdk::export_strategy!(Hostile);
