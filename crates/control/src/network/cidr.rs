//! IPv4 CIDR blocks: parsing as EC2 reads them, containment, overlap and the addresses a
//! subnet offers (AWS reserves the first four and the last of every subnet).

use std::fmt;
use std::net::Ipv4Addr;

/// An IPv4 block: a network address and a prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Cidr {
    base: u32,
    prefix: u8,
}

/// How many addresses AWS keeps out of every subnet: the network address, the router, DNS,
/// one for future use, and the broadcast address.
pub const RESERVED_PER_SUBNET: u64 = 5;

impl Cidr {
    /// Reads `a.b.c.d/n`. The address must be the block's own network address (`10.0.0.1/16` is
    /// refused, as EC2 refuses it for VPCs and subnets), unless `loose`, as security group
    /// rules take any address and keep the block it lies in.
    pub fn parse(text: &str, loose: bool) -> Option<Self> {
        let (address, prefix) = text.split_once('/')?;
        let address: Ipv4Addr = address.parse().ok()?;
        // `/08` or `/+8` are not CIDR notation, though Rust would parse them.
        let digits = prefix.bytes().all(|b| b.is_ascii_digit());
        if !digits
            || prefix.is_empty()
            || prefix.len() > 2
            || prefix.starts_with("0") && prefix.len() > 1
        {
            return None;
        }
        let prefix: u8 = prefix.parse().ok()?;
        if prefix > 32 {
            return None;
        }
        let base = u32::from(address);
        let cidr = Self {
            base: base & mask(prefix),
            prefix,
        };
        (loose || cidr.base == base).then_some(cidr)
    }

    /// The prefix length.
    pub fn prefix(self) -> u8 {
        self.prefix
    }

    /// How many addresses the block holds.
    pub fn size(self) -> u64 {
        1u64 << (32 - u32::from(self.prefix))
    }

    /// Whether `other` lies wholly inside this block.
    pub fn contains(self, other: Cidr) -> bool {
        other.prefix >= self.prefix && other.base & mask(self.prefix) == self.base
    }

    /// Whether the two blocks share an address.
    pub fn overlaps(self, other: Cidr) -> bool {
        self.contains(other) || other.contains(self)
    }

    /// The `index`-th block of length `prefix` inside this one, if there is one.
    pub fn nth_block(self, prefix: u8, index: u64) -> Option<Cidr> {
        if prefix < self.prefix || prefix > 32 || index >= 1u64 << (prefix - self.prefix) {
            return None;
        }
        let step = 1u64 << (32 - u32::from(prefix));
        let base = u64::from(self.base) + index * step;
        Some(Cidr {
            base: u32::try_from(base).ok()?,
            prefix,
        })
    }

    /// The `n`-th address of the block (0 is the network address).
    pub fn address(self, n: u64) -> Option<Ipv4Addr> {
        (n < self.size()).then(|| Ipv4Addr::from(self.base + n as u32))
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", Ipv4Addr::from(self.base), self.prefix)
    }
}

impl serde::Serialize for Cidr {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Cidr {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Cidr::parse(&text, false)
            .ok_or_else(|| serde::de::Error::custom(format!("{text:?} is not a CIDR block")))
    }
}

fn mask(prefix: u8) -> u32 {
    u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cidr(text: &str) -> Cidr {
        Cidr::parse(text, false).unwrap()
    }

    #[test]
    fn blocks_are_read_strictly_unless_loose() {
        assert_eq!(cidr("172.31.0.0/16").to_string(), "172.31.0.0/16");
        assert_eq!(Cidr::parse("10.0.0.1/16", false), None);
        assert_eq!(
            Cidr::parse("10.0.0.1/16", true).unwrap().to_string(),
            "10.0.0.0/16"
        );
        assert_eq!(cidr("0.0.0.0/0").size(), 1 << 32);
        for bad in [
            "10.0.0.0",
            "10.0.0.0/33",
            "10.0.0.0/08",
            "10.0.0.0/+8",
            "x/8",
            "10.0.0/8",
        ] {
            assert_eq!(Cidr::parse(bad, true), None, "{bad}");
        }
    }

    #[test]
    fn containment_overlap_and_blocks() {
        let vpc = cidr("172.31.0.0/16");
        assert!(vpc.contains(cidr("172.31.16.0/20")));
        assert!(!vpc.contains(cidr("172.30.0.0/20")));
        assert!(!cidr("172.31.16.0/20").contains(vpc));
        assert!(vpc.overlaps(cidr("172.0.0.0/8")));
        assert!(!cidr("10.0.0.0/24").overlaps(cidr("10.0.1.0/24")));
        assert_eq!(vpc.nth_block(20, 1).unwrap().to_string(), "172.31.16.0/20");
        assert_eq!(vpc.nth_block(20, 16), None);
        assert_eq!(
            cidr("10.0.1.0/24").address(4).unwrap().to_string(),
            "10.0.1.4"
        );
        assert_eq!(cidr("10.0.1.0/24").address(256), None);
    }
}
