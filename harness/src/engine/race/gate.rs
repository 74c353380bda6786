//! A socket whose writes can be held back and then released in one `write` call: the h2
//! client encodes frames as it likes, and the burst decides when the bytes leave.

use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, ready};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

use super::model::RaceError;

/// The shared switch: `Some(bytes)` while holding.
#[derive(Debug, Default)]
pub struct Gate(Mutex<Option<Vec<u8>>>);

impl Gate {
    fn lock(&self) -> MutexGuard<'_, Option<Vec<u8>>> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// From now on, writes are kept instead of sent.
    pub fn hold(&self) {
        *self.lock() = Some(Vec::new());
    }

    /// Sends everything kept in one `write` and opens the gate; returns the bytes sent and how
    /// long the call took.
    ///
    /// The socket is idle by then (the rest of each request went out well before), so the
    /// kernel takes the whole buffer at once; if it does not, the burst is not one packet and
    /// that is an error rather than a quietly wider window.
    pub fn release(&self, socket: &TcpStream) -> Result<(usize, Duration), RaceError> {
        let mut held = self.lock();
        let bytes = held.take().unwrap_or_default();
        let start = Instant::now();
        let written = socket.try_write(&bytes);
        let took = start.elapsed();
        match written {
            Ok(n) if n == bytes.len() => Ok((n, took)),
            Ok(n) => Err(RaceError::PartialWrite {
                took: n,
                held: bytes.len(),
            }),
            Err(e) => Err(RaceError::Release(e)),
        }
    }
}

/// The h2 connection's transport: reads and writes go to the shared socket unless the gate
/// holds them.
pub struct GatedIo {
    pub socket: Arc<TcpStream>,
    pub gate: Arc<Gate>,
}

impl AsyncRead for GatedIo {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        loop {
            ready!(self.socket.poll_read_ready(cx))?;
            match self.socket.try_read(buf.initialize_unfilled()) {
                Ok(n) => {
                    buf.advance(n);
                    return Poll::Ready(Ok(()));
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
    }
}

impl AsyncWrite for GatedIo {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        loop {
            {
                let mut held = self.gate.lock();
                if let Some(kept) = held.as_mut() {
                    kept.extend_from_slice(data);
                    return Poll::Ready(Ok(data.len()));
                }
            }
            ready!(self.socket.poll_write_ready(cx))?;
            match self.socket.try_write(data) {
                Ok(n) => return Poll::Ready(Ok(n)),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        // TCP keeps no user-space buffer; held bytes wait for `release` by design.
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}
