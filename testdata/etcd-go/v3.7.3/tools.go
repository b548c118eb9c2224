//go:build tools

// Package tools pins etcdutl and etcdctl (main packages of their own
// modules) so that `go build go.etcd.io/etcd/etcdutl/v3` works here.
package tools

import (
	_ "go.etcd.io/etcd/etcdctl/v3"
	_ "go.etcd.io/etcd/etcdutl/v3"
)
