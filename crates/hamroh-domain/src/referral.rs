//! Referral vocabulary: states, urgency and barriers.

use crate::code_enum;

code_enum!(ReferralStatus: "referral status" {
    Draft = "draft",
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
