# Ruby on Rails 6.1's ActiveRecord (Debian's ruby-activerecord, with ruby-pg) against a
# server on 127.0.0.1:<port>, as an application uses it: a migration with create_table,
# add_reference ... foreign_key: true, add_index, change_column, rename_column and
# remove_column; models with associations, validations and scopes; transactions,
# find_each, upsert_all, lock!; the schema dumped by ActiveRecord::SchemaDumper. Prints
# "rails ok" at its end; exits non-zero on the first failure.
#
#   ruby tests/frameworks/rails/run.rb <port>
require 'active_record'
require 'stringio'

PORT = Integer(ARGV.fetch(0))

def check(got, expected, what)
  return if got == expected

  warn "rails: #{what}: expected #{expected.inspect}, got #{got.inspect}"
  exit 1
end

ActiveRecord::Base.establish_connection(adapter: 'postgresql', host: '127.0.0.1', port: PORT,
                                        username: 'postgres', database: 'postgres')
ActiveRecord::Base.connection.execute('DROP DATABASE IF EXISTS rails')
ActiveRecord::Base.connection.execute('CREATE DATABASE rails')
ActiveRecord::Base.establish_connection(adapter: 'postgresql', host: '127.0.0.1', port: PORT,
                                        username: 'postgres', database: 'rails')
ActiveRecord::Migration.verbose = false

class CreateShop < ActiveRecord::Migration[6.1]
  def change
    create_table :authors do |t|
      t.string :name, null: false, limit: 40
      t.string :email
      t.integer :rank, default: 0
      t.timestamps
    end
    create_table :books do |t|
      t.string :title, null: false
      t.decimal :price, precision: 10, scale: 2
      t.jsonb :tags, default: []
      t.timestamps
    end
    add_reference :books, :author, foreign_key: true, null: false
    add_index :authors, :email, unique: true
    change_column :authors, :name, :string, limit: 120
    rename_column :books, :title, :name
    remove_column :authors, :rank, :integer
  end
end
CreateShop.migrate(:up)

class Author < ActiveRecord::Base
  has_many :books, dependent: :destroy
  validates :name, presence: true
  validates :email, uniqueness: true
  scope :named, ->(n) { where(name: n) }
end

class Book < ActiveRecord::Base
  belongs_to :author
  validates :name, presence: true
  scope :cheap, -> { where('price < ?', 10) }
end

ann = Author.create!(name: 'Ann', email: 'ann@x')
ann.books.create!(name: 'First', price: 5.5, tags: ['a'])
ann.books.create!(name: 'Second', price: 20)
bob = Author.create!(name: 'Bob', email: 'bob@x')
check(Author.new(name: '', email: 'c@x').valid?, false, 'presence validation')
check(Author.new(name: 'Dup', email: 'ann@x').valid?, false, 'uniqueness validation')
check(Author.named('Ann').first.books.cheap.pluck(:name), ['First'], 'scopes and associations')
check(Book.includes(:author).order(:id).map { |b| b.author.name }, %w[Ann Ann], 'includes')
check(Author.joins(:books).group('authors.name').count, { 'Ann' => 2 }, 'joins and group')
check(Book.where("tags @> '[\"a\"]'").pluck(:name), ['First'], 'jsonb')

ActiveRecord::Base.transaction do
  bob.books.create!(name: 'Third', price: 1)
end
begin
  ActiveRecord::Base.transaction do
    bob.books.create!(name: 'Fourth', price: 2)
    Author.create!(name: 'Ann again', email: 'ann@x')
  end
rescue ActiveRecord::RecordInvalid, ActiveRecord::RecordNotUnique
  nil
end
check(bob.books.pluck(:name), ['Third'], 'a transaction rolled back')

names = []
Book.find_each(batch_size: 2) { |b| names << b.name }
check(names.sort, %w[First Second Third], 'find_each')

now = Time.now
Author.upsert_all([{ name: 'Ann B', email: 'ann@x', created_at: now, updated_at: now },
                   { name: 'Cy', email: 'cy@x', created_at: now, updated_at: now }],
                  unique_by: :email)
check(Author.order(:email).pluck(:name), ['Ann B', 'Bob', 'Cy'], 'upsert_all')

Author.transaction do
  author = Author.find(bob.id)
  author.lock!
  author.update!(name: 'Bob B')
end
check(Author.find(bob.id).name, 'Bob B', 'lock!')

schema = StringIO.new
ActiveRecord::SchemaDumper.dump(ActiveRecord::Base.connection, schema)
[
  'create_table "authors", force: :cascade do |t|',
  't.string "name", limit: 120, null: false',
  't.index ["email"], name: "index_authors_on_email", unique: true',
  't.bigint "author_id", null: false',
  't.jsonb "tags", default: []',
  'add_foreign_key "books", "authors"',
].each do |line|
  next if schema.string.include?(line)

  warn "rails: the schema dump lacks #{line.inspect}:\n#{schema.string}"
  exit 1
end
check(schema.string.include?('rank'), false, 'the removed column')

class DropShop < ActiveRecord::Migration[6.1]
  def change
    drop_table :books
    drop_table :authors
  end
end
DropShop.migrate(:up)
check(ActiveRecord::Base.connection.table_exists?(:books), false, 'drop_table')
puts 'rails ok'
