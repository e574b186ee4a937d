//! rtpengine's ng control protocol: `<cookie> <bencoded dictionary>` over UDP, answered by
//! the same cookie and a dictionary holding `result` (and `sdp` for offer and answer).

use std::net::{SocketAddr, UdpSocket};
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};

/// A bencode value (only what ng uses: strings, integers, lists, dictionaries).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Bytes(Vec<u8>),
    Int(i64),
    List(Vec<Value>),
    Dict(Vec<(Vec<u8>, Value)>),
}

impl Value {
    pub fn str(s: &str) -> Value {
        Value::Bytes(s.as_bytes().to_vec())
    }

    fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Value::Bytes(b) => {
                out.extend(b.len().to_string().as_bytes());
                out.push(b':');
                out.extend(b);
            }
            Value::Int(i) => out.extend(format!("i{i}e").as_bytes()),
            Value::List(items) => {
                out.push(b'l');
                items.iter().for_each(|v| v.encode(out));
                out.push(b'e');
            }
            Value::Dict(pairs) => {
                let mut sorted: Vec<&(Vec<u8>, Value)> = pairs.iter().collect();
                sorted.sort_by(|a, b| a.0.cmp(&b.0));
                out.push(b'd');
                for (k, v) in sorted {
                    Value::Bytes(k.clone()).encode(out);
                    v.encode(out);
                }
                out.push(b'e');
            }
        }
    }

    /// Parses one value from the front of `input`; returns it and the rest.
    fn decode(input: &[u8]) -> Result<(Value, &[u8])> {
        match input.first() {
            Some(b'i') => {
                let end = input
                    .iter()
                    .position(|&c| c == b'e')
                    .ok_or_else(|| anyhow!("unterminated integer"))?;
                let n = std::str::from_utf8(&input[1..end])?.parse()?;
                Ok((Value::Int(n), &input[end + 1..]))
            }
            Some(b'l') => {
                let (mut rest, mut items) = (&input[1..], Vec::new());
                while rest.first() != Some(&b'e') {
                    let (v, r) = Value::decode(rest)?;
                    items.push(v);
                    rest = r;
                }
                Ok((Value::List(items), &rest[1..]))
            }
            Some(b'd') => {
                let (mut rest, mut pairs) = (&input[1..], Vec::new());
                while rest.first() != Some(&b'e') {
                    let (Value::Bytes(k), r) = Value::decode(rest)? else {
                        bail!("dictionary key is not a string")
                    };
                    let (v, r) = Value::decode(r)?;
                    pairs.push((k, v));
                    rest = r;
                }
                Ok((Value::Dict(pairs), &rest[1..]))
            }
            Some(c) if c.is_ascii_digit() => {
                let colon = input
                    .iter()
                    .position(|&c| c == b':')
                    .ok_or_else(|| anyhow!("string without length"))?;
                let len: usize = std::str::from_utf8(&input[..colon])?.parse()?;
                let body = input
                    .get(colon + 1..colon + 1 + len)
                    .ok_or_else(|| anyhow!("string runs past the end"))?;
                Ok((Value::Bytes(body.to_vec()), &input[colon + 1 + len..]))
            }
            _ => bail!("not bencode"),
        }
    }

    fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Dict(pairs) => pairs
                .iter()
                .find(|(k, _)| k == key.as_bytes())
                .map(|(_, v)| v),
            _ => None,
        }
    }

    fn text(&self, key: &str) -> Option<String> {
        match self.get(key)? {
            Value::Bytes(b) => Some(String::from_utf8_lossy(b).into_owned()),
            _ => None,
        }
    }
}

pub struct Ng {
    socket: UdpSocket,
    server: SocketAddr,
    cookie: u64,
}

impl Ng {
    pub fn new(server: SocketAddr) -> Result<Ng> {
        let socket = UdpSocket::bind("127.0.0.1:0")?;
        socket.set_read_timeout(Some(Duration::from_secs(2)))?;
        Ok(Ng {
            socket,
            server,
            cookie: 0,
        })
    }

    fn request(&mut self, pairs: Vec<(&str, Value)>) -> Result<Value> {
        self.cookie += 1;
        let cookie = format!("rtpload{}", self.cookie);
        let mut message = format!("{cookie} ").into_bytes();
        Value::Dict(
            pairs
                .into_iter()
                .map(|(k, v)| (k.as_bytes().to_vec(), v))
                .collect(),
        )
        .encode(&mut message);
        let mut buf = vec![0u8; 65536];
        for _attempt in 0..3 {
            self.socket.send_to(&message, self.server)?;
            let Ok((n, _)) = self.socket.recv_from(&mut buf) else {
                continue;
            };
            let reply = &buf[..n];
            let Some(body) = reply.strip_prefix(format!("{cookie} ").as_bytes()) else {
                continue;
            };
            let (value, _) = Value::decode(body).context("rtpengine's reply")?;
            return match value.text("result").as_deref() {
                Some("ok") => Ok(value),
                other => bail!("rtpengine: {other:?} {:?}", value.text("error-reason")),
            };
        }
        bail!("rtpengine at {} did not answer", self.server)
    }

    /// The caller's SDP in, the SDP for the callee (naming rtpengine's callee-side port) out.
    pub fn offer(&mut self, call_id: &str, from_tag: &str, sdp: &str) -> Result<String> {
        let reply = self.request(vec![
            ("command", Value::str("offer")),
            ("call-id", Value::str(call_id)),
            ("from-tag", Value::str(from_tag)),
            ("sdp", Value::str(sdp)),
            (
                "replace",
                Value::List(vec![Value::str("origin"), Value::str("session-connection")]),
            ),
        ])?;
        reply
            .text("sdp")
            .ok_or_else(|| anyhow!("offer reply without sdp"))
    }

    /// The callee's SDP in, the SDP for the caller (naming rtpengine's caller-side port) out.
    pub fn answer(
        &mut self,
        call_id: &str,
        from_tag: &str,
        to_tag: &str,
        sdp: &str,
    ) -> Result<String> {
        let reply = self.request(vec![
            ("command", Value::str("answer")),
            ("call-id", Value::str(call_id)),
            ("from-tag", Value::str(from_tag)),
            ("to-tag", Value::str(to_tag)),
            ("sdp", Value::str(sdp)),
            (
                "replace",
                Value::List(vec![Value::str("origin"), Value::str("session-connection")]),
            ),
        ])?;
        reply
            .text("sdp")
            .ok_or_else(|| anyhow!("answer reply without sdp"))
    }

    pub fn delete(&mut self, call_id: &str, from_tag: &str) -> Result<()> {
        self.request(vec![
            ("command", Value::str("delete")),
            ("call-id", Value::str(call_id)),
            ("from-tag", Value::str(from_tag)),
        ])
        .map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_a_dictionary() {
        let v = Value::Dict(vec![
            (b"sdp".to_vec(), Value::str("v=0\r\n")),
            (
                b"a".to_vec(),
                Value::List(vec![Value::Int(-3), Value::str("x")]),
            ),
        ]);
        let mut out = Vec::new();
        v.encode(&mut out);
        assert_eq!(out, b"d1:ali-3e1:xe3:sdp5:v=0\r\ne");
        let (back, rest) = Value::decode(&out).unwrap();
        assert!(rest.is_empty());
        assert_eq!(back.text("sdp").as_deref(), Some("v=0\r\n"));
    }

    #[test]
    fn refuses_truncated_input() {
        assert!(Value::decode(b"d3:sdp10:v=0e").is_err());
        assert!(Value::decode(b"li1").is_err());
    }
}
