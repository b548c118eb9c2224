//! Arbitrary text as a kubeadm etcd static pod manifest: `kubeadm::read`,
//! and `kubeadm::edit` with fixed values; an edit that succeeds reads back
//! with exactly the values asked for.
#![no_main]

use etcd_forensics::jobs::cluster::kubeadm::{ManifestEdit, edit, read};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = read(text);
    let e = ManifestEdit {
        host_data_dir: "/var/lib/etcd-restored".into(),
        initial_cluster: "a=https://10.0.0.1:2380,b=https://10.0.0.2:2380".into(),
        initial_cluster_token: "etcd-forensics-0123456789abcdef".into(),
        initial_cluster_state: "new".into(),
    };
    if let Ok(out) = edit(text, &e) {
        let f = read(&out.text).expect("an edited manifest reads back");
        assert_eq!(f.host_data_dir.as_deref(), Some("/var/lib/etcd-restored"));
        assert_eq!(f.initial_cluster.as_deref(), Some(e.initial_cluster.as_str()));
        assert_eq!(f.initial_cluster_token.as_deref(), Some(e.initial_cluster_token.as_str()));
        assert_eq!(f.initial_cluster_state.as_deref(), Some("new"));
    }
});
