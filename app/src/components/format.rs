//! Numbers and times the way each language writes them, on the server by ICU and in the
//! browser by its own `Intl`.

use super::*;

/// A count the way the language writes it: "12,345" in English, "12.345" in Spanish
/// (and "1840" in Spanish, which groups only from five digits). On the server by ICU's
/// formatter, in the browser by its own `Intl`: both follow CLDR, so a live update
/// writes a number the way the page first did.
pub fn format_count(n: u64, language: Language) -> String {
    numbers::format(n, language)
}

/// Whether `n` takes the singular in `language` ("1 signature", "1 firma"), by CLDR's
/// plural rules: ICU's on the server, the browser's `Intl.PluralRules` in it.
pub fn is_one(n: u64, language: Language) -> bool {
    numbers::is_one(n, language)
}

/// A date ("2026-11-27", or the date of an RFC 3339 instant) as `language` writes it:
/// "Nov 27, 2026", "27 nov 2026". Anything else is shown as it came.
pub fn format_date(when: &str, language: Language) -> String {
    numbers::date(when, language, false).unwrap_or_else(|| when.to_owned())
}

/// An RFC 3339 instant with its time, in UTC: "Nov 27, 2026, 2:05 PM UTC", "27 nov 2026,
/// 14:05 UTC".
pub fn format_instant(when: &str, language: Language) -> String {
    numbers::date(when, language, true).unwrap_or_else(|| when.to_owned())
}

#[cfg(feature = "ssr")]
mod numbers {
    use chrono::{DateTime, Datelike, NaiveDate, Timelike, Utc};
    use icu_datetime::DateTimeFormatter;
    use icu_datetime::fieldsets::{YMD, YMDT};
    use icu_datetime::input::{Date, Time};
    use icu_decimal::{DecimalFormatter, input::Decimal};
    use icu_plurals::{PluralCategory, PluralRules};
    use leptos_i18n::Locale as _;
    use rollcall::domain::Language;

    /// ICU's formatters for one language, made once per worker thread (they are not
    /// `Sync`, and cost nothing to keep).
    struct Formatters {
        decimal: Option<DecimalFormatter>,
        plurals: Option<PluralRules>,
        date: Option<DateTimeFormatter<YMD>>,
        instant: Option<DateTimeFormatter<YMDT>>,
    }

    impl Formatters {
        fn new(language: Language) -> Self {
            let locale = language.locale().as_icu_locale();
            Self {
                decimal: DecimalFormatter::try_new(locale.into(), Default::default()).ok(),
                plurals: PluralRules::try_new_cardinal(locale.into()).ok(),
                date: DateTimeFormatter::try_new(locale.into(), YMD::medium()).ok(),
                instant: DateTimeFormatter::try_new(locale.into(), YMD::medium().with_time_hm())
                    .ok(),
            }
        }
    }

    thread_local! {
        static FORMATTERS: [Formatters; 2] = [Formatters::new(Language::En), Formatters::new(Language::Es)];
    }

    fn with<T>(language: Language, f: impl FnOnce(&Formatters) -> T) -> T {
        let index = match language {
            Language::En => 0,
            Language::Es => 1,
        };
        FORMATTERS.with(|formatters| f(&formatters[index]))
    }

    pub fn format(n: u64, language: Language) -> String {
        with(language, |f| match &f.decimal {
            Some(formatter) => formatter.format(&Decimal::from(n)).to_string(),
            None => n.to_string(),
        })
    }

    pub fn is_one(n: u64, language: Language) -> bool {
        with(language, |f| {
            f.plurals
                .as_ref()
                .map_or(n == 1, |rules| rules.category_for(n) == PluralCategory::One)
        })
    }

    pub fn date(when: &str, language: Language, with_time: bool) -> Option<String> {
        let instant = DateTime::parse_from_rfc3339(when)
            .ok()
            .map(|at| at.with_timezone(&Utc));
        let day = match instant {
            Some(at) => at.date_naive(),
            None => NaiveDate::parse_from_str(when, "%Y-%m-%d").ok()?,
        };
        let date = Date::try_new_iso(day.year(), day.month() as u8, day.day() as u8).ok()?;
        with(language, |f| match (with_time, instant) {
            (true, Some(at)) => {
                let time = Time::try_new(at.hour() as u8, at.minute() as u8, 0, 0).ok()?;
                let formatter = f.instant.as_ref()?;
                let when = icu_datetime::input::DateTime { date, time };
                Some(format!("{} UTC", formatter.format(&when)))
            }
            _ => Some(f.date.as_ref()?.format(&date).to_string()),
        })
    }
}

#[cfg(all(feature = "hydrate", not(feature = "ssr")))]
mod numbers {
    use js_sys::{Array, Intl, Object, Reflect};
    use leptos::wasm_bindgen::JsValue;
    use rollcall::domain::Language;

    fn locales(language: Language) -> Array {
        Array::of1(&language.code().into())
    }

    pub fn format(n: u64, language: Language) -> String {
        Intl::NumberFormat::new(&locales(language), &Object::new())
            .format()
            .call1(&JsValue::NULL, &(n as f64).into())
            .ok()
            .and_then(|text| text.as_string())
            .unwrap_or_else(|| n.to_string())
    }

    pub fn is_one(n: u64, language: Language) -> bool {
        Intl::PluralRules::new(&locales(language), &Object::new())
            .select(n as f64)
            .as_string()
            .map_or(n == 1, |category| category == "one")
    }

    pub fn date(when: &str, language: Language, with_time: bool) -> Option<String> {
        let at = js_sys::Date::new(&when.into());
        if at.get_time().is_nan() {
            return None;
        }
        let options = Object::new();
        let set = |key: &str, value: &str| Reflect::set(&options, &key.into(), &value.into()).ok();
        set("dateStyle", "medium")?;
        set("timeZone", "UTC")?;
        if with_time && when.contains('T') {
            set("timeStyle", "short")?;
        }
        let text = Intl::DateTimeFormat::new(&locales(language), &options)
            .format()
            .call1(&JsValue::NULL, &at)
            .ok()?
            .as_string()?;
        Some(if with_time && when.contains('T') {
            format!("{text} UTC")
        } else {
            text
        })
    }
}

#[cfg(not(any(feature = "ssr", feature = "hydrate")))]
mod numbers {
    pub fn format(n: u64, _: rollcall::domain::Language) -> String {
        n.to_string()
    }
}
