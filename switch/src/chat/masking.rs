//! PCI DSS: card numbers in chat text are found and masked (or the message refused) before
//! anything is stored, shown or logged.
//!
//! A card number is 13-19 digits that pass the Luhn check, written together or in groups
//! separated by one space or one dash ("4111 1111 1111 1111", "4111-1111-1111-1111").
//! Within a run of digit groups every contiguous span of whole groups is tried, so a card
//! followed by more digits ("4111 1111 1111 1111 99") is still found. Masking replaces
//! each digit of the card but the last four with `*`, one character for one, so the text
//! keeps its length and layout.

/// Card digits written as asterisks; the last four stay.
const KEEP_LAST: usize = 4;
const MIN_DIGITS: usize = 13;
const MAX_DIGITS: usize = 19;

/// The Luhn (mod 10) check over ASCII digits.
pub fn luhn_valid(digits: &[u8]) -> bool {
    let mut sum = 0u32;
    for (i, d) in digits.iter().rev().enumerate() {
        let mut v = u32::from(d - b'0');
        if i % 2 == 1 {
            v *= 2;
            if v > 9 {
                v -= 9;
            }
        }
        sum += v;
    }
    !digits.is_empty() && sum.is_multiple_of(10)
}

/// A group of consecutive ASCII digits: its char positions in the text and its digits.
struct Group {
    chars: Vec<usize>,
    digits: Vec<u8>,
}

/// The runs of digit groups in `chars`: groups joined by exactly one space or dash.
fn runs(chars: &[char]) -> Vec<Vec<Group>> {
    let mut runs: Vec<Vec<Group>> = Vec::new();
    let mut current: Vec<Group> = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_ascii_digit() {
            let mut g = Group {
                chars: Vec::new(),
                digits: Vec::new(),
            };
            while i < chars.len() && chars[i].is_ascii_digit() {
                g.chars.push(i);
                g.digits.push(chars[i] as u8);
                i += 1;
            }
            current.push(g);
            let joined = i + 1 < chars.len()
                && matches!(chars[i], ' ' | '-')
                && chars[i + 1].is_ascii_digit();
            if joined {
                i += 1;
            } else {
                runs.push(std::mem::take(&mut current));
            }
        } else {
            i += 1;
        }
    }
    if !current.is_empty() {
        runs.push(current);
    }
    runs
}

/// The char positions of the digits of every card number in `chars`.
fn card_digits(chars: &[char]) -> Vec<Vec<usize>> {
    let mut cards = Vec::new();
    for run in runs(chars) {
        let mut start = 0;
        while start < run.len() {
            let mut found = None;
            let mut digits: Vec<u8> = Vec::new();
            // The longest span from `start` that is a card.
            for (end, g) in run.iter().enumerate().skip(start) {
                digits.extend_from_slice(&g.digits);
                if digits.len() > MAX_DIGITS {
                    break;
                }
                if digits.len() >= MIN_DIGITS && luhn_valid(&digits) {
                    found = Some(end);
                }
            }
            match found {
                Some(end) => {
                    cards.push(
                        run[start..=end]
                            .iter()
                            .flat_map(|g| g.chars.clone())
                            .collect(),
                    );
                    start = end + 1;
                }
                None => start += 1,
            }
        }
    }
    cards
}

/// Whether `text` holds a card number.
pub fn has_card_number(text: &str) -> bool {
    let chars: Vec<char> = text.chars().collect();
    !card_digits(&chars).is_empty()
}

/// `text` with every card number masked; `None` when it holds none (nothing to change).
pub fn mask_card_numbers(text: &str) -> Option<String> {
    let mut chars: Vec<char> = text.chars().collect();
    let cards = card_digits(&chars);
    if cards.is_empty() {
        return None;
    }
    for card in cards {
        let hide = card.len().saturating_sub(KEEP_LAST);
        for &pos in &card[..hide] {
            chars[pos] = '*';
        }
    }
    Some(chars.into_iter().collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn luhn_of_known_numbers() {
        assert!(luhn_valid(b"4111111111111111"));
        assert!(luhn_valid(b"79927398713"));
        assert!(!luhn_valid(b"4111111111111112"));
        assert!(!luhn_valid(b""));
    }

    #[test]
    fn masks_cards_written_together_or_grouped() {
        assert_eq!(
            mask_card_numbers("card 4111111111111111 ok").as_deref(),
            Some("card ************1111 ok")
        );
        assert_eq!(
            mask_card_numbers("4111 1111 1111 1111").as_deref(),
            Some("**** **** **** 1111")
        );
        assert_eq!(
            mask_card_numbers("amex 3782-822463-10005.").as_deref(),
            Some("amex ****-******-*0005.")
        );
        // A card followed by more digits is still found.
        assert_eq!(
            mask_card_numbers("4111 1111 1111 1111 99").as_deref(),
            Some("**** **** **** 1111 99")
        );
    }

    #[test]
    fn leaves_other_numbers_alone() {
        assert_eq!(mask_card_numbers("order 4111111111111112"), None);
        assert_eq!(mask_card_numbers("call 555-1234 or 8000"), None);
        assert_eq!(mask_card_numbers("12345678901"), None, "too short");
        assert_eq!(
            mask_card_numbers("4111  1111 1111 1111"),
            None,
            "two spaces split it"
        );
        assert!(!has_card_number("no digits at all"));
        assert!(has_card_number("5500 0000 0000 0004"));
    }

    /// A Luhn-valid number of `len` digits starting with `body`'s digits.
    fn card_of(body: &[u8], len: usize) -> Vec<u8> {
        let mut digits: Vec<u8> = body.iter().take(len - 1).map(|d| b'0' + d % 10).collect();
        digits.push(b'0');
        for check in 0..10 {
            let last = digits.len() - 1;
            digits[last] = b'0' + check;
            if luhn_valid(&digits) {
                break;
            }
        }
        digits
    }

    proptest! {
        #[test]
        fn any_card_is_masked_whatever_its_separators(
            body in proptest::collection::vec(0u8..10, 19),
            len in 13usize..=19,
            seps in proptest::collection::vec(prop_oneof![Just(""), Just(" "), Just("-")], 19),
            before in "[a-z ,.!?]{0,12}",
            after in "[a-z ,.!?]{0,12}",
        ) {
            let digits = card_of(&body, len);
            prop_assert!(luhn_valid(&digits));
            let mut card = String::new();
            for (i, d) in digits.iter().enumerate() {
                if i > 0 && i % 4 == 0 {
                    card.push_str(seps[i]);
                }
                card.push(*d as char);
            }
            let text = format!("{before}{card}{after}");
            let masked = mask_card_numbers(&text);
            prop_assert!(masked.is_some(), "{text:?} not masked");
            let masked = masked.unwrap_or_default();
            let left: String = masked.chars().filter(char::is_ascii_digit).collect();
            let last4: String = digits[digits.len() - 4..].iter().map(|d| *d as char).collect();
            prop_assert_eq!(left, last4);
            prop_assert_eq!(masked.chars().count(), text.chars().count());
        }

        #[test]
        fn never_panics_and_keeps_the_length(text in "\\PC{0,80}") {
            if let Some(m) = mask_card_numbers(&text) {
                prop_assert_eq!(m.chars().count(), text.chars().count());
            }
        }
    }
}
