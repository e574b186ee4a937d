//! Why the distributor did not do what it was asked: the engine refused (its typed
//! [`acd::AcdError`], kept as it is), or the distributor task is gone (shutdown). The API
//! maps the variants to HTTP statuses.

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DistributorError {
    /// The distributor task has stopped (shutdown): nothing was done.
    #[error("distributor stopped")]
    Stopped,
    /// The engine refused the event or the change; its state is unchanged.
    #[error(transparent)]
    Refused(#[from] acd::AcdError),
}
