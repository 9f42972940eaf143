//! Guest-controlled text on its way to a terminal, a log, the journal or a
//! report.
//!
//! A strategy chooses every byte of its error messages, names, panic messages
//! and log lines. Unbounded, one `strategy-error` of 120 MB became 377 MB on
//! standard output; raw, an escape sequence in it could rewrite the user's
//! terminal. So every such string passes through [`cap`] before the host keeps
//! it: at most [`MAX_TEXT`] bytes, the cut marked with how much was dropped,
//! control characters shown escaped.

/// Bytes of one guest-controlled text the host keeps.
pub const MAX_TEXT: usize = 2048;

/// `text` bounded to `max` bytes (plus the marker), with control characters
/// other than newline and tab escaped.
pub fn cap(text: &str, max: usize) -> String {
    let mut cut = text.len().min(max);
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    let mut out = String::with_capacity(cut + 32);
    for c in text[..cut].chars() {
        if c.is_control() && c != '\n' && c != '\t' {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    if cut < text.len() {
        out.push_str(&format!("… [cut: {} more bytes]", text.len() - cut));
    }
    out
}

/// [`cap`] with the default bound, in place.
pub fn cap_in_place(text: &mut String) {
    if text.len() > MAX_TEXT || text.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        *text = cap(text, MAX_TEXT);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_text_is_cut_and_the_cut_is_marked() {
        let long = "x".repeat(10_000);
        let c = cap(&long, 100);
        assert!(c.starts_with(&"x".repeat(100)));
        assert!(c.ends_with("… [cut: 9900 more bytes]"), "{c}");
        assert_eq!(cap("short", 100), "short");
    }

    #[test]
    fn cuts_fall_on_character_boundaries() {
        let c = cap("ééé", 3);
        assert_eq!(c, "é… [cut: 4 more bytes]");
    }

    #[test]
    fn control_characters_cannot_reach_the_terminal() {
        assert_eq!(cap("red \u{1b}[31m\nline\tend\r", 100), "red \\u{1b}[31m\nline\tend\\r");
        let mut s = String::from("bell\u{7}");
        cap_in_place(&mut s);
        assert_eq!(s, "bell\\u{7}");
    }
}
