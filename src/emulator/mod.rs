//! A faithful, stateful local WeCom server (axum) for tests and the demo.
