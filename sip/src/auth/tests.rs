//! End-to-end tests of the module: challenge -> answer -> verify, with a fake clock.

use super::*;

const REALM: &str = "cc.example.com";
const SECRET: [u8; 32] = [42; 32];
const TTL: u64 = 300;
const T0: u64 = 1_700_000_000;
const URI: &str = "sip:cc.example.com";

fn authenticator() -> Authenticator {
    Authenticator::new(REALM.to_owned(), SECRET, TTL)
}

fn lookup(username: &str) -> Option<String> {
    (username == "alice").then(|| "s3cret".to_owned())
}

/// Answers `challenge` as alice would and parses the result as the server would.
fn creds_for(challenge: &str, password: &str, nc: u32) -> Credentials {
    let value = answer_challenge(challenge, "REGISTER", URI, "alice", password, "c0ffee", nc);
    match value.and_then(|v| parse_credentials(&v)) {
        Ok(c) => c,
        Err(e) => panic!("could not answer {challenge:?}: {e}"),
    }
}

/// The SHA-256 challenge (listed first).
fn first_challenge(auth: &Authenticator, now: u64) -> String {
    auth.challenges(now, false).swap_remove(0)
}

fn ok() -> AuthOutcome {
    AuthOutcome::Ok {
        username: "alice".to_owned(),
    }
}

fn rejected(e: AuthError) -> AuthOutcome {
    AuthOutcome::Rejected(e)
}

#[test]
fn challenges_list_sha256_then_md5_with_one_nonce() {
    let auth = authenticator();
    let values = auth.challenges(T0, false);
    assert_eq!(values.len(), 2);
    let parsed: Vec<Challenge> = values
        .iter()
        .map(|v| parse_challenge(v).unwrap_or_else(|e| panic!("{v:?}: {e}")))
        .collect();
    assert_eq!(parsed[0].algorithm, Algorithm::Sha256);
    assert_eq!(parsed[1].algorithm, Algorithm::Md5);
    assert_eq!(parsed[0].nonce, parsed[1].nonce);
    for (value, c) in values.iter().zip(&parsed) {
        assert_eq!(c.realm, REALM);
        assert_eq!(c.qop, vec!["auth".to_owned()]);
        assert!(!c.stale);
        let opaque = c.opaque.as_deref().unwrap_or_default();
        assert!(!opaque.is_empty());
        assert_eq!(
            *value,
            format!(
                "Digest realm=\"{REALM}\", nonce=\"{}\", opaque=\"{opaque}\", algorithm={}, qop=\"auth\"",
                c.nonce, c.algorithm
            )
        );
    }
    // Each round of challenges has its own nonce, even within one second.
    assert_ne!(
        parse_challenge(&first_challenge(&auth, T0)).map(|c| c.nonce),
        Ok(parsed[0].nonce.clone())
    );
}

#[test]
fn stale_challenges_say_so() {
    for value in authenticator().challenges(T0, true) {
        assert!(value.ends_with(", stale=true"), "{value}");
        assert_eq!(parse_challenge(&value).map(|c| c.stale), Ok(true));
    }
}

#[test]
fn round_trip_succeeds_for_both_algorithms() {
    // Both challenges carry one nonce, so the count carries on from one to the other.
    let auth = authenticator();
    for (nc, challenge) in (1..).zip(auth.challenges(T0, false)) {
        let creds = creds_for(&challenge, "s3cret", nc);
        assert_eq!(auth.verify(T0 + 5, "REGISTER", URI, &creds, lookup), ok());
    }
}

#[test]
fn wrong_password_and_unknown_user_are_rejected() {
    let auth = authenticator();
    for challenge in auth.challenges(T0, false) {
        let creds = creds_for(&challenge, "guess", 1);
        assert_eq!(
            auth.verify(T0, "REGISTER", URI, &creds, lookup),
            rejected(AuthError::BadResponse)
        );
        let creds = creds_for(&challenge, "s3cret", 2);
        assert_eq!(
            auth.verify(T0, "REGISTER", URI, &creds, |_| None),
            rejected(AuthError::UnknownUser)
        );
    }
}

#[test]
fn username_is_compared_exactly() {
    let auth = authenticator();
    let challenge = first_challenge(&auth, T0);
    let value = answer_challenge(&challenge, "REGISTER", URI, "Alice", "s3cret", "c", 1);
    let creds = value.and_then(|v| parse_credentials(&v));
    let mut seen = None;
    let outcome = creds.map(|c| {
        auth.verify(T0, "REGISTER", URI, &c, |u| {
            seen = Some(u.to_owned());
            lookup(u)
        })
    });
    assert_eq!(seen.as_deref(), Some("Alice"));
    assert_eq!(outcome, Ok(rejected(AuthError::UnknownUser)));
}

#[test]
fn wrong_method_is_rejected() {
    let auth = authenticator();
    let creds = creds_for(&first_challenge(&auth, T0), "s3cret", 1);
    assert_eq!(
        auth.verify(T0, "INVITE", URI, &creds, lookup),
        rejected(AuthError::BadResponse)
    );
}

#[test]
fn old_nonce_is_stale_only_when_otherwise_correct() {
    let auth = authenticator();
    let challenge = first_challenge(&auth, T0);
    let good = creds_for(&challenge, "s3cret", 1);
    let bad = creds_for(&challenge, "guess", 1);
    assert_eq!(
        auth.verify(T0 + TTL + 1, "REGISTER", URI, &good, lookup),
        AuthOutcome::Stale
    );
    assert_eq!(
        auth.verify(T0 + TTL + 1, "REGISTER", URI, &bad, lookup),
        rejected(AuthError::BadResponse)
    );
    // At exactly the lifetime it is still good.
    assert_eq!(auth.verify(T0 + TTL, "REGISTER", URI, &good, lookup), ok());
}

#[test]
fn tampered_forged_and_foreign_nonces_are_rejected() {
    let auth = authenticator();
    let challenge = first_challenge(&auth, T0);
    let nonce = match parse_challenge(&challenge) {
        Ok(c) => c.nonce,
        Err(e) => panic!("{e}"),
    };
    // Move the issue time forward to dodge expiry: the MAC no longer matches.
    let later = format!("{:016x}{}", T0 + 10_000, &nonce[16..]);
    let tampered = challenge.replace(&nonce, &later);
    let creds = creds_for(&tampered, "s3cret", 1);
    assert_eq!(
        auth.verify(T0, "REGISTER", URI, &creds, lookup),
        rejected(AuthError::BadNonce)
    );

    let forged = challenge.replace(&nonce, "dcd98b7102dd2f0e8b11d0f600bfb0c093");
    let creds = creds_for(&forged, "s3cret", 1);
    assert_eq!(
        auth.verify(T0, "REGISTER", URI, &creds, lookup),
        rejected(AuthError::BadNonce)
    );

    let other = Authenticator::new(REALM.to_owned(), [43; 32], TTL);
    let creds = creds_for(&first_challenge(&other, T0), "s3cret", 1);
    assert_eq!(
        auth.verify(T0, "REGISTER", URI, &creds, lookup),
        rejected(AuthError::BadNonce)
    );
}

#[test]
fn same_secret_other_realm_is_rejected() {
    let auth = authenticator();
    let other = Authenticator::new("other.example.com".to_owned(), SECRET, TTL);
    let challenge = first_challenge(&other, T0);
    let creds = creds_for(&challenge, "s3cret", 1);
    assert_eq!(
        auth.verify(T0, "REGISTER", URI, &creds, lookup),
        rejected(AuthError::RealmMismatch)
    );
    // Even with the realm rewritten, the nonce is bound to the other realm.
    let creds = creds_for(&challenge.replace("other.example.com", REALM), "s3cret", 1);
    assert_eq!(
        auth.verify(T0, "REGISTER", URI, &creds, lookup),
        rejected(AuthError::BadNonce)
    );
}

#[test]
fn wrong_opaque_is_rejected_missing_opaque_is_accepted() {
    let auth = authenticator();
    let mut challenge = match parse_challenge(&first_challenge(&auth, T0)) {
        Ok(c) => c,
        Err(e) => panic!("{e}"),
    };
    challenge.opaque = Some("not-ours".into());
    let creds = creds_for(&challenge.to_string(), "s3cret", 1);
    assert_eq!(
        auth.verify(T0, "REGISTER", URI, &creds, lookup),
        rejected(AuthError::OpaqueMismatch)
    );
    challenge.opaque = None;
    let creds = creds_for(&challenge.to_string(), "s3cret", 1);
    assert_eq!(auth.verify(T0, "REGISTER", URI, &creds, lookup), ok());
}

#[test]
fn nonce_count_must_increase() {
    let auth = authenticator();
    let challenge = first_challenge(&auth, T0);
    let one = creds_for(&challenge, "s3cret", 1);
    assert_eq!(auth.verify(T0, "REGISTER", URI, &one, lookup), ok());
    assert_eq!(
        auth.verify(T0 + 1, "REGISTER", URI, &one, lookup),
        rejected(AuthError::Replay)
    );
    let two = creds_for(&challenge, "s3cret", 2);
    assert_eq!(auth.verify(T0 + 2, "REGISTER", URI, &two, lookup), ok());
    let seven = creds_for(&challenge, "s3cret", 7);
    assert_eq!(auth.verify(T0 + 3, "REGISTER", URI, &seven, lookup), ok());
    for nc in [1, 2, 7] {
        let old = creds_for(&challenge, "s3cret", nc);
        assert_eq!(
            auth.verify(T0 + 4, "REGISTER", URI, &old, lookup),
            rejected(AuthError::Replay)
        );
    }
    // A wrong password does not advance the count.
    let bad = creds_for(&challenge, "guess", 8);
    assert_eq!(
        auth.verify(T0 + 5, "REGISTER", URI, &bad, lookup),
        rejected(AuthError::BadResponse)
    );
    let eight = creds_for(&challenge, "s3cret", 8);
    assert_eq!(auth.verify(T0 + 5, "REGISTER", URI, &eight, lookup), ok());
    // nc starts at 1.
    let zero = creds_for(&first_challenge(&auth, T0), "s3cret", 0);
    assert_eq!(
        auth.verify(T0, "REGISTER", URI, &zero, lookup),
        rejected(AuthError::Replay)
    );
}

#[test]
fn two_clients_challenged_in_one_second_count_separately() {
    let auth = authenticator();
    let a = creds_for(&first_challenge(&auth, T0), "s3cret", 1);
    let b = creds_for(&first_challenge(&auth, T0), "s3cret", 1);
    assert_eq!(auth.verify(T0, "REGISTER", URI, &a, lookup), ok());
    assert_eq!(auth.verify(T0, "REGISTER", URI, &b, lookup), ok());
}

#[test]
fn wrong_realm_is_rejected() {
    let auth = authenticator();
    let challenge = first_challenge(&auth, T0).replace(REALM, "evil.example.com");
    let creds = creds_for(&challenge, "s3cret", 1);
    assert_eq!(
        auth.verify(T0, "REGISTER", URI, &creds, lookup),
        rejected(AuthError::RealmMismatch)
    );
}

#[test]
fn no_qop_form_is_refused_since_every_challenge_offers_qop() {
    // RFC 2069 credentials carry no nonce count, so they could be replayed for the nonce's
    // whole life: refused, even with the right password, and they leave nothing tracked.
    let auth = authenticator();
    let mut challenge = match parse_challenge(&auth.challenges(T0, false)[1]) {
        Ok(c) => c,
        Err(e) => panic!("{e}"),
    };
    challenge.qop.clear();
    let creds = creds_for(&challenge.to_string(), "s3cret", 1);
    assert_eq!(creds.qop, None);
    for _ in 0..3 {
        assert_eq!(
            auth.verify(T0, "REGISTER", URI, &creds, lookup),
            rejected(AuthError::QopRequired)
        );
    }
    assert_eq!(auth.tracked_nonces(), 0);
}

#[test]
fn credentials_are_bound_to_the_request_uri() {
    let auth = authenticator();
    let challenge = first_challenge(&auth, T0);
    let value = answer_challenge(
        &challenge,
        "INVITE",
        "sip:1002@cc.example.com",
        "alice",
        "s3cret",
        "c",
        1,
    );
    let creds = match value.and_then(|v| parse_credentials(&v)) {
        Ok(c) => c,
        Err(e) => panic!("{e}"),
    };
    // Signed for 1002: worthless for 1003 or a trunk number, whatever the nonce count.
    for other in [
        "sip:1003@cc.example.com",
        "sip:+15551234@cc.example.com",
        "tel:+15551234",
    ] {
        assert_eq!(
            auth.verify(T0, "INVITE", other, &creds, lookup),
            rejected(AuthError::UriMismatch),
            "{other}"
        );
    }
    // The same URI written another way (§19.1.4: host case, escapes) is the same URI.
    assert_eq!(
        auth.verify(T0, "INVITE", "sip:%31002@CC.example.com", &creds, lookup),
        ok()
    );
}

#[test]
fn authenticators_sharing_a_guard_refuse_each_others_replays() {
    // Two shards of one node: a header accepted by one is a replay for the other.
    let guard = ReplayGuard::shared(ReplayGuard::DEFAULT_MAX_TRACKED_NONCES);
    let shard0 = authenticator().with_replay_guard(guard.clone());
    let shard1 = authenticator().with_replay_guard(guard);
    let creds = creds_for(&first_challenge(&shard0, T0), "s3cret", 1);
    assert_eq!(shard0.verify(T0, "REGISTER", URI, &creds, lookup), ok());
    assert_eq!(
        shard1.verify(T0, "REGISTER", URI, &creds, lookup),
        rejected(AuthError::Replay)
    );
    assert_eq!(
        shard0.verify(T0, "REGISTER", URI, &creds, lookup),
        rejected(AuthError::Replay)
    );
    let next = creds_for(&first_challenge(&shard0, T0), "s3cret", 1);
    assert_eq!(shard1.verify(T0, "REGISTER", URI, &next, lookup), ok());
    // Separate guards (two processes without sharing) would not see it: the reason to share.
    let alone = authenticator();
    assert_eq!(alone.verify(T0, "REGISTER", URI, &creds, lookup), ok());
}

#[test]
fn upper_case_response_is_accepted() {
    let auth = authenticator();
    let mut creds = creds_for(&first_challenge(&auth, T0), "s3cret", 1);
    creds.response = creds.response.to_ascii_uppercase();
    assert_eq!(auth.verify(T0, "REGISTER", URI, &creds, lookup), ok());
}

#[test]
fn replay_memory_expires_with_the_nonces() {
    let auth = authenticator();
    for i in 0..3 {
        let creds = creds_for(&first_challenge(&auth, T0 + i), "s3cret", 1);
        assert_eq!(auth.verify(T0 + i, "REGISTER", URI, &creds, lookup), ok());
    }
    assert_eq!(auth.tracked_nonces(), 3);
    let creds = creds_for(&first_challenge(&auth, T0 + TTL + 1), "s3cret", 1);
    assert_eq!(
        auth.verify(T0 + TTL + 1, "REGISTER", URI, &creds, lookup),
        ok()
    );
    // The nonce from T0 is past its lifetime and forgotten; T0+1 and T0+2 live on.
    assert_eq!(auth.tracked_nonces(), 3);
    assert_eq!(
        auth.verify(T0 + 10 * TTL, "REGISTER", URI, &creds, lookup),
        AuthOutcome::Stale
    );
    assert_eq!(auth.tracked_nonces(), 0);
}

#[test]
fn replay_memory_is_capped_without_reopening_replays() {
    let auth = authenticator().with_replay_guard(ReplayGuard::shared(2));
    let first = creds_for(&first_challenge(&auth, T0), "s3cret", 1);
    assert_eq!(auth.verify(T0, "REGISTER", URI, &first, lookup), ok());
    for i in 1..=2 {
        let creds = creds_for(&first_challenge(&auth, T0 + i), "s3cret", 1);
        assert_eq!(auth.verify(T0 + i, "REGISTER", URI, &creds, lookup), ok());
    }
    assert_eq!(auth.tracked_nonces(), 2);
    // The first nonce's record was evicted: replaying it must not pass as a first use.
    assert_eq!(
        auth.verify(T0 + 3, "REGISTER", URI, &first, lookup),
        AuthOutcome::Stale
    );
    // A nonce issued after the evicted one still works.
    let fresh = creds_for(&first_challenge(&auth, T0 + 3), "s3cret", 1);
    assert_eq!(auth.verify(T0 + 3, "REGISTER", URI, &fresh, lookup), ok());
    assert_eq!(auth.tracked_nonces(), 2);
}

#[test]
fn realm_with_control_characters_is_cleaned_consistently() {
    let auth = Authenticator::new("cc.\r\nexample.com".to_owned(), SECRET, TTL);
    assert_eq!(auth.realm(), "cc.example.com");
    let creds = creds_for(&first_challenge(&auth, T0), "s3cret", 1);
    assert_eq!(auth.verify(T0, "REGISTER", URI, &creds, lookup), ok());
}

#[test]
fn debug_does_not_show_the_secret() {
    let shown = format!("{:?}", authenticator());
    assert!(shown.contains("<redacted>"));
    assert!(!shown.contains("42, 42"));
}
