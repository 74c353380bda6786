//! Why a check did not pass, as data. A judge that finds the server wrong returns an [`Unmet`]
//! with what it expected and what it saw; anything that keeps the harness from judging is a
//! [`Fault`]. Both render as the one line users read ([`std::fmt::Display`]), and reports carry
//! the structure beside that line, so nothing downstream ever parses a message to decide.

mod fault;
mod unmet;

use serde::{Deserialize, Serialize};

pub use fault::{Fault, Lifetime, LoginFault};
pub use unmet::{AuthEnding, BodyShown, Unmet};

/// Why a scenario stopped before its end.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "halt", rename_all = "snake_case")]
pub enum Halt {
    /// An expectation did not hold: the verdict follows the scenario's level.
    Unmet {
        /// Which.
        unmet: Unmet,
    },
    /// The harness could not judge: the verdict is `error`.
    Fault {
        /// Why.
        fault: Fault,
    },
    /// The refusal the scenario expected came (nothing was let through), in another form than
    /// expected: a finding graded by the scenario's `form` (its own requirement, a lower level,
    /// low severity), never the bypass the scenario looks for. It does not stop the scenario:
    /// the steps after it still judge the property.
    Form {
        /// The form that was expected and what came.
        unmet: Unmet,
    },
}

impl std::fmt::Display for Halt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Unmet { unmet } => unmet.fmt(f),
            Self::Fault { fault } => fault.fmt(f),
            Self::Form { unmet } => write!(
                f,
                "refused as expected (nothing was let through), but in another form: {unmet}"
            ),
        }
    }
}

impl From<Unmet> for Halt {
    fn from(unmet: Unmet) -> Self {
        Self::Unmet { unmet }
    }
}

impl From<Fault> for Halt {
    fn from(fault: Fault) -> Self {
        Self::Fault { fault }
    }
}

impl From<LoginFault> for Halt {
    fn from(fault: LoginFault) -> Self {
        Fault::from(fault).into()
    }
}

/// The step a halt happened in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepRef {
    /// 1-based position in the scenario.
    pub index: usize,
    /// The step's kind (`authorize`, `token`, ...).
    pub kind: String,
}

impl std::fmt::Display for StepRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.index, self.kind)
    }
}

/// The structured cause of a verdict that is not a pass: the halt and the step it came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cause {
    /// The step, when the halt came from one (a time-out belongs to the whole scenario).
    pub step: Option<StepRef>,
    /// What happened.
    #[serde(flatten)]
    pub halt: Halt,
}

impl Cause {
    /// What was expected and what came, when the cause is an unmet expectation that has both.
    pub fn expected_actual(&self) -> Option<(String, String)> {
        match &self.halt {
            Halt::Unmet { unmet } | Halt::Form { unmet } => unmet.expected_actual(),
            Halt::Fault { .. } => None,
        }
    }
}

impl std::fmt::Display for Cause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.step {
            Some(step) => write!(f, "step {step}: {}", self.halt),
            None => self.halt.fmt(f),
        }
    }
}

impl Cause {
    /// Whether the scenario may be run again for this cause: the server failed (5xx), which
    /// may be load and not the behaviour under test.
    pub fn is_server_error(&self) -> bool {
        matches!(
            self.halt,
            Halt::Fault {
                fault: Fault::ServerError { .. } | Fault::ServerErrorRedirect { .. }
            }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::model::HeaderMatch;

    #[test]
    fn a_cause_reads_as_one_line_with_its_step() {
        let cause = Cause {
            step: Some(StepRef {
                index: 2,
                kind: "token".into(),
            }),
            halt: Unmet::Status {
                expected: vec![400],
                got: 200,
                error: None,
            }
            .into(),
        };
        assert_eq!(
            cause.to_string(),
            "step 2 (token): expected HTTP 400, got 200"
        );
        assert_eq!(
            Unmet::Status {
                expected: vec![400, 401],
                got: 500,
                error: Some("server_error".into())
            }
            .to_string(),
            "expected HTTP 400 or 401, got 500 (error server_error)"
        );
    }

    #[test]
    fn causes_round_trip_through_json() {
        let cause = Cause {
            step: None,
            halt: Unmet::OnPage {
                unmet: Box::new(Unmet::Header {
                    name: "cache-control".into(),
                    expected: HeaderMatch::Contains("no-store".into()),
                    got: vec![],
                }),
            }
            .into(),
        };
        let json = serde_json::to_value(&cause).expect("serialises");
        assert_eq!(json["halt"], "unmet");
        assert_eq!(json["unmet"]["kind"], "on_page");
        assert_eq!(json["unmet"]["unmet"]["kind"], "header");
        let back: Cause = serde_json::from_value(json).expect("deserialises");
        assert_eq!(back, cause);
        let fault = Cause {
            step: None,
            halt: Fault::Timeout { seconds: 60.0 }.into(),
        };
        let back: Cause =
            serde_json::from_value(serde_json::to_value(&fault).expect("ser")).expect("de");
        assert_eq!(back.to_string(), "scenario did not finish within 60 s");
        let half = Fault::Timeout { seconds: 0.5 };
        assert_eq!(half.to_string(), "scenario did not finish within 0.5 s");
    }

    #[test]
    fn expected_and_actual_for_junit() {
        let u = Unmet::OnPage {
            unmet: Box::new(Unmet::Status {
                expected: vec![200],
                got: 500,
                error: None,
            }),
        };
        assert_eq!(
            u.expected_actual(),
            Some(("HTTP 200".to_owned(), "HTTP 500".to_owned()))
        );
        assert_eq!(Unmet::Frameable.expected_actual(), None);
    }
}
