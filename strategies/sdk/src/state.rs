//! Snapshot bytes for strategies whose state is a serde type: JSON, with
//! floats written so that they read back bit for bit (exact resume depends
//! on it).

use serde::{de::DeserializeOwned, Serialize};

use crate::StrategyError;

/// The bytes to return from [`crate::Strategy::snapshot`].
pub fn save<T: Serialize>(state: &T) -> Result<Vec<u8>, StrategyError> {
    serde_json::to_vec(state).map_err(|e| StrategyError::Other(format!("snapshot: {e}")))
}

/// The state back from bytes given to [`crate::Strategy::restore`];
/// unreadable bytes are an `invalid-state` error.
pub fn load<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, StrategyError> {
    serde_json::from_slice(bytes).map_err(|e| StrategyError::InvalidState(e.to_string()))
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    #[test]
    fn floats_round_trip_exactly_and_garbage_is_invalid_state() {
        let xs: Vec<f64> = (1..2000).map(|i| 1.0 / i as f64 * std::f64::consts::PI).collect();
        let back: Vec<f64> = load(&save(&xs).unwrap()).unwrap();
        assert!(xs.iter().zip(&back).all(|(a, b)| a.to_bits() == b.to_bits()));
        assert!(matches!(load::<Vec<f64>>(b"nope"), Err(StrategyError::InvalidState(_))));
    }
}
