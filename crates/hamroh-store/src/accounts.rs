//! Users, organisations, sessions and API tokens. Secrets are stored only as hashes: session and
//! API tokens as SHA-256, passwords as Argon2id PHC strings made by the caller.

use hamroh_domain::access::{Principal, Scope, TokenGrant};
use hamroh_domain::model::{Organisation, User};
use hamroh_domain::org::{Lang, Role, Sector};
use uuid::Uuid;

use crate::audit::{Actor, NewAuditEvent};
use crate::exec::sql;
use crate::{Result, Store, StoreError, now_millis};

/// What log-in needs to know about a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginUser {
    pub id: Uuid,
    pub password_hash: String,
    pub disabled: bool,
    pub totp_secret: Option<String>,
    pub roles: Vec<Role>,
}

/// A user as administrators see it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct UserSummary {
    pub id: Uuid,
    pub username: String,
    pub display_name: String,
    pub organisation_id: Uuid,
    pub organisation_name: String,
    pub roles: Vec<Role>,
    pub lang: Lang,
    pub disabled: bool,
    pub has_totp: bool,
}

/// The signed-in user behind a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionUser {
    pub id: Uuid,
    pub username: String,
    pub display_name: String,
    pub organisation_id: Uuid,
    pub organisation_name: String,
    pub sector: Sector,
    pub roles: Vec<Role>,
    pub lang: Lang,
    pub has_totp: bool,
    /// The password was right but the second factor is still to come.
    pub second_factor_pending: bool,
}

impl SessionUser {
    pub fn principal(&self) -> Principal {
        Principal {
            user_id: self.id,
            organisation_id: self.organisation_id,
            sector: self.sector,
            roles: self.roles.clone(),
            token: None,
        }
    }

    pub fn has_role(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }
}

/// The user behind an API token, as the token may act for them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenPrincipal {
    pub principal: Principal,
    /// The user has enrolled a second factor (a deployment may require it of administrators).
    pub has_totp: bool,
}

/// Session lifetimes: idle and absolute, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionLimits {
    pub idle_ms: i64,
    pub absolute_ms: i64,
}

impl Default for SessionLimits {
    fn default() -> Self {
        Self { idle_ms: 30 * 60_000, absolute_ms: 12 * 3_600_000 }
    }
}

/// An API token's owner and scopes.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ApiTokenInfo {
    pub id: Uuid,
    pub user_id: Uuid,
    pub name: String,
    pub scopes: Vec<Scope>,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
    pub last_used_at: Option<i64>,
}

fn parse_roles(roles: &[String]) -> Result<Vec<Role>> {
    Ok(roles.iter().map(|r| r.parse()).collect::<Result<_, _>>()?)
}

/// The roles of rows read one per role (a user without roles reads one row without).
fn roles_of_rows<R>(rows: &[R], role: impl Fn(&R) -> Option<&str>) -> Result<Vec<Role>> {
    Ok(rows.iter().filter_map(role).map(str::parse).collect::<Result<_, _>>()?)
}

fn parse_scopes(text: &str) -> Result<Vec<Scope>> {
    Ok(text.split(',').filter(|s| !s.is_empty()).map(str::parse).collect::<Result<_, _>>()?)
}

impl Store {
    async fn roles_of(&self, user_id: Uuid) -> Result<Vec<Role>> {
        let roles: Vec<String> = with_pool!(self, pool => {
            sqlx::query_scalar("SELECT role FROM user_roles WHERE user_id = $1 ORDER BY role").bind(user_id).fetch_all(pool).await?
        });
        parse_roles(&roles)
    }

    /// The principal a user signed in with a password acts as (no token), if the user is enabled.
    pub async fn user_principal(&self, user_id: Uuid) -> Result<Option<Principal>> {
        let row: Option<(Uuid, String)> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT u.organisation_id, o.sector FROM users u JOIN organisations o ON o.id = u.organisation_id \
                 WHERE u.id = $1 AND u.disabled = FALSE",
            )
            .bind(user_id)
            .fetch_optional(pool)
            .await?
        });
        let Some((organisation_id, sector)) = row else { return Ok(None) };
        let roles = self.roles_of(user_id).await?;
        Ok(Some(Principal { user_id, organisation_id, sector: sector.parse()?, roles, token: None }))
    }

    pub async fn user_for_login(&self, username: &str) -> Result<Option<LoginUser>> {
        let row: Option<(Uuid, String, bool, Option<String>)> = with_pool!(self, pool => {
            sqlx::query_as("SELECT id, password_hash, disabled, totp_secret FROM users WHERE username = $1")
                .bind(username)
                .fetch_optional(pool)
                .await?
        });
        let Some((id, password_hash, disabled, totp_secret)) = row else { return Ok(None) };
        Ok(Some(LoginUser { id, password_hash, disabled, totp_secret, roles: self.roles_of(id).await? }))
    }

    pub async fn users(&self) -> Result<Vec<UserSummary>> {
        type Row = (Uuid, String, String, Uuid, String, String, bool, Option<String>);
        let rows: Vec<Row> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT u.id, u.username, u.display_name, u.organisation_id, o.name, u.lang, u.disabled, u.totp_secret \
                 FROM users u JOIN organisations o ON o.id = u.organisation_id ORDER BY u.username",
            )
            .fetch_all(pool)
            .await?
        });
        let mut out = Vec::with_capacity(rows.len());
        for (id, username, display_name, organisation_id, organisation_name, lang, disabled, totp) in rows {
            out.push(UserSummary {
                id,
                username,
                display_name,
                organisation_id,
                organisation_name,
                roles: self.roles_of(id).await?,
                lang: lang.parse()?,
                disabled,
                has_totp: totp.is_some(),
            });
        }
        Ok(out)
    }

    pub async fn user_by_username(&self, username: &str) -> Result<Option<UserSummary>> {
        Ok(self.users().await?.into_iter().find(|u| u.username == username))
    }

    pub async fn organisations(&self) -> Result<Vec<Organisation>> {
        type Row = (Uuid, String, String, Option<String>, bool, String, String);
        let rows: Vec<Row> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT id, name, sector, district, uses_hamroh, name_lang, translations FROM organisations ORDER BY name",
            )
            .fetch_all(pool)
            .await?
        });
        rows.into_iter()
            .map(|(id, name, sector, district, uses_hamroh, name_lang, translations)| {
                Ok(Organisation {
                    id,
                    name,
                    sector: sector.parse()?,
                    district: district.as_deref().map(hamroh_domain::person::DistrictCode::parse).transpose()?,
                    uses_hamroh,
                    name_lang: name_lang.parse()?,
                    translations: crate::directory::parse_translations(&translations)?,
                })
            })
            .collect()
    }

    /// Changes a user's password hash and ends every session of that user.
    pub async fn set_password(&self, actor: &Actor, user_id: Uuid, password_hash: &str) -> Result<()> {
        let event = NewAuditEvent::ok("reset_password", "user", user_id);
        let mut tx = self.begin_write().await?;
        crate::idempotency::mark_request_written(&mut tx).await?;
        let n = tx
            .execute(sql("UPDATE users SET password_hash = $1 WHERE id = $2").bind(password_hash).bind(user_id))
            .await?;
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        tx.execute(sql("DELETE FROM sessions WHERE user_id = $1").bind(user_id)).await?;
        crate::audit::append(&mut tx, actor, &[&event]).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Disables or re-enables a user; disabling ends every session and revokes every token.
    pub async fn set_disabled(&self, actor: &Actor, user_id: Uuid, disabled: bool) -> Result<()> {
        let event = NewAuditEvent::ok(if disabled { "disable" } else { "enable" }, "user", user_id);
        let now = now_millis();
        let mut tx = self.begin_write().await?;
        crate::idempotency::mark_request_written(&mut tx).await?;
        let n = tx.execute(sql("UPDATE users SET disabled = $1 WHERE id = $2").bind(disabled).bind(user_id)).await?;
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        if disabled {
            tx.execute(sql("DELETE FROM sessions WHERE user_id = $1").bind(user_id)).await?;
            tx.execute(
                sql("UPDATE api_tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL")
                    .bind(now)
                    .bind(user_id),
            )
            .await?;
        }
        crate::audit::append(&mut tx, actor, &[&event]).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Replaces a user's roles (a permission change, audited with the new set).
    pub async fn set_roles(&self, actor: &Actor, user_id: Uuid, roles: &[Role]) -> Result<()> {
        let mut event = NewAuditEvent::ok("set_roles", "user", user_id);
        event.detail = Some(roles.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(","));
        let mut tx = self.begin_write().await?;
        crate::idempotency::mark_request_written(&mut tx).await?;
        tx.execute(sql("DELETE FROM user_roles WHERE user_id = $1").bind(user_id)).await?;
        for role in roles {
            tx.execute(sql("INSERT INTO user_roles (user_id, role) VALUES ($1, $2)").bind(user_id).bind(role.as_str()))
                .await?;
        }
        crate::audit::append(&mut tx, actor, &[&event]).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn set_user_lang(&self, actor: &Actor, user_id: Uuid, lang: Lang) -> Result<()> {
        let mut event = NewAuditEvent::ok("set_language", "user", user_id);
        event.detail = Some(lang.as_str().into());
        let mut tx = self.begin_write().await?;
        tx.execute(sql("UPDATE users SET lang = $1 WHERE id = $2").bind(lang.as_str()).bind(user_id)).await?;
        crate::audit::append(&mut tx, actor, &[&event]).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Sets (or, with `None`, removes) the user's TOTP secret; every secret offered to the user's
    /// sessions is withdrawn.
    pub async fn set_totp(&self, actor: &Actor, user_id: Uuid, secret: Option<&str>) -> Result<()> {
        let action = match (secret.is_some(), actor.user_id == Some(user_id)) {
            (true, _) => "enable_totp",
            (false, true) => "disable_totp",
            // An administrator's reset of another user's second factor.
            (false, false) => "reset_totp",
        };
        let event = NewAuditEvent::ok(action, "user", user_id);
        let mut tx = self.begin_write().await?;
        crate::idempotency::mark_request_written(&mut tx).await?;
        tx.execute(sql("UPDATE users SET totp_secret = $1 WHERE id = $2").bind(secret).bind(user_id)).await?;
        tx.execute(sql("UPDATE sessions SET totp_offer = NULL WHERE user_id = $1").bind(user_id)).await?;
        crate::audit::append(&mut tx, actor, &[&event]).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Adds a user (a permission change: audited with its roles).
    pub async fn add_user(&self, actor: &Actor, user: &User) -> Result<()> {
        let batch = hamroh_domain::model::Batch { users: vec![user.clone()], ..Default::default() };
        self.insert_batch(actor, &batch).await.map_err(|e| match e {
            StoreError::Database(ref db) if db.as_database_error().is_some_and(|d| d.is_unique_violation()) => {
                StoreError::Conflict(format!("the username `{}` is taken", user.username))
            }
            other => other,
        })
    }

    pub async fn add_organisation(&self, actor: &Actor, org: &Organisation) -> Result<()> {
        let batch = hamroh_domain::model::Batch { organisations: vec![org.clone()], ..Default::default() };
        self.insert_batch(actor, &batch).await
    }

    /// Starts a session and records the log-in, in one transaction. A session whose second factor
    /// is pending grants nothing until [`Store::complete_second_factor`].
    pub async fn create_session(
        &self,
        actor: &Actor,
        user_id: Uuid,
        token_hash: &[u8],
        limits: SessionLimits,
        second_factor_pending: bool,
    ) -> Result<()> {
        let now = now_millis();
        let mut event = NewAuditEvent::ok("login", "user", user_id);
        if second_factor_pending {
            event.outcome = "password_ok";
        }
        let mut tx = self.begin_write().await?;
        tx.execute(sql(
            "INSERT INTO sessions (token_hash, user_id, created_at, last_seen_at, expires_at, second_factor_pending) \
             VALUES ($1, $2, $3, $3, $4, $5)",
        )
        .bind(token_hash)
        .bind(user_id)
        .bind(now)
        .bind(now + limits.absolute_ms)
        .bind(second_factor_pending))
        .await?;
        crate::audit::append(&mut tx, actor, &[&event]).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Replaces a half-open session (password checked) by a full one with a new token.
    pub async fn complete_second_factor(&self, actor: &Actor, old_hash: &[u8], new_hash: &[u8]) -> Result<()> {
        let event = NewAuditEvent {
            action: "login",
            entity: "session",
            entity_id: None,
            person_id: None,
            outcome: "ok",
            detail: Some("totp".into()),
        };
        let now = now_millis();
        let mut tx = self.begin_write().await?;
        let n = tx
            .execute(
                sql("UPDATE sessions SET token_hash = $1, second_factor_pending = FALSE, last_seen_at = $2 \
             WHERE token_hash = $3 AND second_factor_pending = TRUE")
                .bind(new_hash)
                .bind(now)
                .bind(old_hash),
            )
            .await?;
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        crate::audit::append(&mut tx, actor, &[&event]).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The user of a live session, or `None` for an unknown, expired or idle one. A live session's
    /// last-seen time moves forward (at most once a minute, to spare writes).
    pub async fn session_user(&self, token_hash: &[u8], limits: SessionLimits) -> Result<Option<SessionUser>> {
        type Row = (Uuid, String, String, Uuid, String, String, String, Option<String>, bool, i64, Option<String>);
        let now = now_millis();
        // One row per role (the roles in the same statement: one statement per request fewer).
        let rows: Vec<Row> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT u.id, u.username, u.display_name, u.organisation_id, o.name, o.sector, u.lang, u.totp_secret, \
                 s.second_factor_pending, s.last_seen_at, ur.role \
                 FROM sessions s JOIN users u ON u.id = s.user_id JOIN organisations o ON o.id = u.organisation_id \
                 LEFT JOIN user_roles ur ON ur.user_id = u.id \
                 WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.disabled = FALSE \
                 ORDER BY ur.role",
            )
            .bind(token_hash)
            .bind(now)
            .fetch_all(pool)
            .await?
        });
        let roles = roles_of_rows(&rows, |r| r.10.as_deref())?;
        let Some((
            id,
            username,
            display_name,
            organisation_id,
            organisation_name,
            sector,
            lang,
            totp,
            pending,
            last_seen,
            _,
        )) = rows.into_iter().next()
        else {
            return Ok(None);
        };
        // Idle by the latest use, written or only noted; the use is noted, not written here.
        let last_seen = last_seen.max(self.bookkeeping.session_last_seen(token_hash).unwrap_or(i64::MIN));
        if now - last_seen >= limits.idle_ms {
            return Ok(None);
        }
        self.bookkeeping.session_seen(token_hash, now);
        Ok(Some(SessionUser {
            id,
            username,
            display_name,
            organisation_id,
            organisation_name,
            sector: sector.parse()?,
            roles,
            lang: lang.parse()?,
            has_totp: totp.is_some(),
            second_factor_pending: pending,
        }))
    }

    /// Ends one session and records the log-out.
    pub async fn end_session(&self, actor: &Actor, token_hash: &[u8]) -> Result<()> {
        let event = NewAuditEvent {
            action: "logout",
            entity: "session",
            entity_id: None,
            person_id: None,
            outcome: "ok",
            detail: None,
        };
        let mut tx = self.begin_write().await?;
        tx.execute(sql("DELETE FROM sessions WHERE token_hash = $1").bind(token_hash)).await?;
        crate::audit::append(&mut tx, actor, &[&event]).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Ends every session of a user ("log out everywhere").
    pub async fn end_all_sessions(&self, actor: &Actor, user_id: Uuid) -> Result<u64> {
        let event = NewAuditEvent::ok("logout_everywhere", "user", user_id);
        let mut tx = self.begin_write().await?;
        let n = tx.execute(sql("DELETE FROM sessions WHERE user_id = $1").bind(user_id)).await?;
        crate::audit::append(&mut tx, actor, &[&event]).await?;
        tx.commit().await?;
        Ok(n)
    }

    /// Stores a new API token (only its hash); the caller shows the token once.
    pub async fn create_api_token(
        &self,
        actor: &Actor,
        user_id: Uuid,
        name: &str,
        scopes: &[Scope],
        token_hash: &[u8],
    ) -> Result<Uuid> {
        let id = Uuid::now_v7();
        let scopes_text = scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(",");
        let mut event = NewAuditEvent::ok("create_token", "api_token", id);
        event.detail = Some(scopes_text.clone());
        let mut tx = self.begin_write().await?;
        crate::idempotency::mark_request_written(&mut tx).await?;
        tx.execute(sql(
            "INSERT INTO api_tokens (id, user_id, name, token_hash, scopes, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(id)
        .bind(user_id)
        .bind(name)
        .bind(token_hash)
        .bind(&scopes_text)
        .bind(now_millis()))
        .await?;
        crate::audit::append(&mut tx, actor, &[&event]).await?;
        tx.commit().await?;
        Ok(id)
    }

    pub async fn revoke_api_token(&self, actor: &Actor, id: Uuid, owner: Option<Uuid>) -> Result<()> {
        let event = NewAuditEvent::ok("revoke_token", "api_token", id);
        let mut tx = self.begin_write().await?;
        crate::idempotency::mark_request_written(&mut tx).await?;
        let n = tx.execute(sql(
            "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL AND ($3 IS NULL OR user_id = $3)",
        )
        .bind(now_millis())
        .bind(id)
        .bind(owner))
        .await?;
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        crate::audit::append(&mut tx, actor, &[&event]).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn api_tokens_of(&self, user_id: Uuid) -> Result<Vec<ApiTokenInfo>> {
        type Row = (Uuid, Uuid, String, String, i64, Option<i64>, Option<i64>);
        let rows: Vec<Row> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT id, user_id, name, scopes, created_at, revoked_at, last_used_at FROM api_tokens \
                 WHERE user_id = $1 ORDER BY created_at",
            )
            .bind(user_id)
            .fetch_all(pool)
            .await?
        });
        rows.into_iter()
            .map(|(id, user_id, name, scopes, created_at, revoked_at, last_used_at)| {
                Ok(ApiTokenInfo {
                    id,
                    user_id,
                    name,
                    scopes: parse_scopes(&scopes)?,
                    created_at,
                    revoked_at,
                    last_used_at,
                })
            })
            .collect()
    }

    /// The principal behind a live API token, with the token's scopes.
    pub async fn token_principal(&self, token_hash: &[u8]) -> Result<Option<TokenPrincipal>> {
        type Row = (Uuid, Uuid, Uuid, String, String, Option<String>, bool);
        // One row per role, as for sessions.
        let rows: Vec<Row> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT t.id, u.id, u.organisation_id, o.sector, t.scopes, ur.role, \
                 u.totp_secret IS NOT NULL FROM api_tokens t \
                 JOIN users u ON u.id = t.user_id JOIN organisations o ON o.id = u.organisation_id \
                 LEFT JOIN user_roles ur ON ur.user_id = u.id \
                 WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND u.disabled = FALSE ORDER BY ur.role",
            )
            .bind(token_hash)
            .fetch_all(pool)
            .await?
        });
        let roles = roles_of_rows(&rows, |r| r.5.as_deref())?;
        let Some((token_id, user_id, organisation_id, sector, scopes, _, has_totp)) = rows.into_iter().next() else {
            return Ok(None);
        };
        // Noted, and written in the background: no request waits for a bookkeeping write.
        self.bookkeeping.token_used(token_id, now_millis());
        let principal = Principal {
            user_id,
            organisation_id,
            sector: sector.parse()?,
            roles,
            token: Some(TokenGrant { id: token_id, scopes: parse_scopes(&scopes)? }),
        };
        Ok(Some(TokenPrincipal { principal, has_totp }))
    }

    /// The second-factor secret offered to a session's user, if one is waiting to be confirmed.
    pub async fn totp_offer(&self, token_hash: &[u8]) -> Result<Option<String>> {
        let offer: Option<Option<String>> = with_pool!(self, pool => {
            sqlx::query_scalar("SELECT totp_offer FROM sessions WHERE token_hash = $1")
                .bind(token_hash)
                .fetch_optional(pool)
                .await?
        });
        Ok(offer.flatten())
    }

    /// Offers a second-factor secret, chosen by the server, to a session's user: only an offered
    /// secret can be enrolled.
    pub async fn offer_totp(&self, token_hash: &[u8], secret: &str) -> Result<()> {
        with_pool!(self, pool => {
            sqlx::query("UPDATE sessions SET totp_offer = $1 WHERE token_hash = $2")
                .bind(secret)
                .bind(token_hash)
                .execute(pool)
                .await?;
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

    /// Some person's id and registering organisation (for benchmarks and smoke checks).
    pub async fn any_person(&self) -> Result<Option<(Uuid, Uuid)>> {
        Ok(with_pool!(self, pool => {
            sqlx::query_as("SELECT id, organisation_id FROM persons LIMIT 1").fetch_optional(pool).await?
        }))
    }
}
