//! Signing: a person's sign request becomes a pending signature and a confirmation mail,
//! written together in one transaction. The answer is the same whether or not the
//! address signed before, so nobody can probe who signed.

pub mod confirming;
pub mod paper;
pub mod withdrawing;

use std::net::IpAddr;

use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter,
    sea_query::OnConflict,
};
use uuid::Uuid;

use crate::{
    abuse::blocks::Blocks,
    domain::{
        Field, FieldErrors, FieldProblem, SignatureInput, SignatureRequest, SignatureStatus, Token,
    },
    entities::{campaign, sign_candidate, signature},
    live::effects::Effects,
    mail::{self, MailLimits, quota},
    store::campaigns,
    store::db,
};

/// What signing needs besides the request: the time, the base of links, the signer's
/// address (kept for abuse review) and how long a confirmation link lives.
#[derive(Clone, Debug)]
pub struct SignContext<'a> {
    pub now: DateTime<Utc>,
    pub public_url: &'a str,
    pub ip: Option<IpAddr>,
    pub confirm_ttl: Duration,
    pub mail_limits: MailLimits,
    pub blocks: &'a Blocks,
}

#[derive(Debug, thiserror::Error)]
pub enum SignError {
    #[error("the sign request has invalid fields: {0}")]
    Invalid(FieldErrors),
    #[error("no campaign with that address")]
    UnknownCampaign,
    #[error("the campaign is not taking signatures")]
    NotOpen,
    #[error("signing failed")]
    Unexpected(#[from] DbErr),
}

/// Signs `input` on the campaign `slug`. `Ok` means "check your email", whatever the
/// address's history on this campaign; it is also the answer, with nothing written, to
/// a blocked address and to a mailbox that had its mails for the hour.
pub async fn sign(
    db: &DatabaseConnection,
    slug: &str,
    input: &SignatureInput,
    ctx: &SignContext<'_>,
) -> Result<Effects, SignError> {
    let request = SignatureRequest::parse(input).map_err(SignError::Invalid)?;
    if ctx.blocks.domain(request.email.domain()) {
        return Err(SignError::Invalid(FieldErrors::single(
            Field::Email,
            FieldProblem::NotAccepted,
        )));
    }
    if ctx.ip.is_some_and(|ip| ctx.blocks.address(ip)) {
        tracing::info!("a signature from a blocked network was dropped");
        return Ok(Effects::none());
    }
    let early = db::begin_write_before_reads(db).await?;
    let found = match &early {
        Some(txn) => campaigns::for_signing(txn, slug, request.language, request.local).await?,
        None => campaigns::for_signing(db, slug, request.language, request.local).await?,
    };
    let Some(campaigns::ForSigning {
        campaign,
        text,
        may_sign,
    }) = found
    else {
        // On the transaction's connection where there is one: a crowd signing a closed
        // campaign must not hold every connection while asking for a second.
        let known = match &early {
            Some(txn) => campaigns::by_slug(txn, slug).await?,
            None => campaigns::by_slug(db, slug).await?,
        };
        return Err(match known {
            Some(_) => SignError::NotOpen,
            None => SignError::UnknownCampaign,
        });
    };
    if !campaigns::accepts_signatures(&campaign, ctx.now) {
        return Err(SignError::NotOpen);
    }
    if !may_sign {
        return Err(SignError::Invalid(FieldErrors::single(
            Field::Local,
            FieldProblem::Invalid,
        )));
    }
    let txn = match early {
        Some(txn) => txn,
        None => db::begin_write(db).await?,
    };
    let canonical = request.email.canonical();
    let title = &text.title;
    // Every path below mails the signer: a mailbox that had its mails for the hour gets
    // none, and nothing changes (a pending signature keeps its live link).
    if !quota::take_mailbox(
        &txn,
        campaign.id,
        canonical.as_str(),
        ctx.now,
        ctx.mail_limits,
    )
    .await?
    {
        tracing::info!("a mailbox reached its hourly mail limit; nothing sent");
        return Ok(Effects::none());
    }
    // Most signers are new: their row goes in at once, and an address already on the
    // campaign leaves its row as it is for the read below. Two presses at once on
    // PostgreSQL take turns on the mailbox's quota row, so the second finds the first's
    // pending row and sends a fresh link, as it would a moment later (and as SQLite's
    // writers, one at a time, always did).
    let token = Token::generate();
    let inserted =
        signature::Entity::insert(new_signature(&request, &campaign, text.id, &token, ctx))
            .on_conflict(
                OnConflict::columns([
                    signature::Column::CampaignId,
                    signature::Column::CanonicalEmail,
                ])
                .do_nothing()
                .to_owned(),
            )
            .exec_without_returning(&txn)
            .await?;
    if inserted == 1 {
        mail::enqueue(&txn, confirm_mail(&request, title, &token, ctx), ctx.now).await?;
        txn.commit().await?;
        return Ok(Effects::none().mail());
    }
    let existing = signature::Entity::find()
        .filter(signature::Column::CampaignId.eq(campaign.id))
        .filter(signature::Column::CanonicalEmail.eq(canonical.as_str()))
        .one(&txn)
        .await?;
    match existing.map(|signature| (signature.status, signature)) {
        // Signing again while pending: this request waits beside the first as a
        // candidate with its own link, so neither link shows or confirms what the other
        // request wrote, and a stranger's request cannot retire the worker's own link.
        Some((SignatureStatus::Pending, signature)) => {
            sign_candidate::Entity::delete_many()
                .filter(sign_candidate::Column::SignatureId.eq(signature.id))
                .filter(sign_candidate::Column::ConfirmExpiresAt.lte(ctx.now))
                .exec(&txn)
                .await?;
            sign_candidate::Entity::insert(candidate(&request, signature.id, text.id, &token, ctx))
                .exec_without_returning(&txn)
                .await?;
            mail::enqueue(&txn, confirm_mail(&request, title, &token, ctx), ctx.now).await?
        }
        // Signing again after withdrawing: a fresh link, and the newest details replace
        // the old ones (a withdrawn signature has no live confirmation link).
        Some((SignatureStatus::Withdrawn, signature)) => {
            let mut row = new_signature(&request, &campaign, text.id, &token, ctx);
            row.id = Set(signature.id);
            row.created_at = Set(signature.created_at);
            // Conditional on the status read above: a re-sign that committed in between
            // made it pending, and this request changes nothing.
            let updated = signature::Entity::update(row)
                .validate()?
                .filter(signature::Column::Status.eq(SignatureStatus::Withdrawn))
                .exec_without_returning(&txn)
                .await;
            match updated {
                Ok(_) => {
                    mail::enqueue(&txn, confirm_mail(&request, title, &token, ctx), ctx.now).await?
                }
                Err(DbErr::RecordNotUpdated) => return Ok(Effects::none()),
                Err(err) => return Err(err.into()),
            }
        }
        Some((SignatureStatus::Confirmed, _)) => {
            let campaign_url = format!("{}/c/{}", ctx.public_url, campaign.slug);
            let draft = mail::already_signed(
                request.email.as_str(),
                request.language,
                title,
                &campaign_url,
            );
            mail::enqueue(&txn, draft, ctx.now).await?;
        }
        // An invalidated signature stays invalidated; the signer is told nothing new. A
        // row removed since the insert met it leaves nothing to do either.
        Some((SignatureStatus::Invalidated, _)) | None => {}
    }
    txn.commit().await?;
    Ok(Effects::none().mail())
}

fn new_signature(
    request: &SignatureRequest,
    campaign: &campaign::Model,
    text_id: i64,
    token: &Token,
    ctx: &SignContext<'_>,
) -> signature::ActiveModel {
    signature::ActiveModel {
        id: Set(Uuid::now_v7()),
        campaign_id: Set(campaign.id),
        local_id: Set(request.local.local_id()),
        given_name: Set(request.given_name.as_str().to_owned()),
        family_name: Set(request.family_name.as_str().to_owned()),
        email: Set(request.email.as_str().to_owned()),
        canonical_email: Set(request.email.canonical().as_str().to_owned()),
        employer: Set(request.employer.as_ref().map(|e| e.as_str().to_owned())),
        postal_code: Set(request.postal_code.as_ref().map(|p| p.as_str().to_owned())),
        phone: Set(request.phone.as_ref().map(|p| p.as_str().to_owned())),
        language: Set(request.language.code().to_owned()),
        text_id: Set(text_id),
        show_name: Set(request.show_name),
        status: Set(SignatureStatus::Pending),
        confirm_token_hash: Set(Some(token.hash().as_str().to_owned())),
        confirm_expires_at: Set(Some(ctx.now + ctx.confirm_ttl)),
        withdraw_token_hash: Set(None),
        created_at: Set(ctx.now),
        confirmed_at: Set(None),
        withdrawn_at: Set(None),
        invalidated_at: Set(None),
        ip: Set(ctx.ip.map(|ip| ip.to_string())),
        attested_by: Set(None),
        verification: Set(None),
        verified_by: Set(None),
        verified_at: Set(None),
    }
}

/// A sign request waiting beside the pending signature `signature_id`.
fn candidate(
    request: &SignatureRequest,
    signature_id: Uuid,
    text_id: i64,
    token: &Token,
    ctx: &SignContext<'_>,
) -> sign_candidate::ActiveModel {
    sign_candidate::ActiveModel {
        id: Set(Uuid::now_v7()),
        signature_id: Set(signature_id),
        local_id: Set(request.local.local_id()),
        given_name: Set(request.given_name.as_str().to_owned()),
        family_name: Set(request.family_name.as_str().to_owned()),
        email: Set(request.email.as_str().to_owned()),
        employer: Set(request.employer.as_ref().map(|e| e.as_str().to_owned())),
        postal_code: Set(request.postal_code.as_ref().map(|p| p.as_str().to_owned())),
        phone: Set(request.phone.as_ref().map(|p| p.as_str().to_owned())),
        language: Set(request.language.code().to_owned()),
        text_id: Set(text_id),
        show_name: Set(request.show_name),
        confirm_token_hash: Set(token.hash().as_str().to_owned()),
        confirm_expires_at: Set(ctx.now + ctx.confirm_ttl),
        created_at: Set(ctx.now),
        ip: Set(ctx.ip.map(|ip| ip.to_string())),
    }
}

/// The mail asking to confirm: the campaign and the link, and nothing the request
/// supplied (anyone can type any address into the form).
fn confirm_mail(
    request: &SignatureRequest,
    title: &str,
    token: &Token,
    ctx: &SignContext<'_>,
) -> mail::MailDraft {
    mail::confirm_request(
        request.email.as_str(),
        request.language,
        title,
        // The confirm page opens in the language the person signed in, whatever the
        // phone that opens the mail is set to.
        &format!(
            "{}/v/{}?lang={}",
            ctx.public_url,
            token.as_str(),
            request.language.code()
        ),
        ctx.confirm_ttl.num_days(),
    )
}
