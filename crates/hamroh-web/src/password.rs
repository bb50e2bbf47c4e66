//! Password hashing with Argon2id (the crate's default parameters: 19 MiB, 2 passes), in PHC
//! string form so that parameters can be raised later without invalidating stored hashes.

use argon2::{Argon2, PasswordHasher, PasswordVerifier};

pub fn hash(password: &str) -> Result<String, String> {
    Argon2::default().hash_password(password.as_bytes()).map(|h| h.to_string()).map_err(|e| e.to_string())
}

pub fn verify(password: &str, hash: &str) -> bool {
    Argon2::default().verify_password(password.as_bytes(), hash).is_ok()
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_hash_verifies_its_password_only() {
        let h = super::hash("correct horse battery staple").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(super::verify("correct horse battery staple", &h));
        assert!(!super::verify("correct horse battery stapler", &h));
        assert!(!super::verify("anything", "not a hash"));
    }
}
