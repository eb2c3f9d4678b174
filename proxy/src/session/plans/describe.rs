//! Statements prepared with the extended protocol and their description: parameter types
//! (the client's, else inferred from the columns a `$n` meets) and result column types,
//! worked out once against the schema of the tables the statement names.

use litescale_router::{
    PgType, PlannedStatement, Returned, Schema, StatementKind, plan_reading_returned, types,
};
use litescale_shard::ColumnMeta;
use std::sync::Arc;
use tokio::sync::OnceCell;

use crate::error::SqlError;
use crate::session::plans::explain::EXPLAIN_COLUMN;
use crate::session::settings;
use crate::session::state::{Session, SessionState};
use crate::values::encode::{column_type, column_typmod};

/// A statement prepared with the extended protocol: its plan, and its parameter and
/// result types once described.
pub struct Prepared {
    pub(super) plans: Arc<Vec<PlannedStatement>>,
    pub(super) described: OnceCell<Described>,
}

#[derive(Debug, Clone)]
pub struct Described {
    pub params: Vec<PgType>,
    pub columns: Vec<(String, PgType)>,
    /// The columns' type modifiers (a declared `varchar(n)`'s length); -1 or none for the
    /// rest.
    pub typmods: Vec<i32>,
}

impl Described {
    /// The description of a cursor's rows (FETCH, and Describe of the cursor as a portal):
    /// their declared types.
    pub(crate) fn of_cursor(columns: &[ColumnMeta]) -> Described {
        Described {
            params: Vec::new(),
            columns: columns
                .iter()
                .map(|m| (m.name.clone(), column_type(m, None, None)))
                .collect(),
            typmods: columns.iter().map(column_typmod).collect(),
        }
    }
}

impl Prepared {
    pub fn planned(&self) -> &PlannedStatement {
        // Parse refuses anything but exactly one statement.
        &self.plans[0]
    }

    pub fn described(&self) -> Option<&Described> {
        self.described.get()
    }
}

/// The columns of the tables a statement names, as the router's [`Schema`].
pub(crate) struct SchemaSnapshot(pub(crate) Vec<(String, Vec<ColumnMeta>)>);

impl SchemaSnapshot {
    fn table(&self, table: &str) -> Option<&[ColumnMeta]> {
        self.0
            .iter()
            .find(|(t, _)| t.eq_ignore_ascii_case(table))
            .map(|(_, c)| c.as_slice())
    }
}

impl Schema for SchemaSnapshot {
    fn column_type(&self, table: &str, column: &str) -> Option<PgType> {
        self.table(table)?
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(column))
            .and_then(|c| c.decl_type.as_deref())
            .and_then(types::from_column_declaration)
    }

    fn columns(&self, table: &str) -> Vec<String> {
        self.table(table)
            .map(|cols| cols.iter().map(|c| c.name.clone()).collect())
            .unwrap_or_default()
    }

    fn declared_type(&self, table: &str, column: &str) -> Option<String> {
        self.table(table)?
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(column))
            .and_then(|c| c.decl_type.clone())
    }
}

impl Session {
    /// Parameter and result types of a prepared statement, worked out once. Parameter
    /// types the client gave in Parse win over inferred ones.
    pub async fn describe<'p>(
        &self,
        prepared: &'p Prepared,
        client_types: &[Option<PgType>],
    ) -> Result<&'p Described, SqlError> {
        prepared
            .described
            .get_or_try_init(|| async {
                let mut state = self.state.lock().await;
                state
                    .reach_read_after(self, &prepared.planned().kind)
                    .await?;
                let typed = state.typed(self, prepared.planned()).await?;
                let planned = typed.as_deref().unwrap_or(prepared.planned());
                // A DECLARE's parameters are its query's.
                let parameterized = match &planned.kind {
                    StatementKind::DeclareCursor { query, .. } => query.as_ref(),
                    _ => planned,
                };
                let tables = parameterized.tables();
                let schema = if tables.is_empty() {
                    SchemaSnapshot(Vec::new())
                } else {
                    SchemaSnapshot(state.table_columns(self, tables).await?)
                };
                let params: Vec<PgType> = parameterized
                    .param_types(&schema)
                    .into_iter()
                    .enumerate()
                    .map(|(i, inferred)| client_types.get(i).copied().flatten().unwrap_or(inferred))
                    .collect();
                let text = |name: &str| (name.to_owned(), PgType::Text);
                let mut typmods = Vec::new();
                let columns = if let StatementKind::Show(name) = &planned.kind {
                    if name == "all" {
                        vec![text("name"), text("setting")]
                    } else {
                        vec![text(settings::column_name(name))]
                    }
                } else if let StatementKind::Set {
                    answer: Some(column),
                    ..
                }
                | StatementKind::CurrentSetting { answer: column, .. } = &planned.kind
                {
                    vec![text(column)]
                } else if let StatementKind::Fetch {
                    name, rows: true, ..
                } = &planned.kind
                {
                    let cursor = Described::of_cursor(state.cursors.columns(name)?);
                    typmods = cursor.typmods;
                    cursor.columns
                } else if matches!(planned.kind, StatementKind::Explain(_)) {
                    vec![text(EXPLAIN_COLUMN)]
                } else if let StatementKind::SignalBackend { column, .. } = &planned.kind {
                    vec![(column.clone(), PgType::Bool)]
                } else if let StatementKind::Sleep { column, .. }
                | StatementKind::Notify {
                    answer: Some(column),
                    ..
                } = &planned.kind
                {
                    vec![(column.clone(), PgType::Void)]
                } else if let StatementKind::AdvisoryLock(call) = &planned.kind {
                    let answer = if call.answers_boolean() {
                        PgType::Bool
                    } else {
                        PgType::Void
                    };
                    vec![(call.column.clone(), answer)]
                } else if planned.returns_rows() {
                    let sql = state.sql_to_describe(self, planned).await?;
                    let metas = state.describe_sql(self, sql).await?;
                    let inferred = planned.projection_types(&schema, &params);
                    typmods = metas.iter().map(column_typmod).collect();
                    metas
                        .iter()
                        .enumerate()
                        .map(|(i, m)| {
                            let t = column_type(m, inferred.get(i).copied().flatten(), None);
                            (m.name.clone(), t)
                        })
                        .collect()
                } else {
                    Vec::new()
                };
                Ok(Described {
                    params,
                    columns,
                    typmods,
                })
            })
            .await
    }
}

impl SessionState {
    /// The SQLite text whose result columns are the statement's. A data-modifying WITH has
    /// none until its statements run: the query reading no rows from them stands in.
    async fn sql_to_describe(
        &mut self,
        session: &Session,
        planned: &PlannedStatement,
    ) -> Result<String, SqlError> {
        if planned.modifying_ctes.is_empty() {
            return Ok(planned.sqlite_sql.clone());
        }
        let mut returned = Vec::new();
        for step in &planned.modifying_ctes {
            let columns = self.describe_sql(session, step.sqlite_sql.clone()).await?;
            returned.push(self.returned(session, step, columns, 0).await?);
        }
        Ok(plan_reading_returned(planned, &returned, &session.context)?.sqlite_sql)
    }

    /// What a data-modifying CTE returned, its columns' declared types read from its
    /// table where SQLite does not give them (`RETURNING *`).
    pub(crate) async fn returned(
        &mut self,
        session: &Session,
        step: &PlannedStatement,
        columns: Vec<ColumnMeta>,
        rows: usize,
    ) -> Result<Returned, SqlError> {
        let table = if columns.iter().any(|c| c.decl_type.is_none()) {
            self.table_columns(session, step.tables()).await?
        } else {
            Vec::new()
        };
        let declared = |name: &str| {
            table
                .iter()
                .flat_map(|(_, columns)| columns)
                .find(|c| c.name == name)
                .and_then(|c| c.decl_type.clone())
        };
        Ok(Returned {
            columns: columns
                .into_iter()
                .map(|c| {
                    let decl = c.decl_type.or_else(|| {
                        step.returns_table_column(&c.name)
                            .then(|| declared(&c.name))
                            .flatten()
                    });
                    (c.name, decl)
                })
                .collect(),
            rows,
        })
    }
}
