//! A campaign's Markdown text as safe HTML for pages, as plain text for mail, and its
//! fingerprint, which records exactly which wording a signer agreed to.

use std::fmt::Write as _;

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};
use sha2::{Digest, Sha256};

fn markdown_options() -> Options {
    Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH
}

/// HTML with everything that could run script or restyle the page removed, and no image
/// from another site: a remote image in a receipt or on a page tells its server who
/// opened it, and when.
pub fn render_markdown(md: &str) -> String {
    let mut html = String::with_capacity(md.len() * 3 / 2);
    // A remote Markdown image becomes its alt text, which its events already carry;
    // `dropped` says, per open image, whether its end goes too.
    let mut dropped: Vec<bool> = Vec::new();
    let events = Parser::new_ext(md, markdown_options()).filter(|event| match event {
        Event::Start(Tag::Image { dest_url, .. }) => {
            let remote = !is_same_site_path(dest_url);
            dropped.push(remote);
            !remote
        }
        Event::End(TagEnd::Image) => !dropped.pop().unwrap_or(false),
        _ => true,
    });
    pulldown_cmark::html::push_html(&mut html, events);
    ammonia::Builder::default()
        .link_rel(Some("noopener noreferrer"))
        // Raw HTML images keep a `src` only when it is a path on this site.
        .attribute_filter(|element, attribute, value| {
            if element == "img" && attribute == "src" && !is_same_site_path(value) {
                None
            } else {
                Some(value.into())
            }
        })
        .clean(&html)
        .to_string()
}

/// `/path` on this site; not `//host/...` or `/\\host/...`, which browsers read as
/// another site (also with tabs or newlines between, which browsers skip), nor any URL
/// with a scheme.
pub fn is_same_site_path(target: &str) -> bool {
    let mut chars = target.chars().filter(|c| !matches!(c, '\t' | '\n' | '\r'));
    chars.next() == Some('/') && !matches!(chars.next(), Some('/' | '\\'))
}

/// The hex SHA-256 of a campaign's text as shown to signers.
pub fn text_sha256(title: &str, summary: &str, body: &str) -> String {
    sha256_hex(&[
        title.as_bytes(),
        b"\n\n",
        summary.as_bytes(),
        b"\n\n",
        body.as_bytes(),
    ])
}

/// Lower-case hex SHA-256 of the concatenated parts.
pub(crate) fn sha256_hex(parts: &[&[u8]]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part);
    }
    format!("{:x}", hasher.finalize())
}

/// Markdown as plain text for mail: blocks separated by blank lines, list items marked,
/// link targets kept in angle brackets so they still work, raw HTML dropped.
pub fn markdown_to_plain(md: &str) -> String {
    let mut out = String::with_capacity(md.len());
    // The next number of each open list, `None` for bulleted ones.
    let mut lists: Vec<Option<u64>> = Vec::new();
    let mut links: Vec<(String, usize)> = Vec::new();
    for event in Parser::new_ext(md, markdown_options()) {
        match event {
            Event::Text(text) | Event::Code(text) => out.push_str(&text),
            Event::SoftBreak | Event::HardBreak => out.push('\n'),
            Event::Rule => {
                end_block(&mut out);
                out.push_str("---");
                end_block(&mut out);
            }
            Event::Start(Tag::List(first)) => {
                start_line(&mut out);
                lists.push(first);
            }
            Event::End(TagEnd::List(_)) => {
                lists.pop();
                if lists.is_empty() {
                    end_block(&mut out);
                }
            }
            Event::Start(Tag::Item) => {
                start_line(&mut out);
                out.push_str(&"  ".repeat(lists.len().saturating_sub(1)));
                match lists.last_mut() {
                    Some(Some(number)) => {
                        let _ = write!(out, "{number}. ");
                        *number += 1;
                    }
                    _ => out.push_str("- "),
                }
            }
            Event::End(TagEnd::Item | TagEnd::TableHead | TagEnd::TableRow) => {
                start_line(&mut out);
            }
            Event::Start(Tag::TableCell) if !at_line_start(&out) => out.push_str(" | "),
            Event::Start(Tag::Link { dest_url, .. }) => {
                links.push((dest_url.into_string(), out.len()))
            }
            Event::End(TagEnd::Link) => {
                // Autolinks already show their target.
                if let Some((url, start)) = links.pop()
                    && out[start..] != *url.strip_prefix("mailto:").unwrap_or(&url)
                {
                    let _ = write!(out, " <{url}>");
                }
            }
            Event::End(
                TagEnd::Paragraph
                | TagEnd::Heading(_)
                | TagEnd::CodeBlock
                | TagEnd::BlockQuote(_)
                | TagEnd::Table,
            ) => {
                // Inside a list a block ends only its line, so items stay together.
                if lists.is_empty() {
                    end_block(&mut out);
                } else {
                    start_line(&mut out);
                }
            }
            _ => {}
        }
    }
    out.trim().to_owned()
}

fn at_line_start(out: &str) -> bool {
    out.is_empty() || out.ends_with('\n')
}

fn start_line(out: &mut String) {
    if !at_line_start(out) {
        out.push('\n');
    }
}

fn end_block(out: &mut String) {
    if !out.is_empty() {
        while !out.ends_with("\n\n") {
            out.push('\n');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn markdown_becomes_html_with_tables_and_strikethrough() {
        let html =
            render_markdown("# Fair pay\n\n~~old~~ new\n\n| a | b |\n|---|---|\n| 1 | 2 |\n");
        assert!(html.contains("<h1>Fair pay</h1>"), "{html}");
        assert!(html.contains("<del>old</del>"), "{html}");
        assert!(html.contains("<td>1</td>"), "{html}");
    }

    #[test]
    fn script_and_event_handlers_are_removed_from_rendered_markdown() {
        let html = render_markdown(
            "<script>alert(1)</script>\n\n<img src=x onerror=alert(1)>\n\n[x](javascript:alert(1))",
        );
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("onerror"), "{html}");
        assert!(!html.contains("javascript:"), "{html}");
    }

    #[test]
    fn no_image_from_another_site_is_rendered() {
        let html = render_markdown(
            "![x](https://evil.example/p.png) ![y](//evil.example/q.png) \
             <img src=\"http://evil.example/r.png\"> ![ok](/pkg/logo.png)",
        );
        assert!(!html.contains("evil.example"), "{html}");
        assert!(html.contains("x"), "the alt text stays: {html}");
        assert!(html.contains(r#"src="/pkg/logo.png""#), "{html}");
    }

    #[test]
    fn only_a_single_slash_path_is_same_site() {
        assert!(is_same_site_path("/c/joint"));
        assert!(is_same_site_path("/"));
        for other in [
            "//evil.example",
            "/\t/evil.example",
            " //evil.example",
            "/\\evil.example",
            "https://evil.example/",
            "",
            "c/x",
            "javascript:x",
        ] {
            assert!(!is_same_site_path(other), "{other}");
        }
    }

    #[test]
    fn links_open_without_giving_the_target_page_a_handle_on_ours() {
        let html = render_markdown("[union](https://example.org/)");
        assert_eq!(
            html.trim(),
            r#"<p><a href="https://example.org/" rel="noopener noreferrer">union</a></p>"#
        );
    }

    #[test]
    fn the_text_fingerprint_covers_title_summary_and_body_in_order() {
        assert_eq!(
            text_sha256("Pay parity", "Summary", "Body"),
            "8df087b47ec06341d009b4e292d56e86dbfa4309ba6469f4cc0808149304f620"
        );
        assert_ne!(
            text_sha256("Pay parity", "Summary", "Body"),
            text_sha256("Pay parity", "Body", "Summary")
        );
    }

    #[test]
    fn plain_text_keeps_paragraphs_lists_and_link_targets() {
        let md = "# We demand\n\nFair *pay* and `safe` staffing.\nNow.\n\n\
                  - one\n- two\n  1. first\n  2. second\n\n\
                  See [the contract](https://example.org/c), <https://example.org> or <ann@example.org>.\n\n\
                  Now <b>together</b>.\n\n---\n\nEnd";
        assert_eq!(
            markdown_to_plain(md),
            "We demand\n\nFair pay and safe staffing.\nNow.\n\n\
             - one\n- two\n  1. first\n  2. second\n\n\
             See the contract <https://example.org/c>, https://example.org or ann@example.org.\n\n\
             Now together.\n\n---\n\nEnd"
        );
    }

    #[test]
    fn plain_text_of_a_table_separates_cells_with_bars() {
        let md = "| a | b |\n|---|---|\n| 1 | 2 |\n\nAfter";
        assert_eq!(markdown_to_plain(md), "a | b\n1 | 2\n\nAfter");
    }

    #[test]
    fn plain_text_of_a_loose_list_keeps_its_items_apart() {
        assert_eq!(
            markdown_to_plain("- one\n\n- two\n\nAfter"),
            "- one\n- two\n\nAfter"
        );
    }

    proptest! {
        #[test]
        fn rendering_any_markdown_never_panics(md in any::<String>()) {
            let _ = render_markdown(&md);
            let _ = markdown_to_plain(&md);
        }

        #[test]
        fn rendered_markdown_never_contains_a_script_tag(md in "(<script>|<SCRIPT |[a-z <>/*\\[\\]()#\n-])*") {
            prop_assert!(!render_markdown(&md).to_lowercase().contains("<script"));
        }
    }
}
