//! Just enough HTTP/1.1 for a local dashboard: GET and HEAD, one request
//! per connection, bounded everywhere (request size, time to send it,
//! threads, queued connections). Anything else is answered with a 4xx, and
//! a handler that panics costs one 500, not the server.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Longest request head accepted (request line and headers).
const MAX_HEAD: usize = 16 * 1024;
/// Time a client has to send its request, and to take the answer.
const IO_TIMEOUT: Duration = Duration::from_secs(10);

/// A parsed request: the path split into percent-decoded segments.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub method: String,
    pub segments: Vec<String>,
    pub query: Vec<(String, String)>,
    pub host: Option<String>,
}

impl Request {
    /// The values of a query parameter, in order.
    pub fn params<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.query.iter().filter(move |(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    pub fn param<'a>(&'a self, key: &'a str) -> Option<&'a str> {
        self.params(key).next()
    }
}

/// An answer.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub content_type: &'static str,
    pub body: Vec<u8>,
}

impl Response {
    pub fn new(status: u16, content_type: &'static str, body: impl Into<Vec<u8>>) -> Response {
        Response { status, content_type, body: body.into() }
    }

    pub fn html(body: String) -> Response {
        Response::new(200, "text/html; charset=utf-8", body)
    }

    pub fn json(value: &serde_json::Value) -> Response {
        Response::new(200, "application/json", value.to_string())
    }

    /// An error, as plain text.
    pub fn error(status: u16, message: &str) -> Response {
        Response::new(status, "text/plain; charset=utf-8", format!("{status} {}: {message}\n", reason(status)))
    }

    fn write_to(&self, out: &mut impl Write, head_only: bool) -> std::io::Result<()> {
        let head = format!(
            "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\nCache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\nReferrer-Policy: no-referrer\r\nContent-Security-Policy: default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'\r\n{}\r\n",
            self.status,
            reason(self.status),
            self.content_type,
            self.body.len(),
            if self.status == 405 { "Allow: GET, HEAD\r\n" } else { "" },
        );
        out.write_all(head.as_bytes())?;
        if !head_only {
            out.write_all(&self.body)?;
        }
        out.flush()
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        414 => "URI Too Long",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Error",
    }
}

/// Reads and parses one request head; a malformed one is the 4xx to send.
pub fn read_request(stream: &mut impl Read) -> Result<Request, Response> {
    let mut reader = BufReader::new(stream.take(MAX_HEAD as u64 + 1));
    let mut head = Vec::new();
    loop {
        let before = head.len();
        match reader.read_until(b'\n', &mut head) {
            Ok(0) => return Err(Response::error(400, "incomplete request")),
            Ok(_) => {}
            Err(_) => return Err(Response::error(400, "the request was not sent in time")),
        }
        if head.len() > MAX_HEAD {
            return Err(Response::error(431, "request head too large"));
        }
        let line = &head[before..];
        if line == b"\r\n" || line == b"\n" {
            break;
        }
    }
    parse_head(&head)
}

/// Parses a request head (request line and headers).
pub fn parse_head(head: &[u8]) -> Result<Request, Response> {
    let bad = |why: &str| Response::error(400, why);
    let text = std::str::from_utf8(head).map_err(|_| bad("the request is not UTF-8"))?;
    let mut lines = text.split('\n').map(|l| l.trim_end_matches('\r'));
    let first = lines.next().unwrap_or_default();
    let mut parts = first.split(' ');
    let (Some(method), Some(target), Some(version), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(bad("malformed request line"));
    };
    if !version.starts_with("HTTP/1.") {
        return Err(bad("only HTTP/1.x is spoken here"));
    }
    if method.is_empty() || !method.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(bad("malformed method"));
    }
    let mut host = None;
    for line in lines.filter(|l| !l.is_empty()) {
        let (name, value) = line.split_once(':').ok_or_else(|| bad("malformed header"))?;
        if name.eq_ignore_ascii_case("host") {
            host = Some(value.trim().to_string());
        }
    }
    let (segments, query) = parse_target(target)?;
    Ok(Request { method: method.to_string(), segments, query, host })
}

/// A target's decoded path segments and query pairs.
pub type Target = (Vec<String>, Vec<(String, String)>);

/// Splits an origin-form target into decoded path segments and query
/// pairs. Segments are decoded one by one, so an encoded `/` stays inside
/// its segment (where the router refuses it) instead of adding a level.
pub fn parse_target(target: &str) -> Result<Target, Response> {
    if target.len() > 4096 {
        return Err(Response::error(414, "request target too long"));
    }
    let target = target.split('#').next().unwrap_or_default();
    let Some(rest) = target.strip_prefix('/') else {
        return Err(Response::error(400, "the target must be a path starting with /"));
    };
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    let segments = if path.is_empty() { vec![] } else { path.split('/').map(|s| decode(s, false)).collect::<Result<Vec<_>, _>>()? };
    let query = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            Ok((decode(k, true)?, decode(v, true)?))
        })
        .collect::<Result<Vec<_>, Response>>()?;
    Ok((segments, query))
}

/// Percent-decoding (and `+` as space in a query); the result must be
/// UTF-8 without control characters.
pub fn decode(text: &str, plus_is_space: bool) -> Result<String, Response> {
    let bad = || Response::error(400, "malformed percent-encoding");
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = bytes.get(i + 1..i + 3).ok_or_else(bad)?;
                let hex = std::str::from_utf8(hex).map_err(|_| bad())?;
                out.push(u8::from_str_radix(hex, 16).map_err(|_| bad())?);
                i += 3;
            }
            b'+' if plus_is_space => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    let s = String::from_utf8(out).map_err(|_| bad())?;
    if s.chars().any(char::is_control) {
        return Err(Response::error(400, "control characters in the request"));
    }
    Ok(s)
}

/// Percent-encodes a path segment for a link.
pub fn encode(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for b in segment.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Serves connections from `listener` on `threads` threads until the
/// process ends. When every thread is busy and `queue` connections wait, a
/// further connection is told 503 at once instead of piling up.
pub fn serve(listener: TcpListener, threads: usize, queue: usize, handler: Arc<dyn Fn(&Request) -> Response + Send + Sync>) -> std::io::Result<()> {
    let (tx, rx): (SyncSender<TcpStream>, Receiver<TcpStream>) = sync_channel(queue);
    let rx = Arc::new(Mutex::new(rx));
    for _ in 0..threads.max(1) {
        let rx = rx.clone();
        let handler = handler.clone();
        std::thread::spawn(move || loop {
            let next = rx.lock().map(|r| r.recv());
            let Ok(Ok(stream)) = next else { return };
            connection(stream, &*handler);
        });
    }
    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        if let Err(TrySendError::Full(mut stream)) = tx.try_send(stream) {
            let _ = stream.set_write_timeout(Some(IO_TIMEOUT));
            let _ = Response::error(503, "busy, try again").write_to(&mut stream, false);
        }
    }
    Ok(())
}

/// Answers one connection.
fn connection(mut stream: TcpStream, handler: &(dyn Fn(&Request) -> Response + Send + Sync)) {
    let _ = stream.set_read_timeout(Some(IO_TIMEOUT));
    let _ = stream.set_write_timeout(Some(IO_TIMEOUT));
    let (response, head_only) = match read_request(&mut stream) {
        Err(r) => (r, false),
        Ok(req) => {
            let head_only = req.method == "HEAD";
            let answer = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| handler(&req)));
            (answer.unwrap_or_else(|_| Response::error(500, "the server failed on this request")), head_only)
        }
    };
    let _ = response.write_to(&mut stream, head_only);
    let _ = stream.shutdown(std::net::Shutdown::Write);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(head: &str) -> u16 {
        match parse_head(head.as_bytes()) {
            Ok(_) => 200,
            Err(r) => r.status,
        }
    }

    #[test]
    fn requests_are_split_into_decoded_segments_and_query() {
        let r = parse_head(b"GET /run/a%20b/c?since=5&x=1+2 HTTP/1.1\r\nHost: localhost:1\r\n\r\n").unwrap();
        assert_eq!(r.method, "GET");
        assert_eq!(r.segments, ["run", "a b", "c"]);
        assert_eq!(r.param("since"), Some("5"));
        assert_eq!(r.param("x"), Some("1 2"));
        assert_eq!(r.host.as_deref(), Some("localhost:1"));
        // An encoded slash stays inside its segment.
        assert_eq!(parse_head(b"GET /run/..%2F..%2Fetc HTTP/1.1\r\n\r\n").unwrap().segments, ["run", "../../etc"]);
        assert_eq!(parse_head(b"GET / HTTP/1.0\r\n\r\n").unwrap().segments, Vec::<String>::new());
    }

    #[test]
    fn malformed_requests_are_400s() {
        for head in [
            "GET /%zz HTTP/1.1\r\n\r\n", "GET /%c3%28 HTTP/1.1\r\n\r\n", "GET /a%00b HTTP/1.1\r\n\r\n", "GET /%0a HTTP/1.1\r\n\r\n",
            "GET run HTTP/1.1\r\n\r\n", "GET http://evil/ HTTP/1.1\r\n\r\n", "GET / HTTP/2\r\n\r\n", "GET /\r\n\r\n", "GET  / HTTP/1.1\r\n\r\n",
            "get / HTTP/1.1\r\n\r\n", "GET / HTTP/1.1\r\nno colon\r\n\r\n", "GET /%4 HTTP/1.1\r\n\r\n",
        ] {
            assert_eq!(status(head), 400, "{head:?}");
        }
        assert_eq!(status(&format!("GET /{} HTTP/1.1\r\n\r\n", "a".repeat(5000))), 414);
        let mut huge = std::io::Cursor::new(format!("GET / HTTP/1.1\r\nX: {}\r\n\r\n", "a".repeat(MAX_HEAD)).into_bytes());
        assert_eq!(read_request(&mut huge).unwrap_err().status, 431);
        assert_eq!(read_request(&mut std::io::Cursor::new(b"GET / HTT".to_vec())).unwrap_err().status, 400);
    }

    #[test]
    fn encoding_round_trips() {
        for s in ["plain", "a b/c?d#e%f", "ünï"] {
            assert_eq!(decode(&encode(s), false).unwrap(), s);
        }
    }
}
