//! RFC 6749 §10.10: authorization codes must be hard to guess.

use crate::outcome::Unmet;
use crate::redact::Secret;

/// Judges collected codes: the shortest is at least `min_length` characters, and the estimated
/// entropy (varying characters × log2 of the alphabet seen, after the prefix they all share) is
/// at least `min_bits`. A rough lower bound for codes a server draws uniformly; a server that
/// counts or timestamps shows a long shared prefix or a small alphabet.
pub fn entropy(codes: &[Secret], min_length: usize, min_bits: f64) -> Result<(), Unmet> {
    let shortest = codes
        .iter()
        .map(|c| c.expose().chars().count())
        .min()
        .unwrap_or(0);
    if shortest < min_length {
        return Err(Unmet::CodeLength {
            shortest,
            min: min_length,
        });
    }
    let mut alphabet: Vec<char> = codes.iter().flat_map(|c| c.expose().chars()).collect();
    alphabet.sort_unstable();
    alphabet.dedup();
    let prefix = common_prefix(codes).min(shortest);
    let varying = shortest - prefix;
    let bits = varying as f64 * (alphabet.len().max(1) as f64).log2();
    if bits < min_bits {
        return Err(Unmet::Entropy {
            bits,
            varying,
            alphabet: alphabet.len(),
            codes: codes.len(),
            prefix,
            min_bits,
        });
    }
    Ok(())
}

fn common_prefix(codes: &[Secret]) -> usize {
    let Some(first) = codes.first() else { return 0 };
    let first: Vec<char> = first.expose().chars().collect();
    codes
        .iter()
        .skip(1)
        .map(|c| {
            c.expose()
                .chars()
                .zip(&first)
                .take_while(|(a, b)| a == *b)
                .count()
        })
        .min()
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(list: &[&str]) -> Vec<Secret> {
        list.iter().map(|c| Secret::new(*c)).collect()
    }

    #[test]
    fn random_codes_pass() {
        let c = codes(&[
            "Qk3v9xZ2mLp8RtY1wBn4",
            "a7HdK2qP0sXe5UvG9cJf",
            "Zr4Tn8WbL1yQm6Vk3Hs0",
        ]);
        assert_eq!(entropy(&c, 16, 80.0), Ok(()));
    }

    #[test]
    fn short_codes_are_unmet() {
        let e = entropy(&codes(&["abc", "abcdefgh"]), 8, 0.0).expect_err("unmet");
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
        let e = entropy(&c, 8, 64.0).expect_err("unmet");
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
