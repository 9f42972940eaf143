//! The one source of randomness a strategy has.
//!
//! ChaCha8 seeded from the run's seed, shared by the contract's `random`
//! interface and by WASI's random interfaces (which language runtimes use for
//! hash-map seeds), so the whole guest sees one deterministic stream whose
//! position can be saved and restored with a snapshot.

use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use chacha20::ChaCha8Rng;
use rand::rand_core::{Rng, SeedableRng, TryRng};

/// A cloneable handle to one seeded stream.
#[derive(Clone)]
pub struct SharedRng(Arc<Mutex<ChaCha8Rng>>);

impl SharedRng {
    pub fn seeded(seed: u64) -> Self {
        SharedRng(Arc::new(Mutex::new(ChaCha8Rng::seed_from_u64(seed))))
    }

    fn with<R>(&self, f: impl FnOnce(&mut ChaCha8Rng) -> R) -> R {
        f(&mut self.0.lock().unwrap_or_else(|p| p.into_inner()))
    }

    pub fn next_u64(&self) -> u64 {
        self.with(|r| r.next_u64())
    }

    /// Uniform in [0, 1) with 53 bits of precision.
    pub fn next_f64(&self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in [0, bound), exact (Lemire's method with rejection); 0 for 0.
    pub fn below(&self, bound: u64) -> u64 {
        if bound == 0 {
            return 0;
        }
        loop {
            let m = (self.next_u64() as u128) * (bound as u128);
            if (m as u64) >= bound.wrapping_neg() % bound {
                return (m >> 64) as u64;
            }
        }
    }

    /// The stream position, in 32-bit words since the seed.
    pub fn position(&self) -> u128 {
        self.with(|r| r.get_word_pos())
    }

    pub fn set_position(&self, position: u128) {
        self.with(|r| r.set_word_pos(position))
    }
}

impl TryRng for SharedRng {
    type Error = Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        Ok(self.with(|r| r.next_u32()))
    }
    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        Ok(self.with(|r| r.next_u64()))
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        self.with(|r| r.fill_bytes(dst));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_stream_and_position_restores_it() {
        let a = SharedRng::seeded(5);
        let b = SharedRng::seeded(5);
        assert_eq!(a.next_u64(), b.next_u64());
        let pos = a.position();
        let next: Vec<u64> = (0..4).map(|_| a.next_u64()).collect();
        b.set_position(pos);
        assert_eq!(next, (0..4).map(|_| b.next_u64()).collect::<Vec<_>>());
        assert_ne!(SharedRng::seeded(6).next_u64(), SharedRng::seeded(5).next_u64());
    }

    #[test]
    fn below_is_in_range_and_unbiased_enough() {
        let r = SharedRng::seeded(1);
        let mut counts = [0u32; 3];
        for _ in 0..30_000 {
            counts[r.below(3) as usize] += 1;
        }
        assert!(counts.iter().all(|&c| (9_500..10_500).contains(&c)), "{counts:?}");
        assert_eq!(r.below(0), 0);
        assert!((0..1000).all(|_| (0.0..1.0).contains(&r.next_f64())));
    }
}
