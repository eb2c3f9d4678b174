//! LISTEN / NOTIFY between the sessions of a database, kept by the proxy for the whole
//! server. A notification is published when its transaction commits (at once outside a
//! block), once per distinct channel and payload of the transaction, as in Postgres; a
//! session listening on its channel gets it as a NotificationResponse when it is between
//! transactions: after the statement it is running, or at once while it waits for its
//! client. Knows no statements; a session's side is its [`Listener`].

use std::collections::BTreeSet;
use std::sync::Arc;

use tokio::sync::broadcast;

/// How many notifications a listener may fall behind by before the oldest are lost to
/// it (Postgres queues up to 8 GB; a listener this far behind is told nothing more).
const BACKLOG: usize = 4096;

/// One notification, as a listener receives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    pub database: String,
    pub channel: String,
    pub payload: String,
    /// The backend pid of the session that sent it.
    pub sender: i32,
}

/// Every database's notifications, as one stream that listeners filter.
pub struct Notifications {
    stream: broadcast::Sender<Arc<Notification>>,
}

impl Default for Notifications {
    fn default() -> Self {
        Notifications {
            stream: broadcast::channel(BACKLOG).0,
        }
    }
}

impl Notifications {
    /// Publishes a committed transaction's notifications, each distinct one once.
    pub fn publish(&self, database: &str, sender: i32, sent: Vec<(String, String)>) {
        let mut seen = BTreeSet::new();
        for (channel, payload) in sent {
            if seen.insert((channel.clone(), payload.clone())) {
                // No listener at all is no error.
                let _ = self.stream.send(Arc::new(Notification {
                    database: database.to_owned(),
                    channel,
                    payload,
                    sender,
                }));
            }
        }
    }
}

/// A session's LISTENs and what reaches them.
pub struct Listener {
    notifications: Arc<Notifications>,
    database: String,
    channels: BTreeSet<String>,
    received: Option<broadcast::Receiver<Arc<Notification>>>,
}

impl Listener {
    pub fn new(notifications: Arc<Notifications>, database: String) -> Listener {
        Listener {
            notifications,
            database,
            channels: BTreeSet::new(),
            received: None,
        }
    }

    /// Sends a committed transaction's notifications, from the session `sender`.
    pub fn publish(&self, sender: i32, sent: Vec<(String, String)>) {
        if !sent.is_empty() {
            self.notifications.publish(&self.database, sender, sent);
        }
    }

    pub fn listen(&mut self, channel: &str) {
        if self.received.is_none() {
            self.received = Some(self.notifications.stream.subscribe());
        }
        self.channels.insert(channel.to_owned());
    }

    /// Stops listening on `channel`, or on every channel.
    pub fn unlisten(&mut self, channel: Option<&str>) {
        match channel {
            Some(c) => {
                self.channels.remove(c);
            }
            None => self.channels.clear(),
        }
        if self.channels.is_empty() {
            self.received = None;
        }
    }

    fn wanted(&self, n: &Notification) -> bool {
        n.database == self.database && self.channels.contains(&n.channel)
    }

    /// The notifications for this session that have arrived, without waiting.
    pub fn arrived(&mut self) -> Vec<Arc<Notification>> {
        let mut out = Vec::new();
        let Some(received) = &mut self.received else {
            return out;
        };
        loop {
            match received.try_recv() {
                Ok(n) => out.push(n),
                Err(broadcast::error::TryRecvError::Lagged(_)) => continue,
                Err(_) => break,
            }
        }
        out.retain(|n| self.wanted(n));
        out
    }

    /// Waits for the next notification for this session; never returns while it listens
    /// on nothing.
    pub async fn next(&mut self) -> Arc<Notification> {
        loop {
            let Some(received) = &mut self.received else {
                return std::future::pending().await;
            };
            match received.recv().await {
                Ok(n) if self.wanted(&n) => return n,
                Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => {
                    return std::future::pending().await;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_listener_gets_its_database_s_channels_once_per_distinct_payload() {
        let all = Arc::new(Notifications::default());
        let mut a = Listener::new(Arc::clone(&all), "db".into());
        a.listen("jobs");
        all.publish(
            "db",
            7,
            vec![
                ("jobs".into(), "1".into()),
                ("jobs".into(), "1".into()),
                ("other".into(), "x".into()),
                ("jobs".into(), "2".into()),
            ],
        );
        all.publish("elsewhere", 8, vec![("jobs".into(), "3".into())]);
        let got: Vec<(String, String, i32)> = a
            .arrived()
            .iter()
            .map(|n| (n.channel.clone(), n.payload.clone(), n.sender))
            .collect();
        assert_eq!(
            got,
            [
                ("jobs".into(), "1".into(), 7),
                ("jobs".into(), "2".into(), 7)
            ]
        );
        a.unlisten(None);
        all.publish("db", 7, vec![("jobs".into(), "4".into())]);
        assert!(a.arrived().is_empty());
    }
}
