//! The plugin's stdout and stderr. Nothing is inherited from the portal; the last
//! few KiB are kept so a crash can be explained ("panicked at src/lib.rs:12: …",
//! a Python traceback) and the rest is dropped, so a chatty plugin cannot fill
//! memory or fail because its output is full.

use bytes::Bytes;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use tokio::io::AsyncWrite;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamError};

pub(crate) const TAIL_BYTES: usize = 8 * 1024;

#[derive(Clone)]
pub(crate) struct TailBuffer {
    inner: Arc<Mutex<Tail>>,
}

struct Tail {
    bytes: Vec<u8>,
    capacity: usize,
    dropped: usize,
}

impl TailBuffer {
    pub(crate) fn new(capacity: usize) -> TailBuffer {
        TailBuffer {
            inner: Arc::new(Mutex::new(Tail {
                bytes: Vec::new(),
                capacity,
                dropped: 0,
            })),
        }
    }

    fn push(&self, data: &[u8]) {
        let mut tail = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        tail.bytes.extend_from_slice(data);
        if tail.bytes.len() > tail.capacity {
            let excess = tail.bytes.len() - tail.capacity;
            tail.bytes.drain(..excess);
            tail.dropped += excess;
        }
    }

    /// The kept output as text, trimmed.
    pub(crate) fn text(&self) -> String {
        let tail = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        String::from_utf8_lossy(&tail.bytes).trim().to_owned()
    }
}

impl IsTerminal for TailBuffer {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for TailBuffer {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }

    fn async_stream(&self) -> Box<dyn AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

#[async_trait::async_trait]
impl Pollable for TailBuffer {
    async fn ready(&mut self) {}
}

impl OutputStream for TailBuffer {
    fn write(&mut self, bytes: Bytes) -> Result<(), StreamError> {
        self.push(&bytes);
        Ok(())
    }

    fn flush(&mut self) -> Result<(), StreamError> {
        Ok(())
    }

    fn check_write(&mut self) -> Result<usize, StreamError> {
        Ok(64 * 1024)
    }
}

impl AsyncWrite for TailBuffer {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.push(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_only_the_tail() {
        let tail = TailBuffer::new(8);
        tail.push(b"0123456789");
        tail.push(b"ab");
        assert_eq!(tail.text(), "456789ab");
    }
}
