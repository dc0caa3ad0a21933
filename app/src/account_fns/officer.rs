//! Server functions a local's officer calls: the local's dashboard, its member count and
//! paper signatures.

use super::*;

#[cfg(feature = "ssr")]
pub(super) fn dashboard_error(
    err: rollcall::organizing::dashboards::DashboardError,
) -> AccountFormError {
    use rollcall::organizing::dashboards::DashboardError;
    match err {
        DashboardError::NotFound => AccountFormError::NotFound,
        DashboardError::Forbidden => AccountFormError::Forbidden,
        DashboardError::Db(err) => unexpected(err),
    }
}

/// A local's dashboard, for its officers and admins.
#[server(endpoint = "local_dashboard")]
pub async fn local_dashboard(
    local_id: i64,
) -> Result<rollcall::views::LocalDashboard, AccountFormError> {
    let state = state()?;
    let caller = caller(&state).await?;
    rollcall::organizing::dashboards::local_dashboard(
        &state.db,
        &caller,
        local_id,
        chrono::Utc::now(),
    )
    .await
    .map_err(dashboard_error)
}

/// An officer sets their local's member count as of a date.
#[server(endpoint = "set_member_count")]
pub async fn set_member_count(
    local_id: i64,
    member_count: String,
    as_of: String,
) -> Result<(), AccountFormError> {
    use rollcall::organizing::membership::MemberCountError;
    let state = state()?;
    let caller = caller(&state).await?;
    let count = member_count
        .trim()
        .replace([',', ' '], "")
        .parse::<i64>()
        .map_err(|_| AccountFormError::InvalidMemberCount)?;
    let as_of = chrono::NaiveDate::parse_from_str(as_of.trim(), "%Y-%m-%d")
        .map_err(|_| AccountFormError::InvalidMemberCount)?;
    match rollcall::organizing::membership::set_member_count(
        &state.db,
        &caller,
        local_id,
        count,
        as_of,
        chrono::Utc::now(),
    )
    .await
    {
        Ok(()) => {
            leptos_axum::redirect(&format!("/local/{local_id}?saved=1"));
            Ok(())
        }
        Err(MemberCountError::UnknownLocal) => Err(AccountFormError::NotFound),
        Err(MemberCountError::Forbidden) => Err(AccountFormError::Forbidden),
        Err(MemberCountError::Invalid | MemberCountError::FutureDate) => {
            Err(AccountFormError::InvalidMemberCount)
        }
        Err(MemberCountError::Db(err)) => Err(unexpected(err)),
    }
}

#[cfg(feature = "ssr")]
pub(super) async fn enter_lines(
    local_id: i64,
    slug: &str,
    lines: &[rollcall::domain::PaperInput],
) -> Result<(), AccountFormError> {
    use rollcall::signing::paper::PaperError;
    let state = state()?;
    let caller = caller(&state).await?;
    match rollcall::signing::paper::enter(
        &state.db,
        &caller,
        slug,
        local_id,
        lines,
        rollcall::signing::paper::Notice {
            public_url: &state.public_url,
            limits: state.mail_limits,
        },
        state.clock.now(),
    )
    .await
    {
        Ok(entered) => {
            // Mail goes to owners of addresses that had signed, if any did.
            state.bells().apply(entered.effects());
            // The lines received, never whether any address had signed before.
            leptos_axum::redirect(&format!("/local/{local_id}?entered={}", entered.entered));
            Ok(())
        }
        Err(PaperError::UnknownCampaign) => Err(AccountFormError::NotFound),
        Err(PaperError::Forbidden) => Err(AccountFormError::Forbidden),
        Err(PaperError::NotSigning) => Err(AccountFormError::NotSigning),
        Err(PaperError::Closed) => Err(AccountFormError::Closed),
        Err(err @ (PaperError::Unreadable { .. } | PaperError::TooLong)) => Err(sheet_error(err)),
        Err(PaperError::Invalid(lines)) => Err(AccountFormError::PaperLines(lines)),
        Err(PaperError::Db(err)) => Err(unexpected(err)),
    }
}

/// One signature from a paper sheet.
#[server(endpoint = "enter_paper")]
pub async fn enter_paper(
    local_id: i64,
    slug: String,
    given_name: String,
    family_name: String,
    #[server(default)] email: String,
    #[server(default)] postal_code: String,
    #[server(default)] phone: String,
    #[server(default)] employer: String,
) -> Result<(), AccountFormError> {
    let line = rollcall::domain::PaperInput {
        given_name,
        family_name,
        email,
        postal_code,
        phone,
        employer,
    };
    enter_lines(local_id, &slug, &[line]).await
}

/// A whole paper sheet as CSV (docs/formats.md), pasted or read from a file.
#[server(endpoint = "upload_paper")]
pub async fn upload_paper(
    local_id: i64,
    slug: String,
    sheet: String,
) -> Result<(), AccountFormError> {
    let lines = rollcall::signing::paper::read_sheet(&sheet).map_err(sheet_error)?;
    enter_lines(local_id, &slug, &lines).await
}

/// A sheet that could not be read, or is too long. (Reading a sheet fails no other way.)
#[cfg(feature = "ssr")]
fn sheet_error(err: rollcall::signing::paper::PaperError) -> AccountFormError {
    use rollcall::signing::paper::{MAX_LINES, PaperError};
    AccountFormError::Unreadable(match err {
        PaperError::Unreadable { line } => UploadProblem::Csv { line },
        PaperError::TooLong => UploadProblem::TooLong { most: MAX_LINES },
        other => return unexpected(other),
    })
}
