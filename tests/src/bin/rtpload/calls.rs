//! Setting calls up through the relay under test, and tearing them down.
//!
//! - switch: a plain SIP caller and callee over UDP (one socket each, driven in turn from
//!   this thread): INVITE with an SDP offer naming the caller's socket; the switch INVITEs
//!   our callee with an offer naming its callee-side port; the callee answers naming its
//!   socket; the 200 to the caller names the switch's caller-side port. Each end streams to
//!   the port it was told.
//! - rtpengine: offer / answer over ng with the same SDPs, then the same streams.
//! - direct: each end streams straight to the other's socket.

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, UdpSocket};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use sip::{Message, Response};

use crate::load::{End, Media};
use crate::ng::Ng;

mod churn;
pub use churn::Counters;

/// How long the last call of a step may take to be answered.
const ANSWER_WITHIN: Duration = Duration::from_secs(10);
/// RFC 3261 Timer A's start, on loopback.
const RETRANSMIT: Duration = Duration::from_millis(500);

pub enum Setup {
    Switch(Sip),
    Rtpengine {
        ng: Ng,
        calls: Vec<(String, String)>,
    },
    Direct,
}

impl Setup {
    pub fn switch(server: SocketAddr, user: &str, uas: SocketAddr) -> Result<Setup> {
        let uac = UdpSocket::bind("127.0.0.1:0")?;
        let callee =
            UdpSocket::bind(uas).with_context(|| format!("binding the callee on {uas}"))?;
        for s in [&uac, &callee] {
            s.set_read_timeout(Some(Duration::from_millis(1)))?;
        }
        Ok(Setup::Switch(Sip {
            uac,
            uas: callee,
            server,
            user: user.to_string(),
            dialogs: Vec::new(),
            pending: HashMap::new(),
            callee_legs: HashMap::new(),
            run: rand::random::<u32>(),
        }))
    }

    pub fn rtpengine(ng: SocketAddr) -> Result<Setup> {
        Ok(Setup::Rtpengine {
            ng: Ng::new(ng)?,
            calls: Vec::new(),
        })
    }

    pub fn direct() -> Setup {
        Setup::Direct
    }

    /// Sets up calls `from..to` at `rate` per second; returns how many came up.
    pub fn raise(&mut self, media: &Media, from: usize, to: usize, rate: u32) -> Result<usize> {
        let gap = Duration::from_secs_f64(1.0 / f64::from(rate.max(1)));
        match self {
            Setup::Direct => {
                for call in from..to {
                    media.add_stream(End::Caller, call, local(media.port(End::Callee, call)));
                    media.add_stream(End::Callee, call, local(media.port(End::Caller, call)));
                }
                Ok(to - from)
            }
            Setup::Rtpengine { ng, calls } => {
                let mut next = Instant::now();
                for call in from..to {
                    let (call_id, from_tag, to_tag) = (
                        format!("rtpload-{call}-{}", rand::random::<u32>()),
                        format!("f{call}"),
                        format!("t{call}"),
                    );
                    let to_callee =
                        ng.offer(&call_id, &from_tag, &sdp(media.port(End::Caller, call)))?;
                    let to_caller = ng.answer(
                        &call_id,
                        &from_tag,
                        &to_tag,
                        &sdp(media.port(End::Callee, call)),
                    )?;
                    media.add_stream(End::Caller, call, media_address(&to_caller)?);
                    media.add_stream(End::Callee, call, media_address(&to_callee)?);
                    calls.push((call_id, from_tag));
                    next += gap;
                    if let Some(wait) = next.checked_duration_since(Instant::now()) {
                        std::thread::sleep(wait);
                    }
                }
                Ok(to - from)
            }
            Setup::Switch(sip) => sip.raise(media, from, to, gap),
        }
    }

    /// The soak's churn (switch only): see [`Sip::churn`].
    pub fn churn(
        &mut self,
        media: &Media,
        rate: f64,
        hold: Duration,
        counters: &std::sync::Arc<Counters>,
    ) -> Result<()> {
        match self {
            Setup::Switch(sip) => {
                sip.churn(media, rate, hold, counters);
                Ok(())
            }
            _ => bail!("churn needs --mode switch"),
        }
    }

    /// Ends every call, at `rate` per second.
    pub fn tear_down(&mut self, rate: u32) {
        let gap = Duration::from_secs_f64(1.0 / f64::from(rate.max(1)));
        match self {
            Setup::Direct => {}
            Setup::Rtpengine { ng, calls } => {
                for (call_id, from_tag) in calls.drain(..) {
                    if let Err(e) = ng.delete(&call_id, &from_tag) {
                        eprintln!("delete {call_id}: {e}");
                    }
                }
            }
            Setup::Switch(sip) => sip.tear_down(gap),
        }
    }
}

fn local(port: u16) -> SocketAddrV4 {
    SocketAddrV4::new(Ipv4Addr::LOCALHOST, port)
}

fn sdp(port: u16) -> String {
    let id = rand::random::<u32>();
    format!(
        "v=0\r\no=rtpload {id} 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
         m=audio {port} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=ptime:20\r\na=sendrecv\r\n"
    )
}

/// The address an SDP asks media to be sent to (its c= and first m=audio port).
fn media_address(sdp: &str) -> Result<SocketAddrV4> {
    let mut ip = None;
    let mut port = None;
    for line in sdp.lines() {
        if let Some(c) = line.strip_prefix("c=IN IP4 ") {
            ip.get_or_insert(c.trim().parse::<Ipv4Addr>()?);
        } else if let Some(m) = line.strip_prefix("m=audio ") {
            port.get_or_insert(m.split_whitespace().next().unwrap_or("").parse::<u16>()?);
        }
    }
    match (ip, port) {
        (Some(ip), Some(port)) => Ok(SocketAddrV4::new(ip, port)),
        _ => bail!("no audio address in the SDP: {sdp:?}"),
    }
}

/// One established call from our caller's side, for its BYE.
struct Dialog {
    call_id: String,
    from: String,
    to: String,
    target: String,
}

pub struct Sip {
    uac: UdpSocket,
    uas: UdpSocket,
    server: SocketAddr,
    user: String,
    dialogs: Vec<Dialog>,
    /// INVITEs awaiting their final answer: Call-ID → (call number, INVITE, last sent).
    pending: HashMap<String, (usize, Vec<u8>, Instant)>,
    /// The switch's legs to our callee: Call-ID → our 200 (re-sent on a retransmitted INVITE).
    callee_legs: HashMap<String, Vec<u8>>,
    run: u32,
}

impl Sip {
    fn local(&self, socket: &UdpSocket) -> String {
        socket
            .local_addr()
            .map_or_else(|_| "127.0.0.1:0".into(), |a| a.to_string())
    }

    fn invite(&self, call: usize, port: u16) -> (String, Vec<u8>) {
        let call_id = format!("rtpload-{}-{call}", self.run);
        let local = self.local(&self.uac);
        let body = sdp(port);
        let text = format!(
            "INVITE sip:{user}@{server} SIP/2.0\r\nVia: SIP/2.0/UDP {local};branch=z9hG4bK{call_id}\r\n\
             Max-Forwards: 70\r\nFrom: <sip:load-{call}@127.0.0.1>;tag=f{call}\r\nTo: <sip:{user}@{server}>\r\n\
             Call-ID: {call_id}\r\nCSeq: 1 INVITE\r\nContact: <sip:load@{local}>\r\n\
             Content-Type: application/sdp\r\nContent-Length: {len}\r\n\r\n{body}",
            user = self.user,
            server = self.server,
            len = body.len(),
        );
        (call_id, text.into_bytes())
    }

    /// The dialog a 2xx to our INVITE set up.
    fn dialog_of(&self, response: &Response, call_id: String) -> Dialog {
        let to = response.headers.get("To").unwrap_or_default().to_string();
        let from = response.headers.get("From").unwrap_or_default().to_string();
        let target = response
            .headers
            .contacts()
            .ok()
            .and_then(|c| c.into_iter().next())
            .map_or_else(
                || format!("sip:{}@{}", self.user, self.server),
                |c| c.uri.to_string(),
            );
        Dialog {
            call_id,
            from,
            to,
            target,
        }
    }

    fn bye(&self, d: &Dialog, cseq: u32) -> Vec<u8> {
        format!(
            "BYE {target} SIP/2.0\r\nVia: SIP/2.0/UDP {local};branch=z9hG4bKbye{call_id}\r\n\
             Max-Forwards: 70\r\nFrom: {from}\r\nTo: {to}\r\nCall-ID: {call_id}\r\nCSeq: {cseq} BYE\r\n\
             Content-Length: 0\r\n\r\n",
            local = self.local(&self.uac),
            target = d.target,
            call_id = d.call_id,
            from = d.from,
            to = d.to,
        )
        .into_bytes()
    }

    fn raise(&mut self, media: &Media, from: usize, to: usize, gap: Duration) -> Result<usize> {
        let mut next_call = from;
        let mut next_at = Instant::now();
        let mut answered = 0;
        let mut failed = 0;
        let mut last_sent = Instant::now();
        while answered + failed < to - from {
            let now = Instant::now();
            if next_call < to && now >= next_at {
                let (call_id, invite) = self.invite(next_call, media.port(End::Caller, next_call));
                self.uac.send_to(&invite, self.server)?;
                self.pending.insert(call_id, (next_call, invite, now));
                next_call += 1;
                next_at += gap;
                last_sent = now;
            }
            if next_call == to && now.duration_since(last_sent) > ANSWER_WITHIN {
                eprintln!(
                    "{} calls not answered within {ANSWER_WITHIN:?}",
                    self.pending.len()
                );
                break;
            }
            for (_, (_, invite, sent)) in self.pending.iter_mut() {
                if now.duration_since(*sent) > RETRANSMIT {
                    self.uac.send_to(invite, self.server)?;
                    *sent = now;
                }
            }
            match self.poll_caller(media)? {
                Some(true) => answered += 1,
                Some(false) => failed += 1,
                None => {}
            }
            self.poll_callee(media)?;
        }
        if failed > 0 {
            eprintln!("{failed} calls refused");
        }
        Ok(answered)
    }

    /// One datagram at the caller, if any: Some(true) when a call was answered, Some(false)
    /// when one was refused.
    fn poll_caller(&mut self, media: &Media) -> Result<Option<bool>> {
        let mut buf = [0u8; 65535];
        let Ok((n, _)) = self.uac.recv_from(&mut buf) else {
            return Ok(None);
        };
        let Ok(Message::Response(response)) = sip::parse_datagram(&buf[..n]) else {
            return Ok(None);
        };
        let Some(call_id) = response.headers.call_id().map(str::to_string) else {
            return Ok(None);
        };
        let is_invite = response
            .headers
            .cseq()
            .is_ok_and(|c| c.method == sip::Method::Invite);
        if !is_invite || response.code < 200 {
            return Ok(None);
        }
        let Some((call, _, _)) = self.pending.remove(&call_id) else {
            // A retransmitted 200 whose ACK was lost: ACK it again.
            if response.code < 300 {
                self.ack(&response)?;
            }
            return Ok(None);
        };
        self.ack(&response)?;
        if response.code >= 300 {
            eprintln!("call {call}: {} {}", response.code, response.reason);
            return Ok(Some(false));
        }
        let body = String::from_utf8_lossy(&response.body);
        media.add_stream(End::Caller, call, media_address(&body)?);
        let dialog = self.dialog_of(&response, call_id);
        self.dialogs.push(dialog);
        Ok(Some(true))
    }

    /// ACK for a final answer: in the INVITE's transaction for a refusal, a new one for a 2xx.
    fn ack(&self, response: &Response) -> Result<()> {
        let h = &response.headers;
        let call_id = h.call_id().unwrap_or_default();
        let local = self.local(&self.uac);
        let (uri, branch) = if response.code >= 300 {
            (
                format!("sip:{}@{}", self.user, self.server),
                format!("z9hG4bK{call_id}"),
            )
        } else {
            let target = h
                .contacts()
                .ok()
                .and_then(|c| c.into_iter().next())
                .map(|c| c.uri.to_string());
            (
                target.unwrap_or_else(|| format!("sip:{}@{}", self.user, self.server)),
                format!("z9hG4bKack{call_id}"),
            )
        };
        let text = format!(
            "ACK {uri} SIP/2.0\r\nVia: SIP/2.0/UDP {local};branch={branch}\r\nMax-Forwards: 70\r\n\
             From: {from}\r\nTo: {to}\r\nCall-ID: {call_id}\r\nCSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n",
            from = h.get("From").unwrap_or_default(),
            to = h.get("To").unwrap_or_default(),
        );
        self.uac.send_to(text.as_bytes(), self.server)?;
        Ok(())
    }

    /// One datagram at the callee, if any: answer INVITEs (and start their streams) and BYEs.
    fn poll_callee(&mut self, media: &Media) -> Result<()> {
        let mut buf = [0u8; 65535];
        let Ok((n, from)) = self.uas.recv_from(&mut buf) else {
            return Ok(());
        };
        let Ok(Message::Request(request)) = sip::parse_datagram(&buf[..n]) else {
            return Ok(());
        };
        match request.method {
            sip::Method::Invite => {
                let call_id = request.headers.call_id().unwrap_or_default().to_string();
                if let Some(ok) = self.callee_legs.get(&call_id) {
                    self.uas.send_to(ok, from)?;
                    return Ok(());
                }
                let leg = self.callee_legs.len();
                let body = String::from_utf8_lossy(&request.body);
                let relay = media_address(&body).map_err(|e| anyhow!("the switch's offer: {e}"))?;
                let mut ok = request.response(200, None, Some(&format!("c{leg}")));
                ok.headers
                    .push("Contact", format!("<sip:callee@{}>", self.local(&self.uas)));
                ok.headers.push("Content-Type", "application/sdp");
                ok.body = sdp(media.port(End::Callee, leg)).into_bytes();
                let bytes = ok.to_bytes();
                self.uas.send_to(&bytes, from)?;
                self.callee_legs.insert(call_id, bytes);
                media.add_stream(End::Callee, leg, relay);
            }
            sip::Method::Ack => {}
            _ => {
                let ok = request.response(200, None, None);
                self.uas.send_to(&ok.to_bytes(), from)?;
            }
        }
        Ok(())
    }

    fn tear_down(&mut self, gap: Duration) {
        let dialogs = std::mem::take(&mut self.dialogs);
        let byes: HashMap<String, Vec<u8>> = dialogs
            .iter()
            .map(|d| (d.call_id.clone(), self.bye(d, 2)))
            .collect();
        let mut waiting: HashMap<String, ()> = byes.keys().map(|k| (k.clone(), ())).collect();
        // Paced like the set-up, then the unanswered ones once more (Timer E, roughly).
        for _round in 0..2 {
            let ids: Vec<String> = waiting.keys().cloned().collect();
            for id in ids {
                let _ = self.uac.send_to(&byes[&id], self.server);
                self.drain_tear_down(&mut waiting, gap);
            }
            self.drain_tear_down(&mut waiting, Duration::from_secs(3));
            if waiting.is_empty() {
                break;
            }
        }
        if !waiting.is_empty() {
            eprintln!("{} BYEs unanswered", waiting.len());
        }
    }

    fn drain_tear_down(&mut self, waiting: &mut HashMap<String, ()>, for_at_least: Duration) {
        let until = Instant::now() + for_at_least;
        let mut buf = [0u8; 65535];
        loop {
            let now = Instant::now();
            if now >= until || (waiting.is_empty() && for_at_least >= Duration::from_secs(1)) {
                break;
            }
            if let Ok((n, _)) = self.uac.recv_from(&mut buf) {
                if let Ok(Message::Response(r)) = sip::parse_datagram(&buf[..n]) {
                    if r.headers.cseq().is_ok_and(|c| c.method == sip::Method::Bye) {
                        waiting.remove(r.headers.call_id().unwrap_or_default());
                    }
                }
            }
            if let Ok((n, from)) = self.uas.recv_from(&mut buf) {
                if let Ok(Message::Request(req)) = sip::parse_datagram(&buf[..n]) {
                    if req.method != sip::Method::Ack {
                        let _ = self
                            .uas
                            .send_to(&req.response(200, None, None).to_bytes(), from);
                    }
                }
            }
        }
    }
}
