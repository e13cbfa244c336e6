//! `jobportal import-jobs FILE…`: bulk import of jobs (JSON, JSON Lines, CSV, schema.org
//! JobPosting JSON-LD; `-` reads standard input), with a progress bar on a terminal and plain
//! periodic lines otherwise. Exit status: 0 all good, 2 some records invalid, 1 fatal.

use std::io::{IsTerminal, Read};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};

use super::Exit;
use crate::app::{self, App};
use crate::core::config::Config;
use crate::services::import::formats::{Format, UnknownFormat};
use crate::services::import::{self, ImportOptions, ImportSummary, Input, Progress};

#[derive(Args, Debug)]
pub struct ImportJobsArgs {
    /// Files to import: .json (an array, or JSON-LD), .jsonl, .csv, or - for standard input
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,

    /// Check every record and report, but write nothing
    #[arg(long)]
    pub dry_run: bool,

    /// The source of records that do not name one [default: import]
    #[arg(long, value_name = "NAME")]
    pub source: Option<String>,

    /// The format, when the file name does not say: json, jsonl or csv
    #[arg(long, value_name = "FORMAT")]
    pub format: Option<String>,

    /// Records written per transaction
    #[arg(long, default_value = "500", value_name = "N")]
    pub batch_size: usize,
}

/// Counts the bytes read, for the progress bar.
struct Counting<R> {
    inner: R,
    bar: ProgressBar,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.bar.inc(n as u64);
        Ok(n)
    }
}

struct Reporter {
    bar: Option<ProgressBar>,
    records: u64,
    started: Instant,
    last_line: Instant,
}

impl Progress for Reporter {
    fn record(&mut self) {
        self.records += 1;
        let rate = self.records as f64 / self.started.elapsed().as_secs_f64().max(0.001);
        match &self.bar {
            Some(bar) => {
                if self.records.is_multiple_of(256) {
                    bar.set_message(format!("{} records, {rate:.0}/s", self.records));
                }
            }
            None => {
                if self.last_line.elapsed() >= Duration::from_secs(5) {
                    eprintln!("import-jobs: {} records read ({rate:.0}/s)", self.records);
                    self.last_line = Instant::now();
                }
            }
        }
    }

    fn problem(&mut self, message: &str) {
        match &self.bar {
            Some(bar) => bar.println(message),
            None => eprintln!("{message}"),
        }
    }
}

pub async fn run(config: Config, args: ImportJobsArgs) -> anyhow::Result<()> {
    // A batch is one transaction, which the embedded database's write buffer must hold
    // (at least 16 MiB: 2,000 jobs of a few KiB each, with their keys, fit in it).
    if args.batch_size == 0 || args.batch_size > 2_000 {
        anyhow::bail!("--batch-size must be between 1 and 2000");
    }
    let forced = match args.format.as_deref().map(str::parse::<Format>).transpose() {
        Ok(format) => format,
        Err(UnknownFormat(other)) => {
            anyhow::bail!("--format {other:?}: expected json, jsonl or csv")
        }
    };
    let terminal = std::io::stderr().is_terminal();
    let total: u64 =
        args.files.iter().filter_map(|f| std::fs::metadata(f).ok()).map(|m| m.len()).sum();
    let bar = terminal.then(|| {
        let bar = ProgressBar::new(total);
        bar.set_style(
            ProgressStyle::with_template(
                "{bar:30} {bytes}/{total_bytes} {msg} [{elapsed_precise}, ETA {eta}]",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar
    });
    let mut inputs = Vec::new();
    for file in &args.files {
        let name = file.display().to_string();
        let reader: Box<dyn Read + Send> = if name == "-" {
            Box::new(std::io::stdin())
        } else {
            Box::new(std::fs::File::open(file).with_context(|| format!("cannot open {name}"))?)
        };
        let reader: Box<dyn Read + Send> = match &bar {
            Some(bar) => Box::new(Counting { inner: reader, bar: bar.clone() }),
            None => reader,
        };
        inputs.push(Input { name, reader, format: forced });
    }

    let (summary, seconds) = app::with_database(&config.db, async |db| {
        app::migrate(db).await?;
        let app = App::builder(app::offline_settings(&config))
            .index_of(&config)
            .check_index()
            .start(db)
            .await?;
        let options = ImportOptions {
            dry_run: args.dry_run,
            batch_size: args.batch_size,
            default_source: args.source.clone().unwrap_or_else(|| "import".into()),
        };
        let mut reporter = Reporter {
            bar: bar.clone(),
            records: 0,
            started: Instant::now(),
            last_line: Instant::now(),
        };
        let summary = import::import(&app.services, inputs, &options, &mut reporter).await?;
        if let Some(bar) = &bar {
            bar.finish_and_clear();
        }
        let seconds = reporter.started.elapsed().as_secs_f64();
        anyhow::Ok((summary, seconds))
    })
    .await?;
    print_summary(&summary, seconds, args.dry_run);
    if summary.invalid > 0 {
        return Err(Exit(2).into());
    }
    Ok(())
}

fn print_summary(summary: &ImportSummary, seconds: f64, dry_run: bool) {
    for warning in &summary.warnings {
        eprintln!("warning: {warning}");
    }
    let rate = summary.records() as f64 / seconds.max(0.001);
    if dry_run {
        println!(
            "checked {} records in {seconds:.1} s ({rate:.0}/s), nothing written: {} valid, {} invalid",
            summary.records(),
            summary.created,
            summary.invalid
        );
    } else {
        println!(
            "imported {} records in {seconds:.1} s ({rate:.0}/s): {} created, {} updated, {} unchanged, {} invalid",
            summary.records(),
            summary.created,
            summary.updated,
            summary.unchanged,
            summary.invalid
        );
    }
}
