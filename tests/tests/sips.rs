//! The SIPS scheme on plain hops (RFC 3261 §26.2.2, RFC 5630): a `sips:` Request-URI that
//! arrives over UDP or TCP is refused with 416 and `Warning: 380 "SIPS Not Allowed"`, and
//! the callee's phone is never reached.

use e2e::{free_port, require, Sipp, SwitchConfig};
use std::time::Duration;

#[test]
fn a_sips_request_uri_over_udp_or_tcp_gets_416_with_warning_380() {
    if !require("sipp") {
        return;
    }
    let uas_port = free_port();
    let switch = SwitchConfig::new()
        .trusted(&["127.0.0.1/32"])
        .static_user("2000", &format!("sip:2000@127.0.0.1:{uas_port}"))
        .start();
    // The callee's phone: it must see no INVITE.
    let callee = Sipp::scenario("uas_answer")
        .port(uas_port)
        .timeout(Duration::from_secs(20))
        .spawn();
    for tcp in [false, true] {
        let mut caller = Sipp::caller_to("uac_sips", &switch);
        if tcp {
            caller = caller.tcp();
        }
        let r = caller.run();
        r.assert_success(&switch);
        r.assert_logged("warning=380 ccswitch \"SIPS Not Allowed\"", &switch);
    }
    let callee = callee.stop();
    assert!(
        !callee.messages.contains("INVITE"),
        "the sips: request reached the callee over UDP:\n{}",
        callee.messages
    );
    switch.assert_idle();
}
