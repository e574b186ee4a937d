//! Blind transfer from a real softphone: baresip A (1001) calls baresip B (1002), B's user
//! transfers A to C (1003) with baresip's own `transfer` command (REFER, RFC 3515). The
//! switch rings C, joins A and C, releases B; RTP then flows both ways between A and C
//! through the switch, and B's phone hears the transfer succeed.

use anyhow::{ensure, Context, Result};
use e2e::baresip::{self, Baresip, Phone};
use e2e::{Switch, SwitchConfig};
use serde_json::Value;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Duration;

#[derive(Default)]
struct Ctx {
    phones: Vec<Baresip>,
    switch: Option<Switch>,
}

#[test]
fn baresip_blind_transfer_reaches_the_target() {
    if !e2e::require("baresip") {
        return;
    }
    let mut ctx = Ctx::default();
    let outcome = catch_unwind(AssertUnwindSafe(|| run(&mut ctx)));
    let failure = match outcome {
        Ok(Ok(())) => None,
        Ok(Err(e)) => Some(format!("{e:#}")),
        Err(_) => Some("panic".to_string()),
    };
    if let Some(msg) = failure {
        if let Some(s) = &ctx.switch {
            eprintln!("===== switch log =====\n{}", baresip::strip_ansi(&s.log()));
        }
        for (i, p) in ctx.phones.iter().enumerate() {
            eprintln!("===== baresip {i} log =====\n{}", p.log());
        }
        panic!("{msg}");
    }
}

/// The one live call's legs' `(remote, packets_in, packets_out)`.
fn legs(switch: &Switch) -> Vec<(String, u64, u64)> {
    let calls = switch.calls();
    let Some(call) = calls.first() else {
        return Vec::new();
    };
    call["legs"]
        .as_array()
        .map(|legs| {
            legs.iter()
                .map(|l| {
                    let n = |k: &str| l[k].as_u64().unwrap_or(0);
                    (
                        l["remote"].as_str().unwrap_or("").to_string(),
                        n("packets_in"),
                        n("packets_out"),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn run(ctx: &mut Ctx) -> Result<()> {
    let dir = e2e::temp_dir("baresip-transfer");
    let switch: &Switch = ctx.switch.insert(
        SwitchConfig::new()
            .user("1001", "pass1001")
            .user("1002", "pass1002")
            .user("1003", "pass1003")
            .start(),
    );
    let sip = switch.sip_addr();
    for (name, user, hz) in [
        ("A", "1001", 440.0),
        ("B", "1002", 660.0),
        ("C", "1003", 880.0),
    ] {
        let wav = dir.join(format!("tone-{name}.wav"));
        baresip::write_tone_wav(&wav, 30, hz)?;
        let phone = Phone {
            name: name.into(),
            user: user.into(),
            password: format!("pass{user}"),
            registrar: sip,
            auto_answer: true,
            audio_source: wav,
            dir: dir.join(name),
            max_secs: 60,
            contacts: Vec::new(),
            outbound_proxy: None,
            tls_ca: None,
            mediaenc: None,
        };
        ctx.phones.push(Baresip::start(&phone)?);
    }
    switch.wait_for("three phones registered", Duration::from_secs(10), || {
        switch.registrations().len() >= 3
    });
    ctx.phones[0].dial(&format!("sip:1002@{sip}"))?;
    let answered = switch.wait_until(Duration::from_secs(10), || {
        switch.calls().first().is_some_and(|c| {
            c["state"] == "answered" && c["legs"].as_array().is_some_and(|l| l.len() == 2)
        })
    });
    ensure!(
        answered,
        "A's call to B was not answered: {:?}",
        switch.calls()
    );
    let call: Value = switch.calls().first().cloned().unwrap_or_default();
    let b_addr = call["legs"][1]["remote"].as_str().unwrap_or("").to_string();
    std::thread::sleep(Duration::from_secs(1));

    // B transfers A to C from the phone.
    ctx.phones[1]
        .command(
            "transfer",
            &format!("sip:1003@{sip}"),
            Duration::from_secs(5),
        )
        .context("baresip's transfer command")?;
    ctx.phones[1]
        .wait_event("CALL_CLOSED", Duration::from_secs(10))
        .context("B's call did not end after the transfer")?;
    let joined = switch.wait_until(Duration::from_secs(10), || {
        let l = legs(switch);
        l.len() == 2 && l[1].0 != b_addr
    });
    ensure!(joined, "A was not joined to C: {:?}", switch.calls());
    let before = legs(switch);
    std::thread::sleep(Duration::from_secs(2));
    let after = legs(switch);
    for (i, (b0, b1)) in before.iter().zip(&after).enumerate() {
        let (d_in, d_out) = (b1.1.saturating_sub(b0.1), b1.2.saturating_sub(b0.2));
        ensure!(
            d_in > 40 && d_out > 40,
            "after the transfer leg {i} moved {d_in} packets in and {d_out} out in 2 s"
        );
    }
    ctx.phones[0].hangup()?;
    ctx.phones[2]
        .wait_event("CALL_CLOSED", Duration::from_secs(5))
        .context("the switch did not end C's leg after A's BYE")?;
    switch.wait_for("no live call", Duration::from_secs(5), || {
        switch.calls().is_empty()
    });
    for p in &mut ctx.phones {
        p.quit(Duration::from_secs(5))?;
    }
    let _ = std::fs::remove_dir_all(dir);
    Ok(())
}
