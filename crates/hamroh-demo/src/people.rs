//! Synthetic returnees with their migration histories, consents, screenings over time, referrals
//! and follow-ups, generated in chunks so that a national-scale data set streams into the store.

use hamroh_domain::consent::ConsentScope;
use hamroh_domain::geo::{self, District};
use hamroh_domain::instrument::{self, ScoreContext};
use hamroh_domain::migration::{BodyPart, InjuryCause, LegalStatus, ReturnReason, WorkSector};
use hamroh_domain::model::{
    Batch, ConsentRecord, Decision, FollowUp, MigrationEpisode, Millis, Person, PersonRecord, Referral, ReferralEvent,
    Screening, WorkInjury,
};
use hamroh_domain::org::{Lang, Sector};
use hamroh_domain::person::{BirthYear, DistrictCode, Phone, Sex};
use hamroh_domain::referral::{Barrier, FollowUpKind, FollowUpStatus, ReferralStatus, Urgency};
use hamroh_domain::registration::code_of;
use jiff::civil::Date;
use jiff::{Span, Timestamp, ToSpan};
use rand::{RngExt, SeedableRng};
use uuid::Uuid;

use crate::directory::DemoDirectory;
use crate::pick::{Mint, Rng, one, spread, weighted};

const DAY_MS: i64 = 86_400_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DemoConfig {
    pub people: u64,
    pub seed: u64,
    /// The day the data set ends on: screenings, returns and referrals lie before it.
    pub as_of: Date,
}

/// Generates the people of a demo data set, `chunk` persons (with everything about them) at a time.
pub struct DemoPeople<'a> {
    config: DemoConfig,
    directory: &'a DemoDirectory,
    rng: Rng,
    next: u64,
    /// Referrals made so far: the number each referral's code is spread from.
    referrals_made: u64,
    as_of_ms: Millis,
    ids: Mint,
}

impl DemoConfig {
    /// The start of the as-of day in Dushanbe, in milliseconds: the time every demo id is minted
    /// from (the data set is loaded on its as-of day), so that it does not depend on when it was
    /// generated.
    pub fn as_of_ms(&self) -> Millis {
        self.as_of
            .to_zoned(jiff::tz::TimeZone::fixed(jiff::tz::offset(5)))
            .map(|z| z.timestamp().as_millisecond())
            .unwrap_or(0)
    }
}

impl<'a> DemoPeople<'a> {
    pub fn new(config: DemoConfig, directory: &'a DemoDirectory) -> Self {
        let as_of_ms = config.as_of_ms();
        let rng = Rng::seed_from_u64(config.seed);
        Self { config, directory, rng, next: 0, referrals_made: 0, as_of_ms, ids: Mint::new(as_of_ms) }
    }

    /// The next `chunk` persons, or `None` when all have been generated.
    pub fn next_chunk(&mut self, chunk: u64) -> Option<Batch> {
        if self.next >= self.config.people {
            return None;
        }
        let end = (self.next + chunk).min(self.config.people);
        let mut batch = Batch::default();
        while self.next < end {
            self.person(&mut batch);
            self.next += 1;
        }
        Some(batch)
    }

    fn person(&mut self, batch: &mut Batch) {
        self.ids.person(self.next);
        let rng = &mut self.rng;
        let region = *weighted(rng, &[("TJ-KT", 38), ("TJ-SU", 29), ("TJ-RA", 19), ("TJ-DU", 9), ("TJ-GB", 5)]);
        let districts: Vec<&District> = geo::districts_of(region).collect();
        let district = DistrictCode::parse(one(rng, &districts).code).expect("known district");
        let clinic = clinic_for(self.directory, region);
        let sex = if rng.random_bool(0.88) { Sex::Male } else { Sex::Female };
        let this_year = self.config.as_of.year() as i32;
        // Ages 18 to 60, most in their twenties and thirties.
        let age = 18 + ((rng.random::<f64>() * rng.random::<f64>()).sqrt() * 42.0) as i32;
        let birth_year = BirthYear::new(this_year - age, this_year).expect("18 to 60");
        // Returned within the last three years; registered some days after return. Return days
        // are spread evenly over those years in the order persons are made (the earliest first,
        // each drawn within its own share of the days): the set is as uniform as independent
        // draws, and a chunk's records are dated, and so keyed, close together, which keeps a
        // large load's inserts on a few pages of each index rather than all of them.
        let return_day = self.config.as_of - returned_days_before(self.next, self.config.people, rng).days();
        let registered_ms = day_ms(&self.config, self.as_of_ms, return_day)
            + rng.random_range(3..60) * DAY_MS
            + rng.random_range(8..17) * 3_600_000;
        let registered_ms = registered_ms.min(self.as_of_ms - DAY_MS);
        let id = self.ids.next(rng);
        let (given, family) = name(rng, sex);
        let named = rng.random_bool(0.7);
        let person = Person {
            id,
            // Codes spread from the person's number never repeat, however many are made.
            code: code_of("HM", spread(self.next, self.config.seed)),
            organisation_id: clinic,
            sex,
            birth_year,
            district,
            given_name: named.then_some(given),
            family_name: named.then_some(family),
            phone: rng
                .random_bool(0.6)
                .then(|| Phone::parse(&format!("+99290{:07}", rng.random_range(0..10_000_000))).expect("valid")),
            created_at: registered_ms,
            created_by: None,
        };
        let episodes = self.episodes(id, this_year - age, return_day);
        let circumstances = hamroh_domain::pathway::Circumstances {
            work_injury: episodes.iter().any(|e| e.injury.is_some()),
            returned_after: episodes.iter().filter_map(|e| e.return_reason).collect(),
        };
        let consents = self.consents(id, registered_ms);
        batch.persons.push(PersonRecord { person, episodes, consents });
        self.screen_over_time(batch, id, clinic, sex, district, &circumstances, registered_ms);
    }

    fn episodes(&mut self, person: Uuid, birth_year: i32, return_day: Date) -> Vec<MigrationEpisode> {
        let rng = &mut self.rng;
        let count = *weighted(rng, &[(1, 55), (2, 30), (3, 15)]);
        let mut year_to = return_day.year() as i32;
        let mut out = Vec::new();
        for n in 0..count {
            let length = rng.random_range(1..5);
            let year_from = (year_to - length).max(birth_year + 18);
            let country = *weighted(
                rng,
                &[("RU", 78), ("KZ", 8), ("TR", 4), ("AE", 3), ("KR", 2), ("UZ", 2), ("BY", 1), ("SA", 1), ("LT", 1)],
            );
            let destination_region = match country {
                "RU" => Some(*weighted(
                    rng,
                    &[
                        ("Moscow", 40),
                        ("Moscow Oblast", 20),
                        ("Saint Petersburg", 12),
                        ("Sverdlovsk Oblast", 8),
                        ("Novosibirsk Oblast", 6),
                        ("Tyumen Oblast", 5),
                        ("Krasnoyarsk Krai", 4),
                        ("Samara Oblast", 5),
                    ],
                )),
                "KZ" => Some(*weighted(rng, &[("Almaty", 60), ("Astana", 40)])),
                _ => None,
            };
            let work_sector = *weighted(
                rng,
                &[
                    (WorkSector::Construction, 45),
                    (WorkSector::Trade, 15),
                    (WorkSector::Transport, 10),
                    (WorkSector::Housing, 8),
                    (WorkSector::Agriculture, 7),
                    (WorkSector::Hospitality, 6),
                    (WorkSector::Manufacturing, 5),
                    (WorkSector::DomesticWork, 2),
                    (WorkSector::Other, 2),
                ],
            );
            let injury = (rng.random_bool(0.09)).then(|| WorkInjury {
                cause: *weighted(
                    rng,
                    &[
                        (InjuryCause::Fall, 35),
                        (InjuryCause::FallingObject, 15),
                        (InjuryCause::Machinery, 15),
                        (InjuryCause::RoadTraffic, 10),
                        (InjuryCause::Violence, 10),
                        (InjuryCause::Frostbite, 3),
                        (InjuryCause::Burn, 4),
                        (InjuryCause::OccupationalDisease, 5),
                        (InjuryCause::Other, 3),
                    ],
                ),
                body_part: *weighted(
                    rng,
                    &[
                        (BodyPart::Spine, 20),
                        (BodyPart::LowerLimb, 30),
                        (BodyPart::UpperLimb, 25),
                        (BodyPart::Head, 10),
                        (BodyPart::Trunk, 5),
                        (BodyPart::Multiple, 10),
                    ],
                ),
            });
            let latest = n == 0;
            let return_reason = if injury.is_some() {
                ReturnReason::Injury
            } else {
                *weighted(
                    rng,
                    &[
                        (ReturnReason::EndOfWork, 35),
                        (ReturnReason::Family, 25),
                        (ReturnReason::EntryBan, 10),
                        (ReturnReason::Economic, 12),
                        (ReturnReason::Illness, 8),
                        (ReturnReason::Deportation, 5),
                        (ReturnReason::Other, 5),
                    ],
                )
            };
            out.push(MigrationEpisode {
                id: self.ids.next(rng),
                person_id: person,
                destination_country: country.to_owned(),
                destination_region: destination_region.map(str::to_owned),
                year_from,
                year_to: Some(year_to),
                work_sector,
                occupation: None,
                legal_status: *weighted(
                    rng,
                    &[(LegalStatus::Regular, 70), (LegalStatus::Irregular, 22), (LegalStatus::Unknown, 8)],
                ),
                return_date: latest.then_some(return_day),
                return_reason: Some(return_reason),
                injury,
            });
            year_to = year_from - rng.random_range(0..2);
            if year_to < birth_year + 19 {
                break;
            }
        }
        out
    }

    fn consents(&mut self, person: Uuid, at: Millis) -> Vec<ConsentRecord> {
        let rng = &mut self.rng;
        let mut scopes = vec![ConsentScope::Care];
        for (scope, p) in [
            (ConsentScope::Research, 0.85),
            (ConsentScope::Sector(Sector::MentalHealth), 0.6),
            (ConsentScope::Sector(Sector::Rehabilitation), 0.55),
            (ConsentScope::Sector(Sector::SocialProtection), 0.55),
            (ConsentScope::Sector(Sector::Employment), 0.4),
            (ConsentScope::Sector(Sector::Ngo), 0.35),
        ] {
            if rng.random_bool(p) {
                scopes.push(scope);
            }
        }
        scopes
            .into_iter()
            .map(|scope| ConsentRecord {
                id: self.ids.next(rng),
                person_id: person,
                scope,
                given: true,
                recorded_at: at,
                recorded_by: None,
                how: None,
            })
            .collect()
    }

    #[allow(clippy::too_many_arguments)]
    fn screen_over_time(
        &mut self,
        batch: &mut Batch,
        person: Uuid,
        clinic: Uuid,
        sex: Sex,
        district: DistrictCode,
        circumstances: &hamroh_domain::pathway::Circumstances,
        first_ms: Millis,
    ) {
        // A latent level of distress that drifts between visits.
        let mut distress: f64 = *weighted(&mut self.rng, &[(0.15, 50), (0.35, 30), (0.6, 15), (0.85, 5)]);
        let visits = *weighted(&mut self.rng, &[(1, 50), (2, 30), (3, 15), (4, 5)]);
        let mut at = first_ms;
        for visit in 0..visits {
            if at >= self.as_of_ms {
                break;
            }
            let lang = *weighted(&mut self.rng, &[(Lang::Tg, 75), (Lang::Ru, 23), (Lang::En, 2)]);
            let visit_id = self.ids.next(&mut self.rng);
            let v = Visit { person, clinic, at, lang, sex, id: visit_id };
            let mut encounter = Vec::new();
            encounter.push(self.screening(&v, "phq9", distress));
            encounter.push(self.screening(&v, "gad7", distress));
            let injured = circumstances.work_injury;
            if injured || self.rng.random_bool(0.15) {
                encounter.push(self.screening(&v, "wgss", if injured { 0.8 } else { 0.1 }));
            }
            let phq9 = &encounter[0];
            let depressed = phq9.outcome.positive == Some(true);
            let self_harm = phq9.outcome.flags.iter().any(|f| f == "self_harm");
            let disabled = encounter.get(2).is_some_and(|w| w.outcome.positive == Some(true));
            if visit == 0 || depressed || self_harm {
                self.follow_up(batch, person, clinic, at, self_harm, depressed);
            }
            if self_harm || (depressed && self.rng.random_bool(0.6)) {
                let urgency = if self_harm { Urgency::Urgent } else { Urgency::Routine };
                self.refer(
                    batch,
                    person,
                    clinic,
                    district,
                    Sector::MentalHealth,
                    phq9.id,
                    "positive depression screen",
                    urgency,
                    at,
                );
            }
            if disabled && self.rng.random_bool(0.7) {
                let sector = *weighted(
                    &mut self.rng,
                    &[(Sector::Rehabilitation, 50), (Sector::SocialProtection, 35), (Sector::SmallBusiness, 15)],
                );
                let id = encounter[2].id;
                self.refer(
                    batch,
                    person,
                    clinic,
                    district,
                    sector,
                    id,
                    "disability identified by WG-SS",
                    Urgency::Routine,
                    at,
                );
            }
            // Clinicians decided on every encounter but the most recent few days'.
            if at < self.as_of_ms - 3 * DAY_MS {
                let pathway = hamroh_domain::pathway::suggest(&encounter, circumstances, Lang::En);
                batch.decisions.push(Decision {
                    id: self.ids.next(&mut self.rng),
                    encounter_id: visit_id,
                    person_id: person,
                    organisation_id: clinic,
                    user_id: None,
                    suggested: pathway.steps.iter().map(|s| s.rule.clone()).collect(),
                    choice: "follow".into(),
                    action: pathway.steps.iter().map(|s| s.action.as_str()).collect::<Vec<_>>().join(","),
                    reason: None,
                    at: at + 1_800_000,
                    amends: None,
                });
                // And assessed each red flag (mhGAP SUI): a safety plan, managed in primary care.
                // The id is drawn from the encounter's, so the rest of the data set stays as it was.
                for flag in encounter.iter().flat_map(|s| &s.outcome.flags).collect::<std::collections::BTreeSet<_>>() {
                    batch.safety_assessments.push(hamroh_domain::model::SafetyAssessment {
                        id: Uuid::from_u128(visit_id.as_u128() ^ 0x5afe),
                        encounter_id: visit_id,
                        person_id: person,
                        organisation_id: clinic,
                        flag: flag.clone(),
                        record: hamroh_domain::safety::SafetyRecord::Assessed(hamroh_domain::safety::Assessment {
                            thoughts: true,
                            plan: false,
                            act_past_year: false,
                            imminent_risk: false,
                            means_counselled: true,
                            safety_plan: "Demo: who to call, where to go, what helps.".into(),
                            action: hamroh_domain::safety::SafetyAction::ManageInPrimaryCare,
                            note: None,
                        }),
                        user_id: None,
                        at: at + 1_800_000,
                    });
                }
            }
            batch.screenings.extend(encounter);
            distress = (distress + self.rng.random_range(-0.25..0.15)).clamp(0.02, 0.95);
            at += self.rng.random_range(28..180) * DAY_MS;
        }
    }

    fn screening(&mut self, visit: &Visit, id: &str, level: f64) -> Screening {
        let Visit { person, clinic, at, lang, sex, id: encounter_id } = *visit;
        let instrument = instrument::catalog().get(id).expect("demo instruments exist");
        let answers: Vec<Option<i64>> = instrument
            .items
            .iter()
            .enumerate()
            .map(|(n, item)| {
                let (min, max) = item.value_range(instrument);
                // An optional item (PHQ-9 item 10) follows the distress without a draw, so that
                // the data set of a seed stays the same.
                if item.optional {
                    return Some((min + (level * (max - min) as f64).round() as i64).clamp(min, max));
                }
                // Thoughts of self-harm are rarer than other complaints, even at the same distress.
                let p = if id == "phq9" && n == 8 { level * level * 0.5 } else { level };
                let mut v = min;
                for _ in min..max {
                    if self.rng.random_bool(p.clamp(0.0, 1.0)) {
                        v += 1;
                    }
                }
                Some(v)
            })
            .collect();
        let outcome = instrument
            .score(&answers, &ScoreContext { sex: Some(sex), ..ScoreContext::default() })
            .expect("generated answers are in range")
            .into_outcome();
        Screening {
            id: self.ids.next(&mut self.rng),
            encounter_id,
            person_id: person,
            organisation_id: clinic,
            user_id: None,
            encounter_at: at,
            instrument: id.to_owned(),
            instrument_version: instrument.version.clone(),
            lang,
            answers,
            outcome,
        }
    }

    fn follow_up(
        &mut self,
        batch: &mut Batch,
        person: Uuid,
        clinic: Uuid,
        at: Millis,
        self_harm: bool,
        positive: bool,
    ) {
        let (kind, days) = if self_harm {
            (FollowUpKind::Call, 7)
        } else if positive {
            (FollowUpKind::Rescreen, self.rng.random_range(28..43))
        } else {
            (FollowUpKind::Rescreen, 180)
        };
        let due_ms = at + days * DAY_MS;
        let due_date = date_of(due_ms);
        let done = due_ms < self.as_of_ms && self.rng.random_bool(0.7);
        batch.follow_ups.push(FollowUp {
            id: self.ids.next(&mut self.rng),
            person_id: person,
            organisation_id: clinic,
            referral_id: None,
            kind,
            due_date,
            status: if done { FollowUpStatus::Done } else { FollowUpStatus::Open },
            note: None,
            created_at: at,
            created_by: None,
            done_at: done.then_some(due_ms),
            source: if self_harm { "self_harm" } else { "pathway" }.into(),
            encounter_id: None,
            outcome: None,
        });
    }

    #[allow(clippy::too_many_arguments)]
    fn refer(
        &mut self,
        batch: &mut Batch,
        person: Uuid,
        clinic: Uuid,
        district: DistrictCode,
        sector: Sector,
        screening: Uuid,
        reason: &str,
        urgency: Urgency,
        at: Millis,
    ) {
        let candidates: Vec<_> =
            self.directory.services_of(sector).filter(|s| s.districts.contains(&district)).collect();
        let Some(service) = candidates.first().map(|_| *one(&mut self.rng, &candidates)) else {
            return;
        };
        let respond_days = match urgency {
            Urgency::Emergency => 0,
            Urgency::Urgent => 1,
            Urgency::Routine => service.response_days,
        };
        let mut events = vec![ReferralEvent {
            from_status: None,
            to_status: ReferralStatus::Sent,
            at,
            by_user_id: None,
            reason: None,
            barrier: None,
            note: None,
        }];
        let mut t = at;
        let mut status = ReferralStatus::Sent;
        let mut step = |rng: &mut Rng, to: ReferralStatus, days: i64, barrier: Option<Barrier>| -> bool {
            let next = t + rng.random_range(0..=days.max(1)) * DAY_MS + rng.random_range(1..8) * 3_600_000;
            if next >= self.as_of_ms {
                return false;
            }
            t = next;
            events.push(ReferralEvent {
                from_status: Some(status),
                to_status: to,
                at: t,
                by_user_id: None,
                reason: barrier.map(|_| "reported by the person".to_owned()),
                barrier,
                note: None,
            });
            status = to;
            true
        };
        let barrier = |rng: &mut Rng| {
            *weighted(
                rng,
                &[
                    (Barrier::Cost, 30),
                    (Barrier::Distance, 25),
                    (Barrier::Stigma, 15),
                    (Barrier::Documents, 10),
                    (Barrier::WaitingTime, 8),
                    (Barrier::Language, 2),
                    (Barrier::DisabilityAccess, 5),
                    (Barrier::Other, 5),
                ],
            )
        };
        let rng = &mut self.rng;
        if rng.random_bool(0.85) {
            if rng.random_bool(0.85) {
                if step(rng, ReferralStatus::Accepted, respond_days + 3, None) {
                    let b = barrier(rng);
                    let attended = rng.random_bool(0.7);
                    let ok = if attended {
                        step(rng, ReferralStatus::Attended, 21, None)
                    } else {
                        step(rng, ReferralStatus::NoShow, 21, Some(b))
                    };
                    if ok && rng.random_bool(0.8) {
                        step(rng, ReferralStatus::Closed, 14, None);
                    }
                }
            } else {
                let b = barrier(rng);
                step(rng, ReferralStatus::Declined, respond_days + 3, Some(b));
            }
        }
        let id = self.ids.next(rng);
        self.referrals_made += 1;
        batch.referrals.push(Referral {
            id,
            code: code_of("R", spread(self.referrals_made, !self.config.seed)),
            person_id: person,
            from_organisation_id: clinic,
            from_user_id: None,
            service_id: service.id,
            to_organisation_id: service.organisation_id,
            screening_id: Some(screening),
            reason: reason.to_owned(),
            urgency,
            due_date: date_of(at + respond_days.max(1) * DAY_MS),
            status,
            note: None,
            created_at: at,
            events,
        });
    }
}

/// One sitting with a person at a clinic.
#[derive(Clone, Copy)]
struct Visit {
    person: Uuid,
    clinic: Uuid,
    at: Millis,
    lang: Lang,
    sex: Sex,
    id: Uuid,
}

fn clinic_for(directory: &DemoDirectory, region: &str) -> Uuid {
    let in_region = |o: &&hamroh_domain::model::Organisation| o.district.is_some_and(|d| d.region() == region);
    match directory.primary_care().find(in_region) {
        Some(c) => c.id,
        // No demo clinic in that region: the one in Dushanbe registers the person.
        None => clinic_for(directory, "TJ-DU"),
    }
}

/// Days before the as-of day that person `n` of `people` returned: 20 to 1,094, the `n`th of
/// `people` equal shares of that range from the oldest, and a uniform draw within the share.
fn returned_days_before(n: u64, people: u64, rng: &mut Rng) -> i64 {
    const NEWEST: u64 = 20;
    const SPAN: u64 = 1_095 - NEWEST;
    let people = people.max(1);
    let from = SPAN * (people - 1 - n.min(people - 1)) / people;
    let to = (SPAN * (people - n.min(people - 1)) / people).max(from + 1);
    (NEWEST + rng.random_range(from..to)) as i64
}

/// The start of `day` (Dushanbe time), given the as-of day and its start in milliseconds.
fn day_ms(config: &DemoConfig, as_of_ms: Millis, day: Date) -> Millis {
    as_of_ms - i64::from((config.as_of - day).get_days()) * DAY_MS
}

fn date_of(ms: Millis) -> Date {
    Timestamp::from_millisecond(ms)
        .unwrap_or(Timestamp::UNIX_EPOCH)
        .checked_add(Span::new().hours(5))
        .unwrap_or(Timestamp::UNIX_EPOCH)
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date()
}

/// Men's given names the demo draws from (Tajik Cyrillic).
pub const MALE_GIVEN_NAMES: &[&str] = &[
    "Алишер",
    "Фирӯз",
    "Ҷамшед",
    "Баҳодур",
    "Далер",
    "Умед",
    "Фаррух",
    "Шаҳбоз",
    "Исмоил",
    "Сӯҳроб",
    "Манучеҳр",
    "Раҳмон",
    "Зафар",
    "Нозим",
    "Хуршед",
    "Комрон",
];
/// Women's given names the demo draws from.
pub const FEMALE_GIVEN_NAMES: &[&str] =
    &["Малика", "Зарина", "Нигора", "Мадина", "Гулноза", "Шаҳло", "Дилафрӯз", "Парвина", "Мавҷуда", "Нилуфар"];
/// Surnames the demo draws from (men's forms).
const FAMILY: &[&str] = &[
    "Раҳимов",
    "Каримов",
    "Саидов",
    "Назаров",
    "Юсуфов",
    "Шарипов",
    "Ҳасанов",
    "Давлатов",
    "Қодиров",
    "Сафаров",
    "Ҷӯраев",
    "Мирзоев",
    "Раҳимзода",
    "Каримзода",
    "Султонзода",
    "Холов",
];

/// A random combination of common Tajik given names and surnames, in Tajik Cyrillic.
fn name(rng: &mut Rng, sex: Sex) -> (String, String) {
    let family = (*one(rng, FAMILY)).to_owned();
    match sex {
        Sex::Male => ((*one(rng, MALE_GIVEN_NAMES)).to_owned(), family),
        Sex::Female => {
            // Surnames in -ов/-ев take -а for women; -зода does not change.
            let family = if family.ends_with("ов") || family.ends_with("ев") { family + "а" } else { family };
            ((*one(rng, FEMALE_GIVEN_NAMES)).to_owned(), family)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::directory::directory;

    fn generate(people: u64, seed: u64) -> Batch {
        let dir = directory();
        let config = DemoConfig { people, seed, as_of: jiff::civil::date(2026, 11, 1) };
        let mut people = DemoPeople::new(config, &dir);
        let mut all = Batch::default();
        while let Some(b) = people.next_chunk(37) {
            all.persons.extend(b.persons);
            all.screenings.extend(b.screenings);
            all.referrals.extend(b.referrals);
            all.follow_ups.extend(b.follow_ups);
        }
        all
    }

    #[test]
    fn same_seed_same_people_whatever_the_chunk_size() {
        let a = generate(200, 42);
        let b = generate(200, 42);
        assert_eq!(a, b);
        assert_eq!(a.persons.len(), 200);
        assert_ne!(generate(200, 43).persons[0].person.id, a.persons[0].person.id);
    }

    #[test]
    fn ids_follow_the_order_records_are_made_in() {
        // Each table's ids ascend in load order, so a large load appends to every id index.
        let b = generate(300, 5);
        let ascending = |ids: Vec<Uuid>| ids.windows(2).all(|w| w[0] < w[1]);
        assert!(ascending(b.persons.iter().map(|p| p.person.id).collect()));
        assert!(ascending(b.persons.iter().flat_map(|p| &p.episodes).map(|e| e.id).collect()));
        assert!(ascending(b.screenings.iter().map(|s| s.id).collect()));
        assert!(ascending(b.referrals.iter().map(|r| r.id).collect()));
        assert!(b.screenings.iter().all(|s| s.id.get_version_num() == 7));
    }

    #[test]
    fn looks_like_the_returnee_population() {
        let b = generate(2000, 1);
        let men = b.persons.iter().filter(|p| p.person.sex == Sex::Male).count();
        assert!(men > 1600, "mostly men: {men}");
        let ages_ok = b.persons.iter().all(|p| (18..=60).contains(&p.person.birth_year.age_in(2026)));
        assert!(ages_ok);
        let episodes: Vec<_> = b.persons.iter().flat_map(|p| &p.episodes).collect();
        let russia = episodes.iter().filter(|e| e.destination_country == "RU").count();
        assert!(russia * 2 > episodes.len(), "mostly Russia");
        let construction = episodes.iter().filter(|e| e.work_sector == WorkSector::Construction).count();
        for sector in WorkSector::ALL {
            let n = episodes.iter().filter(|e| e.work_sector == *sector).count();
            assert!(construction >= n, "construction first");
        }
        assert!(episodes.iter().any(|e| e.injury.is_some()));
        for region in geo::REGIONS {
            assert!(b.persons.iter().any(|p| p.person.district.region() == region.code), "{}", region.code);
        }
        assert!(!b.screenings.is_empty() && !b.referrals.is_empty() && !b.follow_ups.is_empty());
        assert!(b.screenings.iter().any(|s| s.outcome.flags.iter().any(|f| f == "self_harm")));
        // Nothing happens after the as-of date.
        let end = jiff::civil::date(2026, 11, 1);
        assert!(b.follow_ups.iter().all(|f| f.done_at.is_none_or(|d| date_of(d) <= end)));
        assert!(b.screenings.iter().all(|s| date_of(s.encounter_at) <= end));
    }
}
