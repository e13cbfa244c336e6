//! The routing table against the real embedding model: every example phrase routes to its
//! tool even with itself left out of the table, and messages written apart from the table
//! route where they should.

use std::path::Path;

use super::{ROUTER, ROUTES};
use crate::ai::agents::router::NO_TOOL;
use crate::ai::providers::embedder::Embedder;

async fn embedder() -> Embedder {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/embed");
    tokio::task::spawn_blocking(move || Embedder::load(&dir))
        .await
        .unwrap()
        .expect("the embedding model loads")
}

fn wanted(tool: &'static str) -> Option<&'static str> {
    (tool != NO_TOOL).then_some(tool)
}

#[tokio::test]
async fn each_tools_example_phrases_route_to_it() {
    let embedder = embedder().await;
    for route in ROUTES {
        for example in route.examples {
            let routed = ROUTER.route(&embedder, example).await.unwrap();
            assert_eq!(routed.tool, wanted(route.tool), "{example:?}: {routed:?}");
        }
    }
}

/// The most examples of the table, each routed without itself, that may go wrong: the table
/// must generalise beyond its own phrases.
const LEAVE_ONE_OUT_MISSES: f32 = 0.2;

#[tokio::test]
async fn most_example_phrases_route_to_their_tool_without_themselves() {
    let embedder = embedder().await;
    let routed = ROUTER.leave_one_out(&embedder).await.unwrap();
    let wrong: Vec<String> = routed
        .iter()
        .filter(|(tool, _, r)| r.tool != wanted(tool))
        .map(|(tool, example, r)| format!("{example:?} ({tool}) → {r:?}"))
        .collect();
    let share = wrong.len() as f32 / routed.len() as f32;
    eprintln!("leave-one-out: {} of {} examples routed elsewhere", wrong.len(), routed.len());
    assert!(
        share <= LEAVE_ONE_OUT_MISSES,
        "{} of {} wrong:\n{}",
        wrong.len(),
        routed.len(),
        wrong.join("\n")
    );
}

#[tokio::test]
async fn messages_outside_the_table_route_to_the_right_tool_or_none() {
    let embedder = embedder().await;
    let cases = [
        ("Are there remote Python jobs in Lisbon?", Some("search_jobs")),
        ("I want a junior data science job", Some("search_jobs")),
        ("backend engineer jobs", Some("search_jobs")),
        ("What jobs does Initech have open?", Some("search_jobs")),
        ("Which jobs ask for welding skills?", Some("search_jobs")),
        ("interview coach positions", Some("search_jobs")),
        ("Can you give me the details of number 2?", Some("get_job")),
        ("Which jobs would you recommend for me?", Some("recommend_jobs")),
        ("What have I applied for so far?", Some("my_applications")),
        ("Any update on my application to Globex?", Some("application_status")),
        ("Please draft a cover letter for the first one", Some("draft_cover_letter")),
        ("Bookmark the second job for me", Some("save_job")),
        ("What does my CV lack for job 1?", Some("resume_feedback")),
        ("How do I reset my password?", None),
        ("hello there", None),
    ];
    let mut wrong = Vec::new();
    for (message, tool) in cases {
        let routed = ROUTER.route(&embedder, message).await.unwrap();
        if routed.tool != tool {
            wrong.push(format!("{message:?}: wanted {tool:?}, got {routed:?}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
