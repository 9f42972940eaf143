//! Bad input for the parsers' property tests: a valid input, then a few
//! edits of the kinds files and pasted text really suffer — cut short,
//! bits flipped, bytes overwritten, inserted, deleted or repeated, and
//! tokens that mean something to one of the formats (quotes, brackets,
//! separators, huge and negative numbers, NaN, a BOM, a NUL).
//!
//! Each parser's tests take a valid input of its format, apply
//! [`edits`], feed the result to the parser and check that it never
//! panics, that an error names the file (for files) and says what is
//! wrong, and that whatever it accepts is something the rest of nasbox
//! can use.
//!
//! Self-contained (proptest only), so the end-to-end tests include it too.

use proptest::prelude::*;
use proptest::test_runner::Config;

/// A test's configuration: `cases` inputs per run (docs/src/reference/bad-input.md's table
/// counts these), no regression files written next to the sources (a
/// failure prints its minimal input; keep it as a named regression test).
pub fn config(cases: u32) -> Config {
    Config { cases, failure_persistence: None, ..Config::default() }
}

/// A position in an input as a fraction of its length (`at / 2^64`), so it
/// lands inside the input whatever its length at that point.
#[derive(Debug, Clone, Copy)]
pub struct Index(pub u64);

impl Index {
    /// The position in an input of `len` bytes: in `0..len` (0 when empty).
    pub fn index(self, len: usize) -> usize {
        ((self.0 as u128 * len as u128) >> 64) as usize
    }
}

/// One change to an input.
#[derive(Debug, Clone)]
pub enum Edit {
    /// Cut the input short at this point.
    Truncate(Index),
    /// Flip one bit of a byte.
    Flip(Index, u8),
    /// Overwrite a byte.
    Set(Index, u8),
    /// Insert bytes before this point.
    Insert(Index, Vec<u8>),
    /// Delete up to this many bytes from this point.
    Delete(Index, usize),
    /// Repeat up to this many bytes from this point.
    Repeat(Index, usize),
}

/// Text that means something to one of the formats read here.
const TOKENS: &[&str] = &[
    "\"", "'", "[", "]", "(", ")", "{", "}", ",", "=", "|", "+", "~", "@", ":", "#", ".", "_", "x", "\n", "\r\n", " ", "\t", "\0", "-", "-1", "0", "1", "7",
    "255", "1e999", "-1e999", "nan", "inf", "NaN", "4294967296", "18446744073709551616", "-9223372036854775809", "true", "null", "[]", "{}", "é", "\u{feff}",
    "\u{ff}", "none", "identity", "conv_3x3",
];

fn token() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        3 => prop::sample::select(TOKENS).prop_map(|t| t.as_bytes().to_vec()),
        1 => prop::collection::vec(any::<u8>(), 1..8),
    ]
}

fn pos() -> impl Strategy<Value = Index> {
    any::<u64>().prop_map(Index)
}

pub fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        1 => pos().prop_map(Edit::Truncate),
        2 => (pos(), 0u8..8).prop_map(|(i, bit)| Edit::Flip(i, bit)),
        2 => (pos(), any::<u8>()).prop_map(|(i, b)| Edit::Set(i, b)),
        3 => (pos(), token()).prop_map(|(i, t)| Edit::Insert(i, t)),
        2 => (pos(), 1usize..16).prop_map(|(i, n)| Edit::Delete(i, n)),
        1 => (pos(), 1usize..32).prop_map(|(i, n)| Edit::Repeat(i, n)),
    ]
}

/// One to three edits.
pub fn edits() -> impl Strategy<Value = Vec<Edit>> {
    prop::collection::vec(edit(), 1..4)
}

/// The input after the edits, in order.
pub fn apply(mut bytes: Vec<u8>, edits: &[Edit]) -> Vec<u8> {
    for e in edits {
        let len = bytes.len();
        let at = |i: &Index| i.index(len);
        match e {
            Edit::Truncate(i) => bytes.truncate(at(i)),
            Edit::Flip(i, bit) if len > 0 => bytes[at(i)] ^= 1 << bit,
            Edit::Set(i, b) if len > 0 => bytes[at(i)] = *b,
            Edit::Insert(i, t) => {
                let p = i.index(len + 1);
                bytes.splice(p..p, t.iter().copied());
            }
            Edit::Delete(i, n) if len > 0 => {
                let p = at(i);
                bytes.drain(p..(p + n).min(len));
            }
            Edit::Repeat(i, n) if len > 0 => {
                let p = at(i);
                let run = bytes[p..(p + n).min(len)].to_vec();
                bytes.splice(p..p, run);
            }
            _ => {}
        }
    }
    bytes
}

/// The edited text, for parsers of strings (invalid UTF-8 replaced).
pub fn apply_text(text: &str, edits: &[Edit]) -> String {
    String::from_utf8_lossy(&apply(text.as_bytes().to_vec(), edits)).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edits_do_what_they_say() {
        let s = b"abcdef".to_vec();
        let first = Index(0);
        assert_eq!(Index(u64::MAX).index(6), 5);
        assert_eq!(Index(1 << 63).index(6), 3);
        assert_eq!(apply(s.clone(), &[Edit::Truncate(first)]), b"");
        assert_eq!(apply(s.clone(), &[Edit::Flip(first, 0)]), b"`bcdef");
        assert_eq!(apply(s.clone(), &[Edit::Set(first, b'z')]), b"zbcdef");
        assert_eq!(apply(s.clone(), &[Edit::Insert(first, b"<>".to_vec())]), b"<>abcdef");
        assert_eq!(apply(s.clone(), &[Edit::Delete(first, 2)]), b"cdef");
        assert_eq!(apply(s.clone(), &[Edit::Repeat(first, 3)]), b"abcabcdef");
        assert_eq!(apply(s.clone(), &[Edit::Insert(Index(u64::MAX), b"!".to_vec())]), b"abcdef!");
        assert_eq!(apply(s.clone(), &[Edit::Delete(Index(u64::MAX), 9)]), b"abcde");
        assert_eq!(apply(vec![], &[Edit::Delete(first, 2), Edit::Flip(first, 1), Edit::Insert(first, b"x".to_vec())]), b"x");
    }
}
