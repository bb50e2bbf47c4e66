//! The demo organisations, their services and one user for each role.

use hamroh_domain::geo;
use hamroh_domain::model::{Batch, Organisation, Service, User};
use hamroh_domain::org::{Lang, Role, Sector};
use hamroh_domain::person::DistrictCode;
use hamroh_domain::service::{Cost, ServiceLanguage};
use hamroh_domain::wording::{Translations, Wording};
use rand::SeedableRng;
use uuid::Uuid;

use crate::pick::{Rng, uuid_at};

/// A demo user before its password is hashed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoLogin {
    pub id: Uuid,
    pub username: &'static str,
    pub password: &'static str,
    pub display_name: &'static str,
    pub role: Role,
    pub organisation_id: Uuid,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DemoDirectory {
    pub organisations: Vec<Organisation>,
    pub services: Vec<Service>,
    pub logins: Vec<DemoLogin>,
}

impl DemoDirectory {
    /// Primary-care organisations, which register and screen people.
    pub fn primary_care(&self) -> impl Iterator<Item = &Organisation> {
        self.organisations.iter().filter(|o| o.sector == Sector::PrimaryCare)
    }

    /// Organisations, services and users as one batch, every user with the same password hash
    /// (for tests and benchmarks, which do not log in through a password).
    pub fn batch(&self, password_hash: &str) -> Batch {
        Batch {
            organisations: self.organisations.clone(),
            services: self.services.clone(),
            users: self
                .logins
                .iter()
                .map(|l| User {
                    id: l.id,
                    organisation_id: l.organisation_id,
                    username: l.username.to_owned(),
                    display_name: l.display_name.to_owned(),
                    password_hash: password_hash.to_owned(),
                    roles: vec![l.role],
                    lang: Lang::Tg,
                    disabled: false,
                })
                .collect(),
            ..Batch::default()
        }
    }

    pub fn services_of(&self, sector: Sector) -> impl Iterator<Item = &Service> {
        self.services.iter().filter(move |s| s.sector == sector)
    }
}

struct OrgSpec {
    name: &'static str,
    sector: Sector,
    district: &'static str,
    uses_hamroh: bool,
    /// (service name, service type, response days, regions covered)
    services: &'static [(&'static str, &'static str, i64, &'static [&'static str])],
}

const HOURS: &str = "Mon–Fri 08:00–17:00";

const ALL_REGIONS: &[&str] = &["TJ-DU", "TJ-SU", "TJ-KT", "TJ-GB", "TJ-RA"];

const ORGS: &[OrgSpec] = &[
    OrgSpec {
        name: "Kulob City Health Centre (demo)",
        sector: Sector::PrimaryCare,
        district: "TJ-KT.kulob",
        uses_hamroh: true,
        services: &[],
    },
    OrgSpec {
        name: "Bokhtar City Health Centre (demo)",
        sector: Sector::PrimaryCare,
        district: "TJ-KT.bokhtar",
        uses_hamroh: true,
        services: &[],
    },
    OrgSpec {
        name: "Khujand City Health Centre (demo)",
        sector: Sector::PrimaryCare,
        district: "TJ-SU.khujand",
        uses_hamroh: true,
        services: &[],
    },
    OrgSpec {
        name: "Rudaki District Health Centre (demo)",
        sector: Sector::PrimaryCare,
        district: "TJ-RA.rudaki",
        uses_hamroh: true,
        services: &[],
    },
    OrgSpec {
        name: "Sino District Health Centre, Dushanbe (demo)",
        sector: Sector::PrimaryCare,
        district: "TJ-DU.sino",
        uses_hamroh: true,
        services: &[],
    },
    OrgSpec {
        name: "Khorugh City Health Centre (demo)",
        sector: Sector::PrimaryCare,
        district: "TJ-GB.khorugh",
        uses_hamroh: true,
        services: &[],
    },
    OrgSpec {
        name: "Regional Mental Health Service, Khatlon (demo)",
        sector: Sector::MentalHealth,
        district: "TJ-KT.kulob",
        uses_hamroh: true,
        services: &[
            ("Outpatient psychiatric assessment", "psychiatric_assessment", 7, &["TJ-KT"]),
            ("Psychological counselling", "counselling", 14, &["TJ-KT"]),
        ],
    },
    OrgSpec {
        name: "City Mental Health Centre, Dushanbe (demo)",
        sector: Sector::MentalHealth,
        district: "TJ-DU.firdavsi",
        uses_hamroh: true,
        services: &[(
            "Outpatient psychiatric assessment",
            "psychiatric_assessment",
            7,
            &["TJ-DU", "TJ-RA", "TJ-GB", "TJ-SU"],
        )],
    },
    OrgSpec {
        name: "Rehabilitation Centre for People with Disabilities (demo)",
        sector: Sector::Rehabilitation,
        district: "TJ-DU.ismoili_somoni",
        uses_hamroh: true,
        services: &[
            ("Physical rehabilitation", "physical_rehabilitation", 14, ALL_REGIONS),
            ("Assistive devices", "assistive_devices", 21, ALL_REGIONS),
        ],
    },
    OrgSpec {
        name: "Social Protection Office, Kulob (demo)",
        sector: Sector::SocialProtection,
        district: "TJ-KT.kulob",
        uses_hamroh: true,
        services: &[
            ("Disability status assessment", "disability_assessment", 21, &["TJ-KT"]),
            ("Social assistance", "social_assistance", 14, &["TJ-KT"]),
        ],
    },
    OrgSpec {
        name: "Employment Service, Khujand (demo)",
        sector: Sector::Employment,
        district: "TJ-SU.khujand",
        uses_hamroh: true,
        services: &[("Job placement and vocational training", "job_placement", 14, &["TJ-SU"])],
    },
    OrgSpec {
        name: "Returnees Support NGO (demo)",
        sector: Sector::Ngo,
        district: "TJ-KT.bokhtar",
        uses_hamroh: true,
        services: &[
            ("Psychosocial support group", "psychosocial_support", 7, &["TJ-KT", "TJ-DU", "TJ-RA"]),
            ("Legal counselling on compensation", "legal_counselling", 14, ALL_REGIONS),
        ],
    },
    OrgSpec {
        name: "International Organisation Country Office (demo)",
        sector: Sector::International,
        district: "TJ-DU.sino",
        uses_hamroh: true,
        services: &[("Reintegration assistance", "reintegration_assistance", 21, ALL_REGIONS)],
    },
    OrgSpec {
        name: "Small Business Support Fund (demo)",
        sector: Sector::SmallBusiness,
        district: "TJ-DU.shohmansur",
        uses_hamroh: false,
        services: &[("Small-business grants for returnees with disabilities", "business_grant", 30, ALL_REGIONS)],
    },
    OrgSpec {
        name: "District Health Office, Kulob (demo)",
        sector: Sector::Government,
        district: "TJ-KT.kulob",
        uses_hamroh: true,
        services: &[],
    },
    OrgSpec {
        name: "Ministry Health Information Unit (demo)",
        sector: Sector::Government,
        district: "TJ-DU.ismoili_somoni",
        uses_hamroh: true,
        services: &[],
    },
];

/// The demo directory's words in Russian and Tajik: (English, Russian, Tajik).
const WORDS: &[(&str, &str, &str)] = &[
    (
        "Kulob City Health Centre (demo)",
        "Городской центр здоровья, Куляб (демо)",
        "Маркази саломатии шаҳри Кӯлоб (намоишӣ)",
    ),
    (
        "Bokhtar City Health Centre (demo)",
        "Городской центр здоровья, Бохтар (демо)",
        "Маркази саломатии шаҳри Бохтар (намоишӣ)",
    ),
    (
        "Khujand City Health Centre (demo)",
        "Городской центр здоровья, Худжанд (демо)",
        "Маркази саломатии шаҳри Хуҷанд (намоишӣ)",
    ),
    (
        "Rudaki District Health Centre (demo)",
        "Районный центр здоровья, Рудаки (демо)",
        "Маркази саломатии ноҳияи Рӯдакӣ (намоишӣ)",
    ),
    (
        "Sino District Health Centre, Dushanbe (demo)",
        "Центр здоровья района Сино, Душанбе (демо)",
        "Маркази саломатии ноҳияи Сино, Душанбе (намоишӣ)",
    ),
    (
        "Khorugh City Health Centre (demo)",
        "Городской центр здоровья, Хорог (демо)",
        "Маркази саломатии шаҳри Хоруғ (намоишӣ)",
    ),
    (
        "Regional Mental Health Service, Khatlon (demo)",
        "Областная служба психического здоровья, Хатлон (демо)",
        "Хадамоти вилоятии солимии равонӣ, Хатлон (намоишӣ)",
    ),
    (
        "City Mental Health Centre, Dushanbe (demo)",
        "Городской центр психического здоровья, Душанбе (демо)",
        "Маркази шаҳрии солимии равонӣ, Душанбе (намоишӣ)",
    ),
    (
        "Rehabilitation Centre for People with Disabilities (demo)",
        "Реабилитационный центр для людей с инвалидностью (демо)",
        "Маркази тавонбахшии одамони дорои маъюбӣ (намоишӣ)",
    ),
    (
        "Social Protection Office, Kulob (demo)",
        "Управление социальной защиты, Куляб (демо)",
        "Раёсати ҳифзи иҷтимоӣ, Кӯлоб (намоишӣ)",
    ),
    ("Employment Service, Khujand (demo)", "Служба занятости, Худжанд (демо)", "Хадамоти шуғл, Хуҷанд (намоишӣ)"),
    (
        "Returnees Support NGO (demo)",
        "Общественная организация поддержки вернувшихся мигрантов (демо)",
        "Ташкилоти ҷамъиятии дастгирии муҳоҷирони баргашта (намоишӣ)",
    ),
    (
        "International Organisation Country Office (demo)",
        "Страновой офис международной организации (демо)",
        "Дафтари кишварии созмони байналмилалӣ (намоишӣ)",
    ),
    (
        "Small Business Support Fund (demo)",
        "Фонд поддержки малого бизнеса (демо)",
        "Хазинаи дастгирии соҳибкории хурд (намоишӣ)",
    ),
    (
        "District Health Office, Kulob (demo)",
        "Районный отдел здравоохранения, Куляб (демо)",
        "Шуъбаи ноҳиявии тандурустӣ, Кӯлоб (намоишӣ)",
    ),
    (
        "Ministry Health Information Unit (demo)",
        "Отдел медицинской информации министерства (демо)",
        "Шуъбаи иттилооти тиббии вазорат (намоишӣ)",
    ),
    (
        "Outpatient psychiatric assessment",
        "Амбулаторное психиатрическое обследование",
        "Муоинаи амбулатории равонпизишкӣ",
    ),
    ("Psychological counselling", "Психологическое консультирование", "Машварати равоншиносӣ"),
    ("Physical rehabilitation", "Физическая реабилитация", "Тавонбахшии ҷисмонӣ"),
    ("Assistive devices", "Вспомогательные средства", "Воситаҳои ёрирасон"),
    ("Disability status assessment", "Установление инвалидности", "Муайян кардани маъюбӣ"),
    ("Social assistance", "Социальная помощь", "Кумаки иҷтимоӣ"),
    (
        "Job placement and vocational training",
        "Трудоустройство и профессиональное обучение",
        "Бо кор таъмин кардан ва омӯзиши касбӣ",
    ),
    ("Psychosocial support group", "Группа психосоциальной поддержки", "Гурӯҳи дастгирии равонӣ-иҷтимоӣ"),
    ("Legal counselling on compensation", "Юридическая консультация по компенсации", "Машварати ҳуқуқӣ оид ба ҷуброн"),
    ("Reintegration assistance", "Помощь в реинтеграции", "Кумак барои ҳамгироии дубора"),
    (
        "Small-business grants for returnees with disabilities",
        "Гранты на малый бизнес для вернувшихся мигрантов с инвалидностью",
        "Грантҳо барои тиҷорати хурди муҳоҷирони баргаштаи дорои маъюбӣ",
    ),
    ("Mon–Fri 08:00–17:00", "Пн–Пт 08:00–17:00", "Дш–Ҷм 08:00–17:00"),
];

/// Russian and Tajik for an English text of the demo directory.
fn ru_tg(en: &str) -> (&'static str, &'static str) {
    WORDS.iter().find(|w| w.0 == en).map(|w| (w.1, w.2)).unwrap_or_else(|| panic!("no translation of {en}"))
}

/// The demo directory entry's name (and opening hours) in Russian and Tajik.
fn translated(name: &str, opening_hours: Option<&str>) -> Translations {
    [Lang::Ru, Lang::Tg]
        .into_iter()
        .map(|lang| {
            let pick = |en: &str| {
                let (ru, tg) = ru_tg(en);
                if lang == Lang::Ru { ru } else { tg }.to_owned()
            };
            (lang, Wording { name: pick(name), description: None, opening_hours: opening_hours.map(pick) })
        })
        .collect()
}

/// (username, password, display name, role, organisation index in ORGS)
const LOGINS: &[(&str, &str, &str, Role, usize)] = &[
    ("clinician", "demo-clinician-pass", "Dr Malika Saidova (demo)", Role::Clinician, 0),
    ("specialist", "demo-specialist-pass", "Dr Farhod Nazarov (demo)", Role::Specialist, 6),
    ("caseworker", "demo-caseworker-pass", "Zarina Umarova (demo)", Role::CaseWorker, 8),
    ("coordinator", "demo-coordinator-pass", "Rustam Karimov (demo)", Role::Coordinator, 14),
    ("analyst", "demo-analyst-pass", "Nigora Rahimova (demo)", Role::Analyst, 15),
    ("admin", "demo-admin-pass", "System Administrator (demo)", Role::Admin, 15),
    // The receiving side outside health: social protection, employment and an NGO.
    ("socialworker", "demo-socialworker-pass", "Gulnora Sharipova (demo)", Role::CaseWorker, 9),
    ("employment", "demo-employment-pass", "Davron Aliev (demo)", Role::CaseWorker, 10),
    ("ngo", "demo-ngo-pass", "Shahnoza Yusufova (demo)", Role::CaseWorker, 11),
];

/// The demo directory: always the same organisations, services and users, with the same ids,
/// whatever the seed of the people, so that demo data sets with different seeds can share it.
pub fn directory() -> DemoDirectory {
    // 2026-01-01T00:00:00Z: the time part of every directory id.
    let at_ms = 1_767_225_600_000;
    let mut rng = Rng::seed_from_u64(0x0D1E_C70B);
    let mut organisations = Vec::new();
    let mut services = Vec::new();
    for spec in ORGS {
        let org_id = uuid_at(&mut rng, at_ms);
        organisations.push(Organisation {
            id: org_id,
            name: spec.name.to_owned(),
            sector: spec.sector,
            district: Some(DistrictCode::parse(spec.district).expect("demo districts are known")),
            uses_hamroh: spec.uses_hamroh,
            name_lang: Lang::En,
            translations: translated(spec.name, None),
        });
        for (name, service_type, response_days, regions) in spec.services {
            services.push(Service {
                id: uuid_at(&mut rng, at_ms),
                organisation_id: org_id,
                name: (*name).to_owned(),
                sector: spec.sector,
                service_type: (*service_type).to_owned(),
                response_days: *response_days,
                districts: regions
                    .iter()
                    .flat_map(|r| geo::districts_of(r))
                    .map(|d| DistrictCode::parse(d.code).expect("known"))
                    .collect(),
                languages: if regions.contains(&"TJ-SU") {
                    vec![ServiceLanguage::Tajik, ServiceLanguage::Russian, ServiceLanguage::Uzbek]
                } else {
                    vec![ServiceLanguage::Tajik, ServiceLanguage::Russian]
                },
                cost: match spec.sector {
                    Sector::LegalAid | Sector::SmallBusiness => Cost::Free,
                    Sector::MentalHealth if *response_days > 10 => Cost::Insurance,
                    _ if services.len() % 4 == 3 => Cost::Fee,
                    _ => Cost::Free,
                },
                accessible: spec.sector == Sector::Rehabilitation || services.len() % 3 == 0,
                // Not a real number: 000 is no Tajik operator code.
                contact: Some(format!("+992 000 00 {:02} (demo)", services.len())),
                opening_hours: Some(HOURS.to_owned()),
                description: None,
                text_lang: Lang::En,
                translations: translated(name, Some(HOURS)),
            });
        }
    }
    let logins = LOGINS
        .iter()
        .map(|&(username, password, display_name, role, org)| DemoLogin {
            id: uuid_at(&mut rng, at_ms),
            username,
            password,
            display_name,
            role,
            organisation_id: organisations[org].id,
        })
        .collect();
    DemoDirectory { organisations, services, logins }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_role_has_a_login_and_every_sector_of_the_design_is_present() {
        let d = directory();
        for role in Role::ALL {
            assert!(d.logins.iter().any(|l| l.role == *role), "{role}");
        }
        for sector in [
            Sector::PrimaryCare,
            Sector::MentalHealth,
            Sector::Rehabilitation,
            Sector::SocialProtection,
            Sector::Employment,
            Sector::Ngo,
            Sector::International,
        ] {
            assert!(d.organisations.iter().any(|o| o.sector == sector), "{sector}");
        }
        assert!(d.organisations.iter().all(|o| o.name.ends_with("(demo)")));
    }

    #[test]
    fn the_directory_is_deterministic() {
        assert_eq!(directory(), directory());
    }
}
