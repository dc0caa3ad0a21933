//! Finding a signature by one of its tokens (confirm or withdraw), and showing it to
//! its own signer.

use std::sync::LazyLock;

use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, QueryFilter, QueryTrait,
    SelectThreeModel, SelectorTrait, Statement,
};

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
}

/// The lookup as SQL for `backend`: the signature whose `token` column holds the one
/// value bound, with its campaign and the text it signed, in one query. (No LIMIT: a
/// token is 256 random bits, and the first row is all that is read.)
fn lookup_sql(backend: DbBackend, token: TokenColumn) -> String {
    let statement = signature::Entity::find()
        .filter(token.column().eq(""))
        .find_also_related(campaign::Entity)
        .find_also_related(campaign_text::Entity)
        .build(backend);
    debug_assert_eq!(statement.values.map(|values| values.0.len()), Some(1));
    statement.sql
}

/// The lookup's SQL, written once for each database and token: a confirmation runs
/// it on every press, and writing it again (three tables, 55 aliased columns) took
/// more instructions than SQLite took to run it (callgrind).
fn lookup_statement(backend: DbBackend, token: TokenColumn, hash: &str) -> Statement {
    static WRITTEN: LazyLock<[[String; 2]; 2]> = LazyLock::new(|| {
        [DbBackend::Sqlite, DbBackend::Postgres].map(|backend| {
            [TokenColumn::Confirm, TokenColumn::Withdraw].map(|token| lookup_sql(backend, token))
        })
    });
    let sql = match backend {
        DbBackend::Sqlite => WRITTEN[0][token as usize].clone(),
        DbBackend::Postgres => WRITTEN[1][token as usize].clone(),
        other => lookup_sql(other, token),
    };
    Statement::from_sql_and_values(backend, sql, [hash.into()])
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
    let row = db
        .query_one_raw(lookup_statement(
            db.get_database_backend(),
            which,
            hash.as_str(),
        ))
        .await?
        .ok_or(LookupError::Unknown)?;
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
