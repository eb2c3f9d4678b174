"""The tables a release later: a column added (with a server default), one widened, one
dropped, a table and a unique constraint added."""
from sqlalchemy import (
    Boolean, Column, DateTime, ForeignKey, Integer, MetaData, String, Table, UniqueConstraint,
    false,
)

metadata = MetaData()

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(100), nullable=False),
    Column("email", String(120), unique=True),
    Column("active", Boolean, nullable=False, server_default=false()),
)

posts = Table(
    "posts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("title", String(200), nullable=False, index=True),
    Column("created", DateTime(timezone=True)),
    UniqueConstraint("user_id", "title", name="posts_user_title_key"),
)

tags = Table(
    "tags",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("label", String(30), nullable=False, unique=True),
)
