//! Confirming: the link in the mail opens a page (GET, which changes nothing, because
//! mail scanners follow links); its button POSTs, and only that confirms the signature
//! and counts it, in one transaction with its tally row and the receipt mail.

use std::sync::{Arc, LazyLock};

use chrono::{DateTime, Utc};
use moka::sync::Cache;
use sea_orm::{ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, sea_query::Expr};

use crate::{
    domain::{CampaignId, LocalId},
    domain::{Language, SignatureStatus, Token, markdown_to_plain, render_markdown},
    entities::{campaign, campaign_text, sign_candidate, signature},
    live::effects::Effects,
    mail, pledges,
    store::campaigns,
    store::db,
    store::lookup::{Found, LookupError, TokenColumn, find_by_token, signature_view},
    store::tally,
    views::SignatureView,
};

#[derive(Debug, thiserror::Error)]
pub enum ConfirmError {
    /// Not a link we sent, or one that was used or has expired: all answer alike, so a
    /// forwarded mail tells its reader nothing about who signed.
    #[error("the confirmation link is not one that works")]
    Unknown,
    #[error("the campaign no longer takes confirmations")]
    Closed { campaign_slug: String },
    #[error("confirming failed")]
    Unexpected(#[from] DbErr),
}

impl From<LookupError> for ConfirmError {
    fn from(err: LookupError) -> Self {
        match err {
            LookupError::Unknown => ConfirmError::Unknown,
            LookupError::Database(err) => ConfirmError::Unexpected(err),
        }
    }
}

/// Checks that a pending signature may still be confirmed at `now`.
fn check_confirmable(
    signature: &signature::Model,
    campaign: &campaign::Model,
    now: DateTime<Utc>,
) -> Result<(), ConfirmError> {
    if signature
        .confirm_expires_at
        .is_none_or(|expires| expires <= now)
    {
        return Err(ConfirmError::Unknown);
    }
    if !campaigns::accepts_confirmations(campaign, now) {
        return Err(ConfirmError::Closed {
            campaign_slug: campaign.slug.clone(),
        });
    }
    Ok(())
}

/// What the confirm page shows: the pending signature as its link's request wrote it.
/// A used, expired or unknown link is not found, alike.
pub async fn confirmation_view(
    db: &DatabaseConnection,
    token: &str,
    now: DateTime<Utc>,
) -> Result<SignatureView, ConfirmError> {
    let found = find_by_token(db, TokenColumn::Confirm, token).await?;
    if found.signature.status != SignatureStatus::Pending {
        return Err(ConfirmError::Unknown);
    }
    check_confirmable(&found.signature, &found.campaign, now)?;
    Ok(signature_view(db, found).await?)
}

/// What a successful confirmation reports, so the hub and the page can move on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Confirmed {
    pub campaign_id: i64,
    pub campaign_slug: String,
    pub local_id: Option<i64>,
    /// False when a press that came at the same moment confirmed it first.
    pub newly_counted: bool,
    /// A pledge's: its standing is worth judging again.
    pub pledge: bool,
    /// This confirmation carried its local over the pledge's threshold.
    pub crossed: bool,
}

impl Confirmed {
    /// The receipt mail, the count, and for a pledge its standing.
    pub fn effects(&self) -> Effects {
        let campaign = CampaignId(self.campaign_id);
        let mut effects = Effects::none().mail();
        if self.newly_counted {
            effects = effects.moved(campaign, self.local_id.map(LocalId), 1);
        }
        if self.crossed {
            effects = effects.reread(campaign);
        }
        if self.pledge {
            effects = effects.judge_pledges();
        }
        effects
    }
}

/// Confirms the signature behind `token` and counts it. Pressing twice counts once.
///
/// On SQLite the signature, its campaign and its text are read, and the receipt
/// written, before the write begins, so that the write (a turn in the queue every writer
/// waits in) holds only the writes; on PostgreSQL they are read in the write's own
/// transaction, on the one connection it checks out. Either way the write is conditional
/// on what was read and on the campaign still taking confirmations: a press, re-sign,
/// removal or closing in between makes it change nothing.
pub async fn confirm(
    db: &DatabaseConnection,
    token: &str,
    public_url: &str,
    now: DateTime<Utc>,
) -> Result<Confirmed, ConfirmError> {
    // A link that is no token costs the database nothing.
    Token::parse(token).map_err(|_| ConfirmError::Unknown)?;
    let early = db::begin_write_before_reads(db).await?;
    let found = match &early {
        Some(txn) => find_by_token(txn, TokenColumn::Confirm, token).await?,
        None => find_by_token(db, TokenColumn::Confirm, token).await?,
    };
    let confirmed = |newly_counted, crossed| Confirmed {
        campaign_id: found.campaign.id,
        campaign_slug: found.campaign.slug.clone(),
        local_id: found.signature.local_id,
        newly_counted,
        pledge: crate::entities::campaign::is_pledge(&found.campaign),
        crossed,
    };
    // A confirmed signature found here was confirmed through another of its links:
    // this one is used up like the rest.
    if found.signature.status != SignatureStatus::Pending {
        return Err(ConfirmError::Unknown);
    }
    check_confirmable(&found.signature, &found.campaign, now)?;
    let withdraw_token = Token::generate();
    let receipt = receipt(&found, &withdraw_token, public_url);

    let txn = match early {
        Some(txn) => txn,
        None => db::begin_write(db).await?,
    };
    // Conditional on still being pending, so concurrent presses count it once. The
    // link is used up: its hash goes, so that it names nobody from now on.
    let mut update = signature::Entity::update_many()
        .col_expr(
            signature::Column::Status,
            Expr::value(SignatureStatus::Confirmed),
        )
        .col_expr(signature::Column::ConfirmedAt, Expr::value(now))
        .col_expr(
            signature::Column::WithdrawTokenHash,
            Expr::value(withdraw_token.hash().as_str()),
        )
        .col_expr(
            signature::Column::ConfirmTokenHash,
            Expr::value(None::<String>),
        )
        .col_expr(
            signature::Column::ConfirmExpiresAt,
            Expr::value(None::<DateTime<Utc>>),
        )
        .filter(signature::Column::Id.eq(found.signature.id))
        .filter(signature::Column::Status.eq(SignatureStatus::Pending))
        // The campaign may have closed while this waited for its turn to write: the row's
        // campaign, still taking confirmations. (EXISTS rather than an IN subquery, for
        // which SQLite fills a temporary table.)
        .filter(signature::Column::CampaignId.eq(found.campaign.id))
        .filter(Expr::exists(campaigns::taking_confirmations(
            found.campaign.id,
            now,
        )));
    update = match found.candidate {
        // The signature's own link: still its own (a withdrawal and re-sign in between
        // replaces it, and then this one confirms nothing).
        None => update.filter(
            signature::Column::ConfirmTokenHash.eq(found.signature.confirm_token_hash.clone()),
        ),
        // A second request's link: the signature takes that request's details.
        Some(_) => with_candidate_details(update, &found.signature),
    };
    let updated = update.exec(&txn).await?;
    if updated.rows_affected != 1 {
        drop(txn);
        // Changed since it was read: confirmed by another press, closed, or gone.
        let now_found = find_by_token(db, TokenColumn::Confirm, token).await?;
        return match now_found.signature.status {
            SignatureStatus::Confirmed => Ok(confirmed(false, false)),
            SignatureStatus::Pending => {
                check_confirmable(&now_found.signature, &now_found.campaign, now)?;
                // Closed when the write came, and open again since: a second press
                // confirms it.
                Err(ConfirmError::Closed {
                    campaign_slug: now_found.campaign.slug,
                })
            }
            SignatureStatus::Withdrawn | SignatureStatus::Invalidated => Err(ConfirmError::Unknown),
        };
    }
    let signature = &found.signature;
    if found.candidate.is_some() {
        // Every other link of this address is used up with this one.
        sign_candidate::Entity::delete_many()
            .filter(sign_candidate::Column::SignatureId.eq(signature.id))
            .exec(&txn)
            .await?;
    }
    tally::add(
        &txn,
        signature.campaign_id,
        signature.local_id,
        signature.id,
        1,
    )
    .await?;
    mail::enqueue(&txn, receipt, now).await?;
    // Last before the commit: a gathering pledge's local is held (on PostgreSQL) from
    // here to the commit, so for as short a time as can be.
    let crossed = match signature.local_id {
        Some(local_id) if crate::entities::campaign::is_pledge(&found.campaign) => {
            // The pledge as it is now: its rule may have changed while this waited.
            let campaign = campaign::Entity::find_by_id(found.campaign.id)
                .one(&txn)
                .await?
                .ok_or(ConfirmError::Unknown)?;
            // Under a verified-only rule a fresh confirmation cannot cross: no lock
            // is taken.
            !campaign.verified_only && pledges::check_local(&txn, &campaign, local_id, now).await?
        }
        _ => false,
    };
    txn.commit().await?;
    Ok(confirmed(true, crossed))
}

/// The update that confirms, also writing the details a second sign request gave.
fn with_candidate_details(
    update: sea_orm::UpdateMany<signature::Entity>,
    details: &signature::Model,
) -> sea_orm::UpdateMany<signature::Entity> {
    use signature::Column as C;
    update
        .col_expr(C::LocalId, Expr::value(details.local_id))
        .col_expr(C::GivenName, Expr::value(details.given_name.clone()))
        .col_expr(C::FamilyName, Expr::value(details.family_name.clone()))
        .col_expr(C::Email, Expr::value(details.email.clone()))
        .col_expr(C::Employer, Expr::value(details.employer.clone()))
        .col_expr(C::PostalCode, Expr::value(details.postal_code.clone()))
        .col_expr(C::Phone, Expr::value(details.phone.clone()))
        .col_expr(C::Language, Expr::value(details.language.clone()))
        .col_expr(C::TextId, Expr::value(details.text_id))
        .col_expr(C::ShowName, Expr::value(details.show_name))
        .col_expr(C::Ip, Expr::value(details.ip.clone()))
}

/// A text version as a receipt quotes it: its summary and body in plain text, and its
/// body as sanitised HTML, beside the summary and body they came from.
struct Quoted {
    summary: String,
    body_md: String,
    plain: String,
    html: String,
}

impl Quoted {
    fn of(text: &campaign_text::Model) -> Self {
        Self {
            summary: text.summary.clone(),
            body_md: text.body_md.clone(),
            plain: format!("{}\n\n{}", text.summary, markdown_to_plain(&text.body_md)),
            html: render_markdown(&text.body_md),
        }
    }

    fn bytes(&self) -> usize {
        self.summary.len() + self.body_md.len() + self.plain.len() + self.html.len()
    }
}

/// Most bytes of quoted texts kept at once.
const QUOTED_BYTES: u64 = 16 << 20;

/// Each text version quoted once rather than on every confirmation: turning the Markdown
/// into sanitised HTML was about half of a confirmation's work (BENCHMARKS.md). Kept by
/// the version's SHA-256: a version never changes (an edit
/// makes a new one), and two databases in one process cannot mix theirs up. What is
/// found is still compared with the text, so a row changed by hand is quoted as it
/// reads, and kept so from then on.
fn quoted(text: &campaign_text::Model) -> Arc<Quoted> {
    static QUOTED: LazyLock<Cache<String, Arc<Quoted>>> = LazyLock::new(|| {
        Cache::builder()
            .weigher(|key: &String, quoted: &Arc<Quoted>| {
                u32::try_from(key.len() + quoted.bytes()).unwrap_or(u32::MAX)
            })
            .max_capacity(QUOTED_BYTES)
            .build()
    });
    if let Some(kept) = QUOTED.get(&text.sha256)
        && kept.summary == text.summary
        && kept.body_md == text.body_md
    {
        return kept;
    }
    let fresh = Arc::new(Quoted::of(text));
    QUOTED.insert(text.sha256.clone(), fresh.clone());
    fresh
}

/// The receipt a confirmation sends: the text as signed, and the link to withdraw.
fn receipt(found: &Found, withdraw_token: &Token, public_url: &str) -> mail::MailDraft {
    let Found {
        signature, text, ..
    } = found;
    let quoted = quoted(text);
    // The receipt's links open in the signer's language, as the mail is written.
    let language = Language::parse(&signature.language).unwrap_or_default();
    let code = language.code();
    mail::receipt(
        &signature.email,
        &mail::ReceiptDetails {
            language,
            given_name: &signature.given_name,
            campaign_title: &text.title,
            campaign_url: &format!("{public_url}/c/{}?lang={code}", found.campaign.slug),
            text_plain: &quoted.plain,
            text_html: &quoted.html,
            show_name: signature.show_name,
            withdraw_url: &format!("{public_url}/w/{}?lang={code}", withdraw_token.as_str()),
        },
    )
}
