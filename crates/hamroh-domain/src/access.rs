//! Who may see and change a person's record. The rules live here, once; the store's gate applies
//! them to every read and write, whatever page, API route or export asks.
//!
//! - Users of the organisation that registered a person may read and write the record while the
//!   person's consent to care is in force.
//! - Users of an organisation that holds an active referral for the person may read and write it
//!   while the person's consent to share with that organisation, or with its sector, is in force.
//!   Withdrawal takes effect at once: the next request is refused.
//! - Analysts never read a person. Administrators manage users and organisations, and read persons
//!   only through the same rules as everyone else.

use serde::Serialize;
use uuid::Uuid;

use crate::consent::ConsentScope;
use crate::org::{Role, Sector};
use crate::referral::ReferralStatus;

/// The user (or API token) a request acts for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Principal {
    pub user_id: Uuid,
    pub organisation_id: Uuid,
    pub sector: Sector,
    pub roles: Vec<Role>,
    /// For an API token: which token, and what it may do; `None` for a signed-in user.
    pub token: Option<TokenGrant>,
}

/// An API token the request came with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenGrant {
    pub id: Uuid,
    pub scopes: Vec<Scope>,
}

crate::code_enum!(
    /// What an API token may do. `openrosa` is a device key: it fetches the forms and sends
    /// what was filled offline, and reads no record.
    Scope: "token scope" {
        PersonsRead = "persons:read",
        PersonsWrite = "persons:write",
        Export = "export",
        OpenRosa = "openrosa",
    }
);

/// Roles that work with individual people's records.
pub const CARE_ROLES: &[Role] = &[Role::Clinician, Role::Specialist, Role::CaseWorker, Role::Coordinator, Role::Admin];

impl Principal {
    pub fn has_role(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    pub fn has_any_role(&self, roles: &[Role]) -> bool {
        roles.iter().any(|r| self.has_role(*r))
    }

    /// Whether a token (if this is one) carries the scope; a signed-in user has every scope.
    pub fn has_scope(&self, scope: Scope) -> bool {
        self.token.as_ref().is_none_or(|t| t.scopes.contains(&scope))
    }
}

/// What the gate needs to know about a person to decide.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PersonFacts {
    pub registered_by: Uuid,
    /// The consent scopes in force (the latest decision per scope was "given").
    pub consents: Vec<ConsentScope>,
    /// Receiving organisation and its sector, for each referral of the person that is still open.
    pub open_referrals: Vec<(Uuid, Sector)>,
}

/// Why access was granted, or that it was not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Access {
    /// The principal's organisation registered the person.
    Registering,
    /// The principal's organisation holds an open referral and the person consented to sharing.
    Referral,
    Denied,
}

impl Access {
    pub fn allowed(self) -> bool {
        self != Self::Denied
    }
}

/// A referral is open until it is closed, declined, redirected or cancelled.
pub fn referral_is_open(status: ReferralStatus) -> bool {
    !matches!(
        status,
        ReferralStatus::Closed | ReferralStatus::Declined | ReferralStatus::Redirected | ReferralStatus::Cancelled
    )
}

/// Whether a referral waits on its receiver: for an answer (`sent`) or for the person to attend
/// (`accepted`). The receiver's inbox and the sender's overdue list are these.
pub fn referral_awaits_receiver(status: ReferralStatus) -> bool {
    matches!(status, ReferralStatus::Sent | ReferralStatus::Accepted)
}

/// May this principal read or write this person's record?
pub fn person_access(principal: &Principal, facts: &PersonFacts, write: bool) -> Access {
    if !principal.has_any_role(CARE_ROLES) {
        return Access::Denied;
    }
    let scope = if write { Scope::PersonsWrite } else { Scope::PersonsRead };
    if !principal.has_scope(scope) {
        return Access::Denied;
    }
    if facts.registered_by == principal.organisation_id {
        return if facts.consents.contains(&ConsentScope::Care) { Access::Registering } else { Access::Denied };
    }
    let referred = facts.open_referrals.iter().any(|(org, _)| *org == principal.organisation_id);
    let shared = facts.consents.contains(&ConsentScope::Organisation(principal.organisation_id))
        || facts.consents.contains(&ConsentScope::Sector(principal.sector));
    if referred && shared { Access::Referral } else { Access::Denied }
}

/// How much of a referral a principal may see and do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReferralAccess {
    /// The whole referral, clinical content included, and every step of the caller's side.
    Full,
    /// The receiving organisation after the person withdrew consent to share with it: what it
    /// needs to end the referral (its code, service, state, dates), without clinical content, and
    /// only the steps that end it.
    Restricted,
    Denied,
}

/// The parties of a referral, as the access rules see them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReferralParties {
    pub from_organisation: Uuid,
    pub to_organisation: Uuid,
    pub to_sector: Sector,
}

/// May this principal read (or, with `write`, step) this referral of a person with `facts`? The
/// sender sees it as it may see the person's record (a withdrawn care consent closes both); the
/// receiver while the person's consent to share with it, or its sector, is in force, and in
/// [`ReferralAccess::Restricted`] form after a withdrawal.
pub fn referral_access(
    principal: &Principal,
    facts: &PersonFacts,
    parties: &ReferralParties,
    write: bool,
) -> ReferralAccess {
    let scope = if write { Scope::PersonsWrite } else { Scope::PersonsRead };
    if !principal.has_any_role(CARE_ROLES) || !principal.has_scope(scope) {
        return ReferralAccess::Denied;
    }
    let org = principal.organisation_id;
    if org == parties.from_organisation && person_access(principal, facts, write).allowed() {
        return ReferralAccess::Full;
    }
    if org != parties.to_organisation {
        return ReferralAccess::Denied;
    }
    link_access(facts, parties)
}

/// What the receiving side sees of a referral (its organisation's users, or a service without
/// accounts through the referral's partner link): all of it while the person's consent to share
/// with that organisation, or its sector, is in force; [`ReferralAccess::Restricted`] otherwise.
pub fn link_access(facts: &PersonFacts, parties: &ReferralParties) -> ReferralAccess {
    let shared = facts.consents.contains(&ConsentScope::Organisation(parties.to_organisation))
        || facts.consents.contains(&ConsentScope::Sector(parties.to_sector));
    if shared { ReferralAccess::Full } else { ReferralAccess::Restricted }
}

/// The steps a receiver with [`ReferralAccess::Restricted`] may still take: those that end the
/// referral.
pub fn restricted_step_allowed(step: &crate::referral::Transition) -> bool {
    use crate::referral::Transition;
    matches!(step, Transition::Decline { .. } | Transition::Cancel { .. } | Transition::Close { .. })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(roles: &[Role], org: Uuid, sector: Sector) -> Principal {
        Principal { user_id: Uuid::now_v7(), organisation_id: org, sector, roles: roles.to_vec(), token: None }
    }

    #[test]
    fn the_registering_organisation_reads_while_care_consent_is_in_force() {
        let clinic = Uuid::now_v7();
        let p = principal(&[Role::Clinician], clinic, Sector::PrimaryCare);
        let mut facts =
            PersonFacts { registered_by: clinic, consents: vec![ConsentScope::Care], open_referrals: vec![] };
        assert_eq!(person_access(&p, &facts, true), Access::Registering);
        facts.consents.clear();
        assert_eq!(person_access(&p, &facts, false), Access::Denied);
    }

    #[test]
    fn a_referral_opens_the_record_only_with_consent_to_share() {
        let (clinic, rehab) = (Uuid::now_v7(), Uuid::now_v7());
        let p = principal(&[Role::CaseWorker], rehab, Sector::Rehabilitation);
        let mut facts = PersonFacts {
            registered_by: clinic,
            consents: vec![ConsentScope::Care],
            open_referrals: vec![(rehab, Sector::Rehabilitation)],
        };
        assert_eq!(person_access(&p, &facts, false), Access::Denied, "no consent to share");
        facts.consents.push(ConsentScope::Sector(Sector::Rehabilitation));
        assert_eq!(person_access(&p, &facts, false), Access::Referral);
        facts.open_referrals.clear();
        assert_eq!(person_access(&p, &facts, false), Access::Denied, "no open referral");
        facts.open_referrals.push((rehab, Sector::Rehabilitation));
        facts.consents = vec![ConsentScope::Care, ConsentScope::Organisation(rehab)];
        assert_eq!(person_access(&p, &facts, false), Access::Referral, "consent to the organisation by name");
    }

    #[test]
    fn analysts_never_read_a_person_and_admins_follow_the_same_rules() {
        let clinic = Uuid::now_v7();
        let facts = PersonFacts { registered_by: clinic, consents: vec![ConsentScope::Care], open_referrals: vec![] };
        let analyst = principal(&[Role::Analyst], clinic, Sector::PrimaryCare);
        assert_eq!(person_access(&analyst, &facts, false), Access::Denied);
        let admin_elsewhere = principal(&[Role::Admin], Uuid::now_v7(), Sector::Government);
        assert_eq!(person_access(&admin_elsewhere, &facts, false), Access::Denied);
    }

    #[test]
    fn a_referral_follows_the_persons_consent_on_both_sides() {
        let (clinic, rehab) = (Uuid::now_v7(), Uuid::now_v7());
        let parties =
            ReferralParties { from_organisation: clinic, to_organisation: rehab, to_sector: Sector::Rehabilitation };
        let sender = principal(&[Role::Clinician], clinic, Sector::PrimaryCare);
        let receiver = principal(&[Role::CaseWorker], rehab, Sector::Rehabilitation);
        let stranger = principal(&[Role::Clinician], Uuid::now_v7(), Sector::PrimaryCare);
        let mut facts = PersonFacts {
            registered_by: clinic,
            consents: vec![ConsentScope::Care, ConsentScope::Sector(Sector::Rehabilitation)],
            open_referrals: vec![(rehab, Sector::Rehabilitation)],
        };
        assert_eq!(referral_access(&sender, &facts, &parties, true), ReferralAccess::Full);
        assert_eq!(referral_access(&receiver, &facts, &parties, true), ReferralAccess::Full);
        assert_eq!(referral_access(&stranger, &facts, &parties, false), ReferralAccess::Denied);
        facts.consents = vec![ConsentScope::Care];
        assert_eq!(referral_access(&receiver, &facts, &parties, false), ReferralAccess::Restricted);
        assert_eq!(referral_access(&sender, &facts, &parties, false), ReferralAccess::Full);
        facts.consents.clear();
        assert_eq!(referral_access(&sender, &facts, &parties, false), ReferralAccess::Denied, "care withdrawn");
        let mut export_only = principal(&[Role::Clinician], clinic, Sector::PrimaryCare);
        export_only.token = Some(TokenGrant { id: Uuid::now_v7(), scopes: vec![Scope::Export] });
        facts.consents = vec![ConsentScope::Care];
        assert_eq!(referral_access(&export_only, &facts, &parties, false), ReferralAccess::Denied);
        use crate::referral::{Barrier, Transition};
        assert!(restricted_step_allowed(&Transition::Close { outcome: "seen".into() }));
        assert!(restricted_step_allowed(&Transition::Decline { reason: "r".into(), barrier: Barrier::Other }));
        assert!(!restricted_step_allowed(&Transition::Accept));
        assert!(!restricted_step_allowed(&Transition::Attend));
    }

    #[test]
    fn a_token_acts_only_within_its_scopes() {
        let clinic = Uuid::now_v7();
        let facts = PersonFacts { registered_by: clinic, consents: vec![ConsentScope::Care], open_referrals: vec![] };
        let mut p = principal(&[Role::Clinician], clinic, Sector::PrimaryCare);
        p.token = Some(TokenGrant { id: Uuid::now_v7(), scopes: vec![Scope::PersonsRead] });
        assert!(person_access(&p, &facts, false).allowed());
        assert!(!person_access(&p, &facts, true).allowed());
    }
}
