//! A file's rows read on a thread of their own and handed over in chunks, so that checking and
//! storing one chunk overlaps reading the next and at most two chunks wait in between: memory is
//! a few chunks' worth, whatever the file's size.

use std::path::PathBuf;

use hamroh_interop::sheet::{self, ReadError, Row, RowSink};
use tokio::sync::mpsc;

enum Message {
    Header(Vec<String>),
    /// Rows in file order, and how many bytes of the file are read so far (0 for a workbook).
    Rows(Vec<Row>, u64),
    Failed(ReadError),
}

pub struct Rows {
    rx: mpsc::Receiver<Message>,
}

pub struct Chunk {
    pub rows: Vec<Row>,
    pub read: u64,
}

impl Rows {
    /// Starts reading `path` in chunks of `size` rows.
    pub fn open(path: PathBuf, size: usize) -> Self {
        let (tx, rx) = mpsc::channel(2);
        std::thread::spawn(move || {
            let mut sender = Sender { tx, chunk: Vec::with_capacity(size), size, read: 0 };
            let outcome = sheet::stream(sheet::Input::Path(&path), &mut sender);
            // Rows read before a failure are handed on first: they are checked like any other.
            sender.flush();
            if let Err(e) = outcome {
                let _ = sender.tx.blocking_send(Message::Failed(e));
            }
        });
        Self { rx }
    }

    /// The file's header, or why the file cannot be read.
    pub async fn header(&mut self) -> Result<Vec<String>, ReadError> {
        match self.rx.recv().await {
            Some(Message::Header(h)) => Ok(h),
            Some(Message::Failed(e)) => Err(e),
            Some(Message::Rows(..)) | None => Err(ReadError::Empty),
        }
    }

    /// The next rows, `None` after the last.
    pub async fn next(&mut self) -> Result<Option<Chunk>, ReadError> {
        match self.rx.recv().await {
            Some(Message::Rows(rows, read)) => Ok(Some(Chunk { rows, read })),
            Some(Message::Failed(e)) => Err(e),
            Some(Message::Header(_)) | None => Ok(None),
        }
    }
}

struct Sender {
    tx: mpsc::Sender<Message>,
    chunk: Vec<Row>,
    size: usize,
    read: u64,
}

impl Sender {
    /// Hands on the rows gathered; `false` once the receiver is gone.
    fn flush(&mut self) -> bool {
        if self.chunk.is_empty() {
            return true;
        }
        let rows = std::mem::replace(&mut self.chunk, Vec::with_capacity(self.size));
        self.tx.blocking_send(Message::Rows(rows, self.read)).is_ok()
    }
}

impl RowSink for Sender {
    fn header(&mut self, header: &[String]) -> bool {
        self.tx.blocking_send(Message::Header(header.to_vec())).is_ok()
    }

    fn row(&mut self, row: Row, read: u64) -> bool {
        self.chunk.push(row);
        self.read = read;
        self.chunk.len() < self.size || self.flush()
    }
}
