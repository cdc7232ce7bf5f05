//! Typed condition values: exact decimals, instants (ISO 8601 or epoch seconds), booleans, IP networks and
//! base64. The same functions read policy values (at parse time) and request values (at evaluation).

use std::cmp::Ordering;

use nom::branch::alt;
use nom::bytes::complete::{tag, take_while_m_n, take_while1};
use nom::character::complete::{char, digit1, one_of};
use nom::combinator::{all_consuming, opt, recognize};
use nom::sequence::{pair, preceded};
use nom::{IResult, Parser};

/// An exact decimal number: `-?[0-9]+(\.[0-9]+)?`, compared without rounding (`10` = `10.0`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Decimal {
    negative: bool,
    /// Integer digits without leading zeros.
    int: String,
    /// Fraction digits without trailing zeros.
    frac: String,
}

impl Decimal {
    /// Parses the strict number syntax. Exponents, hex, `+`, whitespace and trailing text are refused.
    pub fn parse(s: &str) -> Option<Decimal> {
        let r: IResult<&str, (Option<char>, &str, Option<&str>)> =
            all_consuming((opt(char('-')), digit1, opt(preceded(char('.'), digit1)))).parse(s);
        let (_, (sign, int, frac)) = r.ok()?;
        let int = int.trim_start_matches('0').to_string();
        let frac = frac.unwrap_or("").trim_end_matches('0').to_string();
        let zero = int.is_empty() && frac.is_empty();
        Some(Decimal {
            negative: sign.is_some() && !zero,
            int,
            frac,
        })
    }

    fn cmp_magnitude(&self, o: &Self) -> Ordering {
        self.int
            .len()
            .cmp(&o.int.len())
            .then_with(|| self.int.cmp(&o.int))
            .then_with(|| self.frac.cmp(&o.frac))
    }
}

impl std::fmt::Display for Decimal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.negative {
            f.write_str("-")?;
        }
        f.write_str(if self.int.is_empty() { "0" } else { &self.int })?;
        if !self.frac.is_empty() {
            write!(f, ".{}", self.frac)?;
        }
        Ok(())
    }
}

impl Ord for Decimal {
    fn cmp(&self, o: &Self) -> Ordering {
        match (self.negative, o.negative) {
            (false, true) => Ordering::Greater,
            (true, false) => Ordering::Less,
            (false, false) => self.cmp_magnitude(o),
            (true, true) => o.cmp_magnitude(self),
        }
    }
}
impl PartialOrd for Decimal {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}

/// A decimal borrowed from text, for comparing request values without allocating.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DecimalRef<'a> {
    negative: bool,
    int: &'a str,
    frac: &'a str,
}

impl<'a> DecimalRef<'a> {
    /// Parses the same strict syntax as [`Decimal::parse`], borrowing the digits.
    pub fn parse(s: &'a str) -> Option<Self> {
        let (neg, rest) = match s.strip_prefix('-') {
            Some(r) => (true, r),
            None => (false, s),
        };
        let (int, frac) = match rest.split_once('.') {
            Some((i, f)) => (i, Some(f)),
            None => (rest, None),
        };
        if int.is_empty() || !int.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        if let Some(f) = frac
            && (f.is_empty() || !f.bytes().all(|b| b.is_ascii_digit()))
        {
            return None;
        }
        let int = int.trim_start_matches('0');
        let frac = frac.unwrap_or("").trim_end_matches('0');
        Some(DecimalRef {
            negative: neg && !(int.is_empty() && frac.is_empty()),
            int,
            frac,
        })
    }

    fn cmp_magnitude(&self, o: &DecimalRef<'_>) -> Ordering {
        self.int
            .len()
            .cmp(&o.int.len())
            .then_with(|| self.int.cmp(o.int))
            .then_with(|| self.frac.cmp(o.frac))
    }

    /// Compares two decimals exactly.
    pub fn cmp_to(&self, o: &DecimalRef<'_>) -> Ordering {
        match (self.negative, o.negative) {
            (false, true) => Ordering::Greater,
            (true, false) => Ordering::Less,
            (false, false) => self.cmp_magnitude(o),
            (true, true) => o.cmp_magnitude(self),
        }
    }
}

impl Decimal {
    /// This decimal, borrowed.
    pub fn as_ref(&self) -> DecimalRef<'_> {
        DecimalRef {
            negative: self.negative,
            int: &self.int,
            frac: &self.frac,
        }
    }
}

/// A point in time, in nanoseconds since the Unix epoch (UTC).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant(pub i128);

/// Whether an ISO-8601 time carried no offset (UTC was assumed).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DateForm {
    /// All-digit epoch seconds.
    Epoch,
    /// Date only (midnight UTC), or a time with `Z` / `±hh:mm`.
    Iso,
    /// A time with no offset: read as UTC.
    IsoNoOffset,
}

fn digits_n(n: usize) -> impl Fn(&str) -> IResult<&str, &str> {
    move |i| take_while_m_n(n, n, |c: char| c.is_ascii_digit())(i)
}

fn num(s: &str) -> i64 {
    s.parse().unwrap_or(0)
}

type TimeParts<'a> = (
    &'a str,
    &'a str,
    Option<(&'a str, Option<&'a str>)>,
    Option<&'a str>,
);

fn iso_time(i: &str) -> IResult<&str, TimeParts<'_>> {
    let (i, hh) = preceded(char('T'), digits_n(2)).parse(i)?;
    let (i, mm) = preceded(char(':'), digits_n(2)).parse(i)?;
    let (i, ss) = opt(pair(
        preceded(char(':'), digits_n(2)),
        opt(preceded(
            char('.'),
            take_while1(|c: char| c.is_ascii_digit()),
        )),
    ))
    .parse(i)?;
    let (i, tz) = opt(alt((
        tag("Z"),
        recognize((one_of("+-"), digits_n(2), char(':'), digits_n(2))),
    )))
    .parse(i)?;
    Ok((i, (hh, mm, ss, tz)))
}

type DateParts<'a> = (
    &'a str,
    Option<(&'a str, Option<&'a str>)>,
    Option<TimeParts<'a>>,
);

fn iso(i: &str) -> IResult<&str, DateParts<'_>> {
    all_consuming((
        digits_n(4),
        opt(pair(
            preceded(char('-'), digits_n(2)),
            opt(preceded(char('-'), digits_n(2))),
        )),
        opt(iso_time),
    ))
    .parse(i)
}

/// Parses a date: `YYYY`, `YYYY-MM`, `YYYY-MM-DD`, `YYYY-MM-DDThh:mm[:ss[.s+]][Z|±hh:mm]`, or all-digit
/// epoch seconds.
pub fn parse_date(s: &str) -> Option<(Instant, DateForm)> {
    if !s.is_empty() && s.len() <= 18 && s.bytes().all(|b| b.is_ascii_digit()) && s.len() != 4 {
        let secs: i128 = s.parse().ok()?;
        return Some((Instant(secs * 1_000_000_000), DateForm::Epoch));
    }
    let (_, (y, md, t)) = iso(s).ok()?;
    let (m, d) = match md {
        Some((m, d)) => (num(m), d.map_or(1, num)),
        None => (1, 1),
    };
    if t.is_some() && md.is_none_or(|(_, d)| d.is_none()) {
        return None; // a time needs a full date
    }
    let month = time::Month::try_from(u8::try_from(m).ok()?).ok()?;
    let date =
        time::Date::from_calendar_date(i32::try_from(num(y)).ok()?, month, u8::try_from(d).ok()?)
            .ok()?;
    let mut form = DateForm::Iso;
    let mut nanos: i128 = 0;
    let mut offset_secs: i128 = 0;
    if let Some((hh, mm, ss, tz)) = t {
        let (h, mi) = (num(hh), num(mm));
        let (sec, frac) = ss.map_or((0, None), |(s, f)| (num(s), f));
        if h > 23 || mi > 59 || sec > 60 {
            return None;
        }
        nanos += i128::from(h * 3600 + mi * 60 + sec) * 1_000_000_000;
        if let Some(f) = frac {
            // The first nine digits are nanoseconds; later digits are below the resolution.
            let mut n: i128 = 0;
            for i in 0..9 {
                n = n * 10 + f.as_bytes().get(i).map_or(0, |b| i128::from(b - b'0'));
            }
            nanos += n;
        }
        match tz {
            None => form = DateForm::IsoNoOffset,
            Some("Z") => {}
            Some(z) => {
                let sign = if z.starts_with('-') { -1 } else { 1 };
                let oh = num(z.get(1..3)?);
                let om = num(z.get(4..6)?);
                if oh > 23 || om > 59 {
                    return None;
                }
                offset_secs = sign * i128::from(oh * 3600 + om * 60);
            }
        }
    }
    let days = i128::from(
        date.to_julian_day()
            - time::Date::from_calendar_date(1970, time::Month::January, 1)
                .ok()?
                .to_julian_day(),
    );
    Some((
        Instant(days * 86_400 * 1_000_000_000 + nanos - offset_secs * 1_000_000_000),
        form,
    ))
}

/// Parses `true` / `false` in any case.
pub fn parse_bool(s: &str) -> Option<bool> {
    if s.eq_ignore_ascii_case("true") {
        Some(true)
    } else if s.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

/// Parses an IP address or CIDR. A bare address is a /32 (IPv4) or /128 (IPv6) network. Host bits after
/// the prefix are masked off; the second value says whether any were set.
pub fn parse_ip_net(s: &str) -> Option<(ipnet::IpNet, bool)> {
    if let Ok(net) = s.parse::<ipnet::IpNet>() {
        let trunc = net.trunc();
        return Some((trunc, trunc != net));
    }
    let addr: std::net::IpAddr = s.parse().ok()?;
    Some((ipnet::IpNet::from(addr), false))
}

/// Parses a request IP address (a bare address, no prefix).
pub fn parse_ip_addr(s: &str) -> Option<std::net::IpAddr> {
    s.parse().ok()
}

/// Decodes standard base64 (with padding).
pub fn parse_base64(s: &str) -> Option<Vec<u8>> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.decode(s).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        Decimal::parse(s).unwrap()
    }

    #[test]
    fn decimals() {
        assert_eq!(d("10"), d("10.0"));
        assert_eq!(d("-0"), d("0.000"));
        assert!(d("9.99") < d("10"));
        assert!(d("-10") < d("-9.5"));
        assert!(d("0.5") > d("0.25"));
        assert!(d("100") > d("99.999"));
        for bad in ["1e3", "+1", " 1", "10abc", "0x10", "1.", ".5", ""] {
            assert!(Decimal::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn decimal_refs_agree_with_decimals() {
        for (a, b) in [
            ("10", "10.0"),
            ("-1", "1"),
            ("0.5", "0.25"),
            ("-0", "0"),
            ("100", "99.999"),
            ("-10", "-9.5"),
        ] {
            let (x, y) = (d(a), d(b));
            assert_eq!(
                x.as_ref().cmp_to(&DecimalRef::parse(b).unwrap()),
                x.cmp(&y),
                "{a} {b}"
            );
        }
        assert!(DecimalRef::parse("1e3").is_none());
        assert!(DecimalRef::parse("1.").is_none());
        assert!(DecimalRef::parse("-").is_none());
    }

    #[test]
    fn dates() {
        let t = |s: &str| parse_date(s).unwrap().0;
        assert_eq!(t("2020-01-01T00:00:00Z"), t("1577836800"));
        assert_eq!(t("2020-01-01"), t("2020-01-01T00:00Z"));
        assert_eq!(t("2020"), t("2020-01-01"));
        assert_eq!(t("2020-06"), t("2020-06-01"));
        assert_eq!(t("2020-01-01T01:00:00+01:00"), t("2020-01-01T00:00:00Z"));
        assert_eq!(
            t("2020-01-01T00:00:00.5Z").0 - t("2020-01-01T00:00:00Z").0,
            500_000_000
        );
        assert_eq!(
            parse_date("2020-01-01T00:00:00").unwrap().1,
            DateForm::IsoNoOffset
        );
        assert!(t("2020-06-30") < t("2020-06-30T00:00:01Z"));
        for bad in [
            "2020-13-01",
            "2020-02-30",
            "2020-01-01T25:00Z",
            "yesterday",
            "2020-01-01 00:00",
            "1e9",
            "2020T10:00",
        ] {
            assert!(parse_date(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn ips() {
        let (n, host) = parse_ip_net("203.0.113.7/24").unwrap();
        assert_eq!(n.to_string(), "203.0.113.0/24");
        assert!(host);
        assert_eq!(parse_ip_net("10.0.0.1").unwrap().0.prefix_len(), 32);
        assert_eq!(parse_ip_net("2001:DB8::1").unwrap().0.prefix_len(), 128);
        assert!(parse_ip_net("300.1.1.1/8").is_none());
        assert!(parse_ip_net("10.0.0.0/33").is_none());
    }

    #[test]
    fn booleans_and_base64() {
        assert_eq!(parse_bool("TRUE"), Some(true));
        assert_eq!(parse_bool("yes"), None);
        assert_eq!(parse_base64("aGk="), Some(b"hi".to_vec()));
        assert_eq!(parse_base64("not base64!"), None);
    }
}
