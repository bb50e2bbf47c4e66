//! A de-identified research file: one line per consenting person, generalised until every
//! combination of quasi-identifiers (age band, sex, area, destination) is shared by at least `k`
//! lines. Recoding is global (the same level for every line), from the least to the most coarse;
//! the first level at which at most 5% of lines sit in classes smaller than `k` is kept, and those
//! lines are left out. No name, code, id, date or free text is written.
//!
//! k-anonymity alone still tells a class's members' health when the whole class shares it (five
//! men of 30-39 in one district, all with a self-harm flag). So every sensitive column (the
//! screens, the self-harm flag, disability, work injury) is made distinct 2-diverse: where the
//! lines of a class share one value of it, that column reads `withheld` on every line of the
//! class, and the codebook says how many values were withheld.

use std::collections::HashMap;

use hamroh_store::facts::ResearchRecord;

/// How coarse each quasi-identifier is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Level {
    pub area: Area,
    pub destination: Destination,
    /// Width of the age bands in years (10, 20) or 0 for no age at all.
    pub age_years: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Area {
    District,
    Region,
    Country,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Destination {
    Country,
    /// Russia, Kazakhstan, or `other`.
    Main,
    Any,
}

/// From fine to coarse.
pub const LEVELS: [Level; 6] = [
    Level { area: Area::District, destination: Destination::Country, age_years: 10 },
    Level { area: Area::Region, destination: Destination::Country, age_years: 10 },
    Level { area: Area::Region, destination: Destination::Main, age_years: 10 },
    Level { area: Area::Region, destination: Destination::Main, age_years: 20 },
    Level { area: Area::Region, destination: Destination::Any, age_years: 20 },
    Level { area: Area::Country, destination: Destination::Any, age_years: 0 },
];

/// The share of lines that may be left out at a level before a coarser one is tried.
const MAX_DROPPED: f64 = 0.05;

/// Instrument groups reported as `positive`, `negative` or `not_screened`.
pub const OUTCOMES: [(&str, &[&str]); 6] = [
    ("depression", &["phq9", "phq2"]),
    ("anxiety", &["gad7"]),
    ("somatic", &["phq15"]),
    ("ptsd", &["pcl5", "pcptsd5"]),
    ("alcohol", &["audit", "auditc"]),
    ("common_mental_disorder", &["srq20"]),
];

pub const QUASI_IDENTIFIERS: [&str; 4] = ["age_band", "sex", "area", "destination"];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResearchFile {
    pub k: i64,
    pub level: Level,
    /// Consenting persons read.
    pub read: usize,
    /// Lines left out because their class stayed smaller than `k`.
    pub dropped: usize,
    pub header: Vec<String>,
    pub lines: Vec<Vec<String>>,
    /// Sensitive values withheld because their class shared one value (l-diversity, l = 2).
    pub withheld: usize,
}

/// What a sensitive value reads where its class would otherwise tell it.
pub const WITHHELD: &str = "withheld";

/// The columns whose value must differ within every class: the screens and what follows them.
pub fn sensitive_columns(header: &[String]) -> Vec<usize> {
    let sensitive =
        |h: &str| h.ends_with("_screen") || matches!(h, "self_harm_flag" | "disability_wgss" | "work_injury");
    header.iter().enumerate().filter(|(_, h)| sensitive(h)).map(|(i, _)| i).collect()
}

/// Withholds, in every class (the first `QUASI_IDENTIFIERS.len()` values of a line), each
/// sensitive column whose lines share one value; returns how many values were withheld.
fn diversify(lines: &mut [Vec<String>], sensitive: &[usize]) -> usize {
    let q = QUASI_IDENTIFIERS.len();
    let mut classes: HashMap<Vec<String>, Vec<usize>> = HashMap::new();
    for (n, line) in lines.iter().enumerate() {
        classes.entry(line[..q].to_vec()).or_default().push(n);
    }
    let mut withheld = 0;
    for members in classes.values() {
        for &col in sensitive {
            let first = &lines[members[0]][col];
            if members.iter().all(|&n| &lines[n][col] == first) {
                for &n in members {
                    lines[n][col] = WITHHELD.to_owned();
                }
                withheld += members.len();
            }
        }
    }
    withheld
}

fn quasi(r: &ResearchRecord, level: Level, year: i64) -> [String; 4] {
    let age = year - r.birth_year;
    let age_band = if level.age_years == 0 {
        "any".to_owned()
    } else {
        let from = (age / level.age_years) * level.age_years;
        format!("{from}-{}", from + level.age_years - 1)
    };
    let area = match level.area {
        Area::District => r.district.clone(),
        Area::Region => r.district.split('.').next().unwrap_or_default().to_owned(),
        Area::Country => "TJ".to_owned(),
    };
    let destination = match (level.destination, r.destination.as_deref()) {
        (_, None) => "none".to_owned(),
        (Destination::Country, Some(d)) => d.to_owned(),
        (Destination::Main, Some(d @ ("RU" | "KZ"))) => d.to_owned(),
        (Destination::Main, Some(_)) => "other".to_owned(),
        (Destination::Any, Some(_)) => "abroad".to_owned(),
    };
    [age_band, r.sex.clone(), area, destination]
}

fn small_classes(records: &[ResearchRecord], level: Level, year: i64, k: i64) -> (Vec<[String; 4]>, Vec<bool>) {
    let keys: Vec<[String; 4]> = records.iter().map(|r| quasi(r, level, year)).collect();
    let mut sizes: HashMap<&[String; 4], i64> = HashMap::new();
    for key in &keys {
        *sizes.entry(key).or_default() += 1;
    }
    let small = keys.iter().map(|key| sizes[key] < k).collect();
    (keys, small)
}

/// Builds the file. `year`: the year ages are computed for.
pub fn research_file(records: &[ResearchRecord], k: i64, year: i64) -> ResearchFile {
    let k = k.max(2);
    let mut chosen = LEVELS[LEVELS.len() - 1];
    for level in LEVELS {
        let (_, small) = small_classes(records, level, year, k);
        let dropped = small.iter().filter(|s| **s).count();
        if records.is_empty() || (dropped as f64) <= MAX_DROPPED * records.len() as f64 {
            chosen = level;
            break;
        }
    }
    let (keys, small) = small_classes(records, chosen, year, k);
    let mut header: Vec<String> = QUASI_IDENTIFIERS.iter().map(|s| (*s).to_owned()).collect();
    header.push("registration_year".to_owned());
    header.extend(OUTCOMES.iter().map(|(name, _)| format!("{name}_screen")));
    header.extend(["self_harm_flag", "disability_wgss", "work_injury", "referral_attended"].map(str::to_owned));
    let yes_no = |b: bool| if b { "yes" } else { "no" }.to_owned();
    let mut lines: Vec<Vec<String>> = Vec::new();
    for ((r, key), small) in records.iter().zip(keys).zip(small) {
        if small {
            continue;
        }
        let mut line: Vec<String> = key.to_vec();
        line.push((r.registered_month / 100).to_string());
        for (_, instruments) in OUTCOMES {
            let results: Vec<bool> = instruments.iter().filter_map(|i| r.screenings.get(*i)).map(|s| s.0).collect();
            line.push(match (results.is_empty(), results.iter().any(|p| *p)) {
                (true, _) => "not_screened".to_owned(),
                (false, true) => "positive".to_owned(),
                (false, false) => "negative".to_owned(),
            });
        }
        line.push(yes_no(r.screenings.values().any(|s| s.1)));
        line.push(match r.screenings.get("wgss") {
            None => "not_screened".to_owned(),
            Some((true, _)) => "yes".to_owned(),
            Some((false, _)) => "no".to_owned(),
        });
        line.push(yes_no(r.work_injury));
        line.push(yes_no(r.referral_attended));
        lines.push(line);
    }
    let withheld = diversify(&mut lines, &sensitive_columns(&header));
    // The order of lines must not follow the order of registration.
    lines.sort();
    let dropped = records.len() - lines.len();
    ResearchFile { k, level: chosen, read: records.len(), dropped, header, lines, withheld }
}

impl ResearchFile {
    pub fn csv(&self) -> Result<Vec<u8>, csv::Error> {
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(&self.header)?;
        for line in &self.lines {
            w.write_record(line)?;
        }
        w.into_inner().map_err(|e| e.into_error().into())
    }

    /// The codebook: what each column means and which values it takes, and how the file was made.
    pub fn codebook(&self) -> String {
        let area = match self.level.area {
            Area::District => "district code (e.g. TJ-KT.kulob)",
            Area::Region => "region code, ISO 3166-2:TJ (e.g. TJ-KT)",
            Area::Country => "TJ (the whole country)",
        };
        let destination = match self.level.destination {
            Destination::Country => "ISO 3166-1 alpha-2 country of the last stay abroad; none",
            Destination::Main => "RU, KZ, other; none",
            Destination::Any => "abroad; none",
        };
        let age = if self.level.age_years == 0 {
            "any (age not given)".to_owned()
        } else {
            format!("age in years in the reference year, in bands of {} (e.g. 30-39)", self.level.age_years)
        };
        let mut out = String::from("# Hamroh research file: codebook\n\n");
        out += &format!(
            "One line per person whose consent to research was in force when the file was made. \
             Persons read: {}. Lines left out to reach k: {}. Every combination of the quasi-identifiers \
             ({}) is shared by at least k = {} lines. Lines are sorted, not in registration order. \
             The file holds no name, code, identifier, date or free text. In every such class each \
             sensitive column (the screens, self_harm_flag, disability_wgss, work_injury) takes at least \
             two distinct values; where a class's lines all shared one, that column reads `withheld` on \
             each of them, so that belonging to the class tells nobody's result. Values withheld: {}.\n\n",
            self.read,
            self.dropped,
            QUASI_IDENTIFIERS.join(", "),
            self.k,
            self.withheld
        );
        out += "| column | meaning | values |\n| --- | --- | --- |\n";
        out += &format!("| age_band | quasi-identifier | {age} |\n");
        out += "| sex | quasi-identifier | male, female |\n";
        out += &format!("| area | quasi-identifier: where the person lives | {area} |\n");
        out += &format!("| destination | quasi-identifier | {destination} |\n");
        out += "| registration_year | year the person was registered in Hamroh | YYYY |\n";
        for (name, instruments) in OUTCOMES {
            out += &format!(
                "| {name}_screen | any positive result on {} | positive, negative, not_screened, withheld |\n",
                instruments.join(" or ")
            );
        }
        out += "| self_harm_flag | any screening raised the self-harm red flag | yes, no, withheld |\n";
        out += "| disability_wgss | WG-SS: at least one domain with a lot of difficulty or cannot do at all | yes, no, not_screened, withheld |\n";
        out += "| work_injury | a stay abroad ended or included a work injury | yes, no, withheld |\n";
        out += "| referral_attended | the person attended at least one referral | yes, no |\n";
        out
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn record_strategy() -> impl Strategy<Value = ResearchRecord> {
        (1950i64..2006, any::<bool>(), 0usize..6, 0usize..5, any::<bool>(), any::<bool>()).prop_map(
            |(birth_year, male, d, dest, injury, attended)| ResearchRecord {
                person_id: uuid::Uuid::nil(),
                birth_year,
                sex: if male { "male" } else { "female" }.to_owned(),
                district: [
                    "TJ-KT.kulob",
                    "TJ-KT.bokhtar",
                    "TJ-SU.khujand",
                    "TJ-DU.somoni",
                    "TJ-GB.khorog",
                    "TJ-RA.rudaki",
                ][d]
                    .to_owned(),
                destination: ["RU", "KZ", "TR", "AE"].get(dest).map(|s| (*s).to_owned()),
                registered_month: 202603,
                screenings: [("phq9".to_owned(), (injury, false))].into(),
                work_injury: injury,
                referral_attended: attended,
            },
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn every_combination_of_quasi_identifiers_is_shared_by_at_least_k_lines(
            records in prop::collection::vec(record_strategy(), 0..300),
            k in 2i64..10,
        ) {
            let file = research_file(&records, k, 2026);
            let mut sizes: HashMap<Vec<String>, i64> = HashMap::new();
            for line in &file.lines {
                *sizes.entry(line[..4].to_vec()).or_default() += 1;
            }
            prop_assert!(sizes.values().all(|n| *n >= k), "{sizes:?}");
            prop_assert_eq!(file.lines.len() + file.dropped, records.len());
            prop_assert!(file.lines.iter().all(|l| l.len() == file.header.len()));
        }

        #[test]
        fn no_class_tells_its_members_sensitive_values(
            records in prop::collection::vec(record_strategy(), 0..300),
            k in 2i64..10,
        ) {
            let file = research_file(&records, k, 2026);
            let mut classes: HashMap<Vec<String>, Vec<&Vec<String>>> = HashMap::new();
            for line in &file.lines {
                classes.entry(line[..4].to_vec()).or_default().push(line);
            }
            for col in sensitive_columns(&file.header) {
                for (class, lines) in &classes {
                    let shown: std::collections::HashSet<&str> =
                        lines.iter().map(|l| l[col].as_str()).filter(|v| *v != WITHHELD).collect();
                    prop_assert!(shown.is_empty() || shown.len() >= 2, "{} in {class:?}: {shown:?}", file.header[col]);
                    // Withheld for the whole class or for none of it.
                    let withheld = lines.iter().filter(|l| l[col] == WITHHELD).count();
                    prop_assert!(withheld == 0 || withheld == lines.len());
                }
            }
        }
    }

    #[test]
    fn a_large_homogeneous_group_keeps_its_districts() {
        let one = ResearchRecord {
            person_id: uuid::Uuid::nil(),
            birth_year: 1990,
            sex: "male".into(),
            district: "TJ-KT.kulob".into(),
            destination: Some("RU".into()),
            registered_month: 202603,
            screenings: Default::default(),
            work_injury: false,
            referral_attended: false,
        };
        let file = research_file(&vec![one.clone(); 12], 5, 2026);
        assert_eq!(file.level, LEVELS[0]);
        assert_eq!(file.lines[0][..4], ["30-39", "male", "TJ-KT.kulob", "RU"]);
        assert!(file.codebook().contains("k = 5"));
        // Twelve men alike with no work injury: the file must not say so of each of them.
        let injury = file.header.iter().position(|h| h == "work_injury").unwrap();
        assert!(file.lines.iter().all(|l| l[injury] == WITHHELD));
        assert_eq!(file.withheld, 12 * sensitive_columns(&file.header).len());
        // One of them injured: the class is diverse, and every value stands.
        let mut mixed = vec![one; 12];
        mixed[3].work_injury = true;
        let file = research_file(&mixed, 5, 2026);
        assert_eq!(file.lines.iter().filter(|l| l[injury] == "yes").count(), 1);
        assert!(file.codebook().contains("withheld"));
    }
}
