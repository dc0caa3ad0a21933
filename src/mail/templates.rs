//! What each mail says, in the signer's language. Subjects name neither union nor local:
//! phones show them on lock screens. No tracking pixels, no redirecting links.

use ammonia::clean_text as escape;

use super::MailDraft;
use crate::domain::Language;
use crate::i18n::td_string;

fn html_page(paragraphs: &[String]) -> String {
    let body: String = paragraphs.iter().map(|p| format!("<p>{p}</p>\n")).collect();
    format!(
        "<!doctype html>\n<html><body style=\"font-family: sans-serif; line-height: 1.5; \
         max-width: 36em\">\n{body}</body></html>\n"
    )
}

fn link_html(url: &str, label: &str) -> String {
    format!("<a href=\"{}\">{}</a>", escape(url), escape(label))
}

/// The mail that asks a signer to confirm, with the link to the confirm page.
///
/// Nothing the sign request supplied goes in (no name, no local): anyone can type any
/// address into the form, and this mail must not carry their words to it.
pub fn confirm_request(
    to: &str,
    language: Language,
    campaign_title: &str,
    confirm_url: &str,
    valid_days: i64,
) -> MailDraft {
    let locale = language.locale();
    let subject = td_string!(locale, mail.confirm_subject).to_owned();
    let greeting = td_string!(locale, mail.hello_anyone).to_string();
    let ask = td_string!(locale, mail.confirm_ask, title = campaign_title).to_string();
    let button = td_string!(locale, mail.confirm_button);
    let expiry = td_string!(locale, mail.confirm_expiry, days = valid_days).to_string();
    let ignore = td_string!(locale, mail.confirm_ignore);
    let text = format!("{greeting}\n\n{ask}\n\n{confirm_url}\n\n{expiry}\n\n{ignore}\n");
    let html = html_page(&[
        escape(&greeting),
        escape(&ask),
        link_html(confirm_url, button),
        escape(&expiry),
        escape(ignore),
    ]);
    MailDraft::new("confirm", to, subject, text, html)
}

/// The mail sent when someone signs again with an address that has already confirmed;
/// like the confirmation request, it carries nothing the request supplied.
pub fn already_signed(
    to: &str,
    language: Language,
    campaign_title: &str,
    campaign_url: &str,
) -> MailDraft {
    let locale = language.locale();
    let subject = td_string!(locale, mail.already_subject).to_owned();
    let greeting = td_string!(locale, mail.hello_anyone).to_string();
    let said = td_string!(locale, mail.already_said, title = campaign_title).to_string();
    let ignore = td_string!(locale, mail.already_ignore);
    let text = format!("{greeting}\n\n{said}\n\n{ignore}\n\n{campaign_url}\n");
    let html = html_page(&[
        escape(&greeting),
        escape(&said),
        escape(ignore),
        link_html(campaign_url, campaign_url),
    ]);
    MailDraft::new("already_signed", to, subject, text, html)
}

/// Tells the owner of an address that an officer entered it on a paper sheet although
/// it had already signed: the organizers review the paper line, and the earlier
/// signature stands. Sent to the address, never shown to the officer.
pub fn entered_on_paper(
    to: &str,
    language: Language,
    given_name: &str,
    campaign_title: &str,
    campaign_url: &str,
) -> MailDraft {
    let locale = language.locale();
    let subject = td_string!(locale, mail.paper_subject).to_owned();
    let greeting = td_string!(locale, mail.hello, name = given_name).to_string();
    let said = td_string!(locale, mail.paper_said, title = campaign_title).to_string();
    let review = td_string!(locale, mail.paper_review);
    let text = format!("{greeting}\n\n{said}\n\n{review}\n\n{campaign_url}\n");
    let html = html_page(&[
        escape(&greeting),
        escape(&said),
        escape(review),
        link_html(campaign_url, campaign_url),
    ]);
    MailDraft::new("entered_on_paper", to, subject, text, html)
}

/// What the receipt needs to say: the exact text signed and who can see the name.
pub struct ReceiptDetails<'a> {
    pub language: Language,
    pub given_name: &'a str,
    pub campaign_title: &'a str,
    pub campaign_url: &'a str,
    pub text_plain: &'a str,
    pub text_html: &'a str,
    pub show_name: bool,
    pub withdraw_url: &'a str,
}

/// The receipt a signer keeps after confirming.
pub fn receipt(to: &str, details: &ReceiptDetails<'_>) -> MailDraft {
    let ReceiptDetails {
        language,
        given_name,
        campaign_title,
        campaign_url,
        text_plain,
        text_html,
        show_name,
        withdraw_url,
    } = *details;
    let locale = language.locale();
    let subject = td_string!(locale, mail.receipt_subject).to_owned();
    let greeting = td_string!(locale, mail.hello, name = given_name).to_string();
    let counted = td_string!(locale, mail.receipt_counted, title = campaign_title).to_string();
    let visibility = if show_name {
        td_string!(locale, mail.receipt_shown)
    } else {
        td_string!(locale, mail.receipt_hidden)
    };
    let withdraw = td_string!(locale, mail.receipt_withdraw);
    let text_heading = td_string!(locale, mail.receipt_text);
    let text = format!(
        "{greeting}\n\n{counted}\n\n{visibility}\n\n{withdraw}\n{withdraw_url}\n\n\
         {text_heading}\n\n{campaign_title}\n\n{text_plain}\n\n{campaign_url}\n"
    );
    let html = html_page(&[
        escape(&greeting),
        escape(&counted),
        escape(visibility),
        format!(
            "{} {}",
            escape(withdraw),
            link_html(withdraw_url, withdraw_url)
        ),
        format!(
            "<strong>{}</strong></p><blockquote><h2>{}</h2>{text_html}</blockquote><p>{}",
            escape(text_heading),
            escape(campaign_title),
            link_html(campaign_url, campaign_url)
        ),
    ]);
    MailDraft::new("receipt", to, subject, text, html)
}

/// The invitation to an account: a single-use link to set a password, in the language
/// the inviting admin chose for it.
pub fn invitation(to: &str, link: &str, valid_days: i64, language: Language) -> MailDraft {
    let locale = language.locale();
    let subject = td_string!(locale, mail.invite_subject).to_owned();
    let ask = td_string!(locale, mail.invite_ask);
    let expiry = td_string!(locale, mail.invite_expiry, days = valid_days).to_string();
    let ignore = td_string!(locale, mail.invite_ignore);
    let text = format!("{ask}\n\n{link}\n\n{expiry}\n\n{ignore}\n");
    let html = html_page(&[
        escape(ask),
        link_html(link, td_string!(locale, mail.invite_button)),
        escape(&expiry),
        escape(ignore),
    ]);
    MailDraft::new("invitation", to, subject, text, html)
}

/// Told to the owner of an account that `count` wrong codes locked for `minutes`:
/// someone has their password.
pub fn account_locked(to: &str, count: i32, minutes: i64, language: Language) -> MailDraft {
    let locale = language.locale();
    let subject = td_string!(locale, mail.locked_subject).to_owned();
    let body = td_string!(locale, mail.locked_body, count, minutes).to_string();
    let advice = td_string!(locale, mail.locked_advice);
    let text = format!("{body}\n\n{advice}\n");
    let html = html_page(&[escape(&body), escape(advice)]);
    MailDraft::new("account_locked", to, subject, text, html)
}

/// What an announcement says about: a threshold reached, or a deadline passed unmet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnnouncementNews {
    /// The signer's local reached its threshold.
    LocalReached,
    /// The whole pledge reached its rule.
    CampaignReached,
    /// The deadline passed without the rule being met.
    Unmet,
}

/// The organizer's announcement to a pledger (or an officer). The subject names neither
/// the campaign's unions nor the local; the organizer's message is plain text.
pub fn announcement(
    to: &str,
    language: Language,
    news: AnnouncementNews,
    campaign_title: &str,
    message: &str,
    campaign_url: &str,
) -> MailDraft {
    let locale = language.locale();
    let subject = td_string!(locale, mail.news_subject);
    let what = match news {
        AnnouncementNews::LocalReached => {
            td_string!(locale, mail.news_local, title = campaign_title)
        }
        AnnouncementNews::CampaignReached => {
            td_string!(locale, mail.news_campaign, title = campaign_title)
        }
        AnnouncementNews::Unmet => td_string!(locale, mail.news_unmet, title = campaign_title),
    }
    .to_string();
    let from = td_string!(locale, mail.news_from);
    let text = format!("{what}\n\n{from}\n\n{message}\n\n{campaign_url}\n");
    let mut paragraphs = vec![escape(&what), escape(from)];
    paragraphs.extend(
        message
            .split("\n\n")
            .map(|paragraph| escape(paragraph).replace('\n', "<br>")),
    );
    paragraphs.push(link_html(campaign_url, campaign_url));
    MailDraft::new(
        "announcement",
        to,
        subject.to_owned(),
        text,
        html_page(&paragraphs),
    )
}
