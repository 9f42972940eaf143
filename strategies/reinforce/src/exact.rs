//! Bit-exact serialization of `f64` for the snapshot.
//!
//! serde_json writes floats in their shortest round-trip form, but without
//! its `float_roundtrip` feature it parses them on a fast path that may be one
//! unit in the last place off. Enabling that feature here would switch it on
//! for every crate built alongside (features unify), so the snapshot stores
//! each float's bit pattern instead, which JSON carries exactly.

use serde::{Deserialize, Deserializer, Serializer};

/// For `f64` fields.
pub mod scalar {
    use super::*;

    pub fn serialize<S: Serializer>(x: &f64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(x.to_bits())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        u64::deserialize(d).map(f64::from_bits)
    }
}

/// For `Option<f64>` fields.
pub mod option {
    use super::*;

    pub fn serialize<S: Serializer>(x: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
        match x {
            Some(x) => s.serialize_some(&x.to_bits()),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
        Option::<u64>::deserialize(d).map(|b| b.map(f64::from_bits))
    }
}

/// For `Vec<f64>` fields: one string of 16 hexadecimal digits per float.
/// Parameters and optimizer moments are most of a snapshot, and inside the
/// sandbox parsing them as JSON integers cost ten times the fuel of this
/// (restore was the most expensive call of a search).
pub mod vec {
    use super::*;
    use serde::de::Error;

    const DIGITS: &[u8; 16] = b"0123456789abcdef";

    pub fn serialize<S: Serializer>(v: &[f64], s: S) -> Result<S::Ok, S::Error> {
        // Bytes, not `char`s: pushing chars one by one costs several times the fuel.
        let mut hex = vec![0u8; 16 * v.len()];
        for (x, out) in v.iter().zip(hex.chunks_exact_mut(16)) {
            let bits = x.to_bits();
            for (i, digit) in out.iter_mut().enumerate() {
                *digit = DIGITS[(bits >> (60 - 4 * i)) as usize & 15];
            }
        }
        s.serialize_str(std::str::from_utf8(&hex).expect("hex digits are ASCII"))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<f64>, D::Error> {
        let hex = String::deserialize(d)?;
        if hex.len() % 16 != 0 {
            return Err(D::Error::custom("a float vector's length in hex digits is not a multiple of 16"));
        }
        hex.as_bytes()
            .chunks_exact(16)
            .map(|digits| {
                digits.iter().try_fold(0u64, |bits, &c| {
                    let nibble = match c {
                        b'0'..=b'9' => c - b'0',
                        b'a'..=b'f' => c - b'a' + 10,
                        _ => return Err(D::Error::custom(format!("`{}` is not a hex digit", c.escape_ascii()))),
                    };
                    Ok(bits << 4 | nibble as u64)
                })
            })
            .map(|bits| bits.map(f64::from_bits))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use serde::{Deserialize, Serialize};

    #[derive(Serialize, Deserialize, PartialEq, Debug)]
    struct T {
        #[serde(with = "super::scalar")]
        a: f64,
        #[serde(with = "super::option")]
        b: Option<f64>,
        #[serde(with = "super::option")]
        c: Option<f64>,
        #[serde(with = "super::vec")]
        d: Vec<f64>,
    }

    #[test]
    fn floats_survive_json_bit_for_bit() {
        let awkward = [0.1 + 0.2, -0.0, f64::MIN_POSITIVE / 3.0, 1.0 / 3.0, -7.123456789012345e-300, f64::MAX];
        let t = T { a: awkward[0], b: Some(awkward[3]), c: None, d: awkward.to_vec() };
        let back: T = serde_json::from_slice(&serde_json::to_vec(&t).unwrap()).unwrap();
        assert_eq!(back.d.iter().map(|x| x.to_bits()).collect::<Vec<_>>(), awkward.map(f64::to_bits).to_vec());
        assert_eq!(back, t);
    }

    #[test]
    fn malformed_vectors_are_refused() {
        let bad = |d: &str| serde_json::from_str::<T>(&format!(r#"{{"a": 0, "b": null, "c": null, "d": "{d}"}}"#));
        assert!(bad("3ff0000000000000").is_ok());
        assert!(bad("3ff000000000000").is_err());
        assert!(bad("3ff000000000000g").is_err());
        assert!(bad("3ff0000000000é0").is_err());
    }
}
