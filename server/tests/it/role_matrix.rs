//! The role matrix: every server function, `/api/v1` and `/osdi/v1` route that reads or changes
//! signer data, called by every kind of caller, with the answer each must get. The target
//! is one signer of local A (UTW) on the petition and one pledger of local A on the
//! pledge; every other caller belongs elsewhere. Adding a route means adding a row;
//! adding a kind of caller (a partner's key) means a variant of `Who`, its credential in
//! `credentials`, and one cell a row.

use rollcall::{
    accounts::access::KeyFor,
    domain::{Grant, Token},
};

use crate::accounts::{Fixture, PETITION, PLEDGE, fixture, key, seed, seed_petition, signed_in};
use crate::both_databases;
use crate::harness::{Backend, TestApp};

/// Who is asking: the matrix's columns, in `COLUMNS`' order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Who {
    /// No cookie, no key.
    Nobody,
    /// Someone with a confirmed signature and no account: their withdrawal token is the
    /// only secret they hold, sent as a session cookie and as an API key.
    Signer,
    /// The officer of local B (UTW, like the target's local A).
    OfficerElsewhere,
    /// An organizer for BNA (it sponsors the petition, not the pledge).
    UnionOrganizerElsewhere,
    /// The organizer of the pledge, asking about the petition (and of the petition's
    /// locals on the pledge: the pledge rows name it on purpose).
    CampaignOrganizerElsewhere,
    Admin,
    /// The pledge organizer's key, made on the command line.
    OrganizerKey,
    /// Local B's officer's key.
    OfficerKey,
    /// A partner site's key: it signs through the JSON API and reads nobody.
    PartnerKey,
}

const COLUMNS: [Who; 9] = [
    Who::Nobody,
    Who::Signer,
    Who::OfficerElsewhere,
    Who::UnionOrganizerElsewhere,
    Who::CampaignOrganizerElsewhere,
    Who::Admin,
    Who::OrganizerKey,
    Who::OfficerKey,
    Who::PartnerKey,
];

/// What one caller must get.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Cell {
    /// An error status (4xx, or a server function's error), and nothing of the target.
    R,
    /// An answer, with nothing of the target in it, and nothing changed.
    H,
    /// The target's data, or the change made.
    S,
}
use Cell::{H, R, S};

enum Call {
    /// A GET of an `/api/v1` route.
    Get(String),
    /// A server function, posted as a program does (JSON back).
    Fn(&'static str, Vec<(&'static str, String)>),
}

enum Probe {
    /// The answer holds this text when the target was read.
    Reads(String),
    /// This count moves when the change went through; `undo` puts it back after.
    Writes { count: String, undo: String },
}

struct Row {
    name: &'static str,
    call: Call,
    probe: Probe,
    expect: [Cell; COLUMNS.len()],
}

/// The credential each caller sends: a cookie and/or a bearer key.
struct Credential {
    cookie: Option<String>,
    bearer: Option<String>,
}

async fn credentials(app: &TestApp, f: &Fixture) -> Vec<(Who, Credential)> {
    let bna = app.count("SELECT id FROM unions WHERE slug = 'bna'").await;
    let pledge = app
        .count(&format!("SELECT id FROM campaigns WHERE slug = '{PLEDGE}'"))
        .await;
    // The signer's withdrawal token, as the receipt mail would carry it.
    let token = Token::generate();
    app.exec(&format!(
        "UPDATE signatures SET withdraw_token_hash = '{}' WHERE email = 'b1@example.org'",
        token.hash().as_str()
    ))
    .await;
    let mut all = Vec::new();
    for who in COLUMNS {
        let cookie = |c: String| Credential {
            cookie: Some(c),
            bearer: None,
        };
        let bearer = |k: String| Credential {
            cookie: None,
            bearer: Some(k),
        };
        let credential = match who {
            Who::Nobody => Credential {
                cookie: None,
                bearer: None,
            },
            Who::Signer => Credential {
                cookie: Some(format!("rollcall_session={}", token.as_str())),
                bearer: Some(token.as_str().to_owned()),
            },
            Who::OfficerElsewhere => cookie(
                signed_in(
                    app,
                    "officer-b@example.org",
                    Grant::Officer {
                        local_id: f.local_b,
                    },
                )
                .await,
            ),
            Who::UnionOrganizerElsewhere => cookie(
                signed_in(
                    app,
                    "org@bna.example",
                    Grant::UnionOrganizer { union_id: bna },
                )
                .await,
            ),
            Who::CampaignOrganizerElsewhere => cookie(
                signed_in(
                    app,
                    "org@pledge.example",
                    Grant::CampaignOrganizer {
                        campaign_id: pledge,
                    },
                )
                .await,
            ),
            Who::Admin => cookie(signed_in(app, "admin@example.org", Grant::Admin).await),
            Who::OrganizerKey => bearer(key(app, KeyFor::Campaign(PLEDGE)).await),
            Who::OfficerKey => bearer(key(app, KeyFor::Local(&f.local_b.to_string())).await),
            Who::PartnerKey => bearer(app.partner_key.clone()),
        };
        all.push((who, credential));
    }
    all
}

/// The rows: what is asked, how to tell it reached the target, and who may.
async fn rows(app: &TestApp, f: &Fixture) -> Vec<Row> {
    let a = f.local_a;
    let csv = |query: &str| format!("/api/v1/campaigns/{PETITION}/signatures.csv{query}");
    let pledger = {
        use rollcall::entities::signature;
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        signature::Entity::find()
            .filter(signature::Column::Email.eq("ptarget@example.org"))
            .one(&app.db)
            .await
            .unwrap()
            .expect("the pledger is seeded")
            .id
            .to_string()
    };
    // A paper line waiting for the organizers' review (its earlier signature is the
    // target's own, which is all the review list needs to show it).
    let collision = {
        use rollcall::entities::{paper_collision, signature};
        use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
        let target = signature::Entity::find()
            .filter(signature::Column::Email.eq("target@example.org"))
            .filter(signature::Column::CampaignId.eq(f.petition))
            .one(&app.db)
            .await
            .unwrap()
            .expect("the target is seeded")
            .id;
        paper_collision::Entity::insert(paper_collision::ActiveModel {
            campaign_id: Set(f.petition),
            signature_id: Set(target),
            earlier_id: Set(target),
            entered_by: Set("user:officer@example.org".to_owned()),
            entered_at: Set(chrono::Utc::now()),
            ..Default::default()
        })
        .exec(&app.db)
        .await
        .unwrap()
        .last_insert_id
        .to_string()
    };
    let s = |v: &str| v.to_owned();
    // A list plausible for local A's member count (a quarter of it, at least).
    let members: String = (0..300)
        .map(|n| format!("member{n}@example.org\n"))
        .collect::<String>()
        + "ptarget@example.org\n";
    vec![
        Row {
            name: "export signatures.csv",
            call: Call::Get(csv("")),
            probe: Probe::Reads(s("target@example.org")),
            // Another local's officer and another union's organizer get their own rows.
            expect: [R, R, H, H, R, S, R, H, R],
        },
        Row {
            name: "export signatures.csv?local=A",
            call: Call::Get(csv(&format!("?local={a}"))),
            probe: Probe::Reads(s("target@example.org")),
            expect: [R, R, R, R, R, S, R, R, R],
        },
        Row {
            name: "export signatures.csv?preset=organizing",
            call: Call::Get(csv("?preset=organizing")),
            probe: Probe::Reads(s("Quetzalli")),
            expect: [R, R, H, H, R, S, R, H, R],
        },
        Row {
            name: "export signatures.csv?preset=action_network",
            call: Call::Get(csv("?preset=action_network")),
            probe: Probe::Reads(s("Quetzalli")),
            expect: [R, R, H, H, R, S, R, H, R],
        },
        Row {
            name: "OSDI petitions/{slug}/signatures",
            call: Call::Get(format!(
                "/osdi/v1/petitions/{PETITION}/signatures?per_page=100"
            )),
            probe: Probe::Reads(s("target@example.org")),
            expect: [R, R, H, H, R, S, R, H, R],
        },
        Row {
            name: "OSDI petitions (the list names no signer)",
            call: Call::Get(s("/osdi/v1/petitions")),
            probe: Probe::Reads(s("target@example.org")),
            // A partner's key reads nothing here: it is not a reader's key.
            expect: [R, R, H, H, H, H, H, H, R],
        },
        Row {
            name: "OSDI petitions/{slug}",
            call: Call::Get(format!("/osdi/v1/petitions/{PETITION}")),
            probe: Probe::Reads(s("target@example.org")),
            // Only those who may see some of its signers learn how it reads to them.
            expect: [R, R, H, H, R, H, R, H, R],
        },
        Row {
            name: "public names (API)",
            call: Call::Get(format!("/api/v1/campaigns/{PETITION}/signers")),
            probe: Probe::Reads(s("Quetzalli")),
            // The target did not choose to show the name: nobody sees it here.
            expect: [H, H, H, H, H, H, H, H, H],
        },
        Row {
            name: "public names (server function)",
            call: Call::Fn("names", vec![("slug", s(PETITION))]),
            probe: Probe::Reads(s("Quetzalli")),
            expect: [H, H, H, H, H, H, H, H, H],
        },
        Row {
            name: "account page",
            call: Call::Fn("account", vec![]),
            probe: Probe::Reads(s("target@example.org")),
            expect: [R, R, H, H, H, H, R, R, R],
        },
        Row {
            name: "campaign dashboard",
            call: Call::Fn("campaign_dashboard", vec![("slug", s(PETITION))]),
            probe: Probe::Reads(format!("\"local_id\":{a},")),
            // A sponsoring union's organizer sees every local's count (README's table).
            expect: [R, R, H, S, R, S, R, R, R],
        },
        Row {
            name: "local dashboard",
            call: Call::Fn("local_dashboard", vec![("local_id", a.to_string())]),
            probe: Probe::Reads(s("Quetzalli")),
            expect: [R, R, R, R, R, S, R, R, R],
        },
        Row {
            name: "moderate (invalidate)",
            call: Call::Fn(
                "moderate",
                vec![
                    ("slug", s(PETITION)),
                    ("email", s("target@example.org")),
                    ("action", s("invalidate")),
                    ("reason", s("matrix")),
                ],
            ),
            probe: Probe::Writes {
                count: s(
                    "SELECT COUNT(*) FROM signatures WHERE email = 'target@example.org' AND status = 'invalidated'",
                ),
                undo: s(
                    "UPDATE signatures SET status = 'confirmed', invalidated_at = NULL WHERE email = 'target@example.org'",
                ),
            },
            expect: [R, R, R, R, R, S, R, R, R],
        },
        Row {
            name: "paper entry",
            call: Call::Fn(
                "enter_paper",
                vec![
                    ("local_id", a.to_string()),
                    ("slug", s(PETITION)),
                    ("given_name", s("Paper")),
                    ("family_name", s("Line")),
                    ("email", s("paper@example.org")),
                ],
            ),
            probe: Probe::Writes {
                count: s("SELECT COUNT(*) FROM signatures WHERE email = 'paper@example.org'"),
                undo: s("DELETE FROM signatures WHERE email = 'paper@example.org'"),
            },
            expect: [R, R, R, R, R, S, R, R, R],
        },
        Row {
            name: "member count",
            call: Call::Fn(
                "set_member_count",
                vec![
                    ("local_id", a.to_string()),
                    ("member_count", s("4321")),
                    ("as_of", s("2026-12-01")),
                ],
            ),
            probe: Probe::Writes {
                count: format!(
                    "SELECT COUNT(*) FROM locals WHERE id = {a} AND member_count = 4321"
                ),
                undo: format!("UPDATE locals SET member_count = 1000 WHERE id = {a}"),
            },
            expect: [R, R, R, R, R, S, R, R, R],
        },
        Row {
            name: "verification queue",
            call: Call::Fn(
                "verification_queue",
                vec![("slug", s(PLEDGE)), ("local_id", a.to_string())],
            ),
            probe: Probe::Reads(s("ptarget@example.org")),
            expect: [R, R, R, R, R, S, R, R, R],
        },
        Row {
            name: "verify a pledge",
            call: Call::Fn(
                "verify_pledge",
                vec![
                    ("slug", s(PLEDGE)),
                    ("local_id", a.to_string()),
                    ("signature_id", pledger),
                    ("verdict", s("member")),
                ],
            ),
            probe: Probe::Writes {
                count: s(
                    "SELECT COUNT(*) FROM signatures WHERE email = 'ptarget@example.org' AND verification IS NOT NULL",
                ),
                undo: s(
                    "UPDATE signatures SET verification = NULL, verified_by = NULL, verified_at = NULL WHERE email = 'ptarget@example.org'",
                ),
            },
            expect: [R, R, R, R, R, S, R, R, R],
        },
        Row {
            name: "member list upload",
            call: Call::Fn(
                "upload_member_list",
                vec![("local_id", a.to_string()), ("list", members)],
            ),
            probe: Probe::Writes {
                count: format!("SELECT COUNT(*) FROM member_hashes WHERE local_id = {a}"),
                undo: format!("DELETE FROM member_hashes WHERE local_id = {a}"),
            },
            expect: [R, R, R, R, R, S, R, R, R],
        },
        Row {
            name: "paper collision review (keep)",
            call: Call::Fn(
                "resolve_collision",
                vec![
                    ("slug", s(PETITION)),
                    ("collision_id", collision),
                    ("decision", s("keep")),
                ],
            ),
            probe: Probe::Writes {
                count: s("SELECT COUNT(*) FROM paper_collisions WHERE resolved_at IS NOT NULL"),
                undo: s(
                    "UPDATE paper_collisions SET resolved_at = NULL, resolved_by = NULL, resolution = NULL",
                ),
            },
            expect: [R, R, R, R, R, S, R, R, R],
        },
        Row {
            name: "campaign editor",
            call: Call::Fn("campaign_editor", vec![("slug", s(PETITION))]),
            probe: Probe::Reads(s("\"addressee\"")),
            expect: [R, R, R, R, R, S, R, R, R],
        },
        Row {
            name: "API key for local A",
            call: Call::Fn(
                "create_api_key",
                vec![("role", format!("local:{a}")), ("label", s("matrix"))],
            ),
            probe: Probe::Writes {
                count: format!("SELECT COUNT(*) FROM api_keys WHERE local_id = {a}"),
                undo: format!("DELETE FROM api_keys WHERE local_id = {a}"),
            },
            expect: [R, R, R, R, R, S, R, R, R],
        },
    ]
}

/// What one caller got: `R`, `H` or `S`, from the status and the probe.
async fn answer(app: &TestApp, row: &Row, credential: &Credential) -> (Cell, u16, String) {
    let before = match &row.probe {
        Probe::Writes { count, .. } => app.count(count).await,
        Probe::Reads(_) => 0,
    };
    let mut request = match &row.call {
        Call::Get(path) => app.http.get(app.url(path)),
        Call::Fn(endpoint, form) => app
            .http
            .post(app.url(&format!("/api/{endpoint}")))
            .form(form),
    };
    if let Some(cookie) = &credential.cookie {
        request = request.header("Cookie", cookie);
    }
    if let Some(key) = &credential.bearer {
        request = request.bearer_auth(key);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let body = response.text().await.unwrap_or_default();
    let reached = match &row.probe {
        Probe::Reads(needle) => body.contains(needle.as_str()),
        Probe::Writes { count, undo } => {
            let moved = app.count(count).await != before;
            if moved {
                app.exec(undo).await;
            }
            moved
        }
    };
    let cell = match (status < 400, reached) {
        (_, true) => S,
        (true, false) => H,
        (false, false) => R,
    };
    (cell, status, body)
}

both_databases! {
    async fn every_caller_gets_exactly_what_its_role_allows(app: TestApp) {
        let f = fixture(&app).await;
        seed_petition(&app, &f).await;
        let pledge = app.count(&format!("SELECT id FROM campaigns WHERE slug = '{PLEDGE}'")).await;
        seed(&app, f.petition, Some(f.local_a), "Quetzalli", "target@example.org", "confirmed").await;
        seed(&app, pledge, Some(f.local_a), "Xiomara", "ptarget@example.org", "confirmed").await;
        let credentials = credentials(&app, &f).await;
        let mut wrong = Vec::new();
        for row in rows(&app, &f).await {
            for ((who, credential), expected) in credentials.iter().zip(row.expect) {
                let (got, status, body) = answer(&app, &row, credential).await;
                if got != expected {
                    let body: String = body.chars().take(200).collect();
                    wrong.push(format!("{} by {who:?}: expected {expected:?}, got {got:?} ({status}) {body}", row.name));
                }
            }
        }
        assert!(wrong.is_empty(), "{} cells differ:\n{}", wrong.len(), wrong.join("\n"));
        app.finish().await;
    }
}
