//! Kubernetes values and keys: `k8s::interpret`, `k8s::key::parse` and
//! every k8s-pb type of `k8s::types` on arbitrary bytes. See
//! `checks::k8s_value`.
#![no_main]

use libfuzzer_sys::fuzz_target;

mod checks;

fuzz_target!(|data: &[u8]| checks::k8s_value(data));
