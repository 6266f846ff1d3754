//! TLS to the etcd members, as etcdctl's `--cacert`, `--cert` and `--key` give it: the
//! members' certificates checked against the CA file (by the member's numeric address, the
//! name the client dials), and a client certificate for clusters started with
//! `--client-cert-auth`.
//!
//! rustls with the ring provider, behind the cargo feature `tls` (README, Dependencies, has
//! the measured cost); without the feature [`Tls::load`] says so and [`Stream`] has no value.

use crate::{Error, Result};
use std::io;
use std::net::{SocketAddr, TcpStream};

/// The files etcdctl's options name.
#[derive(Debug, Default, Clone)]
pub struct Files {
    pub cacert: Option<String>,
    pub cert: Option<String>,
    pub key: Option<String>,
}

impl Files {
    pub fn any(&self) -> bool {
        self.cacert.is_some() || self.cert.is_some() || self.key.is_some()
    }
}

#[cfg(feature = "tls")]
mod imp {
    use super::Files;
    use crate::{Error, Result};
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
    use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};
    use std::io;
    use std::net::{SocketAddr, TcpStream};
    use std::sync::Arc;

    /// A client configuration, loaded once and shared by every connection, and whether it
    /// has a client certificate.
    #[derive(Clone)]
    pub struct Tls(Arc<ClientConfig>, bool);

    /// A TLS connection; its errors say what to change when a certificate is refused.
    pub struct Stream {
        s: Box<StreamOwned<ClientConnection, TcpStream>>,
        with_cert: bool,
    }

    /// `e`, with what a person can do about it when it is a certificate refused either way.
    fn explained(e: io::Error, with_cert: bool) -> io::Error {
        use rustls::AlertDescription as A;
        let Some(t) = e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) else {
            return e;
        };
        let hint = match t {
            rustls::Error::AlertReceived(
                A::BadCertificate | A::CertificateRequired | A::UnknownCA | A::CertificateUnknown,
            ) if with_cert => {
                "the member refused this client's certificate: --cert must be \
                               signed by a CA the cluster trusts (its --trusted-ca-file)"
            }
            rustls::Error::AlertReceived(A::BadCertificate | A::CertificateRequired) => {
                "the member wants a client certificate: give --cert and --key"
            }
            rustls::Error::InvalidCertificate(_) => {
                "the member's certificate is refused: --cacert must be the CA that signed it, \
                 and it must name the address dialled"
            }
            _ => return e,
        };
        io::Error::new(e.kind(), format!("{t}: {hint}"))
    }

    impl io::Read for Stream {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            self.s.read(buf).map_err(|e| explained(e, self.with_cert))
        }
    }

    impl io::Write for Stream {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.s.write(buf).map_err(|e| explained(e, self.with_cert))
        }
        fn flush(&mut self) -> io::Result<()> {
            self.s.flush().map_err(|e| explained(e, self.with_cert))
        }
    }

    fn unreadable(file: &str, what: &str, e: impl std::fmt::Display) -> Error {
        Error::invalid(file, format!("not a PEM {what} file ({e})"))
    }

    fn certificates(file: &str) -> Result<Vec<CertificateDer<'static>>> {
        let certs = CertificateDer::pem_file_iter(file)
            .and_then(|it| it.collect::<std::result::Result<Vec<_>, _>>())
            .map_err(|e| unreadable(file, "certificate", e))?;
        if certs.is_empty() {
            return Err(Error::invalid(file, "holds no PEM certificate"));
        }
        Ok(certs)
    }

    impl Tls {
        pub fn load(files: &Files) -> Result<Tls> {
            // The options' combination first, then the files.
            match (&files.cert, &files.key) {
                (Some(_), None) => return Err(Error::invalid("--cert", "needs --key")),
                (None, Some(_)) => return Err(Error::invalid("--key", "needs --cert")),
                _ => {}
            }
            let cacert = files.cacert.as_deref().ok_or_else(|| {
                Error::invalid(
                    "--cacert",
                    "TLS to etcd needs the CA file that signed the members' certificates",
                )
            })?;
            let mut roots = RootCertStore::empty();
            for c in certificates(cacert)? {
                roots
                    .add(c)
                    .map_err(|e| Error::invalid(cacert, format!("not a CA certificate ({e})")))?;
            }
            let builder = ClientConfig::builder_with_provider(Arc::new(
                rustls::crypto::ring::default_provider(),
            ))
            .with_safe_default_protocol_versions()
            .map_err(|e| Error::invalid("TLS", e.to_string()))?
            .with_root_certificates(roots);
            let with_cert = files.cert.is_some();
            let config = match (&files.cert, &files.key) {
                (Some(cert), Some(key)) => {
                    let chain = certificates(cert)?;
                    let k = PrivateKeyDer::from_pem_file(key)
                        .map_err(|e| unreadable(key, "private key", e))?;
                    builder.with_client_auth_cert(chain, k).map_err(|e| {
                        Error::invalid(key, format!("does not go with {cert} ({e})"))
                    })?
                }
                _ => builder.with_no_client_auth(),
            };
            Ok(Tls(Arc::new(config), with_cert))
        }

        /// The handshake over `tcp`, to the member at `addr` (its certificate must name that
        /// address); a refused certificate is an error here, not at the first read.
        pub fn connect(&self, mut tcp: TcpStream, addr: SocketAddr) -> io::Result<Stream> {
            let mut conn = ClientConnection::new(self.0.clone(), ServerName::from(addr.ip()))
                .map_err(io::Error::other)?;
            while conn.is_handshaking() {
                conn.complete_io(&mut tcp)
                    .map_err(|e| explained(e, self.1))?;
            }
            Ok(Stream {
                s: Box::new(StreamOwned::new(conn, tcp)),
                with_cert: self.1,
            })
        }
    }
}

#[cfg(not(feature = "tls"))]
mod imp {
    use super::Files;
    use crate::{Error, Result};
    use std::io;
    use std::net::{SocketAddr, TcpStream};

    /// No TLS in this build: never made.
    #[derive(Clone)]
    pub enum Tls {}

    /// No TLS stream in this build.
    pub enum Stream {}

    impl Tls {
        pub fn load(_: &Files) -> Result<Tls> {
            Err(Error::invalid(
                "TLS",
                "this netplumb was built without TLS support (cargo feature tls)",
            ))
        }

        pub fn connect(&self, _: TcpStream, _: SocketAddr) -> io::Result<Stream> {
            match *self {}
        }
    }

    impl io::Read for Stream {
        fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
            match *self {}
        }
    }

    impl io::Write for Stream {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            match *self {}
        }
        fn flush(&mut self) -> io::Result<()> {
            match *self {}
        }
    }
}

pub use imp::{Stream, Tls};

/// A connection to a member: plain TCP, or TLS over it.
pub enum Conn {
    Plain(TcpStream),
    Tls(Stream),
}

impl Conn {
    /// `tcp` as is, or after a TLS handshake with the member at `addr`.
    pub fn over(tcp: TcpStream, tls: Option<&Tls>, addr: SocketAddr) -> io::Result<Conn> {
        match tls {
            None => Ok(Conn::Plain(tcp)),
            Some(t) => t.connect(tcp, addr).map(Conn::Tls),
        }
    }
}

impl io::Read for Conn {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Conn::Plain(s) => s.read(buf),
            Conn::Tls(s) => s.read(buf),
        }
    }
}

impl io::Write for Conn {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Conn::Plain(s) => s.write(buf),
            Conn::Tls(s) => s.write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self {
            Conn::Plain(s) => s.flush(),
            Conn::Tls(s) => s.flush(),
        }
    }
}

/// Whether the endpoints' scheme and the files agree: `https://` needs `--cacert`, files
/// with `http://` would be ignored silently by a lesser client (refused here), and an endpoint
/// without a scheme takes TLS when files are given, as etcdctl does.
pub fn choose(https: Option<bool>, files: &Files) -> Result<Option<Tls>> {
    match (https, files.any()) {
        (Some(false), true) => Err(Error::invalid(
            "--etcd",
            "http:// is plain TCP, but --cacert/--cert/--key were given: use https://",
        )),
        (Some(true), _) | (None, true) => Tls::load(files).map(Some),
        (_, false) => Ok(None),
    }
}
