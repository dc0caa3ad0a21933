//! What pages, the JSON API and the browser see: plain serialisable views, no storage
//! types, so they compile to wasm unchanged.

use serde::{Deserialize, Serialize};

use crate::domain::{
    AnnouncementKind, CampaignKind, CampaignStatus, Language, PledgeRule, PledgeState,
    PublicBreakdown, SignatureStatus, WithoutMemberCount,
};

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
    /// The campaign page's full address, for sharing and for the embed snippet.
    pub url: String,
    /// A pledge's threshold rule: when it binds.
    pub pledge: Option<PledgeRule>,
    pub tally: Tally,
    pub series: Series,
    /// The sign form's signed render time (the page only; not in the JSON API).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub form_stamp: Option<String>,
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

/// Confirmed signatures as the public may see them: the total, and the breakdown the
/// campaign chose, with every group smaller than its `smallest_group` folded into
/// `other`, so that no small count can name people to an employer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tally {
    pub total: u64,
    pub goal: Option<u64>,
    pub breakdown: PublicBreakdown,
    pub smallest_group: u64,
    /// With `by_union`: each sponsoring union with enough signers.
    pub by_union: Vec<UnionCount>,
    /// With `by_local`: each local with enough signers, by id.
    pub by_local: Vec<LocalCount>,
    /// Signers of the locals (or unions) too small to show on their own.
    pub other: u64,
    /// Signers who are not members of the sponsoring unions (zero with `total_only`).
    pub community_supporters: u64,
    /// A pledge with a rule: gathering, reached or not reached.
    pub state: Option<PledgeState>,
    /// When the pledge's rule was met (RFC 3339).
    pub reached_at: Option<String>,
    /// The tick of the campaign's cadence the groups (`by_union`, `by_local`, `other`,
    /// `community_supporters`) are counted at (RFC 3339); the total is live.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub breakdown_at: Option<String>,
    pub updated_at: String,
}

impl Default for Tally {
    fn default() -> Self {
        Self {
            total: 0,
            goal: None,
            breakdown: PublicBreakdown::TotalOnly,
            smallest_group: 1,
            by_union: Vec::new(),
            by_local: Vec::new(),
            other: 0,
            community_supporters: 0,
            state: None,
            reached_at: None,
            breakdown_at: None,
            updated_at: String::new(),
        }
    }
}

/// One event of a campaign's live stream, as the hub writes it and the page's island
/// reads it. A `snapshot` is the whole public [`Tally`] (its other fields are skipped
/// here); a `delta` carries the total and only the groups that moved (a group that fell
/// out of view comes with count 0; `other` and `community_supporters` only when they
/// moved, `breakdown_at` only when the cadence ticked).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TallyEvent {
    pub version: u64,
    pub total: u64,
    #[serde(default)]
    pub by_local: Vec<LocalCount>,
    #[serde(default)]
    pub by_union: Vec<UnionCount>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub other: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub community_supporters: Option<u64>,
    /// A snapshot's: where a pledge stands. A delta leaves it as the page shows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<PledgeState>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub breakdown_at: Option<String>,
    #[serde(default)]
    pub updated_at: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocalCount {
    pub local_id: i64,
    /// "UTW Local 102 (Chicago, IL)".
    pub label: String,
    pub count: u64,
    pub member_count: Option<u64>,
    /// A pledge: the pledges this local needs to reach its threshold.
    pub needed: Option<u64>,
    /// A pledge: when this local reached its threshold (RFC 3339).
    pub reached_at: Option<String>,
    /// A pledge: signers who withdrew after the local reached its threshold.
    pub withdrawn_since: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnionCount {
    /// The union's slug.
    pub union: String,
    pub name: String,
    pub count: u64,
}

/// A signer who chose to show their name, as the public list shows them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicName {
    /// Given name and the initial of the family name: "Lucy P."
    pub name: String,
    /// Their local, union, or None (a community supporter, or a campaign that shows
    /// only its total).
    pub group: Option<String>,
}

/// One page of the public list of names, newest first.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NamesPage {
    pub names: Vec<PublicName>,
    /// Where the next (older) page starts, if there is one.
    pub next: Option<String>,
}

/// Confirmed signatures over time, per hour while a campaign is young and per day after.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Series {
    pub unit: SeriesUnit,
    pub points: Vec<SeriesPoint>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SeriesUnit {
    #[default]
    Hour,
    Day,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeriesPoint {
    /// The start of the hour or day, RFC 3339 in UTC.
    pub start: String,
    pub count: u64,
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

/// One day's confirmed signatures, for a trend line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayCount {
    /// `YYYY-MM-DD`.
    pub day: String,
    pub count: u64,
}

/// A signer as their officer or organizer sees them on a dashboard.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignerRow {
    pub given_name: String,
    pub family_name: String,
    /// RFC 3339.
    pub confirmed_at: String,
    /// Entered from a paper sheet.
    pub paper: bool,
}

/// A member count a local had, and who recorded it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberCountEntry {
    pub member_count: u64,
    /// `YYYY-MM-DD`.
    pub as_of: String,
    pub recorded_by: String,
    /// RFC 3339.
    pub recorded_at: String,
}

/// A local's progress on one campaign.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocalProgress {
    pub campaign_slug: String,
    pub campaign_title: String,
    pub campaign_status: CampaignStatus,
    /// Confirmed signatures (by mail and on paper).
    pub confirmed: u64,
    /// Of those, entered from paper.
    pub paper: u64,
    /// "17%" of the member count, if the local has one.
    pub share: Option<String>,
    /// The last 14 days, oldest first.
    pub trend: Vec<DayCount>,
    /// The latest confirmed signers, newest first (none while a sealed pledge's local
    /// has not reached its threshold).
    pub recent: Vec<SignerRow>,
    /// A pledge: where this local stands against its threshold.
    pub pledge: Option<LocalStanding>,
}

/// A local's standing in a pledge, for its officers and the organizers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocalStanding {
    /// The member count the pledge judges the local by, frozen when it opened.
    pub member_count: Option<u64>,
    /// An officer's newer count waiting for an organizer.
    pub proposed_member_count: Option<u64>,
    /// Pledges needed; None when the local cannot reach (no member count).
    pub needed: Option<u64>,
    /// Pledges that count toward it (only verified ones, if the rule says so).
    pub counted: u64,
    /// Confirmed pledges an officer verified.
    pub verified: u64,
    /// Pledges waiting for an officer's verdict.
    pub unreviewed: u64,
    pub reached_at: Option<String>,
    pub withdrawn_since: u64,
    /// Names stay hidden until the local reaches its threshold.
    pub sealed: bool,
}

/// What a local's officer sees: the member count and its history, and the local's
/// progress on every campaign it can sign.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocalDashboard {
    pub local_id: i64,
    pub label: String,
    pub member_count: Option<u64>,
    pub member_count_as_of: Option<String>,
    pub history: Vec<MemberCountEntry>,
    pub campaigns: Vec<LocalProgress>,
}

/// A campaign's signatures by status, within what the viewer may see.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusCounts {
    pub pending: u64,
    pub confirmed: u64,
    /// Of the confirmed, entered from paper.
    pub paper: u64,
    pub withdrawn: u64,
    pub invalidated: u64,
}

/// One local's line on an organizer's dashboard.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocalRow {
    pub local_id: i64,
    pub union: String,
    pub label: String,
    pub confirmed: u64,
    pub member_count: Option<u64>,
    pub share: Option<String>,
    pub pledge: Option<LocalStanding>,
}

/// An announcement to pledgers, as the organizers' dashboard lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnnouncementLine {
    pub id: i64,
    /// "UTW Local 102 (Chicago, IL)", or None for the whole campaign.
    pub scope: Option<String>,
    pub kind: AnnouncementKind,
    pub message: String,
    pub created_at: String,
    pub released_at: Option<String>,
    /// Every pledger and officer concerned has been written to.
    pub finished: bool,
}

/// What an organizer sees of a campaign: counts by status, and the locals by share of
/// membership, highest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CampaignDashboard {
    pub slug: String,
    pub title: String,
    pub status: StatusCounts,
    pub locals: Vec<LocalRow>,
    /// Only for those who see all of the campaign's signers.
    pub community_supporters: Option<u64>,
    /// Whether the viewer may invalidate and restore signatures (organizers, admins).
    pub can_moderate: bool,
    /// Whether the viewer may edit the campaign (its organizers, admins).
    pub can_edit: bool,
    /// A pledge: its rule and where it stands.
    pub pledge: Option<PledgeRule>,
    pub state: Option<PledgeState>,
    pub reached_at: Option<String>,
    /// Announcements to pledgers, for those who may edit the campaign.
    pub announcements: Vec<AnnouncementLine>,
    /// Paper lines whose address had already signed, for those who may edit the
    /// campaign (never for the officer who entered them).
    pub collisions: Vec<CollisionLine>,
}

/// A paper line whose address had already signed the campaign, waiting for an organizer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CollisionLine {
    pub id: i64,
    pub given_name: String,
    pub family_name: String,
    pub email: String,
    /// The local the paper line was entered for.
    pub local: String,
    pub entered_by: String,
    pub entered_at: String,
    /// The local of the signature that had the address first.
    pub earlier_local: String,
    pub earlier_status: SignatureStatus,
    pub earlier_paper: bool,
}

/// One language's text in the campaign editor, with its Markdown rendered as the
/// campaign page shows it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EditorText {
    pub language: String,
    pub version: i32,
    pub title: String,
    pub summary: String,
    pub body: String,
    /// Sanitised HTML, rendered on the server.
    pub preview_html: String,
}

/// What the campaign editor shows.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CampaignEditor {
    pub is_new: bool,
    pub slug: String,
    pub kind: CampaignKind,
    pub addressee: String,
    pub status: CampaignStatus,
    pub goal: Option<i64>,
    /// `YYYY-MM-DDTHH:MM`, UTC.
    pub opens_at: Option<String>,
    pub closes_at: Option<String>,
    /// Union slugs.
    pub sponsors: Vec<String>,
    pub allow_community: bool,
    pub public_breakdown: PublicBreakdown,
    pub smallest_group: i32,
    /// Minutes between moves of the public breakdown.
    pub breakdown_every_minutes: i32,
    pub default_language: String,
    /// Days the signers' details are kept after archiving.
    pub retention_days: i32,
    /// When they were purged, if they were (RFC 3339).
    pub purged_at: Option<String>,
    pub texts: Vec<EditorText>,
    /// Every union: (slug, name).
    pub unions: Vec<(String, String)>,
    /// The locals that may sign, as `union/local` slugs; empty: every sponsor's local.
    pub locals: Vec<String>,
    /// A pledge's rule, as the form shows it.
    pub pledge: PledgeForm,
}

/// A pledge's `[pledge]` settings as the editor shows them (empty text: not set).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PledgeForm {
    /// Percent, such as "60" or "66.67".
    pub share_of_members: String,
    pub signers_per_local: String,
    pub signers_in_all: String,
    pub locals_needed: String,
    pub verified_only: bool,
    pub without_member_count: WithoutMemberCount,
    pub sealed_names: bool,
    pub auto_release: bool,
    pub reached_message: String,
    pub unmet_message: String,
}

/// A union on the admin's page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnionLine {
    pub slug: String,
    pub name: String,
    pub locals: u64,
    /// The sum of its locals' member counts.
    pub members: u64,
}

/// One pledge waiting for a verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueLine {
    pub signature_id: String,
    pub given_name: String,
    pub family_name: String,
    pub email: String,
    pub employer: Option<String>,
    pub confirmed_at: String,
}

/// A local's verification queue on one pledge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerificationQueue {
    pub campaign_slug: String,
    pub local_id: i64,
    pub confirmed: u64,
    pub verified: u64,
    pub not_members: u64,
    pub unreviewed: u64,
    /// Names are sealed until the local reaches its threshold: the list is empty.
    pub sealed: bool,
    pub lines: Vec<QueueLine>,
}
