//! Diesel 2 (libpq) against a server on 127.0.0.1:<port>, as a project uses it: its SQL
//! migrations embedded in the binary and run by diesel_migrations (the last one reverted and
//! run again), the `table!` schema `diesel print-schema` writes, and the query DSL: inserts
//! returning rows, filters, joins, GROUP BY, updates, deletes, upserts, transactions with
//! savepoints and row locks. Prints "diesel ok" at its end; panics on the first failure.
//!
//!   cargo run --manifest-path tests/frameworks/rust/Cargo.toml --bin diesel -- <port>

mod schema;

use chrono::{NaiveDateTime, Utc};
use diesel::dsl::{count, count_star, exists, max, now};
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error};
use diesel::upsert::excluded;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use schema::{posts, users};
use serde_json::json;

const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

#[derive(Queryable, Selectable, Identifiable, Debug, PartialEq)]
#[diesel(table_name = users, check_for_backend(diesel::pg::Pg))]
struct User {
    id: i32,
    name: String,
    email: String,
    created_at: NaiveDateTime,
    active: bool,
}

#[derive(Insertable)]
#[diesel(table_name = users)]
struct NewUser<'a> {
    name: &'a str,
    email: &'a str,
}

#[derive(Queryable, Selectable, Identifiable, Associations, Debug)]
#[diesel(belongs_to(User), table_name = posts, check_for_backend(diesel::pg::Pg))]
struct Post {
    id: i32,
    user_id: i32,
    title: String,
    body: Option<String>,
    published: bool,
    views: i32,
    meta: serde_json::Value,
}

// Options left None are written as DEFAULT in a multi-row VALUES, so the server's defaults apply.
#[derive(Insertable)]
#[diesel(table_name = posts)]
struct NewPost<'a> {
    user_id: i32,
    title: &'a str,
    body: Option<&'a str>,
    published: Option<bool>,
    meta: Option<serde_json::Value>,
}

impl<'a> NewPost<'a> {
    fn new(user_id: i32, title: &'a str) -> Self {
        NewPost {
            user_id,
            title,
            body: None,
            published: None,
            meta: None,
        }
    }
}

#[derive(AsChangeset)]
#[diesel(table_name = posts)]
struct PostChanges<'a> {
    title: Option<&'a str>,
    body: Option<Option<&'a str>>,
}

/// The columns of `table` in their order, from information_schema, as the schema stands.
fn columns(conn: &mut PgConnection, table: &str) -> Vec<String> {
    #[derive(QueryableByName)]
    struct Column {
        #[diesel(sql_type = diesel::sql_types::Text)]
        column_name: String,
    }
    diesel::sql_query(
        "SELECT column_name::text AS column_name FROM information_schema.columns \
         WHERE table_schema = 'public' AND table_name = $1 ORDER BY ordinal_position",
    )
    .bind::<diesel::sql_types::Text, _>(table)
    .load::<Column>(conn)
    .unwrap()
    .into_iter()
    .map(|c| c.column_name)
    .collect()
}

fn main() {
    let port = std::env::args()
        .last()
        .expect("the server's port as the last argument");
    let mut admin =
        PgConnection::establish(&format!("postgres://postgres@127.0.0.1:{port}/postgres")).unwrap();
    diesel::sql_query("DROP DATABASE IF EXISTS diesel")
        .execute(&mut admin)
        .unwrap();
    diesel::sql_query("CREATE DATABASE diesel")
        .execute(&mut admin)
        .unwrap();
    let conn =
        &mut PgConnection::establish(&format!("postgres://postgres@127.0.0.1:{port}/diesel"))
            .unwrap();

    migrate(conn);
    let (ann, bob) = query(conn);
    write(conn, ann, bob);
    transactions(conn);
    println!("diesel ok");
}

/// The migrations as `diesel migration run` / `revert` / `redo` take them, each in a
/// transaction, recorded in __diesel_schema_migrations.
fn migrate(conn: &mut PgConnection) {
    let applied = conn.run_pending_migrations(MIGRATIONS).unwrap();
    let applied: Vec<String> = applied.iter().map(|v| v.to_string()).collect();
    assert_eq!(applied, ["20260101000001", "20260102000001"]);
    assert!(!conn.has_pending_migration(MIGRATIONS).unwrap());
    assert_eq!(
        columns(conn, "posts"),
        [
            "id",
            "user_id",
            "title",
            "body",
            "published",
            "views",
            "meta"
        ]
    );

    let reverted = conn.revert_last_migration(MIGRATIONS).unwrap();
    assert_eq!(reverted.to_string(), "20260102000001");
    assert_eq!(
        columns(conn, "posts"),
        ["id", "user_id", "title", "body", "published", "views"]
    );
    assert_eq!(
        columns(conn, "users"),
        ["id", "name", "email", "created_at"]
    );
    let still: Vec<String> = conn
        .applied_migrations()
        .unwrap()
        .iter()
        .map(|v| v.to_string())
        .collect();
    assert_eq!(still, ["20260101000001"]);

    assert!(conn.has_pending_migration(MIGRATIONS).unwrap());
    let applied = conn.run_pending_migrations(MIGRATIONS).unwrap();
    assert_eq!(applied.len(), 1);
    assert_eq!(
        columns(conn, "users"),
        ["id", "name", "email", "created_at", "active"]
    );
}

/// Reads: inserts returning whole rows, then filters, joins and aggregates over them.
fn query(conn: &mut PgConnection) -> (User, User) {
    let people = diesel::insert_into(users::table)
        .values(&vec![
            NewUser {
                name: "Ann",
                email: "ann@x",
            },
            NewUser {
                name: "Bob",
                email: "bob@x",
            },
        ])
        .returning(User::as_returning())
        .get_results(conn)
        .unwrap();
    let [ann, bob]: [User; 2] = people.try_into().unwrap();
    assert!(ann.active && ann.id < bob.id);
    assert!(ann.created_at <= Utc::now().naive_utc() + chrono::Duration::minutes(1));

    // One post with every column given, the rest from the columns' defaults (DEFAULT in VALUES).
    let first = diesel::insert_into(posts::table)
        .values(NewPost {
            body: Some("hello"),
            published: Some(true),
            meta: Some(json!({"tags": ["a", "b"], "lang": "en"})),
            ..NewPost::new(ann.id, "first")
        })
        .returning(Post::as_returning())
        .get_result(conn)
        .unwrap();
    assert_eq!((first.views, first.meta["lang"].as_str()), (0, Some("en")));
    let ids: Vec<i32> = diesel::insert_into(posts::table)
        .values(&vec![
            NewPost::new(ann.id, "second"),
            NewPost::new(bob.id, "third"),
        ])
        .returning(posts::id)
        .get_results(conn)
        .unwrap();
    assert_eq!(ids.len(), 2);
    let second = posts::table
        .find(ids[0])
        .select(Post::as_select())
        .first(conn)
        .unwrap();
    assert_eq!(
        (second.published, second.body, second.meta),
        (false, None, json!({}))
    );

    let latest: Vec<String> = posts::table
        .filter(posts::title.like("%ir%").or(posts::body.is_null()))
        .order(posts::id.desc())
        .limit(2)
        .select(posts::title)
        .load(conn)
        .unwrap();
    assert_eq!(latest, ["third", "second"]);
    // eq_any binds the whole list as one array parameter: `= ANY($1)`.
    let some = posts::table
        .filter(posts::id.eq_any(&ids))
        .filter(posts::published.eq(false))
        .count()
        .get_result::<i64>(conn)
        .unwrap();
    assert_eq!(some, 2);
    let missing = users::table
        .find(-1)
        .select(User::as_select())
        .first(conn)
        .optional()
        .unwrap();
    assert_eq!(missing, None);
    let tagged: Vec<String> = posts::table
        .filter(posts::meta.contains(json!({"tags": ["a"]})))
        .select(posts::title)
        .load(conn)
        .unwrap();
    assert_eq!(tagged, ["first"]);
    assert!(
        diesel::select(exists(users::table.filter(users::created_at.le(now))))
            .get_result::<bool>(conn)
            .unwrap()
    );

    let joined: Vec<(String, String)> = posts::table
        .inner_join(users::table)
        .select((users::name, posts::title))
        .order(posts::id)
        .load(conn)
        .unwrap();
    assert_eq!(
        joined,
        [
            ("Ann".into(), "first".into()),
            ("Ann".into(), "second".into()),
            ("Bob".into(), "third".into())
        ]
    );
    // belonging_to + grouped_by: the one-to-many load of associations.
    let all_users = users::table
        .order(users::id)
        .select(User::as_select())
        .load(conn)
        .unwrap();
    let by_user: Vec<Vec<Post>> = Post::belonging_to(&all_users)
        .select(Post::as_select())
        .load(conn)
        .unwrap()
        .grouped_by(&all_users);
    assert_eq!(by_user.iter().map(Vec::len).collect::<Vec<_>>(), [2, 1]);

    let cy = diesel::insert_into(users::table)
        .values(NewUser {
            name: "Cy",
            email: "cy@x",
        })
        .returning(User::as_returning())
        .get_result(conn)
        .unwrap();
    let left: Vec<(String, Option<String>)> = users::table
        .left_join(posts::table)
        .select((users::name, posts::title.nullable()))
        .order((users::id, posts::id.nullable()))
        .load(conn)
        .unwrap();
    assert_eq!(left.last().unwrap(), &("Cy".to_string(), None));
    assert_eq!(left.len(), 4);

    // Grouped by the primary key, so the table's other columns may be selected too.
    let per_user: Vec<(String, i64)> = users::table
        .left_join(posts::table)
        .group_by(users::id)
        .select((users::name, count(posts::id.nullable())))
        .order(users::id)
        .load(conn)
        .unwrap();
    assert_eq!(
        per_user,
        [("Ann".into(), 2), ("Bob".into(), 1), ("Cy".into(), 0)]
    );
    let busiest: Vec<(i32, i64)> = posts::table
        .group_by(posts::user_id)
        .select((posts::user_id, count_star()))
        .having(count_star().gt(1))
        .load(conn)
        .unwrap();
    assert_eq!(busiest, [(ann.id, 2)]);

    diesel::delete(&cy).execute(conn).unwrap();
    (ann, bob)
}

/// Writes: updates by expression and by changeset, upserts, deletes, the constraints' errors.
fn write(conn: &mut PgConnection, ann: User, bob: User) {
    let n = diesel::update(posts::table.filter(posts::user_id.eq(ann.id)))
        .set((posts::views.eq(posts::views + 5), posts::published.eq(true)))
        .execute(conn)
        .unwrap();
    assert_eq!(n, 2);
    let third: Post = diesel::update(posts::table.filter(posts::title.eq("third")))
        .set(&PostChanges {
            title: Some("3rd"),
            body: Some(Some("text")),
        })
        .returning(Post::as_returning())
        .get_result(conn)
        .unwrap();
    assert_eq!(
        (third.title.as_str(), third.body.as_deref()),
        ("3rd", Some("text"))
    );
    // A changeset's None leaves the column alone; Some(None) writes NULL.
    diesel::update(&third)
        .set(&PostChanges {
            title: None,
            body: Some(None),
        })
        .execute(conn)
        .unwrap();
    let third: Post = posts::table
        .find(third.id)
        .select(Post::as_select())
        .first(conn)
        .unwrap();
    assert_eq!((third.title.as_str(), third.body), ("3rd", None));
    let total: Option<i32> = posts::table.select(max(posts::views)).first(conn).unwrap();
    assert_eq!(total, Some(5));

    // Upserts on the unique email: the existing row updated from EXCLUDED, or left alone.
    let renamed: User = diesel::insert_into(users::table)
        .values(NewUser {
            name: "Annie",
            email: "ann@x",
        })
        .on_conflict(users::email)
        .do_update()
        .set(users::name.eq(excluded(users::name)))
        .returning(User::as_returning())
        .get_result(conn)
        .unwrap();
    assert_eq!((renamed.id, renamed.name.as_str()), (ann.id, "Annie"));
    let n = diesel::insert_into(users::table)
        .values(NewUser {
            name: "other",
            email: "bob@x",
        })
        .on_conflict_do_nothing()
        .execute(conn)
        .unwrap();
    assert_eq!(n, 0);
    // An upsert on the composite unique index the second migration made.
    diesel::insert_into(posts::table)
        .values(NewPost {
            body: Some("again"),
            ..NewPost::new(bob.id, "3rd")
        })
        .on_conflict((posts::user_id, posts::title))
        .do_update()
        .set(posts::body.eq(excluded(posts::body)))
        .execute(conn)
        .unwrap();
    let body: Option<String> = posts::table
        .find(third.id)
        .select(posts::body)
        .first(conn)
        .unwrap();
    assert_eq!(body.as_deref(), Some("again"));

    // The constraints' errors, told apart by their SQLSTATE, with the constraint named.
    match diesel::insert_into(users::table)
        .values(NewUser {
            name: "B2",
            email: "bob@x",
        })
        .execute(conn)
    {
        Err(Error::DatabaseError(DatabaseErrorKind::UniqueViolation, info)) => {
            assert_eq!(info.constraint_name(), Some("users_email_key"));
        }
        other => panic!("a duplicate email: {other:?}"),
    }
    match diesel::insert_into(posts::table)
        .values(NewPost::new(-1, "orphan"))
        .execute(conn)
    {
        Err(Error::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, _)) => {}
        other => panic!("a post of no user: {other:?}"),
    }
    match diesel::update(users::table.find(bob.id))
        .set(users::name.eq("x".repeat(51)))
        .execute(conn)
    {
        Err(Error::DatabaseError(_, info)) => {
            assert!(info.message().contains("too long"), "{}", info.message())
        }
        other => panic!("a name past VARCHAR(50): {other:?}"),
    }

    let n = diesel::delete(posts::table.filter(posts::title.eq("second")))
        .execute(conn)
        .unwrap();
    assert_eq!(n, 1);
    // Deleting a user takes its posts with it (ON DELETE CASCADE).
    diesel::delete(users::table.find(bob.id))
        .execute(conn)
        .unwrap();
    let left: Vec<String> = posts::table
        .select(posts::title)
        .order(posts::id)
        .load(conn)
        .unwrap();
    assert_eq!(left, ["first"]);
}

/// Transactions: committed, rolled back, and nested ones (savepoints) rolled back alone.
fn transactions(conn: &mut PgConnection) {
    let names = |conn: &mut PgConnection| -> Vec<String> {
        users::table
            .select(users::name)
            .order(users::id)
            .load(conn)
            .unwrap()
    };
    conn.transaction(|conn| {
        diesel::insert_into(users::table)
            .values(NewUser {
                name: "Dan",
                email: "dan@x",
            })
            .execute(conn)
    })
    .unwrap();
    let undone = conn.transaction::<(), _, _>(|conn| {
        diesel::insert_into(users::table)
            .values(NewUser {
                name: "Eve",
                email: "eve@x",
            })
            .execute(conn)?;
        assert_eq!(names(conn).len(), 3);
        Err(Error::RollbackTransaction)
    });
    assert!(matches!(undone, Err(Error::RollbackTransaction)));
    assert_eq!(names(conn), ["Annie", "Dan"]);

    // A failed statement inside: the inner transaction (a savepoint) rolls back, the outer one
    // carries on and commits.
    conn.transaction(|conn| {
        diesel::insert_into(users::table)
            .values(NewUser {
                name: "Fay",
                email: "fay@x",
            })
            .execute(conn)?;
        let inner = conn.transaction(|conn| {
            diesel::insert_into(users::table)
                .values(NewUser {
                    name: "Gil",
                    email: "gil@x",
                })
                .execute(conn)?;
            diesel::insert_into(users::table)
                .values(NewUser {
                    name: "dup",
                    email: "fay@x",
                })
                .execute(conn)
        });
        assert!(matches!(
            inner,
            Err(Error::DatabaseError(DatabaseErrorKind::UniqueViolation, _))
        ));
        // SELECT ... FOR UPDATE locks the row for the rest of the transaction.
        let dan: User = users::table
            .filter(users::name.eq("Dan"))
            .for_update()
            .select(User::as_select())
            .first(conn)?;
        diesel::update(&dan)
            .set(users::active.eq(false))
            .execute(conn)?;
        Ok::<_, Error>(())
    })
    .unwrap();
    assert_eq!(names(conn), ["Annie", "Dan", "Fay"]);
    let active: Vec<bool> = users::table
        .select(users::active)
        .order(users::id)
        .load(conn)
        .unwrap();
    assert_eq!(active, [true, false, true]);

    // An error the closure returns rolls the whole transaction back, its savepoints too.
    let failed = conn.transaction::<(), _, _>(|conn| {
        conn.transaction(|conn| {
            diesel::insert_into(users::table)
                .values(NewUser {
                    name: "Hal",
                    email: "hal@x",
                })
                .execute(conn)
        })?;
        diesel::insert_into(posts::table)
            .values(NewPost::new(-1, "orphan"))
            .execute(conn)?;
        Ok(())
    });
    assert!(matches!(
        failed,
        Err(Error::DatabaseError(
            DatabaseErrorKind::ForeignKeyViolation,
            _
        ))
    ));
    assert_eq!(names(conn), ["Annie", "Dan", "Fay"]);
    // The isolation level and access mode as diesel's builder sets them with BEGIN.
    let n = conn
        .build_transaction()
        .serializable()
        .read_only()
        .run(|conn| users::table.count().get_result::<i64>(conn))
        .unwrap();
    assert_eq!(n, 3);
}
