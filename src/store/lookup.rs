//! Finding a signature by one of its tokens (confirm or withdraw), and showing it to
//! its own signer.

use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryTrait, SelectThreeModel,
    SelectorTrait,
};

use crate::{
    domain::Token,
    entities::{campaign, campaign_text, local, sign_candidate, signature, union},
    store::db::WrittenOnce,
    views::SignatureView,
};

#[derive(Debug, thiserror::Error)]
pub enum LookupError {
    #[error("no signature has that token")]
    Unknown,
    #[error(transparent)]
    Database(#[from] DbErr),
}

/// A signature, its campaign and the text it signed.
pub struct Found {
    pub signature: signature::Model,
    pub campaign: campaign::Model,
    pub text: campaign_text::Model,
    /// The sign request waiting beside a pending signature whose link this was; the
    /// signature then reads as that request wrote it (`signing`).
    pub candidate: Option<uuid::Uuid>,
}

/// Which of a signature's tokens a link carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenColumn {
    Confirm,
    Withdraw,
}

impl TokenColumn {
    fn column(self) -> signature::Column {
        match self {
            TokenColumn::Confirm => signature::Column::ConfirmTokenHash,
            TokenColumn::Withdraw => signature::Column::WithdrawTokenHash,
        }
    }

    /// The lookup's SQL by this column.
    fn lookup(self) -> &'static WrittenOnce {
        static BY_CONFIRM_TOKEN: WrittenOnce = WrittenOnce::new();
        static BY_WITHDRAW_TOKEN: WrittenOnce = WrittenOnce::new();
        match self {
            TokenColumn::Confirm => &BY_CONFIRM_TOKEN,
            TokenColumn::Withdraw => &BY_WITHDRAW_TOKEN,
        }
    }
}

/// Finds the signature whose `which` token column holds the hash of `token`.
pub async fn find_by_token(
    db: &impl ConnectionTrait,
    which: TokenColumn,
    token: &str,
) -> Result<Found, LookupError> {
    let hash = Token::parse(token)
        .map_err(|_| LookupError::Unknown)?
        .hash();
    // One query, the signature with its campaign and the text it signed: a confirmation
    // asks it on every press. (No LIMIT: both token columns have a unique index.)
    let query = || {
        signature::Entity::find()
            .filter(which.column().eq(hash.as_str()))
            .find_also_related(campaign::Entity)
            .find_also_related(campaign_text::Entity)
            .into_query()
    };
    let statement =
        which
            .lookup()
            .statement(db.get_database_backend(), query, vec![hash.as_str().into()]);
    let Some(row) = db.query_one_raw(statement).await? else {
        return match which {
            TokenColumn::Confirm => find_candidate(db, &hash).await,
            TokenColumn::Withdraw => Err(LookupError::Unknown),
        };
    };
    let (signature, campaign, text) = SelectThreeModel::<
        signature::Model,
        campaign::Model,
        campaign_text::Model,
    >::from_raw_query_result(row)?;
    let campaign = campaign.ok_or(LookupError::Unknown)?;
    let text = text.ok_or_else(|| DbErr::RecordNotFound("campaign text".into()))?;
    Ok(Found {
        signature,
        campaign,
        text,
        candidate: None,
    })
}

/// A confirmation link of a second sign request: the pending signature, as that
/// request would fill it.
async fn find_candidate(
    db: &impl ConnectionTrait,
    hash: &crate::domain::TokenHash,
) -> Result<Found, LookupError> {
    let candidate = sign_candidate::Entity::find()
        .filter(sign_candidate::Column::ConfirmTokenHash.eq(hash.as_str()))
        .one(db)
        .await?
        .ok_or(LookupError::Unknown)?;
    let (signature, campaign) = signature::Entity::find_by_id(candidate.signature_id)
        .find_also_related(campaign::Entity)
        .one(db)
        .await?
        .ok_or(LookupError::Unknown)?;
    let campaign = campaign.ok_or(LookupError::Unknown)?;
    let text = campaign_text::Entity::find_by_id(candidate.text_id)
        .one(db)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("campaign text".into()))?;
    let signature = signature::Model {
        local_id: candidate.local_id,
        given_name: candidate.given_name,
        family_name: candidate.family_name,
        email: candidate.email,
        employer: candidate.employer,
        postal_code: candidate.postal_code,
        phone: candidate.phone,
        language: candidate.language,
        text_id: candidate.text_id,
        show_name: candidate.show_name,
        confirm_token_hash: Some(candidate.confirm_token_hash),
        confirm_expires_at: Some(candidate.confirm_expires_at),
        ip: candidate.ip,
        ..signature
    };
    Ok(Found {
        signature,
        campaign,
        text,
        candidate: Some(candidate.id),
    })
}

/// "UTW Local 102" for a local id, None for a community supporter.
async fn local_label(
    db: &impl ConnectionTrait,
    local_id: Option<i64>,
) -> Result<Option<String>, DbErr> {
    let Some(local_id) = local_id else {
        return Ok(None);
    };
    let Some(local) = local::Entity::find_by_id(local_id).one(db).await? else {
        return Ok(None);
    };
    let union = union::Entity::find_by_id(local.union_id).one(db).await?;
    Ok(Some(match union {
        Some(union) => format!("{} {}", union.short_name, local.name),
        None => local.name,
    }))
}

/// The signature as its signer sees it, with the title of the text they signed.
pub async fn signature_view(
    db: &impl ConnectionTrait,
    found: Found,
) -> Result<SignatureView, DbErr> {
    Ok(SignatureView {
        campaign_slug: found.campaign.slug,
        campaign_title: found.text.title,
        local: local_label(db, found.signature.local_id).await?,
        given_name: found.signature.given_name,
        family_name: found.signature.family_name,
        show_name: found.signature.show_name,
        status: found.signature.status,
    })
}
