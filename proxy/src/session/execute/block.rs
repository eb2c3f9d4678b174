//! Transaction blocks as Postgres defines them: BEGIN, COMMIT, ROLLBACK, savepoints, SET
//! TRANSACTION, the implicit block of a multi-statement query, a SERIALIZABLE block's
//! snapshot, and the writer a block takes at its first write on each partition.

use std::collections::BTreeMap;

use litescale_router::{Isolation, StatementKind};
use litescale_shard::Transaction;

use crate::error::SqlError;
use crate::session::coordinator::commit::commit_across;
use crate::session::coordinator::locks::{lock_writer, sequence};
use crate::session::execute::reply::Reply;
use crate::session::state::{Block, OpenBlock, Session, SessionState};

fn no_block_warning(reply: Reply) -> Reply {
    reply.warn("25P01", "there is no transaction in progress")
}

impl SessionState {
    /// Whether the session's transaction block holds a partition's writer; then every
    /// statement on that partition must run there to see the block's own writes.
    pub(super) fn holds_writer(&self) -> bool {
        matches!(&self.block, Block::Open(b) if !b.txns.is_empty())
    }

    /// Whether the block reads in a snapshot of its own (`start_statement`).
    pub(super) fn holds_snapshot(&self) -> bool {
        matches!(&self.block, Block::Open(b) if b.snapshot.is_some())
    }

    /// Opens the implicit transaction Postgres wraps around a multi-statement query.
    pub fn open_implicit(&mut self) {
        self.block = Block::Open(OpenBlock {
            txns: BTreeMap::new(),
            savepoints: Vec::new(),
            settings_before: self.settings.clone(),
            set_locally: Vec::new(),
            age: sequence(),
            failed: false,
            read_only: false,
            implicit: true,
            hold: None,
            schema_change: None,
            serializable: false,
            started: false,
            snapshot: None,
        });
    }

    /// Ends the implicit transaction, if the query left one open: commit when every
    /// statement succeeded, else roll back.
    pub async fn close_implicit(
        &mut self,
        session: &Session,
        succeeded: bool,
    ) -> Result<(), SqlError> {
        if !matches!(&self.block, Block::Open(b) if b.implicit) {
            return Ok(());
        }
        let Block::Open(block) = std::mem::replace(&mut self.block, Block::Idle) else {
            return Ok(());
        };
        let commit = succeeded && !block.failed;
        self.end_block(session, block, commit).await
    }

    pub(super) fn begin(
        &mut self,
        isolation: Isolation,
        read_only: bool,
    ) -> Result<Reply, SqlError> {
        let read_only = read_only
            || self
                .settings
                .show("default_transaction_read_only")
                .is_ok_and(|v| crate::session::settings::is_on(&v));
        match &mut self.block {
            Block::Open(b) if b.implicit => {
                // BEGIN inside a multi-statement query turns its implicit block explicit.
                b.implicit = false;
                b.read_only = read_only;
                b.serializable = isolation == Isolation::Serializable;
                Ok(Reply::command("BEGIN"))
            }
            Block::Open(_) => {
                Ok(Reply::command("BEGIN")
                    .warn("25001", "there is already a transaction in progress"))
            }
            Block::Idle => {
                self.block = Block::Open(OpenBlock {
                    txns: BTreeMap::new(),
                    savepoints: Vec::new(),
                    settings_before: self.settings.clone(),
                    set_locally: Vec::new(),
                    age: sequence(),
                    failed: false,
                    read_only,
                    implicit: false,
                    hold: None,
                    schema_change: None,
                    serializable: isolation == Isolation::Serializable,
                    started: false,
                    snapshot: None,
                });
                Ok(Reply::command("BEGIN"))
            }
        }
    }

    /// Called before each statement that reads or writes data. The first one of a
    /// SERIALIZABLE (or REPEATABLE READ) block takes its snapshot, as Postgres does at a
    /// block's first statement: a read transaction held on one reader, so every read of
    /// the block sees the same data and no writer waits for a block that only reads,
    /// however long it stays open. Its first write takes the writer only if nothing has
    /// committed since the snapshot (else 40001, Postgres' serialization failure, and the
    /// client retries); from then on every statement runs on the writer, one transaction
    /// after another, which is serializable. With worker processes, whose reader links
    /// keep no transaction, the block takes the writer at once instead.
    ///
    /// With several partitions the writer is only known at the first write.
    pub(super) async fn start_statement(&mut self, session: &Session) -> Result<(), SqlError> {
        let Block::Open(block) = &mut self.block else {
            return Ok(());
        };
        if block.started {
            return Ok(());
        }
        block.started = true;
        if !block.serializable || session.map.count() != 1 {
            return Ok(());
        }
        block.snapshot = session.partitions[0].snapshot()?.map(Box::new);
        if block.snapshot.is_none() {
            self.writer_in_block(session, "SELECT", 0).await?;
        }
        Ok(())
    }

    /// `SET TRANSACTION`: the open block's isolation (before its first statement, as in
    /// Postgres) and access mode.
    pub(super) fn set_transaction(
        &mut self,
        isolation: Option<Isolation>,
        read_only: Option<bool>,
    ) -> Result<Reply, SqlError> {
        let Block::Open(block) = &mut self.block else {
            return Ok(Reply::command("SET").warn(
                "25P01",
                "SET TRANSACTION can only be used in transaction blocks",
            ));
        };
        if let Some(isolation) = isolation {
            if block.started {
                return Err(SqlError::new(
                    "25001",
                    "SET TRANSACTION ISOLATION LEVEL must be called before any query",
                ));
            }
            block.serializable = isolation == Isolation::Serializable;
        }
        match read_only {
            Some(true) => block.read_only = true,
            Some(false) if block.read_only && block.started => {
                return Err(SqlError::new(
                    "25001",
                    "transaction read-write mode must be set before any query",
                ));
            }
            Some(false) => block.read_only = false,
            None => {}
        }
        Ok(Reply::command("SET"))
    }

    pub(super) async fn commit(&mut self, session: &Session) -> Result<Reply, SqlError> {
        let Block::Open(block) = std::mem::replace(&mut self.block, Block::Idle) else {
            return Ok(no_block_warning(Reply::command("COMMIT")));
        };
        if block.failed {
            self.end_block(session, block, false).await?;
            return Ok(Reply::command("ROLLBACK"));
        }
        self.end_block(session, block, true).await?;
        Ok(Reply::command("COMMIT"))
    }

    /// Ends a block: a commit of one partition is its own commit, of several the
    /// coordinator's all-or-nothing commit; a rollback also undoes the block's SETs.
    async fn end_block(
        &mut self,
        session: &Session,
        block: OpenBlock,
        commit: bool,
    ) -> Result<(), SqlError> {
        let notifies: Vec<(String, String)> = std::mem::take(&mut self.notifies)
            .into_iter()
            .map(|(_, channel, payload)| (channel, payload))
            .collect();
        let mut txns = block.txns;
        self.cursors.block_ended();
        session.advisory.release_all(true);
        for (name, before) in block.set_locally.iter().rev() {
            self.settings.restore(name, before);
        }
        if !commit {
            self.settings = block.settings_before;
            for txn in txns.into_values() {
                txn.rollback().await?;
            }
            return Ok(());
        }
        match txns.len() {
            0 => {}
            1 => {
                let (_, txn) = txns.pop_first().expect("one");
                txn.commit().await?;
            }
            _ => commit_across(&session.txlog, txns).await?,
        }
        // Committed: its notifications go out.
        session.publish(notifies).await;
        Ok(())
    }

    /// SAVEPOINT, RELEASE and ROLLBACK TO, on every partition the block writes. The
    /// block remembers its savepoints for partitions it writes later.
    pub(super) async fn savepoint(
        &mut self,
        session: &Session,
        kind: &StatementKind,
        name: &str,
        sql: &str,
    ) -> Result<Reply, SqlError> {
        let (tag, command) = match kind {
            StatementKind::Savepoint(_) => ("SAVEPOINT", "SAVEPOINT"),
            StatementKind::Release(_) => ("RELEASE", "RELEASE SAVEPOINT"),
            _ => ("ROLLBACK", "ROLLBACK TO SAVEPOINT"),
        };
        let Block::Open(block) = &mut self.block else {
            return Err(SqlError::new(
                "25P01",
                format!("{command} can only be used in transaction blocks"),
            ));
        };
        let position = block.savepoints.iter().rposition(|s| s == name);
        if position.is_none() && !matches!(kind, StatementKind::Savepoint(_)) {
            return Err(SqlError::new(
                "3B001",
                format!("savepoint \"{name}\" does not exist"),
            ));
        }
        for txn in block.txns.values_mut() {
            txn.execute(sql.to_owned(), Vec::new(), session.cancel.interrupter())
                .await?;
        }
        match (kind, position) {
            (StatementKind::Savepoint(_), _) => block.savepoints.push(name.to_owned()),
            (StatementKind::Release(_), Some(p)) => block.savepoints.truncate(p),
            (_, Some(p)) => {
                block.savepoints.truncate(p + 1);
                block.failed = false;
                // NOTIFYs made since the savepoint are undone with it.
                self.notifies.retain(|(depth, ..)| *depth <= p);
            }
            _ => {}
        }
        Ok(Reply::command(tag))
    }

    pub(super) async fn rollback(&mut self, session: &Session) -> Result<Reply, SqlError> {
        let Block::Open(block) = std::mem::replace(&mut self.block, Block::Idle) else {
            return Ok(no_block_warning(Reply::command("ROLLBACK")));
        };
        self.end_block(session, block, false).await?;
        Ok(Reply::command("ROLLBACK"))
    }

    /// The block's writer transaction on `partition`, taking that partition's writer at
    /// the block's first write there. In a partitioned database the transaction records
    /// its changes, in case the block goes on to write another partition.
    pub(crate) async fn writer_in_block(
        &mut self,
        session: &Session,
        what: &str,
        partition: usize,
    ) -> Result<&mut Transaction, SqlError> {
        let Block::Open(block) = &mut self.block else {
            return Err(SqlError::new(
                "25P01",
                format!("{what} can only be used in transaction blocks"),
            ));
        };
        if !block.txns.contains_key(&partition) {
            let held_by_age = (!block.txns.is_empty()).then_some(block.age);
            let writer = lock_writer(
                &session.wait_graph,
                session.owner,
                &session.partitions[partition],
                &session.cancel,
                held_by_age,
            )
            .await?;
            // A SERIALIZABLE block read in a snapshot so far: it may write only if the
            // writer sees what it saw.
            if let Some(snapshot) = block.snapshot.take()
                && !snapshot.is_current(&writer)
            {
                return Err(SqlError::new(
                    "40001",
                    "could not serialize access due to concurrent update",
                ));
            }
            let mut txn = if session.map.count() > 1 {
                writer.begin_recorded().await?
            } else {
                writer.begin().await?
            };
            for name in &block.savepoints {
                txn.execute(
                    format!("SAVEPOINT \"{}\"", name.replace('"', "\"\"")),
                    Vec::new(),
                    session.cancel.interrupter(),
                )
                .await?;
            }
            block.took_writer(session, partition, txn);
        }
        Ok(block.txns.get_mut(&partition).expect("just taken"))
    }
}
