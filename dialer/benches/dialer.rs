//! Dialer benchmarks; prints figures, asserts nothing.
//!
//! `cargo bench -p dialer --bench dialer` runs:
//! 1. CSV import on SQLite of generated files of 100,000 and 1,000,000 rows (set
//!    `DIALER_BENCH_ROWS` to change the larger): rows/s, and the peak RSS (VmHWM) of each
//!    run, reset in between through /proc/self/clear_refs, so the two peaks show whether
//!    memory grows with the file.
//! 2. Leasing with 100 concurrent agents (lease, then close as done) on SQLite, and on
//!    PostgreSQL when `TEST_DATABASE_URL` is set (in a fresh schema, dropped after):
//!    leases/s over `DIALER_BENCH_SECONDS` (default 10).

use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use dialer::campaign::{CampaignCommand, CampaignId, CampaignSpec};
use dialer::import::{import_csv, ImportOptions};
use dialer::outcome::NextStatus;
use dialer::preview::CloseRecord;
use dialer::record::NewRecord;
use dialer::store::LeaseResult;
use dialer::Store;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Peak resident set size of this process, in KiB.
fn vm_hwm_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn vm_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Resets VmHWM to the current RSS (Linux `clear_refs` value 5).
fn reset_hwm() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

fn spec(name: &str) -> CampaignSpec {
    let json = format!(
        r#"{{"name":"{name}","queue":"8100","default_country_code":"44",
            "window":{{"start":"00:00","end":"24:00"}}}}"#
    );
    serde_json::from_str(&json).expect("benchmark spec")
}

/// Writes a CSV of `rows` rows (every 10,000th has a bad number) and returns its path.
fn generate(dir: &std::path::Path, rows: usize) -> std::io::Result<std::path::PathBuf> {
    let path = dir.join(format!("contacts-{rows}.csv"));
    let mut w = std::io::BufWriter::new(std::fs::File::create(&path)?);
    writeln!(
        w,
        "external_id,name,time_zone,phone_home,phone_mobile,plan,balance"
    )?;
    for i in 0..rows {
        let home = if i % 10_000 == 9_999 {
            "12".to_string()
        } else {
            format!("020 7{:03} {:04}", (i / 10_000) % 1000, i % 10_000)
        };
        writeln!(
            w,
            "C{i:08},Contact {i},Europe/London,{home},07700 9{:05},gold,{}.{:02}",
            i % 100_000,
            i % 997,
            i % 100
        )?;
    }
    w.flush()?;
    Ok(path)
}

async fn bench_import(store: &Store, dir: &std::path::Path, rows: usize) -> anyhow::Result<()> {
    let path = generate(dir, rows)?;
    let size = std::fs::metadata(&path)?.len();
    let campaign = store
        .create_campaign(&spec(&format!("import {rows}")), Utc::now())
        .await?;
    let reset = reset_hwm();
    let rss_before = vm_rss_kib().unwrap_or(0);
    let start = Instant::now();
    let file = tokio::fs::File::open(&path).await?;
    let report = import_csv(store, &campaign, file, ImportOptions::default(), |_| {}).await?;
    let secs = start.elapsed().as_secs_f64();
    let p = &report.progress;
    println!(
        "import {rows} rows ({:.1} MB) on {:?}: {:.1} s, {:.0} rows/s; inserted {}, rejected {}; \
         RSS before {} KiB, peak during import {} KiB{}",
        size as f64 / 1e6,
        store.backend(),
        secs,
        p.rows as f64 / secs,
        p.inserted,
        p.rejected,
        rss_before,
        vm_hwm_kib().unwrap_or(0),
        if reset {
            ""
        } else {
            " (peak not reset: process-wide)"
        }
    );
    std::fs::remove_file(&path)?;
    Ok(())
}

async fn bench_leasing(store: &Store, records: usize, seconds: u64) -> anyhow::Result<()> {
    let agents = env_usize("DIALER_BENCH_AGENTS", 100);
    let campaign = store.create_campaign(&spec("leasing"), Utc::now()).await?;
    let now = Utc::now();
    let batch: Vec<NewRecord> = (0..records)
        .map(|i| NewRecord {
            external_id: format!("L{i}"),
            name: format!("Lease {i}"),
            time_zone: None,
            phones: vec![dialer::phone::Phone {
                number: dialer::phone::E164::parse(&format!("+44207{i:07}"), None)
                    .expect("generated number"),
                kind: dialer::phone::PhoneType::Home,
            }],
            fields: Default::default(),
        })
        .collect();
    for chunk in batch.chunks(1000) {
        store.upsert_records(campaign.id, chunk, now).await?;
    }
    store
        .command_campaign(campaign.id, CampaignCommand::Load, now)
        .await?;
    store
        .command_campaign(campaign.id, CampaignCommand::Start, now)
        .await?;
    let leases = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let start = Instant::now();
    let mut tasks = Vec::new();
    for a in 0..agents {
        let store = store.clone();
        let leases = leases.clone();
        let id: CampaignId = campaign.id;
        tasks.push(tokio::spawn(async move {
            let agent = format!("agent-{a}");
            while Instant::now() < deadline {
                let now = Utc::now();
                let until = now + chrono::Duration::minutes(10);
                let LeaseResult::Leased(lease) = store.lease_next(id, &agent, now, until).await?
                else {
                    break;
                };
                leases.fetch_add(1, Ordering::Relaxed);
                store
                    .close_record(&CloseRecord {
                        agent: agent.clone(),
                        campaign: id,
                        record: lease.record.id,
                        call: None,
                        outcome: None,
                        next: NextStatus::Done,
                        dnc: Vec::new(),
                        dnc_scope: Default::default(),
                        at: now,
                    })
                    .await?;
            }
            Ok::<(), dialer::StoreError>(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    let secs = start.elapsed().as_secs_f64();
    let n = leases.load(Ordering::Relaxed);
    println!(
        "leasing on {:?}, {agents} concurrent agents, {records} records: {n} leases (each with its close) \
         in {secs:.1} s = {:.0} leases/s",
        store.backend(),
        n as f64 / secs
    );
    Ok(())
}

async fn postgres_schema(base: &str) -> anyhow::Result<(String, String)> {
    let schema = format!("dialer_bench_{}", std::process::id());
    let admin = sqlx::PgPool::connect(base).await?;
    sqlx::raw_sql(&format!("CREATE SCHEMA {schema}"))
        .execute(&admin)
        .await?;
    admin.close().await;
    let sep = if base.contains('?') { '&' } else { '?' };
    Ok((format!("{base}{sep}options[search_path]={schema}"), schema))
}

async fn drop_schema(base: &str, schema: &str) -> anyhow::Result<()> {
    let admin = sqlx::PgPool::connect(base).await?;
    sqlx::raw_sql(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
        .execute(&admin)
        .await?;
    admin.close().await;
    Ok(())
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    if std::env::args().any(|a| a == "--list") {
        return Ok(()); // `cargo test --benches` asks for the list of benchmarks
    }
    // `cargo bench` passes --bench; run as a test (`cargo test --benches`), stay quick.
    let full = std::env::args().any(|a| a == "--bench");
    let rows = env_usize("DIALER_BENCH_ROWS", if full { 1_000_000 } else { 10_000 });
    let seconds = env_usize("DIALER_BENCH_SECONDS", if full { 10 } else { 1 }) as u64;
    let dir = std::env::temp_dir().join(format!("dialer_bench_{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let store = Store::open(&format!("sqlite://{}/bench.db", dir.display())).await?;
    for n in [rows / 10, rows] {
        bench_import(&store, &dir, n).await?;
    }
    bench_leasing(&store, 20_000, seconds).await?;
    store.close().await;
    std::fs::remove_dir_all(&dir)?;

    if let Ok(base) = std::env::var("TEST_DATABASE_URL") {
        let (url, schema) = postgres_schema(&base).await?;
        let result = async {
            let store = Store::open(&url).await?;
            bench_leasing(&store, 20_000, seconds).await?;
            store.close().await;
            anyhow::Ok(())
        }
        .await;
        if std::env::var_os("DIALER_BENCH_KEEP").is_none() {
            drop_schema(&base, &schema).await?;
        }
        result?;
    } else {
        println!("leasing on PostgreSQL skipped: set TEST_DATABASE_URL=postgres://...");
    }
    Ok(())
}
