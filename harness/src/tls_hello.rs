//! TLS hellos as bytes (RFC 5246 §7.4.1, RFC 8446 §4.1): the ClientHello a probe sends, with
//! whatever versions and cipher suites it wants to ask about, and the first answer read back.
//!
//! rustls offers only TLS 1.2 and 1.3 with safe suites, so it cannot ask a server whether it
//! would also take TLS 1.1 or a suite FAPI 2.0 rules out. A probe never completes a handshake:
//! the server's choice in its ServerHello (or its alert) is all it judges, so nothing here
//! encrypts. The reference server reads hellos with the same code for a defect that answers an
//! old one. Everything read here comes from the network: no input panics, and lengths are
//! checked before they are used.

/// A protocol version as its two wire bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version(pub u16);

impl Version {
    /// TLS 1.0 (RFC 2246), deprecated by RFC 8996.
    pub const TLS10: Self = Self(0x0301);
    /// TLS 1.1 (RFC 4346), deprecated by RFC 8996.
    pub const TLS11: Self = Self(0x0302);
    /// TLS 1.2 (RFC 5246).
    pub const TLS12: Self = Self(0x0303);
    /// TLS 1.3 (RFC 8446).
    pub const TLS13: Self = Self(0x0304);
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            0x0300 => f.write_str("SSL 3.0"),
            0x0301 => f.write_str("TLS 1.0"),
            0x0302 => f.write_str("TLS 1.1"),
            0x0303 => f.write_str("TLS 1.2"),
            0x0304 => f.write_str("TLS 1.3"),
            v => write!(f, "version 0x{v:04x}"),
        }
    }
}

/// A cipher suite as its IANA code point.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Suite(pub u16);

impl std::fmt::Display for Suite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match NAMES.iter().find(|(code, _)| *code == self.0) {
            Some((_, name)) => f.write_str(name),
            None => write!(f, "suite 0x{:04x}", self.0),
        }
    }
}

/// The IANA names of every suite a probe offers (so evidence names what a server chose).
const NAMES: &[(u16, &str)] = &[
    (0x0001, "TLS_RSA_WITH_NULL_MD5"),
    (0x0002, "TLS_RSA_WITH_NULL_SHA"),
    (0x0003, "TLS_RSA_EXPORT_WITH_RC4_40_MD5"),
    (0x0004, "TLS_RSA_WITH_RC4_128_MD5"),
    (0x0005, "TLS_RSA_WITH_RC4_128_SHA"),
    (0x0008, "TLS_RSA_EXPORT_WITH_DES40_CBC_SHA"),
    (0x0009, "TLS_RSA_WITH_DES_CBC_SHA"),
    (0x000a, "TLS_RSA_WITH_3DES_EDE_CBC_SHA"),
    (0x0014, "TLS_DHE_RSA_EXPORT_WITH_DES40_CBC_SHA"),
    (0x0015, "TLS_DHE_RSA_WITH_DES_CBC_SHA"),
    (0x0016, "TLS_DHE_RSA_WITH_3DES_EDE_CBC_SHA"),
    (0x002f, "TLS_RSA_WITH_AES_128_CBC_SHA"),
    (0x0033, "TLS_DHE_RSA_WITH_AES_128_CBC_SHA"),
    (0x0035, "TLS_RSA_WITH_AES_256_CBC_SHA"),
    (0x0039, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA"),
    (0x003b, "TLS_RSA_WITH_NULL_SHA256"),
    (0x003c, "TLS_RSA_WITH_AES_128_CBC_SHA256"),
    (0x003d, "TLS_RSA_WITH_AES_256_CBC_SHA256"),
    (0x0067, "TLS_DHE_RSA_WITH_AES_128_CBC_SHA256"),
    (0x006b, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA256"),
    (0x009c, "TLS_RSA_WITH_AES_128_GCM_SHA256"),
    (0x009d, "TLS_RSA_WITH_AES_256_GCM_SHA384"),
    (0x009e, "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256"),
    (0x009f, "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384"),
    (0x1301, "TLS_AES_128_GCM_SHA256"),
    (0x1302, "TLS_AES_256_GCM_SHA384"),
    (0x1303, "TLS_CHACHA20_POLY1305_SHA256"),
    (0xc006, "TLS_ECDHE_ECDSA_WITH_NULL_SHA"),
    (0xc007, "TLS_ECDHE_ECDSA_WITH_RC4_128_SHA"),
    (0xc008, "TLS_ECDHE_ECDSA_WITH_3DES_EDE_CBC_SHA"),
    (0xc009, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA"),
    (0xc00a, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA"),
    (0xc010, "TLS_ECDHE_RSA_WITH_NULL_SHA"),
    (0xc011, "TLS_ECDHE_RSA_WITH_RC4_128_SHA"),
    (0xc012, "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA"),
    (0xc013, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA"),
    (0xc014, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA"),
    (0xc023, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256"),
    (0xc024, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384"),
    (0xc027, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256"),
    (0xc028, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384"),
    (0xc02b, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"),
    (0xc02c, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"),
    (0xc02f, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"),
    (0xc030, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"),
    (0xc09c, "TLS_RSA_WITH_AES_128_CCM"),
    (0xc09e, "TLS_DHE_RSA_WITH_AES_128_CCM"),
    (0xc0ac, "TLS_ECDHE_ECDSA_WITH_AES_128_CCM"),
    (0xc0ad, "TLS_ECDHE_ECDSA_WITH_AES_256_CCM"),
    (0xcca8, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"),
    (0xcca9, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"),
    (0xccaa, "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256"),
];

/// TLS 1.3's suites (RFC 8446 §B.4).
pub const TLS13_SUITES: &[Suite] = &[Suite(0x1301), Suite(0x1302), Suite(0x1303)];

/// The TLS 1.2 suites RFC 9325 §4.2 (BCP 195) recommends: ECDHE with AES-GCM. FAPI 2.0
/// Security Profile §5.2.2 allows a server only these on endpoints browsers do not use.
pub const RECOMMENDED_TLS12: &[Suite] =
    &[Suite(0xc02b), Suite(0xc02c), Suite(0xc02f), Suite(0xc030)];

/// TLS 1.2 suites servers implement that RFC 9325 §4.2 does not recommend: ChaCha20 and CCM
/// (allowed, not recommended), DHE and static-RSA key exchange, CBC, 3DES.
pub const NOT_RECOMMENDED_TLS12: &[Suite] = &[
    Suite(0xcca8),
    Suite(0xcca9),
    Suite(0xccaa),
    Suite(0x009e),
    Suite(0x009f),
    Suite(0x009c),
    Suite(0x009d),
    Suite(0xc0ac),
    Suite(0xc0ad),
    Suite(0xc09c),
    Suite(0xc09e),
    Suite(0xc023),
    Suite(0xc024),
    Suite(0xc027),
    Suite(0xc028),
    Suite(0xc009),
    Suite(0xc00a),
    Suite(0xc013),
    Suite(0xc014),
    Suite(0x0067),
    Suite(0x006b),
    Suite(0x0033),
    Suite(0x0039),
    Suite(0x003c),
    Suite(0x003d),
    Suite(0x002f),
    Suite(0x0035),
    Suite(0xc012),
    Suite(0xc008),
    Suite(0x0016),
    Suite(0x000a),
];

/// Suites RFC 9325 §4.1 says must never be negotiated: NULL encryption, RC4 (RFC 7465), and
/// under 112 bits of security (DES, the export grades). FAPI 2.0 §5.2.3 allows a browser
/// endpoint only what BCP 195 allows.
pub const FORBIDDEN: &[Suite] = &[
    Suite(0x0001),
    Suite(0x0002),
    Suite(0x003b),
    Suite(0xc006),
    Suite(0xc010),
    Suite(0x0004),
    Suite(0x0005),
    Suite(0xc007),
    Suite(0xc011),
    Suite(0x0003),
    Suite(0x0008),
    Suite(0x0009),
    Suite(0x0014),
    Suite(0x0015),
];

/// Suites a TLS 1.0 or 1.1 client of the last decade offered (CBC with SHA-1, 3DES): what an
/// old-version hello asks with, so a server that still speaks those versions has one to pick.
pub const LEGACY: &[Suite] = &[
    Suite(0xc009),
    Suite(0xc013),
    Suite(0xc00a),
    Suite(0xc014),
    Suite(0x0033),
    Suite(0x0039),
    Suite(0x002f),
    Suite(0x0035),
    Suite(0x000a),
];

/// What a ClientHello offers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offer {
    /// The versions, newest first.
    pub versions: Vec<Version>,
    /// The suites, in order of preference.
    pub suites: Vec<Suite>,
}

/// A ClientHello as one record: `offer`, the server's DNS name (none for an IP address: RFC
/// 6066 §3 has no IP form), and the random bytes it needs (the hello's random and session id,
/// and an X25519 key share when TLS 1.3 is offered; any 32 bytes are a valid share, and none
/// is ever used). A hello without TLS 1.3 has no `supported_versions`, as a client of the
/// version it offers sent it.
pub fn client_hello(offer: &Offer, server_name: Option<&str>, random: &[u8; 32]) -> Vec<u8> {
    let newest = offer
        .versions
        .iter()
        .max()
        .copied()
        .unwrap_or(Version::TLS12);
    let tls13 = newest >= Version::TLS13;
    let mut body = Vec::with_capacity(512);
    put_u16(&mut body, newest.min(Version::TLS12).0);
    body.extend_from_slice(random);
    body.push(32);
    body.extend_from_slice(random);
    put_u16(&mut body, len16(offer.suites.len() * 2));
    for s in &offer.suites {
        put_u16(&mut body, s.0);
    }
    body.extend_from_slice(&[1, 0]);
    let mut ext = Vec::with_capacity(256);
    if let Some(name) = server_name.filter(|n| n.parse::<std::net::IpAddr>().is_err()) {
        let name = &name.as_bytes()[..name.len().min(255)];
        let mut list = vec![0];
        put_u16(&mut list, len16(name.len()));
        list.extend_from_slice(name);
        let mut data = Vec::new();
        put_u16(&mut data, len16(list.len()));
        data.extend_from_slice(&list);
        extension(&mut ext, 0x0000, &data);
    }
    // x25519, secp256r1, secp384r1.
    extension(
        &mut ext,
        0x000a,
        &[0, 6, 0x00, 0x1d, 0x00, 0x17, 0x00, 0x18],
    );
    extension(&mut ext, 0x000b, &[1, 0]);
    let schemes: [u16; 11] = [
        0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601, 0x0807, 0x0201, 0x0203,
    ];
    let mut data = Vec::new();
    put_u16(&mut data, len16(schemes.len() * 2));
    for s in schemes {
        put_u16(&mut data, s);
    }
    extension(&mut ext, 0x000d, &data);
    extension(&mut ext, 0x0017, &[]);
    extension(&mut ext, 0xff01, &[0]);
    if tls13 {
        let mut versions = vec![u8::try_from(offer.versions.len() * 2).unwrap_or(0)];
        for v in &offer.versions {
            versions.extend_from_slice(&v.0.to_be_bytes());
        }
        extension(&mut ext, 0x002b, &versions);
        let mut share = Vec::new();
        put_u16(&mut share, 36);
        put_u16(&mut share, 0x001d);
        put_u16(&mut share, 32);
        share.extend_from_slice(random);
        extension(&mut ext, 0x0033, &share);
        extension(&mut ext, 0x002d, &[1, 1]);
    }
    put_u16(&mut body, len16(ext.len()));
    body.extend_from_slice(&ext);
    handshake_record(Version::TLS10, 1, &body)
}

/// A ServerHello choosing `version` and `suite`, without extensions: what the reference
/// server's old-version defect answers (it never finishes the handshake, nor does the probe).
pub fn server_hello(version: Version, suite: Suite) -> Vec<u8> {
    let mut body = Vec::with_capacity(48);
    put_u16(&mut body, version.0);
    body.extend_from_slice(&[0x5a; 32]);
    body.push(0);
    put_u16(&mut body, suite.0);
    body.push(0);
    handshake_record(version, 2, &body)
}

/// What a server answered a ClientHello with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// A ServerHello (or a TLS 1.3 HelloRetryRequest, which also names its choice): the
    /// server took the hello with this version and suite.
    Hello {
        /// The version chosen (`supported_versions` for TLS 1.3).
        version: Version,
        /// The suite chosen.
        suite: Suite,
    },
    /// An alert: the server refused.
    Alert {
        /// Its description code (RFC 8446 §6).
        description: u8,
    },
}

impl std::fmt::Display for Answer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Hello { version, suite } => write!(f, "ServerHello: {version}, {suite}"),
            Self::Alert { description } => {
                let name = match description {
                    10 => "unexpected_message",
                    40 => "handshake_failure",
                    47 => "illegal_parameter",
                    50 => "decode_error",
                    70 => "protocol_version",
                    71 => "insufficient_security",
                    80 => "internal_error",
                    86 => "inappropriate_fallback",
                    109 => "missing_extension",
                    112 => "unrecognized_name",
                    _ => "alert",
                };
                write!(f, "alert {name} ({description})")
            }
        }
    }
}

/// Why bytes are not (yet) an answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReadError {
    /// More bytes are needed.
    #[error("the answer stops before its end")]
    Incomplete,
    /// Not TLS, or not a TLS answer to a hello.
    #[error("{0}")]
    NotTls(String),
}

/// The largest record a peer may send (RFC 8446 §5.2: 2^14 plus expansion).
const MAX_RECORD: usize = (1 << 14) + 2048;

/// The first answer in `bytes`: an alert, or the ServerHello (its handshake message may span
/// records).
pub fn read_answer(bytes: &[u8]) -> Result<Answer, ReadError> {
    let mut handshake = Vec::new();
    let mut rest = bytes;
    loop {
        let (kind, fragment, after) = record(rest)?;
        match kind {
            21 => {
                return match fragment {
                    [_, description, ..] => Ok(Answer::Alert {
                        description: *description,
                    }),
                    _ => Err(ReadError::NotTls("an alert record too short".into())),
                };
            }
            22 => handshake.extend_from_slice(fragment),
            other => {
                return Err(ReadError::NotTls(format!(
                    "a TLS record of type {other} before any ServerHello"
                )));
            }
        }
        if let Some(message) = handshake_message(&handshake, 2)? {
            return read_server_hello(message);
        }
        rest = after;
    }
}

/// The versions and suites a ClientHello in `bytes` offers (the server side of a probe).
pub fn read_client_hello(bytes: &[u8]) -> Result<Offer, ReadError> {
    let mut handshake = Vec::new();
    let mut rest = bytes;
    let message = loop {
        let (kind, fragment, after) = record(rest)?;
        if kind != 22 {
            return Err(ReadError::NotTls(format!(
                "a TLS record of type {kind} before any ClientHello"
            )));
        }
        handshake.extend_from_slice(fragment);
        if let Some(message) = handshake_message(&handshake, 1)? {
            break message;
        }
        rest = after;
    };
    let mut r = Reader(message);
    let legacy = Version(r.u16()?);
    r.take(32)?;
    let sid = r.u8()?;
    r.take(usize::from(sid))?;
    let suites_len = usize::from(r.u16()?);
    let suites = r
        .take(suites_len)?
        .chunks_exact(2)
        .map(|c| Suite(u16::from_be_bytes([c[0], c[1]])))
        .collect();
    let compression = r.u8()?;
    r.take(usize::from(compression))?;
    let mut versions = vec![legacy];
    if let Some(data) = find_extension(&mut r, 0x002b)? {
        let mut d = Reader(data);
        let n = usize::from(d.u8()?);
        versions = d
            .take(n)?
            .chunks_exact(2)
            .map(|c| Version(u16::from_be_bytes([c[0], c[1]])))
            .collect();
    }
    Ok(Offer { versions, suites })
}

fn read_server_hello(message: &[u8]) -> Result<Answer, ReadError> {
    let mut r = Reader(message);
    let legacy = Version(r.u16()?);
    r.take(32)?;
    let sid = r.u8()?;
    r.take(usize::from(sid))?;
    let suite = Suite(r.u16()?);
    r.u8()?;
    let version = match find_extension(&mut r, 0x002b)? {
        Some([a, b]) => Version(u16::from_be_bytes([*a, *b])),
        Some(_) => return Err(ReadError::NotTls("a malformed supported_versions".into())),
        None => legacy,
    };
    Ok(Answer::Hello { version, suite })
}

/// One record off the front of `bytes`: its type, fragment and what follows.
fn record(bytes: &[u8]) -> Result<(u8, &[u8], &[u8]), ReadError> {
    let [kind, major, _, hi, lo, rest @ ..] = bytes else {
        return Err(ReadError::Incomplete);
    };
    if *major != 3 {
        let start: String = bytes
            .iter()
            .take(16)
            .map(|b| match *b {
                b' '..=b'~' => char::from(*b),
                _ => '.',
            })
            .collect();
        return Err(ReadError::NotTls(format!(
            "not a TLS record (starts {start:?})"
        )));
    }
    let len = usize::from(u16::from_be_bytes([*hi, *lo]));
    if len > MAX_RECORD {
        return Err(ReadError::NotTls(format!(
            "a TLS record of {len} bytes, over the {MAX_RECORD} allowed"
        )));
    }
    if rest.len() < len {
        return Err(ReadError::Incomplete);
    }
    let (fragment, after) = rest.split_at(len);
    Ok((*kind, fragment, after))
}

/// The body of the first handshake message in `buf`, once it is whole; it must be of `kind`.
fn handshake_message(buf: &[u8], kind: u8) -> Result<Option<&[u8]>, ReadError> {
    let [got, a, b, c, rest @ ..] = buf else {
        return Ok(None);
    };
    if *got != kind {
        return Err(ReadError::NotTls(format!(
            "a handshake message of type {got} where type {kind} was due"
        )));
    }
    let len = usize::from(*a) << 16 | usize::from(*b) << 8 | usize::from(*c);
    Ok(rest.get(..len))
}

/// The data of extension `wanted` in the extensions block `r` is at (none when the message
/// ends before it, as a hello without extensions does).
fn find_extension<'a>(r: &mut Reader<'a>, wanted: u16) -> Result<Option<&'a [u8]>, ReadError> {
    if r.0.is_empty() {
        return Ok(None);
    }
    let len = usize::from(r.u16()?);
    let mut exts = Reader(r.take(len)?);
    while !exts.0.is_empty() {
        let kind = exts.u16()?;
        let len = usize::from(exts.u16()?);
        let data = exts.take(len)?;
        if kind == wanted {
            return Ok(Some(data));
        }
    }
    Ok(None)
}

/// Reads a handshake message front to back; running out is a malformed message.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], ReadError> {
        if self.0.len() < n {
            return Err(ReadError::NotTls("a hello cut short inside".into()));
        }
        let (head, tail) = self.0.split_at(n);
        self.0 = tail;
        Ok(head)
    }

    fn u8(&mut self) -> Result<u8, ReadError> {
        Ok(self.take(1)?[0])
    }

    fn u16(&mut self) -> Result<u16, ReadError> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }
}

fn put_u16(out: &mut Vec<u8>, v: u16) {
    out.extend_from_slice(&v.to_be_bytes());
}

/// A length that fits its 16-bit field: everything built here is far smaller.
fn len16(n: usize) -> u16 {
    u16::try_from(n).unwrap_or(u16::MAX)
}

fn extension(out: &mut Vec<u8>, kind: u16, data: &[u8]) {
    put_u16(out, kind);
    put_u16(out, len16(data.len()));
    out.extend_from_slice(data);
}

fn handshake_record(record_version: Version, kind: u8, body: &[u8]) -> Vec<u8> {
    let len = u32::try_from(body.len()).unwrap_or(u32::MAX).to_be_bytes();
    let mut out = Vec::with_capacity(body.len() + 9);
    out.push(22);
    put_u16(&mut out, record_version.0);
    put_u16(&mut out, len16(body.len() + 4));
    out.push(kind);
    out.extend_from_slice(&len[1..]);
    out.extend_from_slice(body);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn offer(versions: &[Version], suites: &[Suite]) -> Offer {
        Offer {
            versions: versions.to_vec(),
            suites: suites.to_vec(),
        }
    }

    #[test]
    fn an_old_hello_says_its_version_in_the_hello_itself() {
        let hello = client_hello(
            &offer(&[Version::TLS11, Version::TLS10], LEGACY),
            Some("as.example"),
            &[7; 32],
        );
        // Record version TLS 1.0, handshake type ClientHello, legacy_version TLS 1.1.
        assert_eq!(&hello[..3], &[22, 3, 1]);
        assert_eq!(hello[5], 1);
        assert_eq!(&hello[9..11], &[3, 2]);
        let read = read_client_hello(&hello).expect("reads back");
        assert_eq!(read.versions, vec![Version::TLS11]);
        assert_eq!(read.suites, LEGACY);
    }

    #[test]
    fn a_tls13_hello_lists_its_versions_in_supported_versions() {
        let o = offer(&[Version::TLS13, Version::TLS12], TLS13_SUITES);
        let read = read_client_hello(&client_hello(&o, None, &[1; 32])).expect("reads back");
        assert_eq!(read, o);
    }

    #[test]
    fn a_server_hello_names_the_choice() {
        let hello = server_hello(Version::TLS11, Suite(0xc013));
        assert_eq!(
            read_answer(&hello),
            Ok(Answer::Hello {
                version: Version::TLS11,
                suite: Suite(0xc013)
            })
        );
        assert_eq!(
            read_answer(&hello).map(|a| a.to_string()),
            Ok("ServerHello: TLS 1.1, TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA".into())
        );
    }

    #[test]
    fn an_alert_is_a_refusal_and_named() {
        let alert = [21, 3, 3, 0, 2, 2, 70];
        assert_eq!(read_answer(&alert), Ok(Answer::Alert { description: 70 }));
        assert_eq!(
            Answer::Alert { description: 70 }.to_string(),
            "alert protocol_version (70)"
        );
    }

    #[test]
    fn what_is_not_tls_says_how_it_starts() {
        let err = read_answer(b"HTTP/1.1 400 Bad Request\r\n\r\n").expect_err("not TLS");
        assert_eq!(
            err,
            ReadError::NotTls("not a TLS record (starts \"HTTP/1.1 400 Bad\")".into())
        );
        assert_eq!(read_answer(&[22, 3, 3, 0]), Err(ReadError::Incomplete));
    }

    #[test]
    fn a_server_hello_split_over_records_is_read_whole() {
        let hello = server_hello(Version::TLS12, Suite(0xc02f));
        let fragment = &hello[5..];
        let (a, b) = fragment.split_at(10);
        let mut split = vec![22, 3, 3, 0, 10];
        split.extend_from_slice(a);
        split.extend_from_slice(&[22, 3, 3, 0, u8::try_from(b.len()).expect("short")]);
        split.extend_from_slice(b);
        assert_eq!(read_answer(&split[..20]), Err(ReadError::Incomplete));
        assert_eq!(
            read_answer(&split),
            Ok(Answer::Hello {
                version: Version::TLS12,
                suite: Suite(0xc02f)
            })
        );
    }

    #[test]
    fn every_suite_a_probe_offers_has_its_name() {
        for s in [
            TLS13_SUITES,
            RECOMMENDED_TLS12,
            NOT_RECOMMENDED_TLS12,
            FORBIDDEN,
            LEGACY,
        ]
        .concat()
        {
            assert!(!s.to_string().starts_with("suite "), "{s:?} has no name");
        }
    }

    proptest! {
        /// A hello reads back as what it offers, whatever the offer.
        #[test]
        fn hellos_read_back(
            versions in proptest::collection::vec(0x0300u16..=0x0304, 1..4),
            suites in proptest::collection::vec(any::<u16>(), 1..60),
            random in any::<[u8; 32]>(),
        ) {
            let mut versions: Vec<Version> = versions.into_iter().map(Version).collect();
            versions.sort_unstable_by(|a, b| b.cmp(a));
            versions.dedup();
            let o = offer(&versions, &suites.into_iter().map(Suite).collect::<Vec<_>>());
            let read = read_client_hello(&client_hello(&o, Some("a.example"), &random)).expect("reads back");
            prop_assert_eq!(&read.suites, &o.suites);
            if versions[0] >= Version::TLS13 {
                prop_assert_eq!(read.versions, versions);
            } else {
                prop_assert_eq!(read.versions, vec![versions[0]]);
            }
        }

        /// Whatever a server sends, reading it ends without a panic.
        #[test]
        fn any_answer_is_read_without_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = read_answer(&bytes);
            let _ = read_client_hello(&bytes);
        }
    }
}
