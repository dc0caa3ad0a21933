//! QR codes drawn on the server as SVG: an authenticator app's key, and a campaign's
//! address for printed flyers.

/// `text` as a QR code, an SVG at least `size` pixels square with a quiet zone.
pub fn svg(text: &str, size: u32) -> Result<String, qrcode::types::QrError> {
    qrcode::QrCode::new(text.as_bytes()).map(|code| {
        code.render::<qrcode::render::svg::Color<'_>>()
            .min_dimensions(size, size)
            .build()
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_campaign_address_draws_as_a_square_svg() {
        let svg = super::svg("https://rollcall.example/c/general-strike-pledge-demo", 600)
            .expect("an address fits");
        assert!(svg.starts_with("<?xml"));
        assert!(svg.contains("<svg") && svg.contains("<path"));
        let width = svg
            .split("width=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap();
        assert!(width.parse::<u32>().unwrap() >= 600);
    }
}
