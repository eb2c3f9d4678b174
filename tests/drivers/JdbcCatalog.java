import java.sql.*;

/** JDBC (Debian's libpostgresql-jdbc-java) against litescale: prepared statements, a
 *  batch, and the DatabaseMetaData calls tools use to list tables and columns. Run by
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
            check(md.getDatabaseProductVersion().startsWith("16"), "version");
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
        System.out.println("jdbc ok");
    }
}
