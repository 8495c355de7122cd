//! A byte cursor over SDDL text that never panics and reports errors with their offset.

use crate::error::{SddlError, SddlErrorKind};

/// Reads SDDL text byte by byte. Every access is bounds-checked.
#[derive(Debug, Clone)]
pub(crate) struct Cursor<'a> {
    text: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
        Self {
            text: text.as_bytes(),
            pos: 0,
        }
    }

    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    pub(crate) fn at_end(&self) -> bool {
        self.pos >= self.text.len()
    }

    pub(crate) fn peek(&self) -> Option<u8> {
        self.text.get(self.pos).copied()
    }

    pub(crate) fn peek_at(&self, ahead: usize) -> Option<u8> {
        self.text.get(self.pos.saturating_add(ahead)).copied()
    }

    pub(crate) fn rest(&self) -> &'a [u8] {
        self.text.get(self.pos..).unwrap_or(&[])
    }

    pub(crate) fn text_between(&self, start: usize, end: usize) -> &'a [u8] {
        self.text.get(start..end).unwrap_or(&[])
    }

    pub(crate) fn bump(&mut self) -> Option<u8> {
        let b = self.peek()?;
        self.pos += 1;
        Some(b)
    }

    pub(crate) fn advance(&mut self, n: usize) {
        self.pos = self.pos.saturating_add(n).min(self.text.len());
    }

    /// Consumes `b` if it is next.
    pub(crate) fn eat(&mut self, b: u8) -> bool {
        if self.peek() == Some(b) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    /// Consumes `word` if it is next (exact case).
    pub(crate) fn eat_str(&mut self, word: &str) -> bool {
        if self.rest().starts_with(word.as_bytes()) {
            self.pos += word.len();
            true
        } else {
            false
        }
    }

    /// Consumes `word` if it is next, ignoring ASCII case.
    pub(crate) fn eat_str_ci(&mut self, word: &str) -> bool {
        let rest = self.rest();
        match rest.get(..word.len()) {
            Some(head) if head.eq_ignore_ascii_case(word.as_bytes()) => {
                self.pos += word.len();
                true
            }
            _ => false,
        }
    }

    /// Skips ASCII spaces (only 0x20: Windows does not skip tabs in SDDL).
    pub(crate) fn skip_spaces(&mut self) -> usize {
        let start = self.pos;
        while self.peek() == Some(b' ') {
            self.pos += 1;
        }
        self.pos - start
    }

    /// Skips the whitespace of conditional expressions (tab to carriage return, space).
    pub(crate) fn skip_wspace(&mut self) -> usize {
        let start = self.pos;
        while matches!(self.peek(), Some(b' ' | b'\t'..=b'\r')) {
            self.pos += 1;
        }
        self.pos - start
    }

    /// Requires `b` next.
    pub(crate) fn expect(&mut self, b: u8, expected: &'static str) -> Result<(), SddlError> {
        if self.eat(b) {
            Ok(())
        } else {
            Err(self.unexpected(expected))
        }
    }

    /// An error at the current position.
    pub(crate) fn err(&self, kind: SddlErrorKind) -> SddlError {
        SddlError::new(self.pos, kind)
    }

    /// An error at `pos`.
    pub(crate) fn err_at(&self, pos: usize, kind: SddlErrorKind) -> SddlError {
        SddlError::new(pos, kind)
    }

    /// "Unexpected X, expected Y" at the current position (or "unexpected end").
    pub(crate) fn unexpected(&self, expected: &'static str) -> SddlError {
        match self.current_char() {
            Some(found) => self.err(SddlErrorKind::Unexpected { found, expected }),
            None => self.err(SddlErrorKind::UnexpectedEnd(expected)),
        }
    }

    /// The (possibly multi-byte) character at the current position.
    pub(crate) fn current_char(&self) -> Option<char> {
        let rest = self.rest();
        let end = rest.len().min(4);
        let head = rest.get(..end)?;
        // Take the longest valid UTF-8 prefix; the input came from a &str, so position 0 of a
        // character always decodes.
        (1..=end)
            .filter_map(|n| head.get(..n))
            .find_map(|b| std::str::from_utf8(b).ok().and_then(|s| s.chars().next()))
    }

    /// Reads two ASCII letters, upper-cased, without consuming them.
    pub(crate) fn peek_pair_upper(&self) -> Option<[u8; 2]> {
        let a = self.peek()?;
        let b = self.peek_at(1)?;
        if a.is_ascii_alphabetic() && b.is_ascii_alphabetic() {
            Some([a.to_ascii_uppercase(), b.to_ascii_uppercase()])
        } else {
            None
        }
    }
}
