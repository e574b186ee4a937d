//! SIP over TLS (RFC 3261 §26) with a real softphone: baresip registers to the switch over
//! TLS with digest (trusting the certificate the switch generated into its data dir; SIPp,
//! on 127.0.0.2, is the only trusted source), a SIPp caller on
//! UDP calls it and hears its tone through the switch; the switch's certificate is
//! replaced and SIGHUP sent mid-call: the call and its TLS connection stay up (the BYE
//! reaches the phone over it), a new handshake sees the new certificate, and a broken
//! file is refused with the new pair kept. Then the TLS phone calls a UDP SIPp callee,
//! who hears it.
//!
//! Needs `baresip` (Debian `baresip-core`), `sipp` (`sip-tester`) and `openssl`: without
//! them the test prints `skipped: ...`, except under CI, where it fails. Debian's SIPp has
//! no TLS, so SIPp stays on UDP.

use anyhow::{bail, ensure, Context, Result};
use e2e::baresip::{self, Baresip, Phone};
use e2e::call::{answered_call, hears, relay};
use e2e::rtp::TonePeer;
use e2e::{free_port, Sipp, Switch, SwitchConfig};
use serde_json::Value;
use std::net::SocketAddr;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The phone's tone, and the SIPp side's.
const PHONE_HZ: f64 = 660.0;
const SIPP_HZ: f64 = 440.0;
/// SIPp's address: trusted, unlike the phone's 127.0.0.1, so the phone needs digest.
const SIPP_IP: &str = "127.0.0.2";

#[derive(Default)]
struct Ctx {
    phone: Option<Baresip>,
    switch: Option<Switch>,
}

#[test]
fn baresip_over_tls_calls_and_is_called_from_udp_and_survives_a_certificate_reload() {
    if !(e2e::require("baresip") && e2e::require("sipp") && e2e::require("openssl")) {
        return;
    }
    let mut ctx = Ctx::default();
    let outcome = catch_unwind(AssertUnwindSafe(|| run(&mut ctx)));
    let failure = match outcome {
        Ok(Ok(())) => None,
        Ok(Err(e)) => Some(format!("{e:#}")),
        Err(p) => Some(
            p.downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "panic".into()),
        ),
    };
    if let Some(msg) = failure {
        if let Some(p) = &ctx.phone {
            eprintln!("===== baresip log =====\n{}", p.log());
        }
        if let Some(s) = &ctx.switch {
            eprintln!("===== switch log =====\n{}", baresip::strip_ansi(&s.log()));
        }
        panic!("{msg}");
    }
}

/// The SHA-256 fingerprint of the certificate a new TLS handshake with `addr` gets.
fn served_fingerprint(addr: SocketAddr) -> Result<String> {
    let out = Command::new("openssl")
        .args(["s_client", "-connect", &addr.to_string(), "-showcerts"])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .context("running openssl s_client")?;
    let text = String::from_utf8_lossy(&out.stdout);
    let start = text
        .find("-----BEGIN CERTIFICATE-----")
        .context("no certificate in the handshake")?;
    let end = text[start..]
        .find("-----END CERTIFICATE-----")
        .context("truncated certificate")?
        + start
        + "-----END CERTIFICATE-----".len();
    fingerprint_of_pem(&text[start..end])
}

fn fingerprint_of_pem(pem: &str) -> Result<String> {
    let mut child = Command::new("openssl")
        .args(["x509", "-noout", "-fingerprint", "-sha256"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .context("running openssl x509")?;
    if let Some(mut stdin) = child.stdin.take() {
        use std::io::Write;
        stdin.write_all(pem.as_bytes())?;
    }
    let out = child.wait_with_output()?;
    ensure!(out.status.success(), "openssl x509 refused the certificate");
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// A new self-signed pair for 127.0.0.1 in `dir` (`new.pem`, `new.key`).
fn new_pair(dir: &Path) -> Result<(String, String)> {
    let (cert, key) = (dir.join("new.pem"), dir.join("new.key"));
    let status = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
        ])
        .args([
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=reloaded test certificate",
        ])
        .args(["-addext", "subjectAltName=IP:127.0.0.1"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .context("running openssl req")?;
    ensure!(status.success(), "openssl req failed");
    Ok((
        std::fs::read_to_string(cert)?,
        std::fs::read_to_string(key)?,
    ))
}

fn hangup_signal(switch: &Switch) -> Result<()> {
    let pid = switch.pid().context("the switch is not running")?;
    // SAFETY: kill(2) with a pid we started and a valid signal number.
    let rc = unsafe { libc::kill(pid as i32, libc::SIGHUP) };
    ensure!(rc == 0, "kill -HUP {pid} failed");
    Ok(())
}

fn run(ctx: &mut Ctx) -> Result<()> {
    let dir = e2e::temp_dir("tls");
    let uas_port = free_port();
    let switch: &Switch = ctx.switch.insert(
        SwitchConfig::new()
            .tls()
            .user("1002", "pass1002")
            .static_user("2000", &format!("sip:2000@{SIPP_IP}:{uas_port}"))
            .trusted(&[&format!("{SIPP_IP}/32")])
            // Idle connections close fast; the phone's, carrying its registration, stays.
            .sip("tcp_idle_timeout_secs", 1)
            // This phone speaks plain RTP over TLS (tls_srtp.rs has the SRTP ones).
            .sip("srtp_offer", false)
            .start(),
    );
    let ca = switch.tls_ca();
    ensure!(ca.is_file(), "no generated certificate at {}", ca.display());
    let first = served_fingerprint(switch.tls_addr())?;
    ensure!(
        first == fingerprint_of_pem(&std::fs::read_to_string(&ca)?)?,
        "the TLS listener does not serve the generated certificate"
    );
    ensure!(
        served_fingerprint(switch.https_addr())? == first,
        "HTTPS serves another certificate"
    );

    let tone = dir.join("tone.wav");
    baresip::write_tone_wav(&tone, 60, PHONE_HZ)?;
    let phone = Phone {
        name: "tls".into(),
        user: "1002".into(),
        password: "pass1002".into(),
        registrar: switch.tls_addr(),
        auto_answer: true,
        audio_source: tone,
        dir: dir.join("phone"),
        max_secs: 90,
        contacts: Vec::new(),
        outbound_proxy: None,
        tls_ca: Some(ca.clone()),
        mediaenc: None,
    };
    let b = ctx.phone.insert(Baresip::start(&phone)?);
    let over_tls = |s: &Switch| {
        s.registrations()
            .iter()
            .any(|r| r["user"] == "1002" && r["transport"] == "TLS")
    };
    if !switch.wait_until(Duration::from_secs(10), || over_tls(switch)) {
        bail!(
            "baresip not registered over TLS; /api/registrations: {:?}",
            switch.registrations()
        );
    }
    // Quiet for longer than the idle timeout: the registered connection is kept open.
    std::thread::sleep(Duration::from_secs(3));
    let tls_conns = "switch_listener_connections{listener=\"sip-tls\"}";
    ensure!(
        switch.metric(tls_conns) == 1.0,
        "the phone's TLS connection was closed while registered"
    );

    // A UDP caller (SIPp) calls the TLS phone; each hears the other's tone.
    let caller = TonePeer::new(SIPP_HZ);
    let caller_sipp = Sipp::caller_to("uac_media", switch)
        .service("1002")
        .key("rtp_port", &caller.port().to_string())
        .arg("-i")
        .arg(SIPP_IP)
        // Long enough for the reload below; then SIPp hangs up by itself.
        .pause_ms(8_000)
        .spawn();
    let mut call = Value::Null;
    if !switch.wait_until(Duration::from_secs(10), || {
        answered_call(switch).map(|c| call = c).is_some()
    }) {
        bail!(
            "the UDP call to the TLS phone was not answered: {:?}",
            switch.calls()
        );
    }
    b.wait_event("CALL_ESTABLISHED", Duration::from_secs(5))?;
    caller.send_to(relay(&call, 0));
    let share = hears(&caller, PHONE_HZ);
    ensure!(
        share > 0.5,
        "the UDP caller hears the TLS phone's tone at {share:.2}"
    );

    // A new certificate in the files the switch uses, then SIGHUP, mid-call.
    let (cert_pem, key_pem) = new_pair(&dir)?;
    let tls_dir = ca.parent().context("certificate directory")?;
    std::fs::write(tls_dir.join("key.pem"), &key_pem)?;
    std::fs::write(tls_dir.join("cert.pem"), &cert_pem)?;
    hangup_signal(switch)?;
    switch.wait_for("the reload logged", Duration::from_secs(5), || {
        switch.log().contains("TLS certificate reloaded")
    });
    let second = fingerprint_of_pem(&cert_pem)?;
    ensure!(second != first);
    ensure!(
        served_fingerprint(switch.tls_addr())? == second,
        "a new SIP handshake does not get the new certificate"
    );
    ensure!(
        served_fingerprint(switch.https_addr())? == second,
        "a new HTTPS handshake does not get the new certificate"
    );
    // A broken file: logged, and the pair in use stays.
    std::fs::write(tls_dir.join("cert.pem"), "garbage")?;
    hangup_signal(switch)?;
    switch.wait_for("the refused reload logged", Duration::from_secs(5), || {
        switch.log().contains("TLS certificate not reloaded")
    });
    ensure!(
        served_fingerprint(switch.tls_addr())? == second,
        "a broken file replaced the certificate"
    );
    // The call is still up, with media both ways.
    ensure!(
        answered_call(switch).is_some(),
        "the call ended: {:?}",
        switch.calls()
    );
    let share = hears(&caller, PHONE_HZ);
    ensure!(
        share > 0.5,
        "after the reload the caller hears the phone at {share:.2}"
    );
    // The caller hangs up: the BYE reaches the phone over the TLS connection it registered
    // on, made before the reload.
    caller_sipp.wait().assert_success(switch);
    b.wait_event("CALL_CLOSED", Duration::from_secs(10))?;
    switch.wait_for("no calls", Duration::from_secs(5), || {
        switch.calls().is_empty()
    });
    std::fs::write(tls_dir.join("cert.pem"), &cert_pem)?;

    // The TLS phone calls a UDP callee (SIPp), who hears it.
    let callee = TonePeer::new(SIPP_HZ);
    let callee_sipp = Sipp::scenario("uas_hold")
        .port(uas_port)
        .key("rtp_port", &callee.port().to_string())
        .arg("-i")
        .arg(SIPP_IP)
        .spawn();
    let tls = switch.tls_addr();
    b.dial(&format!("sip:2000@{tls};transport=tls"))?;
    if !switch.wait_until(Duration::from_secs(10), || {
        answered_call(switch).map(|c| call = c).is_some()
    }) {
        bail!(
            "the TLS phone's call to UDP was not answered: {:?}",
            switch.calls()
        );
    }
    b.wait_event("CALL_ESTABLISHED", Duration::from_secs(5))?;
    callee.send_to(relay(&call, 1));
    let share = hears(&callee, PHONE_HZ);
    ensure!(
        share > 0.5,
        "the UDP callee hears the TLS phone at {share:.2}"
    );
    b.hangup()?;
    callee_sipp.wait().assert_success(switch);
    switch.assert_idle();
    let _ = std::fs::remove_dir_all(dir);
    Ok(())
}

/// A TLS trunk: switch A sends numbers starting with 7 to switch B over a new TLS
/// connection, checking B's certificate against `tls.ca` (B's generated certificate);
/// B delivers to a SIPp callee. The call connects both ways and the BYE crosses back over
/// the same connection. With a CA that does not sign B's certificate, the call fails and
/// nothing reaches B.
#[test]
fn a_tls_trunk_reaches_another_switch_and_checks_its_certificate() {
    if !(e2e::require("sipp") && e2e::require("openssl")) {
        return;
    }
    let uas_port = free_port();
    let b = SwitchConfig::new()
        .tls()
        .trusted(&["127.0.0.1/32"])
        .static_user("7000", &format!("sip:7000@127.0.0.1:{uas_port}"))
        .start();
    let trunk = |ca: &Path| {
        SwitchConfig::new()
            .tls()
            .trusted(&["127.0.0.1/32"])
            .extra(&format!(
                "[tls]\nca = \"{}\"\n[[trunks]]\nname = \"b\"\naddress = \"{}\"\ntransport = \"tls\"\nprefixes = [\"7\"]\n",
                ca.display(),
                b.tls_addr()
            ))
            .start()
    };
    let a = trunk(&b.tls_ca());
    let callee = Sipp::scenario("uas_answer").port(uas_port).spawn();
    Sipp::caller_to("uac_basic", &a)
        .service("7000")
        .pause_ms(500)
        .run()
        .assert_success(&a);
    callee.wait().assert_success(&b);
    // The trunk's connection: opened by A, accepted by B's TLS listener, kept for reuse.
    let tls_conns = "switch_listener_connections{listener=\"sip-tls\"}";
    assert_eq!(a.metric(tls_conns), 1.0, "A's outbound TLS connection");
    assert_eq!(b.metric(tls_conns), 1.0, "B's inbound TLS connection");
    let cdr = b.expect_cdr();
    b.assert_field(&cdr, "status", 200);
    a.assert_idle();
    b.assert_idle();

    // A's own certificate is no CA of B's: the handshake fails, and the caller hears so
    // at once (the trunk leg's 503 of RFC 3261 §8.1.3.1, passed on as 500 as §16.7 has
    // it), not after timer B's 32 s.
    let wrong = trunk(&a.tls_ca());
    let started = Instant::now();
    let refused = Sipp::caller_to("uac_basic", &wrong)
        .service("7000")
        .timeout(Duration::from_secs(20))
        .run();
    assert!(
        !refused.success(),
        "a call over an unverified trunk went through"
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "the failure took {:?}",
        started.elapsed()
    );
    assert!(
        wrong.log().contains("TLS handshake with the peer failed"),
        "{}",
        wrong.log_tail()
    );
    let cdr = wrong.expect_cdr();
    wrong.assert_field(&cdr, "status", 500);
    wrong.assert_idle();
}
