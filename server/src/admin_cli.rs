//! `rollcall admin …` and `rollcall api-key …`: the people who run campaigns and their keys,
//! from the command line.

use super::*;

/// `admin create`, `reset-second-factor`, `reset-password`, `disable`, `enable` and
/// `revoke`.
pub(super) async fn admin(
    db: &sea_orm::DatabaseConnection,
    command: AdminCommand,
    public_url: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<()> {
    use rollcall::accounts::revoking::{self, Why};
    match command {
        AdminCommand::Disable { email, by, reason } => {
            revoking::disable(
                db,
                &email,
                Why {
                    by: &by,
                    reason: &reason,
                },
                now,
            )
            .await?;
            println!("{email}: disabled; every session ended, its API keys stopped");
        }
        AdminCommand::ResetPassword { email, by, reason } => {
            revoking::force_password_reset(
                db,
                &email,
                Why {
                    by: &by,
                    reason: &reason,
                },
                public_url,
                now,
            )
            .await?
            .announce(db)
            .await?;
            println!(
                "{email}: password reset; every session ended; a link to set a new one is mailed"
            );
        }
        AdminCommand::Enable { email, by, reason } => {
            revoking::enable(
                db,
                &email,
                Why {
                    by: &by,
                    reason: &reason,
                },
                now,
            )
            .await?;
            println!("{email}: enabled; any lock lifted");
        }
        AdminCommand::Revoke {
            email,
            role,
            campaign,
            local,
            union,
            by,
            reason,
        } => {
            let grant = grant_named(db, role, campaign, local, union).await?;
            revoking::revoke_grant(
                db,
                &email,
                grant,
                Why {
                    by: &by,
                    reason: &reason,
                },
                now,
            )
            .await?;
            println!("{email}: role revoked; every session ended");
        }
        AdminCommand::Create { email } => {
            let password = read_password()?;
            let id = rollcall::accounts::create_user(
                db,
                &email,
                &password,
                &[rollcall::domain::Grant::Admin],
                "command line",
                now,
            )
            .await?;
            println!(
                "admin {id} created for {email}; sign in at {public_url}/sign-in and set up an authenticator app"
            );
        }
        AdminCommand::ResetSecondFactor { email, by } => {
            anyhow::ensure!(
                !by.trim().is_empty(),
                "say --by who: it goes to the audit log"
            );
            if rollcall::accounts::reset_second_factor(db, &email, by.trim(), now).await? {
                println!("{email}: authenticator app reset; every session ended");
            } else {
                anyhow::bail!("no account for {email}");
            }
        }
    }
    Ok(())
}

/// The grant a role and what it covers name, with slugs looked up.
pub(super) async fn grant_named(
    db: &sea_orm::DatabaseConnection,
    role: GrantRole,
    campaign: Option<String>,
    local: Option<String>,
    union: Option<String>,
) -> anyhow::Result<rollcall::domain::Grant> {
    use rollcall::domain::Grant;
    use rollcall::entities::{local as locals, union as unions};
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    Ok(match (role, campaign, local, union) {
        (GrantRole::Admin, None, None, None) => Grant::Admin,
        (GrantRole::Organizer, Some(slug), None, None) => Grant::CampaignOrganizer {
            campaign_id: rollcall::store::campaigns::by_slug(db, &slug)
                .await?
                .ok_or_else(|| anyhow::anyhow!("no campaign {slug:?}"))?
                .id,
        },
        (GrantRole::Organizer, None, None, Some(slug)) => Grant::UnionOrganizer {
            union_id: unions::Entity::find()
                .filter(unions::Column::Slug.eq(slug.as_str()))
                .one(db)
                .await?
                .ok_or_else(|| anyhow::anyhow!("no union {slug:?}"))?
                .id,
        },
        (GrantRole::Officer, None, Some(id_or_slug), None) => {
            let query = match id_or_slug.parse::<i64>() {
                Ok(id) => locals::Entity::find_by_id(id),
                Err(_) => {
                    locals::Entity::find().filter(locals::Column::Slug.eq(id_or_slug.as_str()))
                }
            };
            Grant::Officer {
                local_id: query
                    .one(db)
                    .await?
                    .ok_or_else(|| anyhow::anyhow!("no local {id_or_slug:?}"))?
                    .id,
            }
        }
        _ => anyhow::bail!(
            "admin takes nothing more; an organizer takes --campaign SLUG or --union SLUG; \
             an officer takes --local ID"
        ),
    })
}

/// A new password: asked for twice at a terminal, else the first line of stdin.
pub(super) fn read_password() -> anyhow::Result<String> {
    use std::io::IsTerminal;
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Password (at least 12 characters): ")?;
        let again = rpassword::prompt_password("The same again: ")?;
        anyhow::ensure!(first == again, "the two passwords differ");
        Ok(first)
    } else {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line)?;
        Ok(line.trim_end_matches(['\r', '\n']).to_owned())
    }
}

pub(super) async fn api_key(
    db: &sea_orm::DatabaseConnection,
    command: KeyCommand,
    now: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<()> {
    use rollcall::accounts::access::{self, KeyFor};
    match command {
        KeyCommand::Create {
            role,
            campaign,
            local,
            label,
        } => {
            let what = match (role, campaign.as_deref(), local.as_deref()) {
                (KeyRole::Organizer, Some(slug), None) => KeyFor::Campaign(slug),
                (KeyRole::Officer, None, Some(local)) => KeyFor::Local(local),
                (KeyRole::Partner, None, None) => KeyFor::Partner,
                _ => anyhow::bail!(
                    "an organizer's key takes --campaign SLUG; an officer's takes --local LOCAL_ID; a partner's takes neither"
                ),
            };
            let (id, key) = access::create_key(db, what, &label, now).await?;
            println!("API key {id} created. It is shown only now; keep it like a password.");
            println!("key: {}", key.as_str());
        }
        KeyCommand::List => {
            for key in access::list_keys(db).await? {
                let over = match (key.campaign_id, key.local_id) {
                    (Some(campaign), _) => format!("campaign {campaign}"),
                    (_, Some(local)) => format!("local {local}"),
                    _ => String::new(),
                };
                let state = key.revoked_at.map_or_else(
                    || "live".to_owned(),
                    |at| format!("revoked {}", at.to_rfc3339()),
                );
                // Whose access the key answers to: a user's, or nobody's (made here).
                let maker = key
                    .created_by
                    .map_or_else(|| "command line".to_owned(), |id| format!("user {id}"));
                println!(
                    "{}\t{}\t{over}\t{}\t{maker}\t{state}",
                    key.id, key.role, key.label
                );
            }
        }
        KeyCommand::Revoke { id } => {
            let revoked = access::revoke_key(db, id, now).await?;
            println!(
                "{}",
                if revoked {
                    "revoked"
                } else {
                    "no live key with that id"
                }
            );
        }
    }
    Ok(())
}
