//! Locking that shrugs off poison: a handler that panicked while holding a lock has
//! already lost its own connection, and the registry and rooms it held stay
//! consistent (every change to them is a single insert or remove), so the others go on.

use std::sync::{Mutex, MutexGuard};

/// Locks `mutex`, poisoned or not.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
