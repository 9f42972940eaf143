//! Randomness, and the only source of it a strategy should use.
//!
//! In the sandbox every number comes from the host, seeded by the run's seed:
//! the same seed, strategy and observations give the same search. Natively
//! (tests, benchmarks) a per-thread generator seeded by [`crate::native`]
//! stands in for the host.

/// 64 uniformly distributed random bits.
pub fn u64() -> u64 {
    imp::next_u64()
}

/// A float uniformly distributed in [0, 1).
pub fn f64() -> f64 {
    imp::next_f64()
}

/// A uniformly distributed integer in [0, bound); 0 when `bound` is 0.
pub fn below(bound: u64) -> u64 {
    if bound == 0 {
        return 0;
    }
    imp::below(bound)
}

/// A uniformly distributed index into a slice of length `len` (which must not
/// be zero).
pub fn index(len: usize) -> usize {
    below(len as u64) as usize
}

/// Shuffles `items` in place (Fisher–Yates).
pub fn shuffle<T>(items: &mut [T]) {
    for i in (1..items.len()).rev() {
        items.swap(i, index(i + 1));
    }
}

#[cfg(target_arch = "wasm32")]
mod imp {
    use crate::bindings::nasbox::strategy::random as host;

    pub fn next_u64() -> u64 {
        host::next_u64()
    }
    pub fn next_f64() -> f64 {
        host::next_f64()
    }
    pub fn below(bound: u64) -> u64 {
        host::below(bound)
    }
}

/// SplitMix64 (Steele, Lea, Flood 2014): tiny, fast, and good enough for a
/// stand-in. The native generator is one per thread; a native tool that
/// needs a fixed stream of its own, apart from the strategies', holds one of
/// these.
#[cfg(not(target_arch = "wasm32"))]
#[derive(Debug, Clone)]
pub struct SplitMix64(pub u64);

#[cfg(not(target_arch = "wasm32"))]
impl SplitMix64 {
    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

#[cfg(not(target_arch = "wasm32"))]
mod imp {
    use std::cell::Cell;

    use super::SplitMix64;

    thread_local! {
        static STATE: Cell<u64> = const { Cell::new(0x853c_49e6_748f_ea9b) };
    }

    pub fn seed(seed: u64) {
        STATE.with(|s| s.set(seed));
    }

    pub fn next_u64() -> u64 {
        STATE.with(|s| {
            let mut generator = SplitMix64(s.get());
            let bits = generator.next_u64();
            s.set(generator.0);
            bits
        })
    }

    pub fn next_f64() -> f64 {
        (next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    pub fn below(bound: u64) -> u64 {
        // Lemire's nearly divisionless method, with rejection for exactness.
        loop {
            let m = (next_u64() as u128) * (bound as u128);
            let low = m as u64;
            if low >= bound.wrapping_neg() % bound {
                return (m >> 64) as u64;
            }
        }
    }
}

#[cfg(not(target_arch = "wasm32"))]
pub(crate) use imp::seed;

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    #[test]
    fn below_stays_in_range_and_covers_it() {
        seed(7);
        let mut seen = [false; 5];
        for _ in 0..1000 {
            let v = below(5);
            assert!(v < 5);
            seen[v as usize] = true;
        }
        assert!(seen.iter().all(|&s| s));
        assert_eq!(below(0), 0);
    }

    #[test]
    fn same_seed_same_stream() {
        seed(42);
        let a: Vec<u64> = (0..5).map(|_| u64()).collect();
        seed(42);
        let b: Vec<u64> = (0..5).map(|_| u64()).collect();
        assert_eq!(a, b);
        let f = f64();
        assert!((0.0..1.0).contains(&f));
    }
}
