//! Time-based one-time passwords (RFC 6238: SHA-1, 6 digits, 30 seconds, one step of drift either
//! side), as authenticator apps expect. Secrets are stored base32-encoded. A code is accepted once
//! per account: replaying it within its window fails.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use totp_rs::{Algorithm, Builder, Secret, Totp};

const ISSUER: &str = "Hamroh";

fn totp(secret_base32: &str, account: &str) -> Option<Totp> {
    let secret = Secret::try_from_base32(secret_base32).ok()?;
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(6)
        .with_skew(1)
        .with_step_duration(30)
        .with_secret(secret)
        .with_issuer(Some(ISSUER))
        .with_account_name(account)
        .build()
        .ok()
}

/// A new random secret, base32-encoded.
pub fn new_secret() -> String {
    Secret::generate().to_base32()
}

/// The `otpauth://` address an authenticator app takes.
pub fn url(secret_base32: &str, account: &str) -> String {
    totp(secret_base32, account).and_then(|t| t.to_url().ok()).unwrap_or_default()
}

/// Whether `code` is right now and has not been used before for this account.
pub fn verify(secret_base32: &str, account: &str, code: &str) -> bool {
    static USED: OnceLock<Mutex<HashMap<String, u64>>> = OnceLock::new();
    let Some(step) = totp(secret_base32, account).and_then(|t| t.check_current(code)) else { return false };
    let mut used = USED.get_or_init(Mutex::default).lock().unwrap_or_else(|e| e.into_inner());
    // Keyed by the secret: one per user.
    let last = used.entry(secret_base32.to_owned()).or_insert(0);
    if step <= *last {
        return false;
    }
    *last = step;
    true
}

/// The code an authenticator app shows now (for tests).
pub fn current(secret_base32: &str, account: &str) -> Option<String> {
    Some(totp(secret_base32, account)?.generate_current().to_string())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_current_code_verifies_once_and_others_never() {
        let secret = super::new_secret();
        let code = super::current(&secret, "malika").unwrap();
        let wrong = format!("{:06}", (code.parse::<u32>().unwrap() + 1) % 1_000_000);
        assert!(!super::verify(&secret, "malika", &wrong));
        assert!(super::verify(&secret, "malika", &code));
        assert!(!super::verify(&secret, "malika", &code), "a code is accepted once");
        assert!(super::url(&secret, "malika").starts_with("otpauth://totp/Hamroh:malika?"));
    }
}
