//! `hamroh user`, `hamroh org` and `hamroh token`: account management from the command line,
//! audited under the `system:cli` actor.

use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;

use hamroh_domain::access::Scope;
use hamroh_domain::model::{Organisation, User};
use hamroh_domain::org::{Role, Sector};
use hamroh_domain::person::DistrictCode;
use hamroh_store::{Actor, Store, StoreError};
use uuid::Uuid;

use super::{Failure, Outcome, open, print};
use crate::cli::{OrgAction, TokenAction, UserAction};

fn actor() -> Actor {
    Actor::system("cli")
}

/// The first line of standard input, prompting when it is a terminal.
fn read_password(username: &str) -> Result<String, Failure> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprint!("New password for {username}: ");
        let _ = std::io::stderr().flush();
    }
    let mut line = String::new();
    stdin.lock().read_line(&mut line).map_err(|e| Failure::usage(format!("cannot read the password: {e}")))?;
    let password = line.trim_end_matches(['\r', '\n']).to_owned();
    hamroh_web::password::check_policy(&password, username).map_err(|e| Failure::usage(e.to_string()))?;
    Ok(password)
}

fn hash(password: &str) -> Result<String, Failure> {
    hamroh_web::password::hash(password).map_err(|e| Failure { code: 1, message: e })
}

async fn user_id(store: &Store, username: &str) -> Result<Uuid, Failure> {
    store.user_by_username(username).await?.map(|u| u.id).ok_or_else(|| Failure::usage(format!("no user `{username}`")))
}

async fn organisation(store: &Store, key: &str) -> Result<Organisation, Failure> {
    let orgs = store.organisations().await?;
    let by_id = Uuid::parse_str(key).ok();
    orgs.into_iter()
        .find(|o| Some(o.id) == by_id || o.name == key)
        .ok_or_else(|| Failure::usage(format!("no organisation `{key}`; `hamroh org list` shows them")))
}

pub async fn user(action: UserAction) -> Outcome {
    match action {
        UserAction::Add { db, username, name, org, roles, lang } => {
            if !hamroh_web::valid_username(&username) {
                return Err(Failure::usage(
                    "a username has 3 to 40 lower-case letters, digits, dots, dashes or underscores",
                ));
            }
            let roles = roles
                .iter()
                .map(|r| r.parse::<Role>())
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| Failure::usage(e.to_string()))?;
            let store = open(&db.db).await?;
            let organisation = organisation(&store, &org).await?;
            let password = read_password(&username)?;
            let user = User {
                id: Uuid::now_v7(),
                organisation_id: organisation.id,
                username: username.clone(),
                display_name: name,
                password_hash: hash(&password)?,
                roles,
                lang: lang.into(),
                disabled: false,
            };
            store.add_user(&actor(), &user).await.map_err(|e| match e {
                StoreError::Conflict(m) => Failure::usage(m),
                other => other.into(),
            })?;
            print(&format!("added user {username} ({})\n", user.id));
        }
        UserAction::List { db } => {
            let store = open(&db.db).await?;
            let mut out = String::new();
            for u in store.users().await? {
                let roles: Vec<&str> = u.roles.iter().map(|r| r.as_str()).collect();
                let state = if u.disabled { "disabled" } else { "active" };
                out.push_str(&format!(
                    "{:<16} {:<9} {:<28} {}\n",
                    u.username,
                    state,
                    roles.join(","),
                    u.organisation_name
                ));
            }
            print(&out);
        }
        UserAction::Disable { db, username } => {
            let store = open(&db.db).await?;
            store.set_disabled(&actor(), user_id(&store, &username).await?, true).await?;
            print(&format!("disabled {username}: sessions ended, API tokens revoked\n"));
        }
        UserAction::Enable { db, username } => {
            let store = open(&db.db).await?;
            store.set_disabled(&actor(), user_id(&store, &username).await?, false).await?;
            print(&format!("enabled {username}\n"));
        }
        UserAction::ResetPassword { db, username } => {
            let store = open(&db.db).await?;
            let id = user_id(&store, &username).await?;
            let password = read_password(&username)?;
            store.set_password(&actor(), id, &hash(&password)?).await?;
            print(&format!("password of {username} changed; their sessions have ended\n"));
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn org(action: OrgAction) -> Outcome {
    match action {
        OrgAction::Add { db, name, sector, district, name_lang } => {
            let name_lang: hamroh_domain::org::Lang =
                name_lang.parse().map_err(|e: hamroh_domain::code::UnknownCode| Failure::usage(e.to_string()))?;
            let sector: Sector =
                sector.parse().map_err(|e: hamroh_domain::code::UnknownCode| Failure::usage(e.to_string()))?;
            let district =
                district.as_deref().map(DistrictCode::parse).transpose().map_err(|e| Failure::usage(e.to_string()))?;
            if name.trim().is_empty() {
                return Err(Failure::usage("an organisation needs a name"));
            }
            let store = open(&db.db).await?;
            let org = Organisation {
                id: Uuid::now_v7(),
                name: name.trim().to_owned(),
                sector,
                district,
                uses_hamroh: true,
                name_lang,
                translations: Default::default(),
            };
            store.add_organisation(&actor(), &org).await?;
            print(&format!("added organisation {} ({})\n", org.name, org.id));
        }
        OrgAction::List { db } => {
            let store = open(&db.db).await?;
            let mut out = String::new();
            for o in store.organisations().await? {
                let district = o.district.map_or("", |d| d.as_str());
                out.push_str(&format!("{}  {:<18} {:<24} {}\n", o.id, o.sector.as_str(), district, o.name));
            }
            print(&out);
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn token(action: TokenAction) -> Outcome {
    match action {
        TokenAction::Create { db, username, name, scopes } => {
            let scopes = scopes
                .iter()
                .map(|s| s.parse::<Scope>())
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| Failure::usage(e.to_string()))?;
            let store = open(&db.db).await?;
            let id = user_id(&store, &username).await?;
            let token = format!("hmr_{}{}", Uuid::new_v4().simple(), Uuid::new_v4().simple());
            let hash: Vec<u8> = hamroh_web::token_hash(&token);
            let token_id = store.create_api_token(&actor(), id, &name, &scopes, &hash).await?;
            eprintln!("token {token_id} created for {username}; it is shown once, below:");
            print(&format!("{token}\n"));
        }
        TokenAction::Revoke { db, id } => {
            let id = Uuid::parse_str(&id).map_err(|_| Failure::usage(format!("`{id}` is not a token id")))?;
            let store = open(&db.db).await?;
            store.revoke_api_token(&actor(), id, None).await.map_err(|e| match e {
                StoreError::NotFound => Failure::usage("no such active token"),
                other => other.into(),
            })?;
            print("token revoked\n");
        }
    }
    Ok(ExitCode::SUCCESS)
}
