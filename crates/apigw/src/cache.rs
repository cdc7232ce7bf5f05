//! The authorizer cache: an authorizer's valid output (compiled once) kept per key for the TTL, reused for
//! every method and path that shares the key. The clock is the caller's.

use std::collections::HashMap;
use std::sync::Arc;

use crate::AuthorizerOutput;

/// API Gateway's default TTL, seconds.
pub const DEFAULT_TTL: u32 = 300;
/// The largest TTL API Gateway accepts, seconds.
pub const MAX_TTL: u32 = 3600;

/// Outputs by cache key (the token for `TOKEN` authorizers, every identity source for `REQUEST`), each
/// with the time it was stored. Failures are never stored.
#[derive(Debug, Default)]
pub struct AuthorizerCache {
    entries: HashMap<String, (i64, Arc<AuthorizerOutput>), foldhash::fast::RandomState>,
}

impl AuthorizerCache {
    /// The output stored under `key` if it is younger than `ttl` seconds at `now`.
    pub fn get(&self, key: &str, ttl: u32, now: i64) -> Option<&AuthorizerOutput> {
        self.entry(key, ttl, now).map(|e| &**e)
    }

    /// The entry for `key` if it is younger than `ttl` seconds at `now`.
    pub(crate) fn entry(&self, key: &str, ttl: u32, now: i64) -> Option<&Arc<AuthorizerOutput>> {
        let (at, e) = self.entries.get(key)?;
        (now.saturating_sub(*at) < i64::from(ttl) && now >= *at).then_some(e)
    }

    /// Stores an entry at `now`.
    pub(crate) fn put(&mut self, key: String, entry: Arc<AuthorizerOutput>, now: i64) {
        self.entries.insert(key, (now, entry));
    }

    /// Number of entries (expired ones included until overwritten or cleared).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether nothing is stored.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Forgets everything (API Gateway's "flush authorizer cache").
    pub fn clear(&mut self) {
        self.entries.clear();
    }
}
