//! Tajikistan's administrative geography: the five first-level units (ISO 3166-2:TJ) and their
//! districts and cities, with English, Russian and Tajik names.
//!
//! Source: Agency on Statistics under the President of the Republic of Tajikistan, population
//! table as of 1 January 2025 (47 districts and 18 cities of regional subordination), reconciled with
//! ISO 3166-2:TJ (Debian iso-codes). Dushanbe's four city districts are listed under TJ-DU.
//! District codes are Hamroh's own (`REGION.slug`): ISO 3166-2 has no second level for Tajikistan.

use serde::Serialize;

/// A first-level unit: ISO 3166-2:TJ code and names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Region {
    pub code: &'static str,
    pub en: &'static str,
    pub ru: &'static str,
    pub tg: &'static str,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DistrictKind {
    District,
    City,
    CityDistrict,
}

/// A second-level unit: a district (nohiya), a city of regional subordination, or a city district.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct District {
    pub code: &'static str,
    pub region: &'static str,
    pub kind: DistrictKind,
    pub en: &'static str,
    pub ru: &'static str,
    pub tg: &'static str,
    /// Former names (renamings of 2000-2018), for matching imported data.
    pub aliases: &'static [&'static str],
}

pub const REGIONS: &[Region] = &[
    Region { code: "TJ-DU", en: "Dushanbe", ru: "Душанбе", tg: "Душанбе" },
    Region { code: "TJ-SU", en: "Sughd", ru: "Согдийская область", tg: "Вилояти Суғд" },
    Region {
        code: "TJ-KT", en: "Khatlon", ru: "Хатлонская область", tg: "Вилояти Хатлон"
    },
    Region {
        code: "TJ-GB",
        en: "Gorno-Badakhshan Autonomous Region",
        ru: "Горно-Бадахшанская автономная область",
        tg: "Вилояти Мухтори Кӯҳистони Бадахшон",
    },
    Region {
        code: "TJ-RA",
        en: "Districts of Republican Subordination",
        ru: "Районы республиканского подчинения",
        tg: "Ноҳияҳои тобеи ҷумҳурӣ",
    },
];

macro_rules! d {
    ($code:literal, $region:literal, $kind:ident, $en:literal, $ru:literal, $tg:literal $(, [$($alias:literal),*])?) => {
        District {
            code: $code,
            region: $region,
            kind: DistrictKind::$kind,
            en: $en,
            ru: $ru,
            tg: $tg,
            aliases: &[$($($alias),*)?],
        }
    };
}

#[rustfmt::skip]
pub const DISTRICTS: &[District] = &[
    // Dushanbe: four city districts.
    d!("TJ-DU.ismoili_somoni", "TJ-DU", CityDistrict, "Ismoili Somoni", "район Исмоили Сомони", "Исмоили Сомонӣ"),
    d!("TJ-DU.sino", "TJ-DU", CityDistrict, "Sino", "район Сино", "Сино"),
    d!("TJ-DU.firdavsi", "TJ-DU", CityDistrict, "Firdavsi", "район Фирдавси", "Фирдавсӣ"),
    d!("TJ-DU.shohmansur", "TJ-DU", CityDistrict, "Shohmansur", "район Шохмансур", "Шоҳмансур"),
    // Sughd: 10 districts, 8 cities.
    d!("TJ-SU.ayni", "TJ-SU", District, "Ayni", "Айнинский район", "Айнӣ"),
    d!("TJ-SU.asht", "TJ-SU", District, "Asht", "Аштский район", "Ашт"),
    d!("TJ-SU.devashtich", "TJ-SU", District, "Devashtich", "Деваштичский район", "Деваштич", ["Ghonchi"]),
    d!("TJ-SU.zafarobod", "TJ-SU", District, "Zafarobod", "Зафарабадский район", "Зафаробод"),
    d!("TJ-SU.mastchoh", "TJ-SU", District, "Mastchoh", "Матчинский район", "Мастчоҳ"),
    d!("TJ-SU.kuhistoni_mastchoh", "TJ-SU", District, "Kuhistoni Mastchoh", "Кухистони-Мастчохский район", "Кӯҳистони Мастчоҳ"),
    d!("TJ-SU.spitamen", "TJ-SU", District, "Spitamen", "Спитаменский район", "Спитамен", ["Nau"]),
    d!("TJ-SU.jabbor_rasulov", "TJ-SU", District, "Jabbor Rasulov", "Джаббар-Расуловский район", "Ҷаббор Расулов"),
    d!("TJ-SU.bobojon_ghafurov", "TJ-SU", District, "Bobojon Ghafurov", "Бободжон-Гафуровский район", "Бобоҷон Ғафуров"),
    d!("TJ-SU.shahriston", "TJ-SU", District, "Shahriston", "Шахристанский район", "Шаҳристон"),
    d!("TJ-SU.khujand", "TJ-SU", City, "Khujand", "Худжанд", "Хуҷанд", ["Leninabad"]),
    d!("TJ-SU.isfara", "TJ-SU", City, "Isfara", "Исфара", "Исфара"),
    d!("TJ-SU.guliston", "TJ-SU", City, "Guliston", "Гулистон", "Гулистон", ["Kayrakkum"]),
    d!("TJ-SU.konibodom", "TJ-SU", City, "Konibodom", "Канибадам", "Конибодом"),
    d!("TJ-SU.panjakent", "TJ-SU", City, "Panjakent", "Пенджикент", "Панҷакент"),
    d!("TJ-SU.istaravshan", "TJ-SU", City, "Istaravshan", "Истаравшан", "Истаравшан", ["Uroteppa"]),
    d!("TJ-SU.istiqlol", "TJ-SU", City, "Istiqlol", "Истиклол", "Истиқлол", ["Taboshar"]),
    d!("TJ-SU.buston", "TJ-SU", City, "Buston", "Бустон", "Бӯстон", ["Chkalovsk"]),
    // Khatlon: 21 districts, 4 cities.
    d!("TJ-KT.baljuvon", "TJ-KT", District, "Baljuvon", "Бальджуванский район", "Балҷувон"),
    d!("TJ-KT.kushoniyon", "TJ-KT", District, "Kushoniyon", "Кушониёнский район", "Кӯшониён", ["Bokhtar district"]),
    d!("TJ-KT.vakhsh", "TJ-KT", District, "Vakhsh", "Вахшский район", "Вахш"),
    d!("TJ-KT.vose", "TJ-KT", District, "Vose", "Восейский район", "Восеъ"),
    d!("TJ-KT.danghara", "TJ-KT", District, "Danghara", "Дангаринский район", "Данғара"),
    d!("TJ-KT.yovon", "TJ-KT", District, "Yovon", "Яванский район", "Ёвон"),
    d!("TJ-KT.jaloliddini_balkhi", "TJ-KT", District, "Jaloliddini Balkhi", "район Джалолиддина Балхи", "Ҷалолиддини Балхӣ", ["Rumi", "Kolkhozobod"]),
    d!("TJ-KT.muminobod", "TJ-KT", District, "Muminobod", "Муминабадский район", "Мӯъминобод"),
    d!("TJ-KT.hamadoni", "TJ-KT", District, "Hamadoni", "район Мир Сайида Али Хамадони", "Мир Сайид Алии Ҳамадонӣ"),
    d!("TJ-KT.nosiri_khusrav", "TJ-KT", District, "Nosiri Khusrav", "район Носири Хусрава", "Носири Хусрав"),
    d!("TJ-KT.panj", "TJ-KT", District, "Panj", "Пянджский район", "Панҷ"),
    d!("TJ-KT.temurmalik", "TJ-KT", District, "Temurmalik", "Темурмаликский район", "Темурмалик"),
    d!("TJ-KT.khovaling", "TJ-KT", District, "Khovaling", "Ховалингский район", "Ховалинг"),
    d!("TJ-KT.farkhor", "TJ-KT", District, "Farkhor", "Фархорский район", "Фархор"),
    d!("TJ-KT.khuroson", "TJ-KT", District, "Khuroson", "Хуросонский район", "Хуросон"),
    d!("TJ-KT.dusti", "TJ-KT", District, "Dusti", "район Дусти", "Дӯстӣ", ["Jilikul"]),
    d!("TJ-KT.qubodiyon", "TJ-KT", District, "Qubodiyon", "Кубодиёнский район", "Қубодиён"),
    d!("TJ-KT.abdurahmoni_jomi", "TJ-KT", District, "Abdurahmoni Jomi", "район Абдурахмона Джами", "Абдураҳмони Ҷомӣ", ["Jomi"]),
    d!("TJ-KT.jayhun", "TJ-KT", District, "Jayhun", "район Джайхун", "Ҷайҳун", ["Qumsangir"]),
    d!("TJ-KT.shahritus", "TJ-KT", District, "Shahritus", "Шахритусский район", "Шаҳритӯс"),
    d!("TJ-KT.shamsiddin_shohin", "TJ-KT", District, "Shamsiddin Shohin", "район Шамсиддина Шохина", "Шамсиддин Шоҳин", ["Shuro-obod"]),
    d!("TJ-KT.bokhtar", "TJ-KT", City, "Bokhtar", "Бохтар", "Бохтар", ["Qurghonteppa", "Kurgan-Tyube"]),
    d!("TJ-KT.kulob", "TJ-KT", City, "Kulob", "Куляб", "Кӯлоб"),
    d!("TJ-KT.levakant", "TJ-KT", City, "Levakant", "Левакант", "Левакант", ["Sarband"]),
    d!("TJ-KT.norak", "TJ-KT", City, "Norak", "Нурек", "Норак", ["Nurek"]),
    // Gorno-Badakhshan: 7 districts, 1 city.
    d!("TJ-GB.vanj", "TJ-GB", District, "Vanj", "Ванчский район", "Ванҷ"),
    d!("TJ-GB.darvoz", "TJ-GB", District, "Darvoz", "Дарвазский район", "Дарвоз"),
    d!("TJ-GB.ishkoshim", "TJ-GB", District, "Ishkoshim", "Ишкашимский район", "Ишкошим"),
    d!("TJ-GB.murghob", "TJ-GB", District, "Murghob", "Мургабский район", "Мурғоб"),
    d!("TJ-GB.roshtqala", "TJ-GB", District, "Roshtqala", "Рошткалинский район", "Роштқалъа"),
    d!("TJ-GB.rushon", "TJ-GB", District, "Rushon", "Рушанский район", "Рӯшон"),
    d!("TJ-GB.shughnon", "TJ-GB", District, "Shughnon", "Шугнанский район", "Шуғнон"),
    d!("TJ-GB.khorugh", "TJ-GB", City, "Khorugh", "Хорог", "Хоруғ"),
    // Districts of Republican Subordination: 9 districts, 4 cities.
    d!("TJ-RA.varzob", "TJ-RA", District, "Varzob", "Варзобский район", "Варзоб"),
    d!("TJ-RA.lakhsh", "TJ-RA", District, "Lakhsh", "Лахшский район", "Лахш", ["Jirgatol"]),
    d!("TJ-RA.nurobod", "TJ-RA", District, "Nurobod", "Нурабадский район", "Нуробод"),
    d!("TJ-RA.rasht", "TJ-RA", District, "Rasht", "Раштский район", "Рашт"),
    d!("TJ-RA.sangvor", "TJ-RA", District, "Sangvor", "Сангворский район", "Сангвор", ["Tavildara"]),
    d!("TJ-RA.tojikobod", "TJ-RA", District, "Tojikobod", "Таджикабадский район", "Тоҷикобод"),
    d!("TJ-RA.fayzobod", "TJ-RA", District, "Fayzobod", "Файзабадский район", "Файзобод"),
    d!("TJ-RA.rudaki", "TJ-RA", District, "Rudaki", "район Рудаки", "Рӯдакӣ"),
    d!("TJ-RA.shahrinav", "TJ-RA", District, "Shahrinav", "Шахринавский район", "Шаҳринав"),
    d!("TJ-RA.vahdat", "TJ-RA", City, "Vahdat", "Вахдат", "Ваҳдат", ["Kofarnihon"]),
    d!("TJ-RA.hisor", "TJ-RA", City, "Hisor", "Гиссар", "Ҳисор"),
    d!("TJ-RA.roghun", "TJ-RA", City, "Roghun", "Рогун", "Роғун"),
    d!("TJ-RA.tursunzoda", "TJ-RA", City, "Tursunzoda", "Турсунзаде", "Турсунзода", ["Regar"]),
];

/// Obsolete first-level codes seen in older data, and their current equivalents.
const OBSOLETE_REGION_CODES: &[(&str, &str)] = &[("TJ-RR", "TJ-RA"), ("TJ-BG", "TJ-GB")];

pub fn region(code: &str) -> Option<&'static Region> {
    let code = OBSOLETE_REGION_CODES.iter().find(|(old, _)| *old == code).map_or(code, |(_, new)| new);
    REGIONS.iter().find(|r| r.code == code)
}

pub fn district(code: &str) -> Option<&'static District> {
    DISTRICTS.iter().find(|d| d.code == code)
}

pub fn districts_of(region: &str) -> impl Iterator<Item = &'static District> + '_ {
    DISTRICTS.iter().filter(move |d| d.region == region)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_match_the_statistics_agency_table() {
        let count = |region, kind| districts_of(region).filter(|d| d.kind == kind).count();
        let districts: usize = REGIONS.iter().map(|r| count(r.code, DistrictKind::District)).sum();
        let cities: usize = REGIONS.iter().map(|r| count(r.code, DistrictKind::City)).sum();
        assert_eq!(districts, 47);
        // 17 cities of regional subordination plus Dushanbe itself, counted here as a region.
        assert_eq!(cities, 17);
        assert_eq!(count("TJ-DU", DistrictKind::CityDistrict), 4);
    }

    #[test]
    fn every_district_belongs_to_a_region_and_codes_are_unique() {
        let mut codes = std::collections::HashSet::new();
        for d in DISTRICTS {
            assert!(region(d.region).is_some(), "{}", d.code);
            assert!(d.code.starts_with(d.region), "{}", d.code);
            assert!(codes.insert(d.code), "duplicate {}", d.code);
            assert!(!d.en.is_empty() && !d.ru.is_empty() && !d.tg.is_empty());
        }
    }

    #[test]
    fn obsolete_region_codes_resolve() {
        assert_eq!(region("TJ-RR").unwrap().code, "TJ-RA");
        assert_eq!(region("TJ-BG").unwrap().code, "TJ-GB");
        assert!(region("TJ-XX").is_none());
    }
}
