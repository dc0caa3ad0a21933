//! What pages, the JSON API and the browser see: plain serialisable views, no storage
//! types, so they compile to wasm unchanged.

use serde::{Deserialize, Serialize};

use crate::domain::{CampaignKind, CampaignStatus, Language, SignatureStatus};

/// A campaign in the list of open campaigns.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CampaignSummary {
    pub slug: String,
    pub kind: CampaignKind,
    pub title: String,
    pub summary: String,
    pub addressee: String,
    pub language: Language,
    pub total: u64,
    pub goal: Option<u64>,
    pub is_demo: bool,
}

/// Everything the campaign page and `GET /api/v1/campaigns/{slug}` show.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CampaignDetail {
    pub slug: String,
    pub kind: CampaignKind,
    pub status: CampaignStatus,
    pub addressee: String,
    pub title: String,
    pub summary: String,
    /// Rendered and sanitised on the server.
    pub body_html: String,
    /// The language of the text shown, and every language the campaign speaks.
    pub language: Language,
    pub languages: Vec<Language>,
    pub text_version: i32,
    pub sponsors: Vec<UnionView>,
    /// The locals that can sign: those of the sponsoring unions.
    pub locals: Vec<LocalView>,
    pub allow_community: bool,
    pub goal: Option<u64>,
    pub opens_at: Option<String>,
    pub closes_at: Option<String>,
    /// Whether the campaign takes new signatures now.
    pub accepting: bool,
    pub is_demo: bool,
    pub tally: Tally,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnionView {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub short_name: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocalView {
    pub id: i64,
    /// The union's slug.
    pub union: String,
    pub union_short_name: String,
    pub name: String,
    pub city: Option<String>,
    pub region: Option<String>,
    pub member_count: Option<u64>,
}

impl LocalView {
    /// "UTW Local 102 (Chicago, IL)": how a member finds their local in a list.
    pub fn label(&self) -> String {
        let place = match (&self.city, &self.region) {
            (Some(city), Some(region)) => format!(" ({city}, {region})"),
            (Some(place), None) | (None, Some(place)) => format!(" ({place})"),
            (None, None) => String::new(),
        };
        format!("{} {}{place}", self.union_short_name, self.name)
    }
}

/// Confirmed signatures: the total, and the count of each local that has any.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tally {
    pub total: u64,
    pub goal: Option<u64>,
    pub by_local: Vec<LocalCount>,
    pub community_supporters: u64,
    pub updated_at: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocalCount {
    pub local_id: i64,
    pub count: u64,
    pub member_count: Option<u64>,
}

/// A signature as its own signer sees it on the confirm and withdraw pages.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignatureView {
    pub campaign_slug: String,
    pub campaign_title: String,
    pub given_name: String,
    pub family_name: String,
    /// "UTW Local 102", or None for a community supporter.
    pub local: Option<String>,
    pub show_name: bool,
    pub status: SignatureStatus,
}
