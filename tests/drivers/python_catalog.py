"""Python drivers against litescale: psycopg 3 (text and binary), asyncpg and the
SQLAlchemy 2 ORM, each through the driver matrix's program, and the catalog introspection
they do. Run by tests/e2e/drivers.rs with the port
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
    # RowDescription carries a column's declared length and precision, as Postgres sends
    # them (Django's inspectdb reads max_length and decimal places from them).
    c.execute("create table sized (code varchar(20), amount numeric(12,3), note text)")
    for binary in (False, True):
        with c.cursor(binary=binary) as cur:
            cur.execute("select * from sized")
            code, amount, note = cur.description
            assert code.display_size == 20, ("varchar length", code)
            assert (amount.precision, amount.scale) == (12, 3), ("numeric", amount)
            assert note.display_size is None, ("text", note)
    # Server-side cursors (DECLARE / FETCH / CLOSE), in a block and WITH HOLD outside one.
    c.execute("create table many (id int primary key, label text)")
    c.execute("insert into many select g, 'n' || g from generate_series(1, 25) g")
    with c.transaction():
        with c.cursor("in_block") as cur:
            cur.itersize = 4
            cur.execute("select id, label from many where id > %s order by id", (5,))
            assert [r[0] for r in cur] == list(range(6, 26)), "named cursor in a block"
    c.commit()
    c.autocommit = True
    with c.cursor("held", withhold=True) as cur:
        cur.execute("select id from many order by id")
        assert cur.fetchmany(3) == [(1,), (2,), (3,)], "held cursor"
        assert len(cur.fetchall()) == 22, "held cursor's rest"
    c.autocommit = False


async def with_asyncpg():
    c = await asyncpg.connect(f"postgresql://postgres@127.0.0.1:{port}/postgres")
    got = await c.fetchrow("select * from p where id = $1", 1)
    assert tuple(got) == row, ("asyncpg", got)
    # set_type_codec runs asyncpg's type introspection query.
    await c.set_type_codec("json", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")
    assert await c.fetchval("select '{\"a\": [1, 2]}'::json") == {"a": [1, 2]}
    await c.close()


asyncio.run(with_asyncpg())

# The driver matrix's program: every common type as a parameter (text and binary), NULL,
# update and delete, commit and rollback, 23505, a prepared statement reused, 1,000 inserts.
CREATE = """create table {t} (id int primary key, big bigint, f float8, n numeric(12, 2),
    t text, b bytea, ok boolean, d date, ts timestamp, tz timestamptz, j json, u uuid)"""
matrix_row = (
    1, 9007199254740993, 1.5, decimal.Decimal("12345.67"), "héllo ✓ 🐘", b"\x00\x01\xff",
    True, datetime.date(2024, 5, 6), now.replace(tzinfo=None), now, {"a": [1, 2]}, key,
)

for binary in (False, True):
    table = "pm_binary" if binary else "pm_text"
    with psycopg.connect(dsn) as c:
        c.execute(CREATE.format(t=table))
        with c.cursor(binary=binary) as cur:
            params = list(matrix_row)
            params[10] = psycopg.types.json.Json(params[10])
            cur.execute(f"insert into {table} values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)", params)
            cur.execute(f"insert into {table} (id) values (%s)", (2,))
            cur.execute(f"select * from {table} where id = %s", (1,))
            assert cur.fetchone() == matrix_row, ("psycopg matrix", binary)
            cur.execute(f"select * from {table} where id = 2")
            assert cur.fetchone()[1:] == (None,) * 11, "NULLs"
            assert cur.execute(f"update {table} set t = %s where id = %s", ("x", 2)).rowcount == 1
            assert cur.execute(f"delete from {table} where id = %s", (2,)).rowcount == 1
        c.commit()
        with c.transaction():
            c.execute(f"insert into {table} (id, t) values (10, 'kept')")
        try:
            with c.transaction():
                c.execute(f"insert into {table} (id, t) values (11, 'dropped')")
                raise RuntimeError("roll back")
        except RuntimeError:
            pass
        ids = [r[0] for r in c.execute(f"select id from {table} order by id")]
        assert ids == [1, 10], ids
        try:
            c.execute(f"insert into {table} (id) values (%s)", (1,))
            raise AssertionError("duplicate accepted")
        except psycopg.errors.UniqueViolation as e:
            assert e.sqlstate == "23505"
            c.rollback()
        for _ in range(200):
            got = c.execute(f"select t from {table} where id = %s", (10,), prepare=True).fetchone()
            assert got == ("kept",), got
        with c.transaction(), c.cursor(binary=binary) as cur:
            cur.executemany(
                f"insert into {table} (id, big) values (%s, %s)", [(1000 + i, i) for i in range(1000)]
            )
        got = c.execute(f"select count(*), sum(big) from {table} where id >= 1000").fetchone()
        assert got == (1000, 499500), got


async def asyncpg_matrix():
    c = await asyncpg.connect(f"postgresql://postgres@127.0.0.1:{port}/postgres")
    await c.execute(CREATE.format(t="am"))
    params = list(matrix_row)
    params[10] = json.dumps(params[10])
    await c.execute("insert into am values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)", *params)
    await c.execute("insert into am (id) values ($1)", 2)
    got = tuple(await c.fetchrow("select * from am where id = $1", 1))
    assert got[:10] == matrix_row[:10] and json.loads(got[10]) == matrix_row[10], got
    assert got[11] == key, got
    assert tuple(await c.fetchrow("select * from am where id = 2"))[1:] == (None,) * 11
    assert await c.execute("update am set t = $1 where id = $2", "x", 2) == "UPDATE 1"
    assert await c.execute("delete from am where id = $1", 2) == "DELETE 1"
    async with c.transaction():
        await c.execute("insert into am (id, t) values (10, 'kept')")
    try:
        async with c.transaction():
            await c.execute("insert into am (id, t) values (11, 'dropped')")
            raise RuntimeError("roll back")
    except RuntimeError:
        pass
    assert [r["id"] for r in await c.fetch("select id from am order by id")] == [1, 10]
    try:
        await c.execute("insert into am (id) values ($1)", 1)
        raise AssertionError("duplicate accepted")
    except asyncpg.exceptions.UniqueViolationError as e:
        assert e.sqlstate == "23505"
    by_id = await c.prepare("select t from am where id = $1")
    for _ in range(200):
        assert await by_id.fetchval(10) == "kept"
    async with c.transaction():
        await c.executemany("insert into am (id, big) values ($1, $2)", [(1000 + i, i) for i in range(1000)])
    assert tuple(await c.fetchrow("select count(*), sum(big) from am where id >= 1000")) == (1000, 499500)
    await c.close()


asyncio.run(asyncpg_matrix())
print("python matrix ok")

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


class Measure(Base):
    """Every common type through the ORM."""
    __tablename__ = "measures"
    id: Mapped[int] = mapped_column(primary_key=True)
    big: Mapped[int | None] = mapped_column(sa.BigInteger)
    f: Mapped[float | None]
    n: Mapped[decimal.Decimal | None] = mapped_column(sa.Numeric(12, 2))
    t: Mapped[str | None] = mapped_column(sa.Text, unique=True)
    b: Mapped[bytes | None]
    ok: Mapped[bool | None]
    d: Mapped[datetime.date | None]
    ts: Mapped[datetime.datetime | None]
    tz: Mapped[datetime.datetime | None] = mapped_column(sa.DateTime(timezone=True))
    j: Mapped[dict | None] = mapped_column(sa.JSON)
    u: Mapped[uuid.UUID | None]


Base.metadata.create_all(engine)
values = dict(zip(["id", "big", "f", "n", "t", "b", "ok", "d", "ts", "tz", "j", "u"], matrix_row))
with Session(engine) as s:
    s.add_all([Measure(**values), Measure(id=2)])
    s.commit()
    got = s.get(Measure, 1)
    assert {k: getattr(got, k) for k in values} == values, got.__dict__
    assert s.get(Measure, 2).tz is None
    s.add(Measure(id=3, t=values["t"]))
    try:
        s.commit()
        raise AssertionError("duplicate accepted")
    except sa.exc.IntegrityError as e:
        assert e.orig.sqlstate == "23505", e.orig
        s.rollback()
    s.add_all([Measure(id=1000 + i, big=i) for i in range(1000)])
    s.commit()
    assert s.scalar(select(func.sum(Measure.big)).where(Measure.id >= 1000)) == 499500
reflected = sa.MetaData()
reflected.reflect(engine)
assert {"authors", "books"} <= set(reflected.tables), reflected.tables
print("python orm ok")
