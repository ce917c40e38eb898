//! What both servers route by: WebSocket routes (each server with its own kind of
//! runner), pages, and the admission check, with the rules for adding them.

use std::collections::HashMap;
use std::sync::Arc;

use crate::handshake::{Answer, Callbacks, CheckFn, negotiate};
use crate::{Error, HttpResponse, Request, ServerConfig};

/// A page handler; see [`Server::on_http`](crate::Server::on_http).
pub(crate) type PageHandler = Arc<dyn Fn(&Request<'_>) -> HttpResponse + Send + Sync>;

/// The paths a server answers and how.
pub(crate) struct Routes<R> {
    routes: HashMap<String, R>,
    pages: HashMap<String, PageHandler>,
    check: Option<Arc<CheckFn>>,
}

impl<R> Routes<R> {
    pub(crate) fn new() -> Routes<R> {
        Routes {
            routes: HashMap::new(),
            pages: HashMap::new(),
            check: None,
        }
    }

    /// Adds a WebSocket route; a path must start with `/` and be new.
    pub(crate) fn add_route(&mut self, path: &str, runner: R) -> Result<(), Error> {
        check_new(path, self.routes.contains_key(path))?;
        self.routes.insert(path.to_owned(), runner);
        Ok(())
    }

    /// Adds a page; a path must start with `/` and be new.
    pub(crate) fn add_page(&mut self, path: &str, page: PageHandler) -> Result<(), Error> {
        check_new(path, self.pages.contains_key(path))?;
        self.pages.insert(path.to_owned(), page);
        Ok(())
    }

    pub(crate) fn set_check(&mut self, check: Arc<CheckFn>) {
        self.check = Some(check);
    }

    /// The route's runner, if `path` has one.
    pub(crate) fn route(&self, path: &str) -> Option<&R> {
        self.routes.get(path)
    }

    /// How to answer `request`: the handshake's decisions with this server's routes,
    /// pages and check.
    pub(crate) fn answer(
        &self,
        request: &Request<'_>,
        head: &ws_handshake::Request,
        config: &ServerConfig,
    ) -> Answer {
        let callbacks = Callbacks {
            has_route: &|path| self.routes.contains_key(path),
            page: &|request| {
                let page = self.pages.get(request.path())?;
                Some(page(request))
            },
            check: self.check.as_deref(),
        };
        negotiate(request, head, config, &callbacks)
    }
}

impl<R> std::fmt::Debug for Routes<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Routes")
            .field("routes", &self.routes.keys().collect::<Vec<_>>())
            .field("pages", &self.pages.keys().collect::<Vec<_>>())
            .field("check", &self.check.is_some())
            .finish()
    }
}

/// A path must start with `/`, and a server answers it one way only.
pub(crate) fn check_new(path: &str, known: bool) -> Result<(), Error> {
    if !path.starts_with('/') {
        return Err(Error::InvalidPath(path.to_owned()));
    }
    if known {
        return Err(Error::DuplicatePath(path.to_owned()));
    }
    Ok(())
}
