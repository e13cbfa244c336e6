//! Delivers one email from the outbox.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::services::email::{self, DeliveryError};
use crate::workers::WorkerContext;
use crate::workers::queue::{Attempt, Permanent, Queue, Task};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SendEmail {
    pub email_id: String,
}

impl Task for SendEmail {
    const KIND: &'static str = "send_email";
    const QUEUE: Queue = Queue::Email;
    const MAX_ATTEMPTS: u32 = 10;

    /// One delivery task per email, ever.
    fn dedup_key(&self) -> Option<String> {
        Some(self.email_id.clone())
    }

    async fn run(self, ctx: Arc<WorkerContext>, attempt: Attempt) -> anyhow::Result<()> {
        match email::deliver(&ctx.services.db, &ctx.mailer, &self.email_id, attempt.is_last()).await
        {
            Ok(()) => Ok(()),
            Err(DeliveryError::Permanent(reason)) => Err(Permanent(reason).into()),
            Err(err) => Err(err.into()),
        }
    }
}
