//! Finding a signature by one of its tokens (confirm or withdraw), and showing it to
//! its own signer.

use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};

use crate::{
    domain::{SignatureStatus, Token},
    entities::{campaign, campaign_text, local, signature, union},
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
}

/// Finds the signature whose `column` (a token hash column) holds the hash of `token`.
pub async fn find_by_token(
    db: &impl ConnectionTrait,
    column: signature::Column,
    token: &str,
) -> Result<Found, LookupError> {
    let hash = Token::parse(token)
        .map_err(|_| LookupError::Unknown)?
        .hash();
    // One query: a confirmation reads this on every press.
    let (signature, campaign, text) = signature::Entity::find()
        .filter(column.eq(hash.as_str()))
        .find_also_related(campaign::Entity)
        .find_also_related(campaign_text::Entity)
        .one(db)
        .await?
        .ok_or(LookupError::Unknown)?;
    let campaign = campaign.ok_or(LookupError::Unknown)?;
    let text = text.ok_or_else(|| DbErr::RecordNotFound("campaign text".into()))?;
    Ok(Found {
        signature,
        campaign,
        text,
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
        status: SignatureStatus::parse(&found.signature.status).unwrap_or(SignatureStatus::Pending),
    })
}
