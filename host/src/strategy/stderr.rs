//! A guest's stderr: where a JavaScript exception's stack, a Python
//! traceback and a Rust panic message land, so it is what an author needs to
//! see when a call fails.
//!
//! Only the tail matters (the exception is the last thing written before the
//! trap), and a chatty strategy must neither fill the host's memory nor be
//! stopped for writing too much, so the stream keeps the last
//! [`KEPT`] bytes and counts the rest.

use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use bytes::Bytes;
use tokio::io::AsyncWrite;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamError};

/// Bytes of stderr kept: the most recent.
pub const KEPT: usize = 64 << 10;

#[derive(Default)]
struct Tail {
    /// The last `KEPT` bytes written, oldest first.
    bytes: Vec<u8>,
    /// Bytes written since the instance started, kept or not.
    total: u64,
}

/// A shared handle on one instance's stderr.
#[derive(Clone, Default)]
pub struct StderrTail(Arc<Mutex<Tail>>);

impl StderrTail {
    fn push(&self, data: &[u8]) {
        let mut tail = self.0.lock().unwrap_or_else(|e| e.into_inner());
        tail.total += data.len() as u64;
        let data = &data[data.len().saturating_sub(KEPT)..];
        let overflow = (tail.bytes.len() + data.len()).saturating_sub(KEPT);
        tail.bytes.drain(..overflow);
        tail.bytes.extend_from_slice(data);
    }

    /// How many bytes have been written so far: a mark for [`since`](Self::since).
    pub fn mark(&self) -> u64 {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).total
    }

    /// What was written after `mark`, as far as it is still kept.
    pub fn since(&self, mark: u64) -> String {
        let tail = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let new = usize::try_from(tail.total.saturating_sub(mark)).unwrap_or(usize::MAX);
        let kept = &tail.bytes[tail.bytes.len().saturating_sub(new)..];
        String::from_utf8_lossy(kept).into_owned()
    }
}

impl IsTerminal for StderrTail {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for StderrTail {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }
    fn async_stream(&self) -> Box<dyn AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

#[async_trait::async_trait]
impl OutputStream for StderrTail {
    fn write(&mut self, bytes: Bytes) -> Result<(), StreamError> {
        self.push(&bytes);
        Ok(())
    }
    fn flush(&mut self) -> Result<(), StreamError> {
        Ok(())
    }
    fn check_write(&mut self) -> Result<usize, StreamError> {
        Ok(KEPT)
    }
}

#[async_trait::async_trait]
impl Pollable for StderrTail {
    async fn ready(&mut self) {}
}

impl AsyncWrite for StderrTail {
    fn poll_write(self: Pin<&mut Self>, _cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.push(buf);
        Poll::Ready(Ok(buf.len()))
    }
    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tail_is_kept_and_the_rest_counted() {
        let tail = StderrTail::default();
        tail.push(b"early\n");
        let mark = tail.mark();
        assert_eq!(mark, 6);
        tail.push(&vec![b'x'; KEPT]);
        tail.push(b"Error: boom\n  at ask (strategy.js:3)\n");
        let said = tail.since(mark);
        assert_eq!(said.len(), KEPT);
        assert!(said.ends_with("Error: boom\n  at ask (strategy.js:3)\n"));
        assert!(!said.contains("early"));
        // What came before the mark is not this call's.
        let mark = tail.mark();
        tail.push(b"next");
        assert_eq!(tail.since(mark), "next");
    }
}
