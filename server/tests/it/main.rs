//! Integration tests: the app on a free port, a fresh database per test on SQLite and
//! on PostgreSQL, and mail over SMTP to a real server on loopback.

mod abuse;
mod access;
mod accounts;
mod database;
mod harness;
mod loading;
mod officers;
mod oracles;
mod pages;
mod pledges;
mod privacy;
mod public_surface;
mod role_matrix;
mod signing;
mod syncing;
mod tallies;
