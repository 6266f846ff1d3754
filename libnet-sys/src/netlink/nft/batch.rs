//! nf_tables transactions: the messages of one change framed by `NFNL_MSG_BATCH_BEGIN` and
//! `NFNL_MSG_BATCH_END` in one datagram, committed by the kernel whole or not at all.

use super::{batch_marker, NFNL_MSG_BATCH_BEGIN, NFNL_MSG_BATCH_END};
use crate::error::{Error, Result};
use crate::netlink::socket::Answers;
use crate::netlink::{Msg, NlSocket, NLM_F_ACK};
use crate::trace::Access;

impl NlSocket {
    /// Sends `msgs` as one nf_tables transaction in one datagram: `NFNL_MSG_BATCH_BEGIN`
    /// (carrying `genid` when given: the kernel refuses the batch with `ERESTART` if anyone
    /// committed since), the messages, and `NFNL_MSG_BATCH_END` with `NLM_F_ACK`. The kernel
    /// runs the whole batch inside sendmsg, so every reply is queued when it returns: the END
    /// ack means committed, an error names the message (by seq) that failed and nothing was
    /// committed. Neither (the replies were lost: `ENOBUFS`) is returned as `ENOBUFS`, for the
    /// caller to settle by reading the state back.
    pub fn batch(&mut self, msgs: Vec<(Msg, String)>, genid: Option<u32>) -> Result<()> {
        let mut all = vec![(batch_marker(NFNL_MSG_BATCH_BEGIN, 0, genid), String::new())];
        all.extend(msgs);
        all.push((
            batch_marker(NFNL_MSG_BATCH_END, NLM_F_ACK, None),
            String::new(),
        ));
        let Some(answers) = self.send_all(all)? else {
            return Ok(());
        };
        match answers {
            Answers { error: Some(e), .. } => Err(e),
            Answers {
                last_acked: true, ..
            } => {
                self.trace
                    .outcome(Access::Write, Ok(format_args!("ACK: committed")));
                Ok(())
            }
            _ => {
                self.trace.outcome(Access::Write, Err(libc::ENOBUFS));
                Err(Error::errno("NFNL_MSG_BATCH_END", "", libc::ENOBUFS))
            }
        }
    }
}
