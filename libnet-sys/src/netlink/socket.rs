//! A netlink socket: one request at a time, its replies checked by sequence number and port
//! id, acks and errors decoded with the kernel's extended-ack text, dumps read to the end.
//!
//! Wire picture of a request and its ack:
//!
//! ```text
//!   -> nlmsghdr{len, type, flags=REQUEST|ACK|..., seq=N, pid=0} family-header attributes...
//!   <- nlmsghdr{type=NLMSG_ERROR, flags=CAPPED|ACK_TLVS, seq=N, pid=us}
//!        i32 error (0 = ack, -errno) + the request's nlmsghdr + TLVs {NLMSGERR_ATTR_MSG, ..._OFFS}
//! ```

use super::ack::parse_error;
use super::attr::{messages, MsgRef};
use super::decode::describe;
use super::msg::Msg;
use super::*;
use crate::error::{strerror, Cause, Error, Result};
use crate::trace::{Access, Trace};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};

/// What the kernel answered to a datagram of several messages ([`NlSocket::send_all`]).
pub struct Answers {
    /// Whether the last message was acked.
    pub last_acked: bool,
    /// The first refusal, naming its message.
    pub error: Option<Error>,
}

pub struct NlSocket {
    fd: OwnedFd,
    protocol: &'static Protocol,
    /// Our port id, as the kernel assigned it at bind time.
    pid: u32,
    seq: u32,
    buf: Vec<u8>,
    pub trace: Trace,
}

/// The descriptor, for a caller that polls it or checks what is queued on it.
impl AsRawFd for NlSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

/// How many times a dump is restarted when the kernel flags it inconsistent (`NLM_F_DUMP_INTR`).
const DUMP_RETRIES: usize = 5;

impl NlSocket {
    /// Opens and binds a netlink socket of `protocol` ([`super::rtnl::ROUTE`],
    /// [`super::nfnetlink::NETFILTER`]), with extended acks and strict request checking on.
    pub fn open(protocol: &'static Protocol, trace: Trace) -> Result<NlSocket> {
        use rustix::net::{netlink, AddressFamily, SocketFlags, SocketType};
        let fd = rustix::net::socket_with(
            AddressFamily::NETLINK,
            SocketType::RAW,
            SocketFlags::CLOEXEC,
            // NETLINK_ROUTE is protocol 0, which rustix spells None.
            std::num::NonZeroU32::new(protocol.number as u32).map(rustix::net::Protocol::from_raw),
        )
        .map_err(|e| Error::os("socket(AF_NETLINK)", "", e))?;
        for opt in [NETLINK_EXT_ACK, NETLINK_GET_STRICT_CHK] {
            let one: libc::c_int = 1;
            // SAFETY: setsockopt reads 4 bytes from a live c_int. rustix has no call for these
            // netlink options; older kernels lack them and the requests still work without.
            unsafe {
                libc::setsockopt(
                    fd.as_raw_fd(),
                    SOL_NETLINK,
                    opt,
                    (&one as *const libc::c_int).cast(),
                    4,
                )
            };
        }
        rustix::net::bind(&fd, &netlink::SocketAddrNetlink::new(0, 0))
            .map_err(|e| Error::os("bind(AF_NETLINK)", "", e))?;
        let pid = rustix::net::getsockname(&fd)
            .and_then(netlink::SocketAddrNetlink::try_from)
            .map_err(|e| Error::os("getsockname(AF_NETLINK)", "", e))?
            .pid();
        Ok(NlSocket {
            fd,
            protocol,
            pid,
            seq: 0,
            buf: vec![0; 32 * 1024],
            trace,
        })
    }

    /// The socket protocol's number (`NETLINK_ROUTE`, `NETLINK_NETFILTER`).
    pub fn protocol(&self) -> i32 {
        self.protocol.number
    }

    fn send(&mut self, msg: Msg, access: Access) -> Result<Option<u32>> {
        msg.check()?;
        let step = self.protocol.msg_type_name(msg.msg_type());
        self.seq = self.seq.wrapping_add(1);
        let seq = self.seq;
        let bytes = msg.finish(seq, 0);
        self.show_request(access, &bytes);
        if !self.trace.sends(access) {
            self.trace.outcome(access, Ok(format_args!("")));
            return Ok(None);
        }
        self.sendto(&bytes, access, step)?;
        Ok(Some(seq))
    }

    /// A message as `--explain` shows it: its header line, then its decoded body.
    fn show_request(&self, access: Access, bytes: &[u8]) {
        if self.trace.shows(access) {
            self.trace.request(
                access,
                format_args!("netlink {}", describe_header(self.protocol, bytes)),
            );
            self.trace.detail(access, &describe(self.protocol, bytes));
        }
    }

    /// One datagram to the kernel; a refusal is shown as the outcome of the request.
    fn sendto(&self, bytes: &[u8], access: Access, step: &'static str) -> Result<()> {
        let to = rustix::net::netlink::SocketAddrNetlink::new(0, 0);
        if let Err(e) = rustix::net::sendto(&self.fd, bytes, rustix::net::SendFlags::empty(), &to) {
            self.trace.outcome(access, Err(e.raw_os_error()));
            return Err(Error::os(step, "", e));
        }
        Ok(())
    }

    /// Receives one whole datagram into `self.buf`, growing it first if the datagram is larger
    /// (peeked with `MSG_TRUNC`), so a message is never cut.
    fn recv(&mut self) -> Result<usize> {
        // Without MSG_DONTWAIT the call waits, so there is always a datagram.
        self.recv_with(rustix::net::RecvFlags::empty())
            .map(|n| n.unwrap_or(0))
    }

    /// One datagram, whole: its size peeked first (`MSG_TRUNC`), the buffer grown to fit, then
    /// taken. `None` when `MSG_DONTWAIT` found the queue empty.
    fn recv_with(&mut self, wait: rustix::net::RecvFlags) -> Result<Option<usize>> {
        use rustix::io::Errno;
        use rustix::net::RecvFlags;
        loop {
            let peek = RecvFlags::PEEK | RecvFlags::TRUNC | wait;
            let n = match rustix::net::recv(&self.fd, &mut self.buf[..], peek) {
                Ok((_, n)) => n,
                Err(Errno::INTR) => continue,
                Err(Errno::AGAIN) if wait.contains(RecvFlags::DONTWAIT) => return Ok(None),
                Err(e) => return Err(Error::os("recv(netlink)", "", e)),
            };
            if n > self.buf.len() {
                self.buf.resize(n, 0);
            }
            match rustix::net::recv(&self.fd, &mut self.buf[..], RecvFlags::empty()) {
                Ok((n, _)) => return Ok(Some(n)),
                Err(Errno::INTR) => continue,
                Err(e) => return Err(Error::os("recv(netlink)", "", e)),
            }
        }
    }

    /// Sends a request that changes something and waits for its ack. `object` names what it is
    /// about for the error message.
    pub fn request(&mut self, msg: Msg, object: &str) -> Result<()> {
        self.transact(msg, object, Access::Write, &mut |_| Ok(()))
    }

    /// Sends a request (a get with `NLM_F_ACK`, or a dump with `NLM_F_DUMP`) and hands every
    /// reply message to `each`, until the ack or `NLMSG_DONE`.
    pub fn transact(
        &mut self,
        msg: Msg,
        object: &str,
        access: Access,
        each: &mut dyn FnMut(&MsgRef) -> Result<()>,
    ) -> Result<()> {
        let step = self.protocol.msg_type_name(msg.msg_type());
        // A get without NLM_F_ACK is answered by one message (or an error), with no ack after it.
        let single = msg.flags() & (NLM_F_ACK | NLM_F_DUMP) == 0;
        let Some(seq) = self.send(msg, access)? else {
            return Ok(());
        };
        let mut count = 0usize;
        let mut interrupted = false;
        // One policy for a reply that cannot be taken part-way (a decoder refused a message, a
        // datagram is malformed): remember the first error and keep reading, without handing
        // on, up to this request's NLMSG_DONE or ack, so nothing of it stays queued for the
        // next request on the socket (`-b` mode) to read as its own. Replies to an earlier
        // request are skipped, as `batch` skips them.
        let mut failed: Option<Error> = None;
        loop {
            let n = match self.recv() {
                Ok(n) => n,
                Err(e) => return Err(failed.unwrap_or(e)),
            };
            let buf = std::mem::take(&mut self.buf);
            let mut done = false;
            for m in messages(&buf[..n]) {
                let m = match m {
                    Ok(m) => m,
                    Err(e) => {
                        // The rest of this datagram cannot be framed; later ones still can.
                        failed.get_or_insert(e);
                        break;
                    }
                };
                if m.pid != self.pid || m.seq != seq {
                    continue;
                }
                interrupted |= m.flags & NLM_F_DUMP_INTR != 0;
                match m.ty {
                    NLMSG_ERROR | NLMSG_DONE => {
                        let end = self.finish(&m, step, object, access, count);
                        if let Err(e) = end {
                            failed.get_or_insert(e);
                        }
                        done = true;
                        break;
                    }
                    NLMSG_NOOP => {}
                    _ if failed.is_some() => {}
                    _ => {
                        count += 1;
                        if let Err(e) = each(&m) {
                            failed = Some(e);
                        }
                        if single {
                            if failed.is_none() {
                                self.trace.outcome(access, Ok(format_args!("1 message(s)")));
                            }
                            done = true;
                            break;
                        }
                    }
                }
            }
            self.buf = buf;
            if done {
                return match failed {
                    Some(e) => Err(e),
                    None if interrupted => Err(Error::errno(step, object, libc::EINTR)),
                    None => Ok(()),
                };
            }
        }
    }

    /// Sends `msgs` in one datagram, with consecutive sequence numbers, and reads the answers
    /// the kernel has queued by the time the send returns, without waiting: for a family that
    /// handles a whole datagram inside sendmsg (nf_tables batches), every answer. `None` when
    /// nothing is sent (`--dry-run`). A refusal is shown as the outcome of the request and
    /// named by its message's step and object.
    pub fn send_all(&mut self, msgs: Vec<(Msg, String)>) -> Result<Option<Answers>> {
        let access = Access::Write;
        let first = self.seq.wrapping_add(1);
        let mut wire = Vec::new();
        let mut steps = Vec::with_capacity(msgs.len());
        for (m, _) in &msgs {
            m.check()?;
        }
        for (i, (m, object)) in msgs.into_iter().enumerate() {
            let seq = first.wrapping_add(i as u32);
            steps.push((self.protocol.msg_type_name(m.msg_type()), object));
            let bytes = m.finish(seq, 0);
            self.show_request(access, &bytes);
            wire.extend_from_slice(&bytes);
        }
        self.seq = first.wrapping_add((steps.len() as u32).wrapping_sub(1));
        let last_seq = self.seq;
        if !self.trace.sends(access) {
            self.trace.outcome(access, Ok(format_args!("")));
            return Ok(None);
        }
        if wire.len() > 128 * 1024 {
            // A datagram larger than the send buffer fails with EMSGSIZE; nft forces it up too
            // (CAP_NET_ADMIN, which such a request needs anyway).
            let _ =
                rustix::net::sockopt::set_socket_send_buffer_size_force(&self.fd, wire.len() * 2);
        }
        let step = match self.protocol.number {
            NETLINK_ROUTE => "sendto(NETLINK_ROUTE)",
            _ => "sendto(NETLINK_NETFILTER)",
        };
        self.sendto(&wire, access, step)?;
        let mut answers = Answers {
            last_acked: false,
            error: None,
        };
        loop {
            let n = match self.recv_now() {
                Ok(Some(n)) => n,
                Ok(None) => break,
                Err(e) => {
                    self.trace
                        .outcome(access, Err(e.os_errno().unwrap_or(libc::EIO)));
                    return Err(e);
                }
            };
            for m in messages(&self.buf[..n]) {
                let m = m?;
                let i = m.seq.wrapping_sub(first) as usize;
                if m.pid != self.pid || m.ty != NLMSG_ERROR || i >= steps.len() {
                    continue;
                }
                let (errno, ext_ack, offset) = parse_error(&m)?;
                if errno == 0 {
                    answers.last_acked |= m.seq == last_seq;
                    continue;
                }
                let (step, object) = &steps[i];
                if self.trace.shows(access) {
                    let at = offset
                        .map(|o| format!(" at byte {o} of the message"))
                        .unwrap_or_default();
                    self.trace.outcome(
                        access,
                        Ok(format_args!(
                            "NLMSG_ERROR seq={} ({step}) {} ({}){}{at}",
                            m.seq,
                            crate::error::errno_name(errno),
                            strerror(errno),
                            ext_ack
                                .as_ref()
                                .map(|s| format!(": \"{s}\""))
                                .unwrap_or_default()
                        )),
                    );
                }
                answers.error.get_or_insert(Error {
                    step: (*step).into(),
                    object: object.clone(),
                    cause: Cause::Errno {
                        errno,
                        ext_ack,
                        needs: crate::caps::Cap::NetAdmin,
                    },
                });
            }
        }
        Ok(Some(answers))
    }

    /// One queued datagram without waiting (`None` when the queue is empty).
    fn recv_now(&mut self) -> Result<Option<usize>> {
        self.recv_with(rustix::net::RecvFlags::DONTWAIT)
    }

    /// A dump that the kernel may report as inconsistent (`NLM_F_DUMP_INTR`: the table changed
    /// while it was being read): `fresh` makes new empty state, and the dump starts over.
    pub fn dump<S>(
        &mut self,
        make: impl Fn() -> Msg,
        object: &str,
        fresh: impl Fn() -> S,
        each: impl Fn(&mut S, &MsgRef) -> Result<()>,
    ) -> Result<S> {
        for _ in 0..DUMP_RETRIES {
            let mut state = fresh();
            match self.transact(make(), object, Access::Read, &mut |m| each(&mut state, m)) {
                Err(e) if e.is(libc::EINTR) => continue,
                Err(e) => return Err(e),
                Ok(()) => return Ok(state),
            }
        }
        Err(Error::malformed(
            self.protocol.msg_type_name(make().msg_type()),
            "the dump kept changing while it was read",
        ))
    }

    /// An `NLMSG_ERROR` (ack or error) or `NLMSG_DONE` (end of dump, maybe with an error).
    fn finish(
        &self,
        m: &MsgRef,
        step: &'static str,
        object: &str,
        access: Access,
        count: usize,
    ) -> Result<()> {
        let (errno, ext_ack, offset) = parse_error(m)?;
        if errno == 0 {
            match m.ty {
                NLMSG_DONE => self
                    .trace
                    .outcome(access, Ok(format_args!("{count} message(s), NLMSG_DONE"))),
                _ if count > 0 => self
                    .trace
                    .outcome(access, Ok(format_args!("{count} message(s), ACK"))),
                _ => self.trace.outcome(access, Ok(format_args!("ACK"))),
            }
            return Ok(());
        }
        if self.trace.shows(access) {
            let at = offset
                .map(|o| format!(" at byte {o} of the request"))
                .unwrap_or_default();
            match &ext_ack {
                Some(msg) => self.trace.outcome(
                    access,
                    Ok(format_args!(
                        "NLMSG_ERROR {} ({}): \"{msg}\"{at}",
                        crate::error::errno_name(errno),
                        strerror(errno)
                    )),
                ),
                None => self.trace.outcome(access, Err(errno)),
            }
        }
        Err(Error {
            step: step.into(),
            object: object.to_string(),
            cause: Cause::Errno {
                errno,
                ext_ack,
                needs: crate::caps::Cap::NetAdmin,
            },
        })
    }
}

/// `RTM_NEWLINK flags=REQUEST|ACK|EXCL|CREATE seq=1 len=40`
fn describe_header(protocol: &Protocol, bytes: &[u8]) -> String {
    match messages(bytes).next() {
        Some(Ok(m)) => format!(
            "{} flags={} seq={} len={}",
            protocol.msg_type_name(m.ty),
            protocol.flag_names(m.ty, m.flags),
            m.seq,
            bytes.len()
        ),
        _ => "(malformed)".into(),
    }
}
