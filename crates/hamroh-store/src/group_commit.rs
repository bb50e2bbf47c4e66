//! Group commit: concurrent writes share one transaction, so that throughput does not stop at one
//! fsync per request. One writer task takes every batch waiting when it becomes free and stores
//! them together; each caller is answered only after the shared commit, so an acknowledged write
//! is as durable as one written alone. If the shared transaction fails, each batch is written
//! again on its own, so that one bad batch cannot fail the others.

use hamroh_domain::model::Batch;
use tokio::sync::{mpsc, oneshot};

use crate::audit::{Actor, NewAuditEvent};
use crate::outbox::OutboxMessage;
use crate::{Result, Store, StoreError};

/// The most batches one transaction takes; more wait for the next.
const MAX_GROUP: usize = 512;

pub(crate) struct Pending {
    pub actor: Actor,
    pub batch: Batch,
    pub messages: Vec<OutboxMessage>,
    /// Audit events of their own (reads, refusals), beside those of the batch's records.
    pub events: Vec<NewAuditEvent>,
    /// The keyed request that sent this batch, if any.
    pub key: Option<crate::idempotency::KeyedRequest>,
    /// A step in the life of an idempotency key, instead of records.
    pub key_step: Option<KeyStep>,
    /// Answered with the rows the key step changed (0 for records), after the commit.
    reply: oneshot::Sender<Result<u64>>,
}

/// Idempotency-key writes, which share commits with everything else rather than wait for the
/// writer's lock on their own.
#[derive(Debug, Clone)]
pub(crate) enum KeyStep {
    /// Keeps the answer to a keyed request (1 row, or 0 if another claim holds the key).
    Answer {
        request: crate::idempotency::KeyedRequest,
        status: u16,
        content_type: Option<String>,
        location: Option<String>,
        body: Vec<u8>,
    },
}

/// The queue to the writer task.
#[derive(Clone, Debug)]
pub(crate) struct GroupCommit {
    queue: mpsc::Sender<Pending>,
}

impl GroupCommit {
    /// Starts the writer task on the current runtime, writing through `store` and checkpointing
    /// through `shared` (the pool everyone else uses); it ends when every store handle is gone.
    pub fn start(store: Store, shared: Store) -> Self {
        let (queue, rx) = mpsc::channel(4 * MAX_GROUP);
        tokio::spawn(writer(store, shared, rx));
        Self { queue }
    }

    /// Records of the keyed request the task answers, if any: their commit marks its key written.
    /// `events`: audit events of their own (the reads that led to the write), in the same commit.
    pub async fn write(
        &self,
        actor: &Actor,
        batch: &Batch,
        messages: &[OutboxMessage],
        events: &[NewAuditEvent],
    ) -> Result<()> {
        let key = crate::idempotency::current();
        self.send(actor, batch.clone(), messages.to_vec(), events.to_vec(), None, key).await.map(drop)
    }

    /// Audit events alone (a read, a refusal): they share commits with everything else, and mark
    /// no key, since a read is not the keyed request's write.
    pub async fn audit(&self, actor: &Actor, events: &[NewAuditEvent]) -> Result<()> {
        self.send(actor, Batch::default(), Vec::new(), events.to_vec(), None, None).await.map(drop)
    }

    /// A key step; returns the rows it changed.
    pub async fn key_step(&self, step: KeyStep) -> Result<u64> {
        self.send(&Actor::system("idempotency"), Batch::default(), Vec::new(), Vec::new(), Some(step), None).await
    }

    async fn send(
        &self,
        actor: &Actor,
        batch: Batch,
        messages: Vec<OutboxMessage>,
        events: Vec<NewAuditEvent>,
        key_step: Option<KeyStep>,
        key: Option<crate::idempotency::KeyedRequest>,
    ) -> Result<u64> {
        let (reply, answer) = oneshot::channel();
        let pending = Pending { actor: actor.clone(), batch, messages, events, key, key_step, reply };
        self.queue.send(pending).await.map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

fn stopped() -> StoreError {
    StoreError::StorageFailed("the database writer has stopped".into())
}

async fn writer(store: Store, checkpoint_on: Store, mut rx: mpsc::Receiver<Pending>) {
    let mut group = Vec::with_capacity(MAX_GROUP);
    let mut checkpoints = Checkpoints::default();
    while rx.recv_many(&mut group, MAX_GROUP).await > 0 {
        let shared = if group.len() > 1 { store.write_group(&group).await.ok() } else { None };
        match shared {
            Some(changed) => {
                for (p, n) in group.drain(..).zip(changed) {
                    let _ = p.reply.send(Ok(n));
                }
            }
            None => {
                for p in group.drain(..) {
                    let alone = store.write_pending_alone(&p);
                    let result = match p.key.clone() {
                        Some(request) => crate::idempotency::keyed(request, alone).await,
                        None => alone.await,
                    };
                    let _ = p.reply.send(result);
                }
            }
        }
        checkpoints.maybe_start(&checkpoint_on);
    }
}

/// SQLite copies committed pages from its write-ahead log into the database file (a checkpoint)
/// inside whichever commit makes the log long enough, which would stall the writer. While the
/// writer is busy, this copies them on another connection, in parallel with the next commits; a
/// passive checkpoint never blocks a writer or a reader. At most one runs at a time, and at most
/// one a second: the pages written most (the audit head, the last leaves of the audit trail and of
/// the indicator cube) are copied once a second instead of at every checkpoint, and each
/// checkpoint's sync of the database file is paid once a second (the whole request mix on two
/// million people used about 10% less CPU than with one every 25 ms; BENCHMARKS.md).
#[derive(Default)]
struct Checkpoints {
    running: Option<tokio::task::JoinHandle<()>>,
    last: Option<std::time::Instant>,
}

impl Checkpoints {
    const EVERY: std::time::Duration = std::time::Duration::from_secs(1);

    fn maybe_start(&mut self, store: &Store) {
        let crate::Backend::Sqlite(pool) = &store.backend else { return };
        if self.running.as_ref().is_some_and(|t| !t.is_finished())
            || self.last.is_some_and(|t| t.elapsed() < Self::EVERY)
        {
            return;
        }
        self.last = Some(std::time::Instant::now());
        let pool = pool.clone();
        self.running = Some(tokio::spawn(async move {
            // A failed checkpoint loses nothing: the pages stay in the log for the next one.
            let started = std::time::Instant::now();
            match sqlx::query_as::<_, (i64, i64, i64)>("PRAGMA wal_checkpoint(PASSIVE)").fetch_one(&pool).await {
                Ok((_, log, copied)) => {
                    tracing::debug!(log, copied, ms = started.elapsed().as_millis() as u64, "background checkpoint")
                }
                Err(e) => tracing::debug!(error = %e, "background checkpoint failed"),
            }
        }));
    }
}
