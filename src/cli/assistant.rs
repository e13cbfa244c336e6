//! `jobportal assistant`: the candidate's terminal app (see `crate::tui`), started signed in
//! from a kept session or `--email`, else on its sign-in form.

use std::io::{BufRead, IsTerminal};

use anyhow::Context as _;
use clap::Args;

use crate::core::config::env;
use crate::tui::client::{ApiFailure, Client};
use crate::tui::session::SessionStore;
use crate::tui::{Start, app::describe};

#[derive(Args, Debug)]
pub struct AssistantArgs {
    /// The jobportal server to talk to
    #[arg(long, env = env::SERVER_URL, default_value = "http://127.0.0.1:8080", value_name = "URL")]
    pub server: String,

    /// Sign in as this candidate; the password comes from JOBPORTAL_PASSWORD, else standard
    /// input (when it is not a terminal), else a prompt
    #[arg(long, value_name = "EMAIL")]
    pub email: Option<String>,

    /// Forget the kept session (and end it on the server), then exit
    #[arg(long)]
    pub logout: bool,
}

fn password(email: &str) -> anyhow::Result<String> {
    if let Ok(p) = std::env::var(env::PASSWORD)
        && !p.is_empty()
    {
        return Ok(p);
    }
    if !std::io::stdin().is_terminal() {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line).context("cannot read the password")?;
        return Ok(line.trim_end_matches(['\r', '\n']).to_owned());
    }
    rpassword::prompt_password(format!("Password for {email}: "))
        .context("cannot read the password")
}

/// Runs the app (or `--logout`).
pub async fn run(args: AssistantArgs) -> anyhow::Result<()> {
    let store = SessionStore::default_location();
    let client = Client::new(&args.server, store)?;
    if args.logout {
        let ended = client.logout().await.context("cannot forget the kept session")?;
        if let Err(failure) = ended {
            anyhow::bail!(
                "the kept session is forgotten, but the server did not end it: {}",
                describe(&failure, &args.server)
            );
        }
        println!("Signed out: the session is ended on the server and forgotten here.");
        return Ok(());
    }
    let start = match &args.email {
        Some(email) => {
            let password = password(email)?;
            match client.login(email, &password).await {
                Ok(user) => Start::SignedIn(user),
                Err(ApiFailure::Unauthorized(_)) => anyhow::bail!("wrong email or password"),
                Err(f) => anyhow::bail!(describe(&f, &args.server)),
            }
        }
        None => match client.resume().await {
            Ok(user) => Start::SignedIn(user),
            Err(ApiFailure::Unauthorized(_)) => Start::SignIn(None),
            Err(f) => Start::SignIn(Some(f)),
        },
    };
    crate::tui::run(client, start).await
}
