//! Rollcall's domain types and rules, free of storage and transport: the fields a signer
//! fills in, the signature request built from them, campaign states, confirmation tokens
//! and, on the server, campaign text.

pub mod account;
pub mod campaign;
#[cfg(feature = "ssr")]
pub mod clock;
pub mod fields;
pub mod ids;
pub mod pledge;
pub mod privacy;
#[cfg(feature = "ssr")]
pub mod qr;
pub mod signature;
#[cfg(feature = "ssr")]
pub mod text;
pub mod token;

pub use account::{AccountEmail, Grant, Password, RecoveryCode, TotpCode};
pub use campaign::{
    CampaignKind, CampaignStatus, PublicBreakdown, SignatureStatus, format_share_percent,
    share_of_membership,
};
pub use fields::{
    CampaignSlug, CanonicalEmail, Employer, FieldProblem, Language, LocalChoice, Phone, PostalCode,
    SignerEmail, SignerName,
};
pub use ids::{CampaignId, LocalId, UnionId, UserId};
pub use pledge::{
    AnnouncementKind, CollisionResolution, PledgeRule, PledgeState, Verification,
    WithoutMemberCount,
};
pub use privacy::{PrivacyChange, PrivacySettings, PrivacyWeakened, only_stricter};
pub use signature::{
    Field, FieldError, FieldErrors, PaperInput, PaperSignature, SignatureInput, SignatureRequest,
};
#[cfg(feature = "ssr")]
pub use text::{is_same_site_path, markdown_to_plain, render_markdown, text_sha256};
pub use token::{Token, TokenError, TokenHash};
