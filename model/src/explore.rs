//! `tcm explore`: Stateright's Explorer behind a guard. The Explorer's own
//! server answers any request, and `POST /.runtocompletion` starts an
//! unbounded search: any web page the user visits could post it to
//! 127.0.0.1. The guard, on the port the user opens, passes a request on to
//! the Explorer (on a private port) only when it names this server as its
//! host (no DNS rebinding) and, for a POST, comes from this server's own
//! origin or from no browser at all; one request per connection.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Largest request head read (request line and headers).
pub const MAX_HEAD_BYTES: usize = 16 * 1024;
/// Largest request body passed on (the Explorer's requests have none).
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// Connections served at once; more are refused (503).
pub const MAX_CONNECTIONS: usize = 64;
/// A client that sends nothing for this long is dropped.
const IDLE: Duration = Duration::from_secs(10);

/// Why a request is refused, with its HTTP status.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// Not HTTP/1.x, or a head too long.
    #[error("malformed request: {why}")]
    Malformed {
        /// What was wrong.
        why: String,
    },
    /// A `Host` that is not this server (another site's name resolved to
    /// 127.0.0.1: DNS rebinding).
    #[error("host `{host}` is not this server")]
    ForeignHost {
        /// The host named.
        host: String,
    },
    /// A POST from another origin (a web page the user visits).
    #[error("POST from origin `{origin}` refused")]
    ForeignOrigin {
        /// The origin named.
        origin: String,
    },
    /// A method the Explorer does not use.
    #[error("method `{method}` not allowed")]
    Method {
        /// The method.
        method: String,
    },
    /// A body over [`MAX_BODY_BYTES`].
    #[error("body of {bytes} bytes; at most {max}")]
    BodyTooLarge {
        /// Its declared length.
        bytes: usize,
        /// [`MAX_BODY_BYTES`].
        max: usize,
    },
}

impl Refusal {
    /// The HTTP status that carries it.
    pub fn status(&self) -> (u16, &'static str) {
        match self {
            Refusal::Malformed { .. } => (400, "Bad Request"),
            Refusal::ForeignHost { .. } | Refusal::ForeignOrigin { .. } => (403, "Forbidden"),
            Refusal::Method { .. } => (405, "Method Not Allowed"),
            Refusal::BodyTooLarge { .. } => (413, "Payload Too Large"),
        }
    }
}

/// A request head the guard accepts: what is needed to pass it on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    /// Request line, as received.
    pub request_line: String,
    /// Headers other than `Connection`, as received.
    pub headers: Vec<(String, String)>,
    /// Declared body length.
    pub body_len: usize,
}

/// Checks a request head (everything before the blank line) against the
/// server's port: the host must be `127.0.0.1:port` or `localhost:port`,
/// the method GET or POST, and a POST's `Origin`, when present, this
/// server's.
pub fn check(head: &str, port: u16) -> Result<Head, Refusal> {
    let malformed = |why: &str| Refusal::Malformed { why: why.into() };
    let mut lines = head.split("\r\n");
    let request_line = lines.next().unwrap_or_default().to_string();
    let mut parts = request_line.split(' ');
    let (method, target, version) = (parts.next(), parts.next(), parts.next());
    let (Some(method), Some(_), Some(version)) = (method, target, version) else {
        return Err(malformed("no request line"));
    };
    if !version.starts_with("HTTP/1.") || parts.next().is_some() {
        return Err(malformed("not an HTTP/1.x request line"));
    }
    let mut headers = Vec::new();
    for line in lines.filter(|l| !l.is_empty()) {
        let Some((k, v)) = line.split_once(':') else {
            return Err(malformed("a header without a colon"));
        };
        headers.push((k.trim().to_string(), v.trim().to_string()));
    }
    let get = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    };
    let ours = [format!("127.0.0.1:{port}"), format!("localhost:{port}")];
    let host = get("host").unwrap_or_default();
    if !ours.iter().any(|h| h.eq_ignore_ascii_case(host)) {
        return Err(Refusal::ForeignHost { host: host.into() });
    }
    match method {
        "GET" | "HEAD" => {}
        "POST" => {
            if let Some(origin) = get("origin") {
                if !ours
                    .iter()
                    .any(|h| origin.eq_ignore_ascii_case(&format!("http://{h}")))
                {
                    return Err(Refusal::ForeignOrigin {
                        origin: origin.into(),
                    });
                }
            }
        }
        m => return Err(Refusal::Method { method: m.into() }),
    }
    let body_len = match get("content-length") {
        None => 0,
        Some(n) => n.parse().map_err(|_| malformed("a bad Content-Length"))?,
    };
    if body_len > MAX_BODY_BYTES {
        return Err(Refusal::BodyTooLarge {
            bytes: body_len,
            max: MAX_BODY_BYTES,
        });
    }
    if get("transfer-encoding").is_some() {
        return Err(malformed("chunked bodies are not passed on"));
    }
    headers.retain(|(k, _)| !k.eq_ignore_ascii_case("connection"));
    Ok(Head {
        request_line,
        headers,
        body_len,
    })
}

/// Reads a request head: the bytes before the first blank line, and any
/// bytes of the body read with them.
fn read_head(s: &mut TcpStream) -> Result<(String, Vec<u8>), Refusal> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 2048];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let rest = buf.split_off(end + 4);
            buf.truncate(end);
            let head = String::from_utf8(buf).map_err(|_| Refusal::Malformed {
                why: "a head that is not UTF-8".into(),
            })?;
            return Ok((head, rest));
        }
        if buf.len() > MAX_HEAD_BYTES {
            return Err(Refusal::Malformed {
                why: format!("a head over {MAX_HEAD_BYTES} bytes"),
            });
        }
        match s.read(&mut chunk) {
            Ok(0) | Err(_) => {
                return Err(Refusal::Malformed {
                    why: "the connection closed before the head ended".into(),
                })
            }
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

fn refuse(s: &mut TcpStream, code: u16, reason: &str, text: &str) {
    let body = format!("{text}\n");
    let _ = write!(
        s,
        "HTTP/1.1 {code} {reason}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
}

/// Serves one connection: one request checked, passed on to `backend`, its
/// response copied back.
fn serve_one(mut client: TcpStream, port: u16, backend: SocketAddr) {
    let _ = client.set_read_timeout(Some(IDLE));
    let (head, mut body) = match read_head(&mut client) {
        Ok(h) => h,
        Err(e) => {
            let (code, reason) = e.status();
            return refuse(&mut client, code, reason, &e.to_string());
        }
    };
    let head = match check(&head, port) {
        Ok(h) => h,
        Err(e) => {
            // Not eprintln!, which panics once stderr is closed.
            let _ = writeln!(
                io::stderr(),
                "explore: refused {}: {e}",
                head.lines().next().unwrap_or("")
            );
            let (code, reason) = e.status();
            return refuse(&mut client, code, reason, &e.to_string());
        }
    };
    while body.len() < head.body_len {
        let mut chunk = vec![0u8; head.body_len - body.len()];
        match client.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(n) => body.extend_from_slice(&chunk[..n]),
        }
    }
    body.truncate(head.body_len);
    let Ok(mut up) = TcpStream::connect(backend) else {
        return refuse(
            &mut client,
            502,
            "Bad Gateway",
            "the Explorer is not answering",
        );
    };
    let mut req = format!("{}\r\n", head.request_line);
    for (k, v) in &head.headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("Connection: close\r\n\r\n");
    if up.write_all(req.as_bytes()).is_err() || up.write_all(&body).is_err() {
        return;
    }
    let _ = io::copy(&mut up, &mut client);
    let _ = client.shutdown(Shutdown::Both);
}

/// Accepts connections on `listener` for ever, each checked and passed on
/// to the Explorer at `backend`.
pub fn guard(listener: TcpListener, backend: SocketAddr) -> io::Result<()> {
    let port = listener.local_addr()?.port();
    let open = Arc::new(AtomicUsize::new(0));
    for conn in listener.incoming() {
        let Ok(mut client) = conn else { continue };
        if open.fetch_add(1, Ordering::SeqCst) >= MAX_CONNECTIONS {
            open.fetch_sub(1, Ordering::SeqCst);
            refuse(
                &mut client,
                503,
                "Service Unavailable",
                "too many connections",
            );
            continue;
        }
        let open = open.clone();
        std::thread::spawn(move || {
            serve_one(client, port, backend);
            open.fetch_sub(1, Ordering::SeqCst);
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(lines: &[&str]) -> String {
        lines.join("\r\n")
    }

    #[test]
    fn the_explorers_own_requests_pass() {
        let h = check(
            &head(&[
                "GET /.states/0/3 HTTP/1.1",
                "Host: 127.0.0.1:8080",
                "Connection: keep-alive",
            ]),
            8080,
        )
        .unwrap();
        assert_eq!(h.headers, vec![("Host".into(), "127.0.0.1:8080".into())]);
        let post = head(&[
            "POST /.runtocompletion HTTP/1.1",
            "Host: localhost:8080",
            "Origin: http://localhost:8080",
            "Content-Length: 0",
        ]);
        assert_eq!(check(&post, 8080).unwrap().body_len, 0);
        // curl and other clients that are not browsers send no Origin.
        let curl = head(&["POST /.runtocompletion HTTP/1.1", "Host: 127.0.0.1:8080"]);
        assert!(check(&curl, 8080).is_ok());
    }

    #[test]
    fn another_sites_requests_are_refused() {
        let cross = head(&[
            "POST /.runtocompletion HTTP/1.1",
            "Host: 127.0.0.1:8080",
            "Origin: https://example.com",
        ]);
        assert_eq!(
            check(&cross, 8080),
            Err(Refusal::ForeignOrigin {
                origin: "https://example.com".into()
            })
        );
        // Same host, another port: another origin.
        let port = head(&[
            "POST /.runtocompletion HTTP/1.1",
            "Host: 127.0.0.1:8080",
            "Origin: http://127.0.0.1:9999",
        ]);
        assert!(matches!(
            check(&port, 8080),
            Err(Refusal::ForeignOrigin { .. })
        ));
        let rebound = head(&["GET / HTTP/1.1", "Host: attacker.example:8080"]);
        assert_eq!(
            check(&rebound, 8080),
            Err(Refusal::ForeignHost {
                host: "attacker.example:8080".into()
            })
        );
        let none = head(&["GET / HTTP/1.1"]);
        assert!(matches!(
            check(&none, 8080),
            Err(Refusal::ForeignHost { .. })
        ));
        let put = head(&["PUT / HTTP/1.1", "Host: 127.0.0.1:8080"]);
        assert_eq!(check(&put, 8080).unwrap_err().status().0, 405);
        let big = head(&[
            "POST / HTTP/1.1",
            "Host: 127.0.0.1:8080",
            "Content-Length: 999999999",
        ]);
        assert_eq!(check(&big, 8080).unwrap_err().status().0, 413);
        for bad in ["", "GET", "GET / SPDY/3", "GET / HTTP/1.1 extra"] {
            assert_eq!(check(bad, 8080).unwrap_err().status().0, 400, "{bad:?}");
        }
        let chunked = head(&[
            "POST / HTTP/1.1",
            "Host: 127.0.0.1:8080",
            "Transfer-Encoding: chunked",
        ]);
        assert_eq!(check(&chunked, 8080).unwrap_err().status().0, 400);
    }
}
