//! An HTTP/1.1 response read off a raced connection: the status line and headers by `httparse`,
//! the body by its framing (RFC 9112 §6: chunked, `Content-Length`, or to the end of the
//! connection), so a server that streams its token response in chunks is read as well as one
//! that sends a length.

/// What came back on one connection: its status, and its body as far as it came.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Answer {
    pub status: u16,
    pub body: String,
}

/// Reads `bytes` (everything the connection delivered, perhaps cut); `None` when they hold no
/// complete HTTP/1.x status line and header block.
pub(super) fn read(bytes: &[u8]) -> Option<Answer> {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut response = httparse::Response::new(&mut headers);
    let httparse::Status::Complete(head) = response.parse(bytes).ok()? else {
        return None;
    };
    let status = response.code?;
    let header = |name: &str| {
        response
            .headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| String::from_utf8_lossy(h.value).trim().to_ascii_lowercase())
    };
    let rest = &bytes[head..];
    let body = if header("transfer-encoding").is_some_and(|te| te.ends_with("chunked")) {
        dechunk(rest)
    } else if let Some(length) = header("content-length").and_then(|l| l.parse::<usize>().ok()) {
        rest[..length.min(rest.len())].to_vec()
    } else {
        rest.to_vec()
    };
    Some(Answer {
        status,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

/// The data of a chunked body, as far as whole chunks came (RFC 9112 §7.1).
fn dechunk(mut rest: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    while let Ok(httparse::Status::Complete((start, size))) = httparse::parse_chunk_size(rest) {
        let Ok(size) = usize::try_from(size) else {
            break;
        };
        if size == 0 {
            break;
        }
        let Some(chunk) = rest.get(start..start.saturating_add(size)) else {
            body.extend_from_slice(&rest[start..]);
            break;
        };
        body.extend_from_slice(chunk);
        rest = rest.get(start + size + 2..).unwrap_or_default();
    }
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chunked_token_response_is_read_as_its_json() {
        let raw = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\n10\r\n{\"access_token\":\r\n7\r\n\"t\",\"x\"\r\n2\r\n:1\r\n1\r\n}\r\n0\r\n\r\n";
        let answer = read(raw).expect("a response");
        assert_eq!(answer.status, 200);
        assert_eq!(answer.body, r#"{"access_token":"t","x":1}"#);
    }

    #[test]
    fn a_length_ends_the_body_and_a_cut_one_keeps_what_came() {
        let raw = b"HTTP/1.1 400 Bad Request\r\ncontent-length: 2\r\n\r\n{}trailing";
        assert_eq!(
            read(raw),
            Some(Answer {
                status: 400,
                body: "{}".into()
            })
        );
        let cut = b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"a\"";
        assert_eq!(read(cut).map(|a| a.body), Some("{\"a\"".into()));
        let cut_chunk = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n{\"acc";
        assert_eq!(read(cut_chunk).map(|a| a.body), Some("{\"acc".into()));
    }

    #[test]
    fn no_status_line_no_answer() {
        assert_eq!(read(b""), None);
        assert_eq!(read(b"HTTP/1.1 200 OK\r\nContent-Le"), None);
        assert_eq!(read(b"hello world 200\r\n\r\n"), None);
    }
}
