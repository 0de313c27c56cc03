//! Apply: run a plan's steps through the client in dependency order, then verify.
