"""Python drivers against litescale: psycopg 3 (text and binary), asyncpg, and the
catalog introspection they and SQLAlchemy do. Run by tests/e2e/drivers.rs with the port
of a running server; exits non-zero on the first failure."""
import asyncio
import datetime
import decimal
import json
import sys
import uuid

import asyncpg
import psycopg
import sqlalchemy as sa
from psycopg.types import TypeInfo

port = int(sys.argv[1])
dsn = f"host=127.0.0.1 port={port} user=postgres dbname=postgres"

now = datetime.datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=datetime.timezone.utc)
key = uuid.UUID("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11")
row = (1, "é ✓", now, decimal.Decimal("1.25"), key, True, b"\x00\x01")

with psycopg.connect(dsn) as c:
    c.execute(
        "create table p (id int primary key, name text, at timestamptz, n numeric(10,2),"
        " u uuid, ok boolean, b bytea)"
    )
    c.execute("insert into p values (%s, %s, %s, %s, %s, %s, %s)", row)
    assert c.execute("select * from p").fetchone() == row, "psycopg text"
    with c.cursor(binary=True) as cur:
        cur.execute("select * from p where id = %s", (1,))
        assert cur.fetchone() == row, "psycopg binary"
    for name, oid in [("uuid", 2950), ("numeric", 1700), ("jsonb", 3802), ("text", 25)]:
        info = TypeInfo.fetch(c, name)
        assert info is not None and info.oid == oid, (name, info)


async def with_asyncpg():
    c = await asyncpg.connect(f"postgresql://postgres@127.0.0.1:{port}/postgres")
    got = await c.fetchrow("select * from p where id = $1", 1)
    assert tuple(got) == row, ("asyncpg", got)
    # set_type_codec runs asyncpg's type introspection query.
    await c.set_type_codec("json", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")
    assert await c.fetchval("select '{\"a\": [1, 2]}'::json") == {"a": [1, 2]}
    await c.close()


asyncio.run(with_asyncpg())

engine = sa.create_engine(f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres")
with engine.connect() as conn:
    inspector = sa.inspect(conn)
    assert inspector.has_table("p")
    assert not inspector.has_table("nope")
    columns = {c["name"]: (str(c["type"]), c["nullable"]) for c in inspector.get_columns("p")}
    assert columns["id"] == ("INTEGER", False), columns
    assert columns["n"] == ("NUMERIC(10, 2)", True), columns
    assert columns["u"] == ("UUID", True), columns
    assert "p" in inspector.get_table_names()
    conn.exec_driver_sql("create table parent (id int primary key, code text unique)")
    conn.exec_driver_sql(
        "create table child (id int primary key, parent_id int references parent(id)"
        " on delete cascade, label text)"
    )
    conn.exec_driver_sql("create index child_by_label on child (label, parent_id)")
    conn.commit()
    indexes = inspector.get_indexes("child")
    assert [(i["name"], i["column_names"], i["unique"]) for i in indexes] == [
        ("child_by_label", ["label", "parent_id"], False)
    ], indexes
    assert inspector.get_pk_constraint("child")["constrained_columns"] == ["id"]
    uniques = inspector.get_unique_constraints("parent")
    assert [u["column_names"] for u in uniques] == [["code"]], uniques
    fks = inspector.get_foreign_keys("child")
    assert len(fks) == 1, fks
    fk = fks[0]
    assert (fk["constrained_columns"], fk["referred_table"], fk["referred_columns"]) == (
        ["parent_id"], "parent", ["id"]
    ), fk
    assert fk["options"].get("ondelete") == "CASCADE", fk
print("python drivers ok")

# The SQLAlchemy 2 ORM: declarative models, relationships, insertmanyvalues with
# RETURNING, commit and rollback, metadata reflection.
from sqlalchemy import ForeignKey, String, func, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class Author(Base):
    __tablename__ = "authors"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    created: Mapped[datetime.datetime] = mapped_column(server_default=func.now())
    books: Mapped[list["Book"]] = relationship(back_populates="author", cascade="all, delete-orphan")


class Book(Base):
    __tablename__ = "books"
    id: Mapped[int] = mapped_column(primary_key=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("authors.id"))
    title: Mapped[str]
    author: Mapped[Author] = relationship(back_populates="books")


Base.metadata.create_all(engine)
with Session(engine) as s:
    ann = Author(name="ann", books=[Book(title="a"), Book(title="b")])
    s.add(ann)
    s.commit()
    assert ann.id == 1 and sorted(b.id for b in ann.books) == [1, 2]
    assert ann.created is not None
    s.add(Author(name="bob"))
    s.rollback()
    assert s.scalars(select(Author.name)).all() == ["ann"]
    counts = s.execute(select(Author.name, func.count(Book.id)).join(Book).group_by(Author.name)).all()
    assert counts == [("ann", 2)], counts
    s.delete(ann)
    s.commit()
    assert s.scalar(select(func.count()).select_from(Book)) == 0
reflected = sa.MetaData()
reflected.reflect(engine)
assert {"authors", "books"} <= set(reflected.tables), reflected.tables
print("python orm ok")
