//! RFC 6749 §10.10: authorization codes must be hard to guess.

use crate::outcome::Unmet;
use crate::redact::Secret;
use crate::scenario::model::Issued;

/// Judges collected codes (or tokens): the shortest is at least `min_length` characters, and
/// the estimated entropy (varying characters, after the prefix they all share, × log2 of the
/// smallest usual alphabet holding the characters seen) is at least `min_bits`. A rough lower bound for codes a server draws uniformly; a server that
/// counts or timestamps shows a long shared prefix or a small alphabet.
pub fn entropy(
    of: Issued,
    codes: &[Secret],
    min_length: usize,
    min_bits: f64,
) -> Result<(), Unmet> {
    let values: Vec<&str> = codes.iter().map(Secret::expose).collect();
    let e = Estimate::of(&values);
    if e.shortest < min_length {
        return Err(Unmet::CodeLength {
            of,
            shortest: e.shortest,
            min: min_length,
        });
    }
    if e.bits < min_bits {
        return Err(Unmet::Entropy {
            of,
            bits: e.bits,
            varying: e.varying,
            alphabet: e.alphabet,
            codes: codes.len(),
            prefix: e.prefix,
            min_bits,
        });
    }
    Ok(())
}

/// A rough lower bound of the entropy of values drawn alike (codes a server issues, verifiers
/// a client makes): the characters after the prefix all share, times log2 of the smallest
/// usual alphabet holding them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    /// The shortest value's length, in characters.
    pub shortest: usize,
    /// The characters every value shares at its start.
    pub prefix: usize,
    /// The characters after it, in the shortest value.
    pub varying: usize,
    /// The size of the alphabet the characters after the prefix are taken to be drawn from: the
    /// smallest of the usual ones (digits, hex, letters, alphanumerics, base64url, base64, RFC 3986 unreserved) that
    /// holds every character seen, else the number of distinct characters seen. A small sample
    /// never shows every character of its alphabet: counting only those seen under-estimated
    /// 16 random octets in base64url at about 126 bits.
    pub alphabet: usize,
    /// `varying` × log2(`alphabet`).
    pub bits: f64,
}

impl Estimate {
    /// The estimate of `values`.
    pub fn of(values: &[&str]) -> Self {
        let shortest = values.iter().map(|c| c.chars().count()).min().unwrap_or(0);
        let prefix = common_prefix(values).min(shortest);
        // The alphabet of what varies: a shared prefix (a URN, a product's tag) is no draw.
        let mut seen: Vec<char> = values.iter().flat_map(|c| c.chars().skip(prefix)).collect();
        seen.sort_unstable();
        seen.dedup();
        let alphabet = ALPHABETS
            .iter()
            .map(|a| (a, a.chars().count()))
            .filter(|(a, _)| seen.iter().all(|c| a.contains(*c)))
            .map(|(_, n)| n)
            .min()
            .unwrap_or(seen.len());
        let varying = shortest - prefix;
        Self {
            shortest,
            prefix,
            varying,
            alphabet,
            bits: varying as f64 * (alphabet.max(1) as f64).log2(),
        }
    }
}

const DIGITS: &str = "0123456789";
const LOWER: &str = "abcdefghijklmnopqrstuvwxyz";
const UPPER: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";

/// The alphabets random values are usually drawn from.
const ALPHABETS: &[&str] = &[
    DIGITS,
    "0123456789abcdef",
    "0123456789ABCDEF",
    LOWER,
    UPPER,
    concat!("0123456789", "abcdefghijklmnopqrstuvwxyz"),
    concat!("0123456789", "ABCDEFGHIJKLMNOPQRSTUVWXYZ"),
    concat!("abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ"),
    concat!(
        "0123456789",
        "abcdefghijklmnopqrstuvwxyz",
        "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    ),
    concat!(
        "0123456789",
        "abcdefghijklmnopqrstuvwxyz",
        "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
        "-_"
    ),
    concat!(
        "0123456789",
        "abcdefghijklmnopqrstuvwxyz",
        "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
        "+/"
    ),
    concat!(
        "0123456789",
        "abcdefghijklmnopqrstuvwxyz",
        "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
        "-._~"
    ),
];

fn common_prefix(values: &[&str]) -> usize {
    let Some(first) = values.first() else {
        return 0;
    };
    let first: Vec<char> = first.chars().collect();
    values
        .iter()
        .skip(1)
        .map(|c| c.chars().zip(&first).take_while(|(a, b)| a == *b).count())
        .min()
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(list: &[&str]) -> Vec<Secret> {
        list.iter().map(|c| Secret::new(*c)).collect()
    }

    /// Fifty samples of five values, each `prefix` and 16 random octets in base64url (22
    /// characters, the 128 bits RFC 6749 §10.10 asks), all pass the 128-bit check.
    fn sixteen_random_octets_pass_128_bits(of: Issued, prefix: &str) {
        for round in 0..50u8 {
            let sample: Vec<Secret> = (0..5u8)
                .map(|i| {
                    let mut octets = [0u8; 16];
                    getrandom::fill(&mut octets).expect("randomness");
                    octets[0] ^= round ^ i;
                    Secret::new(format!("{prefix}{}", crate::jose::b64(octets)))
                })
                .collect();
            assert_eq!(entropy(of, &sample, 22, 128.0), Ok(()), "round {round}");
        }
    }

    /// Five such codes show only about 53 of the 64 characters, and counting only those seen
    /// estimated about 126 bits, a false alarm.
    #[test]
    fn sixteen_random_octets_in_base64url_pass_128_bits() {
        sixteen_random_octets_pass_128_bits(Issued::Code, "");
    }

    /// The alphabet is read from the varying part only: a shared prefix with characters no
    /// usual alphabet holds (the `urn:ietf:params:oauth:request_uri:` of RFC 9126 §2.2) once
    /// made the alphabet the count of characters seen, and 128 random bits a finding.
    #[test]
    fn a_shared_prefix_does_not_shrink_the_alphabet() {
        sixteen_random_octets_pass_128_bits(
            Issued::RequestUri,
            "urn:ietf:params:oauth:request_uri:",
        );
    }

    #[test]
    fn random_codes_pass() {
        let c = codes(&[
            "Qk3v9xZ2mLp8RtY1wBn4",
            "a7HdK2qP0sXe5UvG9cJf",
            "Zr4Tn8WbL1yQm6Vk3Hs0",
        ]);
        assert_eq!(entropy(Issued::Code, &c, 16, 80.0), Ok(()));
    }

    #[test]
    fn short_codes_are_unmet() {
        let e = entropy(Issued::Code, &codes(&["abc", "abcdefgh"]), 8, 0.0).expect_err("unmet");
        assert_eq!(
            e.to_string(),
            "a code of 3 characters is shorter than 8 (RFC 6749 §10.10)"
        );
    }

    #[test]
    fn counters_are_unmet() {
        let c = codes(&[
            "code-000000000001",
            "code-000000000002",
            "code-000000000003",
        ]);
        let e = entropy(Issued::Code, &c, 8, 64.0).expect_err("unmet");
        assert!(
            matches!(
                e,
                Unmet::Entropy {
                    prefix: 16,
                    varying: 1,
                    ..
                }
            ),
            "{e:?}"
        );
        assert!(
            e.to_string().starts_with("estimated 3 bits per code"),
            "{e}"
        );
    }
}
