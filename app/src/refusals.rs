//! The few answers the server's own layers give people before a page is reached, in
//! the reader's language: the "please wait" page of a rate-limited form, and the
//! refusal of a form posted from another site.

use rollcall::domain::Language;
use rollcall::i18n::td_string;

use crate::components::format_count;

/// The page a person sees when their form was one too many from their address: what
/// happened, that nothing was saved, how long to wait, and the way back. `back` must
/// already be a safe path (the caller keeps only our own paths, without quotes or
/// angle brackets).
pub fn busy_page(language: Language, retry_after_secs: u64, back: &str) -> String {
    let locale = language.locale();
    let minutes = retry_after_secs.div_ceil(60);
    let count = format_count(minutes, language);
    let wait = crate::td_count!(
        language,
        minutes,
        busy.try_again_single | try_again,
        minutes = count
    );
    format!(
        "<!DOCTYPE html><html lang=\"{lang}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} · Rollcall</title></head><body><main>\
         <h1>{title}</h1><p>{crowded}</p><p>{wait}</p>\
         <p><a href=\"{back}\">{go_back}</a></p></main></body></html>",
        lang = language.code(),
        title = td_string!(locale, busy.title),
        crowded = td_string!(locale, busy.crowded),
        go_back = td_string!(locale, busy.go_back),
    )
}

/// Why a form posted from another site was refused.
pub fn cross_site(language: Language) -> &'static str {
    td_string!(language.locale(), busy.cross_site)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wait_is_said_in_the_readers_language() {
        let page = busy_page(Language::Es, 60, "/c/demo");
        assert!(page.contains("<html lang=\"es\""));
        assert!(page.contains("en 1 minuto."), "{page}");
        assert!(page.contains("href=\"/c/demo\""));
        assert!(busy_page(Language::En, 61, "/").contains("in 2 minutes."));
    }
}
