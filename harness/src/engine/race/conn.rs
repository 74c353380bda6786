//! One burst connection: plain TCP or TLS, always with the [`Gate`] directly on the socket (below
//! any encryption), and with a count of the HTTP/2 stream ends written (above it), so a burst
//! knows when every final frame has been handed to the gate even when the gate holds ciphertext.

use std::io;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tokio_rustls::rustls::pki_types;
use url::Url;

use super::gate::{Gate, GatedIo};
use super::model::RaceError;
use crate::engine::tls::{self, Tls};

/// ALPN ids.
pub const H2: &[u8] = b"h2";
/// ALPN id of HTTP/1.1.
pub const HTTP11: &[u8] = b"http/1.1";

/// An open burst connection.
pub struct Conn {
    io: Io,
    /// The socket under everything, for the gate's single write.
    pub socket: Arc<TcpStream>,
    /// Holds and releases what is written to `socket`.
    pub gate: Arc<Gate>,
    /// HTTP/2 DATA frames with END_STREAM written so far.
    pub stream_ends: Arc<AtomicUsize>,
    frames: FrameScan,
    /// The server chose HTTP/2 by ALPN.
    pub alpn_h2: bool,
}

enum Io {
    Plain(GatedIo),
    Tls(Box<TlsStream<GatedIo>>),
}

/// Opens a connection to `url`'s host, at `address` when given (a node of it): TCP with Nagle
/// off, then TLS for `https` (verified as `tls` says for the host's name, offering `alpn`).
pub async fn open(
    url: &Url,
    tls: &Tls,
    alpn: &[&[u8]],
    timeout: Duration,
    address: Option<IpAddr>,
) -> Result<Conn, RaceError> {
    let (host, port) = host_port(url)?;
    let socket = Arc::new(match address {
        Some(ip) => connect(&ip.to_string(), port, timeout).await?,
        None => connect(host, port, timeout).await?,
    });
    let gate = Arc::new(Gate::default());
    let gated = GatedIo {
        socket: Arc::clone(&socket),
        gate: Arc::clone(&gate),
    };
    let (io, alpn_h2) = if url.scheme() == "https" {
        let config = tls::client_config(tls, alpn)?;
        let name = pki_types::ServerName::try_from(host.to_owned()).map_err(|source| {
            RaceError::ServerName {
                host: host.to_owned(),
                source,
            }
        })?;
        let peer = || format!("{host}:{port}");
        let stream = tokio::time::timeout(timeout, TlsConnector::from(config).connect(name, gated))
            .await
            .map_err(|_| RaceError::Timeout {
                doing: "TLS handshake with",
                peer: peer(),
            })?
            .map_err(|source| RaceError::Io {
                doing: "TLS handshake with",
                peer: peer(),
                source,
            })?;
        let h2 = stream.get_ref().1.alpn_protocol() == Some(H2);
        (Io::Tls(Box::new(stream)), h2)
    } else {
        (Io::Plain(gated), false)
    };
    Ok(Conn {
        io,
        socket,
        gate,
        stream_ends: Arc::new(AtomicUsize::new(0)),
        frames: FrameScan::default(),
        alpn_h2,
    })
}

impl Conn {
    /// From now on, count HTTP/2 frames in what is written, after the 24-byte client preface.
    pub fn scan_h2(&mut self) {
        self.frames = FrameScan {
            skip: 24,
            active: true,
            ..FrameScan::default()
        };
    }
}

/// The host and port a burst connects to.
pub fn host_port(url: &Url) -> Result<(&str, u16), RaceError> {
    let host = url.host_str().ok_or(RaceError::NoHost)?;
    let port = url.port_or_known_default().ok_or(RaceError::NoPort)?;
    Ok((host, port))
}

/// A warm connection with Nagle off, so a small write leaves at once.
pub async fn connect(host: &str, port: u16, timeout: Duration) -> Result<TcpStream, RaceError> {
    let peer = || format!("{host}:{port}");
    let s = tokio::time::timeout(timeout, TcpStream::connect((host, port)))
        .await
        .map_err(|_| RaceError::Timeout {
            doing: "connecting to",
            peer: peer(),
        })?
        .map_err(|source| RaceError::Io {
            doing: "connecting to",
            peer: peer(),
            source,
        })?;
    s.set_nodelay(true).map_err(|source| RaceError::Io {
        doing: "connecting to",
        peer: peer(),
        source,
    })?;
    Ok(s)
}

/// A streaming reader of HTTP/2 frame headers (RFC 9113 §4.1) in written bytes.
#[derive(Debug, Default)]
struct FrameScan {
    active: bool,
    /// Bytes still to pass unread (the preface, or a frame's payload).
    skip: usize,
    header: [u8; 9],
    have: usize,
}

impl FrameScan {
    /// Reads `data`; returns how many DATA frames with END_STREAM began in it.
    fn feed(&mut self, mut data: &[u8]) -> usize {
        let mut ends = 0;
        while self.active && !data.is_empty() {
            if self.skip > 0 {
                let n = self.skip.min(data.len());
                self.skip -= n;
                data = &data[n..];
                continue;
            }
            let n = (9 - self.have).min(data.len());
            self.header[self.have..self.have + n].copy_from_slice(&data[..n]);
            self.have += n;
            data = &data[n..];
            if self.have == 9 {
                let h = self.header;
                if h[3] == 0x0 && h[4] & 0x1 != 0 {
                    ends += 1;
                }
                self.skip = usize::from(h[0]) << 16 | usize::from(h[1]) << 8 | usize::from(h[2]);
                self.have = 0;
            }
        }
        ends
    }
}

impl AsyncRead for Conn {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match &mut self.io {
            Io::Plain(io) => Pin::new(io).poll_read(cx, buf),
            Io::Tls(io) => Pin::new(io.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Conn {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        let written = match &mut this.io {
            Io::Plain(io) => Pin::new(io).poll_write(cx, data),
            Io::Tls(io) => Pin::new(io.as_mut()).poll_write(cx, data),
        };
        if let Poll::Ready(Ok(n)) = written {
            let ends = this.frames.feed(&data[..n]);
            this.stream_ends.fetch_add(ends, Ordering::SeqCst);
        }
        written
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.io {
            Io::Plain(io) => Pin::new(io).poll_flush(cx),
            Io::Tls(io) => Pin::new(io.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.io {
            Io::Plain(io) => Pin::new(io).poll_shutdown(cx),
            Io::Tls(io) => Pin::new(io.as_mut()).poll_shutdown(cx),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::FrameScan;

    #[test]
    fn counts_stream_ends_across_split_writes() {
        let preface = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
        let data_end = [0, 0, 1, 0x0, 0x1, 0, 0, 0, 1, b'x'];
        let data_more = [0, 0, 1, 0x0, 0x0, 0, 0, 0, 3, b'x'];
        let window_update = [0, 0, 4, 0x8, 0x0, 0, 0, 0, 0, 0, 0, 1, 0];
        let bytes = [
            &preface[..],
            &data_end,
            &window_update,
            &data_more,
            &data_end,
        ]
        .concat();
        for split in 0..bytes.len() {
            let mut scan = FrameScan {
                skip: 24,
                active: true,
                ..FrameScan::default()
            };
            let ends = scan.feed(&bytes[..split]) + scan.feed(&bytes[split..]);
            assert_eq!(ends, 2, "split at {split}");
        }
    }
}
