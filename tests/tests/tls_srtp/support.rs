//! Shared by the SDES-SRTP end-to-end tests: baresip phones over TLS with
//! `mediaenc=srtp-mand`, the relay's SRTP counters, and a run that prints the phones' and
//! the switch's logs when it fails.
#![allow(dead_code)]

use anyhow::{bail, ensure, Result};
use e2e::baresip::{self, Baresip, Phone};
use e2e::call::answered_call;
use e2e::Switch;
use serde_json::Value;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::time::Duration;

/// What a failing run prints the logs of.
#[derive(Default)]
pub struct Ctx {
    pub phones: Vec<Baresip>,
    pub switch: Option<Switch>,
}

/// Runs `run`; on an error or a panic, prints every phone's and the switch's log and
/// panics with the failure.
pub fn run_logged(run: impl FnOnce(&mut Ctx) -> Result<()>) {
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
        for p in &ctx.phones {
            eprintln!("===== baresip log =====\n{}", p.log());
        }
        if let Some(s) = &ctx.switch {
            eprintln!("===== switch log =====\n{}", baresip::strip_ansi(&s.log()));
        }
        panic!("{msg}");
    }
}

/// A baresip phone of `user` (password `pass{user}`) registering over TLS with SRTP
/// mandatory, auto-answering, sending a `hz` tone.
pub fn phone(switch: &Switch, dir: &Path, user: &str, hz: f64) -> Result<Phone> {
    let tone = dir.join(format!("{user}.wav"));
    baresip::write_tone_wav(&tone, 60, hz)?;
    Ok(Phone {
        name: user.into(),
        user: user.into(),
        password: format!("pass{user}"),
        registrar: switch.tls_addr(),
        auto_answer: true,
        audio_source: tone,
        dir: dir.join(user),
        max_secs: 90,
        contacts: Vec::new(),
        outbound_proxy: None,
        tls_ca: Some(switch.tls_ca()),
        mediaenc: Some("srtp-mand".into()),
    })
}

/// Waits until every one of `users` is registered over TLS.
pub fn wait_registered_over_tls(switch: &Switch, users: &[&str]) -> Result<()> {
    let over_tls = |user: &str| {
        switch
            .registrations()
            .iter()
            .any(|r| r["user"] == user && r["transport"] == "TLS")
    };
    if !switch.wait_until(Duration::from_secs(10), || {
        users.iter().all(|u| over_tls(u))
    }) {
        bail!(
            "phones not registered over TLS: {:?}",
            switch.registrations()
        );
    }
    Ok(())
}

/// The first answered call, waited for.
pub fn wait_answered(switch: &Switch, what: &str) -> Result<Value> {
    let mut call = Value::Null;
    if !switch.wait_until(Duration::from_secs(10), || {
        answered_call(switch).map(|c| call = c).is_some()
    }) {
        bail!("{what} was not answered: {:?}", switch.calls());
    }
    Ok(call)
}

/// (unprotected, protected, auth failures) so far.
pub fn srtp_counts(switch: &Switch) -> (f64, f64, f64) {
    (
        switch.metric("switch_srtp_packets_unprotected_total"),
        switch.metric("switch_srtp_packets_protected_total"),
        switch.metric("switch_srtp_auth_failures_total"),
    )
}

/// The SRTP packets the relay unprotected and protected over the next two seconds.
pub fn srtp_over_two_seconds(switch: &Switch) -> (f64, f64) {
    let before = srtp_counts(switch);
    std::thread::sleep(Duration::from_secs(2));
    let after = srtp_counts(switch);
    (after.0 - before.0, after.1 - before.1)
}

/// The phone negotiated SRTP and decrypted everything the switch sent it.
pub fn phone_took_srtp(p: &Baresip) -> Result<()> {
    let log = p.log();
    ensure!(
        log.contains("SRTP is Enabled"),
        "the phone did not enable SRTP"
    );
    ensure!(
        !log.contains("failed to decrypt"),
        "the phone could not decrypt the switch's SRTP"
    );
    Ok(())
}
