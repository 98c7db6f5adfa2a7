//! Just enough DNS for container name resolution on user-defined networks
//! (what docker's embedded DNS server does): read a query's question, and
//! answer an A question from the network's table of names; everything else
//! is forwarded unchanged by the caller ([`super::holder`]).
//!
//! Queries come from containers, so the parser takes any bytes: it never
//! panics and never reads past the packet (tested with proptest).

use std::net::Ipv4Addr;

/// A query's single question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Question {
    pub id: u16,
    /// Lowercase, without the trailing dot.
    pub name: String,
    pub qtype: u16,
    pub qclass: u16,
    /// Where the question section ends (the answer is appended after it).
    end: usize,
}

pub const TYPE_A: u16 = 1;
pub const TYPE_AAAA: u16 = 28;
const CLASS_IN: u16 = 1;
/// docker's embedded DNS answers with a TTL of 600 seconds.
const TTL: u32 = 600;

pub const RCODE_NOERROR: u8 = 0;
pub const RCODE_SERVFAIL: u8 = 2;
pub const RCODE_NXDOMAIN: u8 = 3;

fn u16_at(b: &[u8], i: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(i)?, *b.get(i + 1)?]))
}

/// The question of a standard query with exactly one question, or None for
/// anything else (responses, other opcodes, compressed or malformed names).
pub fn parse_query(packet: &[u8]) -> Option<Question> {
    let id = u16_at(packet, 0)?;
    let flags = u16_at(packet, 2)?;
    let is_response = flags & 0x8000 != 0;
    let opcode = (flags >> 11) & 0xf;
    if is_response || opcode != 0 || u16_at(packet, 4)? != 1 {
        return None;
    }
    let mut i = 12;
    let mut labels: Vec<String> = Vec::new();
    let mut total = 0usize;
    loop {
        let len = *packet.get(i)? as usize;
        i += 1;
        if len == 0 {
            break;
        }
        // No compression pointers in a question we answer; labels ≤ 63.
        if len > 63 {
            return None;
        }
        let label = packet.get(i..i + len)?;
        total += len + 1;
        if total > 255 {
            return None;
        }
        labels.push(String::from_utf8_lossy(label).to_ascii_lowercase());
        i += len;
    }
    let qtype = u16_at(packet, i)?;
    let qclass = u16_at(packet, i + 2)?;
    Some(Question {
        id,
        name: labels.join("."),
        qtype,
        qclass,
        end: i + 4,
    })
}

/// The response to `query` (whose question is `q`): `addresses` as A records
/// (empty: no answer), with `rcode`.
pub fn response(query: &[u8], q: &Question, addresses: &[Ipv4Addr], rcode: u8) -> Vec<u8> {
    let mut out = Vec::with_capacity(q.end + 16 * addresses.len());
    out.extend_from_slice(&q.id.to_be_bytes());
    let rd = u16_at(query, 2).unwrap_or(0) & 0x0100;
    // QR, AA, RD as asked, RA.
    let flags: u16 = 0x8000 | 0x0400 | rd | 0x0080 | rcode as u16;
    out.extend_from_slice(&flags.to_be_bytes());
    out.extend_from_slice(&1u16.to_be_bytes());
    let answers = if q.qtype == TYPE_A && q.qclass == CLASS_IN {
        addresses.len() as u16
    } else {
        0
    };
    out.extend_from_slice(&answers.to_be_bytes());
    out.extend_from_slice(&[0, 0, 0, 0]);
    out.extend_from_slice(&query[12..q.end]);
    for ip in addresses.iter().take(answers as usize) {
        // Name: a pointer to the question's name at offset 12.
        out.extend_from_slice(&[0xc0, 0x0c]);
        out.extend_from_slice(&TYPE_A.to_be_bytes());
        out.extend_from_slice(&CLASS_IN.to_be_bytes());
        out.extend_from_slice(&TTL.to_be_bytes());
        out.extend_from_slice(&4u16.to_be_bytes());
        out.extend_from_slice(&ip.octets());
    }
    out
}

/// A query for `name` (tests and the holder's self-check).
pub fn query(id: u16, name: &str, qtype: u16) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&id.to_be_bytes());
    out.extend_from_slice(&0x0100u16.to_be_bytes());
    out.extend_from_slice(&[0, 1, 0, 0, 0, 0, 0, 0]);
    for label in name.split('.').filter(|l| !l.is_empty()) {
        out.push(label.len() as u8);
        out.extend_from_slice(label.as_bytes());
    }
    out.push(0);
    out.extend_from_slice(&qtype.to_be_bytes());
    out.extend_from_slice(&CLASS_IN.to_be_bytes());
    out
}

/// The A records of a response (tests).
pub fn answers(packet: &[u8]) -> Option<(u8, Vec<Ipv4Addr>)> {
    let rcode = (u16_at(packet, 2)? & 0xf) as u8;
    let q = {
        // Reuse the query parser on the question section.
        let mut copy = packet.to_vec();
        copy[2] &= 0x7f;
        parse_query(&copy)?
    };
    let count = u16_at(packet, 6)? as usize;
    let mut i = q.end;
    let mut out = Vec::new();
    for _ in 0..count {
        let rdlen = u16_at(packet, i + 10)? as usize;
        let data = packet.get(i + 12..i + 12 + rdlen)?;
        if u16_at(packet, i + 2)? == TYPE_A && rdlen == 4 {
            out.push(Ipv4Addr::new(data[0], data[1], data[2], data[3]));
        }
        i += 12 + rdlen;
    }
    Some((rcode, out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn answers_an_a_question() {
        let q = query(0x1234, "Web.", TYPE_A);
        let parsed = parse_query(&q).unwrap();
        assert_eq!(parsed.name, "web");
        assert_eq!(parsed.qtype, TYPE_A);
        let ip = Ipv4Addr::new(172, 18, 0, 2);
        let r = response(&q, &parsed, &[ip], RCODE_NOERROR);
        assert_eq!(&r[..2], &[0x12, 0x34]);
        assert_eq!(answers(&r), Some((RCODE_NOERROR, vec![ip])));
        let nx = response(&q, &parsed, &[], RCODE_NXDOMAIN);
        assert_eq!(answers(&nx), Some((RCODE_NXDOMAIN, vec![])));
    }

    #[test]
    fn aaaa_for_a_known_name_has_no_answer() {
        let q = query(7, "web", TYPE_AAAA);
        let parsed = parse_query(&q).unwrap();
        let r = response(&q, &parsed, &[Ipv4Addr::LOCALHOST], RCODE_NOERROR);
        assert_eq!(answers(&r), Some((RCODE_NOERROR, vec![])));
    }

    #[test]
    fn refuses_what_it_does_not_answer() {
        let mut q = query(1, "web", TYPE_A);
        q[2] |= 0x80; // a response
        assert!(parse_query(&q).is_none());
        assert!(parse_query(&[0; 11]).is_none());
        let mut compressed = query(1, "web", TYPE_A);
        compressed[12] = 0xc0;
        assert!(parse_query(&compressed).is_none());
    }

    proptest! {
        #[test]
        fn never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            if let Some(q) = parse_query(&bytes) {
                let r = response(&bytes, &q, &[Ipv4Addr::LOCALHOST], RCODE_NOERROR);
                prop_assert!(r.len() >= 12);
            }
        }
    }
}
