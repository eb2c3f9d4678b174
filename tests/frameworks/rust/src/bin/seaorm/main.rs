//! SeaORM 1 (sqlx, tokio, rustls) against a server on 127.0.0.1:<port>, as a project uses it:
//! its Migrator (sea-orm-migration) up, the last migration down and up again, checked with the
//! SchemaManager's introspection; entities with a has_many / belongs_to relation; ActiveModel
//! inserts, updates and deletes; finds with filters, related rows and aggregates; transactions
//! with savepoints and row locks; upserts. Prints "seaorm ok" at its end; exits non-zero on
//! the first failure.
//!
//!   cargo run --manifest-path tests/frameworks/rust/Cargo.toml --bin seaorm -- <port>

mod entity;
mod migration;

use entity::{posts, users};
use migration::Migrator;
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, Database, DatabaseConnection, DbErr,
    EntityTrait, FromQueryResult, IntoActiveModel, LoaderTrait, ModelTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Set, SqlErr, TransactionError, TransactionTrait,
    TryInsertResult, prelude::Json,
};
use sea_orm_migration::{MigratorTrait, SchemaManager};
use serde_json::json;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), DbErr> {
    let port = std::env::args()
        .last()
        .expect("the server's port as the last argument");
    let admin = Database::connect(format!("postgres://postgres@127.0.0.1:{port}/postgres")).await?;
    admin
        .execute_unprepared("DROP DATABASE IF EXISTS seaorm")
        .await?;
    admin.execute_unprepared("CREATE DATABASE seaorm").await?;
    admin.close().await?;
    let db = Database::connect(format!("postgres://postgres@127.0.0.1:{port}/seaorm")).await?;

    migrate(&db).await?;
    let ann = write(&db).await?;
    query(&db, &ann).await?;
    transactions(&db).await?;
    db.close().await?;
    println!("seaorm ok");
    Ok(())
}

/// The Migrator as `sea-orm-cli migrate up` / `down` runs it (each run in a transaction,
/// recorded in seaql_migrations), checked as the SchemaManager sees the tables.
async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    let manager = SchemaManager::new(db);
    Migrator::up(db, None).await?;
    let applied: Vec<String> = Migrator::get_applied_migrations(db)
        .await?
        .iter()
        .map(|m| m.name().to_string())
        .collect();
    assert_eq!(
        applied,
        [
            "m20260101_000001_create_tables",
            "m20260102_000001_alter_posts"
        ]
    );
    assert!(manager.has_table("users").await? && manager.has_table("posts").await?);
    assert!(!manager.has_table("missing").await?);
    assert!(
        manager.has_column("posts", "content").await?
            && manager.has_column("posts", "views").await?
    );
    assert!(!manager.has_column("posts", "body").await?);
    assert!(manager.has_index("posts", "idx_posts_title").await?);

    Migrator::down(db, Some(1)).await?;
    assert!(manager.has_column("posts", "body").await?);
    assert!(
        !manager.has_column("posts", "content").await?
            && !manager.has_column("posts", "views").await?
    );
    assert_eq!(Migrator::get_pending_migrations(db).await?.len(), 1);

    Migrator::up(db, None).await?;
    assert!(Migrator::get_pending_migrations(db).await?.is_empty());
    assert!(manager.has_column("posts", "content").await?);
    Ok(())
}

/// ActiveModels inserted, updated and deleted; upserts; the constraints' errors.
async fn write(db: &DatabaseConnection) -> Result<users::Model, DbErr> {
    let user = |name: &str, email: &str| users::ActiveModel {
        name: Set(name.to_owned()),
        email: Set(email.to_owned()),
        ..Default::default()
    };
    // insert() reads the whole row back (RETURNING), the defaults filled in.
    let ann = user("Ann", "ann@x").insert(db).await?;
    assert!(ann.id > 0 && ann.created_at <= chrono::Utc::now() + chrono::Duration::minutes(1));
    let many = users::Entity::insert_many([user("Bob", "bob@x"), user("Cy", "cy@x")])
        .exec(db)
        .await?;
    assert_eq!(many.last_insert_id, ann.id + 2);

    let first = posts::ActiveModel {
        user_id: Set(ann.id),
        title: Set("first".into()),
        meta: Set(Some(json!({"tags": ["a", "b"], "lang": "en"}))),
        content: Set(Some("hello".into())),
        ..Default::default()
    }
    .insert(db)
    .await?;
    assert_eq!(
        (first.views, first.meta.as_ref().map(|m| m["lang"].clone())),
        (0, Some(json!("en")))
    );
    let post = |user_id: i32, title: &str| posts::ActiveModel {
        user_id: Set(user_id),
        title: Set(title.to_owned()),
        ..Default::default()
    };
    posts::Entity::insert_many([post(ann.id, "second"), post(ann.id + 1, "third")])
        .exec(db)
        .await?;

    // Only the fields Set are written; the model read back whole.
    let mut second: posts::ActiveModel = posts::Entity::find()
        .filter(posts::Column::Title.eq("second"))
        .one(db)
        .await?
        .unwrap()
        .into();
    second.content = Set(Some("more".into()));
    second.views = Set(3);
    let second = second.update(db).await?;
    assert_eq!(
        (second.content.as_deref(), second.meta.clone()),
        (Some("more"), None)
    );
    let bumped = posts::Entity::update_many()
        .col_expr(
            posts::Column::Views,
            Expr::col(posts::Column::Views).add(10),
        )
        .filter(posts::Column::UserId.eq(ann.id))
        .exec(db)
        .await?;
    assert_eq!(bumped.rows_affected, 2);

    // Upserts on the unique email: the existing row updated, or nothing done.
    let upsert = users::Entity::insert(user("Annie", "ann@x"))
        .on_conflict(
            OnConflict::column(users::Column::Email)
                .update_column(users::Column::Name)
                .to_owned(),
        )
        .exec(db)
        .await?;
    assert_eq!(upsert.last_insert_id, ann.id);
    let skipped = users::Entity::insert(user("other", "bob@x"))
        .on_conflict(
            OnConflict::column(users::Column::Email)
                .do_nothing()
                .to_owned(),
        )
        .do_nothing()
        .exec(db)
        .await?;
    assert!(matches!(skipped, TryInsertResult::Conflicted));
    let ann = users::Entity::find_by_id(ann.id).one(db).await?.unwrap();
    assert_eq!(ann.name, "Annie");

    // The constraints' errors, told apart by their SQLSTATE.
    let dup = user("B2", "bob@x").insert(db).await.unwrap_err();
    assert!(
        matches!(dup.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))),
        "{dup:?}"
    );
    let orphan = post(-1, "orphan").insert(db).await.unwrap_err();
    assert!(
        matches!(
            orphan.sql_err(),
            Some(SqlErr::ForeignKeyConstraintViolation(_))
        ),
        "{orphan:?}"
    );

    // Deleting a user takes its posts with it (ON DELETE CASCADE).
    let cy = users::Entity::find()
        .filter(users::Column::Email.eq("cy@x"))
        .one(db)
        .await?
        .unwrap();
    assert_eq!(cy.delete(db).await?.rows_affected, 1);
    let gone = posts::Entity::delete_many()
        .filter(posts::Column::Title.starts_with("thi"))
        .exec(db)
        .await?;
    assert_eq!(gone.rows_affected, 1);
    posts::Entity::insert(post(ann.id + 1, "third"))
        .exec(db)
        .await?;
    Ok(ann)
}

#[derive(FromQueryResult, Debug, PartialEq)]
struct UserStats {
    name: String,
    posts: i64,
    views: Option<i64>,
}

/// Finds: filters, ordering and paging, related rows three ways, aggregates.
async fn query(db: &DatabaseConnection, ann: &users::Model) -> Result<(), DbErr> {
    let titles: Vec<String> = posts::Entity::find()
        .filter(
            Condition::any()
                .add(posts::Column::Title.contains("ir"))
                .add(posts::Column::Content.is_null()),
        )
        .filter(posts::Column::Views.lt(100))
        .order_by_desc(posts::Column::Id)
        .limit(2)
        .all(db)
        .await?
        .into_iter()
        .map(|p| p.title)
        .collect();
    assert_eq!(titles, ["third", "first"]);
    let among = posts::Entity::find()
        .filter(posts::Column::Title.is_in(["first", "second", "nope"]))
        .count(db)
        .await?;
    assert_eq!(among, 2);
    assert_eq!(users::Entity::find_by_id(-1).one(db).await?, None);
    let first = posts::Entity::find()
        .filter(posts::Column::Title.eq("first"))
        .one(db)
        .await?
        .unwrap();
    assert_eq!(
        first.meta,
        Some(json!({"tags": ["a", "b"], "lang": "en"}) as Json)
    );

    // Pages count the rows with a subquery, then fetch with LIMIT / OFFSET.
    let pages = posts::Entity::find()
        .order_by_asc(posts::Column::Id)
        .paginate(db, 2);
    assert_eq!(pages.num_items_and_pages().await?.number_of_pages, 2);
    assert_eq!(pages.fetch_page(1).await?.len(), 1);

    // Related rows: joined (find_with_related), one query more (loader), and from one model.
    let with_posts = users::Entity::find()
        .find_with_related(posts::Entity)
        .order_by_asc(users::Column::Id)
        .order_by_asc(posts::Column::Id)
        .all(db)
        .await?;
    let shape: Vec<(&str, Vec<&str>)> = with_posts
        .iter()
        .map(|(u, ps)| {
            (
                u.name.as_str(),
                ps.iter().map(|p| p.title.as_str()).collect(),
            )
        })
        .collect();
    assert_eq!(
        shape,
        [("Annie", vec!["first", "second"]), ("Bob", vec!["third"])]
    );
    let everyone = users::Entity::find()
        .order_by_asc(users::Column::Id)
        .all(db)
        .await?;
    let loaded = everyone.load_many(posts::Entity, db).await?;
    assert_eq!(loaded.iter().map(Vec::len).collect::<Vec<_>>(), [2, 1]);
    assert_eq!(ann.find_related(posts::Entity).count(db).await?, 2);
    let (post, author) = posts::Entity::find()
        .find_also_related(users::Entity)
        .order_by_desc(posts::Column::Id)
        .one(db)
        .await?
        .unwrap();
    assert_eq!(
        (post.title.as_str(), author.map(|a| a.name)),
        ("third", Some("Bob".into()))
    );

    // Aggregates: COUNT and SUM over a LEFT JOIN, grouped by the user's key.
    let stats = users::Entity::find()
        .select_only()
        .column(users::Column::Name)
        .column_as(posts::Column::Id.count(), "posts")
        .column_as(posts::Column::Views.sum(), "views")
        .left_join(posts::Entity)
        .group_by(users::Column::Id)
        .order_by_asc(users::Column::Id)
        .into_model::<UserStats>()
        .all(db)
        .await?;
    assert_eq!(
        stats,
        [
            UserStats {
                name: "Annie".into(),
                posts: 2,
                views: Some(23)
            },
            UserStats {
                name: "Bob".into(),
                posts: 1,
                views: Some(0)
            },
        ]
    );
    let (most, total): (Option<i32>, Option<i64>) = posts::Entity::find()
        .select_only()
        .column_as(posts::Column::Views.max(), "most")
        .column_as(posts::Column::Views.sum(), "total")
        .into_tuple()
        .one(db)
        .await?
        .unwrap();
    assert_eq!((most, total), (Some(13), Some(23)));
    Ok(())
}

/// Transactions: the closure committed or rolled back, nested ones as savepoints, row locks.
async fn transactions(db: &DatabaseConnection) -> Result<(), DbErr> {
    let user = |name: &str, email: &str| users::ActiveModel {
        name: Set(name.to_owned()),
        email: Set(email.to_owned()),
        ..Default::default()
    };
    let names = || async {
        let all = users::Entity::find()
            .order_by_asc(users::Column::Id)
            .all(db)
            .await?;
        Ok::<_, DbErr>(all.into_iter().map(|u| u.name).collect::<Vec<_>>())
    };

    db.transaction::<_, _, DbErr>(|txn| {
        Box::pin(async move {
            user("Dan", "dan@x").insert(txn).await?;
            Ok(())
        })
    })
    .await
    .map_err(|e| DbErr::Custom(e.to_string()))?;
    let undone = db
        .transaction::<_, (), DbErr>(|txn| {
            Box::pin(async move {
                user("Eve", "eve@x").insert(txn).await?;
                assert_eq!(users::Entity::find().count(txn).await?, 4);
                Err(DbErr::Custom("undo".into()))
            })
        })
        .await;
    assert!(matches!(
        undone,
        Err(TransactionError::Transaction(DbErr::Custom(_)))
    ));
    assert_eq!(names().await?, ["Annie", "Bob", "Dan"]);

    // A failed statement inside: the nested transaction (a savepoint) rolls back, the outer
    // one carries on and commits.
    let txn = db.begin().await?;
    user("Fay", "fay@x").insert(&txn).await?;
    let inner = txn
        .transaction::<_, (), DbErr>(|inner| {
            Box::pin(async move {
                user("Gil", "gil@x").insert(inner).await?;
                user("dup", "fay@x").insert(inner).await?;
                Ok(())
            })
        })
        .await;
    match inner {
        Err(TransactionError::Transaction(e)) => {
            assert!(
                matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))),
                "{e:?}"
            )
        }
        other => panic!("a duplicate email: {other:?}"),
    }
    // A savepoint rolled back by hand, and SELECT ... FOR UPDATE locking a row to change it.
    let savepoint = txn.begin().await?;
    user("Hal", "hal@x").insert(&savepoint).await?;
    savepoint.rollback().await?;
    let dan = users::Entity::find()
        .filter(users::Column::Name.eq("Dan"))
        .lock_exclusive()
        .one(&txn)
        .await?
        .unwrap();
    let mut dan = dan.into_active_model();
    dan.name = Set("Daniel".into());
    dan.update(&txn).await?;
    txn.commit().await?;
    assert_eq!(names().await?, ["Annie", "Bob", "Daniel", "Fay"]);

    // A transaction dropped without commit rolls back.
    {
        let txn = db.begin().await?;
        user("Ida", "ida@x").insert(&txn).await?;
    }
    assert_eq!(names().await?.len(), 4);
    Ok(())
}
