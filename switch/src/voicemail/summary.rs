//! The `application/simple-message-summary` body of an MWI NOTIFY (RFC 3842 §5).

/// `Messages-Waiting`, `Message-Account` and `Voice-Message: new/old (0/0)`.
pub fn summary_body(account: &str, new: usize, saved: usize) -> String {
    let waiting = if new > 0 { "yes" } else { "no" };
    format!(
        "Messages-Waiting: {waiting}\r\nMessage-Account: {account}\r\nVoice-Message: {new}/{saved} (0/0)\r\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_exact() {
        assert_eq!(
            summary_body("sip:1002@127.0.0.1", 2, 1),
            "Messages-Waiting: yes\r\nMessage-Account: sip:1002@127.0.0.1\r\nVoice-Message: 2/1 (0/0)\r\n"
        );
        assert_eq!(
            summary_body("sip:1002@127.0.0.1", 0, 3),
            "Messages-Waiting: no\r\nMessage-Account: sip:1002@127.0.0.1\r\nVoice-Message: 0/3 (0/0)\r\n"
        );
    }
}
