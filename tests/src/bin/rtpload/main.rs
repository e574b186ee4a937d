//! `rtpload`: N concurrent G.711 calls through an RTP relay, measured at the receivers.
//!
//! Not a test: a load driver that prints figures (see `sipp-scenarios/bench/rtp.sh`). Each
//! call is two streams, caller to callee and back, at 50 packets/s with 160-byte PCMU
//! payloads, correct RTP sequence numbers and timestamps. Calls are set up through the relay
//! under test:
//! - `switch`: SIP over UDP: our caller INVITEs the switch's user (whose contact is our
//!   callee), so the switch anchors both legs and relays between its two ports;
//! - `rtpengine`: the ng control protocol (offer / answer / delete) on loopback;
//! - `direct`: no relay at all, caller straight to callee: the driver's own floor.
//!
//! Each step raises the number of calls (calls already up stay up), lets them run a warm-up,
//! then measures a window: packets lost, reordered, the delay the relay adds (a packet's
//! one-way delay, from its send time written in its payload to the kernel's receive time
//! stamp, less the least delay seen on its stream) at p50/p99/max, packets later than one
//! frame (20 ms), and the relay's CPU (`/proc/PID/task/*/schedstat`) and RSS. The steps stop
//! at the first with a lost packet or a p99 added delay above the limit.
//!
//! Streams share a few sockets per side (as calls from an SBC would): a packet names its
//! stream in its payload, so one `sendmmsg`/`recvmmsg` carries many streams.

mod calls;
mod load;
mod mmsg;
mod ng;
mod procstat;

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use clap::{Parser, ValueEnum};

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
enum Mode {
    /// Calls through the switch's B2BUA (SIP over UDP to `--sip`).
    Switch,
    /// Calls through rtpengine, set up over its ng protocol at `--ng`.
    Rtpengine,
    /// No relay: each stream goes straight to the other side's socket.
    Direct,
    /// Callers into a queue of the switch (`--user` is its DN) with no agent: each hears
    /// the switch's music and announcements, measured against their RTP timestamps.
    Queue,
}

#[derive(Parser, Debug)]
#[command(about = "Concurrent G.711 calls through an RTP relay, measured at the receivers")]
struct Args {
    #[arg(long, value_enum)]
    mode: Mode,
    /// Number of concurrent calls at each step, rising (comma separated).
    #[arg(long, value_delimiter = ',', required_unless_present = "churn_rate")]
    calls: Vec<usize>,
    /// The switch's SIP address (mode switch).
    #[arg(long, default_value = "127.0.0.1:5070")]
    sip: SocketAddr,
    /// The user the caller dials (mode switch); its contact must be `--uas`.
    #[arg(long, default_value = "2000")]
    user: String,
    /// Where our callee listens for the switch's INVITEs (mode switch).
    #[arg(long, default_value = "127.0.0.1:5085")]
    uas: SocketAddr,
    /// rtpengine's ng control address (mode rtpengine).
    #[arg(long, default_value = "127.0.0.1:2223")]
    ng: SocketAddr,
    /// The relay's process, for its CPU and RSS.
    #[arg(long)]
    pid: Option<u32>,
    /// Seconds of media before each measured window.
    #[arg(long, default_value_t = 3)]
    warmup: u64,
    /// Seconds measured at each step.
    #[arg(long, default_value_t = 10)]
    secs: u64,
    /// Sockets per side that the streams share.
    #[arg(long, default_value_t = 8)]
    sockets: usize,
    /// Soak instead of steps: start this many calls per second (mode switch), each held
    /// `--hold` seconds, for `--minutes`, printing a line each minute.
    #[arg(long)]
    churn_rate: Option<f64>,
    #[arg(long, default_value_t = 180)]
    hold: u64,
    #[arg(long, default_value_t = 30)]
    minutes: u64,
    /// Seconds in a soak's "minute" (shorter for a quick try of the script).
    #[arg(long, default_value_t = 60)]
    minute_secs: u64,
    /// Calls set up per second.
    #[arg(long, default_value_t = 200)]
    setup_rate: u32,
    /// A step fails when its p99 added delay exceeds this many milliseconds.
    #[arg(long, default_value_t = 5.0)]
    max_p99_ms: f64,
}

fn main() -> Result<()> {
    let args = Args::parse();
    if args.calls.windows(2).any(|w| w[1] <= w[0]) {
        bail!("--calls must rise: {:?}", args.calls);
    }
    if args.sockets == 0 {
        bail!("--sockets must be at least 1");
    }
    let media = load::Media::start(args.sockets, args.mode == Mode::Queue)
        .context("binding the driver's sockets")?;
    let mut setup = match args.mode {
        Mode::Switch | Mode::Queue => calls::Setup::switch(args.sip, &args.user, args.uas)?,
        Mode::Rtpengine => calls::Setup::rtpengine(args.ng)?,
        Mode::Direct => calls::Setup::direct(),
    };
    let mode = format!("{:?}", args.mode).to_lowercase();
    if let Some(rate) = args.churn_rate {
        return soak(args, media, setup, rate);
    }
    eprintln!(
        "rtpload {mode}: steps {:?}, {} s warm-up + {} s measured per step, {} sockets per side",
        args.calls, args.warmup, args.secs, args.sockets
    );
    let mut up = 0;
    for &target in &args.calls {
        let added = setup
            .raise(&media, up, target, args.setup_rate)
            .with_context(|| format!("setting up calls {up}..{target}"))?;
        up += added;
        if up < target {
            eprintln!("only {up} of {target} calls could be set up; stopping");
            break;
        }
        std::thread::sleep(Duration::from_secs(args.warmup));
        let step = media.measure(Duration::from_secs(args.secs), args.pid);
        println!("{}", step.line(&mode, up));
        let failed = match args.mode {
            // Callers waiting in a queue: the switch's own frames must all come, none late.
            Mode::Queue => step.lost > 0 || step.late > 0,
            _ => step.lost > 0 || step.p99_us as f64 > args.max_p99_ms * 1000.0,
        };
        if failed {
            eprintln!(
                "step with {up} calls failed (lost, late, or p99 above {} ms); stopping",
                args.max_p99_ms
            );
            break;
        }
    }
    media.stop();
    setup.tear_down(args.setup_rate);
    Ok(())
}

/// The soak: churn in a thread, a measured window per minute here.
fn soak(args: Args, media: load::Media, mut setup: calls::Setup, rate: f64) -> Result<()> {
    let media = std::sync::Arc::new(media);
    let counters = std::sync::Arc::new(calls::Counters::default());
    let hold = Duration::from_secs(args.hold);
    let churn = {
        let (media, counters) = (media.clone(), counters.clone());
        std::thread::Builder::new()
            .name("rtpload-churn".into())
            .spawn(move || {
                let result = setup.churn(&media, rate, hold, &counters);
                (setup, result)
            })?
    };
    eprintln!(
        "rtpload soak: {rate} calls/s held {} s for {} min; a line per minute",
        args.hold, args.minutes
    );
    use std::sync::atomic::Ordering::Relaxed;
    for minute in 1..=args.minutes {
        let step = media.measure(Duration::from_secs(args.minute_secs), args.pid);
        let fds = args
            .pid
            .and_then(procstat::fd_count)
            .map_or("-".into(), |n| n.to_string());
        println!(
            "MINUTE {minute} up={} started={} answered={} failed={} ended={} bye_failed={} {} relay_fds={fds}",
            counters.up.load(Relaxed),
            counters.started.load(Relaxed),
            counters.answered.load(Relaxed),
            counters.failed.load(Relaxed),
            counters.ended.load(Relaxed),
            counters.bye_failed.load(Relaxed),
            step.line("soak", counters.up.load(Relaxed) as usize),
        );
    }
    counters.stop.store(true, Relaxed);
    let (_setup, result) = churn
        .join()
        .map_err(|_| anyhow::anyhow!("the churn thread panicked"))?;
    result?;
    media.stop();
    let fds = args
        .pid
        .and_then(procstat::fd_count)
        .map_or("-".into(), |n| n.to_string());
    println!(
        "END started={} answered={} failed={} ended={} bye_failed={} relay_fds={fds}",
        counters.started.load(Relaxed),
        counters.answered.load(Relaxed),
        counters.failed.load(Relaxed),
        counters.ended.load(Relaxed),
        counters.bye_failed.load(Relaxed),
    );
    Ok(())
}
