//! Referral vocabulary: states, urgency and barriers.

use crate::code_enum;

code_enum!(ReferralStatus: "referral status" {
    Sent = "sent",
    Accepted = "accepted",
    Declined = "declined",
    Redirected = "redirected",
    Attended = "attended",
    NoShow = "no_show",
    Cancelled = "cancelled",
    Closed = "closed",
});

code_enum!(Urgency: "urgency" {
    Emergency = "emergency",
    Urgent = "urgent",
    Routine = "routine",
});

code_enum!(
    /// Why a referral did not go ahead: what stood between the person and the service.
    Barrier: "barrier" {
        Cost = "cost",
        Distance = "distance",
        Stigma = "stigma",
        Documents = "documents",
        Language = "language",
        WaitingTime = "waiting_time",
        DisabilityAccess = "disability_access",
        Other = "other",
    }
);

code_enum!(FollowUpKind: "follow-up kind" {
    Call = "call",
    Rescreen = "rescreen",
    Visit = "visit",
});

code_enum!(FollowUpStatus: "follow-up status" {
    Open = "open",
    Done = "done",
    Cancelled = "cancelled",
});

/// A step in a referral's life. Declining, not attending and cancelling carry a reason and the
/// barrier that stood in the way; closing carries the outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transition {
    Accept,
    Decline {
        reason: String,
        barrier: Barrier,
    },
    Redirect {
        reason: String,
    },
    Attend,
    NoShow {
        reason: String,
        barrier: Barrier,
    },
    Cancel {
        reason: String,
        barrier: Barrier,
    },
    Close {
        outcome: String,
    },
    /// After a missed appointment, the sender books again.
    Rebook,
}

/// Every step's name, in the order of the diagram.
pub const STEPS: &[&str] = &["accept", "decline", "redirect", "attend", "no_show", "cancel", "close", "rebook"];

/// Why a step named in a form or an API body is not one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StepError {
    #[error("unknown step `{0}`")]
    Unknown(String),
    #[error("give a barrier: cost, distance, stigma, documents, language, waiting_time, disability_access or other")]
    Barrier,
}

impl Transition {
    /// The step named `step`, with the reason, barrier and outcome it carries (each used only by
    /// the steps that take it). The one place a step's name is read.
    pub fn parse(step: &str, reason: &str, barrier: &str, outcome: &str) -> Result<Self, StepError> {
        let barrier = || barrier.parse::<Barrier>().map_err(|_| StepError::Barrier);
        let reason = reason.trim().to_owned();
        Ok(match step {
            "accept" => Self::Accept,
            "decline" => Self::Decline { reason, barrier: barrier()? },
            "redirect" => Self::Redirect { reason },
            "attend" => Self::Attend,
            "no_show" => Self::NoShow { reason, barrier: barrier()? },
            "cancel" => Self::Cancel { reason, barrier: barrier()? },
            "close" => Self::Close { outcome: outcome.trim().to_owned() },
            "rebook" => Self::Rebook,
            other => return Err(StepError::Unknown(other.to_owned())),
        })
    }

    /// A step with placeholder values, to ask what the step needs (a reason, a barrier, an
    /// outcome); `None` for a name that is no step.
    pub fn sample(step: &str) -> Option<Self> {
        Self::parse(step, "x", Barrier::Other.as_str(), "x").ok()
    }

    pub fn name(&self) -> &'static str {
        match self {
            Self::Accept => "accept",
            Self::Decline { .. } => "decline",
            Self::Redirect { .. } => "redirect",
            Self::Attend => "attend",
            Self::NoShow { .. } => "no_show",
            Self::Cancel { .. } => "cancel",
            Self::Close { .. } => "close",
            Self::Rebook => "rebook",
        }
    }

    pub fn barrier(&self) -> Option<Barrier> {
        match self {
            Self::Decline { barrier, .. } | Self::NoShow { barrier, .. } | Self::Cancel { barrier, .. } => {
                Some(*barrier)
            }
            _ => None,
        }
    }

    pub fn reason(&self) -> Option<&str> {
        match self {
            Self::Decline { reason, .. }
            | Self::NoShow { reason, .. }
            | Self::Cancel { reason, .. }
            | Self::Redirect { reason } => Some(reason),
            Self::Close { outcome } => Some(outcome),
            _ => None,
        }
    }
}

/// Which side of a referral acts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The organisation that sent the referral.
    Sender,
    /// The organisation of the service it was sent to.
    Receiver,
}

/// The transitions the diagram allows from a state, by name:
/// `sent -> accepted | declined | redirected`; `accepted -> attended | no_show | cancelled`;
/// `attended -> closed`; `no_show -> sent (rebooked) | closed`. The other states are final.
pub fn allowed_from(status: ReferralStatus) -> &'static [&'static str] {
    match status {
        ReferralStatus::Sent => &["accept", "decline", "redirect"],
        ReferralStatus::Accepted => &["attend", "no_show", "cancel"],
        ReferralStatus::Attended => &["close"],
        ReferralStatus::NoShow => &["rebook", "close"],
        ReferralStatus::Declined | ReferralStatus::Redirected | ReferralStatus::Cancelled | ReferralStatus::Closed => {
            &[]
        }
    }
}

/// Why a step is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    #[error("a referral that is {from} cannot {step}; allowed now: {allowed}")]
    Illegal { from: ReferralStatus, step: &'static str, allowed: String },
    #[error("the {side} organisation cannot {step} this referral")]
    WrongSide { side: &'static str, step: &'static str },
    #[error("{step} needs a reason")]
    MissingReason { step: &'static str },
}

/// Applies a step, or says why not. The receiving organisation answers and records attendance;
/// the sender cancels and re-books. For a receiver that does not use Hamroh (a paper slip), the
/// sender records every step.
pub fn apply(
    status: ReferralStatus,
    step: &Transition,
    side: Side,
    receiver_uses_hamroh: bool,
) -> Result<ReferralStatus, TransitionError> {
    let name = step.name();
    if !allowed_from(status).contains(&name) {
        let allowed = allowed_from(status);
        return Err(TransitionError::Illegal {
            from: status,
            step: name,
            allowed: if allowed.is_empty() { "nothing (the referral is finished)".into() } else { allowed.join(", ") },
        });
    }
    let receiver_step = matches!(
        step,
        Transition::Accept
            | Transition::Decline { .. }
            | Transition::Redirect { .. }
            | Transition::Attend
            | Transition::NoShow { .. }
    ) || (matches!(step, Transition::Close { .. }) && status == ReferralStatus::Attended);
    let ok = match side {
        Side::Receiver => receiver_step,
        Side::Sender => !receiver_step || !receiver_uses_hamroh,
    };
    if !ok {
        let side = if side == Side::Sender { "sending" } else { "receiving" };
        return Err(TransitionError::WrongSide { side, step: name });
    }
    if step.reason().is_some_and(|r| r.trim().is_empty()) {
        return Err(TransitionError::MissingReason { step: name });
    }
    Ok(match step {
        Transition::Accept => ReferralStatus::Accepted,
        Transition::Decline { .. } => ReferralStatus::Declined,
        Transition::Redirect { .. } => ReferralStatus::Redirected,
        Transition::Attend => ReferralStatus::Attended,
        Transition::NoShow { .. } => ReferralStatus::NoShow,
        Transition::Cancel { .. } => ReferralStatus::Cancelled,
        Transition::Close { .. } => ReferralStatus::Closed,
        Transition::Rebook => ReferralStatus::Sent,
    })
}

/// Days to respond, by urgency: an emergency today, an urgent referral tomorrow, a routine one
/// within the service's own response time.
pub fn due_in_days(urgency: Urgency, service_response_days: i64) -> i64 {
    match urgency {
        Urgency::Emergency => 0,
        Urgency::Urgent => 1,
        Urgency::Routine => service_response_days.max(1),
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn step(n: u8) -> Transition {
        let reason = || "reported by the person".to_owned();
        match n % 8 {
            0 => Transition::Accept,
            1 => Transition::Decline { reason: reason(), barrier: Barrier::Cost },
            2 => Transition::Redirect { reason: reason() },
            3 => Transition::Attend,
            4 => Transition::NoShow { reason: reason(), barrier: Barrier::Distance },
            5 => Transition::Cancel { reason: reason(), barrier: Barrier::Stigma },
            6 => Transition::Close { outcome: "seen and treated".into() },
            _ => Transition::Rebook,
        }
    }

    /// The diagram, written out as edges, independently of `allowed_from`.
    const EDGES: &[(ReferralStatus, ReferralStatus)] = &[
        (ReferralStatus::Sent, ReferralStatus::Accepted),
        (ReferralStatus::Sent, ReferralStatus::Declined),
        (ReferralStatus::Sent, ReferralStatus::Redirected),
        (ReferralStatus::Accepted, ReferralStatus::Attended),
        (ReferralStatus::Accepted, ReferralStatus::NoShow),
        (ReferralStatus::Accepted, ReferralStatus::Cancelled),
        (ReferralStatus::Attended, ReferralStatus::Closed),
        (ReferralStatus::NoShow, ReferralStatus::Sent),
        (ReferralStatus::NoShow, ReferralStatus::Closed),
    ];

    proptest! {
        #[test]
        fn no_sequence_of_steps_leaves_the_diagram(steps in prop::collection::vec((0u8..8, any::<bool>(), any::<bool>()), 0..40)) {
            let mut status = ReferralStatus::Sent;
            for (n, sender, paper) in steps {
                let side = if sender { Side::Sender } else { Side::Receiver };
                if let Ok(next) = apply(status, &step(n), side, !paper) {
                    prop_assert!(EDGES.contains(&(status, next)), "{status} -> {next}");
                    status = next;
                }
            }
        }
    }

    #[test]
    fn illegal_steps_say_what_is_allowed() {
        let err = apply(ReferralStatus::Closed, &Transition::Accept, Side::Receiver, true).unwrap_err();
        assert_eq!(
            err.to_string(),
            "a referral that is closed cannot accept; allowed now: nothing (the referral is finished)"
        );
        let err = apply(ReferralStatus::Sent, &Transition::Attend, Side::Receiver, true).unwrap_err();
        assert!(err.to_string().contains("allowed now: accept, decline, redirect"));
    }

    #[test]
    fn each_side_does_its_own_steps_unless_the_receiver_is_on_paper() {
        assert!(apply(ReferralStatus::Sent, &Transition::Accept, Side::Sender, true).is_err());
        assert_eq!(apply(ReferralStatus::Sent, &Transition::Accept, Side::Sender, false), Ok(ReferralStatus::Accepted));
        let cancel = Transition::Cancel { reason: "moved away".into(), barrier: Barrier::Distance };
        assert!(apply(ReferralStatus::Accepted, &cancel, Side::Receiver, true).is_err());
        assert_eq!(apply(ReferralStatus::Accepted, &cancel, Side::Sender, true), Ok(ReferralStatus::Cancelled));
        assert_eq!(apply(ReferralStatus::NoShow, &Transition::Rebook, Side::Sender, true), Ok(ReferralStatus::Sent));
    }

    #[test]
    fn a_decline_needs_a_reason() {
        let step = Transition::Decline { reason: " ".into(), barrier: Barrier::Cost };
        assert!(matches!(
            apply(ReferralStatus::Sent, &step, Side::Receiver, true),
            Err(TransitionError::MissingReason { .. })
        ));
    }
}
