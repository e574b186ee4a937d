//! A minimal WebSocket client for the switch's event stream (`GET /api/events`): the
//! RFC 6455 handshake, then a thread that reads the server's text frames (JSON) into a
//! list the test can search and wait on. It never sends a frame (the server expects
//! nothing from desktops), so it needs no masking; no dependencies.

use serde_json::Value;
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// The stream of one WebSocket connection, read in the background.
pub struct EventStream {
    events: Arc<Mutex<Vec<Value>>>,
    /// Why the reader stopped, once it has (closed by the server, bad frame...).
    ended: Arc<Mutex<Option<String>>>,
    socket: TcpStream,
    reader: Option<JoinHandle<()>>,
}

impl EventStream {
    /// Connects to `ws://addr{path}` (e.g. `/api/events?agent=3001`) and starts reading.
    /// `Err` when the connection or the handshake fails.
    pub fn connect(addr: SocketAddr, path: &str) -> std::io::Result<EventStream> {
        EventStream::connect_with(addr, path, &[])
    }

    /// [`EventStream::connect`] with extra handshake headers (`Authorization`, `Cookie`).
    pub fn connect_with(
        addr: SocketAddr,
        path: &str,
        headers: &[(&str, &str)],
    ) -> std::io::Result<EventStream> {
        let timeout = Duration::from_secs(5);
        let mut socket = TcpStream::connect_timeout(&addr, timeout)?;
        socket.set_write_timeout(Some(timeout))?;
        socket.set_read_timeout(Some(timeout))?;
        let extra: String = headers
            .iter()
            .map(|(n, v)| format!("{n}: {v}\r\n"))
            .collect();
        write!(
            socket,
            "GET {path} HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n{extra}\r\n"
        )?;
        // The response head, byte by byte so no frame byte is consumed with it.
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            if socket.read(&mut byte)? == 0 || head.len() > 16 * 1024 {
                return Err(bad("connection closed during the handshake"));
            }
            head.push(byte[0]);
        }
        let head = String::from_utf8_lossy(&head).into_owned();
        if !head.starts_with("HTTP/1.1 101") {
            return Err(bad(&format!("handshake refused: {head}")));
        }
        socket.set_read_timeout(None)?;
        let events = Arc::new(Mutex::new(Vec::new()));
        let ended = Arc::new(Mutex::new(None));
        let mut reading = socket.try_clone()?;
        let (ev, end) = (events.clone(), ended.clone());
        let reader = std::thread::spawn(move || {
            let why = loop {
                match read_frame(&mut reading) {
                    Ok((1, payload)) => {
                        let text = String::from_utf8_lossy(&payload).into_owned();
                        let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
                        ev.lock().unwrap_or_else(|e| e.into_inner()).push(value);
                    }
                    Ok((8, _)) => break "closed by the server".to_string(),
                    Ok(_) => {}
                    Err(e) => break format!("read failed: {e}"),
                }
            };
            *end.lock().unwrap_or_else(|e| e.into_inner()) = Some(why);
        });
        Ok(EventStream {
            events,
            ended,
            socket,
            reader: Some(reader),
        })
    }

    /// Every message received so far, in order (JSON; a non-JSON text as a string).
    pub fn events(&self) -> Vec<Value> {
        self.events
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Why the stream ended, if it has.
    pub fn ended(&self) -> Option<String> {
        self.ended.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Waits until a message satisfies `pred` and returns it (`None` after `timeout`).
    pub fn wait_for(&self, timeout: Duration, pred: impl Fn(&Value) -> bool) -> Option<Value> {
        let mut found = None;
        crate::wait_until(timeout, || {
            found = self.events().into_iter().find(|v| pred(v));
            found.is_some()
        });
        found
    }
}

impl Drop for EventStream {
    fn drop(&mut self) {
        let _ = self.socket.shutdown(Shutdown::Both);
        if let Some(r) = self.reader.take() {
            let _ = r.join();
        }
    }
}

fn bad(msg: &str) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, msg.to_string())
}

/// One whole message: `(opcode, payload)`; fragments are joined under the first opcode.
fn read_frame(r: &mut impl Read) -> std::io::Result<(u8, Vec<u8>)> {
    let mut opcode = None;
    let mut payload = Vec::new();
    loop {
        let mut h = [0u8; 2];
        r.read_exact(&mut h)?;
        let fin = h[0] & 0x80 != 0;
        let op = h[0] & 0x0f;
        let masked = h[1] & 0x80 != 0;
        let len = match h[1] & 0x7f {
            126 => {
                let mut b = [0u8; 2];
                r.read_exact(&mut b)?;
                u64::from(u16::from_be_bytes(b))
            }
            127 => {
                let mut b = [0u8; 8];
                r.read_exact(&mut b)?;
                u64::from_be_bytes(b)
            }
            n => u64::from(n),
        };
        if len > 64 * 1024 * 1024 {
            return Err(bad("frame longer than 64 MiB"));
        }
        let mut mask = [0u8; 4];
        if masked {
            r.read_exact(&mut mask)?;
        }
        let mut data = vec![0u8; len as usize];
        r.read_exact(&mut data)?;
        if masked {
            for (i, b) in data.iter_mut().enumerate() {
                *b ^= mask[i % 4];
            }
        }
        if op >= 8 {
            // A control frame (close, ping, pong) may come between fragments.
            if op == 8 {
                return Ok((8, data));
            }
            continue;
        }
        opcode.get_or_insert(op);
        payload.extend_from_slice(&data);
        if fin {
            return Ok((opcode.unwrap_or(op), payload));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_short_extended_fragmented_and_control_frames() {
        let mut bytes = vec![0x81, 2, b'{', b'}'];
        let long = vec![b'a'; 300];
        bytes.extend_from_slice(&[0x81, 126, 0x01, 0x2c]);
        bytes.extend_from_slice(&long);
        // "ab" in two fragments with a ping between them.
        bytes.extend_from_slice(&[0x01, 1, b'a', 0x89, 0, 0x80, 1, b'b']);
        bytes.extend_from_slice(&[0x88, 0]);
        let mut r = &bytes[..];
        assert_eq!(read_frame(&mut r).unwrap(), (1, b"{}".to_vec()));
        assert_eq!(read_frame(&mut r).unwrap(), (1, long));
        assert_eq!(read_frame(&mut r).unwrap(), (1, b"ab".to_vec()));
        assert_eq!(read_frame(&mut r).unwrap().0, 8);
        assert!(read_frame(&mut r).is_err());
    }
}
