import java.math.BigDecimal;
import java.sql.*;
import java.time.*;
import java.util.UUID;

/** JDBC (Debian's libpostgresql-jdbc-java) against litescale: the driver matrix's program
 *  (every common type through PreparedStatement, NULL, update and delete, commit and
 *  rollback, 23505, a statement reused past the driver's server-prepare threshold, a batch
 *  of 1,000) and the DatabaseMetaData calls tools use to list tables and columns. Run by
 *  tests/e2e/drivers.rs with the server's port; throws on the first failure. */
public class JdbcCatalog {
    static void check(boolean ok, String what) {
        if (!ok) throw new AssertionError(what);
    }

    public static void main(String[] args) throws Exception {
        String url = "jdbc:postgresql://127.0.0.1:" + args[0] + "/postgres";
        try (Connection c = DriverManager.getConnection(url, "postgres", "")) {
            try (Statement s = c.createStatement()) {
                s.execute("create table jt (id int primary key, name varchar(10) not null, at timestamp)");
            }
            c.setAutoCommit(false);
            try (PreparedStatement p = c.prepareStatement("insert into jt values (?, ?, ?)")) {
                for (int i = 0; i < 100; i++) {
                    p.setInt(1, i);
                    p.setString(2, "n" + i);
                    p.setTimestamp(3, new Timestamp(1_000L * i));
                    p.addBatch();
                }
                check(p.executeBatch().length == 100, "batch");
            }
            c.commit();
            try (PreparedStatement p = c.prepareStatement("select name, at from jt where id = ?")) {
                p.setInt(1, 7);
                try (ResultSet r = p.executeQuery()) {
                    check(r.next() && r.getString(1).equals("n7"), "select");
                    check(r.getTimestamp(2).getTime() == 7_000L, "timestamp " + r.getTimestamp(2));
                }
            }
            DatabaseMetaData md = c.getMetaData();
            check(md.getDatabaseProductVersion().startsWith("15"), "version");
            boolean found = false;
            try (ResultSet r = md.getTables(null, "public", "%", new String[] {"TABLE"})) {
                while (r.next()) found |= r.getString("TABLE_NAME").equals("jt");
            }
            check(found, "getTables lists jt");
            StringBuilder cols = new StringBuilder();
            try (ResultSet r = md.getColumns(null, "public", "jt", "%")) {
                while (r.next()) {
                    cols.append(r.getString("COLUMN_NAME")).append(':').append(r.getString("TYPE_NAME"))
                        .append(':').append(r.getString("IS_NULLABLE")).append(' ');
                }
            }
            check(cols.toString().equals("id:int4:NO name:varchar:NO at:timestamp:YES "), "getColumns " + cols);
            try (ResultSet r = md.getPrimaryKeys(null, "public", "jt")) {
                check(r.next() && r.getString("COLUMN_NAME").equals("id")
                    && r.getString("PK_NAME").equals("jt_pkey") && !r.next(), "getPrimaryKeys");
            }
            try (Statement s = c.createStatement()) {
                s.execute("create index jt_by_name on jt (name, at)");
                s.execute("create table jref (id int primary key, jt_id int references jt(id))");
            }
            c.commit();
            StringBuilder idx = new StringBuilder();
            try (ResultSet r = md.getIndexInfo(null, "public", "jt", false, false)) {
                while (r.next()) {
                    idx.append(r.getString("INDEX_NAME")).append(':').append(r.getString("COLUMN_NAME"))
                        .append(':').append(r.getInt("ORDINAL_POSITION")).append(' ');
                }
            }
            check(idx.toString().equals("jt_pkey:id:1 jt_by_name:name:1 jt_by_name:at:2 "), "getIndexInfo " + idx);
            try (ResultSet r = md.getImportedKeys(null, "public", "jref")) {
                check(r.next() && r.getString("PKTABLE_NAME").equals("jt")
                    && r.getString("FKCOLUMN_NAME").equals("jt_id")
                    && r.getString("PKCOLUMN_NAME").equals("id"), "getImportedKeys");
            }
        }
        try (Connection c = DriverManager.getConnection(url, "postgres", "")) {
            matrix(c);
        }
        System.out.println("jdbc ok");
    }

    static void matrix(Connection c) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute("create table jm (id int primary key, big bigint, f float8, n numeric(12, 2),"
                + " t text, b bytea, ok boolean, d date, ts timestamp, tz timestamptz, j json, u uuid)");
        }
        OffsetDateTime at = OffsetDateTime.of(2024, 5, 6, 7, 8, 9, 123_456_000, ZoneOffset.UTC);
        UUID key = UUID.fromString("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
        try (PreparedStatement p = c.prepareStatement(
                "insert into jm values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
            p.setInt(1, 1);
            p.setLong(2, 9_007_199_254_740_993L);
            p.setDouble(3, 1.5);
            p.setBigDecimal(4, new BigDecimal("12345.67"));
            p.setString(5, "héllo ✓ 🐘");
            p.setBytes(6, new byte[] {0, 1, (byte) 255});
            p.setBoolean(7, true);
            p.setObject(8, LocalDate.of(2024, 5, 6));
            p.setObject(9, at.toLocalDateTime());
            p.setObject(10, at);
            p.setObject(11, "{\"a\": [1, 2]}", Types.OTHER);
            p.setObject(12, key);
            check(p.executeUpdate() == 1, "insert");
            for (int i = 2; i <= 12; i++) p.setNull(i, Types.NULL);
            p.setInt(1, 2);
            check(p.executeUpdate() == 1, "insert NULLs");
        }
        try (PreparedStatement p = c.prepareStatement("select * from jm where id = ?")) {
            p.setInt(1, 1);
            try (ResultSet r = p.executeQuery()) {
                check(r.next(), "row");
                check(r.getLong("big") == 9_007_199_254_740_993L && r.getDouble("f") == 1.5, "numbers");
                check(r.getBigDecimal("n").compareTo(new BigDecimal("12345.67")) == 0, "numeric");
                check(r.getString("t").equals("héllo ✓ 🐘"), "text " + r.getString("t"));
                byte[] b = r.getBytes("b");
                check(b.length == 3 && b[2] == (byte) 255, "bytea");
                check(r.getBoolean("ok"), "bool");
                check(r.getObject("d", LocalDate.class).equals(LocalDate.of(2024, 5, 6)), "date");
                check(r.getObject("ts", LocalDateTime.class).equals(at.toLocalDateTime()), "timestamp");
                check(r.getObject("tz", OffsetDateTime.class).isEqual(at), "timestamptz " + r.getString("tz"));
                check(r.getString("j").replace(" ", "").equals("{\"a\":[1,2]}"), "json " + r.getString("j"));
                check(r.getObject("u", UUID.class).equals(key), "uuid");
            }
            p.setInt(1, 2);
            try (ResultSet r = p.executeQuery()) {
                check(r.next(), "NULL row");
                for (int i = 2; i <= 12; i++) check(r.getObject(i) == null, "NULL column " + i);
            }
        }
        try (Statement s = c.createStatement()) {
            check(s.executeUpdate("update jm set t = 'x' where id = 2") == 1, "update");
            check(s.executeUpdate("delete from jm where id = 2") == 1, "delete");
            c.setAutoCommit(false);
            s.execute("insert into jm (id, t) values (10, 'kept')");
            c.commit();
            s.execute("insert into jm (id, t) values (11, 'dropped')");
            c.rollback();
            c.setAutoCommit(true);
            StringBuilder ids = new StringBuilder();
            try (ResultSet r = s.executeQuery("select id from jm order by id")) {
                while (r.next()) ids.append(r.getInt(1)).append(' ');
            }
            check(ids.toString().equals("1 10 "), "transactions " + ids);
            try {
                s.execute("insert into jm (id) values (1)");
                check(false, "duplicate accepted");
            } catch (SQLException e) {
                check("23505".equals(e.getSQLState()), "sqlstate " + e.getSQLState());
            }
        }
        // The driver switches to a named server-side statement after prepareThreshold (5) uses.
        try (PreparedStatement p = c.prepareStatement("select t from jm where id = ?")) {
            for (int i = 0; i < 200; i++) {
                p.setInt(1, 10);
                try (ResultSet r = p.executeQuery()) {
                    check(r.next() && r.getString(1).equals("kept"), "prepared");
                }
            }
        }
        c.setAutoCommit(false);
        try (PreparedStatement p = c.prepareStatement("insert into jm (id, big) values (?, ?)")) {
            for (int i = 0; i < 1000; i++) {
                p.setInt(1, 1000 + i);
                p.setLong(2, i);
                p.addBatch();
            }
            check(p.executeBatch().length == 1000, "batch of 1000");
        }
        c.commit();
        c.setAutoCommit(true);
        try (Statement s = c.createStatement();
             ResultSet r = s.executeQuery("select count(*), sum(big) from jm where id >= 1000")) {
            check(r.next() && r.getLong(1) == 1000 && r.getLong(2) == 499_500, "batch sums");
        }
    }
}
