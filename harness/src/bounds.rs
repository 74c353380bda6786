//! The numbers and sizes a scenario or target file may hold, checked while the file is read so a
//! bad value is refused at its line and column with the accepted range, instead of a panic, a
//! huge allocation or a check that silently passes (`NaN` compares false with everything).
//!
//! Each function is a serde `deserialize_with` for one kind of field.

use serde::{Deserialize, Deserializer, de};

fn number<'de, D: Deserializer<'de>>(
    d: D,
    what: &str,
    min: f64,
    max: f64,
    min_open: bool,
) -> Result<f64, D::Error> {
    let v = f64::deserialize(d)?;
    let above_min = if min_open { v > min } else { v >= min };
    if v.is_finite() && above_min && v <= max {
        Ok(v)
    } else {
        let from = if min_open {
            format!("above {min}")
        } else {
            format!("from {min}")
        };
        Err(de::Error::custom(format!(
            "{what} must be a finite number {from} to {max}, got {v}"
        )))
    }
}

/// The longest wait a `sleep` step may declare: ten minutes. A scenario's time limit is there to
/// catch a hung server; a step that waits longer belongs in a run of its own.
pub const MAX_SLEEP_SECONDS: u32 = 600;

/// Seconds a `sleep` step waits: 0 to [`MAX_SLEEP_SECONDS`].
pub fn sleep_seconds<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    number(d, "seconds", 0.0, f64::from(MAX_SLEEP_SECONDS), false)
}

/// A declared code lifetime: above 0, at most an hour (RFC 6749 §4.1.2 recommends at most
/// ten minutes; the expiry check waits for it).
pub fn code_lifetime<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    number(d, "code_lifetime_seconds", 0.0, 3600.0, true)
}

/// How long a server may cache a client's keys: 0 to 3600 seconds.
pub fn cache_seconds<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    number(d, "client_jwks_cache_seconds", 0.0, 3600.0, false)
}

/// An entropy threshold in bits: 0 to 4096.
pub fn entropy_bits<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    number(d, "min_entropy_bits", 0.0, 4096.0, false)
}

/// The longest generated parameter value (`state`, `code_challenge`): 4096 characters. RFC 9110
/// §4.1 asks for URIs of at least 8000 octets to be supported, so values this long still test
/// the server rather than its URL limit, and the harness never allocates what a typo asks for.
pub const MAX_VALUE_LENGTH: usize = 4096;

fn count<'de, D: Deserializer<'de>>(
    d: D,
    what: &str,
    min: usize,
    max: usize,
) -> Result<usize, D::Error> {
    let v = u64::deserialize(d)?;
    match usize::try_from(v) {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(de::Error::custom(format!(
            "{what} must be from {min} to {max}, got {v}"
        ))),
    }
}

/// How far an ID Token's `iat` and `exp` may be off the harness's clock: 0 to 600 seconds.
pub fn clock_skew<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    count(d, "clock_skew_seconds", 0, 600).map(|n| n as u64)
}

/// A generated value's length: 0 to [`MAX_VALUE_LENGTH`].
pub fn value_length<'de, D: Deserializer<'de>>(d: D) -> Result<usize, D::Error> {
    count(d, "length", 0, MAX_VALUE_LENGTH)
}

/// A generated verifier's length: 43 to 128 (RFC 7636 §4.1); a verifier outside the grammar is
/// written out with `verifier:` instead.
pub fn verifier_length<'de, D: Deserializer<'de>>(d: D) -> Result<usize, D::Error> {
    count(d, "verifier_length", 43, 128)
}

/// A minimum code length: 0 to [`MAX_VALUE_LENGTH`].
pub fn code_length<'de, D: Deserializer<'de>>(d: D) -> Result<usize, D::Error> {
    count(d, "min_length", 0, MAX_VALUE_LENGTH)
}

/// The most requests one login may take: 1 to 100.
pub fn login_steps<'de, D: Deserializer<'de>>(d: D) -> Result<usize, D::Error> {
    count(d, "max_steps", 1, 100)
}

/// How long one browser login may take: 1 to 120 seconds.
pub fn browser_seconds<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    count(d, "timeout_seconds", 1, 120).map(|n| n as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    struct S {
        #[serde(deserialize_with = "sleep_seconds")]
        s: f64,
    }

    fn sleep(v: &str) -> Result<f64, String> {
        crate::diagnostics::parse_yaml::<S>("t.yaml", &format!("s: {v}\n"))
            .map(|s| s.s)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn numbers_outside_their_range_are_refused_with_it() {
        assert_eq!(sleep("1.5"), Ok(1.5));
        for bad in [".inf", "-.inf", ".nan", "-1", "1e300", "601"] {
            let e = sleep(bad).expect_err(bad);
            assert!(
                e.contains("seconds must be a finite number from 0 to 600"),
                "{e}"
            );
            assert!(e.starts_with("t.yaml:1:"), "{e}");
        }
    }

    #[derive(Debug, serde::Deserialize)]
    struct L {
        #[serde(deserialize_with = "value_length")]
        n: usize,
    }

    #[test]
    fn lengths_are_capped() {
        let parse = |v: &str| {
            crate::diagnostics::parse_yaml::<L>("t.yaml", &format!("n: {v}\n")).map(|l| l.n)
        };
        assert_eq!(parse("4096").ok(), Some(4096));
        let e = parse("100000000000").expect_err("too long").to_string();
        assert!(
            e.contains("length must be from 0 to 4096, got 100000000000"),
            "{e}"
        );
        assert!(parse("-1").is_err() && parse("1.5").is_err());
    }
}
