//! Passwords: hashing with Argon2id (the crate's default parameters: 19 MiB, 2 passes), in PHC
//! string form so that parameters can be raised later without invalidating stored hashes; and the
//! policy a new password must meet.

use argon2::{Argon2, PasswordHasher, PasswordVerifier};

pub const MIN_LENGTH: usize = 10;

pub fn hash(password: &str) -> Result<String, String> {
    Argon2::default().hash_password(password.as_bytes()).map(|h| h.to_string()).map_err(|e| e.to_string())
}

pub fn verify(password: &str, hash: &str) -> bool {
    Argon2::default().verify_password(password.as_bytes(), hash).is_ok()
}

/// Why a new password is refused; the code is also the Fluent message id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("a password needs at least 10 characters")]
    TooShort,
    #[error("this password is among the most common ones; choose another")]
    TooCommon,
    #[error("a password may not contain the username")]
    ContainsUsername,
}

impl PolicyError {
    pub fn code(self) -> &'static str {
        match self {
            Self::TooShort => "password-too-short",
            Self::TooCommon => "password-too-common",
            Self::ContainsUsername => "password-contains-username",
        }
    }
}

/// Passwords (and their stems) that appear at the top of every leaked-password list, plus local ones.
const COMMON: &[&str] = &[
    "123456",
    "password",
    "12345678",
    "qwerty",
    "123456789",
    "12345",
    "1234",
    "111111",
    "1234567",
    "dragon",
    "123123",
    "baseball",
    "abc123",
    "football",
    "monkey",
    "letmein",
    "696969",
    "shadow",
    "master",
    "666666",
    "qwertyuiop",
    "123321",
    "mustang",
    "1234567890",
    "michael",
    "654321",
    "superman",
    "1qaz2wsx",
    "7777777",
    "121212",
    "000000",
    "qazwsx",
    "123qwe",
    "killer",
    "trustno1",
    "jordan",
    "jennifer",
    "zxcvbnm",
    "asdfgh",
    "hunter",
    "buster",
    "soccer",
    "harley",
    "batman",
    "andrew",
    "tigger",
    "sunshine",
    "iloveyou",
    "2000",
    "charlie",
    "robert",
    "thomas",
    "hockey",
    "ranger",
    "daniel",
    "starwars",
    "klaster",
    "112233",
    "george",
    "computer",
    "michelle",
    "jessica",
    "pepper",
    "1111",
    "zxcvbn",
    "555555",
    "11111111",
    "131313",
    "freedom",
    "777777",
    "pass",
    "maggie",
    "159753",
    "aaaaaa",
    "ginger",
    "princess",
    "joshua",
    "cheese",
    "amanda",
    "summer",
    "love",
    "ashley",
    "6969",
    "nicole",
    "chelsea",
    "biteme",
    "matthew",
    "access",
    "yankees",
    "987654321",
    "dallas",
    "austin",
    "thunder",
    "taylor",
    "matrix",
    "password1",
    "password123",
    "welcome",
    "admin",
    "administrator",
    "qwerty123",
    "1q2w3e4r",
    "1q2w3e4r5t",
    "123456a",
    "a123456",
    "parol",
    "parol123",
    "hamroh",
    "hamroh123",
    "dushanbe",
    "tajikistan",
    "tojikiston",
    "somoni",
    "khujand",
    "moskva",
    "russia",
    "clinician",
    "doctor",
    "qwertyu",
    "asdfghjkl",
    "zaq12wsx",
    "changeme",
    "secret",
    "default",
    "guest",
];

pub fn check_policy(password: &str, username: &str) -> Result<(), PolicyError> {
    if password.chars().count() < MIN_LENGTH {
        return Err(PolicyError::TooShort);
    }
    let lower = password.to_lowercase();
    if !username.is_empty() && lower.contains(&username.to_lowercase()) {
        return Err(PolicyError::ContainsUsername);
    }
    // A common password padded with digits or symbols is still a common password.
    let stem: String = lower.trim_end_matches(|c: char| c.is_ascii_digit() || c.is_ascii_punctuation()).to_owned();
    let same_char = lower.chars().all(|c| lower.starts_with(c));
    if same_char || COMMON.contains(&lower.as_str()) || (stem.len() >= 4 && COMMON.contains(&stem.as_str())) {
        return Err(PolicyError::TooCommon);
    }
    Ok(())
}

/// A hash that matches no password, verified when nobody has the username given, so that a
/// wrong username costs as long as a wrong password and tells nothing.
pub fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| crate::password::hash("decoy password that matches nothing").unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_its_password_only() {
        let h = hash("correct horse battery staple").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify("correct horse battery staple", &h));
        assert!(!verify("correct horse battery stapler", &h));
        assert!(!verify("anything", "not a hash"));
    }

    #[test]
    fn the_policy_refuses_short_common_and_personal_passwords() {
        assert_eq!(check_policy("short", "malika"), Err(PolicyError::TooShort));
        assert_eq!(check_policy("password123", "malika"), Err(PolicyError::TooCommon));
        assert_eq!(check_policy("Password2024!", "malika"), Err(PolicyError::TooCommon));
        assert_eq!(check_policy("aaaaaaaaaaaa", "malika"), Err(PolicyError::TooCommon));
        assert_eq!(check_policy("malika-is-here-1", "Malika"), Err(PolicyError::ContainsUsername));
        assert_eq!(check_policy("river stone window 7", "malika"), Ok(()));
    }
}
