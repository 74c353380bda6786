//! REQ-58: a code is redeemed at most once, also by concurrent requests; REQ-61: so is a
//! rotated refresh token.

use crate::outcome::Unmet;

/// `successes_per_trial[i]` token requests of burst `i` (of `count` each) for one `raced`
/// (`code`, `refresh token`) succeeded; more than `at_most` in any burst is a replay the server
/// let through.
pub fn race(
    successes_per_trial: &[usize],
    count: usize,
    at_most: usize,
    raced: &str,
    note: &str,
) -> Result<(), Unmet> {
    let worst = successes_per_trial.iter().copied().max().unwrap_or(0);
    if worst > at_most {
        return Err(Unmet::Race {
            raced: raced.to_owned(),
            worst,
            count,
            at_most,
            note: note.to_owned(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_success_per_burst_passes() {
        assert_eq!(race(&[1, 1, 0], 20, 1, "code", "n"), Ok(()));
        assert_eq!(race(&[], 20, 1, "code", "n"), Ok(()));
    }

    #[test]
    fn a_second_success_in_any_burst_is_unmet() {
        let e = race(&[1, 3], 20, 1, "code", "race: 2 trials").expect_err("unmet");
        assert_eq!(
            e.to_string(),
            "one code was redeemed 3 times in a burst of 20 concurrent requests (at most 1 allowed); race: 2 trials"
        );
    }
}
