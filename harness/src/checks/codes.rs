//! RFC 6749 §10.10: authorization codes must be hard to guess.

use crate::outcome::Unmet;
use crate::redact::Secret;

/// Judges collected codes: the shortest is at least `min_length` characters, and the estimated
/// entropy (varying characters × log2 of the alphabet seen, after the prefix they all share) is
/// at least `min_bits`. A rough lower bound for codes a server draws uniformly; a server that
/// counts or timestamps shows a long shared prefix or a small alphabet.
pub fn entropy(codes: &[Secret], min_length: usize, min_bits: f64) -> Result<(), Unmet> {
    let values: Vec<&str> = codes.iter().map(Secret::expose).collect();
    let e = Estimate::of(&values);
    if e.shortest < min_length {
        return Err(Unmet::CodeLength {
            shortest: e.shortest,
            min: min_length,
        });
    }
    if e.bits < min_bits {
        return Err(Unmet::Entropy {
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
/// a client makes): the characters after the prefix all share, times log2 of the alphabet seen.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    /// The shortest value's length, in characters.
    pub shortest: usize,
    /// The characters every value shares at its start.
    pub prefix: usize,
    /// The characters after it, in the shortest value.
    pub varying: usize,
    /// The distinct characters seen over all values.
    pub alphabet: usize,
    /// `varying` × log2(`alphabet`).
    pub bits: f64,
}

impl Estimate {
    /// The estimate of `values`.
    pub fn of(values: &[&str]) -> Self {
        let shortest = values.iter().map(|c| c.chars().count()).min().unwrap_or(0);
        let mut alphabet: Vec<char> = values.iter().flat_map(|c| c.chars()).collect();
        alphabet.sort_unstable();
        alphabet.dedup();
        let prefix = common_prefix(values).min(shortest);
        let varying = shortest - prefix;
        Self {
            shortest,
            prefix,
            varying,
            alphabet: alphabet.len(),
            bits: varying as f64 * (alphabet.len().max(1) as f64).log2(),
        }
    }
}

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
