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
    /// The keyed request (caller, key) that sent this batch, if any.
    pub key: Option<(String, String)>,
    reply: oneshot::Sender<Result<()>>,
}

/// The queue to the writer task.
#[derive(Clone, Debug)]
pub(crate) struct GroupCommit {
    queue: mpsc::Sender<Pending>,
}

impl GroupCommit {
    /// Starts the writer task on the current runtime; it ends when every store handle is gone.
    pub fn start(store: Store) -> Self {
        let (queue, rx) = mpsc::channel(4 * MAX_GROUP);
        tokio::spawn(writer(store, rx));
        Self { queue }
    }

    pub async fn write(&self, actor: &Actor, batch: &Batch, messages: &[OutboxMessage]) -> Result<()> {
        self.send(actor, batch.clone(), messages.to_vec(), Vec::new()).await
    }

    /// Audit events alone (a read, a refusal): they share commits with everything else.
    pub async fn audit(&self, actor: &Actor, events: &[NewAuditEvent]) -> Result<()> {
        self.send(actor, Batch::default(), Vec::new(), events.to_vec()).await
    }

    async fn send(
        &self,
        actor: &Actor,
        batch: Batch,
        messages: Vec<OutboxMessage>,
        events: Vec<NewAuditEvent>,
    ) -> Result<()> {
        let (reply, answer) = oneshot::channel();
        let pending =
            Pending { actor: actor.clone(), batch, messages, events, key: crate::idempotency::current(), reply };
        self.queue.send(pending).await.map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

fn stopped() -> StoreError {
    StoreError::StorageFailed("the database writer has stopped".into())
}

async fn writer(store: Store, mut rx: mpsc::Receiver<Pending>) {
    let mut group = Vec::with_capacity(MAX_GROUP);
    while rx.recv_many(&mut group, MAX_GROUP).await > 0 {
        if group.len() == 1 || store.write_group(&group).await.is_err() {
            for p in group.drain(..) {
                let alone = store.write_pending_alone(&p);
                let result = match p.key.clone() {
                    Some((caller, key)) => crate::idempotency::keyed(caller, key, alone).await,
                    None => alone.await,
                };
                let _ = p.reply.send(result);
            }
        } else {
            for p in group.drain(..) {
                let _ = p.reply.send(Ok(()));
            }
        }
    }
}
