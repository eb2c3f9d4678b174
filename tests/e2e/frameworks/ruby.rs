//! Ruby on Rails' ActiveRecord 6.1 (Debian's ruby-activerecord, with ruby-pg).

use super::run_program;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rails_activerecord_migrates_and_queries() {
    run_program("ruby", "rails", "rails/run.rb", "").await;
}
