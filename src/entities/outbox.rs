use sea_orm::entity::prelude::*;

/// Mail waiting to be sent, written in the same transaction as its cause.
#[derive(Clone, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "outbox")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// What the mail is for (`confirm`, `receipt`, ...), for logs and metrics.
    pub kind: String,
    /// Emptied once the mail is sent or has failed: the outbox is no list of signers.
    pub recipient: String,
    pub subject: String,
    /// Cleared once sent: it holds a live token.
    pub body_text: Option<String>,
    pub body_html: Option<String>,
    pub attempts: i32,
    pub next_attempt_at: DateTimeUtc,
    /// A worker that claims the mail holds it until then, so two never send it twice.
    pub claimed_until: Option<DateTimeUtc>,
    pub last_error: Option<String>,
    pub created_at: DateTimeUtc,
    pub sent_at: Option<DateTimeUtc>,
    /// Refused for good, or unsent when its link expired: emptied like sent mail.
    pub failed_at: Option<DateTimeUtc>,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutboxMail")
            .field("id", &self.id)
            .field("kind", &self.kind)
            .field("attempts", &self.attempts)
            .finish_non_exhaustive()
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
