//! Matching names across scripts and spellings. A returnee's name may be written in Tajik Cyrillic
//! (Раҳимов), Russian Cyrillic (Рахимов) or a Latin transliteration (Rahimov, Rakhimov), and since
//! the 2010s many surnames ending in -ов/-ова became -зода (Raҳimzoda). Two keys are derived from
//! a name and stored with the person:
//!
//! - the *key*: the name transliterated to a plain Latin skeleton (ҳ, х, kh → h; қ, q → k;
//!   ғ, gh → g; ҷ, дж, dzh, dj, zh → j; ӯ → u; ӣ, ы → i; й, y dropped), lower-case, doubled letters
//!   collapsed, and surname endings (-ов, -ова, -ев, -ева, -зода, -zoda, -zade, -zada) removed;
//! - the *consonants*: the key without vowels, to catch vowel spellings (Баҳодур, Бахадур).

/// The two match keys of one name (or one word of a query).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NameKeys {
    pub key: String,
    pub consonants: String,
}

fn transliterate(c: char) -> &'static str {
    match c {
        'а' => "a",
        'б' => "b",
        'в' => "v",
        'г' | 'ғ' => "g",
        'д' => "d",
        'е' | 'э' => "e",
        'ё' => "o",
        'ж' | 'ҷ' => "j",
        'з' => "z",
        'и' | 'ӣ' | 'ы' | 'і' => "i",
        'й' | 'ъ' | 'ь' => "",
        'к' | 'қ' => "k",
        'л' => "l",
        'м' => "m",
        'н' => "n",
        'о' => "o",
        'п' => "p",
        'р' => "r",
        'с' => "s",
        'т' => "t",
        'у' | 'ӯ' => "u",
        'ф' => "f",
        'х' | 'ҳ' => "h",
        'ц' => "ts",
        'ч' => "ch",
        'ш' | 'щ' => "sh",
        'ю' => "u",
        'я' => "a",
        _ => "",
    }
}

/// Surname endings that carry no identity, longest first.
const ENDINGS: &[&str] = &["zoda", "zade", "zada", "ova", "eva", "ov", "ev"];

pub fn keys(name: &str) -> NameKeys {
    let lower = name.to_lowercase();
    let mut latin = String::with_capacity(lower.len());
    for c in lower.chars() {
        if c.is_ascii_alphabetic() {
            latin.push(c);
        } else {
            latin.push_str(transliterate(c));
        }
    }
    // Latin spellings of the same sounds.
    let latin = latin
        .replace("dzh", "j")
        .replace("dj", "j")
        .replace("zh", "j")
        .replace("kh", "h")
        .replace("gh", "g")
        .replace('q', "k")
        .replace('x', "h")
        .replace('w', "v")
        .replace('y', "");
    let mut key = String::with_capacity(latin.len());
    for c in latin.chars() {
        if !key.ends_with(c) {
            key.push(c);
        }
    }
    for ending in ENDINGS {
        if key.len() > ending.len() + 2 && key.ends_with(ending) {
            key.truncate(key.len() - ending.len());
            break;
        }
    }
    let consonants = key.chars().filter(|c| !"aeiou".contains(*c)).collect();
    NameKeys { key, consonants }
}

/// Whether two names are likely the same: the same key, or (for names with at least three
/// consonants) the same consonants.
pub fn same_name(a: &str, b: &str) -> bool {
    let (a, b) = (keys(a), keys(b));
    !a.key.is_empty() && (a.key == b.key || (a.consonants.len() >= 3 && a.consonants == b.consonants))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tajik_russian_and_latin_spellings_find_each_other() {
        for group in [
            &["Рахимов", "Раҳимов", "Rahimov", "Rakhimov", "RAHIMOVA", "Раҳимова", "Rahimzoda", "Раҳимзода"][..],
            &["Ҷамшед", "Джамшед", "Jamshed", "Djamshed", "Dzhamshed"],
            &["Қодиров", "Кодиров", "Qodirov", "Kodirov"],
            &["Фирӯз", "Фируз", "Firuz"],
            &["Ҳасанов", "Хасанов", "Hasanov", "Khasanov"],
            &["Юсуфов", "Yusufov", "Юсуфзода"],
            &["Ҷӯраев", "Джураев", "Jurayev", "Juraev"],
            &["Баҳодур", "Бахадур", "Bahodur"],
            &["Ғафуров", "Гафуров", "Ghafurov", "Gafurov"],
        ] {
            for a in group {
                for b in group {
                    assert!(same_name(a, b), "{a} ~ {b}: {:?} {:?}", keys(a), keys(b));
                }
            }
        }
    }

    #[test]
    fn different_names_stay_apart() {
        for (a, b) in [("Рахимов", "Каримов"), ("Saidov", "Safarov"), ("Малика", "Мадина"), ("Умед", "Умар")]
        {
            assert!(!same_name(a, b), "{a} !~ {b}: {:?} {:?}", keys(a), keys(b));
        }
        assert!(!same_name("", ""));
    }

    #[test]
    fn keys_are_plain_latin() {
        assert_eq!(keys("Раҳимзода").key, "rahim");
        assert_eq!(keys("Шоҳмансур").key, "shohmansur");
        assert_eq!(keys("Баҳодур").consonants, "bhdr");
    }
}

/// What a search box's text asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Query {
    /// A Hamroh id such as `HM-7K3Q-9D2F` (case and hyphens do not matter).
    Code(String),
    /// A phone number, normalised to its digits.
    Phone(String),
    /// Names (any script), optionally with a birth year.
    Name { keys: Vec<NameKeys>, birth_year: Option<i32> },
    /// A birth year alone.
    BirthYear(i32),
}

/// Normalises a Hamroh id: upper-case, `HM-XXXX-XXXX`.
pub fn normalise_code(text: &str) -> Option<String> {
    let compact: String = text.chars().filter(|c| c.is_ascii_alphanumeric()).collect::<String>().to_uppercase();
    let rest = compact.strip_prefix("HM")?;
    (rest.len() == 8).then(|| format!("HM-{}-{}", &rest[..4], &rest[4..]))
}

pub fn parse_query(text: &str) -> Option<Query> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    if let Some(code) = normalise_code(text) {
        return Some(Query::Code(code));
    }
    let digits: String = text.chars().filter(char::is_ascii_digit).collect();
    let only_phone_chars = text.chars().all(|c| c.is_ascii_digit() || " +-()".contains(c));
    if only_phone_chars && digits.len() >= 6 {
        return Some(Query::Phone(digits));
    }
    let mut birth_year = None;
    let mut keys = Vec::new();
    for word in text.split(|c: char| c.is_whitespace() || c == ',') {
        if let Ok(year) = word.parse::<i32>() {
            if (1900..=2100).contains(&year) {
                birth_year = Some(year);
            }
        } else {
            let k = self::keys(word);
            if !k.key.is_empty() {
                keys.push(k);
            }
        }
    }
    match (keys.is_empty(), birth_year) {
        (true, Some(year)) => Some(Query::BirthYear(year)),
        (true, None) => None,
        (false, _) => Some(Query::Name { keys, birth_year }),
    }
}

#[cfg(test)]
mod query_tests {
    use super::*;

    #[test]
    fn a_query_is_read_as_code_phone_year_or_names() {
        assert_eq!(parse_query("hm 7k3q 9d2f"), Some(Query::Code("HM-7K3Q-9D2F".into())));
        assert_eq!(parse_query("+992 (93) 123-45-67"), Some(Query::Phone("992931234567".into())));
        assert_eq!(parse_query("1990"), Some(Query::BirthYear(1990)));
        let Some(Query::Name { keys, birth_year }) = parse_query("Раҳимов Фирӯз 1990") else { panic!() };
        assert_eq!((keys.len(), birth_year), (2, Some(1990)));
        assert_eq!(keys[0].key, "rahim");
        assert_eq!(parse_query("   "), None);
    }
}
