//! A connection's start: startup parameters, TLS where required, authentication by the
//! rule that matches (trust, SCRAM-SHA-256, md5) over however many messages it takes, then
//! a connection slot (`server/slots.rs`) and the session on the tenant's database — or the admin
//! console.

use std::collections::HashMap;
use std::fmt::Debug;
use std::sync::Arc;

use async_trait::async_trait;
use futures::{Sink, SinkExt};
use litescale_router::SessionContext;
use pgwire::api::auth::{
    ServerParameterProvider, StartupHandler, finish_authentication, protocol_negotiation,
    save_startup_parameters_to_metadata,
};
use pgwire::api::{
    ClientInfo, METADATA_APPLICATION_NAME, METADATA_DATABASE, METADATA_USER, PgWireConnectionState,
    PidSecretKeyGenerator,
};
use pgwire::error::{PgWireError, PgWireResult};
use pgwire::messages::startup::Authentication;
use pgwire::messages::{PgWireBackendMessage, PgWireFrontendMessage};

use crate::admin::console;
use crate::error::SqlError;
use crate::protocol::handlers::Handlers;
use crate::server::auth::{self, Pending, Step};
use crate::server::slots::ConnectionSlot;
use crate::session::backends::{Backend, BackendGuard};
use crate::session::interrupts::cancel::CancelTarget;
use crate::session::settings::Settings;
use crate::session::state::{Attachments, Session};

/// ParameterStatus values sent after authentication, as Postgres 16 sends them.
struct StartupParameters;

impl ServerParameterProvider for StartupParameters {
    fn server_parameters<C: ClientInfo>(&self, client: &C) -> Option<HashMap<String, String>> {
        let metadata = client.metadata();
        let settings = Settings::new(metadata.get(METADATA_APPLICATION_NAME).map(String::as_str));
        let mut params: HashMap<String, String> = settings.reported().into_iter().collect();
        if let Some(user) = metadata.get(METADATA_USER) {
            params.insert("session_authorization".to_owned(), user.clone());
        }
        Some(params)
    }
}

/// The authentication still to finish on a connection.
type AuthPending = std::sync::Mutex<Option<Pending>>;

fn startup_names<C: ClientInfo>(client: &C) -> (String, String) {
    let metadata = client.metadata();
    let user = metadata.get(METADATA_USER).cloned().unwrap_or_default();
    let database = metadata
        .get(METADATA_DATABASE)
        .cloned()
        .unwrap_or_else(|| user.clone());
    (user, database)
}

#[async_trait]
impl StartupHandler for Handlers {
    async fn on_startup<C>(
        &self,
        client: &mut C,
        message: PgWireFrontendMessage,
    ) -> PgWireResult<()>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        match message {
            PgWireFrontendMessage::Startup(startup) => {
                protocol_negotiation(client, &startup).await?;
                save_startup_parameters_to_metadata(client, &startup);
                let config = self.server.config();
                let (user, database) = startup_names(client);
                if config.tls.as_ref().is_some_and(|t| t.required) && !client.is_secure() {
                    return Err(SqlError::new(
                        "28000",
                        "TLS is required: connect with sslmode=require (or verify-full)",
                    )
                    .fatal());
                }
                let method = auth::method_for(&config, client.socket_addr().ip(), &database, &user)
                    .map_err(SqlError::fatal)?;
                if method == litescale_config::AuthMethod::Trust {
                    return self.start_session(client).await;
                }
                let channel_binding = self
                    .server
                    .scram_over_tls
                    .as_ref()
                    .filter(|_| client.is_secure());
                let (request, pending) = auth::challenge(&config, method, &user, channel_binding);
                client
                    .session_extensions()
                    .insert(AuthPending::new(Some(pending)));
                client.set_state(PgWireConnectionState::AuthenticationInProgress);
                client
                    .send(PgWireBackendMessage::Authentication(request))
                    .await?;
                Ok(())
            }
            PgWireFrontendMessage::PasswordMessageFamily(message) => {
                let (user, _) = startup_names(client);
                let pending = client
                    .session_extensions()
                    .get::<AuthPending>()
                    .and_then(|p| p.lock().unwrap_or_else(|e| e.into_inner()).take())
                    .ok_or_else(|| {
                        SqlError::new("08P01", "password message out of turn").fatal()
                    })?;
                match auth::respond(pending, &user, message).map_err(SqlError::fatal)? {
                    Step::Continue(data, next) => {
                        if let Some(slot) = client.session_extensions().get::<AuthPending>() {
                            *slot.lock().unwrap_or_else(|e| e.into_inner()) = Some(next);
                        }
                        client
                            .send(PgWireBackendMessage::Authentication(
                                Authentication::SASLContinue(data.into()),
                            ))
                            .await?;
                        Ok(())
                    }
                    Step::Done(last_word) => {
                        if let Some(data) = last_word {
                            client
                                .feed(PgWireBackendMessage::Authentication(
                                    Authentication::SASLFinal(data.into()),
                                ))
                                .await?;
                        }
                        self.start_session(client).await
                    }
                }
            }
            _ => Ok(()),
        }
    }
}

impl Handlers {
    /// After authentication: the user's right to the database, then a session on it.
    async fn start_session<C>(&self, client: &mut C) -> PgWireResult<()>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let (user, database) = startup_names(client);
        let config = self.server.config();
        // Authenticated: the connection now counts against max_connections.
        let slot = ConnectionSlot::take(&self.server.connections, &config, &user, &database)
            .map_err(SqlError::fatal)?;
        self.server.startups.leave(client.socket_addr());
        client.session_extensions().insert(slot);
        if database == crate::ADMIN_DATABASE {
            console::authorize(&config, &user).map_err(SqlError::fatal)?;
            client.session_extensions().insert(console::AdminSession);
            tracing::info!(%user, peer = %client.socket_addr(), "admin console connection started");
            return finish_authentication(client, &StartupParameters).await;
        }
        auth::authorize(&config, &user, &database).map_err(SqlError::fatal)?;
        let settings = Settings::new(
            client
                .metadata()
                .get(METADATA_APPLICATION_NAME)
                .map(String::as_str),
        );
        let database_files = self
            .server
            .storage
            .database(&database)
            .map_err(|e| SqlError::from(e).fatal())?;

        let (pid, secret) = self.server.pids.generate(client);
        client.set_pid_and_secret_key(pid, secret.clone());
        let cancel = Arc::new(CancelTarget::default());
        let registration =
            self.server
                .cancels
                .register(pid, secret.to_bytes().to_vec(), Arc::clone(&cancel));
        let may_create_databases = auth::may_create_databases(&config, &user);
        let admin = console::is_admin(&config, &user);
        // Only admins may signal an admin's session (with no users, none is one).
        let protected = config.user(&user).is_some_and(|u| u.admin);
        let context = SessionContext {
            database: database.clone(),
            user,
            backend_pid: pid,
            roles: (!config.users.is_empty())
                .then(|| config.users.iter().map(|u| u.name.clone()).collect()),
            ..SessionContext::default()
        };
        let session = Session::new(
            database_files,
            Arc::clone(&self.server.map),
            Arc::clone(&self.server.wait_graph),
            context,
            cancel,
            settings,
            &config.limits,
        )
        .attached(Attachments {
            control: self
                .server
                .controls
                .get(&client.socket_addr())
                .map(|c| Arc::clone(&c)),
            storage: Arc::clone(&self.server.storage),
            may_create_databases,
            backends: self.server.backends.clone(),
            admin,
            writer_idle_timeout: config.limits.idle_in_transaction_writer_timeout(),
            advisory_locks: Arc::clone(&self.server.advisory_locks),
            notifications: Arc::clone(&self.server.notifications),
            column_cache: Arc::clone(&self.server.column_cache),
        });
        client.session_extensions().insert(session);
        client.session_extensions().insert(registration);
        if let Some(session) = client.session_extensions().get::<Session>() {
            self.server.backends.by_pid.insert(
                pid,
                Backend {
                    user: session.context.user.clone(),
                    database: database.clone(),
                    address: client.socket_addr().to_string(),
                    since: std::time::SystemTime::now(),
                    admin: protected,
                    session: Arc::downgrade(&session),
                },
            );
            client.session_extensions().insert(BackendGuard {
                pid,
                backends: Arc::clone(&self.server.backends),
            });
        }
        tracing::info!(pid, %database, peer = %client.socket_addr(), "connection started");
        finish_authentication(client, &StartupParameters).await
    }
}
