//! Callers to a queue's DN: handed to the ACD, answered by the switch with music and
//! announcements, offered to agents' phones; RONA, abandon, overflow and a full queue.

use super::harness::*;
use crate::engine::{Input, Output};
use crate::orders::AcdOrder;
use crate::records::{Cause, HangupSide};
use acd::{AgentId, Dn, InteractionId};

/// 1001 calls the queue; the ACD queues it. Returns its dialog (answered by the switch and
/// ACKed) and its interaction.
fn queued_caller(h: &mut Harness) -> (Dlg, u64) {
    let (mut a, interaction) = arriving_caller(h);
    h.input(Input::Acd(AcdOrder::Queued {
        interaction,
        position: 1,
        expected_wait_secs: Some(30),
    }));
    let ok = h.resp_to(ALICE, 200, "INVITE");
    assert_relay_sdp(&ok.headers, &ok.body, PORT_A);
    let media = h.take_media();
    assert!(media.iter().any(|m| m.starts_with("Play(1/A")), "{media:?}");
    a.answered(&ok);
    a.ack(h, None);
    h.clear();
    (a, interaction)
}

/// 1001 calls the queue: the ACD hears of it, the caller is not answered yet.
fn arriving_caller(h: &mut Harness) -> (Dlg, u64) {
    let a = h.call(ALICE, "1001", QUEUE, Some(&sdp_at(ALICE, ALICE_RTP)), "");
    let events = h.acd_events();
    let [acd::Event::InteractionArrived(arrival)] = events.as_slice() else {
        panic!("expected one arrival: {events:?}");
    };
    assert_eq!(arrival.queue.as_str(), QUEUE);
    assert_eq!(arrival.caller.number, "1001");
    assert_eq!(arrival.channel, acd::Channel::Voice);
    assert_eq!(
        h.count(
            ALICE,
            |m| matches!(m, sip::Message::Response(r) if r.code >= 200)
        ),
        0
    );
    (a, arrival.id.0)
}

fn offer(h: &mut Harness, interaction: u64, agent: &str) {
    h.input(Input::Acd(AcdOrder::Offer {
        interaction,
        agent: AgentId::new(agent),
        extension: agent.to_string(),
        queue: Dn::new(QUEUE),
        queue_name: "Sales".into(),
        record: false,
    }));
}

#[test]
fn queued_caller_is_answered_by_an_agent() {
    let mut h = Harness::new();
    let (mut a, interaction) = queued_caller(&mut h);
    assert_eq!(crate::orders::shard_of_interaction(interaction), 0);
    h.advance(secs(10));

    offer(&mut h, interaction, "1002");
    let inv = h.req(BOB, "INVITE");
    assert_eq!(inv.headers.get("X-Queue"), Some(QUEUE));
    assert_eq!(
        inv.headers.get("X-Interaction"),
        Some(interaction.to_string().as_str())
    );
    assert!(inv.headers.get("From").unwrap().contains("\"Sales: 1001\""));
    assert_relay_sdp(&inv.headers, &inv.body, PORT_B);
    // The agent's ringing is not the caller's business: it hears the queue.
    h.reply(BOB, &inv, 180, "agent", None);
    h.assert_no_req(ALICE, "INVITE");
    assert_eq!(h.count(ALICE, |_| true), 0);

    h.reply(BOB, &inv, 200, "agent", Some(&sdp_at(BOB, BOB_RTP)));
    assert_eq!(
        h.acd_events(),
        [acd::Event::OfferAccepted {
            interaction: InteractionId(interaction),
            agent: AgentId::new("1002"),
        }]
    );
    let media = h.take_media();
    assert!(media.contains(&"StopPlaying(1/A)".to_string()), "{media:?}");
    assert!(media.contains(&format!("Connect(1/B, Some({}:{BOB_RTP}))", BOB.ip())));
    h.req(BOB, "ACK");
    // The caller keeps the SDP it has: no re-INVITE.
    h.assert_no_req(ALICE, "INVITE");

    h.advance(secs(20));
    a.request(&mut h, "BYE", None, "");
    h.resp_to(ALICE, 200, "BYE");
    let bye = h.req(BOB, "BYE");
    h.reply(BOB, &bye, 200, "agent", None);
    assert_eq!(
        h.acd_events(),
        [acd::Event::InteractionEnded {
            interaction: InteractionId(interaction),
        }]
    );
    let cdr = h.cdr();
    assert_eq!(
        (cdr.cause, cdr.hangup_side, cdr.status),
        (Cause::Normal, HangupSide::Caller, 200)
    );
    assert_eq!(cdr.to_user, QUEUE);
    assert_eq!(cdr.talk_secs, 20.0);
    assert!(h.engine.is_idle());
}

#[test]
fn offer_at_once_plays_music_and_answers_the_caller() {
    let mut h = Harness::new();
    let (mut a, interaction) = arriving_caller(&mut h);
    offer(&mut h, interaction, "1002");
    let ok = h.resp_to(ALICE, 200, "INVITE");
    assert_relay_sdp(&ok.headers, &ok.body, PORT_A);
    assert!(h.take_media().iter().any(|m| m.starts_with("Play(1/A")));
    a.answered(&ok);
    a.ack(&mut h, None);
    let inv = h.req(BOB, "INVITE");
    h.reply(BOB, &inv, 200, "agent", Some(&sdp_at(BOB, BOB_RTP)));
    assert!(matches!(
        h.acd_events().as_slice(),
        [acd::Event::OfferAccepted { .. }]
    ));
}

#[test]
fn agent_refusing_or_missing_the_offer_is_rona() {
    let mut h = Harness::new();
    let (_a, interaction) = queued_caller(&mut h);
    for (agent, phone, code) in [("1002", BOB, 486), ("1003", CAROL, 408)] {
        offer(&mut h, interaction, agent);
        let inv = h.req(phone, "INVITE");
        h.reply(phone, &inv, 180, "agent", None);
        h.reply(phone, &inv, code, "agent", None);
        h.req(phone, "ACK");
        assert_eq!(
            h.acd_events(),
            [acd::Event::OfferRejected {
                interaction: InteractionId(interaction),
                agent: AgentId::new(agent),
            }]
        );
        // The caller waits on.
        h.assert_no_req(ALICE, "BYE");
        assert_eq!(h.engine.active_calls(), 1);
    }
    assert!(!h.outputs.iter().any(|o| matches!(o, Output::Cdr(_))));
}

#[test]
fn caller_abandons_while_an_agent_rings() {
    let mut h = Harness::new();
    let (mut a, interaction) = queued_caller(&mut h);
    offer(&mut h, interaction, "1002");
    let inv = h.req(BOB, "INVITE");
    h.reply(BOB, &inv, 180, "agent", None);
    h.advance(secs(4));

    a.request(&mut h, "BYE", None, "");
    h.resp_to(ALICE, 200, "BYE");
    let cancel = h.req(BOB, "CANCEL");
    h.reply(BOB, &cancel, 200, "agent", None);
    h.reply(BOB, &inv, 487, "agent", None);
    h.req(BOB, "ACK");
    assert_eq!(
        h.acd_events(),
        [acd::Event::InteractionEnded {
            interaction: InteractionId(interaction),
        }]
    );
    let cdr = h.cdr();
    assert_eq!(
        (cdr.cause, cdr.hangup_side, cdr.status),
        (Cause::Abandoned, HangupSide::Caller, 200)
    );
    assert!(h.engine.is_idle());
}

#[test]
fn caller_cancelling_before_queued_ends_the_interaction() {
    let mut h = Harness::new();
    let (mut a, interaction) = arriving_caller(&mut h);
    a.cancel(&mut h);
    let r = h.resp(ALICE, 487);
    a.ack_failure(&mut h, &r);
    assert_eq!(
        h.acd_events(),
        [acd::Event::InteractionEnded {
            interaction: InteractionId(interaction),
        }]
    );
    h.cdr();
    // A late order for it is ignored.
    offer(&mut h, interaction, "1002");
    h.assert_no_req(BOB, "INVITE");
}

#[test]
fn overflow_to_a_user() {
    let mut h = Harness::new();
    let (a, interaction) = queued_caller(&mut h);
    h.input(Input::Acd(AcdOrder::Overflow {
        interaction,
        target: Dn::new("1003"),
    }));
    let inv = h.req(CAROL, "INVITE");
    assert_eq!(inv.uri.to_string(), format!("sip:1003@{CAROL}"));
    assert_relay_sdp(&inv.headers, &inv.body, PORT_B);
    h.reply(CAROL, &inv, 180, "carol", None);
    h.reply(CAROL, &inv, 200, "carol", Some(&sdp_at(CAROL, CAROL_RTP)));
    h.req(CAROL, "ACK");
    assert!(h.take_media().contains(&"StopPlaying(1/A)".to_string()));
    assert_eq!(h.acd_events(), [], "the ACD let the interaction go");
    // Orders for the interaction no longer reach the call.
    offer(&mut h, interaction, "1002");
    h.assert_no_req(BOB, "INVITE");

    let mut c = Dlg::callee(CAROL, &inv, "carol");
    c.request(&mut h, "BYE", None, "");
    h.resp_to(CAROL, 200, "BYE");
    let bye = h.req(ALICE, "BYE");
    assert_eq!(bye.headers.call_id(), Some(a.call_id.as_str()));
    let cdr = h.cdr();
    assert_eq!(
        (cdr.cause, cdr.hangup_side),
        (Cause::Normal, HangupSide::Callee)
    );
    assert_eq!(cdr.to_user, "1003");
}

#[test]
fn full_queue_is_busy() {
    let mut h = Harness::new();
    let (mut a, interaction) = arriving_caller(&mut h);
    h.input(Input::Acd(AcdOrder::QueueFull { interaction }));
    let busy = h.resp(ALICE, 486);
    a.ack_failure(&mut h, &busy);
    assert_eq!(h.acd_events(), [], "the ACD refused it: nothing to end");
    let cdr = h.cdr();
    assert_eq!((cdr.cause, cdr.status), (Cause::Busy, 486));
    assert!(h.take_media().contains(&"Release(1)".to_string()));
    assert!(h.engine.is_idle());
}

#[test]
fn waiting_caller_hears_its_position_again() {
    let mut h = Harness::new();
    let every = h.engine.cx.config.acd.announce_every_secs;
    assert!(every > 0);
    let (_a, interaction) = queued_caller(&mut h);
    h.advance(secs(every));
    assert!(!h
        .outputs
        .iter()
        .any(|o| matches!(o, Output::AskPosition { .. })));
    // After the spoken part and the interval.
    h.advance(secs(60));
    let asked = h.take_output("position question", |o| match o {
        Output::AskPosition { interaction } => Some(*interaction),
        _ => None,
    });
    assert_eq!(asked, interaction);
    h.take_media();
    h.input(Input::Acd(AcdOrder::Queued {
        interaction,
        position: 1,
        expected_wait_secs: None,
    }));
    assert!(h.take_media().iter().any(|m| m.starts_with("Play(1/A")));
    h.assert_no_req(ALICE, "BYE");
}

#[test]
fn withdrawn_offer_is_cancelled_without_rona() {
    let mut h = Harness::new();
    let (_a, interaction) = queued_caller(&mut h);
    offer(&mut h, interaction, "1002");
    let inv = h.req(BOB, "INVITE");
    h.reply(BOB, &inv, 180, "agent", None);
    h.input(Input::Acd(AcdOrder::CancelOffer {
        interaction,
        agent: AgentId::new("1002"),
    }));
    let cancel = h.req(BOB, "CANCEL");
    h.reply(BOB, &cancel, 200, "agent", None);
    h.reply(BOB, &inv, 487, "agent", None);
    assert_eq!(h.acd_events(), [], "the ACD withdrew it: no OfferRejected");
    h.assert_no_req(ALICE, "BYE");
    assert_eq!(h.engine.active_calls(), 1);
}

#[test]
fn silent_waiting_caller_is_released() {
    let mut h = Harness::new();
    let (_a, interaction) = queued_caller(&mut h);
    h.idle_for = secs(3600);
    h.advance(secs(20));
    let bye = h.req(ALICE, "BYE");
    h.reply(ALICE, &bye, 200, "1001-1", None);
    assert_eq!(
        h.acd_events(),
        [acd::Event::InteractionEnded {
            interaction: InteractionId(interaction),
        }]
    );
    assert_eq!(h.cdr().cause, Cause::NoMedia);
    assert!(h.engine.is_idle());
}

#[test]
fn overflow_to_another_queue() {
    let mut opts = Opts::default();
    opts.config.queues.push(acd::QueueConfig::new("8001"));
    let mut h = Harness::with(opts);
    let (_a, interaction) = queued_caller(&mut h);
    h.input(Input::Acd(AcdOrder::Overflow {
        interaction,
        target: Dn::new("8001"),
    }));
    let events = h.acd_events();
    let [acd::Event::InteractionArrived(arrival)] = events.as_slice() else {
        panic!("{events:?}");
    };
    assert_eq!(
        (arrival.id.0, arrival.queue.as_str()),
        (interaction, "8001")
    );
    assert_eq!(arrival.caller.number, "1001");
    // Still the engine's interaction: the new queue's offers reach it.
    offer(&mut h, interaction, "1002");
    h.req(BOB, "INVITE");
}

/// A queue that records its calls: the recording starts when the agent answers, on the
/// caller's endpoint.
#[test]
fn a_recorded_queue_records_from_the_agents_answer() {
    let mut h = Harness::new();
    let (mut a, interaction) = queued_caller(&mut h);
    h.input(Input::Acd(AcdOrder::Offer {
        interaction,
        agent: AgentId::new("1002"),
        extension: "1002".into(),
        queue: Dn::new(QUEUE),
        queue_name: "Sales".into(),
        record: true,
    }));
    let inv = h.req(BOB, "INVITE");
    h.take_media();
    h.reply(BOB, &inv, 200, "agent", Some(&sdp_at(BOB, BOB_RTP)));
    h.req(BOB, "ACK");
    assert!(h.take_media().contains(&"Record(1/A)".to_string()));
    assert!(h.engine.calls()[0].recording.is_some());
    a.request(&mut h, "BYE", None, "");
    let row = h.take_output("the recording's index row", |o| match o {
        Output::Recorded(r) => Some(r.clone()),
        _ => None,
    });
    assert_eq!(row.agent.as_deref(), Some("1002"));
}
