# The pg gem (Debian's ruby-pg) against litescale: parameters of every common type with
# typed results, update and delete, a committed and a rolled-back transaction, a unique
# violation (23505), a prepared statement reused, and 1,000 inserts in one transaction.
# Run by tests/e2e/drivers.rs with the server's port; raises on the first failure.
require 'pg'
require 'json'
require 'bigdecimal'

def check(ok, what)
  raise "check failed: #{what}" unless ok
end

c = PG.connect(host: '127.0.0.1', port: ARGV[0].to_i, user: 'postgres', dbname: 'postgres')
c.type_map_for_results = PG::BasicTypeMapForResults.new(c)
encoder = PG::BasicTypeMapForQueries.new(c)

c.exec(<<~SQL)
  create table ruby_t (id int primary key, big bigint, f float8, n numeric(12, 2), t text,
    b bytea, ok boolean, d date, ts timestamp, tz timestamptz, j json, u uuid)
SQL
at = Time.utc(2024, 5, 6, 7, 8, 9.5r)
params = [1, 9_007_199_254_740_993, 1.5, BigDecimal('12345.67'), 'héllo ✓ 🐘',
          PG::BasicTypeMapForQueries::BinaryData.new("\x00\x01\xFF".b), true, Date.new(2024, 5, 6),
          '2024-05-06 07:08:09.5', at, { 'a' => [1, 2] }, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11']
c.exec_params('insert into ruby_t values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)',
              params, 0, encoder)
c.exec_params('insert into ruby_t (id) values ($1)', [2], 0, encoder)
row = c.exec_params('select * from ruby_t where id = $1', [1]).first
check(row['id'] == 1 && row['big'] == 9_007_199_254_740_993, "integers #{row}")
check(row['f'] == 1.5 && row['n'] == BigDecimal('12345.67'), "numbers #{row}")
check(row['t'] == 'héllo ✓ 🐘' && row['t'].encoding == Encoding::UTF_8, "text #{row['t']}")
check(row['b'] == "\x00\x01\xFF".b, "bytea #{row['b'].inspect}")
check(row['ok'] == true && row['d'] == Date.new(2024, 5, 6), "bool/date #{row}")
check(row['ts'].utc == Time.utc(2024, 5, 6, 7, 8, 9.5r), "timestamp #{row['ts'].inspect}")
check(row['tz'] == at, "timestamptz #{row['tz'].inspect}")
check(row['j'] == { 'a' => [1, 2] }, "json #{row['j'].inspect}")
check(row['u'] == 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', "uuid #{row['u']}")
nulls = c.exec('select * from ruby_t where id = 2').first
check(nulls.all? { |k, v| k == 'id' || v.nil? }, "NULLs #{nulls}")

check(c.exec_params('update ruby_t set t = $1 where id = $2', ['x', 2]).cmd_tuples == 1, 'update')
check(c.exec_params('delete from ruby_t where id = $1', [2]).cmd_tuples == 1, 'delete')

c.transaction { |t| t.exec_params('insert into ruby_t (id, t) values ($1, $2)', [10, 'kept']) }
begin
  c.transaction do |t|
    t.exec_params('insert into ruby_t (id, t) values ($1, $2)', [11, 'dropped'])
    raise 'roll back'
  end
rescue RuntimeError
  nil
end
ids = c.exec('select id from ruby_t order by id').map { |r| r['id'] }
check(ids == [1, 10], "transactions #{ids}")

begin
  c.exec_params('insert into ruby_t (id) values ($1)', [1])
  check(false, 'duplicate accepted')
rescue PG::UniqueViolation => e
  check(e.result.error_field(PG::PG_DIAG_SQLSTATE) == '23505', 'sqlstate')
end

c.prepare('by_id', 'select t from ruby_t where id = $1')
200.times { check(c.exec_prepared('by_id', [10]).first['t'] == 'kept', 'prepared') }

c.prepare('add', 'insert into ruby_t (id, big) values ($1, $2)')
c.transaction { 1000.times { |i| c.exec_prepared('add', [1000 + i, i]) } }
sum = c.exec('select count(*) as n, sum(big) as s from ruby_t where id >= 1000').first
check(sum['n'] == 1000 && sum['s'].to_i == 499_500, "batch #{sum}")
c.close
puts 'ruby pg ok'
