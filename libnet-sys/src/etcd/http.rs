//! HTTP/1.1 over a std `TcpStream` (or TLS over it, [`super::tls`]), just what the gateway
//! needs: a POST with a JSON body, and an answer framed by Content-Length, chunked transfer
//! coding, or the connection's close.
//!
//! Addresses are numeric `SocketAddr`s: connecting by name would pull glibc's static
//! `getaddrinfo` (+175 KB, and NSS at run time) into every program.

use super::tls::{Conn, Tls};
use crate::error::Cause;
use crate::{Error, Result};
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// Longest status line + headers accepted.
const MAX_HEAD: usize = 64 * 1024;
/// Largest whole body read into memory (a range of every endpoint of a big network).
pub const MAX_BODY: usize = 64 * 1024 * 1024;

/// How a body ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Framing {
    Length(usize),
    Chunked,
    Close,
}

/// The body of an answer, read through its framing.
pub struct Body<R> {
    r: R,
    framing: Framing,
    /// Bytes left in the current chunk (or of the Content-Length).
    left: usize,
    done: bool,
}

fn bad(why: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, why.into())
}

fn read_line<R: BufRead>(r: &mut R, limit: usize) -> io::Result<String> {
    let mut line = Vec::new();
    r.by_ref().take(limit as u64).read_until(b'\n', &mut line)?;
    if line.last() != Some(&b'\n') {
        return Err(if line.len() >= limit {
            bad("line too long")
        } else {
            io::ErrorKind::UnexpectedEof.into()
        });
    }
    line.pop();
    if line.last() == Some(&b'\r') {
        line.pop();
    }
    String::from_utf8(line).map_err(|_| bad("not text"))
}

impl<R: BufRead> Body<R> {
    /// Reads the status line and headers; returns the status and the body behind them.
    pub fn start(mut r: R) -> io::Result<(u16, Body<R>)> {
        let status_line = read_line(&mut r, MAX_HEAD)?;
        let mut parts = status_line.splitn(3, ' ');
        let (version, code) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
        if !version.starts_with("HTTP/1.") || code.len() != 3 {
            return Err(bad(format!("not an HTTP/1.x status line: {status_line:?}")));
        }
        let status: u16 = code.parse().map_err(|_| bad("bad status code"))?;
        let mut framing = Framing::Close;
        let mut head = status_line.len();
        loop {
            let line = read_line(&mut r, MAX_HEAD)?;
            head += line.len() + 2;
            if head > MAX_HEAD {
                return Err(bad("headers too long"));
            }
            if line.is_empty() {
                break;
            }
            let (name, value) = line.split_once(':').ok_or_else(|| bad("bad header line"))?;
            let value = value.trim();
            if name.eq_ignore_ascii_case("transfer-encoding") {
                if !value.eq_ignore_ascii_case("chunked") {
                    return Err(bad(format!("transfer coding {value:?}")));
                }
                framing = Framing::Chunked;
            } else if name.eq_ignore_ascii_case("content-length") && framing != Framing::Chunked {
                let n = value.parse().map_err(|_| bad("bad Content-Length"))?;
                framing = Framing::Length(n);
            }
        }
        let left = match framing {
            Framing::Length(n) => n,
            _ => 0,
        };
        Ok((
            status,
            Body {
                r,
                framing,
                left,
                done: framing == Framing::Length(0),
            },
        ))
    }

    /// The whole body, up to [`MAX_BODY`].
    pub fn read_all(mut self) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        (&mut self)
            .take(MAX_BODY as u64 + 1)
            .read_to_end(&mut out)?;
        if out.len() > MAX_BODY {
            return Err(bad("body too long"));
        }
        Ok(out)
    }

    fn next_chunk(&mut self) -> io::Result<()> {
        let line = read_line(&mut self.r, 1024)?;
        let size = line.split(';').next().unwrap_or("").trim();
        self.left = usize::from_str_radix(size, 16).map_err(|_| bad("bad chunk size"))?;
        if self.left == 0 {
            // Trailers, then the empty line.
            while !read_line(&mut self.r, MAX_HEAD)?.is_empty() {}
            self.done = true;
        }
        Ok(())
    }
}

impl<R: BufRead> Read for Body<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.done || buf.is_empty() {
            return Ok(0);
        }
        if self.framing == Framing::Close {
            return self.r.read(buf);
        }
        if self.left == 0 {
            // Only chunked bodies get here: Length bodies are done when left reaches 0.
            self.next_chunk()?;
            if self.done {
                return Ok(0);
            }
        }
        let want = buf.len().min(self.left);
        let n = self.r.read(&mut buf[..want])?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        self.left -= n;
        if self.left == 0 {
            match self.framing {
                Framing::Length(_) => self.done = true,
                _ => {
                    if !read_line(&mut self.r, 2)?.is_empty() {
                        return Err(bad("chunk not followed by CRLF"));
                    }
                }
            }
        }
        Ok(n)
    }
}

/// Parses a whole answer held in memory (what the fuzz tests feed).
pub fn parse_response(bytes: &[u8]) -> io::Result<(u16, Vec<u8>)> {
    let (status, body) = Body::start(bytes)?;
    Ok((status, body.read_all()?))
}

/// An errno for an I/O error, for the one error type.
pub(crate) fn io_errno(e: &io::Error) -> i32 {
    e.raw_os_error().unwrap_or(match e.kind() {
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => libc::ETIMEDOUT,
        io::ErrorKind::UnexpectedEof => libc::ECONNRESET,
        _ => libc::EPROTO,
    })
}

pub(crate) fn io_error(step: &str, addr: SocketAddr, e: &io::Error) -> Error {
    if e.kind() == io::ErrorKind::InvalidData {
        return Error {
            step: step.to_string().into(),
            object: addr.to_string(),
            cause: Cause::Malformed(e.to_string().into()),
        };
    }
    Error::errno(step.to_string(), addr.to_string(), io_errno(e))
}

/// An answer's body, read line by line (a watch or keepalive stream).
pub type Lines = BufReader<Body<BufReader<Conn>>>;

/// Sends `POST path` with a JSON body and returns the status and the body behind the headers;
/// `read_timeout` bounds each read (None: wait for ever, a watch with no progress notify).
pub fn post(
    addr: SocketAddr,
    tls: Option<&Tls>,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
    connect_timeout: Duration,
    read_timeout: Option<Duration>,
) -> Result<(u16, Body<BufReader<Conn>>)> {
    let stream = TcpStream::connect_timeout(&addr, connect_timeout)
        .map_err(|e| io_error("connect", addr, &e))?;
    let _ = stream.set_nodelay(true);
    stream
        .set_read_timeout(read_timeout)
        .and_then(|()| stream.set_write_timeout(Some(connect_timeout.max(Duration::from_secs(5)))))
        .map_err(|e| io_error("connect", addr, &e))?;
    let mut conn =
        Conn::over(stream, tls, addr).map_err(|e| io_error("TLS handshake", addr, &e))?;
    let mut req = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(body);
    conn.write_all(req.as_bytes())
        .and_then(|()| conn.flush())
        .map_err(|e| io_error("send", addr, &e))?;
    Body::start(BufReader::new(conn)).map_err(|e| io_error("receive", addr, &e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_length_chunked_and_close_bodies() {
        let a = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloEXTRA";
        assert_eq!(parse_response(a).unwrap(), (200, b"hello".to_vec()));
        let c = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n2\r\nde\r\n0\r\nTrailer: 1\r\n\r\n";
        assert_eq!(parse_response(c).unwrap(), (200, b"abcde".to_vec()));
        let e = b"HTTP/1.0 404 Not Found\r\n\r\nall of it";
        assert_eq!(parse_response(e).unwrap(), (404, b"all of it".to_vec()));
        for bad in [
            &b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nshort"[..],
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
            b"SSH-2.0\r\n\r\n",
            b"HTTP/1.1 2000 OK\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nno colon\r\n\r\n",
        ] {
            assert!(
                parse_response(bad).is_err(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
