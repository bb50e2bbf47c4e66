//! A migration episode: where a returnee worked abroad, and how the episode ended.

use serde::Serialize;

use crate::code_enum;
use crate::person::ValueError;

code_enum!(WorkSector: "work sector" {
    Construction = "construction",
    Agriculture = "agriculture",
    Trade = "trade",
    Transport = "transport",
    Manufacturing = "manufacturing",
    Hospitality = "hospitality",
    DomesticWork = "domestic_work",
    Mining = "mining",
    Housing = "housing_utilities",
    Other = "other",
});

code_enum!(LegalStatus: "legal status" {
    Regular = "regular",
    Irregular = "irregular",
    Unknown = "unknown",
});

code_enum!(ReturnReason: "reason for return" {
    EndOfWork = "end_of_work",
    Family = "family",
    Illness = "illness",
    Injury = "injury",
    EntryBan = "entry_ban",
    Deportation = "deportation",
    Economic = "economic",
    Other = "other",
});

code_enum!(InjuryCause: "injury cause" {
    Fall = "fall",
    Machinery = "machinery",
    FallingObject = "falling_object",
    RoadTraffic = "road_traffic",
    Violence = "violence",
    Burn = "burn",
    Frostbite = "frostbite",
    OccupationalDisease = "occupational_disease",
    Other = "other",
});

code_enum!(BodyPart: "body part" {
    Head = "head",
    Spine = "spine",
    UpperLimb = "upper_limb",
    LowerLimb = "lower_limb",
    Trunk = "trunk",
    Multiple = "multiple",
    Other = "other",
});

/// A destination country: ISO 3166-1 alpha-2 code and names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Country {
    pub code: &'static str,
    pub en: &'static str,
    pub ru: &'static str,
    pub tg: &'static str,
}

/// The destinations Tajik labour migrants go to, most frequent first.
pub const DESTINATIONS: &[Country] = &[
    Country { code: "RU", en: "Russia", ru: "Россия", tg: "Русия" },
    Country { code: "KZ", en: "Kazakhstan", ru: "Казахстан", tg: "Қазоқистон" },
    Country { code: "TR", en: "Türkiye", ru: "Турция", tg: "Туркия" },
    Country {
        code: "AE", en: "United Arab Emirates", ru: "ОАЭ", tg: "Аморати Муттаҳидаи Араб"
    },
    Country {
        code: "KR", en: "Republic of Korea", ru: "Республика Корея", tg: "Ҷумҳурии Корея"
    },
    Country { code: "UZ", en: "Uzbekistan", ru: "Узбекистан", tg: "Ӯзбекистон" },
    Country { code: "BY", en: "Belarus", ru: "Беларусь", tg: "Беларус" },
    Country { code: "KG", en: "Kyrgyzstan", ru: "Кыргызстан", tg: "Қирғизистон" },
    Country {
        code: "SA", en: "Saudi Arabia", ru: "Саудовская Аравия", tg: "Арабистони Саудӣ"
    },
    Country { code: "QA", en: "Qatar", ru: "Катар", tg: "Қатар" },
    Country { code: "LT", en: "Lithuania", ru: "Литва", tg: "Литва" },
    Country { code: "PL", en: "Poland", ru: "Польша", tg: "Лаҳистон" },
    Country { code: "DE", en: "Germany", ru: "Германия", tg: "Олмон" },
    Country {
        code: "GB", en: "United Kingdom", ru: "Великобритания", tg: "Британияи Кабир"
    },
    Country { code: "US", en: "United States", ru: "США", tg: "ИМА" },
];

pub fn country(code: &str) -> Result<&'static Country, ValueError> {
    DESTINATIONS.iter().find(|c| c.code.eq_ignore_ascii_case(code)).ok_or_else(|| ValueError::Country(code.to_owned()))
}
