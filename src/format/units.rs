//! docker's go-units semantics: human sizes, durations, size parsing, and Go's
//! number and time formatting that docker output depends on.
//!
//! Every function here reproduces a Go function byte for byte:
//!
//! | berth | Go |
//! |---|---|
//! | [`human_size`] | `units.HumanSizeWithPrecision(size, 3)` (docker's `images` SIZE) |
//! | [`human_size_with_precision`] | `units.HumanSizeWithPrecision` (`HumanSize` is precision 4) |
//! | [`bytes_size`] | `units.BytesSize` (binary units, `stats`) |
//! | [`human_duration`] | `units.HumanDuration` |
//! | [`time_ago`] | `units.HumanDuration(now.Sub(t)) + " ago"` |
//! | [`parse_size`] | `units.RAMInBytes` (`--memory 1g`, `--shm-size 64m`) |
//! | [`from_human_size`] | `units.FromHumanSize` |
//! | [`go_rfc3339_nano`] | `t.Format(time.RFC3339Nano)` |
//! | [`go_format_float`] | `strconv.FormatFloat(f, 'g', prec, 64)`; `None` is `%v` |
//!
//! ```
//! use berth::format::units::*;
//! assert_eq!(human_size(4_260_000.0), "4.26MB");
//! assert_eq!(bytes_size(1.5 * 1024.0 * 1024.0 * 1024.0), "1.5GiB");
//! assert_eq!(human_duration(std::time::Duration::from_secs(90)), "About a minute");
//! assert_eq!(parse_size("1.5g").unwrap(), 1_610_612_736);
//! ```

use std::time::Duration;

use chrono::{DateTime, Utc};

/// An error from [`parse_size`] or [`from_human_size`], worded as go-units
/// and `strconv` word it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UnitsError {
    /// No digit at all, or a negative size.
    #[error("invalid size: '{0}'")]
    InvalidSize(String),
    /// A suffix that is not one of `b`, `k`, `m`, `g`, `t`, `p` (+ `b`/`ib`).
    #[error("invalid suffix: '{0}'")]
    InvalidSuffix(String),
    /// The number part is not a float (`strconv.ParseFloat`'s error).
    #[error("strconv.ParseFloat: parsing {number:?}: {reason}")]
    Number {
        /// The text that failed to parse.
        number: String,
        /// `invalid syntax` or `value out of range`.
        reason: &'static str,
    },
}

const DECIMAL_ABBRS: [&str; 9] = ["B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"];
const BINARY_ABBRS: [&str; 9] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"];

fn size_and_unit(mut size: f64, base: f64, abbrs: &[&'static str]) -> (f64, &'static str) {
    let mut i = 0;
    while size >= base && i < abbrs.len() - 1 {
        size /= base;
        i += 1;
    }
    (size, abbrs[i])
}

/// docker's size column: go-units `HumanSizeWithPrecision(size, 3)`.
///
/// `0B`, `999B`, `1kB`, `1.23kB`, `4.26MB`, and Go's own quirks such as
/// `1e+03kB` for 999 999 bytes.
pub fn human_size(bytes: f64) -> String {
    human_size_with_precision(bytes, 3)
}

/// go-units `HumanSizeWithPrecision`: decimal units, `%.*g` formatting.
pub fn human_size_with_precision(size: f64, precision: usize) -> String {
    let (size, unit) = size_and_unit(size, 1000.0, &DECIMAL_ABBRS);
    format!("{}{unit}", go_format_float(size, Some(precision)))
}

/// go-units `BytesSize`: binary units with `%.4g` (`1KiB`, `3.42GiB`).
pub fn bytes_size(bytes: f64) -> String {
    let (size, unit) = size_and_unit(bytes, 1024.0, &BINARY_ABBRS);
    format!("{}{unit}", go_format_float(size, Some(4)))
}

const NS_PER_SEC: i64 = 1_000_000_000;
const NS_PER_MIN: i64 = 60 * NS_PER_SEC;
const NS_PER_HOUR: i64 = 60 * NS_PER_MIN;

/// go-units `HumanDuration`, with Go's thresholds and rounding:
/// "Less than a second", "1 second", "59 seconds", "About a minute",
/// "59 minutes", "About an hour", "47 hours", "13 days", "8 weeks",
/// "23 months", "2 years".
pub fn human_duration(d: Duration) -> String {
    // time.Duration is an int64 of nanoseconds; longer durations saturate.
    let ns = i64::try_from(d.as_nanos()).unwrap_or(i64::MAX);
    // Go's Duration.Seconds/Minutes/Hours split whole units and remainder
    // before converting to float; mirror that so boundaries round the same.
    let seconds = ((ns / NS_PER_SEC) as f64 + (ns % NS_PER_SEC) as f64 / 1e9) as i64;
    if seconds < 1 {
        return "Less than a second".to_string();
    }
    if seconds == 1 {
        return "1 second".to_string();
    }
    if seconds < 60 {
        return format!("{seconds} seconds");
    }
    let minutes = ((ns / NS_PER_MIN) as f64 + (ns % NS_PER_MIN) as f64 / 60e9) as i64;
    if minutes == 1 {
        return "About a minute".to_string();
    }
    if minutes < 60 {
        return format!("{minutes} minutes");
    }
    let hours_f = (ns / NS_PER_HOUR) as f64 + (ns % NS_PER_HOUR) as f64 / 3600e9;
    let hours = (hours_f + 0.5) as i64;
    if hours == 1 {
        "About an hour".to_string()
    } else if hours < 48 {
        format!("{hours} hours")
    } else if hours < 24 * 7 * 2 {
        format!("{} days", hours / 24)
    } else if hours < 24 * 30 * 2 {
        format!("{} weeks", hours / 24 / 7)
    } else if hours < 24 * 365 * 2 {
        format!("{} months", hours / 24 / 30)
    } else {
        format!("{} years", hours_f as i64 / 24 / 365)
    }
}

/// `human_duration(now - t) + " ago"` as docker prints CREATED columns
/// (`About a minute ago`); a `t` in the future counts as now.
pub fn time_ago(t: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let d = (now - t).to_std().unwrap_or(Duration::ZERO);
    format!("{} ago", human_duration(d))
}

/// go-units `RAMInBytes`: binary multiples (`64m` = 64 MiB), suffixes
/// `b k m g t p` with optional `b`/`ib`, any case, one optional space, and
/// decimals (`1.5g`). Fractions of a byte are truncated.
pub fn parse_size(s: &str) -> Result<i64, UnitsError> {
    parse_size_with(s, 1024)
}

/// go-units `FromHumanSize`: like [`parse_size`] with decimal multiples
/// (`32kB` = 32 000).
pub fn from_human_size(s: &str) -> Result<i64, UnitsError> {
    parse_size_with(s, 1000)
}

fn parse_size_with(s: &str, base: i64) -> Result<i64, UnitsError> {
    let Some(sep) = s.rfind(|c: char| c.is_ascii_digit() || c == '.' || c == ' ') else {
        return Err(UnitsError::InvalidSize(s.to_string()));
    };
    // The separator character is ASCII, so sep + 1 is a char boundary.
    let (num, sfx) = if s.as_bytes()[sep] == b' ' {
        (&s[..sep], &s[sep + 1..])
    } else {
        (&s[..=sep], &s[sep + 1..])
    };
    let size = go_parse_float(num)?;
    if size < 0.0 {
        return Err(UnitsError::InvalidSize(s.to_string()));
    }
    if sfx.is_empty() {
        return Ok(size as i64);
    }
    let bad = || UnitsError::InvalidSuffix(sfx.to_lowercase());
    if sfx.len() > 3 {
        return Err(UnitsError::InvalidSuffix(sfx.to_string()));
    }
    let lower = sfx.to_ascii_lowercase();
    let b = lower.as_bytes();
    if b[0] == b'b' {
        return if b.len() > 1 {
            Err(bad())
        } else {
            Ok(size as i64)
        };
    }
    let power = match b[0] {
        b'k' => 1,
        b'm' => 2,
        b'g' => 3,
        b't' => 4,
        b'p' => 5,
        _ => return Err(bad()),
    };
    match b.len() {
        2 if b[1] != b'b' => return Err(bad()),
        3 if &b[1..] != b"ib" => return Err(bad()),
        _ => {}
    }
    Ok((size * base.pow(power) as f64) as i64)
}

/// `strconv.ParseFloat(s, 64)` for the decimal forms go-units can meet.
fn go_parse_float(s: &str) -> Result<f64, UnitsError> {
    let err = |reason| UnitsError::Number {
        number: s.to_string(),
        reason,
    };
    // Rust accepts the same decimal syntax (sign, digits, '.', exponent,
    // inf/nan words) but not Go's hex floats or '_' separators, which Go
    // only accepts with a base prefix anyway.
    let v: f64 = s.parse().map_err(|_| err("invalid syntax"))?;
    if v.is_infinite() && !s.to_ascii_lowercase().contains("inf") {
        return Err(err("value out of range"));
    }
    Ok(v)
}

/// Go's `time.Duration.String` for whole milliseconds and up: `1s`,
/// `1.5s`, `1m30s`, `2h0m0s`, `500ms`.
pub fn go_duration(d: std::time::Duration) -> String {
    let ms = d.as_millis();
    if ms == 0 {
        return "0s".into();
    }
    if ms < 1000 {
        return format!("{ms}ms");
    }
    let secs = |ms: u128| {
        let (s, frac) = (ms / 1000, ms % 1000);
        if frac == 0 {
            format!("{s}s")
        } else {
            format!("{s}.{}s", format!("{frac:03}").trim_end_matches('0'))
        }
    };
    let (h, rest) = (ms / 3_600_000, ms % 3_600_000);
    let (m, rest) = (rest / 60_000, rest % 60_000);
    match (h, m) {
        (0, 0) => secs(rest),
        (0, m) => format!("{m}m{}", secs(rest)),
        (h, m) => format!("{h}h{m}m{}", secs(rest)),
    }
}

/// Go's `time.RFC3339Nano`: `2024-01-02T03:04:05.123456789Z`, trailing zeros
/// of the fraction trimmed (`…:05.1Z`, `…:05Z`); the zero time is
/// `0001-01-01T00:00:00Z`.
pub fn go_rfc3339_nano(t: DateTime<Utc>) -> String {
    let mut out = t.format("%Y-%m-%dT%H:%M:%S").to_string();
    // A leap second shows as nanos >= 1e9 in chrono; Go has no leap seconds.
    let nanos = t.timestamp_subsec_nanos().min(999_999_999);
    if nanos > 0 {
        let frac = format!("{nanos:09}");
        out.push('.');
        out.push_str(frac.trim_end_matches('0'));
    }
    out.push('Z');
    out
}

/// Go's zero `time.Time` as docker prints it for never-set times.
pub const GO_ZERO_TIME: &str = "0001-01-01T00:00:00Z";

/// Go's `strconv.FormatFloat(f, 'g', precision, 64)`, which is also what
/// `fmt`'s `%.Ng` and (with `None`, the shortest representation) `%v` print:
/// `1e+06`, `123456`, `1.234567e+06`, `0.0001`, `1e-05`, `+Inf`.
pub fn go_format_float(f: f64, precision: Option<usize>) -> String {
    if f.is_nan() {
        return "NaN".to_string();
    }
    if f.is_infinite() {
        return if f > 0.0 { "+Inf" } else { "-Inf" }.to_string();
    }
    let neg = f.is_sign_negative();
    let (digits, dp) = decimal_digits(f.abs(), precision.map(|p| p.max(1)));
    let nd = digits.len() as i64;
    let shortest = precision.is_none();
    let mut prec = precision.map_or(nd, |p| p.max(1) as i64);
    let mut eprec = prec;
    if eprec > nd && nd >= dp {
        eprec = nd;
    }
    if shortest {
        eprec = 6;
    }
    let exp = dp - 1;
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    if exp < -4 || exp >= eprec {
        if prec > nd {
            prec = nd;
        }
        push_exp_form(&mut out, &digits, dp, (prec - 1).max(0) as usize);
    } else {
        if prec > dp {
            prec = nd;
        }
        push_fixed_form(&mut out, &digits, dp, (prec - dp).max(0) as usize);
    }
    out
}

/// Decimal digits of a finite non-negative `f`, without trailing zeros, and
/// the decimal point position (`0.123` has dp 0, `12.3` dp 2), rounded to
/// `precision` significant digits or the shortest round-trip form.
pub(crate) fn decimal_digits(f: f64, precision: Option<usize>) -> (Vec<u8>, i64) {
    if f == 0.0 {
        return (Vec::new(), 0);
    }
    let sci = match precision {
        Some(p) => format!("{:.*e}", p - 1, f),
        None => format!("{f:e}"),
    };
    let (mantissa, exp) = sci.split_once('e').unwrap_or((sci.as_str(), "0"));
    let exp: i64 = exp.parse().unwrap_or(0);
    let mut digits: Vec<u8> = mantissa.bytes().filter(u8::is_ascii_digit).collect();
    while digits.last() == Some(&b'0') {
        digits.pop();
    }
    (digits, exp + 1)
}

/// Go's `%e` body: `d.ddde±XX` with `decimals` digits after the point.
pub(crate) fn push_exp_form(out: &mut String, digits: &[u8], dp: i64, decimals: usize) {
    out.push(digits.first().map_or('0', |&d| d as char));
    if decimals > 0 {
        out.push('.');
        for i in 1..=decimals {
            out.push(digits.get(i).map_or('0', |&d| d as char));
        }
    }
    out.push('e');
    let exp = if digits.is_empty() { 0 } else { dp - 1 };
    out.push(if exp < 0 { '-' } else { '+' });
    let exp = exp.unsigned_abs();
    if exp < 10 {
        out.push('0');
    }
    out.push_str(&exp.to_string());
}

/// Go's `%f` body with `decimals` digits after the point.
pub(crate) fn push_fixed_form(out: &mut String, digits: &[u8], dp: i64, decimals: usize) {
    if dp > 0 {
        for i in 0..dp as usize {
            out.push(digits.get(i).map_or('0', |&d| d as char));
        }
    } else {
        out.push('0');
    }
    if decimals > 0 {
        out.push('.');
        for i in 1..=decimals as i64 {
            let idx = dp + i - 1;
            let c = if idx >= 0 {
                digits.get(idx as usize).map_or('0', |&d| d as char)
            } else {
                '0'
            };
            out.push(c);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations_print_like_go() {
        use std::time::Duration;
        assert_eq!(go_duration(Duration::from_secs(30)), "30s");
        assert_eq!(go_duration(Duration::from_millis(1500)), "1.5s");
        assert_eq!(go_duration(Duration::from_secs(90)), "1m30s");
        assert_eq!(go_duration(Duration::from_secs(7200)), "2h0m0s");
        assert_eq!(go_duration(Duration::from_millis(500)), "500ms");
    }
    use chrono::TimeZone;

    const KB: f64 = 1000.0;
    const MB: f64 = 1000.0 * KB;
    const GB: f64 = 1000.0 * MB;
    const TB: f64 = 1000.0 * GB;
    const PB: f64 = 1000.0 * TB;
    const KIB: f64 = 1024.0;
    const MIB: f64 = 1024.0 * KIB;
    const GIB: f64 = 1024.0 * MIB;
    const TIB: f64 = 1024.0 * GIB;
    const PIB: f64 = 1024.0 * TIB;

    #[test]
    fn human_size_go_units_table() {
        // go-units' TestHumanSize uses precision 4 (HumanSize).
        let h = |s| human_size_with_precision(s, 4);
        assert_eq!(h(1000.0), "1kB");
        assert_eq!(h(1024.0), "1.024kB");
        assert_eq!(h(1_000_000.0), "1MB");
        assert_eq!(h(1_048_576.0), "1.049MB");
        assert_eq!(h(2.0 * MB), "2MB");
        assert_eq!(h(3.42 * GB), "3.42GB");
        assert_eq!(h(5.372 * TB), "5.372TB");
        assert_eq!(h(2.22 * PB), "2.22PB");
        assert_eq!(h(10_000_000_000_000.0 * PB), "1e+04YB");
    }

    #[test]
    fn human_size_docker_precision_3() {
        assert_eq!(human_size(0.0), "0B");
        assert_eq!(human_size(1.0), "1B");
        assert_eq!(human_size(999.0), "999B");
        assert_eq!(human_size(1000.0), "1kB");
        assert_eq!(human_size(1234.0), "1.23kB");
        assert_eq!(human_size(1024.0), "1.02kB");
        assert_eq!(human_size(4_260_000.0), "4.26MB");
        assert_eq!(human_size(4_261_111.0), "4.26MB");
        assert_eq!(human_size(4_265_000.0), "4.26MB"); // 4.265 is below the tie in binary
        assert_eq!(human_size(4_200_000.0), "4.2MB");
        assert_eq!(human_size(77_800_000.0), "77.8MB");
        assert_eq!(human_size(187_000_000.0), "187MB");
        assert_eq!(human_size(1_500_000_000.0), "1.5GB");
        assert_eq!(human_size(100_000.0), "100kB");
        // Go's %.3g switches to exponent form when rounding reaches 1000.
        assert_eq!(human_size(999_999.0), "1e+03kB");
        assert_eq!(human_size(999.5), "1e+03B");
        assert_eq!(human_size(0.5), "0.5B");
    }

    #[test]
    fn bytes_size_go_units_table() {
        assert_eq!(bytes_size(1024.0), "1KiB");
        assert_eq!(bytes_size(1024.0 * 1024.0), "1MiB");
        assert_eq!(bytes_size(1_048_576.0), "1MiB");
        assert_eq!(bytes_size(2.0 * MIB), "2MiB");
        assert_eq!(bytes_size(3.42 * GIB), "3.42GiB");
        assert_eq!(bytes_size(5.372 * TIB), "5.372TiB");
        assert_eq!(bytes_size(2.22 * PIB), "2.22PiB");
        assert_eq!(
            bytes_size(KIB * KIB * KIB * KIB * KIB * PIB),
            "1.049e+06YiB"
        );
        assert_eq!(bytes_size(1.5 * GIB), "1.5GiB");
        assert_eq!(bytes_size(0.0), "0B");
        assert_eq!(bytes_size(512.0), "512B");
        assert_eq!(bytes_size(1023.0), "1023B");
    }

    #[test]
    fn human_duration_go_units_table() {
        let s = Duration::from_secs;
        let ms = Duration::from_millis;
        let min = |m: u64| s(60 * m);
        let hour = |h: u64| s(3600 * h);
        let day = |d: u64| hour(24 * d);
        let week = |w: u64| day(7 * w);
        let month = |m: u64| day(30 * m);
        let year = |y: u64| day(365 * y);
        let cases: Vec<(Duration, &str)> = vec![
            (Duration::ZERO, "Less than a second"),
            (ms(450), "Less than a second"),
            (ms(999), "Less than a second"),
            (s(1), "1 second"),
            (ms(1999), "1 second"),
            (s(45), "45 seconds"),
            (s(46), "46 seconds"),
            (s(47), "47 seconds"),
            (s(59), "59 seconds"),
            (s(60), "About a minute"),
            (min(1), "About a minute"),
            (s(119), "About a minute"),
            (min(2), "2 minutes"),
            (min(3), "3 minutes"),
            (min(35), "35 minutes"),
            (min(35) + s(40), "35 minutes"),
            (min(45), "45 minutes"),
            (min(45) + s(40), "45 minutes"),
            (min(46), "46 minutes"),
            (min(59), "59 minutes"),
            (hour(1), "About an hour"),
            (hour(1) + min(29), "About an hour"),
            (hour(1) + min(30), "2 hours"),
            (hour(1) + min(31), "2 hours"),
            (hour(1) + min(45), "2 hours"),
            (hour(1) + min(59), "2 hours"),
            (hour(3), "3 hours"),
            (hour(3) + min(29), "3 hours"),
            (hour(3) + min(31), "4 hours"),
            (hour(3) + min(59), "4 hours"),
            (hour(3) + min(60), "4 hours"),
            (hour(24), "24 hours"),
            (day(1) + hour(12), "36 hours"),
            (hour(47) + min(29), "47 hours"),
            (hour(47) + min(30), "2 days"),
            (day(2), "2 days"),
            (day(7), "7 days"),
            (day(13) + hour(5), "13 days"),
            (week(2), "2 weeks"),
            (week(2) + day(4), "2 weeks"),
            (week(3), "3 weeks"),
            (week(4), "4 weeks"),
            (week(4) + day(3), "4 weeks"),
            (month(1), "4 weeks"),
            (month(1) + week(2), "6 weeks"),
            (month(2), "2 months"),
            (month(2) + week(2), "2 months"),
            (month(3), "3 months"),
            (month(3) + week(1), "3 months"),
            (month(5) + week(2), "5 months"),
            (month(13), "13 months"),
            (month(23), "23 months"),
            (month(24), "24 months"),
            (month(24) + week(2), "2 years"),
            (year(3) + month(2), "3 years"),
            (Duration::from_secs(u64::MAX), "292 years"),
        ];
        for (d, want) in cases {
            assert_eq!(human_duration(d), want, "{d:?}");
        }
    }

    #[test]
    fn time_ago_clamps_future() {
        let now = Utc.with_ymd_and_hms(2024, 5, 1, 12, 0, 0).unwrap();
        let t = now - chrono::Duration::seconds(90);
        assert_eq!(time_ago(t, now), "About a minute ago");
        assert_eq!(
            time_ago(now - chrono::Duration::hours(3), now),
            "3 hours ago"
        );
        let future = now + chrono::Duration::seconds(30);
        assert_eq!(time_ago(future, now), "Less than a second ago");
    }

    #[test]
    fn ram_in_bytes_go_units_table() {
        let ok = |s: &str| parse_size(s).unwrap_or_else(|e| panic!("{s}: {e}"));
        assert_eq!(ok("32"), 32);
        assert_eq!(ok("32b"), 32);
        assert_eq!(ok("32B"), 32);
        assert_eq!(ok("32k"), 32 * 1024);
        assert_eq!(ok("32K"), 32 * 1024);
        assert_eq!(ok("32kb"), 32 * 1024);
        assert_eq!(ok("32Kb"), 32 * 1024);
        assert_eq!(ok("32Kib"), 32 * 1024);
        assert_eq!(ok("32KIB"), 32 * 1024);
        assert_eq!(ok("32Mb"), 32 << 20);
        assert_eq!(ok("32Gb"), 32 << 30);
        assert_eq!(ok("32Tb"), 32 << 40);
        assert_eq!(ok("32Pb"), 32 << 50);
        assert_eq!(ok("32PB"), 32 << 50);
        assert_eq!(ok("32P"), 32 << 50);
        assert_eq!(ok("32.3"), 32);
        assert_eq!(ok("32.3 mb"), (32.3 * MIB) as i64);
        assert_eq!(ok("0.3MB"), (0.3 * MIB) as i64);
        assert_eq!(ok("64m"), 64 << 20);
        assert_eq!(ok("1g"), 1 << 30);
        assert_eq!(ok("1.5g"), 1_610_612_736);
        assert_eq!(ok("1 GiB"), 1 << 30);
        assert_eq!(ok("32 "), 32); // the trailing space is the separator
        assert_eq!(ok("1e3"), 1000);

        for bad in [
            "", "hello", "-32", " 32 ", "32m b", "32bm", "32x", "32kbb", "32kib2", ".",
        ] {
            assert!(parse_size(bad).is_err(), "{bad:?} should fail");
        }
        assert_eq!(
            parse_size("32bm").unwrap_err().to_string(),
            "invalid suffix: 'bm'"
        );
        assert_eq!(
            parse_size("hello").unwrap_err().to_string(),
            "invalid size: 'hello'"
        );
        assert_eq!(
            parse_size("-32").unwrap_err().to_string(),
            "invalid size: '-32'"
        );
        assert_eq!(
            parse_size("32m b").unwrap_err().to_string(),
            "strconv.ParseFloat: parsing \"32m\": invalid syntax"
        );
    }

    #[test]
    fn from_human_size_go_units_table() {
        let ok = |s: &str| from_human_size(s).unwrap_or_else(|e| panic!("{s}: {e}"));
        assert_eq!(ok("32"), 32);
        assert_eq!(ok("32b"), 32);
        assert_eq!(ok("32B"), 32);
        assert_eq!(ok("32k"), 32_000);
        assert_eq!(ok("32K"), 32_000);
        assert_eq!(ok("32kb"), 32_000);
        assert_eq!(ok("32Kb"), 32_000);
        assert_eq!(ok("32Mb"), 32_000_000);
        assert_eq!(ok("32Gb"), 32_000_000_000);
        assert_eq!(ok("32Tb"), 32_000_000_000_000);
        assert_eq!(ok("32Pb"), 32_000_000_000_000_000);
        assert_eq!(ok("32.5kB"), 32_500);
        assert_eq!(ok("32.5 kB"), 32_500);
        assert_eq!(ok("32.5 B"), 32);
        assert_eq!(ok("0.3 K"), 300);
        for bad in ["", "hello", "-32", " 32 ", "32m b", "32bm"] {
            assert!(from_human_size(bad).is_err(), "{bad:?} should fail");
        }
    }

    #[test]
    fn rfc3339_nano() {
        let t = Utc.with_ymd_and_hms(2024, 1, 2, 3, 4, 5).unwrap();
        assert_eq!(go_rfc3339_nano(t), "2024-01-02T03:04:05Z");
        let ns = |n| t + chrono::Duration::nanoseconds(n);
        assert_eq!(
            go_rfc3339_nano(ns(123_456_789)),
            "2024-01-02T03:04:05.123456789Z"
        );
        assert_eq!(go_rfc3339_nano(ns(100_000_000)), "2024-01-02T03:04:05.1Z");
        assert_eq!(go_rfc3339_nano(ns(120)), "2024-01-02T03:04:05.00000012Z");
        assert_eq!(go_rfc3339_nano(ns(1)), "2024-01-02T03:04:05.000000001Z");
        let zero = Utc.with_ymd_and_hms(1, 1, 1, 0, 0, 0).unwrap();
        assert_eq!(go_rfc3339_nano(zero), GO_ZERO_TIME);
    }

    proptest::proptest! {
        #[test]
        fn go_float_v_round_trips(bits in proptest::prelude::any::<u64>()) {
            let f = f64::from_bits(bits);
            proptest::prop_assume!(f.is_finite());
            let s = go_format_float(f, None);
            proptest::prop_assert_eq!(s.parse::<f64>().unwrap().to_bits(), f.to_bits(), "{}", s);
            // The exponent form exactly when the decimal exponent is < -4 or
            // >= 6 (`1e+06`, `123456`, `0.0001`, `1e-05`).
            let (digits, dp) = decimal_digits(f.abs(), None);
            let exp = if digits.is_empty() { 0 } else { dp - 1 };
            proptest::prop_assert_eq!(s.contains('e'), !(-4..6).contains(&exp), "{}", s);
        }

        #[test]
        fn sizes_parse_back(n in 0u64..(1 << 50)) {
            let s = format!("{n}");
            proptest::prop_assert_eq!(parse_size(&s).unwrap(), n as i64);
            proptest::prop_assert_eq!(parse_size(&format!("{n}k")).unwrap(), (n as f64 * 1024.0) as i64);
            let h = human_size(n as f64);
            proptest::prop_assert!(h.ends_with('B'), "{}", h);
        }
    }

    #[test]
    fn go_float_formatting() {
        let v = |f| go_format_float(f, None);
        assert_eq!(v(1e6), "1e+06");
        assert_eq!(v(1_000_000.0), "1e+06");
        assert_eq!(v(123_456.0), "123456");
        assert_eq!(v(1_234_567.0), "1.234567e+06");
        assert_eq!(v(0.0001), "0.0001");
        assert_eq!(v(0.00001), "1e-05");
        assert_eq!(v(-0.0), "-0");
        assert_eq!(v(0.0), "0");
        assert_eq!(v(1e21), "1e+21");
        assert_eq!(v(1e20), "1e+20");
        assert_eq!(v(1.5), "1.5");
        assert_eq!(v(0.1 + 0.2), "0.30000000000000004");
        assert_eq!(v(100.0), "100");
        assert_eq!(v(1e100), "1e+100");
        assert_eq!(v(-2.5e-10), "-2.5e-10");
        assert_eq!(v(f64::INFINITY), "+Inf");
        assert_eq!(v(f64::NEG_INFINITY), "-Inf");
        assert_eq!(v(f64::NAN), "NaN");
        let g = |f, p| go_format_float(f, Some(p));
        assert_eq!(g(4.26, 3), "4.26");
        assert_eq!(g(100.0, 3), "100");
        assert_eq!(g(123.456, 2), "1.2e+02");
        assert_eq!(g(0.000_012_345, 3), "1.23e-05");
        assert_eq!(g(1.0, 0), "1");
        assert_eq!(g(2.5, 1), "2");
        assert_eq!(g(3.5, 1), "4");
    }
}
