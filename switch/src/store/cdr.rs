//! Call detail records: one row per finished call, written by [`CdrWriter`](super::CdrWriter).

use serde::Serialize;
use sqlx::{ColumnIndex, Decode, Row, Type};

use super::{with_pool, Store, StoreError};
use crate::records::{Cause, HangupSide};

/// One finished leg pair of a call: a call with no transfer has one; each hand-over of
/// the customer (cause `transferred`) ends one and the next begins, all with the same
/// `session_id`, numbered by `seq`, so a transferred call's history reads as one story.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cdr {
    /// Call-ID of the caller's leg.
    pub call_id: String,
    /// The call's id when it began (its first Call-ID): what every CDR of it shares.
    pub session_id: String,
    /// Which leg pair of the call, from 0.
    pub seq: i32,
    pub from_uri: String,
    pub to_uri: String,
    pub from_user: String,
    pub to_user: String,
    /// When the INVITE arrived, unix milliseconds.
    pub start_ms: i64,
    /// When the call was answered, unix milliseconds; `None` if it never was.
    pub answer_ms: Option<i64>,
    /// When the call ended, unix milliseconds.
    pub end_ms: i64,
    pub ring_secs: f64,
    pub talk_secs: f64,
    /// Final SIP status of the call; 200 for answered.
    pub status: u16,
    /// Why it ended, stored as [`Cause::as_str`].
    pub cause: Cause,
    /// Who hung up.
    pub hangup_side: HangupSide,
}

/// The INSERT of CDRs up to its `VALUES`, which `insert_rows!` adds, one row per CDR.
const INSERT_CDRS_HEAD: &str = "INSERT INTO cdrs (call_id, from_uri, to_uri, from_user, \
     to_user, start_ms, answer_ms, end_ms, ring_secs, talk_secs, status, cause, hangup_side, \
     session_id, seq) ";

/// Rows per multi-row INSERT: 15 parameters each, 7,500 in all, under SQLite's 32,766
/// (the bundled 3.46) and PostgreSQL's 65,535. A batch of the writer fits in one.
const ROWS_PER_INSERT: usize = 500;

const SELECT_CDRS: &str = "SELECT call_id, from_uri, to_uri, from_user, to_user, start_ms, \
     answer_ms, end_ms, ring_secs, talk_secs, status, cause, hangup_side, session_id, seq \
     FROM cdrs ORDER BY start_ms DESC, id DESC LIMIT $1 OFFSET $2";

/// One multi-row INSERT of `rows` for the engine `$db`, with the fields bound in
/// `INSERT_CDRS_HEAD` order.
macro_rules! insert_rows {
    ($db:ty, $rows:expr) => {{
        let mut q = sqlx::QueryBuilder::<$db>::new(INSERT_CDRS_HEAD);
        q.push_values($rows, |mut b, cdr: &Cdr| {
            b.push_bind(&cdr.call_id)
                .push_bind(&cdr.from_uri)
                .push_bind(&cdr.to_uri)
                .push_bind(&cdr.from_user)
                .push_bind(&cdr.to_user)
                .push_bind(cdr.start_ms)
                .push_bind(cdr.answer_ms)
                .push_bind(cdr.end_ms)
                .push_bind(cdr.ring_secs)
                .push_bind(cdr.talk_secs)
                .push_bind(i32::from(cdr.status))
                .push_bind(cdr.cause.as_str())
                .push_bind(cdr.hangup_side.as_str())
                .push_bind(&cdr.session_id)
                .push_bind(cdr.seq);
        });
        q
    }};
}

/// Writes `cdrs` through `$pool` of engine `$db`: one statement when they fit in one (a
/// single statement is atomic by itself, and is one round trip to the database), else one
/// per `ROWS_PER_INSERT` in a transaction.
macro_rules! insert_all {
    ($db:ty, $pool:expr, $cdrs:expr) => {{
        let cdrs: &[Cdr] = $cdrs;
        if cdrs.len() <= ROWS_PER_INSERT {
            insert_rows!($db, cdrs).build().execute($pool).await?;
        } else {
            let mut tx = $pool.begin().await?;
            for chunk in cdrs.chunks(ROWS_PER_INSERT) {
                insert_rows!($db, chunk).build().execute(&mut *tx).await?;
            }
            tx.commit().await?;
        }
    }};
}

impl Store {
    /// Stores one CDR.
    pub async fn insert_cdr(&self, cdr: &Cdr) -> Result<(), StoreError> {
        self.insert_cdrs(std::slice::from_ref(cdr)).await
    }

    /// Stores several CDRs in one transaction: all of them or none.
    pub async fn insert_cdrs(&self, cdrs: &[Cdr]) -> Result<(), StoreError> {
        if cdrs.is_empty() {
            return Ok(());
        }
        match &self.pool {
            super::Pool::Sqlite(pool) => insert_all!(sqlx::Sqlite, pool, cdrs),
            super::Pool::Postgres(pool) => insert_all!(sqlx::Postgres, pool, cdrs),
        }
        Ok(())
    }

    /// CDRs newest first (by start time), skipping `offset` and returning at most `limit`.
    /// Negative values count as 0.
    pub async fn list_cdrs(&self, limit: i64, offset: i64) -> Result<Vec<Cdr>, StoreError> {
        let (limit, offset) = (limit.max(0), offset.max(0));
        with_pool!(self, pool => {
            let rows = sqlx::query(SELECT_CDRS)
                .bind(limit)
                .bind(offset)
                .fetch_all(pool)
                .await?;
            rows.iter().map(cdr_from_row).collect()
        })
    }

    /// Number of stored CDRs.
    pub async fn count_cdrs(&self) -> Result<i64, StoreError> {
        let count: i64 = with_pool!(self, pool => {
            sqlx::query_scalar("SELECT COUNT(*) FROM cdrs").fetch_one(pool).await?
        });
        Ok(count)
    }
}

fn cdr_from_row<'r, R>(row: &'r R) -> Result<Cdr, StoreError>
where
    R: Row,
    &'static str: ColumnIndex<R>,
    String: Decode<'r, R::Database> + Type<R::Database>,
    i64: Decode<'r, R::Database> + Type<R::Database>,
    i32: Decode<'r, R::Database> + Type<R::Database>,
    f64: Decode<'r, R::Database> + Type<R::Database>,
{
    let status: i32 = row.try_get("status")?;
    let status = u16::try_from(status).map_err(|_| StoreError::Corrupt {
        what: "CDR status",
        detail: status.to_string(),
    })?;
    Ok(Cdr {
        call_id: row.try_get("call_id")?,
        session_id: row.try_get("session_id")?,
        seq: row.try_get("seq")?,
        from_uri: row.try_get("from_uri")?,
        to_uri: row.try_get("to_uri")?,
        from_user: row.try_get("from_user")?,
        to_user: row.try_get("to_user")?,
        start_ms: row.try_get("start_ms")?,
        answer_ms: row.try_get("answer_ms")?,
        end_ms: row.try_get("end_ms")?,
        ring_secs: row.try_get("ring_secs")?,
        talk_secs: row.try_get("talk_secs")?,
        status,
        cause: Cause::parse(&row.try_get::<String, _>("cause")?),
        hangup_side: HangupSide::parse(&row.try_get::<String, _>("hangup_side")?),
    })
}

#[cfg(test)]
mod tests {
    use super::super::testing::{backend_tests, sample_cdr, TestDb};
    use super::super::Store;

    backend_tests!(
        insert_list_count,
        batch_insert,
        paging,
        reopen_keeps_data,
        migrations_are_idempotent,
        odd_text_round_trips,
    );

    async fn insert_list_count(db: &TestDb) {
        let store = &db.store;
        assert_eq!(store.count_cdrs().await.unwrap(), 0);
        assert!(store.list_cdrs(10, 0).await.unwrap().is_empty());

        let (a, b) = (sample_cdr(1), sample_cdr(2));
        store.insert_cdr(&a).await.unwrap();
        store.insert_cdr(&b).await.unwrap();
        assert_eq!(store.count_cdrs().await.unwrap(), 2);
        // Newest first; every field survives the trip, including None and fractions.
        assert_eq!(store.list_cdrs(10, 0).await.unwrap(), [b, a]);
    }

    async fn batch_insert(db: &TestDb) {
        let store = &db.store;
        let cdrs: Vec<_> = (0..250).map(sample_cdr).collect();
        store.insert_cdrs(&cdrs).await.unwrap();
        store.insert_cdrs(&[]).await.unwrap();
        assert_eq!(store.count_cdrs().await.unwrap(), 250);
        let newest = store.list_cdrs(1, 0).await.unwrap();
        assert_eq!(newest, [sample_cdr(249)]);
        // More than one statement's rows: three INSERTs in one transaction, every field of
        // every row as it went in.
        let more: Vec<_> = (1000..2100).map(sample_cdr).collect();
        store.insert_cdrs(&more).await.unwrap();
        assert_eq!(store.count_cdrs().await.unwrap(), 1350);
        let mut stored = store.list_cdrs(1100, 0).await.unwrap();
        stored.reverse();
        assert_eq!(stored, more);
    }

    async fn paging(db: &TestDb) {
        let store = &db.store;
        let cdrs: Vec<_> = (0..10).map(sample_cdr).collect();
        store.insert_cdrs(&cdrs).await.unwrap();
        let page = store.list_cdrs(3, 2).await.unwrap();
        let ids: Vec<_> = page.iter().map(|c| c.call_id.as_str()).collect();
        assert_eq!(ids, ["call-7@test", "call-6@test", "call-5@test"]);
        assert!(store.list_cdrs(5, 10).await.unwrap().is_empty());
        assert!(store.list_cdrs(-1, 0).await.unwrap().is_empty());
        assert_eq!(store.list_cdrs(2, -5).await.unwrap().len(), 2);

        // Same start time: the later insert counts as newer.
        let mut twin = sample_cdr(9);
        twin.call_id = "twin@test".to_string();
        store.insert_cdr(&twin).await.unwrap();
        assert_eq!(store.list_cdrs(1, 0).await.unwrap(), [twin]);
    }

    async fn reopen_keeps_data(db: &TestDb) {
        db.store
            .insert_cdrs(&[sample_cdr(1), sample_cdr(2)])
            .await
            .unwrap();
        db.store.close().await;
        assert!(db.store.insert_cdr(&sample_cdr(3)).await.is_err());

        let reopened = Store::open(&db.url).await.unwrap();
        assert_eq!(reopened.count_cdrs().await.unwrap(), 2);
        assert_eq!(
            reopened.list_cdrs(10, 0).await.unwrap(),
            [sample_cdr(2), sample_cdr(1)]
        );
        reopened.close().await;
    }

    async fn migrations_are_idempotent(db: &TestDb) {
        let version = db.store.schema_version().await.unwrap();
        assert!(version >= 1);
        // Opening again (as a second node would) changes nothing.
        let again = Store::open(&db.url).await.unwrap();
        assert_eq!(again.schema_version().await.unwrap(), version);
        again.close().await;
    }

    async fn odd_text_round_trips(db: &TestDb) {
        let mut cdr = sample_cdr(1);
        cdr.from_uri = "\"O'Brien; \\\"x\\\"\" <sip:ö@例え.jp>;tag=1".to_string();
        cdr.to_user = "'); DROP TABLE cdrs; --".to_string();
        cdr.ring_secs = 0.001;
        cdr.talk_secs = 86_399.999;
        cdr.status = 699;
        db.store.insert_cdr(&cdr).await.unwrap();
        assert_eq!(db.store.list_cdrs(1, 0).await.unwrap(), [cdr]);
    }
}
