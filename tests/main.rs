//! The one integration-test binary: golden harness, CLI contract, corpus sweep, parser conformance.

mod buildkit;
mod cli;
mod corpus;
mod corpus_scripts;
mod engine;
mod golden;
mod interactive;
mod newuser;
mod registry;
mod registry_real;
mod safety;
mod schemas;
mod workloads;
mod yaml_corpus;
mod yaml_robust;
