//! Times in JSON as chrono writes them (RFC 3339 in UTC with `Z`, fractional
//! seconds only when there are any, in 3, 6 or 9 digits), written in one piece.
//!
//! chrono's own `Serialize` hands its `Display` to serde's `collect_str`, and
//! serde_json escapes each of the twenty-odd pieces that `Display` writes as a
//! string of its own: on a page of 50 visits that came to 6 % of the server's
//! instructions. Here the digits go into a buffer on the stack, written as one
//! string. Use on fields of the records clients read:
//! `#[serde(serialize_with = "rfc3339::serialize")]`, or `rfc3339::option`.

use chrono::{DateTime, Datelike, SecondsFormat, Timelike, Utc};
use serde::Serializer;

pub fn serialize<S: Serializer>(time: &DateTime<Utc>, serializer: S) -> Result<S::Ok, S::Error> {
    let mut text = [0; 30];
    match write(time, &mut text).and_then(|len| std::str::from_utf8(&text[..len]).ok()) {
        Some(text) => serializer.serialize_str(text),
        None => serializer.serialize_str(&time.to_rfc3339_opts(SecondsFormat::AutoSi, true)),
    }
}

/// Writes `time` into `out` and gives its length; `None` for what chrono writes
/// differently (years outside 0–9999, a leap second), which is left to chrono.
fn write(time: &DateTime<Utc>, out: &mut [u8; 30]) -> Option<usize> {
    // `DateTime`'s own accessors convert to local time on every call.
    let time = time.naive_utc();
    let year = u32::try_from(time.year()).ok().filter(|y| *y <= 9999)?;
    let nanos = time.nanosecond();
    if nanos >= 1_000_000_000 {
        return None;
    }
    out[..20].copy_from_slice(b"0000-00-00T00:00:00Z");
    digits(&mut out[0..4], year);
    digits(&mut out[5..7], time.month());
    digits(&mut out[8..10], time.day());
    digits(&mut out[11..13], time.hour());
    digits(&mut out[14..16], time.minute());
    digits(&mut out[17..19], time.second());
    let (fraction, places) = match nanos {
        0 => return Some(20),
        n if n % 1_000_000 == 0 => (n / 1_000_000, 3),
        n if n % 1_000 == 0 => (n / 1_000, 6),
        n => (n, 9),
    };
    out[19] = b'.';
    digits(&mut out[20..20 + places], fraction);
    out[20 + places] = b'Z';
    Some(21 + places)
}

/// `value`'s last `out.len()` decimal digits, zero-padded.
fn digits(out: &mut [u8], mut value: u32) {
    for byte in out.iter_mut().rev() {
        *byte = b'0' + (value % 10) as u8;
        value /= 10;
    }
}

pub fn option<S: Serializer>(
    time: &Option<DateTime<Utc>>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match time {
        Some(time) => serialize(time, serializer),
        None => serializer.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, TimeZone, Utc};
    use serde::Serialize;

    #[derive(Serialize)]
    struct Ours {
        #[serde(serialize_with = "super::serialize")]
        at: DateTime<Utc>,
        #[serde(serialize_with = "super::option")]
        maybe: Option<DateTime<Utc>>,
    }

    #[derive(Serialize)]
    struct Chronos {
        at: DateTime<Utc>,
        maybe: Option<DateTime<Utc>>,
    }

    fn both(at: DateTime<Utc>, maybe: Option<DateTime<Utc>>) -> (String, String) {
        let ours = serde_json::to_string(&Ours { at, maybe }).expect("serializes");
        let chronos = serde_json::to_string(&Chronos { at, maybe }).expect("serializes");
        (ours, chronos)
    }

    #[test]
    fn writes_what_chrono_writes() {
        let second = Utc.with_ymd_and_hms(2022, 1, 8, 6, 6, 0).unwrap();
        let nanos = [
            0,
            1,
            120_000_000,
            123_000,
            123_456_000,
            999_999_999,
            1_500_000_000,
        ];
        for n in nanos {
            let at = second + chrono::Duration::nanoseconds(n);
            let (ours, chronos) = both(at, Some(at));
            assert_eq!(ours, chronos, "{n} ns");
        }
        let leap = chrono::NaiveDate::from_ymd_opt(2016, 12, 31)
            .and_then(|d| d.and_hms_nano_opt(23, 59, 59, 1_500_000_000))
            .unwrap()
            .and_utc();
        assert_eq!(both(leap, None).0, both(leap, None).1);
        assert_eq!(
            both(second, None).0,
            r#"{"at":"2022-01-08T06:06:00Z","maybe":null}"#
        );
        // Times spread over ten thousand years, with every kind of fraction.
        let fractions = [0, 250_000_000, 7_000, 123_456_789, 999_999_000];
        let mut seconds: i64 = -62_167_219_200; // 0000-01-01T00:00:00Z
        let mut i = 0;
        while seconds < 253_402_300_800 {
            let at = DateTime::from_timestamp(seconds, fractions[i % fractions.len()]).unwrap();
            let (ours, chronos) = both(at, Some(at));
            assert_eq!(ours, chronos);
            seconds += 79_198_765;
            i += 1;
        }
        for year in [0, 1, 999, 1970, 9999, 10_000, -1] {
            let at = Utc.with_ymd_and_hms(year, 12, 31, 23, 59, 59).unwrap();
            let at = at + chrono::Duration::microseconds(5);
            assert_eq!(both(at, None).0, both(at, None).1, "year {year}");
        }
    }
}
