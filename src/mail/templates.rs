//! What each mail says, in the signer's language. Subjects name neither union nor local:
//! phones show them on lock screens. No tracking pixels, no redirecting links.

use ammonia::clean_text as escape;

use super::MailDraft;
use crate::domain::Language;

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
pub fn confirm_request(
    to: &str,
    language: Language,
    given_name: &str,
    campaign_title: &str,
    confirm_url: &str,
    valid_days: i64,
) -> MailDraft {
    let (subject, greeting, ask, button, expiry, ignore) = match language {
        Language::En => (
            "Please confirm your signature".to_owned(),
            format!("Hello {given_name},"),
            format!("You signed “{campaign_title}”. It counts once you confirm it:"),
            "Confirm my signature",
            format!("The link works for {valid_days} days."),
            "If you did not sign, ignore this mail and nothing will be counted.",
        ),
        Language::Es => (
            "Confirme su firma".to_owned(),
            format!("Hola {given_name}:"),
            format!("Usted firmó «{campaign_title}». Su firma cuenta cuando la confirme:"),
            "Confirmar mi firma",
            format!("El enlace funciona durante {valid_days} días."),
            "Si usted no firmó, ignore este correo y no se contará nada.",
        ),
    };
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

/// The mail sent when someone signs again with an address that has already confirmed.
pub fn already_signed(
    to: &str,
    language: Language,
    given_name: &str,
    campaign_title: &str,
    campaign_url: &str,
) -> MailDraft {
    let (subject, greeting, said, ignore) = match language {
        Language::En => (
            "You have already signed".to_owned(),
            format!("Hello {given_name},"),
            format!("Your signature on “{campaign_title}” is already confirmed and counted."),
            "Someone, perhaps you, tried to sign again with this address. Nothing changed.",
        ),
        Language::Es => (
            "Usted ya firmó".to_owned(),
            format!("Hola {given_name}:"),
            format!("Su firma en «{campaign_title}» ya está confirmada y contada."),
            "Alguien, quizá usted, intentó firmar de nuevo con esta dirección. Nada cambió.",
        ),
    };
    let text = format!("{greeting}\n\n{said}\n\n{ignore}\n\n{campaign_url}\n");
    let html = html_page(&[
        escape(&greeting),
        escape(&said),
        escape(ignore),
        link_html(campaign_url, campaign_url),
    ]);
    MailDraft::new("already_signed", to, subject, text, html)
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
    let (subject, greeting, counted, visibility, withdraw, text_heading) = match language {
        Language::En => (
            "Your signature is confirmed".to_owned(),
            format!("Hello {given_name},"),
            format!("Thank you. Your signature on “{campaign_title}” is confirmed and counted."),
            if show_name {
                "You chose to show your name: it appears in the public list of signers, \
                 with your local. The campaign's organizers can see your details."
            } else {
                "Your name is not shown to the public. Only the campaign's organizers \
                 and your local's officers can see it."
            },
            "You can withdraw your signature at any time here:",
            "The text you signed:",
        ),
        Language::Es => (
            "Su firma está confirmada".to_owned(),
            format!("Hola {given_name}:"),
            format!("Gracias. Su firma en «{campaign_title}» está confirmada y contada."),
            if show_name {
                "Usted eligió mostrar su nombre: aparece en la lista pública de firmantes, \
                 con su local. Los organizadores de la campaña pueden ver sus datos."
            } else {
                "Su nombre no se muestra al público. Solo los organizadores de la campaña \
                 y los dirigentes de su local pueden verlo."
            },
            "Puede retirar su firma en cualquier momento aquí:",
            "El texto que firmó:",
        ),
    };
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

/// The invitation to an account: a single-use link to set a password.
pub fn invitation(to: &str, link: &str, valid_days: i64) -> MailDraft {
    let subject = "Your Rollcall account".to_owned();
    let ask = "You have been invited to help run campaigns on Rollcall. Set your password here:";
    let expiry = format!(
        "The link works once, for {valid_days} days. You will also set up an authenticator app, because this account can see who signed."
    );
    let ignore =
        "If you did not expect this, ignore this mail: nothing happens until the link is used.";
    let text = format!("{ask}\n\n{link}\n\n{expiry}\n\n{ignore}\n");
    let html = html_page(&[
        escape(ask),
        link_html(link, "Set my password"),
        escape(&expiry),
        escape(ignore),
    ]);
    MailDraft::new("invitation", to, subject, text, html)
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
    let (subject, what) = match (language, news) {
        (Language::En, AnnouncementNews::LocalReached) => (
            "News about your pledge",
            format!("Your local has reached the threshold of “{campaign_title}”."),
        ),
        (Language::En, AnnouncementNews::CampaignReached) => (
            "News about your pledge",
            format!("“{campaign_title}” has reached its threshold."),
        ),
        (Language::En, AnnouncementNews::Unmet) => (
            "News about your pledge",
            format!(
                "The deadline of “{campaign_title}” has passed without reaching its threshold."
            ),
        ),
        (Language::Es, AnnouncementNews::LocalReached) => (
            "Noticias sobre su compromiso",
            format!("Su local ha alcanzado el umbral de «{campaign_title}»."),
        ),
        (Language::Es, AnnouncementNews::CampaignReached) => (
            "Noticias sobre su compromiso",
            format!("«{campaign_title}» ha alcanzado su umbral."),
        ),
        (Language::Es, AnnouncementNews::Unmet) => (
            "Noticias sobre su compromiso",
            format!("El plazo de «{campaign_title}» terminó sin alcanzar su umbral."),
        ),
    };
    let from = match language {
        Language::En => "From the organizers:",
        Language::Es => "De parte de los organizadores:",
    };
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
