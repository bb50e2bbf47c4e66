//! Users and their sessions. Session tokens are stored only as their SHA-256 hash.

use hamroh_domain::org::{Lang, Role};
use uuid::Uuid;

use crate::audit::{Actor, NewAuditEvent};
use crate::{Result, Store, now_millis};

/// What log-in needs to know about a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginUser {
    pub id: Uuid,
    pub password_hash: String,
    pub disabled: bool,
}

/// The signed-in user behind a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionUser {
    pub id: Uuid,
    pub username: String,
    pub display_name: String,
    pub organisation_id: Uuid,
    pub organisation_name: String,
    pub roles: Vec<Role>,
    pub lang: Lang,
}

impl Store {
    pub async fn user_for_login(&self, username: &str) -> Result<Option<LoginUser>> {
        let row: Option<(Uuid, String, bool)> = with_pool!(self, pool => {
            sqlx::query_as("SELECT id, password_hash, disabled FROM users WHERE username = $1")
                .bind(username)
                .fetch_optional(pool)
                .await?
        });
        Ok(row.map(|(id, password_hash, disabled)| LoginUser { id, password_hash, disabled }))
    }

    /// Starts a session and records the log-in, in one transaction.
    pub async fn create_session(&self, actor: &Actor, user_id: Uuid, token_hash: &[u8], expires_at: i64) -> Result<()> {
        let now = now_millis();
        let event = NewAuditEvent::ok("login", "user", user_id);
        write_tx!(self, tx => {
            sqlx::query("INSERT INTO sessions (token_hash, user_id, created_at, last_seen_at, expires_at) VALUES ($1, $2, $3, $3, $4)")
                .bind(token_hash)
                .bind(user_id)
                .bind(now)
                .bind(expires_at)
                .execute(&mut *tx)
                .await?;
            append_audit!(tx, actor, [&event]);
        });
        Ok(())
    }

    /// The user of a live session, or `None` for an unknown or expired one.
    pub async fn session_user(&self, token_hash: &[u8]) -> Result<Option<SessionUser>> {
        type Row = (Uuid, String, String, Uuid, String, String);
        let row: Option<Row> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT u.id, u.username, u.display_name, u.organisation_id, o.name, u.lang \
                 FROM sessions s JOIN users u ON u.id = s.user_id JOIN organisations o ON o.id = u.organisation_id \
                 WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.disabled = FALSE",
            )
            .bind(token_hash)
            .bind(now_millis())
            .fetch_optional(pool)
            .await?
        });
        let Some((id, username, display_name, organisation_id, organisation_name, lang)) = row else {
            return Ok(None);
        };
        let roles: Vec<String> = with_pool!(self, pool => {
            sqlx::query_scalar("SELECT role FROM user_roles WHERE user_id = $1 ORDER BY role").bind(id).fetch_all(pool).await?
        });
        Ok(Some(SessionUser {
            id,
            username,
            display_name,
            organisation_id,
            organisation_name,
            roles: roles.iter().map(|r| r.parse()).collect::<Result<_, _>>()?,
            lang: lang.parse()?,
        }))
    }

    /// Ends a session and records the log-out.
    pub async fn end_session(&self, actor: &Actor, token_hash: &[u8]) -> Result<()> {
        let event = NewAuditEvent {
            action: "logout",
            entity: "session",
            entity_id: None,
            person_id: None,
            outcome: "ok",
            detail: None,
        };
        write_tx!(self, tx => {
            sqlx::query("DELETE FROM sessions WHERE token_hash = $1").bind(token_hash).execute(&mut *tx).await?;
            append_audit!(tx, actor, [&event]);
        });
        Ok(())
    }

    /// Whether the database holds any person (the demo refuses to add to real data).
    pub async fn has_persons(&self) -> Result<bool> {
        let n: i64 = with_pool!(self, pool => {
            sqlx::query_scalar("SELECT COUNT(*) FROM (SELECT 1 FROM persons LIMIT 1) AS any_person").fetch_one(pool).await?
        });
        Ok(n > 0)
    }
}
