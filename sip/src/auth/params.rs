//! The `Digest name=value, name="quoted value"` grammar shared by challenges and credentials
//! (RFC 3261 §25.1 `challenge` / `credentials`, RFC 2617 §1.2 `auth-param`).
//!
//! Reading is lenient where that is harmless: any amount of whitespace (including the CR LF of
//! an unfolded line) around `=` and `,`, empty list elements, and unquoted values that are not
//! strict tokens. It is strict where leniency would be ambiguous: an unterminated quote, a
//! missing `=`, or control characters inside a quoted string are errors.

use super::AuthError;

/// One `name=value` pair, with the name lower-cased and the value unquoted and unescaped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Param {
    pub name: String,
    pub value: String,
}

/// Splits a header value into its `Digest` parameters; errors if the scheme is not `Digest`.
pub(crate) fn parse_digest_params(value: &str) -> Result<Vec<Param>, AuthError> {
    let mut cur = Cursor { rest: value };
    cur.skip_ws();
    let scheme = cur.take_while(|c| !is_ws(c));
    if !scheme.eq_ignore_ascii_case("Digest") {
        return Err(AuthError::NotDigest);
    }
    let mut params = Vec::new();
    loop {
        cur.skip_ws_and_commas();
        if cur.is_empty() {
            return Ok(params);
        }
        let name = cur.take_while(is_token_char);
        if name.is_empty() {
            return Err(AuthError::Syntax("expected a parameter name"));
        }
        cur.skip_ws();
        if !cur.eat('=') {
            return Err(AuthError::Syntax("expected `=` after a parameter name"));
        }
        cur.skip_ws();
        let value = if cur.eat('"') {
            cur.quoted_rest()?
        } else {
            let raw = cur.take_while(is_unquoted_value_char);
            if raw.is_empty() {
                return Err(AuthError::Syntax("empty parameter value"));
            }
            raw.to_owned()
        };
        params.push(Param {
            name: name.to_ascii_lowercase(),
            value,
        });
        cur.skip_ws();
        if !cur.is_empty() && !cur.eat(',') {
            return Err(AuthError::Syntax("expected `,` between parameters"));
        }
    }
}

/// Stores a parameter value, refusing a second occurrence of the same parameter.
pub(crate) fn set_once(
    slot: &mut Option<String>,
    name: &'static str,
    value: String,
) -> Result<(), AuthError> {
    if slot.is_some() {
        return Err(AuthError::DuplicateParam(name));
    }
    *slot = Some(value);
    Ok(())
}

/// Whether a value can be written inside a quoted string: quoted-pair cannot carry CR or LF,
/// and other control characters have no business in these fields.
pub(crate) fn is_printable(value: &str) -> bool {
    !value.chars().any(is_forbidden_control)
}

/// Appends `name="value"`, escaping `"` and `\`. Characters that no quoted string can carry
/// (see [`is_printable`]) are dropped; callers validate values first where dropping matters.
pub(crate) fn push_quoted(out: &mut String, name: &str, value: &str) {
    out.push_str(name);
    out.push_str("=\"");
    for c in value.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            c if is_forbidden_control(c) => {}
            c => out.push(c),
        }
    }
    out.push('"');
}

fn is_forbidden_control(c: char) -> bool {
    c.is_control() && c != '\t'
}

fn is_ws(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

/// RFC 3261 `token` characters.
fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric()
        || matches!(
            c,
            '-' | '.' | '!' | '%' | '*' | '_' | '+' | '`' | '\'' | '~'
        )
}

/// Unquoted values should be tokens, but peers write things like `uri=sip:a@b` unquoted;
/// anything up to whitespace, a comma or a quote is taken.
fn is_unquoted_value_char(c: char) -> bool {
    !is_ws(c) && c != ',' && c != '"' && !c.is_control()
}

struct Cursor<'a> {
    rest: &'a str,
}

impl<'a> Cursor<'a> {
    fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    fn skip_ws(&mut self) {
        self.rest = self.rest.trim_start_matches(is_ws);
    }

    fn skip_ws_and_commas(&mut self) {
        self.rest = self.rest.trim_start_matches(|c| is_ws(c) || c == ',');
    }

    fn eat(&mut self, want: char) -> bool {
        match self.rest.strip_prefix(want) {
            Some(rest) => {
                self.rest = rest;
                true
            }
            None => false,
        }
    }

    fn take_while(&mut self, keep: impl Fn(char) -> bool) -> &'a str {
        let end = self
            .rest
            .char_indices()
            .find(|&(_, c)| !keep(c))
            .map_or(self.rest.len(), |(i, _)| i);
        let (taken, rest) = self.rest.split_at(end);
        self.rest = rest;
        taken
    }

    /// Reads the rest of a quoted string whose opening quote was consumed, resolving
    /// backslash escapes (quoted-pair).
    fn quoted_rest(&mut self) -> Result<String, AuthError> {
        let mut out = String::new();
        let mut chars = self.rest.char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => {
                    self.rest = &self.rest[i + c.len_utf8()..];
                    return Ok(out);
                }
                '\\' => match chars.next() {
                    Some((_, escaped)) if !is_forbidden_control(escaped) => out.push(escaped),
                    Some(_) => return Err(AuthError::Syntax("control character in quoted string")),
                    None => break,
                },
                c if is_forbidden_control(c) => {
                    return Err(AuthError::Syntax("control character in quoted string"))
                }
                c => out.push(c),
            }
        }
        Err(AuthError::Syntax("unterminated quoted string"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(value: &str) -> Vec<(String, String)> {
        match parse_digest_params(value) {
            Ok(params) => params.into_iter().map(|p| (p.name, p.value)).collect(),
            Err(e) => panic!("{value:?} did not parse: {e}"),
        }
    }

    fn p(name: &str, value: &str) -> (String, String) {
        (name.to_owned(), value.to_owned())
    }

    #[test]
    fn odd_whitespace_quoting_and_escapes() {
        let got = pairs(
            " \tdIgEsT  Username = \"Mu\\\"fa\\\\sa\" ,realm=\"r, with comma\",,\r\n nonce =abc/def= , uri=\"sip:\u{e9}@x\"\t,QOP= auth",
        );
        assert_eq!(
            got,
            vec![
                p("username", "Mu\"fa\\sa"),
                p("realm", "r, with comma"),
                p("nonce", "abc/def="),
                p("uri", "sip:\u{e9}@x"),
                p("qop", "auth"),
            ]
        );
    }

    #[test]
    fn scheme_alone_and_trailing_comma() {
        assert!(pairs("Digest").is_empty());
        assert_eq!(pairs("Digest a=\"\" ,"), vec![p("a", "")]);
    }

    #[test]
    fn errors() {
        let bad = [
            ("Basic QWxhZGRpbjpvcGVu", AuthError::NotDigest),
            ("", AuthError::NotDigest),
            ("Digestrealm=x", AuthError::NotDigest),
            (
                "Digest realm",
                AuthError::Syntax("expected `=` after a parameter name"),
            ),
            ("Digest realm=", AuthError::Syntax("empty parameter value")),
            (
                "Digest realm=\"abc",
                AuthError::Syntax("unterminated quoted string"),
            ),
            (
                "Digest realm=\"abc\\",
                AuthError::Syntax("unterminated quoted string"),
            ),
            (
                "Digest realm=\"a\nb\"",
                AuthError::Syntax("control character in quoted string"),
            ),
            (
                "Digest realm=\"a\\\rb\"",
                AuthError::Syntax("control character in quoted string"),
            ),
            (
                "Digest realm=\"a\"b",
                AuthError::Syntax("expected `,` between parameters"),
            ),
            (
                "Digest realm=a b=c",
                AuthError::Syntax("expected `,` between parameters"),
            ),
            ("Digest =x", AuthError::Syntax("expected a parameter name")),
        ];
        for (value, want) in bad {
            assert_eq!(parse_digest_params(value), Err(want), "{value:?}");
        }
    }

    #[test]
    fn quoting_round_trips() {
        let mut out = String::from("Digest ");
        push_quoted(&mut out, "realm", "a\"b\\c\td");
        assert_eq!(out, "Digest realm=\"a\\\"b\\\\c\td\"");
        assert_eq!(pairs(&out), vec![p("realm", "a\"b\\c\td")]);
    }

    #[test]
    fn control_characters_are_not_printable() {
        assert!(is_printable("alice\t"));
        assert!(!is_printable("alice\r\nVia: x"));
        let mut out = String::new();
        push_quoted(&mut out, "u", "a\r\nb");
        assert_eq!(out, "u=\"ab\"");
    }

    proptest::proptest! {
        #[test]
        fn never_panics(s in proptest::prelude::any::<String>()) {
            let _ = parse_digest_params(&s);
        }

        #[test]
        fn quoted_values_round_trip(v in "[^\\p{Cc}]*|[\t]") {
            let mut out = String::from("Digest ");
            push_quoted(&mut out, "x", &v);
            let got = parse_digest_params(&out);
            proptest::prop_assert_eq!(got, Ok(vec![Param { name: "x".into(), value: v }]));
        }
    }
}
