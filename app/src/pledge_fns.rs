//! Server functions behind a pledge's work: an organizer releases announcements and
//! decides on officers' new member counts; an officer verifies their local's pledges, one
//! by one or against the local's member list. Each goes through a `rollcall` service
//! that checks the caller's role itself.

use leptos::prelude::*;

use crate::account_fns::AccountFormError;
#[cfg(feature = "ssr")]
use crate::account_fns::{CampaignProblem, UploadProblem, caller, state, unexpected};

#[cfg(feature = "ssr")]
fn refused(problem: CampaignProblem) -> AccountFormError {
    AccountFormError::Campaign(problem)
}

/// An organizer releases an announcement with the message pledgers will get.
#[server(endpoint = "release_announcement")]
pub async fn release_announcement(
    slug: String,
    announcement_id: i64,
    message: String,
) -> Result<(), AccountFormError> {
    use rollcall::pledges::announcing::ReleaseError;
    let state = state()?;
    let caller = caller(&state).await?;
    let now = chrono::Utc::now();
    match rollcall::pledges::announcing::release(
        &state.db,
        &caller,
        &slug,
        announcement_id,
        &message,
        now,
    )
    .await
    {
        Ok(effects) => {
            state.bells().apply(effects);
            leptos_axum::redirect(&format!("/account/c/{slug}?released=1"));
            Ok(())
        }
        Err(ReleaseError::Forbidden) => Err(AccountFormError::Forbidden),
        Err(ReleaseError::Unknown) => Err(AccountFormError::NotFound),
        Err(ReleaseError::Db(err)) => Err(unexpected(err)),
        Err(ReleaseError::AlreadyReleased) => Err(refused(CampaignProblem::AlreadyReleased)),
        Err(ReleaseError::NoMessage) => Err(refused(CampaignProblem::NoMessage)),
        Err(ReleaseError::TooLong) => Err(refused(CampaignProblem::MessageTooLong {
            most: rollcall::pledges::announcing::MAX_MESSAGE,
        })),
    }
}

/// An organizer accepts or declines the member count an officer set for a local of an
/// open pledge.
#[server(endpoint = "decide_member_count")]
pub async fn decide_member_count(
    slug: String,
    local_id: i64,
    decision: String,
) -> Result<(), AccountFormError> {
    use rollcall::pledges::MemberCountChoiceError;
    let state = state()?;
    let caller = caller(&state).await?;
    let accept = match decision.as_str() {
        "accept" => true,
        "decline" => false,
        _ => return Err(refused(CampaignProblem::NoDecision)),
    };
    let now = chrono::Utc::now();
    match rollcall::pledges::decide_member_count(&state.db, &caller, &slug, local_id, accept, now)
        .await
    {
        Ok(effects) => {
            state.bells().apply(effects);
            leptos_axum::redirect(&format!("/account/c/{slug}?decided=1"));
            Ok(())
        }
        Err(MemberCountChoiceError::Forbidden) => Err(AccountFormError::Forbidden),
        Err(MemberCountChoiceError::UnknownCampaign) => Err(AccountFormError::NotFound),
        Err(MemberCountChoiceError::Db(err)) => Err(unexpected(err)),
        Err(MemberCountChoiceError::NothingWaiting) => {
            Err(refused(CampaignProblem::NothingWaiting))
        }
    }
}

#[cfg(feature = "ssr")]
fn verify_error(err: rollcall::pledges::verifying::VerifyError) -> AccountFormError {
    use rollcall::pledges::verifying::VerifyError;
    match err {
        VerifyError::Forbidden => AccountFormError::Forbidden,
        VerifyError::NotFound => AccountFormError::NotFound,
        VerifyError::Db(err) => unexpected(err),
        VerifyError::BadLine(line) => {
            AccountFormError::Unreadable(UploadProblem::NotAnEmail { line })
        }
        VerifyError::TooLong => AccountFormError::Unreadable(UploadProblem::TooLong {
            most: rollcall::pledges::verifying::MAX_MEMBERS,
        }),
        VerifyError::TooShort(least) => {
            AccountFormError::Unreadable(UploadProblem::TooShort { least })
        }
        VerifyError::NoAllowance => AccountFormError::Unreadable(UploadProblem::NoAllowance {
            per_day: rollcall::pledges::verifying::UPLOADS_PER_DAY,
        }),
    }
}

/// A local's pledges waiting for an officer's verdict.
#[server(endpoint = "verification_queue")]
pub async fn verification_queue(
    slug: String,
    local_id: i64,
) -> Result<rollcall::views::VerificationQueue, AccountFormError> {
    let state = state()?;
    let caller = caller(&state).await?;
    rollcall::pledges::verifying::queue(&state.db, &caller, &slug, local_id)
        .await
        .map_err(verify_error)
}

/// An officer marks one pledge a member (`member`) or not (`not_member`).
#[server(endpoint = "verify_pledge")]
pub async fn verify_pledge(
    slug: String,
    local_id: i64,
    signature_id: String,
    verdict: String,
) -> Result<(), AccountFormError> {
    use rollcall::pledges::verifying::Verdict;
    let state = state()?;
    let caller = caller(&state).await?;
    let verdict = match verdict.as_str() {
        "member" => Verdict::Member,
        "not_member" => Verdict::NotMember,
        _ => return Err(AccountFormError::NotFound),
    };
    let id = uuid::Uuid::parse_str(&signature_id).map_err(|_| AccountFormError::NotFound)?;
    let judged = rollcall::pledges::verifying::judge(
        &state.db,
        &caller,
        &slug,
        id,
        verdict,
        chrono::Utc::now(),
    )
    .await
    .map_err(verify_error)?;
    state.bells().apply(judged.effects());
    leptos_axum::redirect(&format!("/local/{local_id}/verify/{slug}"));
    Ok(())
}

/// An officer uploads the local's member list: kept only as hashes, and matched
/// against the local's unreviewed pledges. The answer says how many addresses the list
/// holds, never how many matched.
#[server(endpoint = "upload_member_list")]
pub async fn upload_member_list(local_id: i64, list: String) -> Result<(), AccountFormError> {
    let state = state()?;
    let caller = caller(&state).await?;
    let report = rollcall::pledges::verifying::upload_member_list(
        &state.db,
        &caller,
        local_id,
        &list,
        state.clock.now(),
    )
    .await
    .map_err(verify_error)?;
    state.bells().apply(report.effects());
    leptos_axum::redirect(&format!("/local/{local_id}?members={}", report.members));
    Ok(())
}
